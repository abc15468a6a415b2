/**
 * Smoke runs of every benchmark figure (bench/), so they do not rot: tiny iteration counts, and no
 * assertion on any timing. What is asserted is what does not depend on the machine: the figures run
 * end to end, produce finite numbers, and the facts behind them hold (the presigners sign the same
 * request, the direct flow moves no file bytes through the app, the signer answers every request).
 */
import { runColdStart } from '../../bench/figures/cold-start';
import { COST_GOAL, runCostModel } from '../../bench/figures/cost-model';
import { LARGE_FILE_GOAL, LARGE_FILE_SETTINGS, runLargeFile } from '../../bench/figures/large-file';
import { runLoadFigure } from '../../bench/figures/load';
import { FILE_SIZE, runServerCost, SERVER_COST_SETTINGS } from '../../bench/figures/server-cost';
import { runSigning, SIGNING_NAMES } from '../../bench/figures/signing';
import { runSynth } from '../../bench/figures/synth';
import { runTimeToReady, TIME_TO_READY_GOAL, TIME_TO_READY_SETTINGS, VerifierMeasurement } from '../../bench/figures/time-to-ready';
import { FigureOptions, FigureResult } from '../../bench/lib/report';

const quick: FigureOptions = { quick: true, log: () => undefined };

function expectWellFormed(result: FigureResult, id: number): void {
  expect(result.id).toBe(id);
  expect(result.rows.length).toBeGreaterThan(0);
  for (const r of result.rows) {
    expect({ row: r.name, finite: Number.isFinite(r.value) }).toEqual({ row: r.name, finite: true });
  }
  for (const g of result.goals) {
    expect({ goal: g.name, finite: Number.isFinite(g.measured) }).toEqual({ goal: g.name, finite: true });
  }
}

function row(result: FigureResult, name: string): number {
  const found = result.rows.find((r) => r.name === name);
  if (!found) throw new Error(`no row "${name}" in figure ${result.id}: ${result.rows.map((r) => r.name).join(', ')}`);
  return found.value;
}

