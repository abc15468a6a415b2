/**
 * End-to-end: the real signer against the signature-verifying S3 stand-in, the notification bridge
 * and the SQS stand-in, the CDN route. What the signer signs must be what S3 enforces.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { drain, makePng, md5Base64, putSigned, recordsOf, requestUpload, signFor } from './helpers';
import { deliveryHeaders } from '../../src/contract/delivery';
import type { PresignedUpload } from '../../src/contract/signer-protocol';
import { DEFAULT_PREFIX } from '../../src/contract/upload-rules';
import { LOCAL_USER_HEADER, toHttpApiEvent } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { PortError } from '../../src/local/net';
import { decodeS3EventKey } from '../../src/local/s3-events';
import { DEFAULT_MAX_RECEIVE_COUNT } from '../../src/contract/queue-defaults';
import { loadSignerConfig } from '../../src/signer/config';
import { createSignerHandler } from '../../src/signer/handler';

const ALLOWED_ORIGIN = 'https://app.example.com';
let stack: LocalStack;

beforeAll(async () => {
  // The v1 wiring (S3 → queue): the bridge and signer are under test here; the verifier has test/verifier/local.test.ts.
  stack = await startLocalStack({ allowedOrigins: [ALLOWED_ORIGIN], log: () => undefined, verifyUploads: false });
});

afterAll(async () => {
  await stack?.stop();
});

describe('notification queue', () => {
  test('starts with the s3:TestEvent S3 sends when notifications are configured, and is configured like the construct', async () => {
    const messages = await drain(stack);
    expect(messages.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      expect.objectContaining({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: stack.bucket }),
    ]);
    expect(stack.maxReceiveCount).toBe(DEFAULT_MAX_RECEIVE_COUNT);
  });
});

describe('happy path', () => {
  test('sign → PUT → stored as signed → exactly one notification → served by the CDN with the security headers', async () => {
    // GIVEN
    const png = makePng(3, 2);
    const signed = await signFor(stack, png, { filename: 'holiday photo.png' });
    expect(signed.method).toBe('PUT');
    expect(signed.key).toMatch(new RegExp(`^${DEFAULT_PREFIX}/alice/[0-9a-f-]{36}\\.png$`));
    expect(signed.url.startsWith(`${stack.s3Endpoint}/${stack.bucket}/`)).toBe(true);

    // WHEN
    const put = await putSigned(signed.url, signed.headers ?? {}, png);

    // THEN: S3 stored it with the signed type and length
    expect(put).toMatchObject({ status: 200 });
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key }));
    expect(head.ContentType).toBe('image/png');
    expect(head.ContentLength).toBe(png.length);

    // THEN: exactly one message, in S3's format, with the key encoded as S3 encodes it
    await stack.flush();
    const records = recordsOf(await drain(stack));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      awsRegion: stack.region,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: stack.bucket, arn: `arn:aws:s3:::${stack.bucket}` },
        object: { size: png.length, eTag: expect.stringMatching(/^[0-9a-f]{32}$/), sequencer: expect.stringMatching(/^[0-9A-F]+$/) },
      },
    });
    expect(decodeS3EventKey(records[0].s3.object.key)).toBe(signed.key);

    // THEN: the CDN route serves the bytes with the CloudFront response headers
    expect(signed.publicUrl).toBe(`${stack.cdnUrl}/${signed.key}`);
    const res = await fetch(signed.publicUrl);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
    for (const [name, value] of Object.entries(deliveryHeaders())) {
      expect([name, res.headers.get(name)]).toEqual([name, value]);
    }
  });

  test('a checksum, when given, is signed and the matching upload succeeds', async () => {
    const png = makePng(2, 2);
    const signed = await signFor(stack, png, { checksum: md5Base64(png) });
    expect(signed.headers).toEqual({ 'content-type': 'image/png', 'content-md5': md5Base64(png), 'if-none-match': '*' });
    expect(await putSigned(signed.url, signed.headers ?? {}, png)).toMatchObject({ status: 200 });
    await stack.flush();
    expect(recordsOf(await drain(stack))).toHaveLength(1);
  });

  test('the CDN route answers HEAD, and 404 (with the security headers) for a missing key', async () => {
    const png = makePng(1, 1);
    const signed = await signFor(stack, png);
    await putSigned(signed.url, signed.headers ?? {}, png);
    const head = await fetch(signed.publicUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(png.length));
    expect(head.headers.get('x-content-type-options')).toBe('nosniff');

    const missing = await fetch(`${stack.cdnUrl}/${DEFAULT_PREFIX}/nobody/missing.png`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe(deliveryHeaders()['cache-control']);
    await stack.flush();
    await drain(stack);
  });
});

describe('S3 enforces what was signed', () => {
  let png: Buffer;
  let signed: PresignedUpload;

  beforeEach(async () => {
    png = makePng(4, 4);
    signed = await signFor(stack, png);
  });

  afterEach(async () => {
    // Nothing that S3 refused was stored or announced.
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    await stack.flush();
    expect(recordsOf(await drain(stack))).toEqual([]);
  });

  test('a different Content-Type', async () => {
    const res = await putSigned(signed.url, { 'content-type': 'image/jpeg' }, png);
    expect(res).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  test('a different length (one byte more, one byte less)', async () => {
    const longer = await putSigned(signed.url, signed.headers ?? {}, Buffer.concat([png, Buffer.from([0])]));
    expect(longer).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const shorter = await putSigned(signed.url, signed.headers ?? {}, png.subarray(0, png.length - 1));
    expect(shorter).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  test('a tampered key', async () => {
    const url = new URL(signed.url);
    url.pathname = url.pathname.replace(/\/alice\//, '/mallory/');
    expect(url.href).not.toBe(signed.url);
    const res = await putSigned(url.href, signed.headers ?? {}, png);
    expect(res).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key.replace('/alice/', '/mallory/') })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test('a tampered signature', async () => {
    const url = new URL(signed.url);
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    url.searchParams.set('X-Amz-Signature', (signature[0] === '0' ? '1' : '0') + signature.slice(1));
    const res = await putSigned(url.href, signed.headers ?? {}, png);
    expect(res).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  test('no signature at all (the bucket is private)', async () => {
    const res = await putSigned(signed.url.split('?')[0], signed.headers ?? {}, png);
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  test('an expired URL (signed by the real handler an hour ago)', async () => {
    const past = new Date(Date.now() - 3600 * 1000);
    const handler = createSignerHandler(loadSignerConfig(stack.signerEnvironment), { now: () => past });
    const result = await handler(toHttpApiEvent({
      method: 'POST',
      url: '/uploads',
      headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: 'alice' },
      body: Buffer.from(JSON.stringify({ contentType: 'image/png', size: png.length })),
      sourceIp: '127.0.0.1',
    }, { auth: stack.policy.auth, identityClaim: stack.policy.identityClaim }));
    expect(result.statusCode).toBe(200);
    const old = JSON.parse(result.body ?? '{}') as PresignedUpload;
    expect(Date.parse(old.expiresAt)).toBeLessThan(Date.now());

    const res = await putSigned(old.url, old.headers ?? {}, png);
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(res.text).toMatch(/expired/i);
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: old.key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test('a wrong Content-MD5 when a checksum was signed', async () => {
    // GIVEN a URL signed with the file's checksum
    const withChecksum = await signFor(stack, png, { checksum: md5Base64(png) });
    const other = Buffer.from(png);
    other[other.length - 20] = 255 - other[other.length - 20]; // same length, other bytes

    // WHEN the client sends another digest: the signature no longer matches
    const wrongHeader = await putSigned(withChecksum.url, { ...withChecksum.headers, 'content-md5': md5Base64(other) }, other);
    expect(wrongHeader).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });

    // WHEN the client keeps the signed digest but sends other bytes: S3 checks the digest
    const wrongBody = await putSigned(withChecksum.url, withChecksum.headers ?? {}, other);
    expect(wrongBody).toMatchObject({ status: 400, code: 'BadDigest' });

    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: withChecksum.key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe('event keys', () => {
  const keys = [
    `${DEFAULT_PREFIX}/alice/my photo+1 (final).png`,
    `${DEFAULT_PREFIX}/bob/ünïcödé 日本 😀.jpg`,
    `${DEFAULT_PREFIX}/carol/100% a&b=c?.png`,
  ];

  test('keys with spaces, +, unicode survive the event round trip; S3 encodes them form-style', async () => {
    for (const key of keys) {
      await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: Buffer.from(key), ContentType: 'image/png' }));
    }
    await stack.flush();
    const records = recordsOf(await drain(stack));
    expect(records.map((r) => decodeS3EventKey(r.s3.object.key)).sort()).toEqual([...keys].sort());
    const encoded = records.map((r) => r.s3.object.key);
    expect(encoded).toContain(`${DEFAULT_PREFIX}/alice/my+photo%2B1+%28final%29.png`);
    expect(encoded).toContain(`${DEFAULT_PREFIX}/carol/100%25+a%26b%3Dc%3F.png`);
    // `/` between segments stays as it is.
    expect(encoded.every((key) => key.startsWith(`${DEFAULT_PREFIX}/`) && !key.includes('%2F'))).toBe(true);
  });

  test('an original filename with spaces, + and unicode never reaches the key, and the event key decodes to the signed key', async () => {
    const png = makePng(2, 3);
    const signed = await signFor(stack, png, { filename: 'my photo+1 ünï 日本.png' }, 'user name+1@example.com');
    expect(signed.key).toMatch(new RegExp(`^${DEFAULT_PREFIX}/~[A-Za-z0-9_-]{22}/[0-9a-f-]{36}\\.png$`));
    expect(await putSigned(signed.url, signed.headers ?? {}, png)).toMatchObject({ status: 200 });
    await stack.flush();
    const records = recordsOf(await drain(stack));
    expect(records.map((r) => decodeS3EventKey(r.s3.object.key))).toEqual([signed.key]);
  });

  test('only keys under the upload prefix are announced', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: 'elsewhere/x.png', Body: Buffer.from('x') }));
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: `${DEFAULT_PREFIX}-not/x.png`, Body: Buffer.from('x') }));
    await stack.flush();
    expect(recordsOf(await drain(stack))).toEqual([]);
  });

  test('a completed multipart upload is announced as ObjectCreated:CompleteMultipartUpload', async () => {
    const key = `${DEFAULT_PREFIX}/alice/big file.bin`;
    const part = Buffer.alloc(1024, 7);
    const { UploadId } = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: key, ContentType: 'image/png' }));
    const { ETag } = await stack.s3.send(new UploadPartCommand({ Bucket: stack.bucket, Key: key, UploadId, PartNumber: 1, Body: part }));
    await stack.s3.send(new CompleteMultipartUploadCommand({
      Bucket: stack.bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
    }));
    await stack.flush();
    const records = recordsOf(await drain(stack));
    expect(records.map((r) => [r.eventName, decodeS3EventKey(r.s3.object.key), r.s3.object.size]))
      .toEqual([['ObjectCreated:CompleteMultipartUpload', key, part.length]]);
  });
});

describe('dead-letter queue', () => {
  test('a message a consumer keeps failing on moves to the DLQ after the configured receive count', async () => {
    const png = makePng(2, 2);
    const signed = await signFor(stack, png);
    await putSigned(signed.url, signed.headers ?? {}, png);
    await stack.flush();

    // A consumer that fails: receives, never deletes; the message becomes visible again at once.
    let receives = 0;
    for (;;) {
      const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({
        QueueUrl: stack.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }));
      if (Messages.length === 0) break;
      expect(recordsOf(Messages).map((r) => decodeS3EventKey(r.s3.object.key))).toEqual([signed.key]);
      receives++;
      if (receives > DEFAULT_MAX_RECEIVE_COUNT + 1) break;
    }
    expect(receives).toBe(DEFAULT_MAX_RECEIVE_COUNT);

    const dead = await drain(stack, stack.deadLetterQueueUrl);
    expect(recordsOf(dead).map((r) => decodeS3EventKey(r.s3.object.key))).toEqual([signed.key]);
  });
});

describe('signer API stand-in', () => {
  test('no local identity header: 401 before the handler, as the JWT authorizer would', async () => {
    const { status, body } = await requestUpload(stack, { contentType: 'image/png', size: 10 }, null);
    expect(status).toBe(401);
    expect(body).toEqual({ message: 'Unauthorized' });
  });

  test('the handler\'s own errors come through unchanged', async () => {
    const { status, body } = await requestUpload(stack, { contentType: 'image/svg+xml', size: 10 });
    expect(status).toBe(415);
    expect(body.error?.code).toBe('CONTENT_TYPE_NOT_ALLOWED');
  });

  test('CORS: a preflight from an allowed origin is allowed, from another it is not', async () => {
    const preflight = (origin: string) => fetch(`${stack.signerUrl}/uploads`, {
      method: 'OPTIONS',
      headers: { 'origin': origin, 'access-control-request-method': 'POST', 'access-control-request-headers': `content-type,${LOCAL_USER_HEADER}` },
    });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toContain(LOCAL_USER_HEADER);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('CORS: the bucket answers preflights per uploadCorsRules(allowedOrigins)', async () => {
    const png = makePng(1, 1);
    const signed = await signFor(stack, png);
    const preflight = (origin: string) => fetch(signed.url, {
      method: 'OPTIONS',
      headers: { 'origin': origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).not.toBeNull();
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('ports', () => {
  test('a taken port fails start-up with a message naming the port and the option', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const attempt = startLocalStack({ ports: { signer: port }, log: () => undefined });
      await expect(attempt).rejects.toBeInstanceOf(PortError);
      await expect(attempt).rejects.toThrow(new RegExp(`Port ${port} .*already in use.*ports\\.signer`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
