/**
 * Every URL the signer signs is accepted by the signature-verifying S3 stand-in for exactly the request
 * it was meant for, and rejected for any other (fast-check picks the request and the tampering).
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { putSigned, signFor } from './helpers';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ log: () => undefined, verifyUploads: false });
});

afterAll(async () => {
  await stack?.stop();
});

type Tamper = 'type' | 'longer' | 'shorter' | 'body' | 'key' | 'expires' | 'signed-headers' | 'credential' | 'no-md5-header';

const tampering: fc.Arbitrary<Tamper> = fc.constantFrom('type', 'longer', 'shorter', 'body', 'key', 'expires', 'signed-headers', 'credential', 'no-md5-header');

async function exists(key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

test('signed URLs: the exact request is stored, every tampered one is refused and stores nothing', async () => {
  await fc.assert(fc.asyncProperty(
    fc.uint8Array({ minLength: 1, maxLength: 4096 }),
    fc.constantFrom('image/png', 'image/jpeg', 'image/webp'),
    fc.boolean(),
    fc.constantFrom('alice', 'bob', 'user with spaces+plus', 'ünïcode'),
    tampering,
    async (bytes, contentType, withChecksum, user, tamper) => {
      const body = Buffer.from(bytes);
      const checksum = withChecksum ? createHash('md5').update(body).digest('base64') : undefined;
      const signed = await signFor(stack, body, { contentType, ...(checksum ? { checksum } : {}) }, user);
      const headers = { ...(signed.headers ?? {}) };

      // Tampered first: refused, nothing stored.
      let url = new URL(signed.url);
      let sendHeaders = { ...headers };
      let sendBody = body;
      switch (tamper) {
        case 'type': sendHeaders['content-type'] = contentType === 'image/png' ? 'text/html' : 'image/png'; break;
        case 'longer': sendBody = Buffer.concat([body, Buffer.from([0])]); break;
        case 'shorter': sendBody = body.length > 1 ? body.subarray(1) : Buffer.alloc(0); break;
        case 'body': sendBody = Buffer.from(body.map((b, i) => (i === 0 ? 255 - b : b))); break;
        case 'key': url.pathname = url.pathname.replace(/[0-9a-f]{8}-/, '00000000-'); break;
        case 'expires': url.searchParams.set('X-Amz-Expires', '3600'); break;
        case 'signed-headers': url.searchParams.set('X-Amz-SignedHeaders', 'host'); break;
        case 'credential': url.searchParams.set('X-Amz-Credential', (url.searchParams.get('X-Amz-Credential') ?? '').replace(/\/[a-z0-9-]+\/s3\//, '/ap-south-1/s3/')); break;
        case 'no-md5-header': delete sendHeaders['content-md5']; break;
      }
      const changesRequest = !(tamper === 'no-md5-header' && !checksum) && !(tamper === 'body' && !checksum);
      const tampered = await putSigned(url.href, sendHeaders, sendBody);
      if (changesRequest) {
        expect({ tamper, refused: [400, 403].includes(tampered.status) }).toEqual({ tamper, refused: true });
        expect(await exists(signed.key)).toBe(false);

        // The exact request: stored, with the signed type and length.
        url = new URL(signed.url);
        sendHeaders = { ...headers };
        const ok = await putSigned(url.href, sendHeaders, body);
        expect({ tamper, status: ok.status, text: ok.status === 200 ? '' : ok.text }).toEqual({ tamper, status: 200, text: '' });
      } else {
        // Nothing the signature covers was changed: that was the signed request, and it was stored.
        expect({ tamper, status: tampered.status, text: tampered.status === 200 ? '' : tampered.text }).toEqual({ tamper, status: 200, text: '' });
      }
      const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key }));
      expect(head.ContentType).toBe(contentType);
      expect(head.ContentLength).toBe(body.length);
    },
  ), { numRuns: 60, seed: 2026 });
});
