/**
 * Shared helpers for the signer tests: a valid policy, config and environment, HTTP API (payload v2)
 * events with each kind of authorizer, and an independent SigV4 verifier built on node:crypto only.
 */
import { createHash, createHmac } from 'node:crypto';
import type { APIGatewayEventRequestContextV2, APIGatewayProxyEventV2WithRequestContext } from 'aws-lambda';
import { signerEnvironment } from '../../src/contract/environment';
import { SignerPolicy } from '../../src/contract/upload-rules';
import { lambdaRuntimeEnvironment, SignerConfig } from '../../src/signer/config';
import { SignerHandler } from '../../src/signer/handler';
import type { MultipartStore } from '../../src/signer/multipart';

export const TEST_ACCESS_KEY_ID = 'AKIDEXAMPLE';
export const TEST_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const TEST_SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLE+token/with=special&chars';
export const TEST_BUCKET = 'uploads-bucket-1234';
export const TEST_REGION = 'eu-west-1';
export const TEST_PUBLIC_BASE_URL = 'https://d111111abcdef8.cloudfront.net';
/** A fixed signing time (with milliseconds, which SigV4 truncates). */
export const TEST_NOW = new Date('2024-05-06T07:08:09.500Z');

export const PNG_UUID = '0b6f8a4e-3c1d-4f2a-9e7b-5d6c4b3a2f10';
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** MD5 of "hello world", base64. */
export const HELLO_MD5 = createHash('md5').update('hello world').digest('base64');

export function testPolicy(overrides: Partial<SignerPolicy> = {}): SignerPolicy {
  return {
    prefix: 'uploads',
    allowedContentTypes: ['image/jpeg', 'image/png', 'image/webp'],
    maxFileSize: 25 * 1024 * 1024,
    expiresInSeconds: 300,
    accelerate: false,
    auth: 'iam',
    identityClaim: 'sub',
    multipartThreshold: 100 * 1024 * 1024,
    partSize: 16 * 1024 * 1024,
    allowDeleteObject: false,
    ...overrides,
  };
}

export function testConfig(overrides: Partial<SignerConfig> = {}, policy: Partial<SignerPolicy> = {}): SignerConfig {
  return {
    bucket: TEST_BUCKET,
    region: TEST_REGION,
    urlSuffix: 'amazonaws.com',
    publicBaseUrl: TEST_PUBLIC_BASE_URL,
    policy: testPolicy(policy),
    credentials: () => ({
      accessKeyId: TEST_ACCESS_KEY_ID,
      secretAccessKey: TEST_SECRET_ACCESS_KEY,
      sessionToken: TEST_SESSION_TOKEN,
    }),
    ...overrides,
  };
}

/** A complete, valid signer environment (what the construct and the Lambda runtime set). */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...signerEnvironment({ policy: testPolicy(), bucket: TEST_BUCKET, publicBaseUrl: TEST_PUBLIC_BASE_URL }),
    ...lambdaRuntimeEnvironment(TEST_REGION, {
      accessKeyId: TEST_ACCESS_KEY_ID,
      secretAccessKey: TEST_SECRET_ACCESS_KEY,
      sessionToken: TEST_SESSION_TOKEN,
    }),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Events

/** A payload v2 event whose request context may carry any authorizer shape. */
export type TestEvent = APIGatewayProxyEventV2WithRequestContext<APIGatewayEventRequestContextV2 & { authorizer?: unknown }>;

export interface EventOptions {
  readonly method?: string;
  readonly path?: string;
  readonly stage?: string;
  /** A JSON-serialisable value, or a raw string sent as-is. */
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
  /** `requestContext.authorizer`; omitted when undefined. */
  readonly authorizer?: unknown;
}

