/**
 * Figure 3 — server cost per upload, on the local stack: CPU time of the application side per uploaded
 * 1 MiB image, presigned direct upload (the app only signs) against the traditional flow (the app
 * receives the file as multipart/form-data and forwards it to S3). Also the bytes the app receives
 * per upload, the same for an 8 MiB file, and a busy signer's cost per request.
 *
 * Measured three ways, all reported: sparse (one client, one upload after the other), at load (16
 * clients uploading at once; both flows the same workload; the goal is judged here) and, for the direct
 * app, at the rate the issue speaks of (sign requests paced at 2,000/s: what the app receives when
 * 2,000 uploads per second go to S3).
 *
 * The local stack (S3 stand-in that verifies SigV4, SQS, CDN) runs in this process; each application
 * runs alone in a child process (bench/apps/app-host.ts), so its `process.cpuUsage()` is its own.
 */
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { PresignedUpload } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { startLocalStack } from '../../src/local/local-stack';
import type { Usage } from '../apps/app-host';
import { AppHost, startAppHost } from '../lib/app-host-client';
import { LoadResult, runLoad } from '../lib/load';
import { FigureOptions, FigureResult, formatNumber, goal } from '../lib/report';

/** The image: 1 MiB. */
export const FILE_SIZE = 1024 * 1024;
/** A larger file, to show how each flow's cost grows with the file. */
export const LARGE_FILE_SIZE = 8 * 1024 * 1024;
const USER = 'alice';

interface FlowCost {
  readonly uploads: number;
  /** Concurrent clients. */
  readonly clients: number;
  /** Wall time of the measured uploads, milliseconds. */
  readonly wallMs: number;
  readonly uploadsPerSecond: number;
  /** Application process CPU (user + system) per upload, microseconds. */
  readonly cpuMicrosPerUpload: number;
  readonly userMicrosPerUpload: number;
  readonly systemMicrosPerUpload: number;
  /** Application process CPU time / wall time: how busy the app's core was (1 = one core). */
  readonly appCpuUtilisation: number;
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
  const started = process.hrtime.bigint();
  const lastKey = (await pool(uploads, concurrency, upload)) ?? '';
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = await host.usage();
  const total = (f: (u: Usage) => number) => f(after) - f(before);
  const per = (f: (u: Usage) => number) => total(f) / uploads;
  return {
    uploads,
    clients: concurrency,
    wallMs,
    uploadsPerSecond: uploads / (wallMs / 1000),
    cpuMicrosPerUpload: per((u) => u.userMicros + u.systemMicros),
    userMicrosPerUpload: per((u) => u.userMicros),
    systemMicrosPerUpload: per((u) => u.systemMicros),
    appCpuUtilisation: total((u) => u.userMicros + u.systemMicros) / 1000 / wallMs,
    bytesReceivedPerUpload: per((u) => u.bytesRead),
    bytesSentPerUpload: per((u) => u.bytesWritten),
    ...(after.handlerCalls > before.handlerCalls ? { handlerMicrosPerUpload: per((u) => u.handlerMicros) } : {}),
    lastKey,
  };
}

/** Sums rounds of the same flow and scenario (alternated with the other flow's rounds). */
function combine(rounds: readonly FlowCost[]): FlowCost {
  const uploads = rounds.reduce((n, r) => n + r.uploads, 0);
  const wallMs = rounds.reduce((n, r) => n + r.wallMs, 0);
  const weighted = (f: (r: FlowCost) => number) => rounds.reduce((n, r) => n + f(r) * r.uploads, 0) / uploads;
  const cpuMicrosPerUpload = weighted((r) => r.cpuMicrosPerUpload);
  const handler = rounds.every((r) => r.handlerMicrosPerUpload !== undefined);
  return {
    uploads,
    clients: rounds[0].clients,
    wallMs,
    uploadsPerSecond: uploads / (wallMs / 1000),
    cpuMicrosPerUpload,
    userMicrosPerUpload: weighted((r) => r.userMicrosPerUpload),
    systemMicrosPerUpload: weighted((r) => r.systemMicrosPerUpload),
    appCpuUtilisation: (cpuMicrosPerUpload * uploads) / 1000 / wallMs,
    bytesReceivedPerUpload: weighted((r) => r.bytesReceivedPerUpload),
    bytesSentPerUpload: weighted((r) => r.bytesSentPerUpload),
    ...(handler ? { handlerMicrosPerUpload: weighted((r) => r.handlerMicrosPerUpload ?? NaN) } : {}),
    lastKey: rounds[rounds.length - 1].lastKey,
  };
}

/** How many uploads, by how many clients. */
interface Scenario {
  readonly clients: number;
  /** Uploads per client per round. */
  readonly direct: number;
  readonly traditional: number;
}

