/**
 * The S3 stand-in (src/local/s3.ts) against what S3 documents, for the behaviours the suite uses as
 * evidence: listings, conditional writes, tags on overwrite, versioning and POST policies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from '../../src/local/s3';

let s3: LocalS3;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'local-s3-test-'));
  s3 = await startLocalS3({
    host: '127.0.0.1',
    port: 0,
    bucket: 'local-s3-test',
    region: 'us-east-1',
    corsRules: [],
    credentials: S3RVER_CREDENTIALS,
    directory,
  });
});

afterAll(async () => {
  await s3?.stop();
  await rm(directory, { recursive: true, force: true });
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
