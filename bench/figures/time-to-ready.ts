/**
 * Figure 7 — time to ready: from the sign request to the first 200 from the CDN route, on the local
 * stack (S3 stand-in that verifies SigV4, SQS, the real verifier handler behind a local SQS event source,
 * the CDN stand-in with the verification gate), in this process; the clients run in a process of their
 * own (bench/lib/ready-clients.ts). Each upload: `POST /uploads`, the presigned PUT of a 1 MiB JPEG,
 * then GETs of the CDN URL with a short backoff until one answers 200 (polls counted).
 * The same with verification off (`verifyUploads: false`: no verifier, no gate; the CDN serves what S3
 * holds): the ratio is the price of verification.
 *
 * Also the verifier handler's own cost per upload, for the cost model (figure 6): the real handler
 * (`createVerifierHandler` with the SDK adapters on the local clients, configured from the environment
 * the construct builds) fed the S3 events of real uploads in batches of 10 (the construct's batch size)
 * and of 1, with every S3 and SQS call it makes counted; and its CPU time on an in-memory store (what the
 * handler itself computes, as figure 1 measures the signer's).
 */
import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import * as contract from '../../src/contract/environment';
import { startLocalStack } from '../../src/local/local-stack';
import { s3ObjectStore, sqsMessageSender } from '../../src/verifier/aws';
import { loadVerifierConfig } from '../../src/verifier/config';
import { createVerifierHandler, MessageSender, ObjectStart, ObjectStore, SqsBatch } from '../../src/verifier/handler';
import { jpegOfSize, POLL_BACKOFF, ReadyClientArgs, UploadTiming, uploadMany } from '../lib/ready-clients';
import { FigureOptions, FigureResult, formatNumber, goal, median, percentile } from '../lib/report';
import { runTsxScript } from '../lib/tsx-process';

const MIB = 1024 * 1024;
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** The goal's name, as issue 15 words it. */
export const TIME_TO_READY_GOAL = 'time to ready';

export interface TimeToReadySettings {
  /** Uploads per mode (verification on, off). */
  readonly uploads: number;
  readonly concurrency: number;
  readonly fileSize: number;
  /** Warm-up uploads per mode, not counted. */
  readonly warmup: number;
  /** Uploads whose events feed the verifier handler measurement (multiple of 10). */
  readonly verifierUploads: number;
  /** Iterations of the in-memory handler loop. */
  readonly verifierCpuIterations: number;
}

export const TIME_TO_READY_SETTINGS: Readonly<Record<'full' | 'quick', TimeToReadySettings>> = {
  full: { uploads: 240, concurrency: 8, fileSize: MIB, warmup: 16, verifierUploads: 100, verifierCpuIterations: 4000 },
  quick: { uploads: 16, concurrency: 4, fileSize: MIB, warmup: 2, verifierUploads: 20, verifierCpuIterations: 50 },
};

interface ModeSummary {
  readonly verifyUploads: boolean;
  readonly uploads: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly medianSignMs: number;
  readonly medianPutMs: number;
  readonly medianWaitMs: number;
  readonly p99WaitMs: number;
  readonly meanPolls: number;
  readonly maxPolls: number;
  readonly uploadsPerSecond: number;
  /** CPU time of the stack's process / wall time (1 = one core busy), the clients' process startup included. */
  readonly stackCpuUtilisation: number;
}

type Log = (line: string) => void;

