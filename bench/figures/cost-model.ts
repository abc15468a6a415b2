/**
 * Figure 6 — cost per million uploads, verification included: everything the construct's default
 * deploys, per upload, at list prices — the HTTP API request, the signer Lambda (request + billed
 * duration), the S3 PUT, S3's message to the verification queue, the event source's receive and delete,
 * the verifier Lambda (request + billed duration), every S3 call the verifier makes (counted on the real
 * handler by figure 7), its message to the notification queue — plus one status poll (`POST
 * /uploads/status`: one GetObjectTagging of the current version while the upload is pending or verified). Side by side: the typical
 * sample (a 128 MB x86 Lambda with SDK `getSignedUrl`, then the PUT; no verification) and GuardDuty
 * Malware Protection for S3's own per-object and per-GB price. Reported; the goal is evaluated, never
 * asserted.
 */
import { runSigning, SIGNING_NAMES } from './signing';
import { measureVerifier, TIME_TO_READY_SETTINGS, VerifierMeasurement } from './time-to-ready';
import { FigureOptions, FigureResult, goal } from '../lib/report';

/** The goal's name, as issue 15 words it. */
export const COST_GOAL = 'cost per million uploads, verification included';

/**
 * AWS list prices, us-east-1 (free tiers ignored; not fetched at run time). Checked on 2026-12-01 against
 * what the search tool found of AWS's pages; the sources are in docs/benchmarks.md.
 */
export const LIST_PRICES = {
  asOf: '2026-12-01',
  /** API Gateway HTTP API, per million requests (first 300 million per month). https://aws.amazon.com/api-gateway/pricing/ */
  httpApiPerMillionRequests: 1.0,
  /** Lambda requests, per million. https://aws.amazon.com/lambda/pricing/ */
  lambdaPerMillionRequests: 0.2,
  /** Lambda duration, per GB-second (first 6 billion GB-s per month). */
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaX86PerGbSecond: 0.0000166667,
  /** S3 Standard PUT, COPY, POST, LIST requests, per 1,000 (PutObjectTagging billed here: an HTTP PUT). https://aws.amazon.com/s3/pricing/ */
  s3PutPerThousand: 0.005,
  /** S3 Standard GET, SELECT and all other requests (HEAD, GetObjectTagging), per 1,000. */
  s3GetPerThousand: 0.0004,
  /** SQS standard queue, per million requests (each 64 KB chunk of a payload is one request). https://aws.amazon.com/sqs/pricing/ */
  sqsPerMillionRequests: 0.4,
  /** GuardDuty Malware Protection for S3: per GB scanned, per 1,000 objects evaluated. https://aws.amazon.com/guardduty/pricing/ */
  guardDutyS3PerGb: 0.09,
  guardDutyS3PerThousandObjects: 0.215,
} as const;

/** Lambda gives a function one full vCPU at 1,769 MB, proportionally less below. */
export const MB_PER_VCPU = 1769;

/**
 * Latency of one S3 request from Lambda in the same region, for the billed duration of the functions
 * that wait for S3 (the verifier, the status route): AWS's S3 performance whitepaper says small-object
 * latencies of "roughly 100–200 milliseconds"; the model takes the low end (the high end is reported too).
 */
export const S3_LATENCY_MS = { low: 100, high: 200 } as const;

/** The upload the model prices (figure 7's file). */
export const UPLOAD_BYTES = 1024 * 1024;

export interface SignerProfile {
  readonly name: string;
  readonly architecture: 'arm64' | 'x86_64';
  readonly memoryMb: number;
  /** Time of one signing on one full core, microseconds (measured by figure 1). */
  readonly microsPerUploadOnOneCore: number;
}