export interface ServerCostSettings {
  /** Back-to-back sign requests: the signer's JIT warm-up, and the "busy signer" row. */
  readonly signOnly: number;
  /** Traditional uploads before anything is measured (4 clients). */
  readonly traditionalWarmup: number;
  /** Rounds per scenario; direct and traditional rounds alternate, so a load spike hits both. */
  readonly rounds: number;
  /** One client, one upload after the other: a service with a trickle of uploads. */
  readonly sparse: Scenario;
  /** Many clients uploading at once: a service with a steady stream of uploads. */
  readonly atLoad: Scenario;
  /** The 8 MiB file, at load (one round). */
  readonly large: Scenario;
  /**
   * The direct app's side of a service doing thousands of uploads per second: sign requests paced at
   * this rate (the uploads themselves go to S3, not to the app), 16 connections.
   */
  readonly signerRate: { readonly perSecond: number; readonly connections: number; readonly durationMs: number };
}

export const SERVER_COST_SETTINGS: { readonly quick: ServerCostSettings; readonly full: ServerCostSettings } = {
  quick: {
    signOnly: 2,
    traditionalWarmup: 1,
    rounds: 1,
    sparse: { clients: 1, direct: 2, traditional: 2 },
    atLoad: { clients: 2, direct: 2, traditional: 1 },
    large: { clients: 2, direct: 1, traditional: 1 },
    signerRate: { perSecond: 200, connections: 2, durationMs: 200 },
  },
  full: {
    signOnly: 3000,
    traditionalWarmup: 50,
    rounds: 2,
    sparse: { clients: 1, direct: 100, traditional: 30 },
    atLoad: { clients: 16, direct: 25, traditional: 8 },
    large: { clients: 16, direct: 2, traditional: 2 },
    signerRate: { perSecond: 2000, connections: 16, durationMs: 3000 },
  },
};