async function measureMode(verifyUploads: boolean, s: TimeToReadySettings, log: Log): Promise<{ summary: ModeSummary; samples: number[] }> {
  const stack = await startLocalStack({ verifyUploads, log });
  try {
    const clients = (count: number, seed: number): ReadyClientArgs =>
      ({ signerUrl: stack.signerUrl, count, concurrency: s.concurrency, size: s.fileSize, seed });
    await runTsxScript<UploadTiming[]>('lib/ready-clients.ts', clients(s.warmup, 1_000_000));
    const started = now();
    const cpu = process.cpuUsage();
    const timings = await runTsxScript<UploadTiming[]>('lib/ready-clients.ts', clients(s.uploads, verifyUploads ? 0 : 500_000));
    const wallMs = now() - started;
    const used = process.cpuUsage(cpu);
    const ready = timings.map((t) => t.readyMs);
    const polls = timings.map((t) => t.polls);
    const summary: ModeSummary = {
      verifyUploads,
      uploads: timings.length,
      p50Ms: percentile(ready, 50),
      p90Ms: percentile(ready, 90),
      p99Ms: percentile(ready, 99),
      maxMs: Math.max(...ready),
      medianSignMs: median(timings.map((t) => t.signMs)),
      medianPutMs: median(timings.map((t) => t.putMs)),
      medianWaitMs: median(timings.map((t) => t.waitMs)),
      p99WaitMs: percentile(timings.map((t) => t.waitMs), 99),
      meanPolls: polls.reduce((a, b) => a + b, 0) / polls.length,
      maxPolls: Math.max(...polls),
      uploadsPerSecond: timings.length / (wallMs / 1000),
      stackCpuUtilisation: (used.user + used.system) / 1000 / wallMs,
    };
    log(`(7) verification ${verifyUploads ? 'on' : 'off'}: p50 ${summary.p50Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms, ${summary.meanPolls.toFixed(2)} polls`);
    return { summary, samples: ready.map((v) => Math.round(v * 100) / 100) };
  } finally {
    await stack.stop();
  }
}

/** The S3 and SQS calls the verifier made, by operation. */
export interface VerifierCalls {
  readonly getRanged: number;
  readonly getObjectTagging: number;
  readonly putObjectTagging: number;
  readonly headObject: number;
  readonly deleteObject: number;
  readonly sqsSend: number;
}

/** The verifier handler's cost per upload, measured (figure 6 prices it). */
export interface VerifierMeasurement {
  /** Calls per verified upload (from the counted batches). */
  readonly callsPerUpload: VerifierCalls;
  /** Wall time of one invocation on the local stand-ins, median, ms: a batch of 10 and a batch of 1. */
  readonly batch10WallMs: number;
  readonly batch1WallMs: number;
  /** Handler CPU per upload on an in-memory store (no I/O), µs, median of rounds. */
  readonly cpuMicrosPerUpload: number;
  /** S3 and SQS calls one after the other per upload (the chain an invocation waits for). */
  readonly sequentialCallsPerUpload: number;
  readonly uploads: number;
  readonly outcomes: Readonly<Record<string, number>>;
}

function countingStore(inner: ObjectStore, calls: Record<keyof VerifierCalls, number>): ObjectStore {
  return {
    readStart: (o, b) => (calls.getRanged++, inner.readStart(o, b)),
    read: (o, s, e, t) => (calls.getRanged++, inner.read(o, s, e, t)),
    getTags: (o) => (calls.getObjectTagging++, inner.getTags(o)),
    putTags: (o, t) => (calls.putObjectTagging++, inner.putTags(o, t)),
    delete: (o) => (calls.deleteObject++, inner.delete(o)),
    currentETag: (k) => (calls.headObject++, inner.currentETag(k)),
  };
}

/**
 * An in-memory object store (for the handler's CPU time only). Tag writes are not kept, so every
 * invocation takes the full path of a first verification (not the `duplicate` short cut).
 */
function memoryStore(objects: ReadonlyMap<string, { body: Buffer; versionId: string; eTag: string }>): ObjectStore {
  const start = (key: string, bytes: number): ObjectStart | undefined => {
    const o = objects.get(key);
    return o && { size: o.body.length, contentType: 'image/jpeg', eTag: o.eTag, versionId: o.versionId, storedHeaders: {}, body: o.body.subarray(0, bytes) };
  };
  return {
    readStart: async (o, bytes) => start(o.key, bytes),
    read: async (o, s, e) => objects.get(o.key)!.body.subarray(s, e + 1),
    getTags: async () => ({}),
    putTags: async () => true,
    delete: async () => undefined,
    currentETag: async (k) => objects.get(k)?.eTag,
  };
}

