/**
 * Inputs shared by the benchmarks: the signer's environment as the construct and the Lambda runtime
 * set it (with a session token as long as a Lambda role's), and HTTP API (payload v2) events.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signerEnvironment } from '../../src/contract/environment';
import {
  DEFAULT_ALLOWED_CONTENT_TYPES,
  DEFAULT_IDENTITY_CLAIM,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_PREFIX,
  DEFAULT_URL_EXPIRY_SECONDS,
  AuthMode,
  SignerPolicy,
} from '../../src/contract/upload-rules';
import { lambdaRuntimeEnvironment } from '../../src/signer/config';

export const BENCH_REGION = 'us-east-1';
export const BENCH_BUCKET = 'uploads-bench-123456789012';
export const BENCH_PUBLIC_BASE_URL = 'https://d111111abcdef8.cloudfront.net';
export const BENCH_ACCESS_KEY_ID = 'ASIAIOSFODNN7EXAMPLE';
export const BENCH_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/**
 * A deterministic stand-in for a Lambda role's `AWS_SESSION_TOKEN`: about 1,000 base64 characters
 * (real ones are of that order), including the `+`, `/` and `=` that must be percent-encoded. Its
 * length matters: the token is in every URL, so it is hashed, encoded and serialised per request.
 */
export const BENCH_SESSION_TOKEN = (() => {
  let token = 'IQoJb3JpZ2luX2VjE';
  for (let i = 0; token.length < 1000; i++) {
    token += createHash('sha256').update(`session-${i}`).digest('base64');
  }
  return `${token.slice(0, 1000)}==`;
})();

/** The construct's default policy, with the given caller authentication. */
export function benchPolicy(auth: AuthMode = 'authorizer'): SignerPolicy {
  return {
    prefix: DEFAULT_PREFIX,
    allowedContentTypes: [...DEFAULT_ALLOWED_CONTENT_TYPES],
    maxFileSize: DEFAULT_MAX_FILE_SIZE,
    expiresInSeconds: DEFAULT_URL_EXPIRY_SECONDS,
    accelerate: true,
    auth,
    identityClaim: DEFAULT_IDENTITY_CLAIM,
    multipartThreshold: DEFAULT_MULTIPART_THRESHOLD,
    partSize: DEFAULT_PART_SIZE,
    allowDeleteObject: false,
  };
}

/** The signer's environment in AWS: what the construct sets plus the runtime's region and credentials. */
export function benchEnv(auth: AuthMode = 'authorizer'): Record<string, string> {
  return {
    ...signerEnvironment({ policy: benchPolicy(auth), bucket: BENCH_BUCKET, publicBaseUrl: BENCH_PUBLIC_BASE_URL }),
    ...lambdaRuntimeEnvironment(BENCH_REGION, {
      accessKeyId: BENCH_ACCESS_KEY_ID,
      secretAccessKey: BENCH_SECRET_ACCESS_KEY,
      sessionToken: BENCH_SESSION_TOKEN,
    }),
  };
}

/** A Cognito-style `sub`: a UUID, usable as-is as the key's caller segment. */
export const BENCH_JWT_SUB = '8f2c1a6e-5b7d-4e3f-9a1b-2c3d4e5f6a7b';
/** An IAM role session: not a safe key segment, so the signer hashes it (one more SHA-256 per request). */
export const BENCH_IAM_ARN = 'arn:aws:sts::123456789012:assumed-role/AppBackend/i-0abc123def4567890';

/** The `POST /uploads` body of a typical image upload. */
export const BENCH_UPLOAD_REQUEST = Object.freeze({ contentType: 'image/jpeg', size: 1_048_576, filename: 'holiday photo.jpg' });

/** A `POST /uploads` HTTP API (payload v2) event as API Gateway delivers it to the Lambda. */
export function benchEvent(caller: 'jwt' | 'iam', body: unknown = BENCH_UPLOAD_REQUEST): APIGatewayProxyEventV2 {
  const authorizer = caller === 'jwt'
    ? { jwt: { claims: { sub: BENCH_JWT_SUB, iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE', token_use: 'id' }, scopes: null } }
    : { iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'AROAEXAMPLE:i-0abc123def4567890', userArn: BENCH_IAM_ARN, userId: 'AROAEXAMPLE:i-0abc123def4567890', cognitoIdentity: null, principalOrgId: null } };
  const event = {
    version: '2.0',
    routeKey: 'POST /uploads',
    rawPath: '/uploads',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(JSON.stringify(body).length),
      'host': 'abc123.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Mozilla/5.0',
      'origin': 'https://app.example.com',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer,
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method: 'POST', path: '/uploads', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'Mozilla/5.0' },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: 'POST /uploads',
      stage: '$default',
      time: '06/May/2024:07:08:09 +0000',
      timeEpoch: 1714979289000,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
  return event as unknown as APIGatewayProxyEventV2;
}
