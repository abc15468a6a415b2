/**
 * AWS SDK adapters for the verifier's {@link ObjectStore} and {@link MessageSender}: used by the Lambda
 * (clients from the runtime's role) and by the local stack (clients on the local stand-ins).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MessageSender, ObjectStart, ObjectRef, ObjectStore } from './handler';

interface ServiceError {
  readonly name?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function errorCode(err: unknown): string | undefined {
  const e = err as ServiceError;
  return e?.Code ?? e?.name;
}

function isMissing(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || code === 'NotFound' || (err as ServiceError)?.$metadata?.httpStatusCode === 404;
}

function isEmptyRange(err: unknown): boolean {
  return errorCode(err) === 'InvalidRange' || (err as ServiceError)?.$metadata?.httpStatusCode === 416;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

/** What a GetObject answer says about the object (without its body). */
interface GetObjectAnswer {
  readonly ContentType?: string;
  readonly ETag?: string;
  readonly VersionId?: string;
  readonly CacheControl?: string;
  readonly ContentDisposition?: string;
  readonly ContentEncoding?: string;
  readonly ContentLanguage?: string;
  readonly ExpiresString?: string;
  readonly Expires?: Date;
  readonly WebsiteRedirectLocation?: string;
  readonly Metadata?: Record<string, string>;
}

/**
 * The response headers S3 stored with the object besides `Content-Type`. On a presigned request S3
 * refuses unsigned `x-amz-*` headers (user metadata, redirect location) but stores unsigned
 * `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Content-Language` and `Expires`.
 */
export function storedHeaders(res: GetObjectAnswer): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[name] = value;
  };
  set('cache-control', res.CacheControl);
  set('content-disposition', res.ContentDisposition);
  set('content-encoding', res.ContentEncoding);
  set('content-language', res.ContentLanguage);
  set('expires', res.ExpiresString ?? res.Expires?.toUTCString());
  set('x-amz-website-redirect-location', res.WebsiteRedirectLocation);
  for (const [name, value] of Object.entries(res.Metadata ?? {})) set(`x-amz-meta-${name.toLowerCase()}`, value);
  return out;
}

function describe(res: GetObjectAnswer, size: number, body: Uint8Array): ObjectStart {
  return {
    size,
    contentType: res.ContentType,
    eTag: unquote(res.ETag),
    ...(res.VersionId ? { versionId: res.VersionId } : {}),
    storedHeaders: storedHeaders(res),
    body,
  };
}

/** The verifier's S3 operations on one bucket, each on the named version when there is one. */
export function s3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  const at = (object: ObjectRef) => ({ Bucket: bucket, Key: object.key, ...(object.versionId ? { VersionId: object.versionId } : {}) });
  return {
    async readStart(object, bytes): Promise<ObjectStart | undefined> {
      try {
        const res = await client.send(new GetObjectCommand({ ...at(object), Range: `bytes=0-${bytes - 1}` }));
        const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
        const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
        return describe(res, total !== undefined ? Number(total) : res.ContentLength ?? body.length, body);
      } catch (err) {
        if (isMissing(err)) return undefined;
        // S3 answers 416 to any range on an empty object: it exists and has no bytes.
        if (isEmptyRange(err)) {
          try {
            const res = await client.send(new GetObjectCommand(at(object)));
            const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
            return describe(res, body.length, body);
          } catch (inner) {
            if (isMissing(inner)) return undefined;
            throw inner;
          }
        }
        throw err;
      }
    },
    async read(object, start, end, eTag) {
      const res = await client.send(new GetObjectCommand({ ...at(object), Range: `bytes=${start}-${end}`, IfMatch: `"${eTag}"` }));
      return res.Body ? res.Body.transformToByteArray() : new Uint8Array();
    },
    async getTags(object) {
      try {
        const res = await client.send(new GetObjectTaggingCommand(at(object)));
        return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async putTags(object, tags) {
      try {
        await client.send(new PutObjectTaggingCommand({
          ...at(object),
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }));
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },
    async delete(object) {
      await client.send(new DeleteObjectCommand(at(object)));
    },
    async currentETag(key) {
      try {
        return unquote((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
  };
}

/** Sends messages with an SQS client. */
export function sqsMessageSender(client: SQSClient): MessageSender {
  return {
    async send(queueUrl, body) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
  };
}