/** Billed duration (ms, rounded up to Lambda's 1 ms) of `cpuMicros` of compute plus `waitMs` of I/O. */
export function billedMs(memoryMb: number, cpuMicros: number, waitMs = 0): { durationMs: number; billedMs: number } {
  const cpuShare = Math.min(1, memoryMb / MB_PER_VCPU);
  const durationMs = cpuMicros / 1000 / cpuShare + waitMs;
  return { durationMs, billedMs: Math.max(1, Math.ceil(durationMs)) };
}

/** Dollars for `invocations` per upload of `ms` billed each (per million uploads). */
function lambdaDollars(architecture: 'arm64' | 'x86_64', memoryMb: number, ms: number, invocations = 1, prices = LIST_PRICES): number {
  const perGbSecond = architecture === 'arm64' ? prices.lambdaArm64PerGbSecond : prices.lambdaX86PerGbSecond;
  return 1e6 * invocations * (memoryMb / 1024) * (ms / 1000) * perGbSecond;
}

/** One priced line of a bill, in dollars per million uploads. */
export interface BillLine {
  readonly item: string;
  /** Requests (or invocations) per upload. */
  readonly perUpload: number;
  readonly dollars: number;
}

export interface Bill {
  readonly name: string;
  readonly lines: readonly BillLine[];
  readonly total: number;
}

function bill(name: string, lines: BillLine[]): Bill {
  return { name, lines, total: lines.reduce((n, l) => n + l.dollars, 0) };
}

/** How many uploads share one verifier invocation (and one receive and delete). */
export interface Traffic {
  readonly name: string;
  readonly uploadsPerBatch: number;
}

export const TRAFFIC: Readonly<Record<'trickle' | 'steady', Traffic>> = {
  /** A million uploads a month is 0.4 per second: without a batching window each arrives alone. */
  trickle: { name: 'trickle (each upload its own invocation)', uploadsPerBatch: 1 },
  /** Full batches: the construct's batch size, 10. */
  steady: { name: 'steady (full batches of 10)', uploadsPerBatch: 10 },
};

export interface ModelInputs {
  /** The signer handler on one core, µs per sign request (figure 1). */
  readonly signerMicros: number;
  /** The verifier's measurement (figure 7). */
  readonly verifier: VerifierMeasurement;
  readonly traffic: Traffic;
  /** One S3 request from Lambda, ms. */
  readonly s3LatencyMs: number;
  /** Include one status poll per upload. */
  readonly statusPoll: boolean;
}

