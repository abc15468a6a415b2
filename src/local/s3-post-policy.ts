/**
 * POST policy (browser-based form uploads) as S3 evaluates it, which s3rver does not: it stores any
 * form. Each `multipart/form-data` POST to the bucket is read once (to a temporary file, then replayed
 * to s3rver unchanged) and judged before anything is stored:
 * - SigV4 only: `x-amz-algorithm` `AWS4-HMAC-SHA256`, a known access key in `x-amz-credential`, and
 *   `x-amz-signature` = HMAC-SHA256 of the base64 policy with the credential scope's signing key;
 * - the policy is JSON with an `expiration` in the future and a `conditions` list;
 * - every condition holds: `{ field: value }` and `["eq", "$field", value]` (exact), `["starts-with",
 *   "$field", prefix]`, `["content-length-range", min, max]` against the file's bytes; `bucket` against
 *   the bucket in the URL; field names are case-insensitive;
 * - every form field before `file` is covered by a condition, except `policy`, `x-amz-signature`,
 *   `file` and `x-ignore-*` (fields after `file` are ignored, as S3 does).
 * A form without a policy is anonymous, refused like any unsigned request. Errors are S3's: 403
 * `AccessDenied` "Invalid according to Policy: …", 403 `SignatureDoesNotMatch`, 403 `InvalidAccessKeyId`,
 * 400 `EntityTooLarge` / `EntityTooSmall`, 400 `InvalidPolicyDocument`, 400 `InvalidArgument`.
 * Not emulated: SigV2 forms, `${filename}` in the key, `acl`/`tagging`/`success_action_*` semantics.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';
import busboy from 'busboy';

/** What a form upload carried, as S3 reads it: the fields before `file`, in order, and the file's size. */
export interface PostForm {
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** Bytes of the `file` field; undefined when the form has none. */
  readonly fileSize: number | undefined;
}

/** Options of {@link evaluatePostPolicy}. */
export interface PostPolicyContext {
  /** The bucket the form was posted to (from the URL). */
  readonly bucket: string;
  /** The secret access key of an access key id, or undefined when unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly now?: Date;
}

/** Fields S3 never requires a condition for. */
const EXEMPT = (name: string) => name === 'policy' || name === 'x-amz-signature' || name === 'file' || name.startsWith('x-ignore-');

const policyDenied = (reason: string) => new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`);
const invalidPolicy = (reason: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`);
const missingField = (name: string) => new S3Error('InvalidArgument',
  `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
  { ArgumentName: name, ArgumentValue: '' });

/**
 * Judges a form upload: undefined when S3 would accept it, else the error S3 answers. A form without
 * a policy is anonymous: the caller decides (the upload bucket refuses anonymous writes).
 */
export function evaluatePostPolicy(form: PostForm, context: PostPolicyContext): S3Error | undefined {
  const fields = new Map<string, string>();
  for (const [name, value] of form.fields) {
    if (!fields.has(name.toLowerCase())) fields.set(name.toLowerCase(), value);
  }
  const policyB64 = fields.get('policy');
  if (policyB64 === undefined) return new S3Error('AccessDenied', 'Access Denied');
  if (fields.has('signature') || fields.has('awsaccesskeyid')) {
    return new S3Error('NotImplemented', 'SigV2 POST policies are not emulated by the local S3 stand-in.');
  }
  for (const name of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature']) {
    if (!fields.has(name.toLowerCase())) return missingField(name);
  }
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    return new S3Error('InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported as x-amz-algorithm.',
      { ArgumentName: 'x-amz-algorithm', ArgumentValue: fields.get('x-amz-algorithm') ?? '' });
  }
  const [accessKeyId, date, region, service, terminal, ...rest] = (fields.get('x-amz-credential') ?? '').split('/');
  if (!date || !region || service !== 's3' || terminal !== 'aws4_request' || rest.length > 0) {
    return new S3Error('InvalidArgument', 'Error parsing the X-Amz-Credential parameter.',
      { ArgumentName: 'x-amz-credential', ArgumentValue: fields.get('x-amz-credential') ?? '' });
  }
  const secret = context.secretFor(accessKeyId);
  if (secret === undefined) {
    return new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  const signingKey = [date, region, service, terminal].reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${secret}`);
  if (hmac(signingKey, policyB64).toString('hex') !== fields.get('x-amz-signature')) {
    return new S3Error('SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, StringToSign: policyB64 });
  }

  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8')) as typeof policy;
  } catch {
    return invalidPolicy('Invalid JSON.');
  }
  if (typeof policy !== 'object' || policy === null) return invalidPolicy('Invalid JSON.');
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : NaN;
  if (Number.isNaN(expiration)) return invalidPolicy('Policy missing expiration.');
  if (!Array.isArray(policy.conditions)) return invalidPolicy('Policy missing conditions.');
  if (expiration <= (context.now ?? new Date()).getTime()) return policyDenied('Policy expired.');

  const covered = new Set<string>();
  let range: { min: number; max: number } | undefined;
  const valueOf = (name: string) => (name === 'bucket' ? context.bucket : fields.get(name) ?? '');
  for (const condition of policy.conditions as unknown[]) {
    const shown = JSON.stringify(condition).replace(/,/g, ', ');
    if (Array.isArray(condition)) {
      const [op, name, value] = condition as unknown[];
      if (typeof op === 'string' && op.toLowerCase() === 'content-length-range') {
        const min = Number(name);
        const max = Number(value);
        if (condition.length !== 3 || !Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) {
          return invalidPolicy(`Invalid content-length-range: ${shown}`);
        }
        range = range ? { min: Math.max(range.min, min), max: Math.min(range.max, max) } : { min, max };
        continue;
      }
      if (condition.length !== 3 || typeof op !== 'string' || typeof name !== 'string' || !name.startsWith('$') || typeof value !== 'string') {
        return invalidPolicy(`Invalid Condition: ${shown}`);
      }
      const field = name.slice(1).toLowerCase();
      const actual = valueOf(field);
      const holds = op === 'eq' ? actual === value : op === 'starts-with' ? actual.startsWith(value) : undefined;
      if (holds === undefined) return invalidPolicy(`Invalid Condition: ${shown}`);
      if (!holds) return policyDenied(`Policy Condition failed: ${shown}`);
      covered.add(field);
    } else if (typeof condition === 'object' && condition !== null) {
      const entries = Object.entries(condition as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0][1] !== 'string') return invalidPolicy(`Invalid Condition: ${shown}`);
      const [name, value] = entries[0];
      const field = name.toLowerCase();
      if (valueOf(field) !== value || (field === 'bucket' && fields.has('bucket') && fields.get('bucket') !== value)) {
        return policyDenied(`Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(value)}]`);
      }
      covered.add(field);
    } else {
      return invalidPolicy(`Invalid Condition: ${shown}`);
    }
  }
  const extra = [...fields.keys()].filter((name) => !EXEMPT(name) && !covered.has(name));
  if (extra.length > 0) return policyDenied(`Extra input fields: ${extra.join(', ')}`);

  if (range && form.fileSize !== undefined) {
    if (form.fileSize > range.max) {
      return new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size',
        { ProposedSize: String(form.fileSize), MaxSizeAllowed: String(range.max) });
    }
    if (form.fileSize < range.min) {
      return new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size',
        { ProposedSize: String(form.fileSize), MinSizeAllowed: String(range.min) });
    }
  }
  return undefined;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Koa context fields used here. */
