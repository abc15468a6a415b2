/**
 * `npm run demo`: the whole upload flow offline. Starts the local stack and the demo page, prints the
 * URLs, and stops everything on Ctrl-C (SIGINT) or SIGTERM.
 *
 *   npx tsx src/local/cli.ts [--port 3000] [--s3-port 4568] [--sqs-port 9324] [--signer-port 3001]
 *                            [--cdn-port 3002] [--host 127.0.0.1] [--origin https://app.example]...
 */
import { startDemoServer } from './demo-server';
import { LOCAL_USER_HEADER } from './http-api';
import { LocalStack, startLocalStack } from './local-stack';
import { PortError } from './net';
import { decodeS3EventKey } from './s3-events';

/** The demo's settings, from the command line. */
export interface DemoArgs {
  readonly host: string;
  readonly port: number;
  readonly s3Port: number;
  readonly sqsPort: number;
  readonly signerPort: number;
  readonly cdnPort: number;
  /** Extra browser origins to allow besides the demo page's. */
  readonly origins: readonly string[];
  /** `--quota <maxUploads>/<windowSeconds>`: the construct's uploadQuota, on a local DynamoDB. */
  readonly quota?: { readonly maxUploads: number; readonly windowSeconds: number };
  readonly help: boolean;
}

export const USAGE = `Usage: npm run demo -- [options]

Runs the upload flow offline: S3 (s3rver), SQS (fauxqs), the real signer behind a local HTTP API,
a CDN route and a demo page. Ports: 0 picks a free one.

  --port <n>          demo page                (default 3000)
  --s3-port <n>       S3 stand-in              (default 4568)
  --sqs-port <n>      SQS stand-in             (default 9324)
  --signer-port <n>   signer HTTP API          (default 3001)
  --cdn-port <n>      CDN route                (default 3002)
  --host <address>    address to listen on     (default 127.0.0.1)
  --origin <url>      another browser origin to allow (repeatable)
  --quota <n>/<s>     per-caller upload quota: at most n uploads per s seconds
                      (DynamoDB stand-in; 429 QUOTA_EXCEEDED beyond it)   (default: off)
  -h, --help          this text`;

const PORT_FLAGS: Record<string, keyof Pick<DemoArgs, 'port' | 's3Port' | 'sqsPort' | 'signerPort' | 'cdnPort'>> = {
  '--port': 'port',
  '--s3-port': 's3Port',
  '--sqs-port': 'sqsPort',
  '--signer-port': 'signerPort',
  '--cdn-port': 'cdnPort',
};

/** Parses the command line; throws an Error naming the bad flag. */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const args: { -readonly [K in keyof DemoArgs]: DemoArgs[K] } & { origins: string[] } = {
    host: '127.0.0.1', port: 3000, s3Port: 4568, sqsPort: 9324, signerPort: 3001, cdnPort: 3002, origins: [], help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    if (flag === '-h' || flag === '--help') {
      args.help = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value; see --help`);
    const portKey = PORT_FLAGS[flag];
    if (portKey) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port number from 0 to 65535 (got "${value}")`);
      args[portKey] = n;
    } else if (flag === '--host') {
      args.host = value;
    } else if (flag === '--origin') {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new Error(`--origin must be an origin such as https://app.example.com (got "${value}")`);
      }
      args.origins.push(url.origin);
    } else if (flag === '--quota') {
      const m = /^(\d+)\/(\d+)$/.exec(value);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`--quota must be <uploads>/<seconds>, e.g. 10/3600 (got "${value}")`);
      args.quota = { maxUploads: Number(m[1]), windowSeconds: Number(m[2]) };
    } else {
      throw new Error(`Unknown option ${flag}; see --help`);
    }
  }
  return args;
}

/** Browser origins that reach the demo page at `url` (127.0.0.1 and localhost are different origins). */
export function demoOrigins(url: string): string[] {
  const u = new URL(url);
  const origins = [u.origin];
  if (u.hostname === '127.0.0.1') origins.push(`${u.protocol}//localhost:${u.port}`);
  if (u.hostname === 'localhost') origins.push(`${u.protocol}//127.0.0.1:${u.port}`);
  return origins;
}

