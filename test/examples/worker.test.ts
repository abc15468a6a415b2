/**
 * The example worker (examples/worker.ts) against the local stack's SQS stand-in (fauxqs, with DLQ
 * redrive), fed by real uploads: partial batch failures are redelivered and then dead-lettered, successes
 * are never redelivered, and a crashed invocation loses nothing.
 */
import type { SQSEvent } from 'aws-lambda';
import { createUploadWorker } from '../../examples/worker';
import { startLocalEventSource } from '../../src/local/event-source';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { parseUploadMessages, UploadMessage } from '../../src/worker';
import { drain, makePng, putSigned, signFor } from '../local/helpers';

const MAX_RECEIVES = 3;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    verifyUploads: false,
    sendTestEvent: false,
    maxReceiveCount: MAX_RECEIVES,
    visibilityTimeoutSeconds: 0, // a failed message is visible again at once: redeliveries happen within pump()
  });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.flush();
  await drain(stack);
  await drain(stack, stack.deadLetterQueueUrl);
});

/** Uploads a small PNG as `user` with the presigned PUT; returns its key. */
async function upload(user: string): Promise<string> {
  const png = makePng(2, 2);
  const signed = await signFor(stack, png, {}, user);
  expect((await putSigned(signed.url, signed.headers ?? {}, png)).status).toBe(200);
  return signed.key;
}

/** Runs the mapping until the queue is empty. */
async function consume(handler: Parameters<typeof startLocalEventSource>[0]['handler'], batchSize = 10): Promise<void> {
  const source = startLocalEventSource({ sqs: stack.sqs, queueUrl: stack.queueUrl, handler, batchSize, pollIntervalMs: 60_000 });
  try {
    await source.pump();
  } finally {
    await source.stop();
  }
}

test('failed messages are redelivered, then land in the DLQ after maxReceiveCount; succeeded ones are not redelivered', async () => {
  const good = [await upload('alice'), await upload('bob'), await upload('carol')];
  const bad = [await upload('poison'), await upload('poison')];
  await stack.flush();

  const seen = new Map<string, number>();
  const worker = createUploadWorker(async (u: UploadMessage) => {
    seen.set(u.key, (seen.get(u.key) ?? 0) + 1);
    if (u.key.includes('/poison/')) throw new Error('cannot process');
  }, () => undefined);
  await consume(worker as never);

  for (const key of good) expect({ key, times: seen.get(key) }).toEqual({ key, times: 1 });
  for (const key of bad) expect({ key, times: seen.get(key) }).toEqual({ key, times: MAX_RECEIVES });
  const dead = await drain(stack, stack.deadLetterQueueUrl);
  const deadUploads = parseUploadMessages({ Records: dead.map((m) => ({ messageId: m.MessageId!, body: m.Body ?? '' })) })
    .flatMap((m) => (m.ok ? m.uploads : []));
  expect(deadUploads.map((u) => u.key).sort()).toEqual([...bad].sort());
  expect(await drain(stack)).toEqual([]);
});

test('an invocation that crashes mid-batch loses nothing: the whole batch comes back and is processed on retry', async () => {
  const keys = [await upload('dave'), await upload('erin'), await upload('frank'), await upload('grace')];
  await stack.flush();

  const processed: string[] = [];
  let crashes = 0;
  const inner = createUploadWorker(async (u: UploadMessage) => {
    processed.push(u.key);
  }, () => undefined);
  // The runtime dies (timeout, out of memory) after the second record of the first batch.
  const crashing = async (event: SQSEvent) => {
    if (crashes === 0) {
      crashes++;
      await inner({ Records: event.Records.slice(0, 2) });
      throw new Error('Runtime exited with error: signal: killed');
    }
    return inner(event);
  };
  await consume(crashing as never);

  expect(crashes).toBe(1);
  expect([...new Set(processed)].sort()).toEqual([...keys].sort()); // nothing lost
  expect(processed.length).toBeGreaterThan(keys.length); // at-least-once: the first two were processed again
  expect(await drain(stack, stack.deadLetterQueueUrl)).toEqual([]);
  expect(await drain(stack)).toEqual([]);
});

test('a message that is not an S3 event fails alone; the others are processed', async () => {
  const processed: string[] = [];
  const worker = createUploadWorker(async (u) => { processed.push(u.key); }, () => undefined);
  const body = JSON.stringify({ Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'uploads/a/my+photo%2B1.png', size: 3, eTag: 'e' } } }] });
  const response = await worker({ Records: [{ messageId: 'm1', body: '{"not":"s3"}' }, { messageId: 'm2', body }] } as SQSEvent);
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  expect(processed).toEqual(['uploads/a/my photo+1.png']);
});
