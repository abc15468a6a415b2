/**
 * Unclaimed uploads end to end on the local stack (the real signer, the SigV4-verifying S3 stand-in, the
 * real verifier with the construct's unclaimedUploadExpiry environment): a verified upload carries exactly
 * what the lifecycle rule matches (under the prefix, `direct-upload:unclaimed=true`), a claimed one does not,
 * and a redelivered event does not mark it unclaimed again. The stand-in evaluates neither lifecycle rules
 * nor bucket policies: test/verifier/unclaimed.test.ts proves the rule and the policy on the template.
 */
import { GetObjectTaggingCommand, PutObjectTaggingCommand, S3 } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { ClaimError, claimRequest, claimUpload, parseUploadMessages, S3TaggingClient, UploadMessage } from '../../src/worker';
import { drain, makePng, putSigned, signFor } from '../local/helpers';

const UNCLAIMED = { Key: 'direct-upload:unclaimed', Value: 'true' };

async function uploadAndReceive(stack: LocalStack): Promise<{ upload: UploadMessage; event: string }> {
  const body = makePng(4, 4);
  const signed = await signFor(stack, body, { contentType: 'image/png' });
  expect((await putSigned(signed.url, signed.headers ?? {}, body)).status).toBe(200);
  await stack.flush();
  const messages = await drain(stack);
  const parsed = parseUploadMessages({ Records: messages.map((m) => ({ messageId: m.MessageId!, body: m.Body! })) });
  expect(parsed).toHaveLength(1);
  if (!parsed[0].ok) throw new Error(parsed[0].error);
  const [upload] = parsed[0].uploads;
  expect(upload.key).toBe(signed.key);
  // The raw S3 event the verifier received, for a redelivery.
  const { verification: _verification, ...raw } = JSON.parse(messages[0].Body!).Records[0];
  return { upload, event: JSON.stringify({ Records: [raw] }) };
}

async function tagsOf(stack: LocalStack, upload: UploadMessage) {
  return (await stack.s3.send(new GetObjectTaggingCommand({ Bucket: upload.bucket, Key: upload.key, VersionId: upload.versionId }))).TagSet ?? [];
}

describe('unclaimed uploads on the local stack', () => {
  let stack: LocalStack;
  /** An S3Client user's claim: the request built by claimRequest, sent as a command. */
  let viaCommand: S3TaggingClient;
  beforeAll(async () => {
    stack = await startLocalStack({ log: () => undefined, expireUnclaimedUploads: true });
    viaCommand = { putObjectTagging: (input) => stack.s3.send(new PutObjectTaggingCommand(input)) };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a verified upload is marked unclaimed in the verifier\'s one tag write: what the lifecycle rule matches', async () => {
    const { upload } = await uploadAndReceive(stack);
    expect(upload.key.startsWith(`${stack.policy.prefix}/`)).toBe(true);
    expect(upload.versionId).toBeDefined();
    expect(await tagsOf(stack, upload)).toEqual(expect.arrayContaining([{ Key: 'direct-upload:verified', Value: 'true' }, UNCLAIMED]));
  });

  test('claimUpload (one PutObjectTagging of the verified version) drops the mark and keeps the verdict; a redelivery does not mark it again', async () => {
    const { upload, event } = await uploadAndReceive(stack);
    await claimUpload(viaCommand, upload);
    const claimed = await tagsOf(stack, upload);
    expect(claimed).not.toContainEqual(UNCLAIMED);
    expect(claimed).toEqual(expect.arrayContaining([{ Key: 'direct-upload:verified', Value: 'true' }, { Key: 'direct-upload:etag', Value: upload.eTag }]));

    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.verificationQueueUrl!, MessageBody: event }));
    await stack.flush();
    expect(await drain(stack)).toEqual([]); // a duplicate: not announced again
    expect(await tagsOf(stack, upload)).toEqual(claimed);

    await claimUpload(viaCommand, upload); // idempotent
    expect(await tagsOf(stack, upload)).toEqual(claimed);
  });

  test('the aggregated S3 client of @aws-sdk/client-s3 is a claim client as it is', async () => {
    const { upload } = await uploadAndReceive(stack);
    const s3: S3TaggingClient = new S3({
      endpoint: stack.s3Endpoint, region: stack.region, forcePathStyle: true, credentials: { ...stack.credentials },
    });
    await claimUpload(s3, upload);
    expect(await tagsOf(stack, upload)).not.toContainEqual(UNCLAIMED);
  });

  test('a message the verifier did not announce, or without a version, cannot be claimed (ClaimError, nothing sent)', async () => {
    let sent = 0;
    const counting: S3TaggingClient = { putObjectTagging: async () => { sent++; } };
    const base = { bucket: 'b', key: 'uploads/u/x.png' };
    const verification = { status: 'verified', contentType: 'image/png', method: 'signature', size: 1, eTag: 'e', verifiedAt: '' } as const;
    await expect(claimUpload(counting, base)).rejects.toEqual(expect.objectContaining({ name: 'ClaimError', code: 'NOT_VERIFIED' }));
    await expect(claimUpload(counting, { ...base, verification })).rejects.toEqual(expect.objectContaining({ code: 'NO_VERSION' }));
    expect(() => claimRequest({ ...base, verification: { ...verification, status: 'rejected' as 'verified' } })).toThrow(ClaimError);
    expect(sent).toBe(0);
  });
});

describe('without unclaimedUploadExpiry (the default)', () => {
  test('a verified upload carries no unclaimed mark', async () => {
    const stack = await startLocalStack({ log: () => undefined });
    try {
      const { upload } = await uploadAndReceive(stack);
      const tags = await tagsOf(stack, upload);
      expect(tags).toContainEqual({ Key: 'direct-upload:verified', Value: 'true' });
      expect(tags).not.toContainEqual(UNCLAIMED);
    } finally {
      await stack.stop();
    }
  });
});