/** Measures the real verifier handler per upload: S3/SQS calls, local wall time per invocation, CPU. */
export async function measureVerifier(s: TimeToReadySettings, log: Log): Promise<VerifierMeasurement> {
  // Verification off: S3's events stay on the notification queue, for this measurement's own handler.
  const stack = await startLocalStack({ verifyUploads: false, sendTestEvent: false, log });
  try {
    const uploads = Math.max(10, Math.ceil(s.verifierUploads / 10) * 10);
    await uploadMany({ signerUrl: stack.signerUrl, count: uploads + 10, concurrency: s.concurrency, size: s.fileSize, seed: 2_000_000 });
    await stack.flush();
    const events: string[] = [];
    for (;;) {
      const QueueUrl = stack.queueUrl;
      const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) break;
      events.push(...Messages.map((m) => m.Body ?? ''));
      const Entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
      await stack.sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries }));
    }
    if (events.length < uploads + 10) throw new Error(`expected ${uploads + 10} S3 events, got ${events.length}`);

    const calls = { getRanged: 0, getObjectTagging: 0, putObjectTagging: 0, headObject: 0, deleteObject: 0, sqsSend: 0 };
    const inner = sqsMessageSender(stack.sqs);
    const sender: MessageSender = { send: (q, b, d) => (calls.sqsSend++, inner.send(q, b, d)) };
    const outcomes: Record<string, number> = {};
    const config = loadVerifierConfig(contract.verifierEnvironment({
      policy: stack.policy,
      bucket: stack.bucket,
      verifiedQueueUrl: stack.queueUrl,
      rejectionQueueUrl: stack.deadLetterQueueUrl,
      rejectedObjects: 'delete',
      tagUnclaimed: false,
    }));
    const handler = createVerifierHandler(config, {
      store: countingStore(s3ObjectStore(stack.s3, stack.bucket), calls),
      sender,
      log: (line) => {
        const outcome = String((JSON.parse(line) as { outcome?: string }).outcome);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      },
    });
    const batch = (bodies: string[]): SqsBatch => ({ Records: bodies.map((body, i) => ({ messageId: String(i), body })) });
    const invoke = async (bodies: string[]) => {
      const t = now();
      const res = await handler(batch(bodies));
      if (res.batchItemFailures.length > 0) throw new Error(`verifier failed ${res.batchItemFailures.length} messages`);
      return now() - t;
    };
    await invoke(events.slice(uploads, uploads + 5)); // warm-up (not counted below)
    await invoke(events.slice(uploads + 5, uploads + 10));
    for (const k of Object.keys(calls) as Array<keyof typeof calls>) calls[k] = 0;
    for (const k of Object.keys(outcomes)) delete outcomes[k];
    const half = uploads / 2 - ((uploads / 2) % 10);
    const batch10: number[] = [];
    for (let i = 0; i < half; i += 10) batch10.push(await invoke(events.slice(i, i + 10)));
    const batch1: number[] = [];
    for (let i = half; i < uploads; i++) batch1.push(await invoke([events[i]]));
    const per = (n: number) => n / uploads;
    const callsPerUpload: VerifierCalls = {
      getRanged: per(calls.getRanged),
      getObjectTagging: per(calls.getObjectTagging),
      putObjectTagging: per(calls.putObjectTagging),
      headObject: per(calls.headObject),
      deleteObject: per(calls.deleteObject),
      sqsSend: per(calls.sqsSend),
    };

    // CPU: the same handler on an in-memory copy of one uploaded object, events rewritten to its key.
    const first = JSON.parse(events[0]) as { Records: Array<{ s3: { object: { key: string; eTag: string; versionId?: string } } }> };
    const ref = first.Records[0].s3.object;
    const body = jpegOfSize(s.fileSize, 2_000_000);
    const objects = new Map([[decodeURIComponent(ref.key.replace(/\+/g, ' ')), { body, versionId: ref.versionId ?? 'v1', eTag: ref.eTag }]]);
    const cpuHandler = createVerifierHandler(config, { store: memoryStore(objects), sender: { send: async () => undefined }, log: () => undefined });
    const cpuRounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const before = process.cpuUsage();
      for (let i = 0; i < s.verifierCpuIterations; i++) await cpuHandler(batch([events[0]]));
      const used = process.cpuUsage(before);
      cpuRounds.push((used.user + used.system) / s.verifierCpuIterations);
    }
    const c = callsPerUpload;
    const sequential = c.getRanged + c.getObjectTagging + c.putObjectTagging + c.headObject + c.sqsSend;
    log(`(7) verifier: ${JSON.stringify(callsPerUpload)} per upload; batch of 10 ${median(batch10).toFixed(1)} ms, batch of 1 ${median(batch1).toFixed(1)} ms`);
    return {
      callsPerUpload,
      batch10WallMs: median(batch10),
      batch1WallMs: median(batch1),
      cpuMicrosPerUpload: median(cpuRounds),
      sequentialCallsPerUpload: sequential,
      uploads,
      outcomes,
    };
  } finally {
    await stack.stop();
  }
}

