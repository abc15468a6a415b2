/**
 * Figure 3 — server cost per upload, on the local stack: CPU time of the application side per uploaded
 * 1 MiB image, presigned direct upload (the app only signs) against the traditional flow (the app
 * receives the file as multipart/form-data and forwards it to S3). Also the bytes the app receives
 * per upload, the same for an 8 MiB file, and a busy signer's cost per request.
 *
 * The local stack (S3 stand-in that verifies SigV4, SQS, CDN) runs in this process; each application
 * runs alone in a child process (bench/apps/app-host.ts), so its `process.cpuUsage()` is its own.
 */
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { startLocalStack } from '../../src/local/local-stack';
import type { PresignedUpload } from '../../src/signer/protocol';
import type { Usage } from '../apps/app-host';
import { AppHost, startAppHost } from '../lib/app-host-client';
import { FigureOptions, FigureResult, formatNumber, goal } from '../lib/report';

/** The image: 1 MiB. */
export const FILE_SIZE = 1024 * 1024;
/** A larger file, to show how each flow's cost grows with the file. */
export const LARGE_FILE_SIZE = 8 * 1024 * 1024;
const USER = 'alice';

interface FlowCost {
  readonly uploads: number;
  /** Application process CPU (user + system) per upload, microseconds. */
  readonly cpuMicrosPerUpload: number;
  readonly userMicrosPerUpload: number;
  readonly systemMicrosPerUpload: number;
  readonly bytesReceivedPerUpload: number;
  readonly bytesSentPerUpload: number;
  /** Direct flow: time inside the signer handler per upload (what the Lambda itself would run). */
  readonly handlerMicrosPerUpload?: number;
  readonly lastKey: string;
}