export function makeEvent(options: EventOptions = {}): TestEvent {
  const method = options.method ?? 'POST';
  const stage = options.stage ?? '$default';
  const path = options.path ?? '/uploads';
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: options.headers ?? { 'content-type': 'application/json', 'host': 'abc123.execute-api.eu-west-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'jest' },
      requestId: 'req-0001',
      routeKey: '$default',
      stage,
      time: '06/May/2024:07:08:09 +0000',
      timeEpoch: TEST_NOW.getTime(),
      ...(options.authorizer !== undefined ? { authorizer: options.authorizer } : {}),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** A valid `POST /uploads` body. */
export function uploadBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { contentType: 'image/png', size: 12345, ...overrides };
}

export function iamAuthorizer(userArn: string | undefined, userId?: string): unknown {
  return {
    iam: {
      accessKey: 'ASIAEXAMPLE',
      accountId: '123456789012',
      callerId: userId ?? 'AROAEXAMPLE:session',
      cognitoIdentity: null,
      principalOrgId: 'o-example',
      ...(userArn !== undefined ? { userArn } : {}),
      ...(userId !== undefined ? { userId } : {}),
    },
  };
}

/** A Cognito identity pool (enhanced flow) identity: every caller of the pool shares one role session ARN. */
export const COGNITO_POOL_ID = 'eu-west-1:4f3c2b1a-0000-4000-8000-000000000001';
export const COGNITO_ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/Cognito_UploadsAuth_Role/CognitoIdentityCredentials';

export interface CognitoCaller {
  /** @default COGNITO_POOL_ID */
  readonly identityPoolId?: string;
  /** @default true */
  readonly authenticated?: boolean;
  /** @default COGNITO_ROLE_ARN */
  readonly userArn?: string;
}

/** `requestContext.authorizer` for an IAM-signed request with Cognito identity pool credentials. */
export function cognitoAuthorizer(identityId: string, caller: CognitoCaller = {}): unknown {
  const identityPoolId = caller.identityPoolId ?? COGNITO_POOL_ID;
  const authenticated = caller.authenticated ?? true;
  return {
    iam: {
      accessKey: 'ASIAEXAMPLE',
      accountId: '123456789012',
      callerId: 'AROAEXAMPLECOGNITO:CognitoIdentityCredentials',
      cognitoIdentity: {
        amr: authenticated
          ? ['authenticated', 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE', `cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE:CognitoSignIn:${identityId}`]
          : ['unauthenticated'],
        identityId,
        identityPoolId,
      },
      principalOrgId: null,
      userArn: caller.userArn ?? COGNITO_ROLE_ARN,
      userId: 'AROAEXAMPLECOGNITO:CognitoIdentityCredentials',
    },
  };
}

export function jwtAuthorizer(claims: Record<string, unknown>): unknown {
  return { jwt: { claims, scopes: null }, principalId: '', integrationLatency: 0 };
}

export function lambdaAuthorizer(context: Record<string, unknown>): unknown {
  return { lambda: context };
}

/** The default caller: an IAM role session. */
export const DEFAULT_ARN = 'arn:aws:sts::123456789012:assumed-role/Uploader/alice';

// ---------------------------------------------------------------------------------------------
// Calling a handler

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | number | boolean>;
  readonly body: Record<string, unknown>;
  readonly rawBody: string;
}

export async function call(handler: SignerHandler, event: TestEvent): Promise<CallResult> {
  const result = await handler(event);
  const rawBody = result.body ?? '';
  return {
    status: result.statusCode ?? 0,
    headers: result.headers ?? {},
    body: JSON.parse(rawBody) as Record<string, unknown>,
    rawBody,
  };
}

/** The `error` object of an error body (throws when the body has none, which fails the test). */
export function errorOf(result: CallResult): { code: string; message: string } {
  const error = result.body.error as { code: string; message: string } | undefined;
  if (!error) throw new Error(`expected an error body, got ${result.rawBody}`);
  return error;
}

// ---------------------------------------------------------------------------------------------
// An independent SigV4 (query-string) verifier: node:crypto only, no SDK code.

/** Query parameters of a URL, decoded, in order (no URLSearchParams: it turns '+' into ' '). */
export function queryParams(url: string): Map<string, string> {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const params = new Map<string, string>();
  for (const part of query.split('&').filter((p) => p.length > 0)) {
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    params.set(name, eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1)));
  }
  return params;
}

/** SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper case). */
function uriEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Recomputes the signature S3 would compute for a presigned request sent to `url` with `headers`
 * (names any case; `host` is taken from the URL).
 */
