/**
 * The CDN stand-in: serves objects from the local S3 (read with credentials, as CloudFront's Origin
 * Access Control does) with the response headers the CloudFront response headers policy sets,
 * generated from the same source (`deliveryHeaders()`). No caching: every request goes to the origin.
 */
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { signedUrlProblem } from './cdn-signature';
import { contentDispositionFor } from '../contract/delivery';
import { FILENAME_METADATA } from '../contract/filename';

/** Options of {@link createCdnListener}. */
export interface CdnListenerOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Headers set on every response, overriding the origin's (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** Where faults are reported. @default console.error */
  readonly log?: (line: string) => void;
  /**
   * The verification gate (the bucket policy's Deny for CloudFront): objects under `prefix/` are served
   * only when they carry the tag `tagKey` = `tagValue`; otherwise 403, as S3 answers CloudFront.
   * @default - no gate (verifyUploads: false)
   */
  readonly gate?: { readonly prefix: string; readonly tagKey: string; readonly tagValue: string };
  /**
   * Types served inline; others get `Content-Disposition: attachment` (the CloudFront Function's rule).
   * @default - no Content-Disposition is added
   */
  readonly inlineContentTypes?: readonly string[];
  /**
   * Signed delivery: serve only CloudFront-signed URLs made with one of these public keys (by key id),
   * as a distribution with a trusted key group does; 403 otherwise.
   * @default - public delivery
   */
  readonly trustedKeys?: ReadonlyMap<string, KeyObject>;
  /** The clock the signed URLs' expiry is checked against. @default - `new Date()` */
  readonly now?: () => Date;
}

/** The object key for a request path (`/uploads/a%20b.png` → `uploads/a b.png`), or undefined. */
export function keyFromPath(rawUrl: string): string | undefined {
  const pathOnly = rawUrl.split('?', 1)[0];
  if (!pathOnly.startsWith('/') || pathOnly.length < 2) return undefined;
  try {
    // S3 decodes %XX in the path; a literal `+` stays a `+`.
    return decodeURIComponent(pathOnly.slice(1));
  } catch {
    return undefined;
  }
}

/** A Node `request` listener serving the bucket's objects. */
export function createCdnListener(options: CdnListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => console.error(line));
  return (req, res) => {
    void serve(req, res).catch((err: unknown) => {
      log(`[local cdn] ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) {
        sendText(res, 502, 'Bad Gateway');
      } else {
        res.destroy();
      }
    });
  };

  function disposition(contentType: string | undefined, metadata: Record<string, string> | undefined): Record<string, string> {
    if (!options.inlineContentTypes) return {};
    const value = contentDispositionFor(contentType, options.inlineContentTypes, metadata?.[FILENAME_METADATA]);
    return value ? { 'content-disposition': value } : {};
  }

  function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
    const body = Buffer.from(text + '\n', 'utf8');
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      ...extra,
      ...options.headers,
    });
    res.end(body);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      return;
    }
    if (options.trustedKeys) {
      const problem = signedUrlProblem(`http://${req.headers.host ?? ''}`, req.url ?? '/', options.trustedKeys, (options.now ?? (() => new Date()))());
      if (problem) {
        sendText(res, 403, problem);
        return;
      }
    }
    const key = keyFromPath(req.url ?? '/');
    if (key === undefined) {
      sendText(res, 404, 'Not Found');
      return;
    }
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    try {
      const gate = options.gate;
      // The gate reads the current version's tags, then serves exactly that version: bytes written after
      // the check (a new, untagged version) are not served under the old version's tags.
      let VersionId: string | undefined;
      if (gate && key.startsWith(`${gate.prefix}/`)) {
        const tagging = await options.client.send(new GetObjectTaggingCommand({ Bucket: options.bucket, Key: key }));
        if (!(tagging.TagSet ?? []).some((t) => t.Key === gate.tagKey && t.Value === gate.tagValue)) {
          sendText(res, 403, 'Forbidden');
          return;
        }
        VersionId = tagging.VersionId;
      }
      if (method === 'HEAD') {
        const head = await options.client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key, VersionId }));
        res.writeHead(200, {
          ...originHeaders(head),
          ...disposition(head.ContentType, head.Metadata),
          ...(head.ContentLength !== undefined ? { 'content-length': String(head.ContentLength) } : {}),
          ...options.headers,
        });
        res.end();
        return;
      }
      const object = await options.client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key, Range: range, VersionId }));
      const body = object.Body as Readable | undefined;
      res.writeHead(object.ContentRange ? 206 : 200, {
        ...originHeaders(object),
        ...disposition(object.ContentType, object.Metadata),
        ...(object.ContentLength !== undefined ? { 'content-length': String(object.ContentLength) } : {}),
        ...(object.ContentRange ? { 'content-range': object.ContentRange } : {}),
        'accept-ranges': 'bytes',
        ...options.headers,
      });
      if (!body) {
        res.end();
        return;
      }
      res.once('close', () => body.destroy());
      body.pipe(res);
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      if (status === 404 || (err as { name?: string }).name === 'NoSuchKey' || (err as { name?: string }).name === 'NotFound') {
        sendText(res, 404, 'Not Found');
        return;
      }
      if (status === 416) {
        sendText(res, 416, 'Range Not Satisfiable');
        return;
      }
      throw err;
    }
  }
}

interface OriginMetadata {
  readonly ContentType?: string;
  readonly ETag?: string;
  readonly LastModified?: Date;
}

function originHeaders(meta: OriginMetadata): Record<string, string> {
  return {
    ...(meta.ContentType ? { 'content-type': meta.ContentType } : {}),
    ...(meta.ETag ? { etag: meta.ETag } : {}),
    ...(meta.LastModified ? { 'last-modified': meta.LastModified.toUTCString() } : {}),
  };
}
