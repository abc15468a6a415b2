/**
 * Figure 4 — the signer under load: the local stack's HTTP API adapter in front of the real handler,
 * N concurrent keep-alive clients for a fixed time: requests per second, p50/p99 latency, errors
 * (every answer must be a 200 with a presigned PUT).
 */
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { startLocalStack } from '../../src/local/local-stack';
import { runLoad } from '../lib/load';
import { FigureOptions, FigureResult, goal } from '../lib/report';

export async function runLoadFigure(options: FigureOptions): Promise<FigureResult> {
  const stack = await startLocalStack({ log: () => undefined, sendTestEvent: false });
  try {
    const settings = options.quick
      ? { connections: 2, warmupMs: 50, durationMs: 300 }
      : { connections: 16, warmupMs: 2000, durationMs: 10_000 };
    options.log(`(4) load: ${settings.connections} connections for ${settings.durationMs / 1000} s (after ${settings.warmupMs / 1000} s of warm-up)`);
    const result = await runLoad({
      url: `${stack.signerUrl}/uploads`,
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: 'alice' },
      body: JSON.stringify({ contentType: 'image/jpeg', size: 1_048_576, filename: 'photo.jpg' }),
      expectStatus: 200,
      ...settings,
    });
    return {
      id: 4,
      title: `Signer under load (local HTTP adapter + real handler, ${settings.connections} concurrent clients, ${settings.durationMs / 1000} s)`,
      rows: [
        { name: 'throughput', value: result.requestsPerSecond, unit: 'req/s', detail: `${result.requests} requests` },
        { name: 'latency p50', value: result.latencyMs.p50, unit: 'ms' },
        { name: 'latency p99', value: result.latencyMs.p99, unit: 'ms', detail: `p90 ${result.latencyMs.p90.toFixed(2)} ms, max ${result.latencyMs.max.toFixed(2)} ms` },
        { name: 'errors', value: result.errors, unit: '', detail: `statuses ${JSON.stringify(result.statusCounts)}` },
      ],
      goals: [goal('errors', result.errors, 'max', 0, '')],
      notes: [
        'The signer is the local stack\'s (src/local: Node HTTP server playing API Gateway HTTP API, the real handler behind it) in the benchmark process; the load generator (bench/lib/load.ts, closed loop like autocannon\'s default) runs in a worker thread, so each has one of the two cores.',
        'Every answer must be 200; anything else, and any connection error, counts as an error. This measures the local adapter + handler on one core, not API Gateway or Lambda scaling.',
      ],
      raw: { settings, result },
    };
  } finally {
    await stack.stop();
  }
}
