/**
 * AWS SDK adapters for the verifier's {@link ObjectStore} and {@link MessageSender}: used by the Lambda
 * (clients from the runtime's role) and by the local stack (clients on the local stand-ins).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MessageSender, ObjectHead, ObjectStore } from './handler';

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

/** The verifier's S3 operations on one bucket. */
export function s3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  return {
    async head(key, bytes): Promise<ObjectHead | undefined> {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
        const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
        const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
        return {
          size: total !== undefined ? Number(total) : res.ContentLength ?? body.length,
          contentType: res.ContentType,
          eTag: unquote(res.ETag),
          body,
        };
      } catch (err) {
        if (isMissing(err)) return undefined;
        // S3 answers 416 to any range on an empty object: it exists and has no bytes.
        if (isEmptyRange(err)) {
          try {
            const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
            return { size: body.length, contentType: res.ContentType, eTag: unquote(res.ETag), body };
          } catch (inner) {
            if (isMissing(inner)) return undefined;
            throw inner;
          }
        }
        throw err;
      }
    },
    async read(key, start, end, eTag) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: `"${eTag}"` }));
      return res.Body ? res.Body.transformToByteArray() : new Uint8Array();
    },
    async getTags(key) {
      try {
        const res = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
        return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async putTags(key, tags) {
      try {
        await client.send(new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }));
        return true;
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
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
