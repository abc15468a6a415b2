/**
 * `npm run bench` — runs every figure of the benchmark issue in one run, prints a table and writes
 * `bench/results.json` (with machine, Node version and date). Reports; never asserts timings.
 *
 *   npx tsx bench/run.ts                 # all figures (~6 minutes)
 *   npx tsx bench/run.ts --only 1,2      # some figures
 *   npx tsx bench/run.ts --quick         # smoke run: tiny iteration counts, meaningless numbers
 *   npx tsx bench/run.ts --out FILE      # write the results elsewhere
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runAlbum } from './figures/album';
import { runColdStart } from './figures/cold-start';
import { runCostModel } from './figures/cost-model';
import { runLargeFile } from './figures/large-file';
import { runLoadFigure } from './figures/load';
import { runServerCost } from './figures/server-cost';
import { runSigning } from './figures/signing';
import { runSynth } from './figures/synth';
import { runTimeToReady } from './figures/time-to-ready';
import { FigureOptions, FigureResult, formatTable, machineInfo } from './lib/report';

type Figure = (options: FigureOptions, previous: readonly FigureResult[]) => Promise<FigureResult>;

/** The figures. Figure 6 prices what figures 1 (the signer) and 7 (the verifier) measure. */
export const FIGURES: Readonly<Record<number, Figure>> = {
  1: (o) => runSigning(o),
  2: (o) => runColdStart(o),
  3: (o) => runServerCost(o),
  4: (o) => runLoadFigure(o),
  5: (o) => runSynth(o),
  6: (o, previous) => runCostModel(o, previous),
  7: (o) => runTimeToReady(o),
  8: (o) => runLargeFile(o),
  9: (o) => runAlbum(o),
};

/** The order of a full run: figure 7 before figure 6, which prices its verifier measurement. */
export const DEFAULT_ORDER: readonly number[] = [1, 2, 3, 4, 5, 7, 6, 8, 9];

export interface RunArgs {
  readonly quick: boolean;
  readonly only: readonly number[];
  readonly out: string;
}

export function parseArgs(argv: readonly string[]): RunArgs {
  let quick = false;
  let only = [...DEFAULT_ORDER];
  let out = path.join(__dirname, 'results.json');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      quick = true;
    } else if (arg === '--only') {
      only = (argv[++i] ?? '').split(',').map(Number);
      const unknown = only.filter((n) => !(n in FIGURES));
      if (unknown.length > 0 || only.length === 0) throw new Error(`--only takes figure numbers ${Object.keys(FIGURES).join(',')} separated by commas (got "${argv[i]}")`);
    } else if (arg === '--out') {
      out = path.resolve(argv[++i] ?? '');
    } else {
      throw new Error(`unknown argument "${arg}"; use --quick, --only 1,2,... or --out FILE`);
    }
  }
  return { quick, only, out };
}

export async function runBenchmarks(
  args: RunArgs,
  log: (line: string) => void = (l) => console.error(l),
): Promise<{ machine: ReturnType<typeof machineInfo>; figures: FigureResult[] }> {
  const machine = machineInfo();
  const figures: FigureResult[] = [];
  for (const id of args.only) {
    const started = Date.now();
    figures.push(await FIGURES[id]({ quick: args.quick, log }, figures));
    log(`(${id}) done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { machine: { ...machine, loadAverage1mAtEnd: machineInfo().loadAverage1m } as typeof machine, figures };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { machine, figures } = await runBenchmarks(args);
  const results = {
    machine,
    quick: args.quick,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    figures,
  };
  writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
  console.log(formatTable(machine, figures));
  console.log(`\nWrote ${path.relative(process.cwd(), args.out)} (${results.durationSeconds} s).`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  });
}
