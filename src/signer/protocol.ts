/**
 * The signer's wire protocol: request and response shapes and the stable error codes.
 * Exported for clients (TypeScript only; not part of the jsii surface).
 */

/** Route of the native single-upload protocol. */
export const UPLOADS_PATH = '/uploads';

/** `POST /uploads` body. */
export interface CreateUploadRequest {
  /** MIME type of the file, e.g. `image/png`. Parameters and case are normalised away. */
  readonly contentType: string;
  /** Exact size of the file in bytes (a positive integer). S3 rejects a body of any other length. */
  readonly size: number;
  /** Original file name, for your records only: it never chooses the key or its extension. */
  readonly filename?: string;
  /** Base64 MD5 of the file (24 characters). When given, S3 rejects a body with another digest. */
  readonly checksum?: string;
}

/** `POST /uploads` 200 response: a presigned request for exactly one object. */
export interface PresignedUpload {
  /** The object key, chosen by the server. */
  readonly key: string;
  /** HTTP method to send the bytes with. */
  readonly method: 'PUT' | 'POST';
  /** Where to send the bytes. */
  readonly url: string;
  /**
   * Headers the client must send exactly as given (they are signed). `content-length` is signed as
   * well; browsers and fetch set it from the body.
   */
  readonly headers?: Record<string, string>;
  /** Form fields for a POST-policy upload (POST method only). */
  readonly fields?: Record<string, string>;
  /** Where the object will be served from once uploaded (the CDN). */
  readonly publicUrl: string;
  /** When the presigned request stops working (ISO 8601). */
  readonly expiresAt: string;
}

/** Stable, machine-readable error codes. */
export const ErrorCodes = {
  /** The body is not a JSON object. */
  INVALID_JSON: 'INVALID_JSON',
  /** A field is missing, of the wrong type, or malformed. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** The content type is not in the upload policy. */
  CONTENT_TYPE_NOT_ALLOWED: 'CONTENT_TYPE_NOT_ALLOWED',
  /** `size` is above the policy's maximum. */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** The request body itself is too large. */
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  /** The request's Content-Type is not JSON. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** No identity could be read from the authorizer for this caller. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** No such route. */
  NOT_FOUND: 'NOT_FOUND',
  /** The route exists but not for this method. */
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** The signer is misconfigured (a deployment fault, not the caller's). */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Every non-2xx response body. */
export interface ErrorResponse {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
  };
}
