/**
 * Throughput of async operations on one core, measured **interleaved**: every contender runs for a
 * short slice in turn, round after round, and each contender's result is the median of its rounds.
 * Another engineer's job starting mid-run then slows every contender alike instead of one of them,
 * so the ratios (what the figures compare) stay meaningful on a shared machine.
 */
import { median } from './report';

export interface Contender {
  readonly name: string;
  /** One operation (awaited). */
  readonly run: () => Promise<unknown> | unknown;
}

export interface ThroughputOptions {
  /** Rounds (each contender once per round). */
  readonly rounds: number;
  /** Length of one contender's slice, in milliseconds. */
  readonly sliceMs: number;
  /** Operations run before measuring (JIT warm-up). */
  readonly warmupOps: number;
  /** Operations between two clock reads. */
  readonly batch?: number;
}

export interface Throughput {
  readonly name: string;
  /** Median over rounds, operations per second. */
  readonly opsPerSecond: number;
  /** Lowest and highest round. */
  readonly min: number;
  readonly max: number;
  /** Each round's rate. */
  readonly rounds: readonly number[];
}

export async function measureThroughput(contenders: readonly Contender[], options: ThroughputOptions): Promise<Throughput[]> {
  const batch = options.batch ?? 50;
  for (const c of contenders) {
    for (let i = 0; i < options.warmupOps; i++) await c.run();
  }
  const rates: number[][] = contenders.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order so no contender always runs right after the same one.
    const order = contenders.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const run = contenders[i].run;
      const sliceNs = options.sliceMs * 1e6;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      let ops = 0;
      while (elapsed < sliceNs) {
        for (let b = 0; b < batch; b++) await run();
        ops += batch;
        elapsed = Number(process.hrtime.bigint() - start);
      }
      rates[i].push(ops / (elapsed / 1e9));
    }
  }
  return contenders.map((c, i) => ({
    name: c.name,
    opsPerSecond: median(rates[i]),
    min: Math.min(...rates[i]),
    max: Math.max(...rates[i]),
    rounds: rates[i],
  }));
}
