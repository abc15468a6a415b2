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
import { signerRefusal, UploadError } from './errors';
import type {
  CompletedUpload,
  CreateUploadResponse,
  MultipartUploadPlan,
  PresignedPart,
  PresignedUpload,
  SignPartsResponse,
} from '../signer/protocol';

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
  /** Headers for every signer call, e.g. `{ authorization: 'Bearer …' }`. Called per call (tokens refresh). */
  readonly getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Progress, at part granularity for multipart uploads. */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload (and the multipart upload in S3). */
  readonly signal?: AbortSignal;
  /** Parts in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Retries of a failed part or PUT (network error, 5xx, 429, expired URL). @default 3 */
  readonly retries?: number;
  /** First backoff delay in ms (doubled per retry). @default 500 */
  readonly retryDelayMs?: number;
  /** Continue an interrupted multipart upload of the same file. */
  readonly resume?: { readonly key: string; readonly uploadId: string };
  /** The fetch to use. @default - global `fetch` */
  readonly fetch?: typeof fetch;
}

export interface UploadResult {
  readonly key: string;
  readonly publicUrl: string;
  readonly size: number;
}

/** Uploads one file through the signer; resolves when S3 holds it. */
export async function uploadFile(file: UploadBody, options: UploadFileOptions): Promise<UploadResult> {
  const blob = toBlob(file, options.contentType);
  const contentType = options.contentType ?? blob.type;
  if (!contentType) throw new UploadError('contentType is required for bytes without a type.', 'INVALID_REQUEST');
  const filename = options.filename ?? (file as { name?: unknown }).name;
  const client = new Client(options);
  client.checkAborted();

  if (options.resume) {
    return client.multipart(blob, options.resume.key, options.resume.uploadId, undefined);
  }
  const created = await client.signer<CreateUploadResponse>('/uploads', {
    contentType, size: blob.size, ...(typeof filename === 'string' && filename ? { filename } : {}),
  });
  if ('uploadId' in created) {
    return client.multipart(blob, created.key, created.uploadId, created);
  }
  await client.single(blob, created);
  return { key: created.key, publicUrl: created.publicUrl, size: blob.size };
}

class Client {
  private readonly fetch: typeof fetch;
  private readonly retries: number;
  private readonly delay: number;
  private readonly concurrency: number;

  constructor(private readonly options: UploadFileOptions) {
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.retries = options.retries ?? 3;
    this.delay = options.retryDelayMs ?? 500;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  }

  checkAborted(resume?: { key: string; uploadId: string }): void {
    if (this.options.signal?.aborted) throw new UploadError('The upload was aborted.', 'ABORTED', undefined, resume);
  }

  /** A signer call; a refusal becomes an UploadError with the signer's code. */
  async signer<T>(path: string, body: unknown): Promise<T> {
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
    if (!res.ok) {
      const { code, message } = signerRefusal(res.status, json);
      throw new UploadError(message, code, res.status);
    }
    return json as T;
  }

  async single(blob: Blob, signed: PresignedUpload): Promise<void> {
    const send = () => {
      if (signed.method === 'POST') {
        const form = new FormData();
        for (const [name, value] of Object.entries(signed.fields ?? {})) form.set(name, value);
        form.set('file', blob);
        return this.fetch(signed.url, { method: 'POST', body: form, signal: this.options.signal });
      }
      return this.fetch(signed.url, { method: 'PUT', headers: signed.headers, body: blob, signal: this.options.signal });
    };
    await this.withRetries(send, undefined);
    this.progress(blob.size, blob.size);
  }

  async multipart(blob: Blob, key: string, uploadId: string, plan: MultipartUploadPlan | undefined): Promise<UploadResult> {
    const resume = { key, uploadId };
    const size = blob.size;
    let done = 0;
    let signed: PresignedPart[] = plan ? [...plan.parts] : [];
    let partCount = plan?.partCount ?? 0;
    let partSize = plan?.partSize ?? 0;
    const pending = new Set<number>();
    const uploaded = new Set<number>();

    const refresh = async (numbers?: number[]) => {
      const res = await this.signer<SignPartsResponse>('/uploads/multipart/parts', { key, uploadId, size, ...(numbers ? { partNumbers: numbers } : {}) });
      partCount = res.partCount;
      partSize = res.partSize;
      for (const p of res.uploadedParts) {
        if (!uploaded.has(p.partNumber)) {
          uploaded.add(p.partNumber);
          done += p.size;
        }
      }
      return [...res.parts];
    };

    try {
      if (!plan) signed = await refresh(); // resume: learn the layout and what S3 holds
      this.progress(done, size);
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
              const batch = missing().filter((n) => !pending.has(n) || n === next).slice(0, 100);
              for (const p of await refresh(batch.includes(next) ? batch : [next])) urls.set(p.partNumber, p);
              part = urls.get(next);
              if (!part) continue; // S3 already holds it
            }
            const start = (next - 1) * partSize;
            const body = blob.slice(start, start + part.size);
            await this.withRetries(() => this.fetch(part!.url, { method: 'PUT', body, signal: this.options.signal }), async () => {
              // An expired URL (403): sign this part again.
              const [fresh] = await refresh([next]);
              if (fresh) {
                urls.set(next, fresh);
                part = fresh;
              }
            });
            uploaded.add(next);
            done += part.size;
            this.progress(done, size);
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

  /** Sends until S3 answers 2xx; retries network errors, 5xx, 429 and (after `resign`) 403. */
  private async withRetries(send: () => Promise<Response>, resign: (() => Promise<void>) | undefined): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: string;
      try {
        res = await send();
        if (res.ok) {
          await res.arrayBuffer().catch(() => undefined);
          return res;
        }
        failure = `S3 answered ${res.status}: ${s3Code(await res.text())}`;
      } catch (err) {
        this.checkAborted();
        failure = `network error: ${describe(err)}`;
      }
      const status = res?.status;
      const retryable = status === undefined || status >= 500 || status === 429 || (status === 403 && resign !== undefined);
      if (!retryable || attempt >= this.retries) {
        throw new UploadError(`Upload to S3 failed (${failure}).`, status === undefined ? 'NETWORK_ERROR' : 'S3_ERROR');
      }
      await sleep(this.delay * 2 ** attempt, this.options.signal);
      if (status === 403 && resign) await resign();
    }
  }

  private progress(uploadedBytes: number, totalBytes: number): void {
    this.options.onProgress?.({ uploadedBytes, totalBytes });
  }
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// The wire protocol, for clients that call the signer themselves.
export { UploadError } from './errors';
export { uppySigner } from './uppy';
export type { UppyFileLike, UppyRequestLike, UppySignerOptions, UppySignerPluginOptions } from './uppy';
export * from '../signer/protocol';
