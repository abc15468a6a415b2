/**
 * The verifier handler with in-memory S3 and SQS fakes: decisions, tags, messages, idempotency, failures.
 */
import { HTML, SVG, makeJpeg, makePdf, makePng } from './samples';
import { localPolicy } from '../../src/local/local-stack';
import { encodeS3EventKey } from '../../src/local/s3-events';
import type { UploadPolicy } from '../../src/policy';
import type { VerifierConfig } from '../../src/verifier/config';
import { createVerifierHandler, MessageSender, ObjectStore } from '../../src/verifier/handler';
import { ETAG_TAG, NOTIFIED_TAG, RejectionRecord, VERIFIED_TAG } from '../../src/verifier/protocol';

interface StoredObject { body: Buffer; contentType?: string; eTag: string; tags: Record<string, string> }

function fakes() {
  const objects = new Map<string, StoredObject>();
  const sent: Array<{ queueUrl: string; body: any }> = [];
  const calls: string[] = [];
  let failSendOnce = false;
  const store: ObjectStore = {
    async head(key, bytes) {
      calls.push(`head ${key}`);
      const o = objects.get(key);
      return o && { size: o.body.length, contentType: o.contentType, eTag: o.eTag, body: o.body.subarray(0, bytes) };
    },
    async read(key, start, end) {
      calls.push(`read ${key} ${start}-${end}`);
      return objects.get(key)!.body.subarray(start, end + 1);
    },
    async getTags(key) {
      return objects.has(key) ? { ...objects.get(key)!.tags } : undefined;
    },
    async putTags(key, tags) {
      calls.push(`tag ${key}`);
      const o = objects.get(key);
      if (!o) return false;
      o.tags = { ...tags };
      return true;
    },
    async delete(key) {
      calls.push(`delete ${key}`);
      objects.delete(key);
    },
  };
  const sender: MessageSender = {
    async send(queueUrl, body) {
      if (failSendOnce) {
        failSendOnce = false;
        throw new Error('SQS is down');
      }
      sent.push({ queueUrl, body: JSON.parse(body) });
    },
  };
  return { objects, sent, calls, store, sender, failNextSend: () => { failSendOnce = true; } };
}

const VERIFIED_URL = 'http://sqs.local/verified';
const REJECTED_URL = 'http://sqs.local/rejected';

function setup(overrides: { policy?: Partial<UploadPolicy>; rejectedObjects?: 'delete' | 'retain' } = {}) {
  const f = fakes();
  const config: VerifierConfig = {
    bucket: 'b',
    policy: localPolicy(overrides.policy),
    verifiedQueueUrl: VERIFIED_URL,
    rejectionQueueUrl: REJECTED_URL,
    rejectedObjects: overrides.rejectedObjects ?? 'delete',
  };
  const handler = createVerifierHandler(config, { ...f, now: () => new Date('2030-01-02T03:04:05Z'), log: () => undefined });
  let n = 0;
  const put = (key: string, body: Buffer, contentType?: string) => {
    const eTag = `etag${++n}`;
    f.objects.set(key, { body, contentType, eTag, tags: {} });
    return eTag;
  };
  const eventFor = (key: string, eTag: string | undefined = f.objects.get(key)?.eTag) => ({
    Records: [{
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'b' }, object: { key: encodeS3EventKey(key), size: f.objects.get(key)?.body.length ?? 0, eTag } },
    }],
  });
  const deliver = (...bodies: unknown[]) => handler({
    Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) })),
  });
  return { ...f, put, eventFor, deliver };
}

type Sent = Array<{ queueUrl: string; body: any }>;
const rejections = (sent: Sent) => sent.filter((s) => s.queueUrl === REJECTED_URL).map((s) => s.body as RejectionRecord);
const verified = (sent: Sent) => sent.filter((s) => s.queueUrl === VERIFIED_URL).map((s) => s.body);

