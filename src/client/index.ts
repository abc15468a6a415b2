/**
 * A small typed client for the signer's native protocol, for browsers and Node ≥ 20 (global `fetch`,
 * `Blob`, `AbortSignal`): `uploadFile(file, options)` asks `POST /uploads`, then sends one PUT, or the
 * parts of a multipart plan with bounded concurrency (a failed part is retried with backoff), and
 * completes. Pass `resume` (from an {@link UploadError}) to continue an interrupted multipart upload:
 * the signer lists the parts S3 already holds and only the others are sent. `signal` aborts (the
 * multipart upload is aborted server-side too).
 *
 * Not part of the construct's jsii API: import it from `cdk-direct-upload/client`. No DOM types or
 * globals at module scope.
 */
import { Settled, uploadBatch } from './batch';
import { signerRefusal, UploadError } from './errors';
import { prepareImage, PrepareImageOptions } from './prepare-image';
import { chooseSend, Send, SendRequest, SendResponse } from './transport';
import { pause, waitUntilVerified } from './wait';
import type {
  CompletedUpload,
  CreateUploadRequest,
  CreateUploadResponse,
  MultipartUploadPlan,
  PresignedPart,
  PresignedUpload,
  SignPartsResponse,
  UploadStatus,
} from '../contract/signer-protocol';

/** What can be uploaded: a `Blob`/`File`, or bytes (then give `contentType`). */
export type UploadBody = Blob | Uint8Array | ArrayBuffer;

export interface UploadProgress {
  readonly uploadedBytes: number;
  readonly totalBytes: number;
}

export interface UploadFileOptions {
  /** The signer's base URL (`DirectUploadBucket.signerUrl`), without a trailing slash. */
  readonly signerUrl: string;
  /** MIME type. @default - the Blob's `type` */
  readonly contentType?: string;
  /** Original name, for your records (never chooses the key). @default - the File's `name` */
  readonly filename?: string;
  /**
   * App context stored with the file as signed S3 user metadata, e.g. `{ 'album-id': '42' }`: only the
   * keys the construct allow-lists (`metadataKeys`), any Unicode values; the verified queue message carries
   * them. @default - none
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Headers for every signer call, e.g. `{ authorization: 'Bearer …' }`. Called per call (tokens refresh). */
  readonly getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /**
   * Byte-level progress, never decreasing (a retried part counts again only past what it had sent):
   * from XHR upload events in browsers, from the streamed body in Node. With a custom `fetch` in a
   * browser, progress is reported per completed request.
   */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload (and the multipart upload in S3). */
  readonly signal?: AbortSignal;
  /** Parts in flight at once. @default 4 */
  readonly concurrency?: number;
  /**
   * Retries of a failed part or PUT (network error, 5xx, 429, expired URL, which is signed again, and
   * bytes S3 refused as corrupted, `BadDigest`), and of
   * a signer call answered 429 or 503 (nothing was signed), after its `retry-after`. @default 3
   */
  readonly retries?: number;
  /** First backoff delay in ms (doubled per retry) where no `retry-after` says otherwise. @default 500 */
  readonly retryDelayMs?: number;
  /**
   * Longest wait for one retry, in ms: a signer asking to retry later than this (a spent quota window)
   * fails the upload at once with its code (`QUOTA_EXCEEDED`). @default 30000
   */
  readonly maxRetryDelayMs?: number;
  /**
   * Prepare an image on the device before signing ({@link prepareImage}): scaled to fit, re-encoded,
   * without metadata; the signed size and type are the prepared file's. Applies to `image/*` files but
   * GIF and SVG (their animation or vectors would be lost); not with `resume` (resume with the file that
   * was uploaded: call `prepareImage` yourself then).
   * @default - files are sent as they are
   */
  readonly prepare?: PrepareImageOptions;
  /**
   * Compute SHA-256 checksums on the device (Web Crypto) and have the signer sign them, so that S3 refuses
   * bytes corrupted on the way (`BadDigest`). Up to `multipartThreshold`, the file goes up in one PUT with
   * the SHA-256 of the whole file (read into memory once for the digest); above it, in parts, each signed
   * with its own SHA-256 (read one part at a time) just before it is sent. Browsers offer Web Crypto in
   * secure contexts only (https, localhost). Not with `resume`.
   * @default false
   */
  readonly checksum?: boolean;
  /**
   * With `checksum`: files above this size go up in parts, each with its SHA-256. Match the construct's
   * `multipartThreshold`. @default 100 MiB
   */
  readonly multipartThreshold?: number;
  /** Continue an interrupted multipart upload of the same file. */
  readonly resume?: { readonly key: string; readonly uploadId: string };
  /** The fetch to use. @default - global `fetch` */
  readonly fetch?: typeof fetch;
  /**
   * Resolve only once the verifier has accepted the file (polling `POST /uploads/status` with backoff);
   * a rejection is an `UploadError` with code `UPLOAD_REJECTED` and the verifier's reason as message.
   * @default false
   */
  readonly waitUntilVerified?: boolean;
  /** With `waitUntilVerified`: milliseconds to wait for the verdict (then `VERIFY_TIMEOUT`). @default 60000 */
  readonly timeout?: number;
}

