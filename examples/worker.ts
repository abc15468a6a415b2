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
 * twice): key it on `key` + `versionId`, and read exactly that version (`VersionId`). With
 * `unclaimedUploadExpiry`, claim what you keep: `await claimUpload(new S3({}), upload)` (after `grantClaimUploads`). Keep the queue's visibility timeout at
 * least six times the worker's timeout.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseUploadMessages, UploadMessage } from '../src/worker'; // in your app: 'cdk-direct-upload/worker'

/** Your processing; throw to have the message retried. */
export type ProcessUpload = (upload: UploadMessage, record: SQSRecord) => Promise<void>;

/** A batch handler that reports each failed message instead of failing the batch. */
export function createUploadWorker(
  processUpload: ProcessUpload,
  log: (line: string) => void = (line) => console.error(line),
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const [message] = parseUploadMessages({ Records: [record] });
      try {
        if (!message.ok) throw new Error(message.error);
        for (const upload of message.uploads) await processUpload(upload, record);
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
  // filename and metadata: what the client signed the upload with (decoded; absent when it sent none).
  console.log(JSON.stringify({
    uploaded: upload.key, size: upload.size, verification: upload.verification?.status, filename: upload.filename, metadata: upload.metadata,
  }));
});
