/**
 * The S3 stand-in (src/local/s3.ts) against what S3 documents, for the behaviours the suite uses as
 * evidence: listings, conditional writes, tags on overwrite, versioning and POST policies.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { outcome, startTestS3 } from './helpers';
import type { LocalS3 } from '../../src/local/s3';
import type { ObjectCreated } from '../../src/local/s3-events';

let s3: LocalS3;
const created: ObjectCreated[] = [];

beforeAll(async () => {
  s3 = await startTestS3('local-s3-test', { onObjectCreated: (event) => created.push(event) });
});

afterAll(async () => {
  await s3?.stop();
});

const Bucket = 'local-s3-test';

describe('ListObjectsV2', () => {
  test('answers a SigV4-signed listing with a prefix', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'list/a/1.txt', Body: 'one' }));
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'list/a/2.txt', Body: 'two' }));
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'list/b.txt', Body: 'three' }));
    const res = await s3.client.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/a/' }));
    expect(res.KeyCount).toBe(2);
    expect(res.Contents?.map((o) => o.Key)).toEqual(['list/a/1.txt', 'list/a/2.txt']);
  });

  test('refuses an unsigned listing', async () => {
    const res = await fetch(`${s3.endpoint}/${Bucket}?list-type=2&prefix=list%2F`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });
});

describe('ListMultipartUploads', () => {
  test('lists the in-progress uploads under a prefix, oldest first, with their keys and ids', async () => {
    const key = 'mpu/x/file.bin';
    const first = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    const second = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    const other = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu/y/other.bin' }));
    const res = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: key }));
    expect(res.Bucket).toBe(Bucket);
    expect(res.Prefix).toBe(key);
    expect(res.IsTruncated).toBe(false);
    expect(res.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([[key, first.UploadId], [key, second.UploadId]]);
    for (const u of res.Uploads ?? []) expect(u.Initiated).toBeInstanceOf(Date);

    const all = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'mpu/' }));
    expect(all.Uploads?.map((u) => u.UploadId)).toEqual(expect.arrayContaining([first.UploadId, second.UploadId, other.UploadId]));
    expect(all.Uploads).toHaveLength(3);
  });

  test('an empty result for a prefix without uploads', async () => {
    const res = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'nothing/here' }));
    expect(res.Uploads ?? []).toEqual([]);
    expect(res.IsTruncated).toBe(false);
  });

  test('refuses an unsigned request', async () => {
    const res = await fetch(`${s3.endpoint}/${Bucket}?uploads&prefix=mpu%2F`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });
});

describe('ListMultipartUploads paging', () => {
  test('max-uploads truncates; key-marker and upload-id-marker resume after the last one listed', async () => {
    const ids: string[] = [];
    for (const key of ['page/a', 'page/a', 'page/b']) {
      ids.push((await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }))).UploadId!);
    }
    const first = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'page/', MaxUploads: 2 }));
    expect(first.Uploads?.map((u) => u.UploadId)).toEqual(ids.slice(0, 2));
    expect(first.IsTruncated).toBe(true);
    expect([first.NextKeyMarker, first.NextUploadIdMarker]).toEqual(['page/a', ids[1]]);
    const rest = await s3.client.send(new ListMultipartUploadsCommand({
      Bucket, Prefix: 'page/', MaxUploads: 2, KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker,
    }));
    expect(rest.Uploads?.map((u) => u.UploadId)).toEqual([ids[2]]);
    expect(rest.IsTruncated).toBe(false);
    const afterKey = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'page/', KeyMarker: 'page/a' }));
    expect(afterKey.Uploads?.map((u) => u.UploadId)).toEqual([ids[2]]);
  });
});

async function body(Key: string, VersionId?: string): Promise<string> {
  const res = await s3.client.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return res.Body!.transformToString();
}

/** Starts a one-part multipart upload of `text` and returns what completing it needs. */
async function partUploaded(Key: string, text: string): Promise<{ UploadId: string; ETag: string }> {
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const { ETag } = await s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: text }));
  return { UploadId: UploadId!, ETag: ETag! };
}

function complete(Key: string, upload: { UploadId: string; ETag: string }, IfNoneMatch?: string) {
  return s3.client.send(new CompleteMultipartUploadCommand({
    Bucket, Key, UploadId: upload.UploadId, IfNoneMatch, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: upload.ETag }] },
  }));
}

