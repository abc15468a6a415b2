/**
 * Smoke runs of every benchmark figure (bench/), so they do not rot: tiny iteration counts, and no
 * assertion on any timing. What is asserted is what does not depend on the machine: the figures run
 * end to end, produce finite numbers, and the facts behind them hold (the presigners sign the same
 * request, the direct flow moves no file bytes through the app, the signer answers every request).
 */
import { runColdStart } from '../../bench/figures/cold-start';
import { runCostModel } from '../../bench/figures/cost-model';
import { runLoadFigure } from '../../bench/figures/load';
import { FILE_SIZE, runServerCost, SERVER_COST_SETTINGS } from '../../bench/figures/server-cost';
import { runSigning, SIGNING_NAMES } from '../../bench/figures/signing';
import { runSynth } from '../../bench/figures/synth';
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

  test('(6) cost model: priced from figure 1\'s measurements', async () => {
    const result = await runCostModel(quick, [signing]);

    expectWellFormed(result, 6);
    expect(result.goals).toEqual([]);
  });
});
