/**
 * Shared helpers for the local stack's end-to-end tests.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { HeadObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { Browser, chromium } from 'playwright-core';
import type { CreateUploadRequest, ErrorResponse, PresignedUpload } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import type { LocalStack } from '../../src/local/local-stack';
import { listen, origin } from '../../src/local/net';
import { LocalS3, LocalS3Options, S3RVER_CREDENTIALS, startLocalS3 } from '../../src/local/s3';
import type { S3EventNotification } from '../../src/local/s3-events';

/** Asks the local signer for an upload, as a client would. */
export async function requestUpload(
  stack: LocalStack,
  request: CreateUploadRequest,
  user: string | null = 'alice',
): Promise<{ status: number; body: PresignedUpload & Partial<ErrorResponse> }> {
  const res = await fetch(`${stack.signerUrl}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { [LOCAL_USER_HEADER]: user } : {}) },
    body: JSON.stringify(request),
  });
  return { status: res.status, body: (await res.json()) as PresignedUpload & Partial<ErrorResponse> };
}

/** Signs an upload for `body` and fails the test when the signer refuses. */
export async function signFor(stack: LocalStack, body: Buffer, extra: Partial<CreateUploadRequest> = {}, user = 'alice'): Promise<PresignedUpload> {
  const { status, body: signed } = await requestUpload(stack, { contentType: 'image/png', size: body.length, ...extra }, user);
  if (status !== 200) throw new Error(`signer answered ${status}: ${JSON.stringify(signed)}`);
  return signed;
}

/** Sends the bytes with the presigned request; returns the status and S3's error code (if any). */
export async function putSigned(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; code: string | undefined; text: string }> {
  const res = await fetch(url, { method: 'PUT', headers, body });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text };
}

/** Whether the local bucket holds `key` (HeadObject); errors other than 404 fail the test. */
export async function objectExists(stack: LocalStack, key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** Base64 MD5, as `Content-MD5` carries it. */
export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

/**
 * Receives and deletes every message on a queue. Call `stack.flush()` first: after it, an empty
 * receive means an empty queue (the stand-in is in memory).
 */
export async function drain(stack: LocalStack, queueUrl: string = stack.queueUrl): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    if (Messages.length === 0) return all;
    for (const m of Messages) {
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    all.push(...Messages);
  }
}

/** The S3 event records in messages (test events have none). */
export function recordsOf(messages: readonly Message[]): S3EventNotification['Records'][number][] {
  return messages.flatMap((m) => (JSON.parse(m.Body ?? '{}') as Partial<S3EventNotification>).Records ?? []);
}

/** A valid PNG of `width`×`height` pixels in one colour (no image library needed). */
export function makePng(width: number, height: number, rgb: [number, number, number] = [37, 99, 235]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/* eslint-disable no-bitwise -- CRC-32 is bit arithmetic */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/* eslint-enable no-bitwise */

/** Debian's Chromium, driven by playwright-core (no browser download); `CHROMIUM_PATH` overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium with the flags this machine's closed network needs; fails (never skips) without it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}; install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Bundles a browser entry (JS/TS source, resolved from the repo root) with esbuild into one IIFE script. */
export async function bundleForBrowser(entry: string, loader: 'js' | 'ts' = 'js'): Promise<Uint8Array> {
  const bundle = await build({
    stdin: { contents: entry, resolveDir: path.resolve(__dirname, '../..'), loader },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  return bundle.outputFiles[0].contents;
}

/** Serves a page that loads `script` on an ephemeral loopback port; returns the server and its origin. */
export async function servePage(script: Uint8Array, title: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><meta charset="utf-8"><title>${title}</title><script src="/page.js"></script>`);
  });
  const url = origin('127.0.0.1', await listen(server, '127.0.0.1', 0, `${title} page`, 'port'));
  return { server, url };
}

/** The S3 stand-in alone, on an ephemeral loopback port in a fresh directory that `stop()` removes. */
export async function startTestS3(bucket: string, options: Partial<LocalS3Options> = {}): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), `${bucket}-`));
  const s3 = await startLocalS3({
    host: '127.0.0.1', port: 0, bucket, region: 'us-east-1', corsRules: [], credentials: S3RVER_CREDENTIALS, directory, ...options,
  });
  return {
    ...s3,
    stop: async () => {
      await s3.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The S3 error a command ends with (code and HTTP status), or 'ok'. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (err instanceof S3ServiceException) return `${err.$metadata.httpStatusCode} ${err.name}`;
    throw err;
  }
}
