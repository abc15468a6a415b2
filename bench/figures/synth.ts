/**
 * Figure 5 — synth cost: `cdk synth` of the example app (examples/) against the same app with one plain
 * `s3.Bucket` in place of the construct (bench/synth-plain/). Wall time of the whole CLI run (CLI start,
 * `npx tsx app.ts`, aws-cdk-lib, asset staging), median of alternating runs. The construct's Lambda is
 * prebundled, so there is no esbuild or Docker at synth.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './cold-start';
import { FigureOptions, FigureResult, goal, median } from '../lib/report';

export const SYNTH_APPS = {
  example: path.join(REPO_ROOT, 'examples'),
  plain: path.join(REPO_ROOT, 'bench', 'synth-plain'),
} as const;

interface Synth {
  readonly ms: number;
  readonly resources: number;
  readonly templateBytes: number;
}

/** `cdk synth --quiet -o <tmp>` in `dir` (the project's aws-cdk CLI; no notices, no version check: no network). */
export async function synth(dir: string): Promise<Synth> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'cdk-direct-upload-synth-'));
  try {
    const cdk = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
    const started = process.hrtime.bigint();
    const { status, stderr } = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(cdk, ['synth', '--quiet', '--no-notices', '-o', out], {
        cwd: dir,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true', NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ status: code, stderr: errors }));
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (status !== 0) throw new Error(`cdk synth in ${dir} failed (${status}): ${stderr}`);
    const template = readdirSync(out).find((f) => f.endsWith('.template.json'));
    if (!template) throw new Error(`cdk synth in ${dir} wrote no template`);
    const text = readFileSync(path.join(out, template), 'utf8');
    const resources = Object.keys((JSON.parse(text) as { Resources?: object }).Resources ?? {}).length;
    return { ms, resources, templateBytes: text.length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function runSynth(options: FigureOptions): Promise<FigureResult> {
  const runs = options.quick ? 1 : 5;
  options.log(`(5) synth: ${runs} alternating cdk synth runs of each app (after one warm-up run each)`);
  const example: Synth[] = [];
  const plain: Synth[] = [];
  if (options.quick) {
    // A smoke run: both at once (the times mean nothing then).
    const [e, p] = await Promise.all([synth(SYNTH_APPS.example), synth(SYNTH_APPS.plain)]);
    example.push(e);
    plain.push(p);
  } else {
    await synth(SYNTH_APPS.example);
    await synth(SYNTH_APPS.plain);
    for (let i = 0; i < runs; i++) {
      example.push(await synth(SYNTH_APPS.example));
      plain.push(await synth(SYNTH_APPS.plain));
    }
  }
  const exampleMs = median(example.map((s) => s.ms));
  const plainMs = median(plain.map((s) => s.ms));
  return {
    id: 5,
    title: 'Synth cost: cdk synth of the example app vs the same app with a plain s3.Bucket',
    rows: [
      { name: 'example app (DirectUploadBucket)', value: exampleMs, unit: 'ms', detail: `${example[0].resources} resources, template ${Math.round(example[0].templateBytes / 1024)} KB` },
      { name: 'same app, plain s3.Bucket', value: plainMs, unit: 'ms', detail: `${plain[0].resources} resources, template ${Math.round(plain[0].templateBytes / 1024)} KB` },
      { name: 'ratio', value: exampleMs / plainMs, unit: '×' },
    ],
    goals: [goal('synth time, construct / plain bucket', exampleMs / plainMs, 'max', 1.3, '×')],
    notes: [
      'Wall time of `cdk synth --quiet --no-notices -o <temp dir>` run with the project\'s aws-cdk CLI (node_modules/.bin/cdk, what `npx cdk` runs), in examples/ and in bench/synth-plain/; both cdk.json files run `npx tsx app.ts`. Median of alternating runs after a warm-up run of each.',
      'The example app imports the construct from its TypeScript source (tsx transpiles it); a consumer imports the compiled lib/.',
    ],
    raw: { runs, example, plain },
  };
}