/** What the direct app spends per upload when its uploads arrive at `perSecond` (sign requests, paced). */
async function signerAtRate(host: AppHost, rate: ServerCostSettings['signerRate']): Promise<{
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerUpload: number;
  readonly handlerMicrosPerUpload: number;
  readonly appCpuUtilisation: number;
  readonly bytesReceivedPerUpload: number;
  readonly errors: number;
  readonly latencyMs: LoadResult['latencyMs'];
}> {
  const before = await host.usage();
  const started = process.hrtime.bigint();
  const result = await runLoad({
    url: `${host.url}/uploads`,
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: USER },
    body: JSON.stringify({ contentType: 'image/jpeg', size: FILE_SIZE, filename: 'photo.jpg' }),
    expectStatus: 200,
    connections: rate.connections,
    warmupMs: 0,
    durationMs: rate.durationMs,
    ratePerSecond: rate.perSecond,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = await host.usage();
  // Every request the app answered, recorded or not (the generator's last in-flight ones too).
  const requests = after.handlerCalls - before.handlerCalls;
  const cpu = after.userMicros + after.systemMicros - before.userMicros - before.systemMicros;
  return {
    requests,
    requestsPerSecond: result.requestsPerSecond,
    cpuMicrosPerUpload: cpu / requests,
    handlerMicrosPerUpload: (after.handlerMicros - before.handlerMicros) / requests,
    appCpuUtilisation: cpu / 1000 / wallMs,
    bytesReceivedPerUpload: (after.bytesRead - before.bytesRead) / requests,
    errors: result.errors,
    latencyMs: result.latencyMs,
  };
}

export async function runServerCost(options: FigureOptions): Promise<FigureResult> {
  const image = randomBytes(FILE_SIZE);
  const large8 = randomBytes(LARGE_FILE_SIZE);
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

    const n = options.quick ? SERVER_COST_SETTINGS.quick : SERVER_COST_SETTINGS.full;
    const describe = (sc: Scenario) => `${sc.clients} client${sc.clients === 1 ? '' : 's'} × ${sc.direct} direct / ${sc.traditional} traditional uploads`;
    options.log(`(3) server cost, 1 MiB: sparse (${describe(n.sparse)}) and at load (${describe(n.atLoad)}), ${n.rounds} alternating round(s) each;`
      + ` 8 MiB at load (${describe(n.large)}); after warming each app up`);
    // Warming the signer up (JIT) needs requests, not uploads; back to back, they also show a busy signer's cost.
    const signKey = async () => (await sign(FILE_SIZE)).key;
    const busySigner = await measure(direct, { warmup: { run: signKey, count: n.signOnly }, uploads: n.signOnly, concurrency: 1, upload: signKey });
    await pool(n.traditionalWarmup, 4, uploadTraditional(image));

    const scenario = async (sc: Scenario, file: Buffer, rounds: number): Promise<{ direct: FlowCost; traditional: FlowCost }> => {
      const d: FlowCost[] = [];
      const t: FlowCost[] = [];
      for (let round = 0; round < rounds; round++) {
        // Each round starts with a few uploads of its own kind, so the other flow's garbage and caches are gone.
        const run = (upload: () => Promise<string>, perClient: number): Run => ({
          warmup: { run: upload, count: sc.clients },
          uploads: sc.clients * perClient,
          concurrency: sc.clients,
          upload,
        });
        d.push(await measure(direct, run(uploadDirect(file), sc.direct)));
        t.push(await measure(traditional, run(uploadTraditional(file), sc.traditional)));
      }
      return { direct: combine(d), traditional: combine(t) };
    };
    const sparse = await scenario(n.sparse, image, n.rounds);
    const atLoad = await scenario(n.atLoad, image, n.rounds);
    const large = await scenario(n.large, large8, 1);
    const atRate = await signerAtRate(direct, n.signerRate);

    // Every flow really stored the whole file.
    const stored = [
      [sparse.direct.lastKey, FILE_SIZE],
      [sparse.traditional.lastKey, FILE_SIZE],
      [atLoad.direct.lastKey, FILE_SIZE],
      [atLoad.traditional.lastKey, FILE_SIZE],
      [large.direct.lastKey, LARGE_FILE_SIZE],
      [large.traditional.lastKey, LARGE_FILE_SIZE],
    ] as const;
    for (const [key, size] of stored) {
      const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
      if (head.ContentLength !== size) throw new Error(`${key} is ${head.ContentLength} bytes, expected ${size}`);
    }

    const ratios = (s: { direct: FlowCost; traditional: FlowCost }) => ({
      process: s.traditional.cpuMicrosPerUpload / s.direct.cpuMicrosPerUpload,
      handler: s.traditional.cpuMicrosPerUpload / (s.direct.handlerMicrosPerUpload ?? NaN),
    });
    const loadRatio = ratios(atLoad);
    const sparseRatio = ratios(sparse);
    const largeRatio = ratios(large);
    const rateRatio = {
      process: atLoad.traditional.cpuMicrosPerUpload / atRate.cpuMicrosPerUpload,
      handler: atLoad.traditional.cpuMicrosPerUpload / atRate.handlerMicrosPerUpload,
    };
    const ms = (micros: number) => micros / 1000;
    const split = (c: FlowCost) => `user ${ms(c.userMicrosPerUpload).toFixed(3)} + system ${ms(c.systemMicrosPerUpload).toFixed(3)}`;
    const pace = (c: FlowCost) => `${formatNumber(c.uploadsPerSecond)} uploads/s, app at ${Math.round(c.appCpuUtilisation * 100)}% of a core`;
    const loadName = `at load (${n.atLoad.clients} clients)`;
    const sparseName = `sparse (${n.sparse.clients} client${n.sparse.clients === 1 ? '' : 's'}, one upload at a time)`;
    return {
      id: 3,
      title: 'Server cost per 1 MiB upload on the local stack (application side)',
      rows: [
        { name: `${loadName}: direct signer process CPU`, value: ms(atLoad.direct.cpuMicrosPerUpload), unit: 'ms/upload', detail: `${split(atLoad.direct)}; ${pace(atLoad.direct)} (local API Gateway stand-in + handler)` },
        { name: `${loadName}: direct signer handler CPU`, value: ms(atLoad.direct.handlerMicrosPerUpload ?? NaN), unit: 'ms/upload', detail: 'the part that runs in Lambda' },
        { name: `${loadName}: traditional app CPU`, value: ms(atLoad.traditional.cpuMicrosPerUpload), unit: 'ms/upload', detail: `${split(atLoad.traditional)}; ${pace(atLoad.traditional)}` },
        { name: `${loadName}: traditional / direct (signer process)`, value: loadRatio.process, unit: '×' },
        { name: `${loadName}: traditional / direct (signer handler)`, value: loadRatio.handler, unit: '×' },
        { name: `${sparseName}: direct signer process CPU`, value: ms(sparse.direct.cpuMicrosPerUpload), unit: 'ms/upload', detail: `${split(sparse.direct)}; ${pace(sparse.direct)}` },
        { name: `${sparseName}: direct signer handler CPU`, value: ms(sparse.direct.handlerMicrosPerUpload ?? NaN), unit: 'ms/upload' },
        { name: `${sparseName}: traditional app CPU`, value: ms(sparse.traditional.cpuMicrosPerUpload), unit: 'ms/upload', detail: `${split(sparse.traditional)}; ${pace(sparse.traditional)}` },
        { name: `${sparseName}: traditional / direct (signer process)`, value: sparseRatio.process, unit: '×' },
        { name: `${sparseName}: traditional / direct (signer handler)`, value: sparseRatio.handler, unit: '×' },
        { name: `direct at ${formatNumber(n.signerRate.perSecond)} uploads/s: signer process CPU`, value: ms(atRate.cpuMicrosPerUpload), unit: 'ms/upload', detail: `${formatNumber(atRate.requestsPerSecond)} sign requests/s for ${n.signerRate.durationMs / 1000} s, ${n.signerRate.connections} connections; app at ${Math.round(atRate.appCpuUtilisation * 100)}% of a core; ${atRate.errors} errors; p99 ${atRate.latencyMs.p99.toFixed(2)} ms` },
        { name: `direct at ${formatNumber(n.signerRate.perSecond)} uploads/s: signer handler CPU`, value: ms(atRate.handlerMicrosPerUpload), unit: 'ms/upload' },
        { name: `traditional at load / direct at ${formatNumber(n.signerRate.perSecond)} uploads/s (signer process)`, value: rateRatio.process, unit: '×', detail: 'the traditional app cannot reach this rate on one core: its cost per upload at load is used' },
        { name: `traditional at load / direct at ${formatNumber(n.signerRate.perSecond)} uploads/s (signer handler)`, value: rateRatio.handler, unit: '×' },
        { name: 'direct: bytes received by the app', value: atLoad.direct.bytesReceivedPerUpload, unit: 'B/upload', detail: `sent ${Math.round(atLoad.direct.bytesSentPerUpload)} B (sparse: received ${Math.round(sparse.direct.bytesReceivedPerUpload)} B)` },
        { name: 'traditional: bytes received by the app', value: atLoad.traditional.bytesReceivedPerUpload, unit: 'B/upload', detail: `sent ${Math.round(atLoad.traditional.bytesSentPerUpload)} B (and the file again, to S3)` },
        { name: 'busy signer: process CPU per request', value: ms(busySigner.cpuMicrosPerUpload), unit: 'ms', detail: `${n.signOnly} sign requests back to back, no uploads; handler ${ms(busySigner.handlerMicrosPerUpload ?? NaN).toFixed(4)} ms` },
        { name: '8 MiB at load: direct signer process CPU', value: ms(large.direct.cpuMicrosPerUpload), unit: 'ms/upload', detail: `handler ${ms(large.direct.handlerMicrosPerUpload ?? NaN).toFixed(3)} ms; received ${Math.round(large.direct.bytesReceivedPerUpload)} B/upload` },
        { name: '8 MiB at load: traditional app CPU', value: ms(large.traditional.cpuMicrosPerUpload), unit: 'ms/upload', detail: `received ${Math.round(large.traditional.bytesReceivedPerUpload)} B/upload; traditional / direct = ${formatNumber(largeRatio.process)}× (process), ${formatNumber(largeRatio.handler)}× (handler)` },
      ],
      goals: [
        goal(`app CPU at load, traditional / direct signer process (sparse: ${formatNumber(sparseRatio.process)}×)`, loadRatio.process, 'min', 100, '×'),
        goal(`app CPU at load, traditional / direct signer handler (sparse: ${formatNumber(sparseRatio.handler)}×)`, loadRatio.handler, 'min', 100, '×'),
        goal('bytes received by the app per direct upload (no file bytes: the signer refuses bodies over 8 KiB)', Math.max(atLoad.direct.bytesReceivedPerUpload, sparse.direct.bytesReceivedPerUpload, atRate.bytesReceivedPerUpload), 'max', 8192, ' B'),
      ],
      notes: [
        'The local stack (S3 stand-in @20minutes/s3rver, which verifies SigV4; SQS; CDN) and the clients run in the benchmark process; each application runs alone in a child process, so process.cpuUsage() (user + system, all of the process\'s threads) is the application\'s own. Clients use keep-alive connections.',
        `At load: ${n.atLoad.clients} clients each doing complete uploads back to back (sign + PUT, or POST multipart); sparse: one client, one upload after the other. ${n.rounds} round(s) of each flow, alternating; the goal is judged at load (a service doing many uploads per second), sparse is reported next to it.`,
        'Direct: the local stack\'s signer (local HTTP API adapter + the real handler, configured from the stack\'s environment); the client then sends the body to S3 with the presigned PUT, which S3 verifies. The adapter stands in for API Gateway: in AWS only the handler runs on your side.',
        'Traditional: busboy multipart parsing into memory (multer\'s memoryStorage), the same policy checks, then PutObject with the AWS SDK v3 and its defaults (keep-alive agent; path-style for the local endpoint).',
        'Bytes are TCP payload read from the app\'s client connections (request lines, headers, bodies).',
        '"Busy signer" is the same signer answering sign requests back to back (one client, no uploads in between).',
      ],
      raw: { settings: n, sparse, atLoad, atRate, large, busySigner },
    };
  } finally {
    for (const host of hosts) await host.stop();
    await stack.stop();
  }
}
