/**
 * Figure 2 — cold start: the signer bundle's size and its module initialisation time (median of fresh
 * processes) against a bundle that loads the full S3 client (`getSignedUrl` + `PutObjectCommand`, as
 * the usual samples write it).
 *
 * Both bundles are built here, into a temporary directory, with exactly the esbuild command of the
 * project's `bundle:signer/signer.lambda` task (read from .projen/tasks.json), so the figure measures
 * what ships. Each fresh `node` process requires the bundle with the signer's environment set (the
 * configuration is read and the presigner built at module scope, as in Lambda), then handles one request.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchEnv, benchEvent } from '../lib/fixtures';
import { FigureOptions, FigureResult, goal, median, percentile } from '../lib/report';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BUNDLE_TASK = 'bundle:signer/signer.lambda';
const SDK_ENTRY = 'bench/contenders/sdk-signer-handler.ts';

/** The esbuild arguments of the project's signer bundle task, with the entry point and output replaced. */
export function bundleArgs(outfile: string, entry?: string): string[] {
  const tasks = JSON.parse(readFileSync(path.join(REPO_ROOT, '.projen', 'tasks.json'), 'utf8')) as {
    tasks: Record<string, { steps?: Array<{ execArgs?: string[] }> }>;
  };
  const step = tasks.tasks[BUNDLE_TASK]?.steps?.find((s) => s.execArgs?.[0] === 'esbuild');
  if (!step?.execArgs) throw new Error(`no esbuild step in the ${BUNDLE_TASK} task of .projen/tasks.json`);
  const originalEntry = step.execArgs.find((a) => a.endsWith('.ts') && !a.startsWith('-'));
  return step.execArgs.slice(1)
    // The SDK contender bundles the SDK it signs with (the point of the comparison); the project's
    // signer keeps `@aws-sdk/*` external (only its multipart path loads it, from the runtime).
    .filter((arg) => !(entry && arg.startsWith('--external:@aws-sdk/')))
    .map((arg) => {
      if (arg.startsWith('--outfile=')) return `--outfile=${outfile}`;
      if (entry && arg === originalEntry) return entry;
      return arg;
    });
}

/** Runs esbuild (the project's) and returns the bundle's size in bytes. */
export function buildBundle(outfile: string, entry?: string): number {
  const esbuild = path.join(REPO_ROOT, 'node_modules', '.bin', 'esbuild');
  const result = spawnSync(esbuild, [...bundleArgs(outfile, entry), '--log-level=warning'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`esbuild failed: ${result.stderr}`);
  return statSync(outfile).size;
}

/** Requires the bundle in a fresh process and handles one request; returns both times in ms. */
const PROBE = `
const t0 = process.hrtime.bigint();
const m = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
Promise.resolve(m.handler(JSON.parse(process.env.BENCH_EVENT))).then((r) => {
  const t2 = process.hrtime.bigint();
  process.stdout.write(JSON.stringify({ initMs: Number(t1 - t0) / 1e6, firstMs: Number(t2 - t1) / 1e6, status: r.statusCode }));
});
`;

interface Probe {
  readonly initMs: number;
  readonly firstMs: number;
  readonly status: number;
}

function probe(bundle: string): Probe {
  const env = {
    PATH: process.env.PATH ?? '',
    ...benchEnv('iam'),
    BENCH_BUNDLE: bundle,
    BENCH_EVENT: JSON.stringify(benchEvent('iam')),
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    NODE_NO_WARNINGS: '1',
  };
  const result = spawnSync(process.execPath, ['-e', PROBE], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`probe of ${bundle} failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as Probe;
  if (parsed.status !== 200) throw new Error(`${bundle} answered ${parsed.status} on its first request`);
  return parsed;
}

export async function runColdStart(options: FigureOptions): Promise<FigureResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-direct-upload-bench-'));
  try {
    const signerBundle = path.join(dir, 'signer', 'index.js');
    const sdkBundle = path.join(dir, 'sdk', 'index.js');
    const signerBytes = buildBundle(signerBundle);
    const sdkBytes = buildBundle(sdkBundle, SDK_ENTRY);

    const processes = options.quick ? 1 : 15;
    options.log(`(2) cold start: ${processes} fresh processes per bundle, alternating`);
    const signer: Probe[] = [];
    const sdk: Probe[] = [];
    for (let i = 0; i < processes; i++) {
      signer.push(probe(signerBundle));
      sdk.push(probe(sdkBundle));
    }
    const summary = (probes: Probe[]) => ({
      initMs: median(probes.map((p) => p.initMs)),
      initP90Ms: percentile(probes.map((p) => p.initMs), 90),
      firstMs: median(probes.map((p) => p.firstMs)),
    });
    const ours = summary(signer);
    const theirs = summary(sdk);
    const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

    return {
      id: 2,
      title: 'Cold start: bundle size and module initialisation (median of fresh processes)',
      rows: [
        { name: 'signer bundle (minified)', value: kib(signerBytes), unit: 'KB' },
        { name: 'full-S3-client bundle (minified)', value: kib(sdkBytes), unit: 'KB' },
        { name: 'signer: require (init)', value: ours.initMs, unit: 'ms', detail: `p90 ${ours.initP90Ms.toFixed(1)} ms; first request ${ours.firstMs.toFixed(2)} ms` },
        { name: 'full S3 client: require (init)', value: theirs.initMs, unit: 'ms', detail: `p90 ${theirs.initP90Ms.toFixed(1)} ms; first request ${theirs.firstMs.toFixed(2)} ms` },
      ],
      goals: [
        goal('signer bundle size', kib(signerBytes), 'max', 60, ' KB'),
        goal('signer init (median)', ours.initMs, 'max', 10, ' ms'),
      ],
      notes: [
        `Bundles built with the ${BUNDLE_TASK} task's esbuild command (target node22, minified, everything bundled); KB = 1,024 bytes.`,
        `${processes} fresh node processes per bundle, alternating; init = time to require the bundle with the signer's environment set (configuration read, presigner built); first request = the first handler call after it.`,
        'Measured with the local Node, not the Lambda runtime: compare the two bundles, not the absolute numbers.',
      ],
      raw: { signerBytes, sdkBytes, processes, signer, sdk },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
