/**
 * Figure 1 — signing throughput on one core: signed single uploads per second through the signer's
 * own code path (the Lambda handler: parse, validate, key, presign, serialize) against the AWS SDK's
 * `getSignedUrl` + `PutObjectCommand` (what the usual samples do). `@smithy/signature-v4` and
 * `S3RequestPresigner` (which sign the signer's other requests) are shown for reference.
 *
 * Before timing anything, every presigner signs the same request at the same instant and the
 * signatures are compared: the contenders do the same work, and the signer's own SigV4 agrees with the
 * SDK's byte for byte.
 */
import { loadSignerConfig, SignerConfig } from '../../src/signer/config';
import { createSignerHandlerFromEnv } from '../../src/signer/handler';
import { createPutPresigner, PresignPutInput } from '../../src/signer/presign';
import { createGetSignedUrlPut, createS3RequestPresignerPut, createSignatureV4Put } from '../contenders/sdk-presigners';
import { benchEnv, benchEvent, BENCH_JWT_SUB, BENCH_UPLOAD_REQUEST } from '../lib/fixtures';
import { FigureOptions, FigureResult, formatNumber, goal } from '../lib/report';
import { Contender, measureThroughput } from '../lib/throughput';

const KEY = `uploads/${BENCH_JWT_SUB}/0b6f8a4e-3c1d-4f2a-9e7b-5d6c4b3a2f10.jpg`;

export const SIGNING_NAMES = {
  handlerJwt: 'signer handler, JWT caller',
  handlerIam: 'signer handler, IAM caller (default)',
  presign: 'signer presignPut only',
  previous: 'S3RequestPresigner',
  signatureV4: '@smithy/signature-v4 presign',
  getSignedUrl: 'SDK getSignedUrl + PutObjectCommand',
} as const;

/** The signature query parameter of a URL. */
function signatureOf(url: string): string {
  return /[?&]X-Amz-Signature=([0-9a-f]{64})/.exec(url)?.[1] ?? '';
}

/** Signs one request with every presigner at one instant; throws unless the signatures agree. */
export async function checkSameWork(config: SignerConfig): Promise<void> {
  const input: PresignPutInput = {
    key: KEY,
    contentType: BENCH_UPLOAD_REQUEST.contentType,
    size: BENCH_UPLOAD_REQUEST.size,
    signingDate: new Date('2024-05-06T07:08:09Z'),
  };
  const signatures = {
    signer: signatureOf((await createPutPresigner(config).presignPut(input)).url),
    previous: signatureOf((await createS3RequestPresignerPut(config).presignPut(input)).url),
    signatureV4: signatureOf((await createSignatureV4Put(config).presignPut(input)).url),
  };
  const distinct = new Set(Object.values(signatures));
  if (distinct.size !== 1 || signatures.signer === '') {
    throw new Error(`the presigners disagree on the same request: ${JSON.stringify(signatures)}`);
  }
  const sdkUrl = (await createGetSignedUrlPut(config).presignPut(input)).url;
  const signedHeaders = decodeURIComponent(/[?&]X-Amz-SignedHeaders=([^&]+)/.exec(sdkUrl)?.[1] ?? '');
  if (signedHeaders !== 'content-length;content-type;host;if-none-match' || /x-amz-checksum|x-amz-sdk-checksum/i.test(sdkUrl)) {
    throw new Error(`getSignedUrl does not sign the same request (signed headers "${signedHeaders}"): ${sdkUrl}`);
  }
}

export async function runSigning(options: FigureOptions): Promise<FigureResult> {
  const jwtEnv = benchEnv('authorizer');
  const iamEnv = benchEnv('iam');
  const config = loadSignerConfig(jwtEnv);
  await checkSameWork(config);

  const handlerJwt = createSignerHandlerFromEnv(jwtEnv);
  const handlerIam = createSignerHandlerFromEnv(iamEnv);
  const jwtEvent = benchEvent('jwt');
  const iamEvent = benchEvent('iam');
  for (const [handler, event] of [[handlerJwt, jwtEvent], [handlerIam, iamEvent]] as const) {
    const response = await handler(event);
    if (response.statusCode !== 200) throw new Error(`the signer answered ${response.statusCode}: ${response.body}`);
  }

  const presigner = createPutPresigner(config);
  const previous = createS3RequestPresignerPut(config);
  const signatureV4 = createSignatureV4Put(config);
  const getSignedUrl = createGetSignedUrlPut(config);
  const input = { key: KEY, contentType: BENCH_UPLOAD_REQUEST.contentType, size: BENCH_UPLOAD_REQUEST.size };

  const contenders: Contender[] = [
    { name: SIGNING_NAMES.handlerJwt, run: () => handlerJwt(jwtEvent) },
    { name: SIGNING_NAMES.handlerIam, run: () => handlerIam(iamEvent) },
    { name: SIGNING_NAMES.presign, run: () => presigner.presignPut(input) },
    { name: SIGNING_NAMES.previous, run: () => previous.presignPut(input) },
    { name: SIGNING_NAMES.signatureV4, run: () => signatureV4.presignPut(input) },
    { name: SIGNING_NAMES.getSignedUrl, run: () => getSignedUrl.presignPut(input) },
  ];
  const settings = options.quick
    ? { rounds: 1, sliceMs: 5, warmupOps: 5, batch: 5 }
    : { rounds: 7, sliceMs: 350, warmupOps: 3000, batch: 50 };
  options.log(`(1) signing: ${contenders.length} contenders × ${settings.rounds} rounds × ${settings.sliceMs} ms, interleaved`);
  const results = await measureThroughput(contenders, settings);
  const rate = (name: string) => results.find((r) => r.name === name)?.opsPerSecond ?? NaN;

  const headline = rate(SIGNING_NAMES.handlerIam);
  const jwt = rate(SIGNING_NAMES.handlerJwt);
  const sdk = rate(SIGNING_NAMES.getSignedUrl);
  return {
    id: 1,
    title: 'Signing throughput, one core (signed single uploads per second)',
    rows: results.map((r) => ({
      name: r.name,
      value: r.opsPerSecond,
      unit: 'ops/s',
      detail: `rounds ${formatNumber(r.min)}–${formatNumber(r.max)}`,
    })),
    goals: [
      goal('signer handler (IAM caller)', headline, 'min', 40_000, ' ops/s'),
      goal('signer handler (JWT caller)', jwt, 'min', 40_000, ' ops/s'),
      goal('signer handler (IAM) / getSignedUrl', headline / sdk, 'min', 10, '×'),
    ],
    notes: [
      'One process, one core, no I/O. Contenders run in interleaved slices; each value is the median of the rounds.',
      'The handler path is the Lambda handler built by createSignerHandlerFromEnv from the environment the construct sets, fed an HTTP API payload v2 event: route, caller identity, JSON parse, validation, key (randomUUID), presign, JSON response.',
      'Credentials carry a ~1,000-character session token, as a Lambda role does; Transfer Acceleration host (the construct default).',
      'Before timing, the signer, S3RequestPresigner and @smithy/signature-v4 sign one request at one instant and must produce the same signature.',
    ],
    raw: { settings, results },
  };
}
