/**
 * Figure 8 — large-file throughput: one 1 GiB upload to the local S3 stand-in per contender, in one run:
 * - the typed client (`cdk-direct-upload/client` `uploadFile`, multipart through the signer) in headless
 *   Chromium, with the part size (the construct's `partSize`, which the signer's plan carries) and the
 *   client's `concurrency` chosen from a measured sweep first;
 * - real Uppy 6 (`@uppy/core` + `@uppy/aws-s3`, multipart, through `uppySigner()` and `/uppy/sign`) in
 *   headless Chromium;
 * - `@aws-sdk/lib-storage` `Upload` in Node (its own process), with the S3 stand-in's credentials:
 *   at its defaults, and at the typed client's chosen part size and concurrency.
 * Each run gets a fresh local stack (no verification: this is about moving bytes). The browsers' file is
 * a Blob assembled from one 1 MiB Blob repeated (Chromium keeps references to the one chunk, not 1 GiB);
 * Node's is a stream repeating one 1 MiB buffer. Peak RSS of every Chromium process (summed) or of the
 * Node process, and the JS heap (CDP `Performance.getMetrics` in the page; `heapUsed` in Node), sampled.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, CDPSession } from 'playwright-core';
import { startLocalStack, LocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';
import { bundleForBrowser, launchChromium, servePage } from '../../test/local/helpers';
import type { NodeUploadReport } from '../contenders/node-upload';
import { sampleGroupMemory } from '../lib/process-memory';
import { FigureOptions, FigureResult, formatNumber, goal } from '../lib/report';
import { runTsxScript } from '../lib/tsx-process';

const MIB = 1024 * 1024;
const USER = 'alice';
const CONTENT_TYPE = 'video/mp4';

/** The goal's name, as issue 15 words it. */
export const LARGE_FILE_GOAL = 'large-file throughput / best peer';

export interface LargeFileSettings {
  /** The file every contender uploads. */
  readonly size: number;
  /** Each sweep point uploads this much. */
  readonly sweepSize: number;
  /** Typed client's (part size MiB, concurrency) points. */
  readonly sweep: ReadonlyArray<readonly [number, number]>;
  /** Rounds of the full-size runs (contenders alternating); each contender's best round is reported. */
  readonly rounds: number;
}

export const LARGE_FILE_SETTINGS: Readonly<Record<'full' | 'quick', LargeFileSettings>> = {
  full: {
    size: 1024 * MIB,
    sweepSize: 256 * MIB,
    sweep: [[8, 4], [16, 4], [16, 6], [32, 4], [32, 6], [64, 4], [64, 6]],
    rounds: 2,
  },
  quick: { size: 32 * MIB, sweepSize: 32 * MIB, sweep: [[8, 2], [16, 2]], rounds: 1 },
};

/** The page: the typed client and Uppy, each uploading a generated Blob; `window.run(args)`. */
const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { uploadFile, uppySigner } from './src/client';

function makeFile(size, type) {
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4096) chunk[i] = (i / 4096) % 251;
  const one = new Blob([chunk]);
  const parts = [];
  for (let left = size; left > 0; left -= chunk.length) parts.push(left >= chunk.length ? one : one.slice(0, left));
  return new Blob(parts, { type });
}

