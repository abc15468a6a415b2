/**
 * The benchmark's own logic that does not depend on the machine: statistics, goals, the cost model's
 * arithmetic, the command line, and the bundle command.
 */
import { bundleArgs } from '../../bench/figures/cold-start';
import { billedMs, constructBill, guardDutyBill, LIST_PRICES, sampleBill, TRAFFIC } from '../../bench/figures/cost-model';
import type { VerifierMeasurement } from '../../bench/figures/time-to-ready';
import { BENCH_SECRET_ACCESS_KEY, BENCH_SESSION_TOKEN, benchEnv, benchEvent } from '../../bench/lib/fixtures';
import { formatNumber, formatTable, goal, machineInfo, median, percentile } from '../../bench/lib/report';
import { parseArgs } from '../../bench/run';
import { createSignerHandlerFromEnv } from '../../src/signer/handler';
import { computeSigV4Signature, queryParams } from '../signer/helpers';

describe('report helpers', () => {
  test('median and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([5, 1, 4, 2, 3], 0)).toBe(1);
  });

  test('goals: min and max', () => {
    expect(goal('a', 12, 'min', 10, '×').met).toBe(true);
    expect(goal('a', 9.9, 'min', 10, '×').met).toBe(false);
    expect(goal('b', 150, 'max', 150, ' KB').met).toBe(true);
    expect(goal('b', 151, 'max', 150, ' KB').met).toBe(false);
  });

  test('numbers and the table', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(0.01234)).toBe('0.0123');
    const table = formatTable(machineInfo(new Date('2024-05-06T07:08:09Z')), [{
      id: 9,
      title: 'A figure',
      rows: [{ name: 'row', value: 2, unit: 'ms' }],
      goals: [goal('g', 2, 'max', 1, ' ms')],
      notes: [],
    }]);
    expect(table).toContain('2024-05-06T07:08:09.000Z');
    expect(table).toContain(`Node ${process.version}`);
    expect(table).toContain('(9) A figure');
    expect(table).toContain('goal: g: 2.00 ms (target ≤ 1.00 ms) MISSED');
  });
});

describe('cost model', () => {
  const verifier: VerifierMeasurement = {
    callsPerUpload: { getRanged: 2, getObjectTagging: 1, putObjectTagging: 1, headObject: 0, deleteObject: 0, sqsSend: 1 },
    batch10WallMs: 30,
    batch1WallMs: 12,
    cpuMicrosPerUpload: 30,
    sequentialCallsPerUpload: 5,
    uploads: 100,
    outcomes: { verified: 100 },
  };
  const line = (b: { lines: readonly { item: string; dollars: number }[] }, start: string) => {
    const found = b.lines.find((l) => l.item.startsWith(start));
    if (!found) throw new Error(`no line "${start}"`);
    return found.dollars;
  };

  test('a small function gets a share of a vCPU, and the duration is rounded up to 1 ms', () => {
    // 300 µs on one core, 128 MB = 128/1769 of a vCPU → 4.15 ms → 5 ms billed; 10 µs at 256 MB → 1 ms.
    expect(billedMs(128, 300).durationMs).toBeCloseTo(0.3 / (128 / 1769), 6);
    expect(billedMs(128, 300).billedMs).toBe(5);
    expect(billedMs(256, 10).billedMs).toBe(1);
    expect(billedMs(256, 10, 500).billedMs).toBe(501);
  });

  test('every request the default deploys per upload is priced, the verifier\'s shared by its batch', () => {
    const trickle = constructBill({ signerMicros: 10, verifier, traffic: TRAFFIC.trickle, s3LatencyMs: 100, statusPoll: false });
    // HTTP API 1 + signer 0.2 + PUT 5 + tag write 5 + 3 GET-tier reads 1.2 + 4 SQS requests 1.6 + verifier request 0.2
    const fixed = 1 + 0.2 + 5 + 5 + 3 * 0.4 + 4 * 0.4 + 0.2;
    const signerDuration = 1e6 * 0.25 * 0.001 * LIST_PRICES.lambdaArm64PerGbSecond;
    // 5 calls × 100 ms + 30 µs of CPU at 256/1769 of a vCPU → 501 ms billed
    const verifierDuration = 1e6 * 0.25 * 0.501 * LIST_PRICES.lambdaArm64PerGbSecond;
    expect(trickle.total).toBeCloseTo(fixed + signerDuration + verifierDuration, 6);

    const steady = constructBill({ signerMicros: 10, verifier, traffic: TRAFFIC.steady, s3LatencyMs: 100, statusPoll: false });
    expect(line(steady, 'SQS: event source ReceiveMessage')).toBeCloseTo(0.04, 10);
    expect(line(steady, 'verifier Lambda: request')).toBeCloseTo(0.02, 10);
    expect(line(steady, 'S3: verifier PutObjectTagging')).toBe(5);
  });

  test('a status poll adds an HTTP API request, an invocation and one GetObjectTagging', () => {
    const base = { signerMicros: 10, verifier, traffic: TRAFFIC.trickle, s3LatencyMs: 100 };
    const without = constructBill({ ...base, statusPoll: false });
    const withPoll = constructBill({ ...base, statusPoll: true });
    // 201 ms billed for two S3 calls at 100 ms
    expect(withPoll.total - without.total).toBeCloseTo(1 + 0.2 + 1e6 * 0.25 * 0.101 * LIST_PRICES.lambdaArm64PerGbSecond + 0.4, 6);
  });

  test('the typical sample and GuardDuty\'s own price', () => {
    expect(sampleBill(300).total).toBeCloseTo(1 + 0.2 + 1e6 * 0.125 * 0.005 * LIST_PRICES.lambdaX86PerGbSecond + 5, 6);
    // 1e6 objects × $0.215 / 1,000 + 1e6 MiB in GB × $0.09
    expect(guardDutyBill(1024 * 1024).total).toBeCloseTo(215 + (1e6 / 1024) * 0.09, 6);
  });
});

