/**
 * The SQS stand-in: fauxqs (SQS JSON protocol, long polling, dead-letter redrive) in a child Node
 * process, with the notification queue and its dead-letter queue created like the construct's.
 *
 * Why a child process: fauxqs is an ES module only (no `require` export), which neither jest's module
 * system nor this CommonJS package can load in-process. The child exits when its stdin closes, so it
 * cannot outlive the parent. (fauxqs is pinned to 1.9.x: 2.x needs Node >= 22.5 for `node:sqlite`.)
 */
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PortError, portProblem } from './net';

/** Account id fauxqs uses in queue URLs and ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** One queue to create. */
export interface LocalQueueSpec {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Options of {@link startLocalSqs}. */
export interface LocalSqsOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly region: string;
  /** Queues to create, in order (a dead-letter queue before the queue that redrives to it). */
  readonly queues: readonly LocalQueueSpec[];
  /** The option name that sets the port, for error messages. @default 'ports.sqs' */
  readonly portOption?: string;
}

/** A created queue. */
export interface LocalQueue {
  readonly name: string;
  /** `http://host:port/000000000000/name`; any SQS client pointed at {@link LocalSqs.endpoint} accepts it. */
  readonly url: string;
  readonly arn: string;
}

/** A running SQS stand-in. */
export interface LocalSqs {
  /** `http://host:port`: the `endpoint` for an `SQSClient`. */
  readonly endpoint: string;
  readonly port: number;
  /** A client for this endpoint (destroyed by `stop()`). */
  readonly client: SQSClient;
  readonly queues: Readonly<Record<string, LocalQueue>>;
  stop(): Promise<void>;
}

/** The ARN of a local queue. */
export function localQueueArn(region: string, name: string): string {
  return `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${name}`;
}

/** Finds the fauxqs ES module entry file (its package exports only an `import` condition). */
export function findFauxqsEntry(from: readonly string[] = [__dirname, process.cwd()]): string {
  for (const start of from) {
    let dir = path.resolve(start);
    for (;;) {
      const pkgFile = path.join(dir, 'node_modules', 'fauxqs', 'package.json');
      if (existsSync(pkgFile)) {
        const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: unknown; main?: string };
        const entry = importEntry(pkg.exports) ?? pkg.main ?? 'index.js';
        return path.join(path.dirname(pkgFile), entry);
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('fauxqs is not installed; the local stack needs it as a dev dependency (npm install --save-dev fauxqs).');
}

function importEntry(exportsField: unknown): string | undefined {
  if (typeof exportsField === 'string') return exportsField;
  if (typeof exportsField !== 'object' || exportsField === null) return undefined;
  const root = (exportsField as Record<string, unknown>)['.'] ?? exportsField;
  if (typeof root === 'string') return root;
  if (typeof root !== 'object' || root === null) return undefined;
  const imp = (root as Record<string, unknown>).import ?? (root as Record<string, unknown>).default;
  if (typeof imp === 'string') return imp;
  if (typeof imp === 'object' && imp !== null) {
    const def = (imp as Record<string, unknown>).default;
    return typeof def === 'string' ? def : undefined;
  }
  return undefined;
}

/**
 * The child's program (an ES module, run with `node --input-type=module -e`). It reads its
 * configuration from the environment, prints one JSON line (`{ ready }` or `{ error }`) and stops
 * when stdin ends or on SIGINT/SIGTERM.
 */
const CHILD_PROGRAM = `
const cfg = JSON.parse(process.env.LOCAL_SQS_CONFIG);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\\n');
let app;
try {
  const { buildApp } = await import(cfg.entry);
  app = buildApp({ logger: false, defaultRegion: cfg.region });
  await app.listen({ port: cfg.port, host: cfg.host });
} catch (err) {
  say({ error: { code: err && err.code || 'UNKNOWN', message: String(err && err.message || err) } });
  process.exit(1);
}
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  try { await app.close(); } finally { process.exit(0); }
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
say({ ready: { port: app.server.address().port } });
`;

/** Starts fauxqs in a child process and creates the queues. Rejects with a {@link PortError} when the port is taken. */
export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const entry = pathToFileURL(findFauxqsEntry()).href;
  const config = {
    entry,
    port: options.port,
    host: options.host,
    region: options.region,
  };
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', CHILD_PROGRAM], {
    env: { ...process.env, LOCAL_SQS_CONFIG: JSON.stringify(config), NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  type ChildMessage = { ready?: { port: number }; error?: { code: string; message: string } };
  const first = await new Promise<ChildMessage>((resolve, reject) => {
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    const onData = (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      try {
        resolve(JSON.parse(buffer.slice(0, nl)) as ChildMessage);
      } catch {
        reject(new Error(`The local SQS (fauxqs) printed something unexpected: ${buffer.slice(0, 200)}`));
      }
    };
    const onExit = (code: number | null) => {
      reject(new Error(`The local SQS (fauxqs) exited during start-up (code ${code}): ${stderr.trim() || 'no output'}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  }).catch(async (err) => {
    await stopChild(child, exited);
    throw err;
  });

  if (first.error || !first.ready) {
    await stopChild(child, exited);
    const code = first.error?.code ?? 'UNKNOWN';
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new PortError(portProblem('SQS (fauxqs)', options.host, options.port, code, options.portOption ?? 'ports.sqs'), code, options.port);
    }
    throw new Error(`The local SQS (fauxqs) failed to start: ${first.error?.message ?? 'no reason given'}`);
  }

  // Drain the child's output so its pipes never fill up.
  child.stdout?.resume();

  const { port } = first.ready;
  const endpoint = `http://${options.host}:${port}`;
  const client = new SQSClient({
    endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const stop = async () => {
    client.destroy();
    await stopChild(child, exited);
  };

  const queues: Record<string, LocalQueue> = {};
  try {
    for (const spec of options.queues) {
      const created = await client.send(new CreateQueueCommand({ QueueName: spec.name, Attributes: { ...spec.attributes } }));
      if (!created.QueueUrl) throw new Error(`The local SQS did not create queue ${spec.name}`);
      // fauxqs 1.9 identifies a queue by the exact URL it returned (http://sqs.<region>.localhost:<port>/...);
      // SDK clients still send the request to their configured endpoint.
      const url = created.QueueUrl;
      const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      queues[spec.name] = { name: spec.name, url, arn: attrs.Attributes?.QueueArn ?? localQueueArn(options.region, spec.name) };
    }
  } catch (err) {
    await stop();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    client,
    queues,
    stop: () => (stopped ??= stop()),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    await exited;
    return;
  }
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}
