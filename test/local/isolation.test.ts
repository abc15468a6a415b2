/**
 * Caller isolation under every auth mode, end to end: the real signer handler, configured from the
 * local stack's environment (its multipart calls go to the S3 stand-in), fed the authorizer context
 * API Gateway builds for each mode. For every mode, two distinct callers get disjoint scopes, and the
 * second presenting the first's real key (and upload id) is refused 403 KEY_NOT_ALLOWED on every route
 * that takes a key, while the owner is not. There is no `/uploads/status` route.
 *
 * Anonymous mode (`auth: 'none'`) is not here: every caller shares one scope by design (README).
 */
import { makePng, objectExists, putSigned } from './helpers';
import { POLICY_ENV } from '../../src/contract/environment';
import type { MultipartUploadPlan, PresignedUpload } from '../../src/contract/signer-protocol';
import { AuthMode, serializeSignerPolicy } from '../../src/contract/upload-rules';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { createSignerHandlerFromEnv, SignerHandler } from '../../src/signer/handler';
import {
  call,
  COGNITO_ROLE_ARN,
  cognitoAuthorizer,
  errorOf,
  iamAuthorizer,
  jwtAuthorizer,
  lambdaAuthorizer,
  makeEvent,
} from '../signer/helpers';

const MIB = 1024 * 1024;
const ALICE_ID = 'eu-west-1:11111111-1111-4111-8111-111111111111';
const BOB_ID = 'eu-west-1:22222222-2222-4222-8222-222222222222';
const OTHER_POOL = 'eu-west-1:4f3c2b1a-0000-4000-8000-000000000002';

interface Mode {
  readonly auth: AuthMode;
  readonly identityClaim?: string;
  /** `requestContext.authorizer` of the owner and of the other caller. */
  readonly owner: unknown;
  readonly other: unknown;
}