describe('command line', () => {
  test('defaults, --quick, --only, --out', () => {
    expect(parseArgs([])).toEqual(expect.objectContaining({ quick: false, only: [1, 2, 3, 4, 5, 7, 6, 8, 9] }));
    expect(parseArgs(['--quick', '--only', '2,6', '--out', '/tmp/x.json'])).toEqual({ quick: true, only: [2, 6], out: '/tmp/x.json' });
  });

  test('refuses what it does not know', () => {
    expect(() => parseArgs(['--only', '10'])).toThrow(/--only takes figure numbers/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
  });
});

describe('bundle command', () => {
  test('is the project\'s signer bundle task with the output (and optionally the entry) replaced', () => {
    const args = bundleArgs('/tmp/out/index.js', 'bench/contenders/sdk-signer-handler.ts');
    expect(args).toEqual(expect.arrayContaining(['--bundle', '--outfile=/tmp/out/index.js', 'bench/contenders/sdk-signer-handler.ts', '--minify']));
    expect(args).not.toContain('src/signer/signer.lambda.ts');
  });
});

describe('what figure 1 measures', () => {
  test.each(['jwt', 'iam'] as const)('the handler (%s caller) answers what JSON.stringify writes, with a URL S3 accepts', async (caller) => {
    // GIVEN the environment of the benchmark: a Lambda-length session token full of + / =
    const handler = createSignerHandlerFromEnv(benchEnv(caller === 'jwt' ? 'authorizer' : 'iam'));

    // WHEN
    const response = await handler(benchEvent(caller));

    // THEN the body is exactly JSON.stringify's output for what it says (the URL is written unescaped)
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body ?? '') as { url: string; headers: Record<string, string> };
    expect(JSON.stringify(body)).toBe(response.body);
    expect(queryParams(body.url).get('X-Amz-Security-Token')).toBe(BENCH_SESSION_TOKEN);
    expect(computeSigV4Signature('PUT', body.url, { ...body.headers, 'content-length': '1048576' }, BENCH_SECRET_ACCESS_KEY))
      .toBe(queryParams(body.url).get('X-Amz-Signature'));
  });
});
