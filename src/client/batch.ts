/**
 * `uploadFiles(files, options)`: several files, one signer request per 100 of them. Every file is
 * described first (type, size, name; prepared or hashed if asked), then all are signed together with
 * `POST /uploads` `{ files: [...] }`, then each goes up with the single-file logic (one PUT, a POST form or
 * multipart parts), a few files at a time. Progress and errors are per file: one refused or failed file
 * does not stop the others. Entries the signer refused for now (quota, an unavailable dependency) are
 * asked again in one later batch after their `retryAfter`, within the same `retries` and `maxRetryDelayMs`
 * as single signer calls; entries left untried because the batch reached its size or time budget
 * (`BATCH_INCOMPLETE`: many multipart plans, slow S3) are asked again at once.
 */
import { signerRefusal, UploadError } from './errors';
import { pause } from './wait';
import type { BatchUploadResponse, CreateUploadRequest, CreateUploadResponse } from '../contract/signer-protocol';
import { MAX_BATCH_FILES, UPLOADS_PATH } from '../contract/signer-protocol';

/** What the batch signer needs of `UploadFilesOptions`. */
export interface BatchSignerOptions {
  readonly signerUrl: string;
  readonly getAuthHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** Files sent at once. @default 4 */
  readonly fileConcurrency?: number;
}

/** Uploads file `index` of the call like `uploadFile`, asking `sign` instead of `POST /uploads` for its first signature. */
export type SignedUpload<R> = (index: number, sign: (request: CreateUploadRequest) => Promise<CreateUploadResponse>) => Promise<R>;

/** What became of one file: its result, or why it failed. */
export type Settled<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: UploadError };

/** Largest batch body the client sends (the signer accepts 256 KiB). */
const MAX_BATCH_BODY_CHARS = 192 * 1024;

/** `uploadFiles` over the single-file upload `upload`, for `count` files. */
export async function uploadBatch<R>(count: number, options: BatchSignerOptions, upload: SignedUpload<R>): Promise<Array<Settled<R>>> {
  const signer = new BatchSigner(count, options);
  const slots = new Slots(Math.max(1, Math.floor(options.fileConcurrency ?? 4)));
  return Promise.all(Array.from({ length: count }, async (_, index): Promise<Settled<R>> => {
    let slot = false;
    try {
      const result = await upload(index, async (request) => {
        const signed = await signer.sign(index, request);
        await slots.acquire();
        slot = true;
        return signed;
      });
      return { ok: true, result };
    } catch (err) {
      return { ok: false, error: err instanceof UploadError ? err : new UploadError(describe(err), 'CLIENT_ERROR') };
    } finally {
      signer.done(index);
      if (slot) slots.release();
    }
  }));
}

interface Waiting {
  readonly request: CreateUploadRequest;
  readonly resolve: (signed: CreateUploadResponse) => void;
  readonly reject: (err: UploadError) => void;
}

/** Collects every file's request; once each file has asked (or failed before asking), signs them in batches. */
class BatchSigner {
  private readonly waiting = new Map<number, Waiting>();
  private readonly settled = new Set<number>();

  constructor(private readonly count: number, private readonly options: BatchSignerOptions) {}

  sign(index: number, request: CreateUploadRequest): Promise<CreateUploadResponse> {
    return new Promise((resolve, reject) => {
      this.waiting.set(index, { request, resolve, reject });
      this.settled.add(index);
      this.flushIfReady();
    });
  }

  /** File `index` is finished (or failed before asking): it no longer holds the batch back. */
  done(index: number): void {
    if (this.settled.has(index)) return;
    this.settled.add(index);
    this.flushIfReady();
  }

  private flushIfReady(): void {
    if (this.settled.size < this.count || this.waiting.size === 0) return;
    const all = [...this.waiting];
    this.waiting.clear();
    void this.signAll(all);
  }

  /** Signs in chunks of at most 100 entries (and ~192 KiB), in order; asks again for what may be retried. */
  private async signAll(entries: Array<[number, Waiting]>): Promise<void> {
    const retries = this.options.retries ?? 3;
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    let todo = entries;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const later: Array<[number, Waiting]> = [];
      let waitMs = 0;
      for (const chunk of chunks(todo)) {
        let answer: BatchUploadResponse;
        try {
          answer = await this.post(chunk.map(([, w]) => w.request));
        } catch (err) {
          const error = err instanceof UploadError ? err : new UploadError(describe(err), 'NETWORK_ERROR');
          for (const [, w] of chunk) w.reject(error);
          continue;
        }
        chunk.forEach(([index, w], i) => {
          const result = answer.files[i];
          if (result === undefined) {
            w.reject(new UploadError('The signer answered fewer files than it was sent.', 'SIGNER_ERROR'));
          } else if (result.ok) {
            const { ok, ...signed } = result;
            w.resolve(signed as CreateUploadResponse);
          } else if (result.error.code === 'BATCH_INCOMPLETE') {
            // Not tried (the batch reached its budget): ask again at once. Every round signs at least one entry.
            later.push([index, w]);
          } else {
            const delay = (result.retryAfter ?? 0) * 1000 || (this.options.retryDelayMs ?? 500) * 2 ** attempt;
            if ((result.status === 429 || result.status === 503) && attempt < retries && delay <= maxDelay && !this.options.signal?.aborted) {
              later.push([index, w]);
              waitMs = Math.max(waitMs, delay);
            } else {
              w.reject(new UploadError(result.error.message, result.error.code, result.status));
            }
          }
        });
      }
      if (later.length > 0) await pause(waitMs, this.options.signal);
      if (this.options.signal?.aborted) {
        for (const [, w] of later) w.reject(new UploadError('The upload was aborted.', 'ABORTED'));
        return;
      }
      todo = later;
    }
  }

  private async post(requests: readonly CreateUploadRequest[]): Promise<BatchUploadResponse> {
    const doFetch = this.options.fetch ?? ((input, init) => fetch(input, init));
    const headers = { 'content-type': 'application/json', ...(await this.options.getAuthHeaders?.()) };
    let res: Response;
    try {
      res = await doFetch(`${this.options.signerUrl.replace(/\/+$/, '')}${UPLOADS_PATH}`, {
        method: 'POST', headers, body: JSON.stringify({ files: requests }), signal: this.options.signal,
      });
    } catch (err) {
      if (this.options.signal?.aborted) throw new UploadError('The upload was aborted.', 'ABORTED');
      throw new UploadError(`Could not reach the signer: ${describe(err)}`, 'NETWORK_ERROR');
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const { code, message } = signerRefusal(res.status, json);
      throw new UploadError(message, code, res.status);
    }
    if (!Array.isArray((json as Partial<BatchUploadResponse> | undefined)?.files)) {
      throw new UploadError('The signer did not answer a batch; it may predate batch signing.', 'SIGNER_ERROR', res.status);
    }
    return json as BatchUploadResponse;
  }
}

/** Entries split in order into chunks of at most {@link MAX_BATCH_FILES} and {@link MAX_BATCH_BODY_CHARS}. */
function chunks<T extends [number, Waiting]>(entries: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let chars = 0;
  for (const entry of entries) {
    const size = JSON.stringify(entry[1].request).length + 1;
    if (current.length > 0 && (current.length === MAX_BATCH_FILES || chars + size > MAX_BATCH_BODY_CHARS)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(entry);
    chars += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** A counting semaphore. */
class Slots {
  private readonly queue: Array<() => void> = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