/** Runs `count` calls of `fn`, `concurrency` at a time; returns the last result. */
async function pool<T>(count: number, concurrency: number, fn: () => Promise<T>): Promise<T | undefined> {
  let started = 0;
  let last: T | undefined;
  const worker = async () => {
    while (started < count) {
      started++;
      last = await fn();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return last;
}

interface Run {
  /** Runs before the counters are read. */
  readonly warmup?: { readonly run: () => Promise<unknown>; readonly count: number };
  readonly uploads: number;
  readonly concurrency: number;
  /** One upload; returns its key. */
  readonly upload: () => Promise<string>;
}

async function measure(host: AppHost, { warmup, uploads, concurrency, upload }: Run): Promise<FlowCost> {
  if (warmup) await pool(warmup.count, concurrency, warmup.run);
  const before = await host.usage();
  const lastKey = (await pool(uploads, concurrency, upload)) ?? '';
  const after = await host.usage();
  const per = (f: (u: Usage) => number) => (f(after) - f(before)) / uploads;
  return {
    uploads,
    cpuMicrosPerUpload: per((u) => u.userMicros + u.systemMicros),
    userMicrosPerUpload: per((u) => u.userMicros),
    systemMicrosPerUpload: per((u) => u.systemMicros),
    bytesReceivedPerUpload: per((u) => u.bytesRead),
    bytesSentPerUpload: per((u) => u.bytesWritten),
    ...(after.handlerCalls > before.handlerCalls ? { handlerMicrosPerUpload: per((u) => u.handlerMicros) } : {}),
    lastKey,
  };
}

export async function runServerCost(options: FigureOptions): Promise<FigureResult> {
  const image = randomBytes(FILE_SIZE);
  const large = randomBytes(LARGE_FILE_SIZE);
  // No verifier: the payloads are random bytes (it would reject them as not being JPEGs), and it is not what is measured.
  const stack = await startLocalStack({ log: () => undefined, sendTestEvent: false, verifyUploads: false });
  const hosts: AppHost[] = [];
  try {
    // Both app processes start in parallel (each takes a second to load).
    const started = await Promise.allSettled([
      startAppHost({ type: 'start', mode: 'direct', env: { ...stack.signerEnvironment } }),
      startAppHost({
        type: 'start',
        mode: 'traditional',
        s3Endpoint: stack.s3Endpoint,
        region: stack.region,
        bucket: stack.bucket,
        credentials: stack.credentials,
        policy: stack.policy,
        publicBaseUrl: stack.cdnUrl,
      }),
    ]);
    for (const result of started) {
      if (result.status === 'fulfilled') hosts.push(result.value);
    }
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [direct, traditional] = hosts;

    const sign = async (size: number): Promise<PresignedUpload> => {
      const res = await fetch(`${direct.url}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: USER },
        body: JSON.stringify({ contentType: 'image/jpeg', size, filename: 'photo.jpg' }),
      });
      const signed = (await res.json()) as PresignedUpload;
      if (res.status !== 200) throw new Error(`the signer answered ${res.status}: ${JSON.stringify(signed)}`);
      return signed;
    };
    // Direct: ask the app (the signer) for a presigned PUT, then send the bytes to S3 yourself.
    const uploadDirect = (file: Buffer) => async (): Promise<string> => {
      const signed = await sign(file.length);
      const put = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: file });
      if (put.status !== 200) throw new Error(`S3 refused the presigned PUT (${put.status}): ${await put.text()}`);
      return signed.key;
    };
    // Traditional: send the bytes to the app, which forwards them to S3.
    const uploadTraditional = (file: Buffer) => async (): Promise<string> => {
      const form = new FormData();
      form.append('file', new Blob([file], { type: 'image/jpeg' }), 'photo.jpg');
      const res = await fetch(`${traditional.url}/upload`, { method: 'POST', headers: { [LOCAL_USER_HEADER]: USER }, body: form });
      const body = (await res.json()) as { key: string };
      if (res.status !== 201) throw new Error(`the traditional server answered ${res.status}: ${JSON.stringify(body)}`);
      return body.key;
    };

    const n = options.quick
      ? { signOnly: 2, traditionalWarmup: 1, direct: 2, traditional: 2, directLarge: 1, traditionalLarge: 1, concurrency: 2 }
      : { signOnly: 3000, traditionalWarmup: 50, direct: 300, traditional: 100, directLarge: 40, traditionalLarge: 20, concurrency: 4 };
    options.log(`(3) server cost: ${n.direct} direct and ${n.traditional} traditional uploads of 1 MiB`
      + ` (then ${n.directLarge} and ${n.traditionalLarge} of 8 MiB), ${n.concurrency} clients, after warming each app up`);
    const { concurrency } = n;
    // Warming the signer up (JIT) needs requests, not uploads; back to back, they also show a busy signer's cost.
    const signKey = async () => (await sign(FILE_SIZE)).key;
    const busySigner = await measure(direct, { warmup: { run: signKey, count: n.signOnly }, uploads: n.signOnly, concurrency: 1, upload: signKey });
    const directCost = await measure(direct, { uploads: n.direct, concurrency, upload: uploadDirect(image) });
    const traditionalCost = await measure(traditional, {
      warmup: { run: uploadTraditional(image), count: n.traditionalWarmup },
      uploads: n.traditional,
      concurrency,
      upload: uploadTraditional(image),
    });
    const directLarge = await measure(direct, { uploads: n.directLarge, concurrency, upload: uploadDirect(large) });
    const traditionalLarge = await measure(traditional, { uploads: n.traditionalLarge, concurrency, upload: uploadTraditional(large) });

    // Every flow really stored the whole file.
    const stored = [
      [directCost.lastKey, FILE_SIZE],
      [traditionalCost.lastKey, FILE_SIZE],
      [directLarge.lastKey, LARGE_FILE_SIZE],
      [traditionalLarge.lastKey, LARGE_FILE_SIZE],
    ] as const;
    for (const [key, size] of stored) {
      const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
      if (head.ContentLength !== size) throw new Error(`${key} is ${head.ContentLength} bytes, expected ${size}`);
    }

    const ratio = traditionalCost.cpuMicrosPerUpload / directCost.cpuMicrosPerUpload;
    const handlerRatio = traditionalCost.cpuMicrosPerUpload / (directCost.handlerMicrosPerUpload ?? NaN);
    const ms = (micros: number) => micros / 1000;
    const split = (c: FlowCost) => `user ${ms(c.userMicrosPerUpload).toFixed(3)} + system ${ms(c.systemMicrosPerUpload).toFixed(3)}`;
    return {
      id: 3,
      title: 'Server cost per 1 MiB upload on the local stack (application side)',
      rows: [
        { name: 'direct: signer process CPU per upload', value: ms(directCost.cpuMicrosPerUpload), unit: 'ms', detail: `${split(directCost)} (local API Gateway stand-in + handler)` },
        { name: 'direct: signer handler CPU per upload', value: ms(directCost.handlerMicrosPerUpload ?? NaN), unit: 'ms', detail: 'the part that runs in Lambda' },
        { name: 'traditional: app CPU per upload', value: ms(traditionalCost.cpuMicrosPerUpload), unit: 'ms', detail: split(traditionalCost) },
        { name: 'traditional / direct (signer process)', value: ratio, unit: '×' },
        { name: 'traditional / direct (signer handler)', value: handlerRatio, unit: '×' },
        { name: 'direct: bytes received by the app', value: directCost.bytesReceivedPerUpload, unit: 'B/upload', detail: `sent ${Math.round(directCost.bytesSentPerUpload)} B` },
        { name: 'traditional: bytes received by the app', value: traditionalCost.bytesReceivedPerUpload, unit: 'B/upload', detail: `sent ${Math.round(traditionalCost.bytesSentPerUpload)} B (and the file again, to S3)` },
        { name: 'busy signer: process CPU per request', value: ms(busySigner.cpuMicrosPerUpload), unit: 'ms', detail: `${n.signOnly} sign requests back to back; traditional / this = ${formatNumber(traditionalCost.cpuMicrosPerUpload / busySigner.cpuMicrosPerUpload)}×` },
        { name: '8 MiB: direct signer process CPU', value: ms(directLarge.cpuMicrosPerUpload), unit: 'ms', detail: `handler ${ms(directLarge.handlerMicrosPerUpload ?? NaN).toFixed(3)} ms; received ${Math.round(directLarge.bytesReceivedPerUpload)} B/upload` },
        { name: '8 MiB: traditional app CPU', value: ms(traditionalLarge.cpuMicrosPerUpload), unit: 'ms', detail: `received ${Math.round(traditionalLarge.bytesReceivedPerUpload)} B/upload; traditional / direct = ${formatNumber(traditionalLarge.cpuMicrosPerUpload / directLarge.cpuMicrosPerUpload)}×` },
      ],
      goals: [
        goal('app CPU, traditional / direct signer process', ratio, 'min', 100, '×'),
        goal('app CPU, traditional / direct signer handler', handlerRatio, 'min', 100, '×'),
        goal('bytes received by the app per direct upload (no file bytes: the signer refuses bodies over 8 KiB)', directCost.bytesReceivedPerUpload, 'max', 8192, ' B'),
      ],
      notes: [
        'The local stack (S3 stand-in @20minutes/s3rver, which verifies SigV4; SQS; CDN) runs in the benchmark process; each application runs alone in a child process, so process.cpuUsage() (user + system, all of the process\'s threads) is the application\'s own. Clients upload concurrently over keep-alive connections.',
        'Direct: the local stack\'s signer (local HTTP API adapter + the real handler, configured from the stack\'s environment); the client then sends the body to S3 with the presigned PUT, which S3 verifies. The adapter stands in for API Gateway: in AWS only the handler runs on your side.',
        'Traditional: busboy multipart parsing into memory (multer\'s memoryStorage), the same policy checks, then PutObject with the AWS SDK v3 and its defaults (path-style for the local endpoint).',
        'Bytes are TCP payload read from the app\'s client connections (request lines, headers, bodies).',
        '"Busy signer" is the same signer answering sign requests back to back (no uploads in between): warm caches, the capacity view.',
      ],
      raw: { settings: n, direct: directCost, traditional: traditionalCost, busySigner, directLarge, traditionalLarge },
    };
  } finally {
    for (const host of hosts) await host.stop();
    await stack.stop();
  }
}