describe('conditional writes (If-None-Match: *)', () => {
  test('PutObject: 412 PreconditionFailed when the key exists, and the object is unchanged', async () => {
    const Key = 'cond/put.txt';
    expect(await outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'first', IfNoneMatch: '*' })))).toBe('ok');
    expect(await outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'second', IfNoneMatch: '*' }))))
      .toBe('412 PreconditionFailed');
    expect(await body(Key)).toBe('first');
  });

  test('CompleteMultipartUpload: 412 when the key was written after the upload began; the upload stays listed', async () => {
    const Key = 'cond/mpu.bin';
    const upload = await partUploaded(Key, 'multipart bytes');
    // An upload in progress is no object: a conditional PutObject to the key succeeds meanwhile.
    expect(await outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'put first', IfNoneMatch: '*' })))).toBe('ok');
    expect(await outcome(complete(Key, upload, '*'))).toBe('412 PreconditionFailed');
    expect(await body(Key)).toBe('put first');
    const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
    expect(listed.Uploads?.map((u) => u.UploadId)).toEqual([upload.UploadId]);
  });

  test('CompleteMultipartUpload with If-None-Match on a new key succeeds', async () => {
    const Key = 'cond/mpu-new.bin';
    expect(await outcome(complete(Key, await partUploaded(Key, 'only upload'), '*'))).toBe('ok');
    expect(await body(Key)).toBe('only upload');
  });

  test('of two concurrent conditional writes, exactly one succeeds', async () => {
    const Key = 'cond/race.txt';
    const results = await Promise.all(['a', 'b', 'c'].map((text) =>
      outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: text.repeat(100_000), IfNoneMatch: '*' })))));
    expect(results.sort()).toEqual(['412 PreconditionFailed', '412 PreconditionFailed', 'ok']);
  });

  test('without the header an overwrite succeeds', async () => {
    const Key = 'cond/plain.txt';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));
    expect(await body(Key)).toBe('two');
  });
});

describe('tags on overwrite', () => {
  test('an overwritten object has no tags (S3 never carries tags to the new object)', async () => {
    const Key = 'tags/overwrite.png';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'checked bytes' }));
    await s3.client.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'verified', Value: 'true' }] } }));
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet).toEqual([{ Key: 'verified', Value: 'true' }]);
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'replaced, unchecked bytes' }));
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet ?? []).toEqual([]);
  });

  test('a completed multipart upload over a tagged object has no tags either', async () => {
    const Key = 'tags/overwrite-mpu.png';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'checked bytes' }));
    await s3.client.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'verified', Value: 'true' }] } }));
    await complete(Key, await partUploaded(Key, 'replaced'));
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet ?? []).toEqual([]);
  });

  test('a write refused for its Content-MD5 leaves the object and its tags as they were', async () => {
    const Key = 'tags/bad-digest.png';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'kept' }));
    await s3.client.send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet: [{ Key: 'verified', Value: 'true' }] } }));
    expect(await outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'other', ContentMD5: '1B2M2Y8AsgTpgAmY7PhCfg==' }))))
      .toBe('400 BadDigest');
    expect(await body(Key)).toBe('kept');
    expect((await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet).toEqual([{ Key: 'verified', Value: 'true' }]);
  });
});

