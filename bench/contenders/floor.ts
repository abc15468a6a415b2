/**
 * The floor of figure 1: the least work that yields the same presigned PUT — plain node:crypto SigV4
 * (query signing) with the signing key and every per-credential string cached. Per request only the
 * date (formatted once a second), the key's path, one SHA-256 of the canonical request and one HMAC remain. For the benchmark
 * only: no validation, no configuration, one fixed request shape (content-type, content-length and
 * `if-none-match: *` signed as headers, no content-md5), virtual-hosted-style host.
 */
import * as crypto from 'node:crypto';

export interface FloorOptions {
  readonly host: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiresInSeconds: number;
}

export interface FloorInput {
  /** Object key; every character outside A-Z a-z 0-9 - . _ ~ / is percent-encoded. */
  readonly key: string;
  readonly contentType: string;
  readonly size: number;
  readonly signingDate?: Date;
}

function enc(value: string): string {
  return /^[A-Za-z0-9\-._~]*$/.test(value) ? value : encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest();
}

const sha256Hex: (data: string) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');

/** Returns a function signing one PUT URL per call. */
export function createFloorSigner(options: FloorOptions): (input: FloorInput) => string {
  const signedHeaders = 'content-length;content-type;host;if-none-match';
  let day = '';
  let key: Buffer = Buffer.alloc(0);
  let scope = '';
  let head = '';
  const tail = `&X-Amz-Expires=${options.expiresInSeconds}`
    + (options.sessionToken ? `&X-Amz-Security-Token=${enc(options.sessionToken)}` : '')
    + `&X-Amz-SignedHeaders=${enc(signedHeaders)}`;

  let second = NaN;
  let amzDate = '';
  return (input) => {
    const now = Math.floor((input.signingDate ?? new Date()).getTime() / 1000);
    if (now !== second) {
      second = now;
      amzDate = new Date(now * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
    }
    const today = amzDate.slice(0, 8);
    if (today !== day) {
      day = today;
      scope = `${day}/${options.region}/s3/aws4_request`;
      key = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, day), options.region), 's3'), 'aws4_request');
      head = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=${enc(`${options.accessKeyId}/${scope}`)}&X-Amz-Date=`;
    }
    const path = '/' + input.key.split('/').map(enc).join('/');
    const query = `${head}${amzDate}${tail}`;
    const canonical = `PUT\n${path}\n${query}\ncontent-length:${input.size}\ncontent-type:${input.contentType}\nhost:${options.host}\nif-none-match:*\n\n${signedHeaders}\nUNSIGNED-PAYLOAD`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    return `https://${options.host}${path}?${query}&X-Amz-Signature=${crypto.createHmac('sha256', key).update(toSign).digest('hex')}`;
  };
}
