/**
 * ListObjectVersions on the S3 stand-in (src/local/s3-list-versions.ts), as S3 documents it: by key, newest
 * first, delete markers interleaved, `IsLatest` on the current entry, signed requests only.
 */
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestS3 } from './helpers';
import type { LocalS3 } from '../../src/local/s3';

let s3: LocalS3;
const Bucket = 'list-versions-test';

beforeAll(async () => {
  s3 = await startTestS3(Bucket);
});

afterAll(async () => {
  await s3?.stop();
});

test('lists the versions and delete markers of the keys under a prefix, newest first, with sizes and ETags', async () => {
  const one = await s3.client.send(new PutObjectCommand({ Bucket, Key: 'v/a.txt', Body: 'one' }));
  const two = await s3.client.send(new PutObjectCommand({ Bucket, Key: 'v/a.txt', Body: 'second' }));
  const marker = await s3.client.send(new DeleteObjectCommand({ Bucket, Key: 'v/a.txt' }));
  const other = await s3.client.send(new PutObjectCommand({ Bucket, Key: 'v/b.txt', Body: 'bee' }));
  await s3.client.send(new PutObjectCommand({ Bucket, Key: 'w/c.txt', Body: 'not listed' }));

  const res = await s3.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'v/' }));
  expect(res.IsTruncated).toBe(false);
  expect(res.DeleteMarkers?.map((d) => [d.Key, d.VersionId, d.IsLatest])).toEqual([['v/a.txt', marker.VersionId, true]]);
  expect(res.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size, v.ETag])).toEqual([
    ['v/a.txt', two.VersionId, false, 6, two.ETag],
    ['v/a.txt', one.VersionId, false, 3, one.ETag],
    ['v/b.txt', other.VersionId, true, 3, other.ETag],
  ]);
});

test('max-keys truncates the listing and names where it stopped', async () => {
  await s3.client.send(new PutObjectCommand({ Bucket, Key: 'm/1', Body: 'x' }));
  const second = await s3.client.send(new PutObjectCommand({ Bucket, Key: 'm/2', Body: 'y' }));
  const res = await s3.client.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'm/', MaxKeys: 1 }));
  expect(res.Versions?.map((v) => v.Key)).toEqual(['m/1']);
  expect([res.IsTruncated, res.NextKeyMarker, res.NextVersionIdMarker]).toEqual([true, 'm/2', second.VersionId]);
});

test('refuses an unsigned listing', async () => {
  const res = await fetch(`${s3.endpoint}/${Bucket}?versions&prefix=v%2F`);
  expect(res.status).toBe(403);
  expect(await res.text()).toContain('<Code>AccessDenied</Code>');
});