describe('versioning (the bucket is versioned, as the construct\'s is)', () => {
  const tag = (Key: string, VersionId: string | undefined, Value: string) =>
    s3.client.send(new PutObjectTaggingCommand({ Bucket, Key, VersionId, Tagging: { TagSet: [{ Key: 'verified', Value }] } }));
  const tags = async (Key: string, VersionId?: string) =>
    (await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId }))).TagSet ?? [];

  test('every write creates a new versionId; reads without one serve the current version', async () => {
    const Key = 'ver/a.txt';
    const one = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    const two = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));
    const three = await complete(Key, await partUploaded(Key, 'three'));
    const ids = [one.VersionId, two.VersionId, three.VersionId];
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(ids).size).toBe(3);
    expect(await body(Key)).toBe('three');
    expect(await body(Key, one.VersionId)).toBe('one');
    expect(await body(Key, two.VersionId)).toBe('two');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket, Key, VersionId: one.VersionId }));
    expect([head.ContentLength, head.VersionId]).toEqual([3, one.VersionId]);
    expect((await s3.client.send(new GetObjectCommand({ Bucket, Key }))).VersionId).toBe(three.VersionId);
  });

  test('the object-created event carries the versionId the write answered', async () => {
    const Key = 'ver/event.txt';
    const put = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'evented' }));
    const done = await complete(Key, await partUploaded(Key, 'evented again'));
    expect(created.filter((e) => e.key === Key).map((e) => [e.eventName, e.versionId])).toEqual([
      ['ObjectCreated:Put', put.VersionId],
      ['ObjectCreated:CompleteMultipartUpload', done.VersionId],
    ]);
  });

  test('tags belong to a version: tagging one version leaves the others as they are', async () => {
    const Key = 'ver/tags.png';
    const old = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'old' }));
    await tag(Key, old.VersionId, 'true');
    const current = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'new' }));
    expect(await tags(Key)).toEqual([]);
    expect(await tags(Key, old.VersionId)).toEqual([{ Key: 'verified', Value: 'true' }]);
    await tag(Key, current.VersionId, 'current');
    await tag(Key, old.VersionId, 'old');
    expect(await tags(Key)).toEqual([{ Key: 'verified', Value: 'current' }]);
    expect(await tags(Key, current.VersionId)).toEqual([{ Key: 'verified', Value: 'current' }]);
    expect(await tags(Key, old.VersionId)).toEqual([{ Key: 'verified', Value: 'old' }]);
    const tagged = await s3.client.send(new GetObjectTaggingCommand({ Bucket, Key }));
    expect(tagged.VersionId).toBe(current.VersionId);
  });

  test('an unknown versionId is NoSuchVersion', async () => {
    const Key = 'ver/unknown.txt';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const VersionId = 'A'.repeat(32);
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key, VersionId })))).toBe('404 NoSuchVersion');
    expect(await outcome(s3.client.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId })))).toBe('404 NoSuchVersion');
    expect(await outcome(tag(Key, VersionId, 'true'))).toBe('404 NoSuchVersion');
  });

  test('DeleteObject without versionId adds a delete marker; the versions stay readable', async () => {
    const Key = 'ver/deleted.txt';
    const put = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'kept as noncurrent' }));
    const del = await s3.client.send(new DeleteObjectCommand({ Bucket, Key }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key })))).toBe('404 NoSuchKey');
    expect(await body(Key, put.VersionId)).toBe('kept as noncurrent');
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key, VersionId: del.VersionId })))).toBe('405 MethodNotAllowed');
    // A conditional write treats a delete marker as no object.
    expect(await outcome(s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'again', IfNoneMatch: '*' })))).toBe('ok');
  });

  test('DeleteObject with versionId removes that version; removing the current one makes the previous current', async () => {
    const Key = 'ver/remove.txt';
    const one = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    await tag(Key, one.VersionId, 'true');
    const two = await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));
    const del = await s3.client.send(new DeleteObjectCommand({ Bucket, Key, VersionId: two.VersionId }));
    expect(del.VersionId).toBe(two.VersionId);
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key, VersionId: two.VersionId })))).toBe('404 NoSuchVersion');
    expect(await body(Key)).toBe('one');
    expect(await tags(Key)).toEqual([{ Key: 'verified', Value: 'true' }]);
    await s3.client.send(new DeleteObjectCommand({ Bucket, Key, VersionId: one.VersionId }));
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key })))).toBe('404 NoSuchKey');
    // A new object at the key starts without the deleted versions' tags.
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'three' }));
    expect(await tags(Key)).toEqual([]);
  });

  test('CopyObject is refused as not emulated rather than copied past versioning and tags', async () => {
    const Key = 'ver/copy-target.txt';
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'ver/copy-source.txt', Body: 'source' }));
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'target' }));
    expect(await outcome(s3.client.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/ver/copy-source.txt` }))))
      .toBe('501 NotImplemented');
    expect(await body(Key)).toBe('target');
  });

  test('noncurrent versions are not listed as objects, nor their folders as buckets', async () => {
    const Key = 'ver/listed.txt';
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket, Prefix: Key }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([[Key, 3]]);
    const res = await s3.client.send(new ListObjectsV2Command({ Bucket }));
    expect(res.Contents?.every((o) => !o.Key!.includes('_S3rver_'))).toBe(true);
  });
});

describe('unsigned requests', () => {
  test('a multipart/form-data content type does not make a bucket or object request exempt from signing', async () => {
    const headers = { 'content-type': 'multipart/form-data; boundary=x' };
    const create = await fetch(`${s3.endpoint}/${Bucket}/forged/key.bin?uploads`, { method: 'POST', headers, body: '--x--' });
    expect([create.status, /<Code>([^<]+)</.exec(await create.text())?.[1]]).toEqual([403, 'AccessDenied']);
    const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'forged/' }));
    expect(listed.Uploads ?? []).toEqual([]);
  });
});
