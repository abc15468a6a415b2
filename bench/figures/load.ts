/**
 * Figure 4 — the signer under load: the local stack's HTTP API adapter in front of the real handler,
 * N concurrent keep-alive clients for a fixed time: requests per second, p50/p99 latency, errors
 * (every answer must be a 200 with a presigned PUT). Two runs:
 *
 * - saturated: closed loop (each client sends its next request when the previous answer is in), the
 *   signer's capacity on one core;
 * - paced at 2,000 requests/s for 10 s: issue 7's load test (≥ 2,000 requests/s on loopback, zero errors,
 *   report p99), the latency a client sees at that rate rather than in a saturated queue.
 */
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { startLocalStack } from '../../src/local/local-stack';
import { LoadResult, runLoad } from '../lib/load';
import { FigureOptions, FigureResult, formatNumber, goal, Row } from '../lib/report';

/** Issue 7: at least this many requests per second for 10 s, zero errors. */
export const PACED_RATE = 2000;

export async function runLoadFigure(options: FigureOptions): Promise<FigureResult> {
  const stack = await startLocalStack({ log: () => undefined, sendTestEvent: false });
  try {
    const settings = options.quick
      ? { connections: 2, warmupMs: 50, durationMs: 300, pacedRate: 100 }
      : { connections: 16, warmupMs: 2000, durationMs: 10_000, pacedRate: PACED_RATE };
    const seconds = settings.durationMs / 1000;
    options.log(`(4) load: ${settings.connections} connections for ${seconds} s closed loop, then paced at ${settings.pacedRate} req/s`
      + ` for ${seconds} s (each after ${settings.warmupMs / 1000} s of warm-up)`);
    const request = {
      url: `${stack.signerUrl}/uploads`,
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: 'alice' },
      body: JSON.stringify({ contentType: 'image/jpeg', size: 1_048_576, filename: 'photo.jpg' }),
      expectStatus: 200,
      connections: settings.connections,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
    };
    const saturated = await runLoad(request);
    const paced = await runLoad({ ...request, ratePerSecond: settings.pacedRate });
    const rows = (label: string, result: LoadResult): Row[] => [
      { name: `${label}: throughput`, value: result.requestsPerSecond, unit: 'req/s', detail: `${result.requests} requests in ${(result.durationMs / 1000).toFixed(1)} s` },
      { name: `${label}: latency p50`, value: result.latencyMs.p50, unit: 'ms' },
      { name: `${label}: latency p99`, value: result.latencyMs.p99, unit: 'ms', detail: `p90 ${result.latencyMs.p90.toFixed(2)} ms, max ${result.latencyMs.max.toFixed(2)} ms` },
      { name: `${label}: errors`, value: result.errors, unit: '', detail: `statuses ${JSON.stringify(result.statusCounts)}` },
    ];
    const pacedLabel = `paced ${formatNumber(settings.pacedRate)} req/s`;
    return {
      id: 4,
      title: `Signer under load (local HTTP adapter + real handler, ${settings.connections} concurrent clients, ${seconds} s per run)`,
      rows: [...rows('saturated', saturated), ...rows(pacedLabel, paced)],
      goals: [
        goal('saturated: errors', saturated.errors, 'max', 0, ''),
        goal(`saturated: requests/s for ${seconds} s (issue 7: ≥ 2,000)`, saturated.requestsPerSecond, 'min', PACED_RATE, ' req/s'),
        goal(`${pacedLabel} for ${seconds} s: errors (issue 7)`, paced.errors, 'max', 0, ''),
      ],
      notes: [
        'The signer is the local stack\'s (src/local: Node HTTP server playing API Gateway HTTP API, the real handler behind it) in the benchmark process; the load generator (bench/lib/load.ts) runs in a worker thread, so each has one of the two cores.',
        'Saturated: closed loop like autocannon\'s default. Paced: request k due at k / rate; a late request\'s latency counts from its due time (no coordinated omission).',
        'Every answer must be 200; anything else, and any connection error, counts as an error. This measures the local adapter + handler on one core, not API Gateway or Lambda scaling.',
      ],
      raw: { settings, saturated, paced },
    };
  } finally {
    await stack.stop();
  }
}