/** The construct's default deployment, per million uploads. */
export function constructBill(i: ModelInputs, prices = LIST_PRICES): Bill {
  const put = prices.s3PutPerThousand * 1000;
  const get = prices.s3GetPerThousand * 1000;
  const sqs = prices.sqsPerMillionRequests;
  const c = i.verifier.callsPerUpload;
  const perBatch = 1 / i.traffic.uploadsPerBatch;
  const signer = billedMs(256, i.signerMicros);
  // The verifier handles a batch's records in parallel; each waits for its calls one after the other.
  const verifier = billedMs(256, i.verifier.cpuMicrosPerUpload * i.traffic.uploadsPerBatch, i.verifier.sequentialCallsPerUpload * i.s3LatencyMs);
  const status = billedMs(256, i.signerMicros, i.s3LatencyMs);
  const lines: BillLine[] = [
    { item: 'HTTP API: POST /uploads', perUpload: 1, dollars: prices.httpApiPerMillionRequests },
    { item: 'signer Lambda: request', perUpload: 1, dollars: prices.lambdaPerMillionRequests },
    { item: `signer Lambda: duration (arm64 256 MB, ${signer.durationMs.toFixed(3)} ms → ${signer.billedMs} ms billed)`, perUpload: 1, dollars: lambdaDollars('arm64', 256, signer.billedMs) },
    { item: 'S3: PUT (the upload)', perUpload: 1, dollars: put },
    { item: 'SQS: S3\'s event to the verification queue', perUpload: 1, dollars: sqs },
    { item: 'SQS: event source ReceiveMessage', perUpload: perBatch, dollars: sqs * perBatch },
    { item: 'SQS: event source DeleteMessageBatch', perUpload: perBatch, dollars: sqs * perBatch },
    { item: 'verifier Lambda: request', perUpload: perBatch, dollars: prices.lambdaPerMillionRequests * perBatch },
    {
      item: `verifier Lambda: duration (arm64 256 MB, ${i.verifier.sequentialCallsPerUpload} calls × ${i.s3LatencyMs} ms + CPU = ${verifier.durationMs.toFixed(1)} ms → ${verifier.billedMs} ms billed per invocation)`,
      perUpload: perBatch,
      dollars: lambdaDollars('arm64', 256, verifier.billedMs, perBatch),
    },
    { item: 'S3: verifier ranged GETs', perUpload: c.getRanged, dollars: get * c.getRanged },
    { item: 'S3: verifier GetObjectTagging', perUpload: c.getObjectTagging, dollars: get * c.getObjectTagging },
    { item: 'S3: verifier PutObjectTagging (PUT tier)', perUpload: c.putObjectTagging, dollars: put * c.putObjectTagging },
    { item: 'S3: verifier HEAD (unversioned buckets only)', perUpload: c.headObject, dollars: get * c.headObject },
    { item: 'SQS: verifier\'s message to the notification queue', perUpload: c.sqsSend, dollars: sqs * c.sqsSend },
  ];
  if (i.statusPoll) {
    lines.push(
      { item: 'status poll: HTTP API', perUpload: 1, dollars: prices.httpApiPerMillionRequests },
      { item: 'status poll: signer Lambda request', perUpload: 1, dollars: prices.lambdaPerMillionRequests },
      { item: `status poll: signer Lambda duration (1 call × ${i.s3LatencyMs} ms → ${status.billedMs} ms billed)`, perUpload: 1, dollars: lambdaDollars('arm64', 256, status.billedMs) },
      { item: 'status poll: S3 GetObjectTagging', perUpload: 1, dollars: get },
    );
  }
  return bill(`this construct, verification on, ${i.traffic.name}${i.statusPoll ? ', one status poll' : ''}, S3 latency ${i.s3LatencyMs} ms`, lines);
}

/** The typical sample: a 128 MB x86 Lambda signing with the SDK's getSignedUrl, then the PUT; no verification. */
export function sampleBill(getSignedUrlMicros: number, prices = LIST_PRICES): Bill {
  const signer = billedMs(128, getSignedUrlMicros);
  return bill('typical sample: x86 128 MB, getSignedUrl + PUT, no verification', [
    { item: 'HTTP API', perUpload: 1, dollars: prices.httpApiPerMillionRequests },
    { item: 'Lambda request', perUpload: 1, dollars: prices.lambdaPerMillionRequests },
    { item: `Lambda duration (${signer.durationMs.toFixed(3)} ms → ${signer.billedMs} ms billed)`, perUpload: 1, dollars: lambdaDollars('x86_64', 128, signer.billedMs) },
    { item: 'S3: PUT', perUpload: 1, dollars: prices.s3PutPerThousand * 1000 },
  ]);
}

/** GuardDuty Malware Protection for S3 alone, per million objects of `bytes` (its own S3 reads and tag writes not included). */
export function guardDutyBill(bytes: number, prices = LIST_PRICES): Bill {
  const gb = (1e6 * bytes) / 1024 ** 3;
  return bill(`GuardDuty Malware Protection for S3, ${bytes / 1024 / 1024} MiB objects`, [
    { item: 'objects evaluated', perUpload: 1, dollars: prices.guardDutyS3PerThousandObjects * 1000 },
    { item: `data scanned (${gb.toFixed(1)} GB per million)`, perUpload: bytes / 1024 ** 3, dollars: gb * prices.guardDutyS3PerGb },
  ]);
}

function describe(b: Bill): string {
  return b.lines.map((l) => `${l.item} ${l.dollars.toFixed(3)}`).join(' + ');
}

