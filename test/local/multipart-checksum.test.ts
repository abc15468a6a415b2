/**
 * Per-part SHA-256 checksums of multipart uploads: first the S3 stand-in itself against S3's documented
 * rules (the algorithm fixed at CreateMultipartUpload, BadDigest at UploadPart, the checksums in
 * ListParts, each part's checksum required at completion), then the signer's native protocol end to end
 * (`checksumAlgorithm: 'SHA256'`, `checksumsSha256` on the parts route): a flipped byte in one part is
 * refused and the upload completes once that part is sent again intact.
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { outcome, startTestS3 } from './helpers';
import type { CompletedUpload, ErrorResponse, MultipartUploadPlan, SignPartsResponse } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import type { LocalS3 } from '../../src/local/s3';

const MIB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');
const flipped = (data: Buffer, at = 100) => {
  const copy = Buffer.from(data);
  copy[at] = 255 - copy[at];
  return copy;
};

describe('the S3 stand-in verifies part checksums as S3 does', () => {
  const Bucket = 'part-checksums';
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startTestS3(Bucket);
  });
  afterAll(async () => {
    await s3?.stop();
  });

  const part1 = Buffer.alloc(5 * MIB, 1);
  const part2 = Buffer.from('the last part');
  const create = (Key: string, checksum = true) => s3.client.send(new CreateMultipartUploadCommand({
    Bucket, Key, ...(checksum ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
  }));
  const uploadPart = (Key: string, UploadId: string, PartNumber: number, Body: Buffer, ChecksumSHA256?: string) =>
    s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body, ...(ChecksumSHA256 ? { ChecksumSHA256 } : {}) }));

  test('a part whose bytes differ from its x-amz-checksum-sha256 is BadDigest; the part stored before under that number stays', async () => {
    const Key = 'sum/bad-digest.bin';
    const { UploadId } = await create(Key);
    await uploadPart(Key, UploadId!, 2, part2, sha256(part2));
    expect(await outcome(uploadPart(Key, UploadId!, 2, flipped(part2, 3), sha256(part2)))).toBe('400 BadDigest');
    const listed = await s3.client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.ChecksumAlgorithm).toBe('SHA256');
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256])).toEqual([[2, part2.length, sha256(part2)]]);
  });

  test('ListParts reports each part\'s SHA-256; a part sent without one is hashed by S3', async () => {
    const Key = 'sum/list.bin';
    const { UploadId } = await create(Key);
    await uploadPart(Key, UploadId!, 1, part1, sha256(part1));
    await uploadPart(Key, UploadId!, 2, part2);
    const listed = await s3.client.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => p.ChecksumSHA256)).toEqual([sha256(part1), sha256(part2)]);
  });

  test('a checksum of another algorithm than the upload\'s, or on an upload without one, is InvalidRequest', async () => {
    const withSha = await create('sum/mismatch-a.bin');
    const crc32 = s3.client.send(new UploadPartCommand({ Bucket, Key: 'sum/mismatch-a.bin', UploadId: withSha.UploadId, PartNumber: 1, Body: part2, ChecksumCRC32: 'AAAAAA==' }));
    expect(await outcome(crc32)).toBe('400 InvalidRequest');
    const without = await create('sum/mismatch-b.bin', false);
    expect(await outcome(uploadPart('sum/mismatch-b.bin', without.UploadId!, 1, part2, sha256(part2)))).toBe('400 InvalidRequest');
  });

  test('FULL_OBJECT is refused with SHA-256 (composite only)', async () => {
    expect(await outcome(s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'sum/full.bin', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' }))))
      .toBe('400 InvalidRequest');
  });

  test('completion needs each part\'s ChecksumSHA256: without it, or with another, InvalidPart and nothing stored; with them, the object', async () => {
    const Key = 'sum/complete.bin';
    const { UploadId } = await create(Key);
    const e1 = (await uploadPart(Key, UploadId!, 1, part1, sha256(part1))).ETag;
    const e2 = (await uploadPart(Key, UploadId!, 2, part2, sha256(part2))).ETag;
    const complete = (parts: Array<{ PartNumber: number; ETag?: string; ChecksumSHA256?: string }>) =>
      s3.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    expect(await outcome(complete([{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }]))).toBe('400 InvalidPart');
    const withSums = (second: string) => [
      { PartNumber: 1, ETag: e1, ChecksumSHA256: sha256(part1) }, { PartNumber: 2, ETag: e2, ChecksumSHA256: second },
    ];
    expect(await outcome(complete(withSums(sha256(part1))))).toBe('400 InvalidPart');
    expect(await outcome(s3.client.send(new GetObjectCommand({ Bucket, Key })))).toBe('404 NoSuchKey');
    expect(await outcome(complete(withSums(sha256(part2))))).toBe('ok');
    const stored = await s3.client.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(Buffer.concat([part1, part2]))).toBe(true);
  });
});

describe('the signer: checksumAlgorithm SHA256 and checksumsSha256', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      log: () => undefined,
      verifyUploads: false,
      policy: { allowedContentTypes: ['application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function call<T>(path: string, body: unknown): Promise<{ status: number; body: T & Partial<ErrorResponse> }> {
    const res = await fetch(`${stack.signerUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: 'dana' }, body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T & Partial<ErrorResponse> };
  }
  const file = Buffer.alloc(7 * MIB, 9);
  file.write('%PDF-1.7\n', 0);
  const parts = [file.subarray(0, 5 * MIB), file.subarray(5 * MIB)];

  async function checksummedPlan(size = file.length): Promise<MultipartUploadPlan> {
    const { status, body } = await call<MultipartUploadPlan>('/uploads', { contentType: 'application/pdf', size, checksumAlgorithm: 'SHA256' });
    expect(status).toBe(200);
    return body;
  }

  test('a flipped byte in one part is refused (BadDigest); sent again intact, the upload completes with the exact bytes', async () => {
    const plan = await planSignsNoPart(await checksummedPlan());
    const signed = await call<SignPartsResponse>('/uploads/multipart/parts', {
      key: plan.key, uploadId: plan.uploadId, partNumbers: [1, 2], checksumsSha256: parts.map(sha256),
    });
    expect(signed.status).toBe(200);
    const [p1, p2] = signed.body.parts;
    expect(p1.headers).toEqual({ 'x-amz-checksum-sha256': sha256(parts[0]), 'x-amz-sdk-checksum-algorithm': 'SHA256' });
    expect(new URL(p1.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256;x-amz-sdk-checksum-algorithm');

    expect((await fetch(p1.url, { method: 'PUT', headers: p1.headers, body: parts[0] })).status).toBe(200);
    const bad = await fetch(p2.url, { method: 'PUT', headers: p2.headers, body: flipped(parts[1]) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<Code>BadDigest</Code>');
    // Sent without its checksum header, the part does not match its signature.
    expect((await fetch(p2.url, { method: 'PUT', body: parts[1] })).status).toBe(403);
    expect((await fetch(p2.url, { method: 'PUT', headers: p2.headers, body: parts[1] })).status).toBe(200);

    const listed = await call<SignPartsResponse>('/uploads/multipart/parts', { key: plan.key, uploadId: plan.uploadId, partNumbers: [1], checksumsSha256: [sha256(parts[0])] });
    expect(listed.body.uploadedParts.map((p) => p.checksumSha256)).toEqual(parts.map(sha256));
    const done = await call<CompletedUpload>('/uploads/multipart/complete', { key: plan.key, uploadId: plan.uploadId });
    expect(done).toMatchObject({ status: 200, body: { key: plan.key, size: file.length } });
    const stored = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: plan.key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(file)).toBe(true);
  });

  test('a file below the threshold is one checksummed part', async () => {
    const plan = await checksummedPlan(1000);
    expect(plan).toMatchObject({ partCount: 1, parts: [], checksumAlgorithm: 'SHA256' });
  });

  test.each([
    ['hex', [createHash('sha256').update('x').digest('hex')]],
    ['16 bytes (an MD5)', [createHash('md5').update('x').digest('base64')]],
    ['no padding', [sha256(Buffer.from('x')).slice(0, 43)]],
    ['a number', [7]],
  ])('checksumsSha256 of %s: 400 INVALID_CHECKSUM, nothing signed', async (_name, checksumsSha256) => {
    const plan = await checksummedPlan();
    const res = await call('/uploads/multipart/parts', { key: plan.key, uploadId: plan.uploadId, partNumbers: [1], checksumsSha256 });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_CHECKSUM', message: expect.stringContaining('base64 SHA-256') });
  });

  test.each([
    ['checksumsSha256 without partNumbers', { checksumsSha256: [sha256(Buffer.from('x'))] }, /needs partNumbers/],
    ['fewer checksums than parts', { partNumbers: [1, 2], checksumsSha256: [sha256(Buffer.from('x'))] }, /one checksum per part number/],
  ])('%s: 400 INVALID_REQUEST', async (_name, extra, message) => {
    const plan = await checksummedPlan();
    const res = await call('/uploads/multipart/parts', { key: plan.key, uploadId: plan.uploadId, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(message) });
  });

  test.each([
    ['another algorithm', { checksumAlgorithm: 'CRC32' }, /must be "SHA256"/],
    ['with method', { checksumAlgorithm: 'SHA256', method: 'PUT' }, /omit method/],
    ['with a whole-file checksum', { checksumAlgorithm: 'SHA256', checksumSha256: sha256(file) }, /omit method, checksum and checksumSha256/],
  ])('checksumAlgorithm %s: 400 INVALID_REQUEST', async (_name, extra, message) => {
    const res = await call('/uploads', { contentType: 'application/pdf', size: file.length, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(message) });
  });
});

function planSignsNoPart(plan: MultipartUploadPlan): MultipartUploadPlan {
  // The plan signs no part: each part is signed with its checksum.
  expect(plan).toMatchObject({ checksumAlgorithm: 'SHA256', partCount: 2, parts: [] });
  return plan;
}
