/** The client's error type, and how a refusal by the signer (or by API Gateway in front of it) is read. */

/** A failed upload: the signer's error code when it refused, and what is needed to resume. */
export class UploadError extends Error {
  constructor(
    message: string,
    /** The signer's error code (e.g. `FILE_TOO_LARGE`), or `S3_ERROR` / `NETWORK_ERROR` / `ABORTED`. */
    public readonly code: string,
    public readonly status?: number,
    /** Set for multipart uploads that can be resumed with `options.resume`. */
    public readonly resume?: { readonly key: string; readonly uploadId: string },
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/**
 * Code and message of a non-2xx signer answer: the signer's `{ error: { code, message } }`, or what API
 * Gateway answers when it refuses a request itself (`{"message":"Unauthorized"}` from an authorizer,
 * `{"message":"Too Many Requests"}` when throttled), or no JSON at all.
 */
export function signerRefusal(status: number, json: unknown): { code: string; message: string } {
  const body = (typeof json === 'object' && json !== null ? json : {}) as { error?: { code?: unknown; message?: unknown }; message?: unknown };
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const fallback = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 429 ? 'THROTTLED' : 'SIGNER_ERROR';
  return {
    code: text(body.error?.code) ?? fallback,
    message: text(body.error?.message) ?? text(body.message) ?? `The signer answered ${status}.`,
  };
}