export async function runCostModel(options: FigureOptions, previous: readonly FigureResult[] = []): Promise<FigureResult> {
  let signing = previous.find((f) => f.id === 1);
  if (!signing) {
    options.log('(6) cost model: figure 1 not in this run, measuring signing first');
    signing = await runSigning(options);
  }
  let verifier = (previous.find((f) => f.id === 7)?.raw as { verifier?: VerifierMeasurement } | undefined)?.verifier;
  if (!verifier) {
    options.log('(6) cost model: figure 7 not in this run, measuring the verifier first');
    verifier = await measureVerifier(TIME_TO_READY_SETTINGS[options.quick ? 'quick' : 'full'], options.log);
  }
  const rate = (name: string) => signing?.rows.find((r) => r.name === name)?.value ?? NaN;
  const signerMicros = 1e6 / rate(SIGNING_NAMES.handlerIam);
  const model = (traffic: Traffic, statusPoll: boolean, s3LatencyMs: number = S3_LATENCY_MS.low) =>
    constructBill({ signerMicros, verifier: verifier!, traffic, s3LatencyMs, statusPoll });
  const headline = model(TRAFFIC.trickle, true);
  const bills = {
    headline,
    trickleNoStatus: model(TRAFFIC.trickle, false),
    steadyWithStatus: model(TRAFFIC.steady, true),
    steadyNoStatus: model(TRAFFIC.steady, false),
    trickleHighLatency: model(TRAFFIC.trickle, true, S3_LATENCY_MS.high),
    sample: sampleBill(1e6 / rate(SIGNING_NAMES.getSignedUrl)),
    guardDuty: guardDutyBill(UPLOAD_BYTES),
  };
  const row = (name: string, b: Bill) => ({ name, value: b.total, unit: '$ / M uploads', detail: describe(b) });
  return {
    id: 6,
    title: `Cost per million uploads, verification included (us-east-1 list prices as of ${LIST_PRICES.asOf}; 1 MiB uploads)`,
    rows: [
      row('construct: trickle, one status poll (goal judged here)', bills.headline),
      row('construct: trickle, no status poll', bills.trickleNoStatus),
      row('construct: steady (batches of 10), one status poll', bills.steadyWithStatus),
      row('construct: steady (batches of 10), no status poll', bills.steadyNoStatus),
      row(`construct: trickle, one status poll, S3 latency ${S3_LATENCY_MS.high} ms`, bills.trickleHighLatency),
      row('typical sample: getSignedUrl + PUT, no verification', bills.sample),
      row('GuardDuty Malware Protection for S3 alone (1 MiB objects)', bills.guardDuty),
    ],
    goals: [goal(COST_GOAL, headline.total, 'max', 13, ' $')],
    notes: [
      'Per upload: the sign request (HTTP API + signer Lambda), the PUT, S3\'s event to the verification queue, the event source\'s receive and delete and the verifier invocation (shared by a batch), the verifier\'s S3 calls as counted on the real handler (figure 7), its message to the notification queue; plus one status poll. The consumer\'s receives and deletes of the notification queue, the event source\'s empty long polls (a fixed monthly cost, not per upload), data transfer, CloudFront, storage and free tiers are not included.',
      `Billed durations: CPU measured on one core here divided by the function's CPU share (memory / ${MB_PER_VCPU} MB), plus each S3 call the function waits for at ${S3_LATENCY_MS.low} ms (AWS: "roughly 100–200 milliseconds"), rounded up to 1 ms.`,
      'Prices are written in bench/figures/cost-model.ts (LIST_PRICES) with their date and source pages; PutObjectTagging and ListObjectVersions are priced in the PUT/COPY/POST/LIST tier.',
    ],
    raw: { prices: LIST_PRICES, s3LatencyMs: S3_LATENCY_MS, signerMicros, verifier, bills },
  };
}
