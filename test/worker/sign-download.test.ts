import { createVerify, generateKeyPairSync } from 'node:crypto';
import { signDownloadUrl } from '../../src/worker';

// GIVEN a CloudFront key pair, RSA 2048 as CloudFront requires
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const expiresAt = new Date('2030-01-02T03:04:05.678Z');
const epoch = 1893553445;

/** CloudFront's URL-safe base64 decoded by hand: `-` → `+`, `_` → `=`, `~` → `/`. */
function decodeSignature(value: string): Buffer {
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
}

function verifyAgainstDocumentedPolicy(signedUrl: string, resource: string): boolean {
  const params = new URL(signedUrl).searchParams;
  // The canned policy statement exactly as CloudFront's developer guide writes it, white space removed.
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${params.get('Expires')}}}}]}`;
  return createVerify('RSA-SHA256').update(policy).verify(publicKey, decodeSignature(params.get('Signature')!));
}

describe('signDownloadUrl', () => {
  test('signs the documented canned policy with RSA-SHA256; node:crypto verifies it with the public key', () => {
    const url = 'https://d111111abcdef8.cloudfront.net/uploads/u1/a.png';
    const signed = signDownloadUrl({ url, keyPairId: 'K2JCJMDEHXQW5F', privateKey: privatePem, expiresAt });
    expect(signed.startsWith(`${url}?Expires=${epoch}&Signature=`)).toBe(true);
    expect(signed.endsWith('&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256')).toBe(true);
    expect(verifyAgainstDocumentedPolicy(signed, url)).toBe(true);
    // a signature over another resource or expiry does not verify
    expect(verifyAgainstDocumentedPolicy(signed, 'https://d111111abcdef8.cloudfront.net/uploads/u2/a.png')).toBe(false);
  });

  test('the signature uses only CloudFront\'s URL-safe alphabet', () => {
    for (let i = 0; i < 20; i++) {
      const signed = signDownloadUrl({ url: `https://d.example/${i}.png`, keyPairId: 'K1', privateKey, expiresAt });
      const signature = new URL(signed).searchParams.get('Signature')!;
      expect(signature).toMatch(/^[A-Za-z0-9~_-]+$/);
      expect(signature).not.toMatch(/[+/=]/);
    }
  });

  test('baseUrl + key encodes each path segment and appends to an existing query with &', () => {
    const signed = signDownloadUrl({ baseUrl: 'https://cdn.example/', key: 'uploads/u 1/ä.png', keyPairId: 'K1', privateKey, expiresAt });
    const resource = 'https://cdn.example/uploads/u%201/%C3%A4.png';
    expect(signed.startsWith(`${resource}?Expires=`)).toBe(true);
    expect(verifyAgainstDocumentedPolicy(signed, resource)).toBe(true);
    const withQuery = signDownloadUrl({ url: 'https://cdn.example/a.png?size=large', keyPairId: 'K1', privateKey, expiresAt });
    expect(withQuery.startsWith('https://cdn.example/a.png?size=large&Expires=')).toBe(true);
    expect(verifyAgainstDocumentedPolicy(withQuery, 'https://cdn.example/a.png?size=large')).toBe(true);
  });

  test('refuses what CloudFront would not accept', () => {
    const base = { keyPairId: 'K1', privateKey, expiresAt };
    expect(() => signDownloadUrl({ ...base })).toThrow(/give url, or baseUrl and key/);
    expect(() => signDownloadUrl({ ...base, url: '/relative.png' })).toThrow(/not an absolute URL/);
    expect(() => signDownloadUrl({ ...base, url: 'ftp://cdn.example/a.png' })).toThrow(/http\(s\)/);
    expect(() => signDownloadUrl({ ...base, url: 'https://cdn.example/a.png#x' })).toThrow(/fragment/);
    expect(() => signDownloadUrl({ ...base, url: 'https://cdn.example/a.png?Expires=1' })).toThrow(/already carries Expires/);
    expect(() => signDownloadUrl({ ...base, url: 'https://cdn.example/a.png', expiresAt: new Date(NaN) })).toThrow(/expiresAt/);
    expect(() => signDownloadUrl({ ...base, url: 'https://cdn.example/a.png', keyPairId: 'K1&x=1' })).toThrow(/keyPairId/);
    expect(() => signDownloadUrl({ ...base, url: 'https://cdn.example/a.png', privateKey: 'not a pem' })).toThrow();
  });
});
