/**
 * Example upload worker: a Lambda consuming `uploads.queue` with partial batch failure reporting.
 *
 *   worker.addEventSource(new SqsEventSource(uploads.queue, { batchSize: 10, reportBatchItemFailures: true }));
 *
 * Each message is processed on its own: one that fails is reported in `batchItemFailures`, so SQS
 * redelivers only it (after the visibility timeout) and, after `maxReceiveCount` receives, moves it to
 * `uploads.deadLetterQueue`; the messages that succeeded are deleted and never redelivered. If the
 * invocation itself crashes (timeout, out of memory), the whole batch comes back: nothing is lost, so
 * `processUpload` must be idempotent (at-least-once delivery; the same upload may also be announced
 * twice): key it on `key` + `versionId`, and read exactly that version (`VersionId`). Keep the queue's visibility timeout at
 * least six times the worker's timeout.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** One uploaded object, from the S3 event on the queue. */
export interface Upload {
  readonly bucket: string;
  /** Decoded (S3 events URL-encode keys, `+` for space). */
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /** The version the event is about (versioned buckets, the construct's default): read this one. */
  readonly versionId?: string;
  /** With `verifyUploads` (the default): the verifier's result, `status: 'verified'`. */
  readonly verification?: { readonly status: string; readonly contentType?: string };
}

/** Your processing; throw to have the message retried. */
export type ProcessUpload = (upload: Upload, record: SQSRecord) => Promise<void>;

interface S3EventRecordLike {
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string; versionId?: string } };
  verification?: Upload['verification'];
}

/** The uploads in one queue message (none for `s3:TestEvent`). Throws on a message that is not an S3 event. */
export function uploadsOf(body: string): Upload[] {
  const message = JSON.parse(body) as { Event?: string; Records?: S3EventRecordLike[] };
  if (message.Event === 's3:TestEvent') return [];
  if (!Array.isArray(message.Records)) throw new Error('not an S3 event notification');
  return message.Records.map((r) => {
    const key = r.s3?.object?.key;
    const bucket = r.s3?.bucket?.name;
    if (typeof key !== 'string' || typeof bucket !== 'string') throw new Error('S3 event record without bucket or key');
    return {
      bucket,
      key: decodeURIComponent(key.replace(/\+/g, ' ')),
      size: r.s3?.object?.size ?? 0,
      eTag: r.s3?.object?.eTag ?? '',
      ...(r.s3?.object?.versionId ? { versionId: r.s3.object.versionId } : {}),
      ...(r.verification ? { verification: r.verification } : {}),
    };
  });
}

/** A batch handler that reports each failed message instead of failing the batch. */
export function createUploadWorker(
  processUpload: ProcessUpload,
  log: (line: string) => void = (line) => console.error(line),
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        for (const upload of uploadsOf(record.body)) await processUpload(upload, record);
      } catch (err) {
        log(`[upload worker] message ${record.messageId} failed (receive ${record.attributes?.ApproximateReceiveCount ?? '?'}): ${err instanceof Error ? err.message : String(err)}`);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

/** The deployed example: logs each upload (replace with your thumbnails, scanning, database writes...). */
export const handler = createUploadWorker(async (upload) => {
  console.log(JSON.stringify({ uploaded: upload.key, size: upload.size, verification: upload.verification?.status }));
});
