/**
 * A small HTTP load generator: N keep-alive connections for a fixed time, either closed loop (what
 * autocannon does by default: each connection sends its next request as soon as the previous answer is
 * in) or paced at a fixed total rate (request k is due at k / rate seconds; a connection that is free
 * waits for the next due request and sends it; one that is late sends at once, and its latency is
 * measured from the due time, so a server that falls behind shows it in the percentiles). It runs in a
 * worker thread, so on a 2-core machine the server under test keeps a core of its own.
 */
import { Worker } from 'node:worker_threads';
import { percentile } from './report';

export interface LoadOptions {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly connections: number;
  /** Requests before `durationMs` starts, not recorded. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The status that counts as a success. */
  readonly expectStatus: number;
  /** Paced: total requests per second over all connections. Unset: closed loop, as fast as the server answers. */
  readonly ratePerSecond?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Non-`expectStatus` answers plus connection errors. */
  readonly errors: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

// Plain JavaScript: the worker is started from a string and needs no TypeScript loader.
const WORKER = `
const http = require('node:http');
const { parentPort, workerData: o } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
const target = new URL(o.url);
const body = Buffer.from(o.body);
const headers = { ...o.headers, 'content-length': String(body.length) };
const latencies = [];
const statusCounts = {};
let errors = 0;
let recording = false;
let stopped = false;
const t0 = process.hrtime.bigint();
let scheduled = 0;
function once(start) {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: o.method, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (recording) {
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          statusCounts[res.statusCode] = (statusCounts[res.statusCode] || 0) + 1;
          if (res.statusCode !== o.expectStatus) errors++;
        }
        resolve();
      });
    });
    req.on('error', () => { if (recording) errors++; resolve(); });
    req.end(body);
  });
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function client() {
  while (!stopped) {
    if (!o.ratePerSecond) {
      await once(process.hrtime.bigint());
      continue;
    }
    const due = t0 + BigInt(Math.round((scheduled++ * 1e9) / o.ratePerSecond));
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait > 0) {
      // On time: the request goes out now (the timer's own lateness is not the server's).
      await sleep(wait);
      if (stopped) return;
      await once(process.hrtime.bigint());
    } else {
      // Late, because the previous answers took too long: count the wait against the server.
      await once(due);
    }
  }
}
const clients = Array.from({ length: o.connections }, client);
setTimeout(() => {
  recording = true;
  const started = process.hrtime.bigint();
  setTimeout(async () => {
    recording = false;
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    stopped = true;
    await Promise.all(clients);
    agent.destroy();
    parentPort.postMessage({ latencies, statusCounts, errors, durationMs });
  }, o.durationMs);
}, o.warmupMs);
`;

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: options });
    worker.once('error', reject);
    worker.once('message', (m: { latencies: number[]; statusCounts: Record<string, number>; errors: number; durationMs: number }) => {
      void worker.terminate();
      const latencies = m.latencies;
      resolve({
        requests: latencies.length,
        requestsPerSecond: latencies.length / (m.durationMs / 1000),
        latencyMs: {
          p50: percentile(latencies, 50),
          p90: percentile(latencies, 90),
          p99: percentile(latencies, 99),
          max: percentile(latencies, 100),
        },
        errors: m.errors,
        statusCounts: m.statusCounts,
        durationMs: m.durationMs,
      });
    });
  });
}
