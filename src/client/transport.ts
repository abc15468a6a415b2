/**
 * Sending the bytes with byte-level progress, in whatever the runtime offers: `XMLHttpRequest` upload
 * events in browsers (fetch has no upload progress there, and Chromium streams request bodies over
 * HTTP/2 only), a pulled `ReadableStream` body in Node (each chunk is counted as undici takes it), and
 * a plain `fetch` elsewhere (progress when the request completes). Globals are read per call only.
 */

/** One request that carries the file's bytes (a PUT, an UploadPart or a POST form). */
export interface SendRequest {
  readonly method: 'PUT' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body: Blob | FormData;
  /** The file's bytes in `body` (a form's fields and boundaries excluded). */
  readonly size: number;
  readonly signal?: AbortSignal;
  /** Bytes of the file sent so far; called often, never with less than the call before. */
  readonly onBytes: (sent: number) => void;
}

/** S3's answer. */
export interface SendResponse {
  readonly status: number;
  readonly text: string;
}

export type Send = (request: SendRequest) => Promise<SendResponse>;

/** Bytes read from the Blob per stream chunk in Node: the progress granularity. */
export const STREAM_CHUNK_BYTES = 64 * 1024;

/**
 * The transport for this runtime: XHR in a browser unless the caller brought its own `fetch`, a
 * streamed body in Node, plain fetch otherwise.
 */
export function chooseSend(customFetch: typeof fetch | undefined): Send {
  const g = globalThis as { XMLHttpRequest?: new () => Xhr; process?: { versions?: { node?: unknown } } };
  const Xhr = g.XMLHttpRequest;
  if (customFetch === undefined && typeof Xhr === 'function') return (request) => sendWithXhr(new Xhr(), request);
  const doFetch: typeof fetch = customFetch ?? ((input, init) => fetch(input, init));
  if (typeof g.process?.versions?.node === 'string') return (request) => sendStreamed(doFetch, request);
  return (request) => sendWithFetch(doFetch, request);
}

/** The part of `XMLHttpRequest` used here (the package compiles without the DOM library). */
interface Xhr {
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  ontimeout: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob | FormData): void;
  abort(): void;
}

function sendWithXhr(xhr: Xhr, request: SendRequest): Promise<SendResponse> {
  return new Promise((resolve, reject) => {
    const onAbort = () => xhr.abort();
    const settle = (fn: () => void) => {
      request.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      // A form's total includes its fields: count the file's share of what was sent.
      if (e.lengthComputable && e.total > 0) request.onBytes(Math.floor(request.size * Math.min(1, e.loaded / e.total)));
    };
    xhr.onload = () => settle(() => resolve({ status: xhr.status, text: xhr.responseText }));
    xhr.onerror = () => settle(() => reject(new TypeError('network error')));
    xhr.ontimeout = () => settle(() => reject(new TypeError('network timeout')));
    xhr.onabort = () => settle(() => reject(new DOMException('The upload was aborted.', 'AbortError')));
    if (request.signal?.aborted) {
      reject(new DOMException('The upload was aborted.', 'AbortError'));
      return;
    }
    request.signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(request.body);
  });
}

async function sendStreamed(doFetch: typeof fetch, request: SendRequest): Promise<SendResponse> {
  if (!(request.body instanceof Blob)) return sendWithFetch(doFetch, request);
  const blob = request.body;
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= blob.size) {
        controller.close();
        return;
      }
      const chunk = new Uint8Array(await blob.slice(offset, offset + STREAM_CHUNK_BYTES).arrayBuffer());
      offset += chunk.byteLength;
      controller.enqueue(chunk);
      request.onBytes(offset);
    },
  }, { highWaterMark: 0 });
  const headers: Record<string, string> = { ...request.headers, 'content-length': String(blob.size) };
  if (blob.type && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = blob.type;
  // `duplex` is required for stream bodies (not yet in TypeScript's RequestInit).
  const init = { method: request.method, headers, body, duplex: 'half', signal: request.signal } as RequestInit;
  const res = await doFetch(request.url, init);
  return { status: res.status, text: await res.text() };
}

async function sendWithFetch(doFetch: typeof fetch, request: SendRequest): Promise<SendResponse> {
  const res = await doFetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal: request.signal });
  const text = await res.text();
  if (res.ok) request.onBytes(request.size);
  return { status: res.status, text };
}
