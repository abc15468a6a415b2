/**
 * The signer's HTTP handler (API Gateway HTTP API, payload format 2.0): route → identity → body →
 * policy check → key → presign → JSON. Pure apart from the clock and the UUID source, both injectable;
 * no AWS API call on this path. The Lambda entry point (`signer.lambda.ts`) and the local stack both
 * build their handler here.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { isBatchRequest, readUploadsBody, signBatch } from './batch';
import { loadSignerConfig, SignerConfig } from './config';
import { DownloadStore, downloadRoute, sdkDownloadStore } from './downloads';
import { errorResponse, jsonResponse, Rejection, rejectionResponse, SignerResponse } from './http';
import { Caller, resolveCaller } from './identity';
import { sdkMetadata, userMetadata } from './metadata';
import { DependencyUnavailableError, guardedStore, layoutKeyName, MultipartStore, PartLayout, partLayout, sdkMultipartStore } from './multipart';
import { abortRoute, completeRoute, createMultipartPlan, RouteContext, signPartsRoute } from './multipart-routes';
import { createPutPresigner } from './presign';
import { dynamoDbQuotaStore, quotaExceeded, QuotaStore, serviceUnavailable } from './quota';
import { readJsonBody, validateCreateUploadRequest } from './request';
import { createRequestPresigner } from './request-presigner';
import { sdkStatusStore, StatusStore, statusRoute } from './status';
import { uppySignRoute } from './uppy';
import {
  DOWNLOADS_PATH,
  ErrorCodes,
  MULTIPART_ABORT_PATH,
  MULTIPART_COMPLETE_PATH,
  MULTIPART_PARTS_PATH,
  PresignedUpload,
  SIGNER_PATHS,
  STATUS_PATH,
  UPLOADS_PATH,
  UPPY_SIGN_PATH,
} from '../contract/signer-protocol';
import { extensionFor } from '../contract/upload-rules';

/** A signer handler: one HTTP API (payload v2) event in, one response out. Never rejects. */
export type SignerHandler = (event: APIGatewayProxyEventV2) => Promise<SignerResponse>;

/** Test and local-stack hooks. Production uses the defaults. */
export interface SignerHandlerOptions {
  /** Clock used for signing. @default - `new Date()` */
  readonly now?: () => Date;
  /** Source of the key's unique part. @default - `crypto.randomUUID` */
  readonly randomUUID?: () => string;
  /** Where fault lines go (one line each). @default - `console.error` */
  readonly log?: (line: string) => void;
  /** The S3 calls of multipart uploads. @default - `@aws-sdk/client-s3`, loaded on first use */
  readonly multipartStore?: MultipartStore;
  /**
   * The upload counter, used only when the configuration has a quota.
   * @default - DynamoDB through `@aws-sdk/client-dynamodb`, loaded on the first counted upload
   */
  readonly quotaStore?: QuotaStore;
  /**
   * The object tags and the private key of signed downloads, used only when the configuration enables them.
   * @default - S3 and Secrets Manager through the SDK, loaded on the first download request
   */
  readonly downloadStore?: DownloadStore;
  /** The S3 reads of `POST /uploads/status`. @default - `@aws-sdk/client-s3`, loaded on first use */
  readonly statusStore?: StatusStore;
}

const LOG_PREFIX = '[cdk-direct-upload signer]';

/**
 * Builds the handler for a configuration. The presigner is created here, once; each request only
 * validates and signs.
 */