describe('bench figures (quick smoke runs, no timing assertions)', () => {
  let signing: FigureResult;

  test('(1) signing: every contender runs, after agreeing on the same signature', async () => {
    // checkSameWork inside runSigning throws unless the signer, S3RequestPresigner and
    // @smithy/signature-v4 produce the same signature for one request.
    signing = await runSigning(quick);

    expectWellFormed(signing, 1);
    expect(signing.rows.map((r) => r.name)).toEqual(Object.values(SIGNING_NAMES));
  });

  test('(2) cold start: both bundles build, load in a fresh process and answer 200', async () => {
    const result = await runColdStart(quick);

    expectWellFormed(result, 2);
    // Sizes are not timings: the signer bundle carries no S3 client.
    expect(row(result, 'signer bundle (minified)')).toBeLessThan(row(result, 'full-S3-client bundle (minified)'));
  });

  test('(3) server cost: both flows store the file, sparse and at load; only the traditional app receives its bytes', async () => {
    const result = await runServerCost(quick);

    expectWellFormed(result, 3);
    expect(row(result, 'direct: bytes received by the app')).toBeLessThan(8 * 1024);
    expect(row(result, 'traditional: bytes received by the app')).toBeGreaterThan(FILE_SIZE);
    const raw = result.raw as Record<'sparse' | 'atLoad', Record<'direct' | 'traditional', { uploads: number; clients: number }>> & { atRate: { requests: number; errors: number } };
    // Every scenario ran with the clients it says, and the paced signer answered every request.
    expect(raw.sparse.direct.clients).toBe(1);
    expect(raw.atLoad.traditional.clients).toBe(SERVER_COST_SETTINGS.quick.atLoad.clients);
    expect(raw.atLoad.direct.uploads).toBe(SERVER_COST_SETTINGS.quick.atLoad.clients * SERVER_COST_SETTINGS.quick.atLoad.direct);
    expect(raw.atRate.requests).toBeGreaterThan(0);
    expect(raw.atRate.errors).toBe(0);
  });

  test('(4) load: the signer answers every request with 200, saturated and paced', async () => {
    const result = await runLoadFigure(quick);

    expectWellFormed(result, 4);
    expect(row(result, 'saturated: errors')).toBe(0);
    expect(row(result, 'saturated: throughput')).toBeGreaterThan(0);
    expect(row(result, 'paced 100 req/s: errors')).toBe(0);
    expect(row(result, 'paced 100 req/s: throughput')).toBeGreaterThan(0);
  });

  test('(5) synth: both apps synthesize; the construct adds resources', async () => {
    const result = await runSynth(quick);

    expectWellFormed(result, 5);
    const raw = result.raw as { example: Array<{ resources: number }>; plain: Array<{ resources: number }> };
    expect(raw.example[0].resources).toBeGreaterThan(raw.plain[0].resources);
  });

  let timeToReady: FigureResult;

  test('(7) time to ready: every upload is served by the CDN, at once without verification, after the verifier with it', async () => {
    timeToReady = await runTimeToReady(quick);

    expectWellFormed(timeToReady, 7);
    expect(timeToReady.goals.map((g) => g.name)).toEqual([TIME_TO_READY_GOAL]);
    const raw = timeToReady.raw as {
      on: { uploads: number; meanPolls: number };
      off: { uploads: number; maxPolls: number };
      verifier: VerifierMeasurement;
    };
    // Every upload of both modes reached a 200 with its own bytes (timedUpload throws otherwise).
    expect([raw.on.uploads, raw.off.uploads]).toEqual([TIME_TO_READY_SETTINGS.quick.uploads, TIME_TO_READY_SETTINGS.quick.uploads]);
    // Without the gate the first poll is served; with it, a poll waits for the verifier's tag.
    expect(raw.off.maxPolls).toBe(1);
    expect(raw.on.meanPolls).toBeGreaterThan(1);
    // The real handler, a versioned bucket, a complete JPEG: two ranged GETs (head, tail), one tag read, one tag write, one message.
    expect(raw.verifier.outcomes).toEqual({ verified: raw.verifier.uploads });
    expect(raw.verifier.callsPerUpload).toEqual({
      getRanged: 2, getObjectTagging: 1, putObjectTagging: 1, headObject: 0, deleteObject: 0, sqsSend: 1,
    });
  });

  test('(6) cost model: priced from figures 1 and 7, with every request of the verified path', async () => {
    const result = await runCostModel(quick, [signing, timeToReady]);

    expectWellFormed(result, 6);
    expect(result.goals.map((g) => g.name)).toEqual([COST_GOAL]);
    const raw = result.raw as { bills: Record<string, { total: number; lines: Array<{ item: string }> }> };
    // Verification costs more than the sample's bill, and GuardDuty alone more than either.
    expect(raw.bills.headline.total).toBeGreaterThan(raw.bills.sample.total);
    expect(raw.bills.guardDuty.total).toBeGreaterThan(raw.bills.headline.total);
    expect(raw.bills.headline.lines.map((l) => l.item)).toEqual(expect.arrayContaining([
      expect.stringContaining('PutObjectTagging'), expect.stringContaining('status poll: S3 GetObjectTagging'), expect.stringContaining('DeleteMessageBatch'),
    ]));
  });

  test('(8) large-file throughput: every contender stores the whole file; the sweep picks the typed client\'s settings', async () => {
    const result = await runLargeFile(quick);

    expectWellFormed(result, 8);
    expect(result.goals.map((g) => g.name)).toEqual([LARGE_FILE_GOAL]);
    const raw = result.raw as {
      chosen: { partSizeMiB: number; concurrency: number };
      sweep: unknown[];
      typed: { size: number; partSizeMiB: number; peakRss: number };
    };
    // Each run checked S3's stored size against the file (the figure throws otherwise).
    expect(raw.typed.size).toBe(LARGE_FILE_SETTINGS.quick.size);
    expect(raw.sweep).toHaveLength(LARGE_FILE_SETTINGS.quick.sweep.length);
    expect(LARGE_FILE_SETTINGS.quick.sweep).toContainEqual([raw.chosen.partSizeMiB, raw.chosen.concurrency]);
    expect(raw.typed.partSizeMiB).toBe(raw.chosen.partSizeMiB);
    expect(raw.typed.peakRss).toBeGreaterThan(0);
  });
});
