/**
 * What the Node contenders of figure 8 share: the generated file (one 1 MiB chunk repeated, never a
 * whole-file buffer) and the measurement (wall time, peak RSS and heap sampled every 50 ms), printed
 * as one JSON line for the figure, which runs each contender in a process of its own.
 */

export const CHUNK_BYTES = 1024 * 1024;

/** One 1 MiB chunk, the same bytes every time. */
export function chunk(): Buffer {
  return Buffer.alloc(CHUNK_BYTES, 0x5a);
}

/** What a contender process prints. */
export interface NodeUploadReport {
  readonly wallMs: number;
  readonly startRss: number;
  readonly peakRss: number;
  readonly peakHeap: number;
  /** The key the upload was stored under (the figure checks its size in S3). */
  readonly key: string;
}

/** Runs `upload` (which resolves with the stored key), then prints a {@link NodeUploadReport}. */
export function reportUpload(upload: () => Promise<string>): void {
  const startRss = process.memoryUsage().rss;
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  const started = process.hrtime.bigint();
  upload().then((key) => {
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    clearInterval(timer);
    sample();
    const report: NodeUploadReport = { wallMs, startRss, peakRss, peakHeap, key };
    process.stdout.write(JSON.stringify(report) + '\n');
  }).catch((err: unknown) => {
    clearInterval(timer);
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  });
}
