/**
 * The CDN stand-in's verification gate against the versioned S3 stand-in: it serves only the bytes
 * whose version carries the verified tag, as the bucket policy makes S3 answer CloudFront.
 */
import { createServer, Server } from 'node:http';
import { PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { startTestS3 } from './helpers';
import { createCdnListener } from '../../src/local/cdn';
import { close, listen, origin } from '../../src/local/net';
import { LocalS3, S3RVER_CREDENTIALS, localS3Client } from '../../src/local/s3';

const Bucket = 'local-cdn-test';
const gate = { prefix: 'uploads', tagKey: 'verified', tagValue: 'true' };
let s3: LocalS3;
let cdn: Server;
let cdnUrl: string;
/** Runs once right after the CDN's next GetObjectTagging answer, before it reads the object. */
let afterGateCheck: (() => Promise<void>) | undefined;

beforeAll(async () => {
  s3 = await startTestS3(Bucket);
  const client = localS3Client(s3.endpoint, 'us-east-1', S3RVER_CREDENTIALS);
  client.middlewareStack.add((next, context) => async (args) => {
    const result = await next(args);
    const hook = afterGateCheck;
    if (context.commandName === 'GetObjectTaggingCommand' && hook) {
      afterGateCheck = undefined;
      await hook();
    }
    return result;
  }, { step: 'initialize', name: 'afterGateCheck' });
  cdn = createServer(createCdnListener({ client, bucket: Bucket, headers: {}, gate, log: () => undefined }));
  cdnUrl = origin('127.0.0.1', await listen(cdn, '127.0.0.1', 0, 'CDN', 'port'));
});

afterAll(async () => {
  if (cdn) await close(cdn);
  await s3?.stop();
});

const put = (Key: string, Body: string) => s3.client.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'image/png' }));
const verify = (Key: string, VersionId?: string) => s3.client.send(new PutObjectTaggingCommand({
  Bucket, Key, VersionId, Tagging: { TagSet: [{ Key: gate.tagKey, Value: gate.tagValue }] },
}));

async function served(key: string): Promise<[number, string]> {
  const res = await fetch(`${cdnUrl}/${key}`);
  return [res.status, (await res.text()).trim()];
}

test('a verified object is served; once overwritten, the new unverified bytes are refused', async () => {
  const key = 'uploads/u/overwritten.png';
  await put(key, 'verified bytes');
  expect(await served(key)).toEqual([403, 'Forbidden']);
  await verify(key);
  expect(await served(key)).toEqual([200, 'verified bytes']);
  await put(key, 'replaced, unchecked bytes');
  expect(await served(key)).toEqual([403, 'Forbidden']);
  await verify(key);
  expect(await served(key)).toEqual([200, 'replaced, unchecked bytes']);
});

test('bytes written between the gate check and the read are not served under the old version\'s tag', async () => {
  const key = 'uploads/u/raced.png';
  await put(key, 'verified bytes');
  await verify(key);
  afterGateCheck = async () => {
    await put(key, 'bytes written after the check');
  };
  expect(await served(key)).toEqual([200, 'verified bytes']);
  expect(afterGateCheck).toBeUndefined();
  expect(await served(key)).toEqual([403, 'Forbidden']);
});

test('HEAD answers for the version that passed the gate', async () => {
  const key = 'uploads/u/head.png';
  await put(key, '12345');
  await verify(key);
  afterGateCheck = async () => {
    await put(key, 'a longer replacement');
  };
  const res = await fetch(`${cdnUrl}/${key}`, { method: 'HEAD' });
  expect([res.status, res.headers.get('content-length')]).toEqual([200, '5']);
});
