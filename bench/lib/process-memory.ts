/**
 * Peak memory of a group of processes (Linux `/proc`): the descendants of a process whose command name
 * matches, sampled on a timer. Chromium runs a browser, a renderer per page, a network service and a GPU
 * process. Their proportional set size (PSS: each shared page split among the processes sharing it) is
 * summed, so shared libraries count once; the largest single process's RSS is reported too.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid and command name of every process, by pid. */
function processTable(): Map<number, { ppid: number; comm: string }> {
  const table = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // `pid (comm) state ppid …`; comm may contain spaces and parentheses: take the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      table.set(Number(entry), { ppid, comm });
    } catch {
      // the process ended while the table was read
    }
  }
  return table;
}

/** Descendants of `root` whose command name matches `comm`. */
export function descendants(root: number, comm: RegExp): number[] {
  const table = processTable();
  const out: number[] = [];
  for (const [pid, info] of table) {
    if (!comm.test(info.comm)) continue;
    for (let p = info.ppid, hops = 0; p > 1 && hops < 64; p = table.get(p)?.ppid ?? 0, hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Resident set size of a process in bytes (0 once it has ended). */
export function rssBytes(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size of a process in bytes (0 once it has ended). */
export function pssBytes(pid: number): number {
  try {
    const kb = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface MemoryPeak {
  /** The group's PSS summed, in the first sample (before the work), bytes. */
  readonly startPssSum: number;
  /** Highest sum of the group's PSS in one sample, bytes. */
  readonly peakPssSum: number;
  /** Highest RSS of one process of the group, bytes. */
  readonly peakRssSingle: number;
  /** Most processes seen in one sample. */
  readonly processes: number;
  readonly samples: number;
}

/** Samples the group every `intervalMs` until `stop()`, which returns the peaks. */
export function sampleGroupMemory(root: number, comm: RegExp, intervalMs = 100): { stop(): MemoryPeak } {
  let startPssSum = -1;
  let peakPssSum = 0;
  let peakRssSingle = 0;
  let processes = 0;
  let samples = 0;
  const sample = () => {
    const pids = descendants(root, comm);
    const pss = pids.map(pssBytes).reduce((a, b) => a + b, 0);
    if (startPssSum < 0) startPssSum = pss;
    peakPssSum = Math.max(peakPssSum, pss);
    peakRssSingle = Math.max(peakRssSingle, ...pids.map(rssBytes), 0);
    processes = Math.max(processes, pids.length);
    samples++;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { startPssSum, peakPssSum, peakRssSingle, processes, samples };
    },
  };
}
