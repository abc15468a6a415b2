import { createHash } from 'node:crypto';
import { HELLO_MD5, testPolicy, uploadBody } from './helpers';
import { ErrorCodes } from '../../src/contract/signer-protocol';
import { MAX_SINGLE_PUT_SIZE } from '../../src/contract/upload-rules';
import { Outcome, Rejection } from '../../src/signer/http';
import {
  MAX_REQUEST_BODY_BYTES,
  readJsonBody,
  validateCreateUploadRequest,
  ValidUploadRequest,
} from '../../src/signer/request';

function rejectionOf<T>(outcome: Outcome<T>): Rejection {
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.rejection;
}

function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected a value, got ${JSON.stringify(outcome.rejection)}`);
  return outcome.value;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const HELLO_SHA256 = createHash('sha256').update('hello world').digest('base64');

/** A JSON object body of exactly `bytes` UTF-8 bytes. */
function jsonOfBytes(bytes: number): string {
  const base = JSON.stringify(uploadBody());
  return base.slice(0, -1) + ' '.repeat(bytes - base.length) + '}';
}

describe('readJsonBody', () => {
  test('parses a JSON body', () => {
    expect(valueOf(readJsonBody({ headers: JSON_HEADERS, body: '{"a":1}' }))).toEqual({ a: 1 });
  });

  test('decodes a base64 body', () => {
    const body = Buffer.from('{"contentType":"image/png","size":1}').toString('base64');
    expect(valueOf(readJsonBody({ headers: JSON_HEADERS, body, isBase64Encoded: true }))).toEqual({ contentType: 'image/png', size: 1 });
  });

  test.each([
    ['absent', {}],
    ['with a charset', { 'content-type': 'application/json; charset=utf-8' }],
    ['in upper case, under a mixed-case name', { 'Content-Type': 'Application/JSON' }],
  ])('accepts a content-type header %s', (_name, headers) => {
    expect(readJsonBody({ headers, body: '{}' }).ok).toBe(true);
  });

  test('accepts a body of exactly the limit', () => {
    expect(jsonOfBytes(MAX_REQUEST_BODY_BYTES)).toHaveLength(MAX_REQUEST_BODY_BYTES);
    expect(readJsonBody({ headers: JSON_HEADERS, body: jsonOfBytes(MAX_REQUEST_BODY_BYTES) }).ok).toBe(true);
    const base64 = Buffer.from(jsonOfBytes(MAX_REQUEST_BODY_BYTES)).toString('base64');
    expect(readJsonBody({ headers: JSON_HEADERS, body: base64, isBase64Encoded: true }).ok).toBe(true);
  });

  test.each([
    ['one byte over', jsonOfBytes(MAX_REQUEST_BODY_BYTES + 1), false],
    ['over in UTF-8 bytes, not in characters', `{"filename":"${'€'.repeat(3000)}"}`, false],
    ['one byte over, base64', Buffer.from(jsonOfBytes(MAX_REQUEST_BODY_BYTES + 1)).toString('base64'), true],
    ['far over, base64', 'A'.repeat(1_000_000), true],
    ['far over and not JSON', 'x'.repeat(1_000_000), false],
  ])('413 REQUEST_TOO_LARGE for a body %s', (_name, body, isBase64Encoded) => {
    const rejection = rejectionOf(readJsonBody({ headers: JSON_HEADERS, body, isBase64Encoded }));
    expect(rejection).toMatchObject({ status: 413, code: ErrorCodes.REQUEST_TOO_LARGE });
    expect(rejection.message).toMatch(/8192 bytes/);
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', ''])(
    '415 UNSUPPORTED_MEDIA_TYPE for content-type %j',
    (contentType) => {
      expect(rejectionOf(readJsonBody({ headers: { 'content-type': contentType }, body: '{}' })))
        .toMatchObject({ status: 415, code: ErrorCodes.UNSUPPORTED_MEDIA_TYPE });
    },
  );

  test.each([
    ['empty', ''],
    ['absent', undefined],
    ['truncated', '{"contentType":'],
    ['not JSON', 'contentType=image/png'],
  ])('400 INVALID_JSON for a body %s', (_name, body) => {
    expect(rejectionOf(readJsonBody({ headers: JSON_HEADERS, body }))).toMatchObject({ status: 400, code: ErrorCodes.INVALID_JSON });
  });
});

describe('validateCreateUploadRequest', () => {
  const policy = testPolicy();

  test('accepts a minimal request', () => {
    expect(valueOf(validateCreateUploadRequest(uploadBody(), policy))).toEqual<ValidUploadRequest>({ contentType: 'image/png', size: 12345, mode: 'PUT' });
  });

  test('accepts every optional field', () => {
    expect(valueOf(validateCreateUploadRequest(uploadBody({ filename: 'cat ü.png', checksum: HELLO_MD5 }), policy)))
      .toEqual<ValidUploadRequest>({ contentType: 'image/png', size: 12345, filename: 'cat ü.png', checksum: HELLO_MD5, mode: 'PUT' });
  });

  test('normalises the content type', () => {
    expect(valueOf(validateCreateUploadRequest(uploadBody({ contentType: ' Image/PNG; charset=binary' }), policy)).contentType).toBe('image/png');
  });

  test('accepts the boundaries: size 1, size = maxFileSize, a filename of the maximum length', () => {
    expect(validateCreateUploadRequest(uploadBody({ size: 1 }), policy).ok).toBe(true);
    expect(validateCreateUploadRequest(uploadBody({ size: policy.maxFileSize }), policy).ok).toBe(true);
    expect(validateCreateUploadRequest(uploadBody({ filename: 'x'.repeat(255) }), policy).ok).toBe(true);
  });

  test.each([null, [], 'image/png', 42, true])('400 INVALID_JSON for the non-object %j', (body) => {
    expect(rejectionOf(validateCreateUploadRequest(body, policy))).toMatchObject({ status: 400, code: ErrorCodes.INVALID_JSON });
  });

  test('400 INVALID_REQUEST naming an unknown field', () => {
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody({ key: 'uploads/bob/x.png' }), policy));
    expect(rejection).toMatchObject({ status: 400, code: ErrorCodes.INVALID_REQUEST });
    expect(rejection.message).toContain('"key"');
  });

  test('400 INVALID_REQUEST for a __proto__ field', () => {
    const body: unknown = JSON.parse('{"contentType":"image/png","size":1,"__proto__":{"size":2}}');
    expect(rejectionOf(validateCreateUploadRequest(body, policy)).message).toContain('"__proto__"');
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['contentType missing', { contentType: undefined }, /contentType is required/],
    ['contentType a number', { contentType: 42 }, /contentType must be a string/],
    ['contentType null', { contentType: null }, /contentType must be a string/],
    ['contentType without subtype', { contentType: 'image' }, /type\/subtype/],
    ['contentType a wildcard', { contentType: 'image/*' }, /type\/subtype/],
    ['contentType empty', { contentType: '' }, /type\/subtype/],
    ['size missing', { size: undefined }, /size is required/],
    ['size a string', { size: '12345' }, /positive integer/],
    ['size zero', { size: 0 }, /positive integer/],
    ['size negative', { size: -1 }, /positive integer/],
    ['size fractional', { size: 1.5 }, /positive integer/],
    ['size unsafe', { size: 2 ** 53 }, /positive integer/],
    ['size null', { size: null }, /positive integer/],
    ['filename a number', { filename: 7 }, /filename must be a string/],
    ['filename null', { filename: null }, /filename must be a string/],
    ['filename empty', { filename: '' }, /must not be empty/],
    ['filename too long', { filename: 'x'.repeat(256) }, /at most 255/],
    ['filename with NUL', { filename: 'a\u0000.png' }, /control characters/],
    ['filename with newline', { filename: 'a\n.png' }, /control characters/],
    ['filename with DEL', { filename: 'a\u007f.png' }, /control characters/],
  ])('400 INVALID_REQUEST: %s', (_name, overrides, message) => {
    const body = uploadBody(overrides);
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete body[name];
    }
    const rejection = rejectionOf(validateCreateUploadRequest(body, policy));
    expect(rejection).toMatchObject({ status: 400, code: ErrorCodes.INVALID_REQUEST });
    expect(rejection.message).toMatch(message);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['checksum hex', { checksum: '5eb63bbbe01eeed093cb22bb8f5acdc3' }, /base64 MD5/],
    ['checksum without padding', { checksum: HELLO_MD5.slice(0, 22) }, /base64 MD5/],
    ['checksum of 32 bytes', { checksum: Buffer.alloc(32).toString('base64') }, /base64 MD5/],
    ['checksum with non-zero padding bits', { checksum: 'AAAAAAAAAAAAAAAAAAAAAB==' }, /base64 MD5/],
    ['checksum url-safe alphabet', { checksum: '-_AAAAAAAAAAAAAAAAAAAA==' }, /base64 MD5/],
    ['checksum a number', { checksum: 1 }, /base64 MD5/],
    ['checksumSha256 hex', { checksumSha256: createHash('sha256').update('x').digest('hex') }, /base64 SHA-256/],
    ['checksumSha256 of 16 bytes (an MD5)', { checksumSha256: HELLO_MD5 }, /base64 SHA-256/],
    ['checksumSha256 without padding', { checksumSha256: HELLO_SHA256.slice(0, 43) }, /base64 SHA-256/],
    ['checksumSha256 with non-zero padding bits', { checksumSha256: `${'A'.repeat(42)}B=` }, /base64 SHA-256/],
    ['checksumSha256 a number', { checksumSha256: 1 }, /base64 SHA-256/],
  ])('400 INVALID_CHECKSUM: %s', (_name, overrides, message) => {
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody(overrides), policy));
    expect(rejection).toMatchObject({ status: 400, code: ErrorCodes.INVALID_CHECKSUM });
    expect(rejection.message).toMatch(message);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['checksumAlgorithm MD5', { checksumAlgorithm: 'MD5' }, /must be "SHA256"/],
    ['checksumAlgorithm with method PUT', { checksumAlgorithm: 'SHA256', method: 'PUT' }, /omit method/],
    ['checksumAlgorithm with checksumSha256', { checksumAlgorithm: 'SHA256', checksumSha256: HELLO_SHA256 }, /omit method, checksum and checksumSha256/],
  ])('400 INVALID_REQUEST: %s', (_name, overrides, message) => {
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody(overrides), policy));
    expect(rejection).toMatchObject({ status: 400, code: ErrorCodes.INVALID_REQUEST });
    expect(rejection.message).toMatch(message);
  });

  test('checksumAlgorithm SHA256 makes the upload multipart at any size (a small file is one part)', () => {
    expect(valueOf(validateCreateUploadRequest(uploadBody({ size: 1000, checksumAlgorithm: 'SHA256' }), policy)))
      .toEqual<ValidUploadRequest>({ contentType: 'image/png', size: 1000, checksumAlgorithm: 'SHA256', mode: 'MULTIPART' });
  });

  test('415 CONTENT_TYPE_NOT_ALLOWED listing the allowed types', () => {
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody({ contentType: 'image/svg+xml' }), policy));
    expect(rejection).toMatchObject({ status: 415, code: ErrorCodes.CONTENT_TYPE_NOT_ALLOWED });
    expect(rejection.message).toContain('image/jpeg, image/png, image/webp');
  });

  test('413 FILE_TOO_LARGE above the policy maximum, stating the limit', () => {
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody({ size: policy.maxFileSize + 1 }), policy));
    expect(rejection).toMatchObject({ status: 413, code: ErrorCodes.FILE_TOO_LARGE });
    expect(rejection.message).toContain('25 MiB (26214400 bytes)');
  });

  test.each(['PUT', 'POST'])('413 FILE_TOO_LARGE above the 5 GiB single-request limit with method %s, even when the policy allows more', (method) => {
    const large = testPolicy({ maxFileSize: 100 * 1024 ** 3 });
    expect(validateCreateUploadRequest(uploadBody({ size: MAX_SINGLE_PUT_SIZE, method }), large).ok).toBe(true);
    const rejection = rejectionOf(validateCreateUploadRequest(uploadBody({ size: MAX_SINGLE_PUT_SIZE + 1, method }), large));
    expect(rejection).toMatchObject({ status: 413, code: ErrorCodes.FILE_TOO_LARGE });
    expect(rejection.message).toContain('5 GiB');
  });

  test('without method, a file above the multipart threshold goes multipart (up to maxFileSize)', () => {
    const large = testPolicy({ maxFileSize: 100 * 1024 ** 3, multipartThreshold: 100 * 1024 ** 2 });
    expect(valueOf(validateCreateUploadRequest(uploadBody({ size: 100 * 1024 ** 2 }), large)).mode).toBe('PUT');
    expect(valueOf(validateCreateUploadRequest(uploadBody({ size: 100 * 1024 ** 2 + 1 }), large)).mode).toBe('MULTIPART');
    expect(valueOf(validateCreateUploadRequest(uploadBody({ size: 50 * 1024 ** 3 }), large)).mode).toBe('MULTIPART');
    expect(rejectionOf(validateCreateUploadRequest(uploadBody({ size: 50 * 1024 ** 3, method: 'PUT' }), large)).code).toBe(ErrorCodes.FILE_TOO_LARGE);
  });

  test('400 for a method other than PUT or POST, and for a checksum with POST or multipart', () => {
    const large = testPolicy({ maxFileSize: 1024 ** 3, multipartThreshold: 10 * 1024 ** 2 });
    for (const body of [
      uploadBody({ method: 'GET' }), uploadBody({ method: 'put' }), uploadBody({ method: 1 }),
      uploadBody({ method: 'POST', checksum: HELLO_MD5 }), uploadBody({ size: 20 * 1024 ** 2, checksum: HELLO_MD5 }),
      uploadBody({ method: 'POST', checksumSha256: HELLO_SHA256 }), uploadBody({ size: 20 * 1024 ** 2, checksumSha256: HELLO_SHA256 }),
    ]) {
      expect(rejectionOf(validateCreateUploadRequest(body, large))).toMatchObject({ status: 400, code: ErrorCodes.INVALID_REQUEST });
    }
  });

  test('a checksumSha256 is kept for a PUT, also above the multipart threshold with method: "PUT"', () => {
    const large = testPolicy({ maxFileSize: 1024 ** 3, multipartThreshold: 10 * 1024 ** 2 });
    expect(valueOf(validateCreateUploadRequest(uploadBody({ size: 20 * 1024 ** 2, method: 'PUT', checksumSha256: HELLO_SHA256 }), large)))
      .toEqual<ValidUploadRequest>({ contentType: 'image/png', size: 20 * 1024 ** 2, checksumSha256: HELLO_SHA256, mode: 'PUT' });
  });
});
