/**
 * The verifier's event source mapping, locally: receives batches from the verification queue, runs the
 * real verifier handler on them (the same module as the Lambda, with SDK adapters on the local clients),
 * deletes what succeeded and leaves failures to SQS (visibility timeout, redrive to the DLQ).
 *
 * Deterministic for tests: `pump()` drains the queue of every visible message and resolves when done;
 * the bridge calls it after each notification and `LocalStack.flush()` awaits it. A slow timer also
 * pumps, so retried messages are picked up again in the demo.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { s3ObjectStore, sqsMessageSender } from '../verifier/aws';
import { VerifierConfig } from '../verifier/config';
import { createVerifierHandler } from '../verifier/handler';

/** Options of {@link startLocalVerifier}. */
export interface LocalVerifierOptions {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** The verification queue (the event source). */
  readonly queueUrl: string;
  readonly config: VerifierConfig;
  /** Verifier log lines. @default - discarded */
  readonly log?: (line: string) => void;
  /** Pumps on a timer too (for redeliveries after the visibility timeout). @default 1000 */
  readonly pollIntervalMs?: number;
}

/** A running local event source mapping. */
export interface LocalVerifier {
  /** Processes every visible message on the queue; resolves when the queue has none left. */
  pump(): Promise<void>;
  stop(): Promise<void>;
}

export function startLocalVerifier(options: LocalVerifierOptions): LocalVerifier {
  const handler = createVerifierHandler(options.config, {
    store: s3ObjectStore(options.s3, options.config.bucket),
    sender: sqsMessageSender(options.sqs),
    log: options.log ?? (() => undefined),
  });
  let stopped = false;
  let current: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  async function drainOnce(): Promise<void> {
    while (!stopped) {
      const { Messages = [] } = await options.sqs.send(new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }));
      if (Messages.length === 0) return;
      const { batchItemFailures } = await handler({
        Records: Messages.map((m) => ({ messageId: m.MessageId ?? '', body: m.Body ?? '' })),
      });
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
      if (done.length > 0) {
        await options.sqs.send(new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }));
      }
    }
  }

  // Serialised: a pump requested while one runs starts after it, so it sees everything sent before the call.
  function pump(): Promise<void> {
    if (!current) {
      current = drainOnce().finally(() => {
        current = undefined;
      });
      return current;
    }
    queued ??= current.then(() => {
      queued = undefined;
      return pump();
    });
    return queued;
  }

  const timer = setInterval(() => {
    if (!current) pump().catch((err: unknown) => (options.log ?? (() => undefined))(`[local verifier] ${String(err)}`));
  }, options.pollIntervalMs ?? 1000);
  timer.unref();

  return {
    pump,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await (queued ?? current)?.catch(() => undefined);
    },
  };
}