export interface UploadResult {
  readonly key: string;
  readonly publicUrl: string;
  readonly size: number;
}

/**
 * Uploads one file through the signer; resolves when S3 holds it (with `waitUntilVerified`, when the
 * verifier has accepted it).
 */
export async function uploadFile(file: UploadBody, options: UploadFileOptions): Promise<UploadResult> {
  return uploadSigned(file, options);
}

/** One file of {@link uploadFiles}: the bytes, or the bytes with their type and name. */
export type UploadFilesEntry = UploadBody | {
  readonly file: UploadBody;
  /** MIME type. @default - the Blob's `type` */
  readonly contentType?: string;
  /** Original name, for your records. @default - the File's `name` */
  readonly filename?: string;
};

export interface UploadFilesOptions extends Omit<UploadFileOptions, 'contentType' | 'filename' | 'resume' | 'onProgress'> {
  /** Byte-level progress of file `index` (its position in `files`). */
  readonly onProgress?: (index: number, progress: UploadProgress) => void;
  /** Files sent at once (each with up to `concurrency` parts in flight). @default 4 */
  readonly fileConcurrency?: number;
}

/** What became of one file of {@link uploadFiles}: its result, or why it failed. */
export type UploadFileOutcome = Settled<UploadResult>;

/**
 * Uploads several files, signing them together (one `POST /uploads` per 100 files), then sending each as
 * {@link uploadFile} does, `fileConcurrency` at a time. Resolves once every file has succeeded or failed,
 * with one outcome per file, in order; it never rejects.
 */
export function uploadFiles(files: readonly UploadFilesEntry[], options: UploadFilesOptions): Promise<UploadFileOutcome[]> {
  return uploadBatch(files.length, options, (index, sign) => {
    const entry = files[index];
    const described: { file: UploadBody; contentType?: string; filename?: string } = isUploadBody(entry) ? { file: entry } : entry;
    const { file, contentType, filename } = described;
    return uploadSigned(file, {
      ...options,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(filename !== undefined ? { filename } : {}),
      onProgress: options.onProgress && ((p) => options.onProgress!(index, p)),
    }, sign);
  });
}

function isUploadBody(entry: UploadFilesEntry): entry is UploadBody {
  return entry instanceof Blob || entry instanceof Uint8Array || entry instanceof ArrayBuffer;
}

async function uploadSigned(
  file: UploadBody, options: UploadFileOptions, sign?: (request: CreateUploadRequest) => Promise<CreateUploadResponse>,
): Promise<UploadResult> {
  const stored = await storeFile(file, options, sign);
  if (!options.waitUntilVerified) return stored;
  const client = new Client(options, 0);
  await waitUntilVerified((path, body) => client.signer<UploadStatus>(path, body), stored.key, {
    timeout: options.timeout ?? 60_000, signal: options.signal,
  });
  return stored;
}

