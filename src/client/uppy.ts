/**
 * `uppySigner(options)`: the options for `@uppy/aws-s3` 6 that make Uppy upload through the signer's
 * `POST /uppy/sign` with bounded bytes. Uppy's `signRequest` receives no file size and, when it starts a
 * multipart upload, no type; this adapter's `generateObjectKey` sees each file first and remembers it
 * under the key it returns, so `signRequest` can send the file's `size`, `contentType`, `filename`, the
 * app `metadata` and Uppy's `chunkSize` when an upload starts. The signer fixes the layout then, in the key it returns
 * (Uppy uses that key for every later request), and signs each part with its exact length.
 *
 * No dependency on Uppy: the types below are the parts of Uppy's contract the adapter uses.
 */
import { signerRefusal, UploadError } from './errors';
import type { UppySignRequest, UppySignResponse } from '../contract/signer-protocol';

const MIB = 1024 * 1024;
/** S3's smallest part but the last, and Uppy's smallest chunk. */
const MIN_CHUNK = 5 * MIB;
const MAX_PARTS = 10_000;

/** What the adapter reads of an Uppy file. */
export interface UppyFileLike {
  readonly name?: string;
  readonly type?: string;
  readonly size: number | null;
  /** Uppy's per-file metadata (`uppy.setFileMeta`). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** What Uppy passes to `signRequest` (`PresignableRequest`). */
export interface UppyRequestLike {
  readonly method: 'PUT' | 'POST' | 'GET' | 'DELETE';
  readonly key: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
  readonly contentType?: string;
  readonly expiresIn?: number;
}

export interface UppySignerOptions {
  /** The signer's base URL (`DirectUploadBucket.signerUrl`), without a trailing slash. */
  readonly signerUrl: string;
  /** Headers for every signer call, e.g. `{ authorization: 'Bearer …' }`. Called per call (tokens refresh). */
  readonly getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Files above this size go up in parts. Match the construct's `multipartThreshold`. @default 100 MiB */
  readonly multipartThreshold?: number;
  /** Part size (at least 5 MiB; grown when a file would need more than 10,000 parts). @default 16 MiB */
  readonly partSize?: number;
  /**
   * App context signed with each upload as S3 user metadata (`metadataKeys` of the construct): a fixed
   * object, or a function of the file (e.g. its Uppy `meta`). @default - none
   */
  readonly metadata?: Readonly<Record<string, string>> | ((file: UppyFileLike) => Readonly<Record<string, string>> | undefined);
  /** The fetch to use. @default - global `fetch` */
  readonly fetch?: typeof fetch;
}

/** Spread into `uppy.use(AwsS3, { ...uppySigner(options) })`. */
export interface UppySignerPluginOptions {
  readonly signRequest: (request: UppyRequestLike) => Promise<UppySignResponse>;
  readonly generateObjectKey: (file: UppyFileLike) => string;
  readonly getChunkSize: (file: { size: number }) => number;
  readonly shouldUseMultipart: (file: UppyFileLike) => boolean;
}

/** Builds the `@uppy/aws-s3` options; see the module comment. */
export function uppySigner(options: UppySignerOptions): UppySignerPluginOptions {
  const threshold = options.multipartThreshold ?? 100 * MIB;
  const partSize = Math.max(options.partSize ?? 16 * MIB, MIN_CHUNK);
  const files = new Map<string, UppyFileLike>();
  // Uppy's own rule (S3Uploader): max(getChunkSize, 5 MiB), raised to size / 10,000 when there are more
  // parts than that. Returning a size Uppy keeps as it is means the signer and Uppy agree on every part.
  const chunkSize = (size: number) => Math.max(partSize, Math.ceil(size / MAX_PARTS));

  return {
    generateObjectKey(file) {
      // Only a handle: the signer chooses the real key. The file name keeps Uppy's default shape.
      const key = `${randomId()}-${file.name ?? 'file'}`;
      files.set(key, file);
      return key;
    },
    getChunkSize: ({ size }) => chunkSize(size),
    shouldUseMultipart: (file) => (file.size ?? 0) > threshold,
    async signRequest(request) {
      const file = files.get(request.key);
      const metadata = typeof options.metadata === 'function' ? file && options.metadata(file) : options.metadata;
      const start = startFields(request, file, chunkSize);
      const body: UppySignRequest = { ...request, ...start, ...(metadata && 'size' in start ? { metadata } : {}) };
      const doFetch = options.fetch ?? fetch;
      const res = await doFetch(`${options.signerUrl}/uppy/sign`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await options.getAuthHeaders?.()) },
        body: JSON.stringify(body),
      });
      const json: unknown = await res.json().catch(() => undefined);
      if (!res.ok || typeof json !== 'object' || json === null) {
        const { code, message } = signerRefusal(res.status, json);
        // Uppy shows the message: lead with the code.
        throw new UploadError(`${code}: ${message}`, code, res.status);
      }
      return json as UppySignResponse;
    },
  };
}

/** What only the two requests that start an upload carry: PutObject and CreateMultipartUpload. */
function startFields(
  request: UppyRequestLike, file: UppyFileLike | undefined, chunkSize: (size: number) => number,
): Partial<UppySignRequest> {
  if (request.uploadId !== undefined || (request.method !== 'PUT' && request.method !== 'POST') || !file || file.size === null) return {};
  const type = file.type ? file.type : undefined;
  return {
    size: file.size,
    ...(file.name ? { filename: file.name.slice(0, 255) } : {}),
    ...(request.method === 'POST' ? { chunkSize: chunkSize(file.size), ...(type ? { contentType: type } : {}) } : {}),
  };
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}
