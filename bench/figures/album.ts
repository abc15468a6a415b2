/**
 * Figure 9 — requests per 100-file album, batch: signing a 100-photo album with one batch request
 * (`POST /uploads` `{ files: [...] }`) against 100 single requests. Counts signer requests (HTTP API
 * requests and Lambda invocations) and prices them with figure 6's list prices: HTTP API and Lambda
 * requests, plus billed duration from timing the real handler here (one batch of 100 entries against
 * 100 single calls, the median of several rounds), divided by the function's CPU share and rounded up
 * to Lambda's 1 ms per invocation. The S3 PUTs and notifications are the same 100 either way and left out.
 */
import { performance } from 'node:perf_hooks';
import { billedMs, LIST_PRICES, MB_PER_VCPU } from './cost-model';
import { createSignerHandlerFromEnv } from '../../src/signer/handler';
import { BENCH_UPLOAD_REQUEST, benchEnv, benchEvent } from '../lib/fixtures';
import { FigureOptions, FigureResult, goal, median } from '../lib/report';

/** Files per album. */
export const ALBUM_FILES = 100;
/** The signer's deployed size (UploadSigner's default): arm64, 256 MB. */
const MEMORY_MB = 256;

/** Dollars for the signer requests of one million albums, given the requests per album and the time of each. */
export interface AlbumCost {
  readonly requestsPerAlbum: number;
  /** Modelled duration of one invocation in Lambda, and what is billed (1 ms granularity). */
  readonly durationMs: number;
  readonly billedMs: number;
  readonly dollarsPerMillionAlbums: number;
}

/**
 * The signer's bill per million albums: `requestsPerAlbum` invocations of `msOnOneCore` each (measured on one
 * full core), on an arm64 function of `memoryMb`.
 */
export function albumCost(requestsPerAlbum: number, msOnOneCore: number, memoryMb = MEMORY_MB, prices = LIST_PRICES): AlbumCost {
  const one = billedMs(memoryMb, msOnOneCore * 1000);
  const duration = 1e6 * (memoryMb / 1024) * (one.billedMs / 1000) * prices.lambdaArm64PerGbSecond;
  const perRequest = prices.httpApiPerMillionRequests + prices.lambdaPerMillionRequests + duration; // per million requests
  return { requestsPerAlbum, durationMs: one.durationMs, billedMs: one.billedMs, dollarsPerMillionAlbums: requestsPerAlbum * perRequest };
}

/** Milliseconds (one core) to sign an album as one batch, and as 100 single requests (per request). */
export interface AlbumTiming {
  readonly batchMs: number;
  readonly singleMs: number;
  readonly batchBytes: number;
  readonly batchRequests: number;
  readonly singleRequests: number;
}

export async function timeAlbum(rounds: number): Promise<AlbumTiming> {
  const handler = createSignerHandlerFromEnv(benchEnv('iam'), { log: () => undefined });
  const files = Array.from({ length: ALBUM_FILES }, (_, i) => ({ ...BENCH_UPLOAD_REQUEST, filename: `album ${i}.jpg` }));
  const batchEvent = benchEvent('iam', { files });
  const singleEvents = files.map((f) => benchEvent('iam', f));
  const batch: number[] = [];
  const single: number[] = [];
  let batchBytes = 0;
  // Signer requests that signed the whole album, counted (the last round's).
  let batchRequests = 0;
  let singleRequests = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const answer = await handler(batchEvent);
    batch.push(performance.now() - t);
    batchRequests = 1;
    const signed = (JSON.parse(String(answer.body)) as { files?: Array<{ ok: boolean }> }).files?.filter((f) => f.ok).length;
    if (answer.statusCode !== 200 || signed !== ALBUM_FILES) throw new Error(`the batch was answered ${answer.statusCode} with ${signed} signed`);
    batchBytes = Buffer.byteLength(String(answer.body));
    singleRequests = 0;
    t = performance.now();
    for (const e of singleEvents) {
      const res = await handler(e);
      singleRequests++;
      if (res.statusCode !== 200) throw new Error(`a single request was answered ${res.statusCode}`);
    }
    single.push((performance.now() - t) / ALBUM_FILES);
  }
  return { batchMs: median(batch), singleMs: median(single), batchBytes, batchRequests, singleRequests };
}

export async function runAlbum(options: FigureOptions): Promise<FigureResult> {
  const rounds = options.quick ? 2 : 31;
  options.log(`(9) album: ${rounds} rounds of one ${ALBUM_FILES}-entry batch and ${ALBUM_FILES} single requests`);
  const { batchMs, singleMs, batchBytes, batchRequests, singleRequests } = await timeAlbum(rounds);
  const batched = albumCost(batchRequests, batchMs);
  const oneByOne = albumCost(singleRequests, singleMs);
  const row = (name: string, c: AlbumCost, measuredMs: number) => ({
    name,
    value: c.dollarsPerMillionAlbums,
    unit: '$ / M albums',
    detail: `${c.requestsPerAlbum} signer request(s) per album; ${measuredMs.toFixed(3)} ms each on one core here → ${c.durationMs.toFixed(2)} ms in Lambda → ${c.billedMs} ms billed`,
  });
  return {
    id: 9,
    title: `Requests per ${ALBUM_FILES}-file album, batch: signer requests and their bill, batch vs one by one`,
    rows: [
      { name: 'batch: signer requests per album', value: batchRequests, unit: 'requests' },
      { name: 'one by one: signer requests per album', value: singleRequests, unit: 'requests' },
      row('batch: signer bill', batched, batchMs),
      row('one by one: signer bill', oneByOne, singleMs),
      { name: 'one by one / batch, signer bill', value: oneByOne.dollarsPerMillionAlbums / batched.dollarsPerMillionAlbums, unit: '×' },
      { name: `batch answer size (${ALBUM_FILES} PUT entries)`, value: batchBytes / 1024, unit: 'KB' },
    ],
    goals: [goal(`requests per ${ALBUM_FILES}-file album, batch`, batchRequests, 'max', 1, 'signer requests')],
    notes: [
      `Signer side only: HTTP API request + Lambda request + billed duration (arm64, ${MEMORY_MB} MB: the measured one-core time / (${MEMORY_MB} / ${MB_PER_VCPU}), rounded up to 1 ms per invocation). The 100 S3 PUTs and notifications cost the same either way.`,
      'The batch signs its entries one after the other through the same single-upload path, so its duration is about 100 single signings; the saving is the 99 requests and the 99 rounded-up milliseconds.',
      `Prices: figure 6's LIST_PRICES (as of ${LIST_PRICES.asOf}). Reported, never asserted.`,
    ],
    raw: { rounds, batchMs, singleMs, batched, oneByOne, batchBytes },
  };
}
