/**
 * POST policy uploads against the S3 stand-in: what S3 stores and what it refuses (and does not store).
 * Forms are built here from the policy documents S3 describes, signed with SigV4.
 */
import { createHmac } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startTestS3 } from './helpers';
import { uploadCorsRules } from '../../src/contract/delivery';
import { LocalS3, S3RVER_CREDENTIALS } from '../../src/local/s3';
import type { ObjectCreated } from '../../src/local/s3-events';
import { evaluatePostPolicy } from '../../src/local/s3-post-policy';

const Bucket = 'local-post-test';
const REGION = 'us-east-1';
const APP_ORIGIN = 'https://app.example.com';
let s3: LocalS3;
const created: ObjectCreated[] = [];

beforeAll(async () => {
  s3 = await startTestS3(Bucket, { region: REGION, corsRules: uploadCorsRules([APP_ORIGIN]), onObjectCreated: (event) => created.push(event) });
});

afterAll(async () => {
  await s3?.stop();
});

interface FormOptions {
  /** The key the form names. */
  key: string;
  /** The conditions besides the credential ones. @default key, type and 1..10 bytes */
  conditions?: unknown[];
  /** Extra or replacing form fields (before `file`). */
  fields?: Record<string, string>;
  contentType?: string;
  secret?: string;
  accessKeyId?: string;
  expiration?: Date;
  /** Changes the signed form before it is sent. */
  tamper?: (fields: Record<string, string>) => void;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const signingKey = (date: string, secret: string = S3RVER_CREDENTIALS.secretAccessKey) =>
  [date, REGION, 's3', 'aws4_request'].reduce<Buffer | string>(hmac, `AWS4${secret}`);

/** A SigV4-signed POST policy form, as @aws-sdk/s3-presigned-post (and the signer) build them. */
function signedForm(options: FormOptions): Record<string, string> {
  const now = new Date();
  const longDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = longDate.slice(0, 8);
  const credential = `${options.accessKeyId ?? S3RVER_CREDENTIALS.accessKeyId}/${date}/${REGION}/s3/aws4_request`;
  const contentType = options.contentType ?? 'application/pdf';
  const conditions = [
    ...(options.conditions ?? [{ key: options.key }, { 'Content-Type': contentType }, ['content-length-range', 1, 10]]),
    { bucket: Bucket },
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
    { 'x-amz-credential': credential },
    { 'x-amz-date': longDate },
  ];
  const expiration = options.expiration ?? new Date(now.getTime() + 60_000);
  const policy = Buffer.from(JSON.stringify({ expiration: expiration.toISOString(), conditions })).toString('base64');
  const key = signingKey(date, options.secret);
  const fields: Record<string, string> = {
    'key': options.key,
    'Content-Type': contentType,
    'bucket': Bucket,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': credential,
    'X-Amz-Date': longDate,
    ...options.fields,
    'Policy': policy,
    'X-Amz-Signature': hmac(key, policy).toString('hex'),
  };
  options.tamper?.(fields);
  return fields;
}

/** Posts a form with `file` last; returns the status and S3's error code and message. */
async function post(fields: Record<string, string>, file: string | Buffer, after: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('file', new Blob([file]), 'upload.bin');
  for (const [name, value] of Object.entries(after)) form.append(name, value);
  const res = await fetch(`${s3.endpoint}/${Bucket}/`, { method: 'POST', body: form });
  const text = await res.text();
  return {
    status: res.status,
    code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1],
    message: /<Message>([^<]+)<\/Message>/.exec(text)?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, '\'').replace(/&amp;/g, '&'),
    versionId: res.headers.get('x-amz-version-id'),
  };
}

async function stored(Key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket, Key }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound') return false;
    throw err;
  }
}

describe('accepted forms', () => {
  test('a form within its policy is stored with its type, as a new version, and announced as ObjectCreated:Post', async () => {
    const key = 'post/ok.pdf';
    const res = await post(signedForm({ key }), 'hello');
    expect(res).toMatchObject({ status: 204, code: undefined });
    const object = await s3.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect([object.ContentType, await object.Body!.transformToString(), object.VersionId]).toEqual(['application/pdf', 'hello', res.versionId]);
    expect(created.filter((e) => e.key === key).map((e) => [e.eventName, e.versionId])).toEqual([['ObjectCreated:Post', res.versionId]]);
  });

  test('starts-with conditions, x-ignore- fields and fields after the file', async () => {
    const key = 'post/prefix/a.pdf';
    const fields = signedForm({
      key,
      conditions: [['starts-with', '$key', 'post/prefix/'], ['starts-with', '$Content-Type', 'application/'], ['content-length-range', 0, 100]],
      fields: { 'x-ignore-note': 'not covered, not needed' },
    });
    expect(await post(fields, 'bytes', { 'x-amz-meta-after': 'ignored, as S3 ignores fields after file' })).toMatchObject({ status: 204 });
    expect(await stored(key)).toBe(true);
  });
});

