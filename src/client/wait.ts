/**
 * `waitUntilVerified`: polls `POST /uploads/status` with backoff until the verifier has decided, bounded
 * by a timeout and abortable.
 */
import { UploadError } from './errors';
import { STATUS_PATH, UploadStatus } from '../contract/signer-protocol';

/** How long to wait for the verifier, and how often to ask. */
export interface WaitOptions {
  /** Milliseconds from the end of the upload. */
  readonly timeout: number;
  readonly signal?: AbortSignal;
  /** First pause between two questions (doubles up to `maxIntervalMs`). @default 250 */
  readonly intervalMs?: number;
  /** @default 4000 */
  readonly maxIntervalMs?: number;
}

/**
 * Resolves with the verified status; rejects with `UploadError` code `UPLOAD_REJECTED` (message: the
 * verifier's reason), `VERIFY_TIMEOUT`, `ABORTED`, or the signer's code when it refuses the question.
 */
export async function waitUntilVerified(
  ask: (path: string, body: unknown) => Promise<UploadStatus>,
  key: string,
  options: WaitOptions,
): Promise<UploadStatus> {
  const deadline = Date.now() + options.timeout;
  let interval = options.intervalMs ?? 250;
  const maxInterval = options.maxIntervalMs ?? 4000;
  for (;;) {
    if (options.signal?.aborted) throw new UploadError('The upload was aborted while waiting for verification.', 'ABORTED');
    let status: UploadStatus;
    try {
      status = await ask(STATUS_PATH, { key });
    } catch (err) {
      // Stored, then gone without a verdict left behind: an unversioned bucket deletes rejected uploads outright.
      if (err instanceof UploadError && err.code === 'UPLOAD_NOT_FOUND') {
        throw new UploadError(`The upload ${key} was removed before it was verified (rejected, or deleted).`, 'UPLOAD_REJECTED', 404);
      }
      throw err;
    }
    if (status.state === 'verified') return status;
    if (status.state === 'rejected') throw new UploadError(status.reason ?? 'The verifier rejected the upload.', 'UPLOAD_REJECTED', 200);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new UploadError(`The upload ${key} was not verified within ${options.timeout} ms; ask POST ${STATUS_PATH} later.`, 'VERIFY_TIMEOUT');
    }
    await pause(Math.min(interval, left), options.signal);
    interval = Math.min(interval * 2, maxInterval);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
