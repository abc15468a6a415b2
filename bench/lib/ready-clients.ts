/**
 * The clients of figure 7 (time to ready): each upload signs (`POST /uploads`), PUTs a distinct 1 MiB
 * JPEG with the presigned request, then GETs its `publicUrl` with a short backoff until the CDN answers
 * 200 with the same bytes. Run as a script, in a process of its own, so that on a 2-core machine the
 * local stack under test keeps the benchmark process's core to itself:
 *
 *   tsx bench/lib/ready-clients.ts '{"signerUrl":…,"count":…,"concurrency":…,"size":…,"seed":…}'
 *
 * prints the timings as one JSON array.
 */
import type { PresignedUpload } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';

const USER = 'alice';

/** The CDN poll's backoff: first retry after 2 ms, × 1.5 per poll, at most 25 ms between polls. */
export const POLL_BACKOFF = { firstMs: 2, factor: 1.5, maxMs: 25, timeoutMs: 30_000 } as const;

/** A JPEG of exactly `size` bytes that the verifier accepts as complete (SOI … EOI). */
export function jpegOfSize(size: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(size, 0x11 + (seed % 200));
  bytes.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00], 0);
  bytes.writeUInt32BE(seed % 2 ** 32, 16);
  bytes.set([0xff, 0xd9], size - 2);
  return bytes;
}

export interface UploadTiming {
  /** Sign request sent → first 200 from the CDN, ms. */
  readonly readyMs: number;
  /** Of which: the sign request, the PUT, the wait for the CDN. */
  readonly signMs: number;
  readonly putMs: number;
  readonly waitMs: number;
  /** CDN GETs until (and including) the 200. */
  readonly polls: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function timedUpload(signerUrl: string, body: Buffer): Promise<UploadTiming> {
  const started = now();
  const signRes = await fetch(`${signerUrl}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: USER },
    body: JSON.stringify({ contentType: 'image/jpeg', size: body.length }),
  });
  const signed = (await signRes.json()) as PresignedUpload;
  if (signRes.status !== 200 || signed.method !== 'PUT') throw new Error(`signer answered ${signRes.status}: ${JSON.stringify(signed)}`);
  const signedAt = now();
  const put = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body });
  if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);
  await put.arrayBuffer();
  const putAt = now();
  let polls = 0;
  let delay: number = POLL_BACKOFF.firstMs;
  for (;;) {
    polls++;
    const res = await fetch(signed.publicUrl);
    if (res.status === 200) {
      const readyAt = now();
      const served = Buffer.from(await res.arrayBuffer());
      if (!served.equals(body)) throw new Error(`the CDN served ${served.length} other bytes for ${signed.key}`);
      return { readyMs: readyAt - started, signMs: signedAt - started, putMs: putAt - signedAt, waitMs: readyAt - putAt, polls };
    }
    await res.arrayBuffer();
    if (res.status !== 403 && res.status !== 404) throw new Error(`the CDN answered ${res.status} for ${signed.key}`);
    if (now() - putAt > POLL_BACKOFF.timeoutMs) throw new Error(`${signed.key} not served within ${POLL_BACKOFF.timeoutMs} ms`);
    await sleep(delay);
    delay = Math.min(POLL_BACKOFF.maxMs, delay * POLL_BACKOFF.factor);
  }
}

/** What the clients are asked to do. */
export interface ReadyClientArgs {
  readonly signerUrl: string;
  readonly count: number;
  readonly concurrency: number;
  readonly size: number;
  /** Seeds the files' bytes (each upload distinct). */
  readonly seed: number;
}

/** `count` uploads, `concurrency` at a time, each file distinct, each timed to its first CDN 200. */
export async function uploadMany({ signerUrl, count, concurrency, size, seed }: ReadyClientArgs): Promise<UploadTiming[]> {
  const out: UploadTiming[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out.push(await timedUpload(signerUrl, jpegOfSize(size, seed + i)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

if (require.main === module) {
  uploadMany(JSON.parse(process.argv[2] ?? '{}') as ReadyClientArgs).then(
    (timings) => process.stdout.write(JSON.stringify(timings) + '\n'),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack ?? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