describe('refused forms are not stored', () => {
  const cases: Array<[string, () => Record<string, string>, string | Buffer, number, string, string | RegExp]> = [
    ['over the content-length-range', () => signedForm({ key: 'post/refused/over.pdf' }), 'x'.repeat(11),
      400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'],
    ['under the content-length-range', () => signedForm({ key: 'post/refused/under.pdf', conditions: [{ key: 'post/refused/under.pdf' }, { 'Content-Type': 'application/pdf' }, ['content-length-range', 5, 10]] }),
      'abc', 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'],
    ['another key than the policy\'s', () => signedForm({ key: 'post/refused/signed.pdf', tamper: (f) => { f.key = 'post/refused/foreign.pdf'; } }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "post/refused/signed.pdf"]'],
    ['another Content-Type than the policy\'s', () => signedForm({ key: 'post/refused/type.pdf', tamper: (f) => { f['Content-Type'] = 'text/html'; } }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "application/pdf"]'],
    ['a key outside a starts-with prefix', () => signedForm({ key: 'elsewhere/x.pdf', conditions: [['starts-with', '$key', 'post/'], { 'Content-Type': 'application/pdf' }] }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "post/"]'],
    ['a tampered signature', () => signedForm({ key: 'post/refused/sig.pdf', tamper: (f) => { f['X-Amz-Signature'] = f['X-Amz-Signature'].replace(/^./, (c) => (c === '0' ? '1' : '0')); } }),
      'hello', 403, 'SignatureDoesNotMatch', /^The request signature we calculated does not match/],
    ['a policy widened after signing', () => signedForm({
      key: 'post/refused/widened.pdf',
      tamper: (f) => { f.Policy = Buffer.from(Buffer.from(f.Policy, 'base64').toString().replace('"content-length-range",1,10', '"content-length-range",1,1000')).toString('base64'); },
    }), 'x'.repeat(100), 403, 'SignatureDoesNotMatch', /^The request signature we calculated does not match/],
    ['a signature made with another secret', () => signedForm({ key: 'post/refused/secret.pdf', secret: 'not-the-secret' }),
      'hello', 403, 'SignatureDoesNotMatch', /^The request signature we calculated does not match/],
    ['an unknown access key', () => signedForm({ key: 'post/refused/akid.pdf', accessKeyId: 'AKIDUNKNOWN' }),
      'hello', 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'],
    ['an expired policy', () => signedForm({ key: 'post/refused/expired.pdf', expiration: new Date(Date.now() - 1000) }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'],
    ['a field no condition covers', () => signedForm({ key: 'post/refused/extra.pdf', fields: { 'x-amz-meta-owner': 'mallory' } }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-owner'],
    ['a policy for another bucket', () => signedForm({ key: 'post/refused/bucket.pdf', conditions: [{ bucket: 'other-bucket' }, { key: 'post/refused/bucket.pdf' }, { 'Content-Type': 'application/pdf' }] }),
      'hello', 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other-bucket"]'],
    ['no policy at all (anonymous)', () => ({ 'key': 'post/refused/anonymous.pdf', 'Content-Type': 'application/pdf' }),
      'hello', 403, 'AccessDenied', 'Access Denied'],
    ['a policy without its signature', () => signedForm({ key: 'post/refused/nosig.pdf', tamper: (f) => { delete f['X-Amz-Signature']; } }),
      'hello', 400, 'InvalidArgument', /^Bucket POST must contain a field named 'X-Amz-Signature'/],
  ];

  test.each(cases)('%s', async (_name, form, file, status, code, message) => {
    const fields = form();
    const res = await post(fields, file);
    expect({ status: res.status, code: res.code }).toEqual({ status, code });
    expect(res.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
    expect(await stored(fields.key)).toBe(false);
    expect(created.some((e) => e.key === fields.key)).toBe(false);
  });

  test('a refusal carries the CORS headers, so the browser that posted the form can read it', async () => {
    const form = new FormData();
    for (const [name, value] of Object.entries(signedForm({ key: 'post/refused/cors.pdf' }))) form.set(name, value);
    form.set('file', new Blob(['x'.repeat(11)]), 'upload.bin');
    const res = await fetch(`${s3.endpoint}/${Bucket}/`, { method: 'POST', body: form, headers: { origin: APP_ORIGIN } });
    expect([res.status, res.headers.get('access-control-allow-origin')]).toEqual([400, APP_ORIGIN]);
    expect(await res.text()).toContain('<Code>EntityTooLarge</Code>');
  });

  test('a refused form leaves the object already at the key as it was', async () => {
    const key = 'post/refused/existing.pdf';
    expect(await post(signedForm({ key }), 'first')).toMatchObject({ status: 204 });
    expect(await post(signedForm({ key }), 'far too many bytes')).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    const object = await s3.client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(await object.Body!.transformToString()).toBe('first');
  });
});

describe('evaluatePostPolicy', () => {
  const { accessKeyId, secretAccessKey } = S3RVER_CREDENTIALS;
  const context = { bucket: Bucket, secretFor: (id: string) => (id === accessKeyId ? secretAccessKey : undefined) };
  const form = (fields: Record<string, string>, fileSize = 5) => ({ fields: Object.entries(fields), fileSize });

  test('malformed policy documents are InvalidPolicyDocument', () => {
    const cases: Array<[unknown, string]> = [
      ['not json', 'Invalid Policy: Invalid JSON.'],
      [{ conditions: [] }, 'Invalid Policy: Policy missing expiration.'],
      [{ expiration: new Date(Date.now() + 60_000).toISOString() }, 'Invalid Policy: Policy missing conditions.'],
      [{ expiration: new Date(Date.now() + 60_000).toISOString(), conditions: [['matches', '$key', 'x']] }, 'Invalid Policy: Invalid Condition: ["matches", "$key", "x"]'],
    ];
    for (const [doc, message] of cases) {
      const fields = signedForm({
        key: 'k',
        tamper: (f) => {
          f.Policy = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
          f['X-Amz-Signature'] = hmac(signingKey(f['X-Amz-Date'].slice(0, 8)), f.Policy).toString('hex');
        },
      });
      const error = evaluatePostPolicy(form(fields), context);
      expect([error?.code, error?.message]).toEqual(['InvalidPolicyDocument', message]);
    }
  });

  test('field names are matched case-insensitively', () => {
    const fields = signedForm({
      key: 'k',
      tamper: (f) => {
        f['content-type'] = f['Content-Type'];
        delete f['Content-Type'];
      },
    });
    expect(evaluatePostPolicy(form(fields), context)).toBeUndefined();
  });
});