export function createSignerHandler(config: SignerConfig, options: SignerHandlerOptions = {}): SignerHandler {
  const presigner = createPutPresigner(config);
  const now = options.now ?? (() => new Date());
  const newId = options.randomUUID ?? randomUUID;
  const log = options.log ?? defaultLog;
  const { policy } = config;
  let store: MultipartStore | undefined;
  const routes: RouteContext = {
    config,
    presigner: createRequestPresigner(config),
    // S3 failures (unreachable, 5xx, throttled) become DependencyUnavailableError: a 503, not a 500.
    store: () => (store ??= guardedStore(options.multipartStore ?? sdkMultipartStore(config))),
    now,
    log,
  };
  const admit = quotaGate(config, options, now, log);
  let downloads: DownloadStore | undefined;
  const downloadStore = (): DownloadStore => (downloads ??= options.downloadStore ?? sdkDownloadStore(config));
  let statusStore: StatusStore | undefined;
  const readStatus = () => (statusStore ??= options.statusStore ?? sdkStatusStore(config));
  // A multipart upload's key carries its layout (fixed here, at creation; see layoutKeyName).
  const newKey = (scope: string, contentType: string, layout?: PartLayout) => `${policy.prefix}/${scope}/${
    layout ? layoutKeyName(newId(), layout, extensionFor(contentType)) : `${newId()}${extensionFor(contentType)}`}`;

  async function handle(event: APIGatewayProxyEventV2): Promise<SignerResponse> {
    const route = routeOf(event);
    if (route.path !== UPLOADS_PATH) return handleOther(event, route);
    if (route.method !== 'POST') {
      return errorResponse(405, ErrorCodes.METHOD_NOT_ALLOWED, `${UPLOADS_PATH} only accepts POST (got ${route.method}).`, { allow: 'POST' });
    }

    const caller = resolveCaller(event.requestContext, policy);
    if (!caller.ok) return rejectionResponse(caller.rejection);

    const body = readUploadsBody(event);
    if (!body.ok) return rejectionResponse(body.rejection);
    if (isBatchRequest(body.value)) {
      return signBatch(body.value, (entry) => signUpload(caller, { value: entry }, event).catch((err) => dependencyFailure(err, event)));
    }
    return signUpload(caller, body, event);
  }

  /** One single-upload request (alone, or an entry of a batch): check, count, sign. */
  async function signUpload(
    caller: { readonly value: Caller }, body: { readonly value: unknown }, event: APIGatewayProxyEventV2,
  ): Promise<SignerResponse> {
    const request = validateCreateUploadRequest(body.value, policy, config.metadataKeys);
    if (!request.ok) return rejectionResponse(request.rejection);

    if (admit) {
      const refused = await admit(caller.value.quotaSubject, event);
      if (refused) return rejectionResponse(refused);
    }

    const { contentType, size, checksum, checksumSha256, mode, filename } = request.value;
    // The original name and the app metadata, signed as user metadata on every path (S3 refuses another value).
    const metadata = userMetadata(filename, request.value.metadata);
    // The extension comes from the (allowed) content type, never from the client's filename.
    if (mode === 'MULTIPART') {
      const layout = partLayout(size, policy);
      return jsonResponse(200, await createMultipartPlan(routes, newKey(caller.value.scope, contentType, layout), contentType, layout,
        sdkMetadata(metadata), request.value.checksumAlgorithm));
    }
    const key = newKey(caller.value.scope, contentType);
    if (mode === 'POST') {
      const post = await routes.presigner.presignPost({ key, contentType, minSize: size, maxSize: size, metadata, signingDate: now() });
      const response: PresignedUpload = {
        key,
        method: 'POST',
        url: post.url,
        fields: { ...post.fields },
        publicUrl: `${config.publicBaseUrl}/${key}`,
        expiresAt: post.expiresAt.toISOString(),
      };
      return jsonResponse(200, response);
    }
    const presigned = await presigner.presignPut({ key, contentType, size, checksum, checksumSha256, metadata, signingDate: now() });

    const response: PresignedUpload = {
      key,
      method: 'PUT',
      url: presigned.url,
      headers: { ...presigned.headers },
      publicUrl: `${config.publicBaseUrl}/${key}`,
      expiresAt: presigned.expiresAt.toISOString(),
    };
    return jsonResponse(200, response);
  }

  /** The routes besides `POST /uploads`: multipart and Uppy. */
  async function handleOther(event: APIGatewayProxyEventV2, route: { method: string; path: string }): Promise<SignerResponse> {
    if (!SIGNER_PATHS.includes(route.path)) {
      return errorResponse(404, ErrorCodes.NOT_FOUND,
        `No route ${route.method} ${route.path}; the signer's routes are ${SIGNER_PATHS.map((p) => `POST ${p}`).join(', ')}.`);
    }
    if (route.method !== 'POST') {
      return errorResponse(405, ErrorCodes.METHOD_NOT_ALLOWED, `${route.path} only accepts POST (got ${route.method}).`, { allow: 'POST' });
    }
    const caller = resolveCaller(event.requestContext, policy);
    if (!caller.ok) return rejectionResponse(caller.rejection);
    const { scope, quotaSubject } = caller.value;
    const body = readJsonBody(event);
    if (!body.ok) return rejectionResponse(body.rejection);

    const outcome = route.path === MULTIPART_PARTS_PATH ? await signPartsRoute(routes, scope, body.value)
      : route.path === MULTIPART_COMPLETE_PATH ? await completeRoute(routes, scope, body.value)
        : route.path === MULTIPART_ABORT_PATH ? await abortRoute(routes, scope, body.value)
          : route.path === STATUS_PATH ? await statusRoute(config, readStatus(), scope, body.value)
            : route.path === UPPY_SIGN_PATH ? await uppySignRoute(routes, scope, body.value, (type, layout) => newKey(scope, type, layout),
              admit && (() => admit(quotaSubject, event)))
              : route.path === DOWNLOADS_PATH ? await downloadRoute(config, downloadStore(), scope, body.value, now())
                : undefined;
    if (outcome === undefined) return errorResponse(404, ErrorCodes.NOT_FOUND, `No route POST ${route.path}.`);
    return outcome.ok ? jsonResponse(200, outcome.value) : rejectionResponse(outcome.rejection);
  }

  /** The 503 for a failed dependency (logged); any other error is rethrown. */
  function dependencyFailure(err: unknown, event: APIGatewayProxyEventV2): SignerResponse {
    if (!(err instanceof DependencyUnavailableError)) throw err;
    log(`${LOG_PREFIX} ${err.dependency} unavailable (request ${requestIdOf(event)}): ${describeError(err.cause)}`);
    return rejectionResponse(serviceUnavailable(err.dependency));
  }

  return async (event) => {
    try {
      return await handle(event);
    } catch (err) {
      const requestId = requestIdOf(event);
      if (err instanceof DependencyUnavailableError) return dependencyFailure(err, event);
      // Only genuine faults land here: every bad input is answered above with a 4xx.
      log(`${LOG_PREFIX} internal error (request ${requestId}): ${describeError(err)}`);
      return errorResponse(500, ErrorCodes.INTERNAL_ERROR,
        `The upload signer failed unexpectedly; retry later, and if it persists report request id ${requestId} to the operator.`);
    }
  };
}

