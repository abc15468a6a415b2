/**
 * parseUploadMessages: keys decoded exactly as S3 encodes them, every field of the record, a bad message
 * reported alone.
 */
import { buildSync } from 'esbuild';
import { handler } from '../../examples/worker';
import { encodeS3EventKey } from '../../src/local/s3-events';
import { parseUploadMessages } from '../../src/worker';

const record = (key: string, extra: object = {}) => ({
  eventName: 'ObjectCreated:Put',
  eventTime: '2030-01-02T03:04:05.000Z',
  s3: { bucket: { name: 'b' }, object: { key: encodeS3EventKey(key), size: 12, eTag: 'e1', versionId: 'v1' } },
  ...extra,
});
const batch = (...bodies: unknown[]) => ({
  Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) })),
});

describe('parseUploadMessages', () => {
  test.each([
    'uploads/alice/a b.png',
    'uploads/alice/a+b.png',
    'uploads/alice/100% sure.png',
    'uploads/alice/ünïcødé 日本 🎉.jpg',
    'uploads/alice/~!*\'()&=;:@,$?#[].png',
  ])('decodes the key S3 encoded: %s', (key) => {
    const [message] = parseUploadMessages(batch({ Records: [record(key)] }));
    expect(message).toEqual({ ok: true, messageId: 'm0', uploads: [expect.objectContaining({ key })] });
  });

  test('carries the event, the object and the verification result', () => {
    const verification = { status: 'verified', contentType: 'image/png', method: 'signature', size: 12, eTag: 'e1', versionId: 'v1', verifiedAt: '2030-01-02T03:04:06.000Z' };
    const [message] = parseUploadMessages(batch({ Records: [record('uploads/u/x.png', { verification })] }));
    expect(message).toEqual({
      ok: true,
      messageId: 'm0',
      uploads: [{
        messageId: 'm0',
        eventName: 'ObjectCreated:Put',
        eventTime: '2030-01-02T03:04:05.000Z',
        bucket: 'b',
        key: 'uploads/u/x.png',
        size: 12,
        eTag: 'e1',
        versionId: 'v1',
        verification,
      }],
    });
  });

  test('S3\'s "null" version is no version (an unversioned or suspended bucket)', () => {
    const nullVersion = { ...record('uploads/u/x.png'), s3: { bucket: { name: 'b' }, object: { key: 'uploads/u/x.png', versionId: 'null' } } };
    const [message] = parseUploadMessages(batch({ Records: [nullVersion] }));
    expect(message.ok && message.uploads[0]).not.toHaveProperty('versionId');
  });

  test('a bad message is reported alone; the s3:TestEvent holds no uploads', () => {
    const parsed = parseUploadMessages(batch(
      { Records: [record('uploads/u/a.png')] },
      'not json',
      { hello: 'world' },
      { Records: [{ s3: { bucket: { name: 'b' }, object: {} } }] },
      { Event: 's3:TestEvent', Bucket: 'b' },
      'null',
    ));
    expect(parsed.map((m) => [m.messageId, m.ok])).toEqual([['m0', true], ['m1', false], ['m2', false], ['m3', false], ['m4', true], ['m5', false]]);
    expect(parsed[2]).toEqual({ ok: false, messageId: 'm2', error: 'not an S3 event notification (no Records array)' });
    expect(parsed[3]).toEqual({ ok: false, messageId: 'm3', error: 'S3 event record without bucket or key' });
    expect(parsed[4]).toEqual({ ok: true, messageId: 'm4', uploads: [] });
  });
});

test('cdk-direct-upload/worker is dependency-free: its bundle imports no package, only node:crypto (to sign download URLs)', () => {
  const result = buildSync({ entryPoints: ['src/worker/index.ts'], bundle: true, write: false, platform: 'neutral', packages: 'external', metafile: true, logLevel: 'silent' });
  const imports = Object.values(result.metafile!.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
  expect([...new Set(imports)]).toEqual(['node:crypto']);
});

test('the signed filename and metadata of the verification are on the upload itself; the example worker prints them', async () => {
  const verification = {
    status: 'verified', contentType: 'image/png', method: 'signature', size: 12, eTag: 'e1', verifiedAt: 't', filename: 'Фото.png', metadata: { 'album-id': '42' },
  };
  const event = batch({ Records: [record('uploads/a/k.png', { verification }), record('uploads/a/l.png')] });
  const [message] = parseUploadMessages(event);
  const uploads = message.ok ? message.uploads : [];
  expect(uploads.map((u) => [u.filename, u.metadata])).toEqual([['Фото.png', { 'album-id': '42' }], [undefined, undefined]]);

  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => { lines.push(line); });
  try {
    await handler(event as never);
  } finally {
    log.mockRestore();
  }
  expect(JSON.parse(lines[0])).toMatchObject({ uploaded: 'uploads/a/k.png', filename: 'Фото.png', metadata: { 'album-id': '42' } });
});