async function main(): Promise<number> {
  // The SDK warns once per process that its 2027 releases need Node 22; not news for a demo run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  const demo = await startDemoServer({
    host: args.host,
    port: args.port,
    portOption: '--port',
    onMessage: (body) => console.log(`queue   ${describeMessage(body)}`),
  }).catch(reportStartError);
  if (!demo) return 1;

  const stack: LocalStack | undefined = await startLocalStack({
    host: args.host,
    ports: { s3: args.s3Port, sqs: args.sqsPort, signer: args.signerPort, cdn: args.cdnPort },
    portOptionNames: { s3: '--s3-port', sqs: '--sqs-port', signer: '--signer-port', cdn: '--cdn-port' },
    allowedOrigins: [...demoOrigins(demo.url), ...args.origins],
    log: (line) => console.error(line),
    verifierLog: (line) => {
      const verdict = describeVerdict(line);
      if (verdict) console.log(verdict);
    },
    ...(args.quota ? { uploadQuota: args.quota } : {}),
  }).catch(reportStartError);
  if (!stack) {
    await demo.stop();
    return 1;
  }
  demo.use(stack);
  // Listen for the stop signal before printing the URLs: whoever waits for them may signal at once, and a
  // signal before the listener would kill the process with the stack still running.
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      console.log(`\n${signal}: stopping…`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  console.log([
    'Local upload stack is running (Ctrl-C stops it).',
    '',
    `  demo page   ${demo.url}/`,
    `  signer      POST ${stack.signerUrl}/uploads   (caller: header ${LOCAL_USER_HEADER}: <user id>, local only)`,
    `  S3          ${stack.s3Endpoint}/${stack.bucket}   (path-style; access key ${stack.credentials.accessKeyId})`,
    `  CDN         ${stack.cdnUrl}/<key>`,
    `  SQS         ${stack.queueUrl}`,
    `  rejections  ${stack.rejectionQueueUrl ?? '(verifier off)'}`,
    `  status      POST ${stack.signerUrl}/uploads/status`,
    `  DLQ         ${stack.deadLetterQueueUrl}   (after ${stack.maxReceiveCount} receives)`,
    `  origins     ${stack.allowedOrigins.join(', ')}`,
    ...(args.quota ? [`  quota       ${args.quota.maxUploads} uploads per ${args.quota.windowSeconds} s per caller (DynamoDB stand-in ${stack.dynamoDbEndpoint})`] : []),
    '',
  ].join('\n'));

  await stopRequested;
  await demo.stop();
  await stack.stop();
  console.log('Stopped.');
  return 0;
}

function reportStartError(err: unknown): undefined {
  if (err instanceof PortError) {
    console.error(err.message);
  } else {
    console.error(`The local stack failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  return undefined;
}

/** One line per verifier verdict (`verified` or `rejected`), from its JSON log line; undefined for the rest. */
export function describeVerdict(line: string): string | undefined {
  let entry: { outcome?: string; key?: string; contentType?: string; size?: number; code?: string; message?: string; action?: string };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  if (entry.outcome === 'verified') return `verdict verified ${entry.key} (${entry.contentType}, ${entry.size} bytes)`;
  if (entry.outcome === 'rejected') return `verdict rejected ${entry.key}: ${entry.code}: ${entry.message} (object ${entry.action})`;
  return undefined;
}

function describeMessage(body: unknown): string {
  const b = body as { Event?: string; Records?: Array<{ eventName: string; s3: { object: { key: string; size: number } } }> };
  if (b?.Event) return b.Event;
  return (b?.Records ?? []).map((r) => `${r.eventName} ${decodeS3EventKey(r.s3.object.key)} (${r.s3.object.size} bytes)`).join('; ') || JSON.stringify(body);
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
