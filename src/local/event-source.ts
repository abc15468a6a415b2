/**
 * A Lambda SQS event source mapping, locally, with `reportBatchItemFailures`: receives batches from a
 * queue, runs a handler on them, deletes what succeeded and leaves the rest to SQS (visibility timeout,
 * then redrive to the dead-letter queue after `maxReceiveCount` receives). A handler that throws (a
 * crashed invocation) fails the whole batch: every message of it comes back, nothing is lost.
 *
 * Deterministic for tests: `pump()` processes every visible message and resolves when the queue has none
 * left; a slow timer also pumps, for redeliveries after a visibility timeout.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** The part of an SQS event record handlers read. */
export interface LocalSqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: { readonly ApproximateReceiveCount: string };
  readonly eventSource: 'aws:sqs';
}

/** A batch handler with partial batch failure reporting. */
export type LocalBatchHandler = (event: { Records: LocalSqsRecord[] }) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

/** Options of {@link startLocalEventSource}. */
export interface LocalEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: LocalBatchHandler;
  /** @default 10 */
  readonly batchSize?: number;
  /** Where a crashed invocation is reported. @default - discarded */
  readonly log?: (line: string) => void;
  /** Pumps on a timer too (for redeliveries after the visibility timeout). @default 1000 */
  readonly pollIntervalMs?: number;
}

/** A running local event source mapping. */
export interface LocalEventSource {
  /** Processes every visible message on the queue; resolves when the queue has none left. */
  pump(): Promise<void>;
  stop(): Promise<void>;
}

export function startLocalEventSource(options: LocalEventSourceOptions): LocalEventSource {
  const log = options.log ?? (() => undefined);
  let stopped = false;
  let current: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  async function drainOnce(): Promise<void> {
    while (!stopped) {
      const { Messages = [] } = await options.sqs.send(new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }));
      if (Messages.length === 0) return;
      let failed: Set<string>;
      try {
        const { batchItemFailures } = await options.handler({
          Records: Messages.map((m) => ({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
            eventSource: 'aws:sqs' as const,
          })),
        });
        failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      } catch (err) {
        // As Lambda does: a failed invocation returns the whole batch to the queue.
        log(`[local event source] invocation failed, batch of ${Messages.length} returned to the queue: ${String(err)}`);
        failed = new Set(Messages.map((m) => m.MessageId ?? ''));
      }
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
    if (!current) pump().catch((err: unknown) => log(`[local event source] ${String(err)}`));
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
