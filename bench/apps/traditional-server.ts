/**
 * Figure 3's comparison: the traditional flow, where the application server receives the file as
 * multipart/form-data and forwards it to S3 — what an Express app with multer (busboy) and the AWS SDK
 * does. It applies the same upload policy as the signer (type, size, key under the caller's scope), so
 * only where the bytes go differs.
 *
 * `POST /upload` (form field `file`, caller in the `x-local-user` header, as on the local stack) →
 * `201 { key, publicUrl }`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import busboy from 'busboy';
import { extensionFor, normalizeContentType, SignerPolicy } from '../../src/contract/upload-rules';

export interface TraditionalServerOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly policy: SignerPolicy;
  /** Base URL objects are served from. */
  readonly publicBaseUrl: string;
}

/** What the server received, for the figure's "bytes through the app". */
interface Received {
  readonly key: string;
  readonly bytes: number;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the single `file` part into memory (multer's memoryStorage), enforcing the policy's limits. */
function readFile(req: IncomingMessage, policy: SignerPolicy): Promise<{ contentType: string; body: Buffer } | { status: number; code: string }> {
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: policy.maxFileSize, fields: 10 } });
    } catch {
      resolve({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      return;
    }
    let result: { contentType: string; body: Buffer } | { status: number; code: string } = { status: 400, code: 'INVALID_REQUEST' };
    parser.on('file', (name, stream, info) => {
      const contentType = normalizeContentType(info.mimeType);
      if (name !== 'file' || contentType === undefined || !policy.allowedContentTypes.includes(contentType)) {
        result = { status: 415, code: 'CONTENT_TYPE_NOT_ALLOWED' };
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        result = stream.truncated
          ? { status: 413, code: 'FILE_TOO_LARGE' }
          : { contentType, body: Buffer.concat(chunks) };
      });
    });
    parser.on('error', () => resolve({ status: 400, code: 'INVALID_REQUEST' }));
    parser.on('close', () => resolve(result));
    req.pipe(parser);
  });
}

/** Creates (does not start) the traditional upload server. */
export function createTraditionalServer(options: TraditionalServerOptions): Server & { readonly received: Received[] } {
  const received: Received[] = [];
  const { policy } = options;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/upload') {
        req.resume();
        reply(res, 404, { error: { code: 'NOT_FOUND', message: 'POST /upload' } });
        return;
      }
      const user = req.headers['x-local-user'];
      if (typeof user !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(user)) {
        req.resume();
        reply(res, 401, { error: { code: 'UNAUTHORIZED', message: 'no caller' } });
        return;
      }
      const file = await readFile(req, policy);
      if ('status' in file) {
        reply(res, file.status, { error: { code: file.code, message: file.code } });
        return;
      }
      const key = `${policy.prefix}/${user}/${randomUUID()}${extensionFor(file.contentType)}`;
      try {
        await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: file.body, ContentType: file.contentType }));
      } catch (err) {
        reply(res, 502, { error: { code: 'UPSTREAM_ERROR', message: err instanceof Error ? err.message : String(err) } });
        return;
      }
      received.push({ key, bytes: file.body.length });
      reply(res, 201, { key, publicUrl: `${options.publicBaseUrl}/${key}` });
    })().catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, { error: { code: 'INTERNAL_ERROR', message: String(err) } });
    });
  });
  return Object.assign(server, { received });
}
