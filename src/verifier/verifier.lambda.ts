/**
 * Lambda entry point of the upload verifier: a thin adapter. Configuration and clients are built once,
 * at cold start. A broken configuration is logged once; every batch then fails (SQS retries, then
 * moves the messages to the dead-letter queue), so no upload is ever passed unverified.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { s3ObjectStore, sqsMessageSender } from './aws';
import { loadVerifierConfig, VerifierConfig } from './config';
import { createVerifierHandler, SqsBatch, SqsBatchResponse } from './handler';

let config: VerifierConfig | undefined;
let configError: string | undefined;
try {
  config = loadVerifierConfig(process.env);
} catch (err) {
  configError = err instanceof Error ? err.message : String(err);
  console.error(`cdk-direct-upload verifier: ${configError}`);
}

const verify = config
  ? createVerifierHandler(config, {
    store: s3ObjectStore(new S3Client({}), config.bucket),
    sender: sqsMessageSender(new SQSClient({})),
    // One raw JSON object per log event (console.log would prefix a timestamp and request id), so the
    // construct's metric filters ($.outcome, $.scan) match them.
    log: (line) => { process.stdout.write(`${line}\n`); },
  })
  : undefined;

export async function handler(event: SqsBatch): Promise<SqsBatchResponse> {
  if (!verify) {
    return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
  return verify(event);
}
