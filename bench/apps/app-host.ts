/**
 * A child process hosting "the application side" of figure 3, so that its CPU time
 * (`process.cpuUsage()`) and the bytes it receives are its own and not the S3 stand-in's:
 *
 * - `direct`: the local stack's signer — the real handler behind the local HTTP API adapter, configured
 *   from the environment the local stack gives it (S3 endpoint in the parent process);
 * - `traditional`: the multipart/form-data server that forwards files to the same S3 stand-in.
 *
 * Driven over IPC by bench/figures/server-cost.ts: `start` → `started { url }`, `usage` → `usage {...}`,
 * `stop` → exits.
 */
import { createServer, Server } from 'node:http';
import type { Socket } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { createTraditionalServer } from './traditional-server';
import { SignerPolicy } from '../../src/contract/upload-rules';
import { createHttpApiListener, SIGNER_CORS_HEADERS, SIGNER_CORS_METHODS } from '../../src/local/http-api';
import { loadSignerConfig } from '../../src/signer/config';
import { createSignerHandler, SignerHandler } from '../../src/signer/handler';

export type StartMessage =
  | { readonly type: 'start'; readonly mode: 'direct'; readonly env: Record<string, string> }
  | {
    readonly type: 'start';
    readonly mode: 'traditional';
    readonly s3Endpoint: string;
    readonly region: string;
    readonly bucket: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
    readonly policy: SignerPolicy;
    readonly publicBaseUrl: string;
  };

export type HostRequest = StartMessage | { readonly type: 'usage' } | { readonly type: 'stop' };

export interface Usage {
  readonly type: 'usage';
  /** Process CPU time so far, microseconds. */
  readonly userMicros: number;
  readonly systemMicros: number;
  /** Bytes read from / written to the app's HTTP clients (TCP payload: headers + bodies). */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Direct mode: CPU time spent inside the signer handler, microseconds. */
  readonly handlerMicros: number;
  readonly handlerCalls: number;
}

export type HostReply = { readonly type: 'started'; readonly url: string } | Usage | { readonly type: 'error'; readonly message: string };

function send(message: HostReply): void {
  process.send?.(message);
}

let server: Server | undefined;
const sockets = new Set<Socket>();
let closedRead = 0;
let closedWritten = 0;
let handlerMicros = 0;
let handlerCalls = 0;

/**
 * Adds the handler's own CPU time to the counters. Between its start and its end only the handler runs:
 * it awaits nothing but microtasks (no I/O), so no other request's callbacks interleave.
 */
function timed(handler: SignerHandler): SignerHandler {
  return async (event) => {
    const before = process.cpuUsage();
    try {
      return await handler(event);
    } finally {
      const used = process.cpuUsage(before);
      handlerMicros += used.user + used.system;
      handlerCalls++;
    }
  };
}

function start(message: StartMessage): Server {
  if (message.mode === 'direct') {
    const config = loadSignerConfig(message.env);
    return createServer(createHttpApiListener({
      handler: timed(createSignerHandler(config)),
      authorizer: { auth: config.policy.auth, identityClaim: config.policy.identityClaim },
      cors: { allowOrigins: [], allowMethods: SIGNER_CORS_METHODS, allowHeaders: SIGNER_CORS_HEADERS, maxAgeSeconds: 3600 },
    }));
  }
  // A typical app's client: SDK defaults, except path-style for the local endpoint.
  const s3 = new S3Client({
    endpoint: message.s3Endpoint,
    region: message.region,
    forcePathStyle: true,
    credentials: { ...message.credentials },
  });
  return createTraditionalServer({ s3, bucket: message.bucket, policy: message.policy, publicBaseUrl: message.publicBaseUrl });
}

process.on('message', (message: HostRequest) => {
  switch (message.type) {
    case 'start': {
      try {
        server = start(message);
      } catch (err) {
        send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        return;
      }
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => {
          closedRead += socket.bytesRead;
          closedWritten += socket.bytesWritten;
          sockets.delete(socket);
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const address = server?.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        send({ type: 'started', url: `http://127.0.0.1:${port}` });
      });
      return;
    }
    case 'usage': {
      const cpu = process.cpuUsage();
      let bytesRead = closedRead;
      let bytesWritten = closedWritten;
      for (const socket of sockets) {
        bytesRead += socket.bytesRead;
        bytesWritten += socket.bytesWritten;
      }
      send({
        type: 'usage',
        userMicros: cpu.user,
        systemMicros: cpu.system,
        bytesRead,
        bytesWritten,
        handlerMicros,
        handlerCalls,
      });
      return;
    }
    case 'stop': {
      for (const socket of sockets) socket.destroy();
      server?.close(() => process.exit(0));
      if (!server) process.exit(0);
      return;
    }
  }
});