interface Ctx extends S3rver.Context {
  req: Readable;
  readonly state: { postPolicy?: { readonly error: S3Error | undefined } };
}

interface FormStore {
  putObject(object: { readonly bucket: string; readonly key: string }): Promise<unknown>;
}

/** A form upload to a bucket (`POST /bucket` or `/bucket/`, `multipart/form-data`). */
export function isFormPost(ctx: S3rver.Context): boolean {
  return ctx.method === 'POST' && /^\/[^/]+\/?$/.test(ctx.path) && Object.keys(ctx.query).length === 0
    && (ctx.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * Judges every form upload before s3rver stores it. The verdict is delivered by the store's
 * `putObject` (after s3rver's CORS headers are set, so browsers can read the error).
 * `directory` holds the temporary copies; `secretFor` resolves access keys.
 */
export function addPostPolicyChecks(
  s3rver: S3rver,
  directory: string,
  secretFor: (accessKeyId: string) => string | undefined,
  currentRequest: () => S3rver.Context | undefined,
): void {
  s3rver.middleware.unshift(async (context, next) => {
    const ctx = context as Ctx;
    if (!isFormPost(ctx)) return next();
    await mkdir(directory, { recursive: true });
    const raw = path.join(directory, `post-${randomBytes(12).toString('hex')}`);
    let replay: Readable | undefined;
    try {
      const form = await readForm(ctx, raw);
      const bucket = ctx.path.split('/')[1];
      ctx.state.postPolicy = { error: form ? evaluatePostPolicy(form, { bucket, secretFor }) : undefined };
      replay = createReadStream(raw);
      ctx.req = replay;
      await next();
    } finally {
      replay?.destroy();
      await rm(raw, { force: true });
    }
  });

  const store = s3rver.store as unknown as FormStore;
  const putObject = store.putObject.bind(store);
  store.putObject = async (object) => {
    const verdict = (currentRequest() as Ctx | undefined)?.state.postPolicy;
    if (verdict?.error) throw verdict.error;
    return putObject(object);
  };
}

/** Copies the request body to `raw` while reading its fields and file size; undefined if not parseable. */
async function readForm(ctx: Ctx, raw: string): Promise<PostForm | undefined> {
  const fields: Array<[string, string]> = [];
  let fileSize: number | undefined;
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: ctx.headers as Record<string, string> });
  } catch {
    // No boundary: s3rver answers the malformed request.
    await pipeline(ctx.req, createWriteStream(raw));
    return undefined;
  }
  const parsed = new Promise<boolean>((resolve) => {
    parser.on('field', (name, value) => {
      if (fileSize !== undefined) return;
      // A `file` part without a filename reaches busboy (and s3rver) as a field: it is the file.
      if (name === 'file') fileSize = Buffer.byteLength(value);
      else fields.push([name, value]);
    });
    parser.on('file', (name, stream) => {
      if (name !== 'file' || fileSize !== undefined) {
        stream.resume();
        return;
      }
      fileSize = 0;
      stream.on('data', (chunk: Buffer) => {
        fileSize! += chunk.length;
      });
    });
    parser.on('close', () => resolve(true));
    parser.on('error', () => resolve(false));
  });
  const tee = new PassThrough();
  tee.pipe(parser);
  await pipeline(ctx.req, tee, createWriteStream(raw));
  return await parsed ? { fields, fileSize } : undefined;
}
