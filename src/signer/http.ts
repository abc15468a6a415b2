/**
 * HTTP plumbing shared by the signer's modules: the one way to build a JSON response or an error,
 * and the result type the validators return instead of throwing (bad input is a value, not a fault).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ErrorCode, ErrorResponse } from '../contract/signer-protocol';

/** What every signer handler answers. */
export type SignerResponse = APIGatewayProxyStructuredResultV2;

/** A refusal of the caller's request: becomes a 4xx `{ error: { code, message } }`. */
export interface Rejection {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  /** Extra response headers (e.g. `allow` on a 405). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Either a value or the reason the request is refused. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

export function accept<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function reject<T>(
  status: number,
  code: ErrorCode,
  message: string,
  headers?: Readonly<Record<string, string>>,
): Outcome<T> {
  return { ok: false, rejection: headers ? { status, code, message, headers } : { status, code, message } };
}

/** Headers on every response: JSON, never cached (URLs are per caller and short-lived). */
const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** A JSON response with the signer's standard headers. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): SignerResponse {
  return jsonTextResponse(statusCode, JSON.stringify(body), headers);
}

/** {@link jsonResponse} for a body already serialised to JSON text. */
export function jsonTextResponse(
  statusCode: number,
  json: string,
  headers?: Readonly<Record<string, string>>,
): SignerResponse {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, ...headers },
    body: json,
  };
}

/** The one error response builder: `{ error: { code, message } }`. */
export function errorResponse(
  statusCode: number,
  code: ErrorCode,
  message: string,
  headers?: Readonly<Record<string, string>>,
): SignerResponse {
  const body: ErrorResponse = { error: { code, message } };
  return jsonResponse(statusCode, body, headers);
}

/** The response for a {@link Rejection}. */
export function rejectionResponse(rejection: Rejection): SignerResponse {
  return errorResponse(rejection.status, rejection.code, rejection.message, rejection.headers);
}
