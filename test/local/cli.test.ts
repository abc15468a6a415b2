import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { demoOrigins, describeVerdict, parseDemoArgs } from '../../src/local/cli';

describe('parseDemoArgs', () => {
  test('defaults', () => {
    expect(parseDemoArgs([])).toEqual({
      host: '127.0.0.1', port: 3000, s3Port: 4568, sqsPort: 9324, signerPort: 3001, cdnPort: 3002, origins: [], help: false,
    });
  });
  test('ports, host and origins, with or without =', () => {
    expect(parseDemoArgs(['--port', '0', '--s3-port=1234', '--origin', 'https://app.example.com/path', '--host', '::1'])).toMatchObject({
      port: 0, s3Port: 1234, host: '::1', origins: ['https://app.example.com'],
    });
  });
  test('bad input names the flag', () => {
    expect(() => parseDemoArgs(['--port', 'x'])).toThrow(/--port must be a port number/);
    expect(() => parseDemoArgs(['--port', '70000'])).toThrow(/--port must be a port number/);
    expect(() => parseDemoArgs(['--origin', 'nope'])).toThrow(/--origin must be an origin/);
    expect(() => parseDemoArgs(['--frobnicate', '1'])).toThrow(/Unknown option --frobnicate/);
    expect(() => parseDemoArgs(['--port'])).toThrow(/--port needs a value/);
    expect(() => parseDemoArgs(['--quota', '10'])).toThrow(/--quota must be <uploads>\/<seconds>, e\.g\. 10\/3600/);
    expect(() => parseDemoArgs(['--quota', '0/60'])).toThrow(/--quota must be/);
  });
  // The README's "Local development" `-- --quota 10/3600`.
  test('--quota enables the per-caller upload quota', () => {
    expect(parseDemoArgs(['--quota', '10/3600']).quota).toEqual({ maxUploads: 10, windowSeconds: 3600 });
    expect(parseDemoArgs([]).quota).toBeUndefined();
  });
});

test('describeVerdict: one line per verified or rejected upload, from the verifier\'s JSON log; nothing for the rest', () => {
  expect(describeVerdict(JSON.stringify({ source: 'cdk-direct-upload-verifier', key: 'uploads/a/1.png', outcome: 'verified', contentType: 'image/png', size: 111 })))
    .toBe('verdict verified uploads/a/1.png (image/png, 111 bytes)');
  expect(describeVerdict(JSON.stringify({ key: 'uploads/a/2.png', outcome: 'rejected', code: 'ACTIVE_CONTENT', message: 'declared image/png but the bytes are text/html', action: 'deleted' })))
    .toBe('verdict rejected uploads/a/2.png: ACTIVE_CONTENT: declared image/png but the bytes are text/html (object deleted)');
  expect(describeVerdict(JSON.stringify({ key: 'uploads/a/1.png', outcome: 'duplicate' }))).toBeUndefined();
  expect(describeVerdict('not json')).toBeUndefined();
});

test('demoOrigins: 127.0.0.1 and localhost are both allowed', () => {
  expect(demoOrigins('http://127.0.0.1:3000')).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
});

/** Resolves true when something accepts connections on the port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Mirrors the README's "Local development" section: `npm run demo -- --port … --s3-port 0`, the endpoints it prints.
test('npm run demo: starts, prints the URLs, serves the page, and stops every service on SIGTERM', async () => {
  const cli = path.join(__dirname, '..', '..', 'src', 'local', 'cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--s3-port', '0', '--sqs-port', '0', '--signer-port', '0', '--cdn-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    out += c;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('CDN')) resolve();
    });
    child.once('exit', () => reject(new Error(`demo exited early:\n${out}`)));
  });

  // Every service listens on 127.0.0.1; fauxqs names its queue URLs sqs.<region>.localhost.
  const urls = [...out.matchAll(/http:\/\/(?:127\.0\.0\.1|sqs\.[a-z0-9-]+\.localhost):(\d+)/g)];
  const ports = [...new Set(urls.map((m) => Number(m[1])))];
  try {
    expect(ports.length).toBeGreaterThanOrEqual(5); // demo, signer, S3, CDN, SQS
    const demoUrl = /demo page\s+(\S+)/.exec(out)?.[1] ?? '';
    const page = await fetch(demoUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>cdk-direct-upload');
  } catch (err) {
    child.kill('SIGKILL'); // never leave the demo running when an assertion fails
    throw err;
  }

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(out).toContain('Stopped.');
  for (const port of ports) expect([port, await isListening(port)]).toEqual([port, false]);
});

/** Pids of every live descendant of `pid` (from /proc: each process's parent is field 4 of its stat). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Whether `pid` is a live process (a zombie counts as gone: it holds no port and runs no code). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test.each(['SIGTERM', 'SIGINT'] as const)('npm run demo: %s to the npm process stops the whole process tree and every port', async (signal) => {
  const repo = path.join(__dirname, '..', '..');
  const child = spawn('npm', ['run', 'demo', '--', '--port', '0', '--s3-port', '0', '--sqs-port', '0', '--signer-port', '0', '--cdn-port', '0'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: what is left of it afterwards can be found (and cleaned up) by group
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? `exit ${code}`)));
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    out += c;
  });
  let tree: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: string) => {
        out += c;
        if (/origins {5}\S/.test(out)) resolve();
      });
      child.once('exit', () => reject(new Error(`demo exited early:\n${out}`)));
    });
    tree = descendants(child.pid!);
    const ports = [...new Set([...out.matchAll(/http:\/\/(?:127\.0\.0\.1|sqs\.[a-z0-9-]+\.localhost):(\d+)/g)].map((m) => Number(m[1])))];
    expect(ports.length).toBeGreaterThanOrEqual(5);
    expect(out).toMatch(/rejections  http:\/\/sqs\.[a-z0-9-]+\.localhost:\d+\/\d+\/direct-upload-notifications-rejections/);
    expect(out).toMatch(/status      POST http:\/\/127\.0\.0\.1:\d+\/uploads\/status/);
    expect(tree.length).toBeGreaterThanOrEqual(1); // npm runs the CLI in a child (sh, tsx, node)

    process.kill(child.pid!, signal);
    // npm exits 0 once its child has, or (seen after SIGINT) passes the signal on to itself as a Ctrl-C'd program does.
    expect(['exit 0', signal]).toContain(await exited);
    // npm may be gone before its child has finished stopping (seen after SIGINT): allow the tree 10 s to stop.
    // An orphan never would: nothing signals it again.
    for (let waited = 0; waited < 10_000 && tree.some(alive); waited += 200) await new Promise((r) => setTimeout(r, 200));
    expect(tree.filter(alive)).toEqual([]);
    for (const port of ports) expect([port, await isListening(port)]).toEqual([port, false]);
    // The CLI's last line can still be in the pipe when npm has exited: read stdout to its end (every writer gone).
    await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', () => resolve())));
    expect(out).toContain('Stopped.');
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // whatever is left of the group, pass or fail
    } catch {
      // the group is gone: nothing to clean up
    }
  }
}, 120_000);