/**
 * The quota check of a caller's quota subject ({@link resolveCaller}), or undefined when the configuration has
 * no quota (the single-upload path then neither loads nor calls anything).
 */
function quotaGate(
  config: SignerConfig, options: SignerHandlerOptions, now: () => Date, log: (line: string) => void,
): ((subject: string, event: APIGatewayProxyEventV2) => Promise<Rejection | undefined>) | undefined {
  const quota = config.quota;
  if (!quota) return undefined;
  const counter = options.quotaStore ?? dynamoDbQuotaStore({
    settings: quota, region: config.region, credentials: config.credentials, endpoint: config.dynamoDbEndpoint,
  });
  return async (subject, event) => {
    try {
      const decision = await counter.consume(subject, now());
      return decision.allowed ? undefined : quotaExceeded(quota.maxUploads, quota.windowSeconds, decision.retryAfterSeconds);
    } catch (err) {
      // Fail closed: without the counter no upload is signed.
      log(`${LOG_PREFIX} upload quota unavailable (request ${requestIdOf(event)}): ${describeError(err)}`);
      return serviceUnavailable('The upload quota service');
    }
  };
}

/**
 * A handler that answers every request with 500 INTERNAL_ERROR: used when the configuration is broken,
 * so the function still answers (and says why in its log) instead of crashing on import.
 */
export function createMisconfiguredHandler(): SignerHandler {
  return async () => errorResponse(500, ErrorCodes.INTERNAL_ERROR,
    'The upload signer is misconfigured and cannot sign uploads; the operator should check its logs.');
}

/**
 * {@link createSignerHandler} over {@link loadSignerConfig}`(env)`. When the configuration is broken,
 * logs the reason once and returns {@link createMisconfiguredHandler}'s handler.
 */
export function createSignerHandlerFromEnv(
  env: Record<string, string | undefined>,
  options: SignerHandlerOptions = {},
): SignerHandler {
  let config: SignerConfig;
  try {
    config = loadSignerConfig(env);
  } catch (err) {
    (options.log ?? defaultLog)(`${LOG_PREFIX} configuration error, answering 500 to every request: ${describeError(err)}`);
    return createMisconfiguredHandler();
  }
  return createSignerHandler(config, options);
}

/** Method and path, without the stage prefix HTTP APIs put in `rawPath` for named stages. */
function routeOf(event: APIGatewayProxyEventV2): { method: string; path: string } {
  const method = event.requestContext.http.method.toUpperCase();
  let path = event.rawPath;
  const stage = event.requestContext.stage;
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    path = path.slice(stage.length + 1) || '/';
  }
  return { method, path };
}

function requestIdOf(event: APIGatewayProxyEventV2): string {
  const id: unknown = event?.requestContext?.requestId;
  return typeof id === 'string' && id ? id : 'unknown';
}

/** One line: name and message, newlines flattened. */
function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function defaultLog(line: string): void {
  console.error(line);
}