export function computeSigV4Signature(method: string, url: string, headers: Record<string, string>, secretAccessKey: string): string {
  const parsed = new URL(url);
  const params = queryParams(url);
  const signedHeaders = (params.get('X-Amz-SignedHeaders') ?? '').split(';');
  const [, ...scopeParts] = (params.get('X-Amz-Credential') ?? '').split('/');
  const [date, region, service] = scopeParts;
  const amzDate = params.get('X-Amz-Date') ?? '';

  const canonicalUri = parsed.pathname.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/');
  const canonicalQuery = [...params.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

  const sent: Record<string, string> = { host: parsed.host };
  for (const [name, value] of Object.entries(headers)) sent[name.toLowerCase()] = value;
  const canonicalHeaders = signedHeaders.map((name) => {
    const value = sent[name];
    if (value === undefined) throw new Error(`the client would not send signed header "${name}"`);
    return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  }).join('');

  const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scopeParts.join('/'),
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// An independent POST-policy checker (S3's rules, node:crypto only): what S3 would enforce on a form.

/** A decoded POST policy. */
export interface CheckedPostPolicy {
  readonly expiration: string;
  readonly conditions: unknown[];
}

/**
 * Checks form `fields` as S3 would before accepting a POST upload: the signature over the base64
 * policy with the SigV4 signing key, algorithm/credential/date fields matching the policy, and every
 * form field (besides Policy, X-Amz-Signature, file) covered by an exact-match condition. Throws on
 * any violation; returns the decoded policy for further assertions.
 */
export function verifyPostPolicy(
  fields: Record<string, string>,
  expected: { secretAccessKey: string; region: string; bucket: string; now?: Date },
): CheckedPostPolicy {
  const policyB64 = fields.Policy;
  if (!policyB64) throw new Error('no Policy field');
  const [, date, region, service, terminal] = (fields['X-Amz-Credential'] ?? '').split('/');
  if (region !== expected.region || service !== 's3' || terminal !== 'aws4_request') throw new Error(`bad credential scope ${fields['X-Amz-Credential']}`);
  if (fields['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') throw new Error('bad algorithm');
  if (!(fields['X-Amz-Date'] ?? '').startsWith(date)) throw new Error('X-Amz-Date does not match the credential date');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${expected.secretAccessKey}`, date), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(policyB64, 'utf8').digest('hex');
  if (signature !== fields['X-Amz-Signature']) throw new Error('X-Amz-Signature does not match the policy');

  const policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8')) as CheckedPostPolicy;
  if (Date.parse(policy.expiration) <= (expected.now ?? new Date()).getTime()) throw new Error('policy expired');
  const lower = new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]));
  const covered = new Set<string>();
  for (const condition of policy.conditions) {
    if (Array.isArray(condition)) {
      const [op, name, value] = condition as [string, string, unknown];
      if (op === 'content-length-range') continue;
      if (op !== 'eq') throw new Error(`only exact conditions expected, got ${JSON.stringify(condition)}`);
      const field = name.replace(/^\$/, '').toLowerCase();
      if (lower.get(field) !== value) throw new Error(`field ${field} does not equal ${String(value)}`);
      covered.add(field);
    } else {
      for (const [name, value] of Object.entries(condition as Record<string, string>)) {
        const field = name.toLowerCase();
        if (field === 'bucket') {
          if (value !== expected.bucket) throw new Error(`policy bucket ${value}`);
        } else if (lower.get(field) !== value) {
          throw new Error(`field ${field} (${lower.get(field)}) does not equal ${value}`);
        }
        covered.add(field);
      }
    }
  }
  for (const field of lower.keys()) {
    if (!['policy', 'x-amz-signature', 'file'].includes(field) && !covered.has(field)) throw new Error(`field ${field} is not covered by the policy`);
  }
  return policy;
}

/** A MultipartStore that records each CreateMultipartUpload (key, type, Metadata) and holds no parts. */
export function recordingMultipartStore(created: unknown[]): MultipartStore {
  return {
    async create(key, contentType, metadata) {
      created.push({ key, contentType, metadata });
      return 'upload-1';
    },
    listParts: async () => [],
    listUploads: async () => [],
    complete: async () => undefined,
    abort: async () => true,
    storedSize: async () => undefined,
  };
}
