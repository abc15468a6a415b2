/**
 * The messages a worker receives on the construct's `queue`: S3 ObjectCreated records of the upload
 * prefix, each with the verifier's `verification` result (when `verifyUploads` is on, the default).
 * No AWS SDK, no aws-cdk-lib.
 */
import { decodeS3EventKey, type VerificationResult } from '../contract/queue-message';

export type { VerificationResult } from '../contract/queue-message';

/** One uploaded object, as announced on the queue. */
export interface UploadMessage {
  /** The SQS message it came in (report it in `batchItemFailures` when processing fails). */
  readonly messageId: string;
  /** `ObjectCreated:Put`, `ObjectCreated:Post`, `ObjectCreated:CompleteMultipartUpload`... */
  readonly eventName: string;
  readonly eventTime?: string;
  readonly bucket: string;
  /** The object key, decoded (S3 events form-URL-encode keys: `+` for a space, `%XX` for the rest). */
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /**
   * The version the event is about (versioned buckets, the construct's default): read, and claim, exactly
   * this one. With the key it is the upload's idempotency key (delivery is at-least-once).
   */
  readonly versionId?: string;
  /** The verifier's result; absent when the construct runs without the verifier. */
  readonly verification?: VerificationResult;
  /** The original filename the upload was signed with (decoded, any Unicode), when the client gave one. */
  readonly filename?: string;
  /** The app metadata the upload was signed with (`metadataKeys`), decoded, when the client sent some. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What one SQS message held: its uploads, or why it could not be read. */
export type ParsedMessage =
  | { readonly ok: true; readonly messageId: string; readonly uploads: readonly UploadMessage[] }
  | { readonly ok: false; readonly messageId: string; readonly error: string };

/** The part of an SQS event (aws-lambda's `SQSEvent`) this module reads. */
export interface SqsEventLike {
  readonly Records: ReadonlyArray<{ readonly messageId: string; readonly body: string }>;
}

interface S3RecordLike {
  readonly eventName?: unknown;
  readonly eventTime?: unknown;
  readonly s3?: {
    readonly bucket?: { readonly name?: unknown };
    readonly object?: { readonly key?: unknown; readonly size?: unknown; readonly eTag?: unknown; readonly versionId?: unknown };
  };
  readonly verification?: VerificationResult;
}

/**
 * Reads every message of an SQS batch. A message that is not an S3 event notification (or a record without
 * bucket or key) comes back `ok: false`, so the caller can report it alone; `s3:TestEvent` holds no uploads.
 *
 * @example
 * for (const message of parseUploadMessages(event)) {
 *   if (!message.ok) { failures.push({ itemIdentifier: message.messageId }); continue; }
 *   for (const upload of message.uploads) await process(upload);
 * }
 */
export function parseUploadMessages(event: SqsEventLike): ParsedMessage[] {
  return event.Records.map(({ messageId, body }): ParsedMessage => {
    try {
      return { ok: true, messageId, uploads: uploadsIn(messageId, body) };
    } catch (err) {
      return { ok: false, messageId, error: err instanceof Error ? err.message : String(err) };
    }
  });
}

function uploadsIn(messageId: string, body: string): UploadMessage[] {
  const message = JSON.parse(body) as { Event?: unknown; Records?: unknown } | null;
  if (message?.Event === 's3:TestEvent') return [];
  if (!Array.isArray(message?.Records)) throw new Error('not an S3 event notification (no Records array)');
  return (message.Records as S3RecordLike[]).map((record) => {
    const object = record?.s3?.object;
    const bucket = record?.s3?.bucket?.name;
    if (typeof object?.key !== 'string' || typeof bucket !== 'string') throw new Error('S3 event record without bucket or key');
    return {
      messageId,
      eventName: typeof record.eventName === 'string' ? record.eventName : '',
      ...(typeof record.eventTime === 'string' ? { eventTime: record.eventTime } : {}),
      bucket,
      key: decodeS3EventKey(object.key),
      size: typeof object.size === 'number' ? object.size : 0,
      eTag: typeof object.eTag === 'string' ? object.eTag : '',
      ...(typeof object.versionId === 'string' && object.versionId !== 'null' ? { versionId: object.versionId } : {}),
      ...(record.verification ? { verification: record.verification } : {}),
      ...(typeof record.verification?.filename === 'string' ? { filename: record.verification.filename } : {}),
      ...(record.verification?.metadata ? { metadata: record.verification.metadata } : {}),
    };
  });
}