async function storeFile(
  file: UploadBody, options: UploadFileOptions, sign?: (request: CreateUploadRequest) => Promise<CreateUploadResponse>,
): Promise<UploadResult> {
  const given = toBlob(file, options.contentType);
  const blob = options.prepare && !options.resume && isPreparable(given.type) ? await prepareImage(given, options.prepare) : given;
  const contentType = blob === given ? options.contentType ?? blob.type : blob.type;
  if (!contentType) throw new UploadError('contentType is required for bytes without a type.', 'INVALID_REQUEST');
  const filename = options.filename ?? (blob as { name?: unknown }).name;
  const client = new Client(options, blob.size);
  client.checkAborted();

  if (options.resume) {
    return client.multipart(blob, options.resume.key, options.resume.uploadId, undefined);
  }
  const request = {
    contentType,
    size: blob.size,
    ...(typeof filename === 'string' && filename ? { filename } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    ...(!options.checksum ? {}
      : blob.size > (options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD) ? { checksumAlgorithm: 'SHA256' as const }
        : { checksumSha256: await sha256Base64(blob), method: 'PUT' as const }),
  };
  const created = await (sign ? sign(request) : client.signer<CreateUploadResponse>('/uploads', request));
  if ('uploadId' in created) {
    return client.multipart(blob, created.key, created.uploadId, created);
  }
  const stored = await client.single(blob, created, async () => {
    const again = await client.signer<CreateUploadResponse>('/uploads', request);
    if ('uploadId' in again) throw new UploadError('The signer answered a multipart plan when signing again.', 'SIGNER_ERROR');
    return again;
  });
  return { key: stored.key, publicUrl: stored.publicUrl, size: blob.size };
}

/** Signs a request again after S3 refused it (a 403): `applies` says whether to, `run` does it. */
interface Resign {
  applies(response: SendResponse): boolean;
  run(): Promise<void>;
}

class Client {
  private readonly fetch: typeof fetch;
  private readonly send: Send;
  private readonly retries: number;
  private readonly delay: number;
  private readonly maxDelay: number;
  private readonly concurrency: number;
  private readonly meter: ProgressMeter;

  constructor(private readonly options: UploadFileOptions, size: number) {
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.send = chooseSend(options.fetch);
    this.retries = options.retries ?? 3;
    this.delay = options.retryDelayMs ?? 500;
    this.maxDelay = options.maxRetryDelayMs ?? 30_000;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.meter = new ProgressMeter(size, options.onProgress);
  }

  checkAborted(resume?: { key: string; uploadId: string }): void {
    if (this.options.signal?.aborted) throw new UploadError('The upload was aborted.', 'ABORTED', undefined, resume);
  }

  /**
   * A signer call; a refusal becomes an UploadError with the signer's code. 429 and 503 mean nothing
   * was signed: they are retried after `retry-after` (or the backoff), as long as that is not too long.
   */
  async signer<T>(path: string, body: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers = { 'content-type': 'application/json', ...(await this.options.getAuthHeaders?.()) };
      let res: Response;
      try {
        res = await this.fetch(`${this.options.signerUrl.replace(/\/+$/, '')}${path}`, {
          method: 'POST', headers, body: JSON.stringify(body), signal: this.options.signal,
        });
      } catch (err) {
        this.checkAborted();
        throw new UploadError(`Could not reach the signer: ${describe(err)}`, 'NETWORK_ERROR');
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) return json as T;
      const wait = (res.status === 429 || res.status === 503) && attempt < this.retries
        ? retryAfterMs(res.headers.get('retry-after')) ?? this.delay * 2 ** attempt
        : undefined;
      if (wait === undefined || wait > this.maxDelay) {
        const { code, message } = signerRefusal(res.status, json);
        throw new UploadError(message, code, res.status);
      }
      await pause(wait, this.options.signal);
      this.checkAborted();
    }
  }

  /** Sends the file in one request; an expired URL is signed again (a new key). Returns what was used. */
  async single(blob: Blob, signed: PresignedUpload, signAgain: () => Promise<PresignedUpload>): Promise<PresignedUpload> {
    let current = signed;
    const request = (): SendRequest => {
      const onBytes = (sent: number) => this.meter.set(0, sent);
      if (current.method === 'POST') {
        const form = new FormData();
        for (const [name, value] of Object.entries(current.fields ?? {})) form.set(name, value);
        form.set('file', blob);
        return { method: 'POST', url: current.url, body: form, size: blob.size, signal: this.options.signal, onBytes };
      }
      return { method: 'PUT', url: current.url, headers: current.headers, body: blob, size: blob.size, signal: this.options.signal, onBytes };
    };
    await this.transfer(request, {
      applies: (res) => isExpired(res.text),
      run: async () => {
        current = await signAgain();
      },
    });
    this.meter.set(0, blob.size);
    return current;
  }

  async multipart(blob: Blob, key: string, uploadId: string, plan: MultipartUploadPlan | undefined): Promise<UploadResult> {
    const resume = { key, uploadId };
    const size = blob.size;
    let signed: PresignedPart[] = plan ? [...plan.parts] : [];
    let partCount = plan?.partCount ?? 0;
    let partSize = plan?.partSize ?? 0;
    const pending = new Set<number>();
    const uploaded = new Set<number>();
    // Parts of a checksummed upload are signed one at a time, each with its SHA-256 (computed once).
    const checksummed = plan?.checksumAlgorithm === 'SHA256';
    const digests = new Map<number, string>();
    const digestOf = async (n: number) => {
      const known = digests.get(n);
      if (known !== undefined) return known;
      const start = (n - 1) * partSize;
      const digest = await sha256Base64(blob.slice(start, Math.min(start + partSize, size)));
      digests.set(n, digest);
      return digest;
    };

    const refresh = async (numbers?: number[]) => {
      const checksums = checksummed && numbers ? { checksumsSha256: await Promise.all(numbers.map(digestOf)) } : {};
      const res = await this.signer<SignPartsResponse>('/uploads/multipart/parts', {
        key, uploadId, size, ...(numbers ? { partNumbers: numbers } : {}), ...checksums,
      });
      partCount = res.partCount;
      partSize = res.partSize;
      for (const p of res.uploadedParts) {
        uploaded.add(p.partNumber);
        this.meter.set(p.partNumber, p.size);
      }
      return [...res.parts];
    };

    try {
      if (!plan) signed = await refresh(); // resume: learn the layout and what S3 holds
      this.meter.set(0, 0);
      const missing = () => Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !uploaded.has(n));
      const urls = new Map(signed.map((p) => [p.partNumber, p]));

      const worker = async () => {
        for (;;) {
          this.checkAborted(resume);
          const next = missing().find((n) => !pending.has(n));
          if (next === undefined) return;
          pending.add(next);
          try {
            let part = urls.get(next);
            if (!part) {
              const batch = checksummed ? [next] : missing().filter((n) => !pending.has(n) || n === next).slice(0, 100);
              for (const p of await refresh(batch.includes(next) ? batch : [next])) urls.set(p.partNumber, p);
              part = urls.get(next);
              if (!part) continue; // S3 already holds it
            }
            const start = (next - 1) * partSize;
            const body = blob.slice(start, start + part.size);
            await this.transfer(() => ({
              method: 'PUT',
              url: part!.url,
              headers: part!.headers,
              body,
              size: part!.size,
              signal: this.options.signal,
              onBytes: (sent) => this.meter.set(next, sent),
            }), {
              // A 403 is most likely an expired URL: sign this part again.
              applies: () => true,
              run: async () => {
                const [fresh] = await refresh([next]);
                if (fresh) {
                  urls.set(next, fresh);
                  part = fresh;
                }
              },
            });
            uploaded.add(next);
            this.meter.set(next, part.size);
          } finally {
            pending.delete(next);
          }
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, worker));
      this.checkAborted(resume);
      const completed = await this.signer<CompletedUpload>('/uploads/multipart/complete', { key, uploadId, size });
      return { key: completed.key, publicUrl: completed.publicUrl, size: completed.size };
    } catch (err) {
      if (this.options.signal?.aborted) {
        // Best effort: the lifecycle rule removes what is left after a day anyway.
        await this.signerWithoutSignal('/uploads/multipart/abort', { key, uploadId });
        throw new UploadError('The upload was aborted.', 'ABORTED');
      }
      if (err instanceof UploadError && err.status === undefined && !err.resume) {
        throw new UploadError(err.message, err.code, err.status, resume);
      }
      throw err;
    }
  }

  private async signerWithoutSignal(path: string, body: unknown): Promise<void> {
    try {
      const headers = { 'content-type': 'application/json', ...(await this.options.getAuthHeaders?.()) };
      await this.fetch(`${this.options.signerUrl.replace(/\/+$/, '')}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch {
      // ignored: best effort
    }
  }

  /**
   * Sends until S3 answers 2xx; retries network errors, 5xx and 429 after a backoff, and a 403 that
   * `resign` applies to at once, after signing again.
   */
  private async transfer(request: () => SendRequest, resign: Resign): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let res: SendResponse | undefined;
      let failure: string;
      try {
        res = await this.send(request());
        if (res.status >= 200 && res.status < 300) return;
        failure = `S3 answered ${res.status}: ${s3Code(res.text)}`;
      } catch (err) {
        this.checkAborted();
        failure = `network error: ${describe(err)}`;
      }
      const status = res?.status;
      const expired = status === 403 && resign.applies(res!);
      // BadDigest: the bytes were corrupted on the way (a signed checksum caught it); send them again.
      const corrupted = status === 400 && /<Code>BadDigest<\/Code>/.test(res!.text);
      const retryable = status === undefined || status >= 500 || status === 429 || expired || corrupted;
      if (!retryable || attempt >= this.retries) {
        throw new UploadError(`Upload to S3 failed (${failure}).`, status === undefined ? 'NETWORK_ERROR' : 'S3_ERROR');
      }
      if (expired) await resign.run();
      else await pause(this.delay * 2 ** attempt, this.options.signal);
      this.checkAborted();
    }
  }
}

/** Bytes sent per part (part 0: a single request), summed; reported whenever the sum grows. */
class ProgressMeter {
  private readonly sent = new Map<number, number>();
  private total = 0;
  private reported = -1;

  constructor(private readonly totalBytes: number, private readonly report: ((progress: UploadProgress) => void) | undefined) {}

  set(part: number, bytes: number): void {
    const before = this.sent.get(part) ?? 0;
    if (bytes > before) {
      this.sent.set(part, bytes);
      this.total += bytes - before;
    }
    if (this.total > this.reported) {
      this.reported = this.total;
      this.report?.({ uploadedBytes: this.total, totalBytes: this.totalBytes });
    }
  }
}

/** `retry-after` in ms: delta seconds or an HTTP date; undefined when absent or malformed. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Whether S3 refused a presigned request because it expired (`AccessDenied`, "Request has expired"). */
function isExpired(s3Response: string): boolean {
  return /<Code>AccessDenied<\/Code>/.test(s3Response) && /<Message>Request has expired<\/Message>/.test(s3Response);
}

/** Files above this size go up in parts with `checksum: true` (the construct's default threshold). */
const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;

/** Base64 SHA-256 of a Blob (a file or one part of it), with Web Crypto. */
async function sha256Base64(blob: Blob): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(algorithm: string, data: ArrayBuffer): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) {
    throw new UploadError('checksum: true needs Web Crypto (crypto.subtle), which browsers offer in secure contexts only (https, localhost).', 'UNSUPPORTED_RUNTIME');
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', await blob.arrayBuffer()));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Images `prepare` applies to: not GIF (animation) nor SVG (vectors). */
function isPreparable(type: string): boolean {
  return type.startsWith('image/') && type !== 'image/gif' && type !== 'image/svg+xml';
}

function toBlob(file: UploadBody, contentType: string | undefined): Blob {
  if (file instanceof Blob) return file;
  const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : file;
  return new Blob([bytes as Uint8Array<ArrayBuffer>], contentType ? { type: contentType } : {});
}

function s3Code(text: string): string {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? (text.slice(0, 100) || 'no body');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export { UploadError } from './errors';
export { prepareImage } from './prepare-image';
export type { PrepareImageOptions } from './prepare-image';

// The wire protocol, for clients that call the signer themselves.
export { uppySigner } from './uppy';
export type { UppyFileLike, UppyRequestLike, UppySignerOptions, UppySignerPluginOptions } from './uppy';
export * from '../contract/signer-protocol';