export async function runTimeToReady(options: FigureOptions): Promise<FigureResult> {
  const s = TIME_TO_READY_SETTINGS[options.quick ? 'quick' : 'full'];
  const on = await measureMode(true, s, options.log);
  const off = await measureMode(false, s, options.log);
  const verifier = await measureVerifier(s, options.log);
  const mode = (m: ModeSummary) => `p90 ${formatNumber(m.p90Ms)} ms, max ${formatNumber(m.maxMs)} ms; median sign ${formatNumber(m.medianSignMs)} + PUT ${formatNumber(m.medianPutMs)} + wait ${formatNumber(m.medianWaitMs)} ms (p99 wait ${formatNumber(m.p99WaitMs)} ms); polls mean ${m.meanPolls.toFixed(2)}, max ${m.maxPolls}; ${formatNumber(m.uploadsPerSecond)} uploads/s, stack process at ${Math.round(m.stackCpuUtilisation * 100)}% of a core`;
  const c = verifier.callsPerUpload;
  return {
    id: 7,
    title: `Time to ready: sign request → first 200 from the CDN route, ${s.uploads} uploads of ${s.fileSize / MIB} MiB at concurrency ${s.concurrency} (local stack)`,
    rows: [
      { name: 'verification on: p50', value: on.summary.p50Ms, unit: 'ms' },
      { name: 'verification on: p99', value: on.summary.p99Ms, unit: 'ms', detail: mode(on.summary) },
      { name: 'verification off: p50', value: off.summary.p50Ms, unit: 'ms' },
      { name: 'verification off: p99', value: off.summary.p99Ms, unit: 'ms', detail: mode(off.summary) },
      { name: 'price of verification, p50 on / off', value: on.summary.p50Ms / off.summary.p50Ms, unit: '×', detail: `p99 on / off ${(on.summary.p99Ms / off.summary.p99Ms).toFixed(2)}×` },
      { name: 'verifier: invocation, batch of 10 (local)', value: verifier.batch10WallMs, unit: 'ms', detail: `batch of 1: ${formatNumber(verifier.batch1WallMs)} ms` },
      { name: 'verifier: handler CPU per upload (in memory)', value: verifier.cpuMicrosPerUpload, unit: 'µs' },
      {
        name: 'verifier: S3 + SQS calls per upload',
        value: verifier.sequentialCallsPerUpload,
        unit: 'calls',
        detail: `ranged GET ${c.getRanged}, GetObjectTagging ${c.getObjectTagging}, PutObjectTagging ${c.putObjectTagging}, HEAD ${c.headObject}, DELETE ${c.deleteObject}, SQS send ${c.sqsSend} (${verifier.uploads} uploads, outcomes ${JSON.stringify(verifier.outcomes)})`,
      },
    ],
    goals: [goal(TIME_TO_READY_GOAL, on.summary.p99Ms, 'max', 500, ' ms')],
    notes: [
      `Each upload: POST /uploads, the presigned PUT of a distinct ${s.fileSize / MIB} MiB JPEG, then GETs of its publicUrl until a 200 (backoff ${POLL_BACKOFF.firstMs} ms × ${POLL_BACKOFF.factor} per poll, at most ${POLL_BACKOFF.maxMs} ms); the served bytes are compared with the upload. ${s.warmup} warm-up uploads per mode first.`,
      'The local stack runs in the benchmark process (one core for S3, SQS, the verifier, the CDN and the signer); the clients in a process of their own.',
      'Verification on: S3 event → verification queue → local event source (pumped at once on each notification; AWS long-polls) → real verifier handler → tag; the CDN stand-in serves only tagged objects. Off: verifyUploads: false (no verifier, no gate).',
      'Verifier calls are counted on the real handler with the SDK adapters (versioned bucket, as the construct deploys it: no HEAD); invocation wall times are on the local stand-ins in this process, not AWS latencies.',
    ],
    raw: { settings: s, pollBackoff: POLL_BACKOFF, on: on.summary, off: off.summary, verifier, samples: { on: on.samples, off: off.samples } },
  };
}