describe('verified uploads', () => {
  test('a real PNG is tagged, then announced on the public queue with the S3 record and a verification result', async () => {
    const t = setup();
    const key = 'uploads/alice/a b.png';
    const eTag = t.put(key, makePng(5, 5), 'image/png');
    expect(await t.deliver(t.eventFor(key))).toEqual({ batchItemFailures: [] });
    expect(t.objects.get(key)!.tags).toEqual({ [VERIFIED_TAG]: 'true', [ETAG_TAG]: eTag, [NOTIFIED_TAG]: 'true' });
    const [message] = verified(t.sent);
    expect(message.Records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { object: { key: 'uploads/alice/a+b.png' } },
      verification: { status: 'verified', contentType: 'image/png', detectedType: 'image/png', method: 'signature', eTag, verifiedAt: '2030-01-02T03:04:05.000Z' },
    });
    expect(rejections(t.sent)).toEqual([]);
    // Reads only the head (the PNG is smaller than 4 KiB: no second read).
    expect(t.calls.filter((c) => c.startsWith('read'))).toEqual([]);
  });

  test('a redelivered event does nothing: no second notification, no second tagging', async () => {
    const t = setup();
    t.put('uploads/u/x.jpg', makeJpeg(), 'image/jpeg');
    await t.deliver(t.eventFor('uploads/u/x.jpg'));
    const tagsBefore = t.calls.filter((c) => c.startsWith('tag')).length;
    expect(await t.deliver(t.eventFor('uploads/u/x.jpg'), t.eventFor('uploads/u/x.jpg'))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.calls.filter((c) => c.startsWith('tag'))).toHaveLength(tagsBefore);
  });

  test('a crash between tagging and notifying is finished on the retry, with exactly one notification', async () => {
    const t = setup();
    t.put('uploads/u/x.png', makePng(2, 2), 'image/png');
    t.failNextSend();
    expect(await t.deliver(t.eventFor('uploads/u/x.png'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(t.objects.get('uploads/u/x.png')!.tags[NOTIFIED_TAG]).toBeUndefined();
    expect(await t.deliver(t.eventFor('uploads/u/x.png'))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.objects.get('uploads/u/x.png')!.tags[NOTIFIED_TAG]).toBe('true');
  });

  test('a type without a signature (text/plain, when allowed) passes when it holds no active content', async () => {
    const t = setup({ policy: { allowedContentTypes: ['text/plain'] } });
    t.put('uploads/u/n.txt', Buffer.from('hello\n'), 'text/plain; charset=utf-8');
    await t.deliver(t.eventFor('uploads/u/n.txt'));
    expect(verified(t.sent)[0].Records[0].verification).toMatchObject({ contentType: 'text/plain', method: 'no-signature' });
  });
});

describe('rejected uploads', () => {
  test.each([
    ['HTML labelled image/png', 'image/png', HTML, 'ACTIVE_CONTENT', 'text/html'],
    ['SVG labelled image/png', 'image/png', SVG, 'ACTIVE_CONTENT', 'image/svg+xml'],
    ['a JPEG labelled image/png', 'image/png', makeJpeg(), 'CONTENT_MISMATCH', 'image/jpeg'],
    ['a truncated PNG', 'image/png', makePng(30, 30).subarray(0, 60), 'TRUNCATED', 'image/png'],
    ['an empty file', 'image/png', Buffer.alloc(0), 'EMPTY', undefined],
    ['random bytes labelled image/webp', 'image/webp', Buffer.from('0123456789abcdef'), 'UNRECOGNIZED_CONTENT', undefined],
    ['a PDF when only images are allowed', 'application/pdf', makePdf(), 'CONTENT_TYPE_NOT_ALLOWED', undefined],
    ['a text file with a script', 'text/plain', Buffer.from('hi <script>alert(1)</script>'), 'ACTIVE_CONTENT', undefined],
  ])('%s: recorded, then deleted; never announced', async (_name, type, body, code, detected) => {
    const t = setup({ policy: { allowedContentTypes: ['image/png', 'image/webp', 'text/plain'] } });
    const key = 'uploads/mallory/x.bin';
    const eTag = t.put(key, body, type);
    expect(await t.deliver(t.eventFor(key))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent)).toEqual([]);
    const [record] = rejections(t.sent);
    expect(record).toMatchObject({ rejection: { code }, bucket: 'b', key, size: body.length, eTag, action: 'deleted' });
    expect(record.detectedType).toBe(detected);
    expect(t.objects.has(key)).toBe(false);
    // A redelivery finds nothing and records nothing more.
    await t.deliver(t.eventFor(key, eTag));
    expect(rejections(t.sent)).toHaveLength(1);
  });

  test('a file larger than maxFileSize (e.g. a multipart upload) is rejected', async () => {
    const t = setup({ policy: { maxFileSize: 100 } });
    t.put('uploads/u/big.png', makePng(40, 40, [9, 200, 30]), 'image/png');
    await t.deliver(t.eventFor('uploads/u/big.png'));
    expect(rejections(t.sent)[0].rejection.code).toBe('FILE_TOO_LARGE');
  });

  test('retain mode tags the object as rejected instead of deleting it; a redelivery records nothing more', async () => {
    const t = setup({ rejectedObjects: 'retain' });
    const eTag = t.put('uploads/u/h.png', HTML, 'image/png');
    await t.deliver(t.eventFor('uploads/u/h.png'));
    expect(t.objects.get('uploads/u/h.png')!.tags).toEqual({ [VERIFIED_TAG]: 'false', [ETAG_TAG]: eTag, 'direct-upload:rejected': 'ACTIVE_CONTENT' });
    expect(rejections(t.sent)[0].action).toBe('retained');
    await t.deliver(t.eventFor('uploads/u/h.png'));
    expect(rejections(t.sent)).toHaveLength(1);
    expect(t.calls).not.toContain('delete uploads/u/h.png');
  });

  test('an object outside the prefix is recorded but never touched', async () => {
    const t = setup();
    t.put('elsewhere/x.png', HTML, 'image/png');
    await t.deliver(t.eventFor('elsewhere/x.png'));
    expect(rejections(t.sent)[0]).toMatchObject({ rejection: { code: 'OUTSIDE_PREFIX' }, action: 'none' });
    expect(t.objects.has('elsewhere/x.png')).toBe(true);
    expect(t.calls).toEqual([]);
  });
});

describe('robustness', () => {
  test('an object already deleted is done (no failure, nothing sent)', async () => {
    const t = setup();
    expect(await t.deliver(t.eventFor('uploads/u/gone.png', 'etag-x'))).toEqual({ batchItemFailures: [] });
    expect(t.sent).toEqual([]);
  });

  test('a stale event (the object was replaced since) is left to the newer object\'s event', async () => {
    const t = setup();
    t.put('uploads/u/r.png', makePng(1, 1), 'image/png');
    await t.deliver(t.eventFor('uploads/u/r.png', 'an-older-etag'));
    expect(t.sent).toEqual([]);
    expect(t.objects.get('uploads/u/r.png')!.tags).toEqual({});
  });

  test('a replaced object whose tags describe its predecessor is verified again', async () => {
    const t = setup();
    t.put('uploads/u/r.png', makePng(1, 1), 'image/png');
    await t.deliver(t.eventFor('uploads/u/r.png'));
    // An overwrite lands, and a verifier tag write raced onto it: the tags name the old ETag.
    const o = t.objects.get('uploads/u/r.png')!;
    o.body = HTML;
    o.eTag = 'etag-new';
    await t.deliver(t.eventFor('uploads/u/r.png'));
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'ACTIVE_CONTENT' }, eTag: 'etag-new' }]);
    expect(t.objects.has('uploads/u/r.png')).toBe(false);
  });

  test('a poison message fails alone (partial batch response); the s3:TestEvent is ignored', async () => {
    const t = setup();
    t.put('uploads/u/ok.png', makePng(1, 1), 'image/png');
    const result = await t.deliver('{not json', { Service: 'Amazon S3', Event: 's3:TestEvent' }, t.eventFor('uploads/u/ok.png'), { hello: 1 });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm3' }]);
    expect(verified(t.sent)).toHaveLength(1);
  });

  test('a storage error fails the message, so SQS retries it (then the DLQ)', async () => {
    const t = setup();
    t.put('uploads/u/e.png', makePng(1, 1), 'image/png');
    t.store.head = async () => {
      throw Object.assign(new Error('Slow Down'), { name: 'SlowDown' });
    };
    expect(await t.deliver(t.eventFor('uploads/u/e.png'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(t.sent).toEqual([]);
  });
});
