/**
 * Batch signing: `POST /uploads` with `{ files: [ ... ] }` signs up to {@link MAX_BATCH_FILES} uploads in one
 * call. Each entry goes through the single-upload path unchanged (validation, one quota unit, key in the
 * caller's scope, presigning), so every guarantee of a single request holds per entry, and each entry's
 * answer is what that request alone would have been answered. Entries are signed in order, one at a time.
 *
 * The answer is bounded in size and time: once it holds {@link MAX_BATCH_ANSWER_BYTES}, or signing has taken
 * {@link MAX_BATCH_SIGNING_MS}, the remaining entries are answered `BATCH_INCOMPLETE` untried (nothing signed
 * or counted), so that it never exceeds Lambda's response limit nor the function's timeout (slow S3 calls).
 *
 * Once an entry is answered 429 (quota spent) or 503 (a dependency failed), the rest are answered the same
 * without being tried: the quota would refuse them too, and a failing DynamoDB or S3 is not called up to
 * 100 times (each call may take seconds) within one function timeout. So a batch larger than the remaining
 * quota signs the entries that fit, in order, and answers the rest with `QUOTA_EXCEEDED` and `retryAfter`:
 * the client uploads what was signed and asks again for the tail, which a whole refusal would not let it do.
 */
import { jsonResponse, Outcome, reject, rejectionResponse, SignerResponse } from './http';
import { readJsonBody, RequestBodySource } from './request';
import { BatchUploadRefused, BatchUploadResponse, BatchUploadResult, ErrorCodes, ErrorResponse, MAX_BATCH_FILES } from '../contract/signer-protocol';

/**
 * Largest batch body: 256 KiB, about 2.6 KiB per entry at {@link MAX_BATCH_FILES} (a typical entry is under
 * 100 bytes, the largest valid one without metadata about 500). Far below the 6 MB Lambda payload limit.
 */
export const MAX_BATCH_BODY_BYTES = 256 * 1024;

/**
 * Answer bytes after which no further entry is tried: 4 MB, so that with the last entry (a multipart plan with
 * 100 part URLs is up to ~250 KB) and the JSON escaping of the body inside the Lambda response, the answer stays
 * below Lambda's 6 MB response limit. Only multipart plans get there: 100 POST forms answer ~140 KB.
 */
export const MAX_BATCH_ANSWER_BYTES = 4_000_000;

/**
 * Signing time after which no further entry is tried: 8 s, against the function's 20 s timeout (one more
 * multipart creation takes at most S3's bounded call time, a few seconds).
 */
export const MAX_BATCH_SIGNING_MS = 8_000;

/** Statuses after which the remaining entries are not tried (see the module comment). */
const STOPPING_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * The body of `POST /uploads`: a single request up to the single limit, or a batch envelope up to
 * {@link MAX_BATCH_BODY_BYTES}. A larger body that is not a batch gets the single request's 413.
 */
export function readUploadsBody(event: RequestBodySource): Outcome<unknown> {
  const single = readJsonBody(event);
  if (single.ok || single.rejection.code !== ErrorCodes.REQUEST_TOO_LARGE) return single;
  const batch = readJsonBody(event, MAX_BATCH_BODY_BYTES);
  return batch.ok && !isBatchRequest(batch.value) ? single : batch;
}

/** Whether a parsed body is a batch envelope (an object with a `files` field), well-formed or not. */
export function isBatchRequest(body: unknown): body is { readonly files: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.prototype.hasOwnProperty.call(body, 'files');
}

/**
 * Signs a batch with `signOne` (the single-upload path, for the same caller), one entry at a time:
 * 200 `{ files: [...] }` in request order, or 400 for a malformed envelope.
 */
export async function signBatch(
  body: { readonly files: unknown }, signOne: (entry: unknown) => Promise<SignerResponse>, clock: () => number = Date.now,
): Promise<SignerResponse> {
  const envelope = checkEnvelope(body);
  if (!envelope.ok) return rejectionResponse(envelope.rejection);
  const files: BatchUploadResult[] = [];
  let stop: BatchUploadRefused | undefined;
  let bytes = 0;
  const started = clock();
  for (const entry of envelope.value) {
    if (!stop && (bytes > MAX_BATCH_ANSWER_BYTES || clock() - started > MAX_BATCH_SIGNING_MS)) stop = INCOMPLETE;
    if (stop) {
      files.push(stop);
      continue;
    }
    const response = await signOne(entry);
    bytes += (response.body ?? '').length;
    const result = resultOf(response);
    files.push(result);
    if (!result.ok && STOPPING_STATUSES.has(result.status)) stop = result;
  }
  const answer: BatchUploadResponse = { files };
  return jsonResponse(200, answer);
}

const INCOMPLETE: BatchUploadRefused = {
  ok: false,
  status: 413,
  error: {
    code: ErrorCodes.BATCH_INCOMPLETE,
    message: 'The batch reached its size or time budget before this file (many multipart plans, or slow S3 calls); nothing was signed for it: send it in another batch.',
  },
};

function checkEnvelope(body: { readonly files: unknown }): Outcome<readonly unknown[]> {
  const others = Object.keys(body).filter((name) => name !== 'files');
  if (others.length > 0) {
    return invalid(`A batch body has only "files"; move ${others.slice(0, 5).map((n) => JSON.stringify(n.slice(0, 64))).join(', ')} into each file's entry, or send one request without "files".`);
  }
  const files = body.files;
  if (!Array.isArray(files)) return invalid('files must be an array of upload requests such as {"contentType":"image/png","size":12345}.');
  if (files.length === 0) return invalid('files must hold at least one upload request.');
  if (files.length > MAX_BATCH_FILES) {
    return invalid(`files must hold at most ${MAX_BATCH_FILES} upload requests (got ${files.length}); split them into several batches.`);
  }
  return { ok: true, value: files };
}

function invalid<T>(message: string): Outcome<T> {
  return reject(400, ErrorCodes.INVALID_REQUEST, message);
}

/** A single request's answer as a batch entry: its 200 body with `ok: true`, or its error with the status. */
function resultOf(response: SignerResponse): BatchUploadResult {
  const status = response.statusCode ?? 500;
  const body = JSON.parse(response.body ?? '{}') as Record<string, unknown>;
  if (status === 200) return { ok: true, ...body } as BatchUploadResult;
  const retryAfter = Number(response.headers?.['retry-after']);
  return {
    ok: false,
    status,
    error: (body as unknown as ErrorResponse).error,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
  };
}
