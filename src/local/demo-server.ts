/**
 * The demo page's server: serves the page (its own origin, like a web app would have), tells it where
 * the local stack is, serves the page's script (the typed client, bundled) and consumes the notification
 * queue on its behalf (the page plays the post-processing worker: it long-polls /api/messages).
 */
import { readFile } from 'node:fs/promises';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { bundleDemoScript } from './demo-bundle';
import { LOCAL_USER_HEADER } from './http-api';
import type { LocalStack } from './local-stack';
import { close, listen, origin } from './net';

/** Where the demo page lives in this repository. */
export const DEFAULT_DEMO_PAGE = path.join(__dirname, '..', '..', 'examples', 'web', 'index.html');

/** Longest long poll the page may ask for, in seconds (the SQS maximum). */
export const MAX_POLL_SECONDS = 20;

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 = a free port. @default 0 */
  readonly port?: number;
  /** The page to serve. @default DEFAULT_DEMO_PAGE */
  readonly pageFile?: string;
  /** The page's script (served as /demo.js), bundled with the typed client. @default DEMO_SCRIPT_ENTRY */
  readonly scriptEntry?: string;
  /** The option naming the port, for the port-taken message. @default 'port' */
  readonly portOption?: string;
  /**
   * Consume the stack's notification queue (received and deleted, kept for the page). Off for a second
   * server on the same stack, which would otherwise take half the messages. @default true
   */
  readonly consumeQueue?: boolean;
  /** Called with each queue message the server receives. */
  readonly onMessage?: (body: unknown) => void;
}

/** A queue message as the page receives it. */
export interface DemoMessage {
  readonly messageId: string;
  /** The parsed body (an S3 event notification or `s3:TestEvent`). */
  readonly body: unknown;
  readonly receiveCount: number;
}

/** A running demo server. */
export interface DemoServer {
  /** The page's URL (also its origin: allow it on the stack). */
  readonly url: string;
  readonly port: number;
  /** Connects the server to a local stack (until then it answers 503). */
  use(stack: LocalStack): void;
  stop(): Promise<void>;
}

/** The Content-Security-Policy of the demo page: it may talk to the signer and S3 and show CDN images, nothing else. */
export function demoContentSecurityPolicy(stack: Pick<LocalStack, 'signerUrl' | 's3Endpoint' | 'cdnUrl'>): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ${stack.signerUrl} ${stack.s3Endpoint}`,
    `img-src 'self' blob: ${stack.cdnUrl}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Starts the demo server. Listen first, then start the stack with its URL allowed, then `use(stack)`. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const host = options.host ?? '127.0.0.1';
  const pageFile = options.pageFile ?? DEFAULT_DEMO_PAGE;
  let stack: LocalStack | undefined;
  const script = await bundleDemoScript(options.scriptEntry);

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        json(res, 500, { error: { code: 'INTERNAL_ERROR', message: err instanceof Error ? err.message : String(err) } });
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://demo.local');
    if (req.method !== 'GET') {
      json(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'The demo server only answers GET.' } });
      return;
    }
    if (!stack) {
      json(res, 503, { error: { code: 'NOT_READY', message: 'The local stack is still starting; reload in a moment.' } });
      return;
    }
    switch (url.pathname) {
      case '/':
      case '/index.html': {
        const page = await readFile(pageFile);
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': String(page.length),
          'content-security-policy': demoContentSecurityPolicy(stack),
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        res.end(page);
        return;
      }
      case '/demo.js':
        res.writeHead(200, {
          'content-type': 'text/javascript; charset=utf-8',
          'content-length': String(script.length),
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        res.end(script);
        return;
      case '/config.json':
        json(res, 200, {
          signerUrl: stack.signerUrl,
          s3Endpoint: stack.s3Endpoint,
          cdnUrl: stack.cdnUrl,
          queueUrl: stack.queueUrl,
          rejectionQueueUrl: stack.rejectionQueueUrl,
          deadLetterQueueUrl: stack.deadLetterQueueUrl,
          bucket: stack.bucket,
          prefix: stack.policy.prefix,
          allowedContentTypes: stack.policy.allowedContentTypes,
          maxFileSize: stack.policy.maxFileSize,
          identityHeader: LOCAL_USER_HEADER,
        });
        return;
      case '/api/messages': {
        const wait = Math.max(0, Math.min(MAX_POLL_SECONDS, Math.floor(Number(url.searchParams.get('wait') ?? '10')) || 0));
        json(res, 200, { messages: await poll(wait, req) });
        return;
      }
      default:
        json(res, 404, { error: { code: 'NOT_FOUND', message: `No ${url.pathname} here; the demo page is at /.` } });
    }
  }

  // One consumer for the queue, running from use(stack) to stop(): a long poll tied to a page's request would
  // lose the messages it was handed when the page went away mid-poll (they stay invisible for the visibility
  // timeout). Received messages are deleted and kept here until a page asks for them.
  const inbox: DemoMessage[] = [];
  const waiters = new Set<() => void>();
  const consumer = new AbortController();
  let consuming: Promise<void> | undefined;

  async function consume(current: LocalStack): Promise<void> {
    while (!consumer.signal.aborted) {
      try {
        const received = await current.sqs.send(new ReceiveMessageCommand({
          QueueUrl: current.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: MAX_POLL_SECONDS,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }), { abortSignal: consumer.signal });
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        await current.sqs.send(new DeleteMessageBatchCommand({
          QueueUrl: current.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }));
        for (const m of messages) {
          const body = parseJson(m.Body ?? '');
          options.onMessage?.(body);
          inbox.push({ messageId: m.MessageId ?? '', body, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) });
        }
        for (const wake of [...waiters]) wake();
      } catch {
        if (consumer.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 1000)); // the stand-in is stopping or busy: ask again shortly
      }
    }
  }

  /** The messages received so far (taken from the inbox), waiting up to `waitSeconds` for one. */
  async function poll(waitSeconds: number, req: IncomingMessage): Promise<DemoMessage[]> {
    if (inbox.length === 0 && waitSeconds > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          req.socket.off('close', done);
          consumer.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, waitSeconds * 1000);
        waiters.add(done);
        req.socket.once('close', done);
        consumer.signal.addEventListener('abort', done, { once: true });
      });
    }
    if (req.socket.destroyed) return []; // the page went away: keep the messages for the next one
    return inbox.splice(0, inbox.length);
  }

  const port = await listen(server, host, options.port ?? 0, 'demo page', options.portOption ?? 'port');
  let stopped: Promise<void> | undefined;
  return {
    url: origin(host, port),
    port,
    use: (s) => {
      stack = s;
      if (options.consumeQueue ?? true) consuming ??= consume(s);
    },
    stop: () => (stopped ??= (async () => {
      consumer.abort();
      await consuming;
      await close(server);
    })()),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), 'cache-control': 'no-store' });
  res.end(bytes);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
