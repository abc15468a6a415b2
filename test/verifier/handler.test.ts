/**
 * The verifier handler with in-memory S3 and SQS fakes: decisions, tags, messages, idempotency, failures.
 */
import { rejections, setup, verified } from './fakes';
import { HTML, SVG, makeJpeg, makePdf, makePng } from './samples';
import { ETAG_TAG, REASON_TAG, rejectionReasonTag, VERIFIED_TAG, VerificationResult } from '../../src/contract/queue-message';

describe('verified uploads', () => {
  test.each([false, true])('a real PNG is announced with the S3 record and a verification result, then tagged (versioned bucket: %s)', async (versioned) => {
    const t = setup({ versioned });
    const key = 'uploads/alice/a b.png';
    const eTag = t.put(key, makePng(5, 5), 'image/png');
    const versionId = t.objects.get(key)!.versionId;
    expect(await t.deliver(t.eventFor(key))).toEqual({ batchItemFailures: [] });
    expect(t.objects.get(key)!.tags).toEqual({ [VERIFIED_TAG]: 'true', [ETAG_TAG]: eTag });
    const [message] = verified(t.sent);
    expect(message.Records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { object: { key: 'uploads/alice/a+b.png' } },
      verification: { status: 'verified', contentType: 'image/png', detectedType: 'image/png', method: 'signature', eTag, verifiedAt: '2030-01-02T03:04:05.000Z' },
    });
    // The consumers' idempotency key is key + versionId.
    expect(message.Records[0].verification.versionId).toBe(versionId);
    expect(rejections(t.sent)).toEqual([]);
  });

  test('one tag write per upload; S3 requests: GET, GetObjectTagging, PutObjectTagging (+ one HEAD when unversioned)', async () => {
    const versioned = setup({ versioned: true });
    versioned.put('uploads/u/a.png', makePng(3, 3), 'image/png');
    await versioned.deliver(versioned.eventFor('uploads/u/a.png'));
    expect(versioned.calls).toEqual(['readStart uploads/u/a.png@v1', 'getTags uploads/u/a.png@v1', 'tag uploads/u/a.png@v1']);

    const plain = setup();
    plain.put('uploads/u/a.png', makePng(3, 3), 'image/png');
    await plain.deliver(plain.eventFor('uploads/u/a.png'));
    expect(plain.calls).toEqual(['readStart uploads/u/a.png', 'getTags uploads/u/a.png', 'tag uploads/u/a.png', 'headObject uploads/u/a.png']);
  });

  test('a redelivered event does nothing: no second notification, no second tagging', async () => {
    const t = setup({ versioned: true });
    t.put('uploads/u/x.jpg', makeJpeg(), 'image/jpeg');
    await t.deliver(t.eventFor('uploads/u/x.jpg'));
    const tagsBefore = t.calls.filter((c) => c.startsWith('tag')).length;
    expect(await t.deliver(t.eventFor('uploads/u/x.jpg'), t.eventFor('uploads/u/x.jpg'))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.calls.filter((c) => c.startsWith('tag'))).toHaveLength(tagsBefore);
  });

  test('nothing is tagged before it is announced: a failed notification leaves the object untagged, and the retry finishes', async () => {
    const t = setup();
    t.put('uploads/u/x.png', makePng(2, 2), 'image/png');
    t.failNextSend();
    expect(await t.deliver(t.eventFor('uploads/u/x.png'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(t.objects.get('uploads/u/x.png')!.tags).toEqual({});
    expect(await t.deliver(t.eventFor('uploads/u/x.png'))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent)).toHaveLength(1);
    expect(t.objects.get('uploads/u/x.png')!.tags[VERIFIED_TAG]).toBe('true');
  });

  test('a failure between the notification and the tag write is retried: announced again (at-least-once), tagged once', async () => {
    const t = setup({ versioned: true });
    t.put('uploads/u/y.png', makePng(2, 2), 'image/png');
    const putTags = t.store.putTags;
    t.store.putTags = async () => {
      t.store.putTags = putTags;
      throw Object.assign(new Error('Slow Down'), { name: 'SlowDown' });
    };
    expect(await t.deliver(t.eventFor('uploads/u/y.png'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(await t.deliver(t.eventFor('uploads/u/y.png'))).toEqual({ batchItemFailures: [] });
    expect(verified(t.sent).map((m) => m.Records[0].verification.versionId)).toEqual(['v1', 'v1']);
    expect(t.objects.get('uploads/u/y.png')!.tags[VERIFIED_TAG]).toBe('true');
  });

  test('a type without a signature (text/plain, when allowed) passes when it holds no active content', async () => {
    const t = setup({ policy: { allowedContentTypes: ['text/plain'] } });
    t.put('uploads/u/n.txt', Buffer.from('hello\n'), 'text/plain; charset=utf-8');
    await t.deliver(t.eventFor('uploads/u/n.txt'));
    expect(verified(t.sent)[0].Records[0].verification).toMatchObject({ contentType: 'text/plain', method: 'no-signature' });
  });
});

describe('write-once: the verifier never tags bytes it did not read', () => {
  test('versioned: a replacement between the read and the tag write leaves the new version untagged; each version is judged on its own', async () => {
    const t = setup({ versioned: true });
    const key = 'uploads/mallory/swap.png';
    const goodETag = t.put(key, makePng(4, 4), 'image/png');
    const event = t.eventFor(key);
    // WHEN a replayed form writes HTML to the key while the verifier checks the PNG
    t.afterNextHead(() => t.put(key, HTML, 'image/png'));
    await t.deliver(event);

    // THEN the tag is on the PNG's version only; the current version (the HTML) stays untagged, so the gate denies it
    const [png, html] = t.objects.versions(key);
    expect(png.tags).toEqual({ [VERIFIED_TAG]: 'true', [ETAG_TAG]: goodETag });
    expect(html.tags).toEqual({});
    expect(t.calls).toContain(`tag ${key}@${png.versionId}`);
    expect(verified(t.sent).map((m) => m.Records[0].verification.versionId)).toEqual([png.versionId]);

    // AND the HTML's own event rejects exactly its version: tagged with the reason, then hidden by a delete marker
    await t.deliver(t.eventFor(key, html.eTag, html.versionId));
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'ACTIVE_CONTENT' }, versionId: html.versionId, action: 'deleted' }]);
    expect(t.calls.slice(-2)).toEqual([`tag ${key}@${html.versionId}`, `delete ${key}`]);
    expect(html.tags).toMatchObject({ [VERIFIED_TAG]: 'false', 'direct-upload:rejected': 'ACTIVE_CONTENT' });
    expect(png.tags).toEqual({ [VERIFIED_TAG]: 'true', [ETAG_TAG]: goodETag });
    expect(t.objects.has(key)).toBe(false);
  });

  test('unversioned: a replacement between the read and the tag write is detected and the tag taken off', async () => {
    const t = setup();
    const key = 'uploads/mallory/swap.png';
    const pngETag = t.put(key, makePng(4, 4), 'image/png');
    const event = t.eventFor(key);
    t.afterNextHead(() => t.put(key, HTML, 'image/png'));
    await t.deliver(event);

    // The tag write landed on the HTML (S3 had dropped the PNG's tags with it); the ETag check took it off.
    expect(t.objects.get(key)!.body).toBe(HTML);
    expect(t.objects.get(key)!.tags[VERIFIED_TAG]).toBeUndefined();
    // The announcement names the bytes that were read (a consumer reading with IfMatch gets nothing else).
    expect(verified(t.sent).map((m) => m.Records[0].verification.eTag)).toEqual([pngETag]);

    await t.deliver(t.eventFor(key));
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'ACTIVE_CONTENT' } }]);
    expect(t.objects.has(key)).toBe(false);
  });

  test('a rejected version is tagged with its reason and hidden behind a delete marker; the verified version before it keeps its tags', async () => {
    const t = setup({ versioned: true });
    const key = 'uploads/u/k.png';
    t.put(key, makePng(2, 2), 'image/png');
    await t.deliver(t.eventFor(key));
    t.put(key, makeJpeg(), 'image/png');
    await t.deliver(t.eventFor(key));
    expect(rejections(t.sent)).toMatchObject([{ rejection: { code: 'CONTENT_MISMATCH' }, versionId: 'v2' }]);
    expect(t.objects.versions(key).map((v) => [v.versionId, v.tags[VERIFIED_TAG], v.deleteMarker ?? false])).toEqual([
      ['v1', 'true', false], ['v2', 'false', false], ['marker3', undefined, true],
    ]);
    expect(t.objects.versions(key)[1].tags[REASON_TAG]).toMatch(/^CONTENT_MISMATCH: [A-Za-z0-9 +\-=._:/@]+$/);
    // One request more than deleting the version (the tag write), on rejected uploads only.
    expect(t.calls.filter((c) => c.startsWith('tag ') || c.startsWith('delete '))).toEqual([
      `tag ${key}@v1`, `tag ${key}@v2`, `delete ${key}`,
    ]);
  });

  test('the reason tag is a valid S3 tag value whatever the message holds', () => {
    const value = rejectionReasonTag('CONTENT_MISMATCH', `declared "image/png" but <bytes> are 'image/jpeg' ${'x'.repeat(300)}`);
    expect(value).toMatch(/^CONTENT_MISMATCH: declared image\/png but bytes are image\/jpeg x+$/);
    expect(value.length).toBe(256);
  });

  test('S3\'s "null" version (a suspended bucket overwrites it in place) counts as unversioned: the replacement check runs', async () => {
    const t = setup();
    t.put('uploads/u/n.png', makePng(1, 1), 'image/png');
    await t.deliver(t.eventFor('uploads/u/n.png', undefined, 'null'));
    expect(t.calls).toEqual(['readStart uploads/u/n.png', 'getTags uploads/u/n.png', 'tag uploads/u/n.png', 'headObject uploads/u/n.png']);
  });
});