window.run = async ({ contender, signerUrl, user, size, type, concurrency, partSize, threshold }) => {
  const file = makeFile(size, type);
  const getAuthHeaders = () => ({ 'x-local-user': user });
  const started = performance.now();
  if (contender === 'typed') {
    const r = await uploadFile(file, { signerUrl, getAuthHeaders, concurrency, filename: 'big.mp4' });
    return { ms: performance.now() - started, key: r.key };
  }
  const uppy = new Uppy();
  uppy.use(AwsS3, uppySigner({ signerUrl, getAuthHeaders, multipartThreshold: threshold, ...(partSize ? { partSize } : {}) }));
  uppy.addFile({ name: 'big.mp4', type, data: file });
  const result = await uppy.upload();
  const ms = performance.now() - started;
  const failed = (result && result.failed) || [];
  if (failed.length > 0) throw new Error('Uppy failed: ' + String(failed[0].error));
  return { ms, key: result.successful[0].response.body.key };
};
`;

interface Run {
  readonly contender: string;
  readonly size: number;
  readonly partSizeMiB: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly mbPerSecond: number;
  /** Peak memory: all Chromium processes' PSS summed, or the Node process's RSS. */
  readonly peakRss: number;
  /** The same before the upload started (Chromium: the page loaded, the file not yet made). */
  readonly startRss: number;
  /** Largest single Chromium process (the Node process for lib-storage). */
  readonly peakRssSingle: number;
  /** Peak JS heap used (page, or Node). */
  readonly peakJsHeap: number;
  readonly processes: number;
}

/** MB/s with MB = 10^6 bytes (what transfer rates are quoted in). */
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/**
 * Where the stand-in stores objects: memory (tmpfs) where the machine has it. On this machine's disk,
 * s3rver's completion of a 1 GiB upload (it re-reads every part, hashes and writes the object) outlasts
 * the signer's 10 s CompleteMultipartUpload request timeout; the stand-in's disk is not what is measured.
 */
const STORE_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

async function withStack<T>(pageUrl: string, partSize: number, size: number, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(STORE_ROOT, 'bench-large-file-'));
  const stack = await startLocalStack({
    directory,
    allowedOrigins: [pageUrl],
    log: () => undefined,
    verifyUploads: false,
    sendTestEvent: false,
    policy: { allowedContentTypes: [CONTENT_TYPE], maxFileSize: Math.max(size, 64 * MIB), multipartThreshold: 5 * MIB, partSize },
  });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

async function storedSize(stack: LocalStack, key: string): Promise<number> {
  return (await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).ContentLength ?? 0;
}

async function inBrowser(
  browser: Browser,
  pageUrl: string,
  contender: 'typed' | 'uppy',
  size: number,
  partSizeMiB: number,
  concurrency: number,
): Promise<Run> {
  return withStack(pageUrl, partSizeMiB * MIB, size, async (stack) => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${pageUrl}/`);
      await tab.waitForFunction('typeof window.run === "function"');
      const cdp: CDPSession = await context.newCDPSession(tab);
      await cdp.send('Performance.enable');
      let peakJsHeap = 0;
      let sampling = true;
      const heapSampler = (async () => {
        while (sampling) {
          const { metrics } = await cdp.send('Performance.getMetrics').catch(() => ({ metrics: [] as Array<{ name: string; value: number }> }));
          peakJsHeap = Math.max(peakJsHeap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const memory = sampleGroupMemory(process.pid, /chrom/i);
      let result: { ms: number; key: string };
      try {
        result = await tab.evaluate(
          (args) => (globalThis as unknown as { run: (a: unknown) => Promise<{ ms: number; key: string }> }).run(args),
          {
            contender,
            signerUrl: stack.signerUrl,
            user: USER,
            size,
            type: CONTENT_TYPE,
            concurrency,
            partSize: partSizeMiB * MIB,
            threshold: 5 * MIB,
          },
        );
      } finally {
        sampling = false;
        await heapSampler;
      }
      const peak = memory.stop();
      const stored = await storedSize(stack, result.key);
      if (stored !== size) throw new Error(`${contender}: S3 holds ${stored} bytes, not ${size}`);
      return {
        contender: contender === 'typed' ? 'typed client (Chromium)' : 'Uppy 6 @uppy/aws-s3 (Chromium)',
        size,
        partSizeMiB,
        concurrency,
        wallMs: result.ms,
        mbPerSecond: mbps(size, result.ms),
        peakRss: peak.peakPssSum,
        startRss: peak.startPssSum,
        peakRssSingle: peak.peakRssSingle,
        peakJsHeap,
        processes: peak.processes,
      };
    } finally {
      await context.close();
    }
  });
}

