/**
 * What every figure returns, and the machine facts reported with every result.
 * Benchmarks report; they never assert timings (the machine is shared and noisy).
 */
import * as os from 'node:os';

/** One measured line of a figure. */
export interface Row {
  /** What was measured, e.g. `signer handler (JWT caller)`. */
  readonly name: string;
  /** The headline number. */
  readonly value: number;
  /** Its unit, e.g. `ops/s`, `KB`, `ms`. */
  readonly unit: string;
  /** Secondary numbers (p99, spread, ...), shown after the value. */
  readonly detail?: string;
}

/** A goal of the issue, evaluated on this run (reported, never asserted). */
export interface Goal {
  /** e.g. `signer ≥ 10× getSignedUrl`. */
  readonly name: string;
  /** The measured value in the goal's terms, e.g. 14.2 (for "×"). */
  readonly measured: number;
  /** The target, in the same terms. */
  readonly target: number;
  /** `min`: measured must be ≥ target; `max`: ≤ target. */
  readonly kind: 'min' | 'max';
  readonly unit: string;
  readonly met: boolean;
}

/** A figure's result. */
export interface FigureResult {
  /** 1 to 6, as numbered in the issue. */
  readonly id: number;
  readonly title: string;
  readonly rows: readonly Row[];
  readonly goals: readonly Goal[];
  /** How it was measured, in a sentence or two each. */
  readonly notes: readonly string[];
  /** Raw numbers for results.json (samples, parameters). */
  readonly raw?: unknown;
}

/** Options every figure accepts. */
export interface FigureOptions {
  /** Tiny iteration counts: a smoke run that proves the benchmark works, with meaningless numbers. */
  readonly quick: boolean;
  /** Progress lines (to stderr). */
  readonly log: (line: string) => void;
}

export function goal(name: string, measured: number, kind: 'min' | 'max', target: number, unit: string): Goal {
  const met = kind === 'min' ? measured >= target : measured <= target;
  return { name, measured, target, kind, unit, met };
}

/** Machine, Node version and date: reported with every result. */
export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  /** 1-minute load average at the start: how busy the (shared) machine was. */
  readonly loadAverage1m: number;
}

export function machineInfo(now: Date = new Date()): MachineInfo {
  const cpus = os.cpus();
  return {
    date: now.toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** `12,345` / `1.23` / `0.0123`: readable numbers for tables. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** The results as a plain-text table (what `npm run bench` prints). */
export function formatTable(machine: MachineInfo, figures: readonly FigureResult[]): string {
  const lines: string[] = [];
  lines.push(`cdk-direct-upload benchmarks — ${machine.date}`);
  lines.push(`Node ${machine.node}, ${machine.platform} ${machine.arch}, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, load ${machine.loadAverage1m} at start`);
  for (const figure of figures) {
    lines.push('');
    lines.push(`(${figure.id}) ${figure.title}`);
    const width = Math.max(...figure.rows.map((r) => r.name.length), 10);
    for (const row of figure.rows) {
      const value = `${formatNumber(row.value)} ${row.unit}`;
      lines.push(`    ${row.name.padEnd(width)}  ${value.padStart(18)}${row.detail ? `  ${row.detail}` : ''}`);
    }
    for (const g of figure.goals) {
      const op = g.kind === 'min' ? '≥' : '≤';
      lines.push(`    goal: ${g.name}: ${formatNumber(g.measured)}${g.unit} (target ${op} ${formatNumber(g.target)}${g.unit}) ${g.met ? 'met' : 'MISSED'}`);
    }
  }
  return lines.join('\n');
}