const MODES: ReadonlyArray<[string, Mode]> = [
  ['IAM users', {
    auth: 'iam', owner: iamAuthorizer('arn:aws:iam::123456789012:user/alice', 'AIDAALICE'), other: iamAuthorizer('arn:aws:iam::123456789012:user/bob', 'AIDABOB'),
  }],
  ['IAM users of one name in two accounts', {
    auth: 'iam', owner: iamAuthorizer('arn:aws:iam::111111111111:user/alice'), other: iamAuthorizer('arn:aws:iam::222222222222:user/alice'),
  }],
  ['sessions of one IAM role (session names pinned by the trust policy)', {
    auth: 'iam',
    owner: iamAuthorizer('arn:aws:sts::123456789012:assumed-role/Uploader/alice'),
    other: iamAuthorizer('arn:aws:sts::123456789012:assumed-role/Uploader/bob'),
  }],
  ['Cognito authenticated identities of one pool (one shared role session ARN)', {
    auth: 'iam', owner: cognitoAuthorizer(ALICE_ID), other: cognitoAuthorizer(BOB_ID),
  }],
  ['Cognito unauthenticated identities', {
    auth: 'iam', owner: cognitoAuthorizer(ALICE_ID, { authenticated: false }), other: cognitoAuthorizer(BOB_ID, { authenticated: false }),
  }],
  ['Cognito: one identity id in two pools', {
    auth: 'iam', owner: cognitoAuthorizer(ALICE_ID), other: cognitoAuthorizer(ALICE_ID, { identityPoolId: OTHER_POOL }),
  }],
  ['Cognito classic flow: a session named after another identity', {
    auth: 'iam',
    owner: cognitoAuthorizer(ALICE_ID, { userArn: 'arn:aws:sts::123456789012:assumed-role/Cognito_UploadsAuth_Role/alice' }),
    other: cognitoAuthorizer(BOB_ID, { userArn: 'arn:aws:sts::123456789012:assumed-role/Cognito_UploadsAuth_Role/alice' }),
  }],
  ['Cognito identity vs a plain session of the pool\'s role', {
    auth: 'iam', owner: cognitoAuthorizer(ALICE_ID), other: iamAuthorizer(COGNITO_ROLE_ARN),
  }],
  ['JWT, claim sub', {
    auth: 'authorizer', identityClaim: 'sub', owner: jwtAuthorizer({ sub: 'alice' }), other: jwtAuthorizer({ sub: 'bob' }),
  }],
  ['JWT, claim email', {
    auth: 'authorizer', identityClaim: 'email', owner: jwtAuthorizer({ sub: 'x', email: 'alice@example.com' }), other: jwtAuthorizer({ sub: 'x', email: 'bob@example.com' }),
  }],
  ['Lambda authorizer', {
    auth: 'authorizer', identityClaim: 'userId', owner: lambdaAuthorizer({ userId: 'alice' }), other: lambdaAuthorizer({ userId: 'bob' }),
  }],
];

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    verifyUploads: false,
    policy: {
      allowedContentTypes: ['image/png', 'application/pdf'],
      maxFileSize: 20 * MIB,
      multipartThreshold: 6 * MIB,
      partSize: 5 * MIB,
      allowDeleteObject: true,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

function handlerFor(mode: Mode): SignerHandler {
  const policy = { ...stack.policy, auth: mode.auth, identityClaim: mode.identityClaim ?? stack.policy.identityClaim };
  return createSignerHandlerFromEnv({ ...stack.signerEnvironment, [POLICY_ENV]: serializeSignerPolicy(policy) }, { log: () => undefined });
}

const exists = (key: string): Promise<boolean> => objectExists(stack, key);

describe.each(MODES)('%s', (_name, mode) => {
  let handler: SignerHandler;
  const as = (authorizer: unknown, path: string, body: unknown) => call(handler, makeEvent({ path, body, authorizer }));
  /** What each route that takes a key is asked, for the owner's multipart upload and stored object. */
  const keyedRequests = (plan: MultipartUploadPlan, objectKey: string): Array<[string, string, unknown]> => {
    const { key, uploadId } = plan;
    return [
      ['SignParts', '/uploads/multipart/parts', { key, uploadId, size: 7 * MIB }],
      ['Complete', '/uploads/multipart/complete', { key, uploadId, size: 7 * MIB }],
      ['Abort', '/uploads/multipart/abort', { key, uploadId }],
      ['Uppy UploadPart', '/uppy/sign', { method: 'PUT', key, uploadId, partNumber: 1 }],
      ['Uppy ListParts', '/uppy/sign', { method: 'GET', key, uploadId }],
      ['Uppy AbortMultipartUpload', '/uppy/sign', { method: 'DELETE', key, uploadId }],
      ['Uppy CompleteMultipartUpload', '/uppy/sign', { method: 'POST', key, uploadId }],
      ['Uppy DeleteObject', '/uppy/sign', { method: 'DELETE', key: objectKey }],
    ];
  };
  let plan: MultipartUploadPlan;
  let objectKey: string;

  beforeAll(async () => {
    handler = handlerFor(mode);
    const created = await as(mode.owner, '/uploads', { contentType: 'application/pdf', size: 7 * MIB });
    expect(created.status).toBe(200);
    plan = created.body as unknown as MultipartUploadPlan;
    const png = makePng(4, 4);
    const signed = await as(mode.owner, '/uploads', { contentType: 'image/png', size: png.length });
    expect(signed.status).toBe(200);
    const upload = signed.body as unknown as PresignedUpload;
    expect((await putSigned(upload.url, upload.headers ?? {}, png)).status).toBe(200);
    objectKey = upload.key;
  });

  test('the two callers get disjoint scopes', async () => {
    const mine = await as(mode.other, '/uploads', { contentType: 'image/png', size: 100 });
    expect(mine.status).toBe(200);
    const scopeOf = (key: string) => key.split('/')[1];
    expect(scopeOf(String(mine.body.key))).not.toBe(scopeOf(plan.key));
    expect(scopeOf(objectKey)).toBe(scopeOf(plan.key));
  });

  test('the other caller presenting the owner\'s key: 403 KEY_NOT_ALLOWED on every route that takes a key, nothing signed or changed', async () => {
    for (const [operation, path, body] of keyedRequests(plan, objectKey)) {
      const res = await as(mode.other, path, body);
      expect({ operation, status: res.status, code: errorOf(res).code }).toEqual({ operation, status: 403, code: 'KEY_NOT_ALLOWED' });
      expect(res.rawBody).not.toMatch(/X-Amz-/);
    }
    expect(await exists(objectKey)).toBe(true);
    // The upload is still the owner's to continue.
    expect((await as(mode.owner, '/uploads/multipart/parts', { key: plan.key, uploadId: plan.uploadId, size: 7 * MIB })).status).toBe(200);
  });

  test('the owner passes the key check on the same routes', async () => {
    const requests = keyedRequests(plan, objectKey);
    const ending = new Set(['Complete', 'Uppy CompleteMultipartUpload', 'Abort']);
    for (const [operation, path, body] of requests.filter(([op]) => !ending.has(op))) {
      const res = await as(mode.owner, path, body);
      expect({ operation, status: res.status }).toEqual({ operation, status: 200 });
    }
    // Completing an upload without parts is refused, but for the parts, not for the key.
    for (const [operation, path, body] of requests.filter(([op]) => ending.has(op))) {
      const res = await as(mode.owner, path, body);
      expect({ operation, code: res.status === 200 ? 'OK' : errorOf(res).code }).not.toEqual({ operation, code: 'KEY_NOT_ALLOWED' });
    }
  });
});