async function inNode(
  pageUrl: string,
  contender: 'lib-storage' | 'typed',
  size: number,
  partSizeMiB: number | undefined,
  concurrency: number | undefined,
): Promise<Run> {
  return withStack(pageUrl, (partSizeMiB ?? 8) * MIB, size, async (stack) => {
    const r = contender === 'lib-storage'
      ? await runTsxScript<NodeUploadReport>('contenders/lib-storage-upload.ts', {
        endpoint: stack.s3Endpoint,
        region: stack.region,
        bucket: stack.bucket,
        key: `${stack.policy.prefix}/${USER}/lib-storage-${Date.now()}.mp4`,
        size,
        contentType: CONTENT_TYPE,
        accessKeyId: stack.credentials.accessKeyId,
        secretAccessKey: stack.credentials.secretAccessKey,
        ...(partSizeMiB ? { partSize: partSizeMiB * MIB } : {}),
        ...(concurrency ? { queueSize: concurrency } : {}),
      })
      : await runTsxScript<NodeUploadReport>('contenders/typed-client-upload.ts', { signerUrl: stack.signerUrl, user: USER, size, contentType: CONTENT_TYPE, concurrency });
    const stored = await storedSize(stack, r.key);
    if (stored !== size) throw new Error(`${contender} (Node): S3 holds ${stored} bytes, not ${size}`);
    return {
      contender: contender === 'typed' ? 'typed client (Node, diagnostic)' : `@aws-sdk/lib-storage Upload (Node)${partSizeMiB ? '' : ', defaults'}`,
      size,
      partSizeMiB: partSizeMiB ?? 5,
      concurrency: concurrency ?? 4,
      wallMs: r.wallMs,
      mbPerSecond: mbps(size, r.wallMs),
      peakRss: r.peakRss,
      startRss: r.startRss,
      peakRssSingle: r.peakRss,
      peakJsHeap: r.peakHeap,
      processes: 1,
    };
  });
}

const mib = (bytes: number) => `${formatNumber(bytes / MIB)} MiB`;

function describeRun(r: Run): string {
  const memory = r.processes > 1
    ? `peak PSS ${mib(r.peakRss)} (${r.processes} Chromium processes summed; ${mib(r.startRss)} before the upload; largest process RSS ${mib(r.peakRssSingle)})`
    : `peak RSS ${mib(r.peakRss)} (${mib(r.startRss)} at start)`;
  return `${formatNumber(r.wallMs / 1000)} s; part ${r.partSizeMiB} MiB × ${r.concurrency} in flight; ${memory}, JS heap ${mib(r.peakJsHeap)}`;
}

