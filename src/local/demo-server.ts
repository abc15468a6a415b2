/**
 * The demo page's server: serves the page (its own origin, like a web app would have), tells it where
 * the local stack is, and long-polls the notification queue on its behalf (the page plays the
 * post-processing worker: it receives and deletes the messages).
 */
import { readFile } from 'node:fs/promises';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
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
  /** The option naming the port, for the port-taken message. @default 'port' */
  readonly portOption?: string;
  /** Called with each queue message the page receives. */
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
    "script-src 'self' 'unsafe-inline'",
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
  const polls = new Set<AbortController>();

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
      case '/config.json':
        json(res, 200, {
          signerUrl: stack.signerUrl,
          s3Endpoint: stack.s3Endpoint,
          cdnUrl: stack.cdnUrl,
          queueUrl: stack.queueUrl,
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
        json(res, 200, { messages: await poll(stack, wait, req) });
        return;
      }
      default:
        json(res, 404, { error: { code: 'NOT_FOUND', message: `No ${url.pathname} here; the demo page is at /.` } });
    }
  }

  async function poll(current: LocalStack, waitSeconds: number, req: IncomingMessage): Promise<DemoMessage[]> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    req.socket.once('close', abort);
    polls.add(controller);
    try {
      const received = await current.sqs.send(new ReceiveMessageCommand({
        QueueUrl: current.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }), { abortSignal: controller.signal });
      const messages = received.Messages ?? [];
      if (messages.length > 0) {
        await current.sqs.send(new DeleteMessageBatchCommand({
          QueueUrl: current.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }));
      }
      return messages.map((m) => {
        const body = parseJson(m.Body ?? '');
        options.onMessage?.(body);
        return { messageId: m.MessageId ?? '', body, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) };
      });
    } catch (err) {
      if (controller.signal.aborted) return [];
      throw err;
    } finally {
      req.socket.off('close', abort);
      polls.delete(controller);
    }
  }

  const port = await listen(server, host, options.port ?? 0, 'demo page', options.portOption ?? 'port');
  let stopped: Promise<void> | undefined;
  return {
    url: origin(host, port),
    port,
    use: (s) => {
      stack = s;
    },
    stop: () => (stopped ??= (async () => {
      for (const c of polls) c.abort();
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
