/**
 * Figure 6 — cost model: dollars per million uploads, for the construct's signer (arm64, 256 MB, the
 * handler's measured time) and for a typical sample (x86, 128 MB, SDK getSignedUrl's measured time),
 * each with the same HTTP API, S3 PUT and SQS notification. Computed from public list prices written
 * below with their date. Reported, never asserted: prices change, and this machine is not a Lambda.
 */
import { runSigning, SIGNING_NAMES } from './signing';
import { FigureOptions, FigureResult } from '../lib/report';

/**
 * AWS list prices, us-east-1, as known to the author in 2025 (not fetched at run time; check
 * https://aws.amazon.com/pricing before relying on them). Free tiers ignored.
 */
export const LIST_PRICES = {
  asOf: '2025',
  /** API Gateway HTTP API, per million requests (first 300 million per month). */
  httpApiPerMillionRequests: 1.0,
  /** Lambda requests, per million. */
  lambdaPerMillionRequests: 0.2,
  /** Lambda duration, per GB-second. */
  lambdaArm64PerGbSecond: 0.0000133334,
  lambdaX86PerGbSecond: 0.0000166667,
  /** S3 Standard PUT/COPY/POST/LIST, per 1,000 requests. */
  s3PutPerThousand: 0.005,
  /** SQS standard queue, per million requests (after the free tier). */
  sqsPerMillionRequests: 0.4,
} as const;

/** Lambda gives a function one full vCPU at 1,769 MB, proportionally less below. */
export const MB_PER_VCPU = 1769;

export interface SignerProfile {
  readonly name: string;
  readonly architecture: 'arm64' | 'x86_64';
  readonly memoryMb: number;
  /** Time of one signing on one full core, microseconds (measured by figure 1). */
  readonly microsPerUploadOnOneCore: number;
}

export interface UploadCost {
  readonly profile: SignerProfile;
  /** Modelled duration per invocation and what Lambda bills (rounded up to 1 ms). */
  readonly durationMs: number;
  readonly billedMs: number;
  /** Dollars per million uploads. */
  readonly httpApi: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly s3Put: number;
  readonly sqs: number;
  readonly total: number;
}

/** Dollars per million uploads for a signer profile (one HTTP API request, one invocation, one PUT, one SQS message). */
export function costPerMillionUploads(profile: SignerProfile, prices = LIST_PRICES): UploadCost {
  const cpuShare = Math.min(1, profile.memoryMb / MB_PER_VCPU);
  const durationMs = profile.microsPerUploadOnOneCore / 1000 / cpuShare;
  const billedMs = Math.max(1, Math.ceil(durationMs));
  const gbSeconds = (profile.memoryMb / 1024) * (billedMs / 1000);
  const perGbSecond = profile.architecture === 'arm64' ? prices.lambdaArm64PerGbSecond : prices.lambdaX86PerGbSecond;
  const httpApi = prices.httpApiPerMillionRequests;
  const lambdaRequests = prices.lambdaPerMillionRequests;
  const lambdaDuration = 1e6 * gbSeconds * perGbSecond;
  const s3Put = prices.s3PutPerThousand * 1000;
  const sqs = prices.sqsPerMillionRequests;
  const total = httpApi + lambdaRequests + lambdaDuration + s3Put + sqs;
  return { profile, durationMs, billedMs, httpApi, lambdaRequests, lambdaDuration, s3Put, sqs, total };
}

export async function runCostModel(options: FigureOptions, previous: readonly FigureResult[] = []): Promise<FigureResult> {
  let signing = previous.find((f) => f.id === 1);
  if (!signing) {
    options.log('(6) cost model: figure 1 not in this run, measuring signing first');
    signing = await runSigning(options);
  }
  const rate = (name: string) => signing?.rows.find((r) => r.name === name)?.value ?? NaN;
  const ours = costPerMillionUploads({
    name: 'this construct: arm64, 256 MB, signer handler',
    architecture: 'arm64',
    memoryMb: 256,
    microsPerUploadOnOneCore: 1e6 / rate(SIGNING_NAMES.handlerIam),
  });
  const sample = costPerMillionUploads({
    name: 'typical sample: x86, 128 MB, getSignedUrl',
    architecture: 'x86_64',
    memoryMb: 128,
    microsPerUploadOnOneCore: 1e6 / rate(SIGNING_NAMES.getSignedUrl),
  });
  const row = (c: UploadCost) => ({
    name: c.profile.name,
    value: c.total,
    unit: '$ / M uploads',
    detail: `HTTP API ${c.httpApi.toFixed(2)} + Lambda requests ${c.lambdaRequests.toFixed(2)} + Lambda duration ${c.lambdaDuration.toFixed(3)} `
      + `(${c.durationMs.toFixed(3)} ms → ${c.billedMs} ms billed) + S3 PUT ${c.s3Put.toFixed(2)} + SQS ${c.sqs.toFixed(2)}`,
  });
  return {
    id: 6,
    title: `Cost model: dollars per million uploads (us-east-1 list prices as of ${LIST_PRICES.asOf}, as known to the author, not fetched)`,
    rows: [
      row(ours),
      row(sample),
      { name: 'Lambda duration, sample / this construct', value: sample.lambdaDuration / ours.lambdaDuration, unit: '×' },
    ],
    goals: [],
    notes: [
      'Per upload: one HTTP API request, one Lambda invocation, one S3 PUT, one SQS message (the ObjectCreated notification; the consumer\'s receives and deletes are extra and the same either way). Transfer Acceleration, data transfer, CloudFront and storage are not included.',
      `Lambda duration = the time measured on one core here (figure 1) divided by the function's CPU share (memory / ${MB_PER_VCPU} MB), rounded up to Lambda's 1 ms billing granularity; Graviton and this machine's cores are assumed equally fast; cold starts (billed init) are not included.`,
      'Prices are written in bench/figures/cost-model.ts (LIST_PRICES) with their date; report, do not assert.',
    ],
    raw: { prices: LIST_PRICES, ours, sample },
  };
}
