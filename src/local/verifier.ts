/**
 * The verifier's event source mapping, locally: the generic local SQS event source (event-source.ts)
 * running the real verifier handler (the same module as the Lambda, with SDK adapters on the local
 * clients). `pump()` is what the bridge calls after each notification and `LocalStack.flush()` awaits.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startLocalEventSource } from './event-source';
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
  return startLocalEventSource({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    handler,
    log: (line) => (options.log ?? (() => undefined))(line),
    pollIntervalMs: options.pollIntervalMs,
  });
}