export async function runLargeFile(options: FigureOptions): Promise<FigureResult> {
  const s = LARGE_FILE_SETTINGS[options.quick ? 'quick' : 'full'];
  let page: Server | undefined;
  let browser: Browser | undefined;
  try {
    const served = await servePage(await bundleForBrowser(ENTRY, 'ts'), 'large-file');
    page = served.server;
    const pageUrl = served.url;
    browser = await launchChromium();

    // Warm-up (JIT, the page bundle, s3rver's paths), not reported.
    await inBrowser(browser, pageUrl, 'typed', 16 * MIB, 8, 2);

    const sweep: Run[] = [];
    for (const [partSizeMiB, concurrency] of s.sweep) {
      const r = await inBrowser(browser, pageUrl, 'typed', s.sweepSize, partSizeMiB, concurrency);
      options.log(`(8) sweep: ${partSizeMiB} MiB × ${concurrency}: ${formatNumber(r.mbPerSecond)} MB/s`);
      sweep.push(r);
    }
    const best = sweep.reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a));
    const chosen = { partSizeMiB: best.partSizeMiB, concurrency: best.concurrency };

    // The contenders at the full size, alternating browser and Node, `rounds` times; each one's best round counts.
    const rounds: Run[][] = [];
    for (let round = 0; round < s.rounds; round++) {
      const runs = [
        await inBrowser(browser, pageUrl, 'typed', s.size, chosen.partSizeMiB, chosen.concurrency),
        await inNode(pageUrl, 'lib-storage', s.size, undefined, undefined),
        await inBrowser(browser, pageUrl, 'uppy', s.size, 16, 1),
        await inNode(pageUrl, 'lib-storage', s.size, chosen.partSizeMiB, chosen.concurrency),
        await inNode(pageUrl, 'typed', s.size, chosen.partSizeMiB, chosen.concurrency),
      ];
      options.log(`(8) round ${round + 1}: ${runs.map((r) => `${r.contender} ${formatNumber(r.mbPerSecond)} MB/s`).join('; ')}`);
      rounds.push(runs);
    }
    const bestOf = (i: number) => rounds.map((runs) => runs[i]).reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a));
    const [typed, libDefaults, uppy, libChosen, typedNode] = [0, 1, 2, 3, 4].map(bestOf);

    const peers = [uppy, libDefaults, libChosen];
    const bestPeer = peers.reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a));
    const row = (r: Run, name = r.contender) => ({ name, value: r.mbPerSecond, unit: 'MB/s', detail: describeRun(r) });
    return {
      id: 8,
      title: `Large-file throughput: one ${mib(s.size)} upload to the local S3 stand-in per contender (MB = 10^6 bytes)`,
      rows: [
        row(typed),
        row(uppy, 'Uppy 6 @uppy/aws-s3 (Chromium), uppySigner defaults'),
        row(libDefaults),
        row(libChosen, '@aws-sdk/lib-storage Upload (Node), typed client\'s part size and concurrency'),
        row(typedNode, 'diagnostic: typed client in Node, same settings (not a peer)'),
        { name: 'typed client / best peer', value: typed.mbPerSecond / bestPeer.mbPerSecond, unit: '×', detail: `best peer: ${bestPeer.contender} ${describeRun(bestPeer).split(';')[1]?.trim() ?? ''}` },
        ...sweep.map((r) => ({ name: `sweep: typed client, part ${r.partSizeMiB} MiB × ${r.concurrency}`, value: r.mbPerSecond, unit: 'MB/s', detail: `${mib(r.size)}; peak PSS ${mib(r.peakRss)}, JS heap ${mib(r.peakJsHeap)}` })),
      ],
      goals: [goal(LARGE_FILE_GOAL, typed.mbPerSecond / bestPeer.mbPerSecond, 'min', 1, '×')],
      notes: [
        `Sweep: the typed client uploads ${mib(s.sweepSize)} at each (part size, concurrency) point (part size is the construct's partSize, carried by the signer's plan; concurrency the client's option); the fastest point is used for the ${mib(s.size)} runs.`,
        `Full-size runs: ${s.rounds} round(s), the contenders alternating in each; each contender's best round is reported (all rounds are in results.json).`,
        'Browsers: headless Debian Chromium through the repo\'s launcher (test/local/helpers.ts); the file is a Blob of one 1 MiB Blob repeated, so no 1 GiB buffer exists; Uppy 6 uploads one file\'s parts one after the other (its `limit` is files in parallel).',
        'lib-storage runs in its own Node process with the stand-in\'s access key (no signer), body a stream repeating one 1 MiB buffer; the SDK\'s default checksums are on.',
        'Every contender talks to the same S3 stand-in (s3rver in the benchmark process, one core; objects in tmpfs): it hashes and writes each part and concatenates them at completion, which is part of every wall time.',
      ],
      raw: { settings: s, chosen, sweep, typed, uppy, libDefaults, libChosen, typedNode, rounds },
    };
  } finally {
    await browser?.close();
    if (page) await close(page);
  }
}