describe('response headers the uploader added', () => {
  test.each([
    ['content-disposition', 'inline; filename="x.html"'],
    ['content-encoding', 'gzip'],
    ['content-language', 'en'],
    ['cache-control', 'no-store'],
    ['cache-control', 'public, max-age=31536000'],
    ['expires', 'Thu, 01 Jan 2037 00:00:00 GMT'],
    ['x-amz-meta-anything', 'x'],
  ])('a stored %s: %s header: rejected (never served), the record names it', async (header, value) => {
    const t = setup({ versioned: true });
    t.put('uploads/u/h.png', makePng(2, 2), 'image/png', { [header]: value });
    await t.deliver(t.eventFor('uploads/u/h.png'));
    expect(verified(t.sent)).toEqual([]);
    const [record] = rejections(t.sent);
    expect(record).toMatchObject({ rejection: { code: 'UNEXPECTED_HEADERS' }, action: 'deleted' });
    expect(record.rejection.message).toContain(header);
    expect(t.objects.has('uploads/u/h.png')).toBe(false);
  });

  test('allow-listed metadata in the signer\'s encoding passes and is announced decoded; beyond the list, or in another encoding, it is rejected', async () => {
    const t = setup({ versioned: true, metadataKeys: ['album-id', 'caption'] });
    const signed = { 'x-amz-meta-filename': '%C3%BC.png', 'x-amz-meta-album-id': '42', 'x-amz-meta-caption': '%E6%9D%B1%E4%BA%AC' };
    t.put('uploads/u/ok.png', makePng(2, 2), 'image/png', signed);
    await t.deliver(t.eventFor('uploads/u/ok.png'));
    const announced = verified(t.sent).map((m) => (m as { Records: Array<{ verification: VerificationResult }> }).Records[0].verification);
    expect(announced.map((v) => [v.filename, v.metadata])).toEqual([['ü.png', { 'album-id': '42', 'caption': '東京' }]]);
    for (const [name, extra] of [['beyond', { 'x-amz-meta-owner': 'x' }], ['raw', { 'x-amz-meta-caption': '東京' }]] as const) {
      t.put(`uploads/u/${name}.png`, makePng(2, 2), 'image/png', { ...signed, ...extra });
      await t.deliver(t.eventFor(`uploads/u/${name}.png`));
    }
    const records = rejections(t.sent);
    expect(records.map((r) => [r.key, r.rejection.code, r.rejection.message.replace(/^.*: /, '')])).toEqual([
      ['uploads/u/beyond.png', 'UNEXPECTED_HEADERS', 'x-amz-meta-owner'],
      ['uploads/u/raw.png', 'UNEXPECTED_HEADERS', 'x-amz-meta-caption'],
    ]);
    // The record carries what could be read back: the filename and the metadata in the signer's encoding.
    expect(records.map((r) => [r.filename, r.metadata])).toEqual([['ü.png', { 'album-id': '42', 'caption': '東京' }], ['ü.png', { 'album-id': '42' }]]);
  });

  test.each(['max-age=0', 'no-cache'])('Cache-Control: %s, which Chromium (max-age=0) or Node\'s fetch (no-cache) adds to a request with If-None-Match, is tolerated', async (value) => {
    const t = setup({ versioned: true });
    t.put('uploads/u/c.png', makePng(2, 2), 'image/png', { 'cache-control': value });
    await t.deliver(t.eventFor('uploads/u/c.png'));
    expect(rejections(t.sent)).toEqual([]);
    expect(verified(t.sent)).toHaveLength(1);
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
    expect(t.objects.get('uploads/u/h.png')!.tags).toEqual({
      [VERIFIED_TAG]: 'false', [ETAG_TAG]: eTag, 'direct-upload:rejected': 'ACTIVE_CONTENT', [REASON_TAG]: expect.stringMatching(/^ACTIVE_CONTENT: ./),
    });
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
    t.store.readStart = async () => {
      throw Object.assign(new Error('Slow Down'), { name: 'SlowDown' });
    };
    expect(await t.deliver(t.eventFor('uploads/u/e.png'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(t.sent).toEqual([]);
  });
});
