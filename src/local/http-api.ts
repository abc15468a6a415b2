/**
 * A local stand-in for API Gateway HTTP API in front of the signer: turns a Node HTTP request into the
 * payload format 2.0 event the Lambda receives, runs the real handler, and writes its result back.
 * It also plays the API's CORS preflight configuration and its authorizer: locally the caller's
 * identity comes from the `x-local-user` header (a development stand-in, never present in AWS, where
 * the JWT authorizer or IAM provides it).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { AuthMode, DEFAULT_IDENTITY_CLAIM } from '../contract/upload-rules';

/** Header carrying the caller's id in the local stack only (stands in for the authorizer). */
export const LOCAL_USER_HEADER = 'x-local-user';

/** Largest request body API Gateway HTTP APIs accept: 10 MB. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** Account id in local ARNs and request contexts. */
const LOCAL_ACCOUNT = '000000000000';

/** A payload v2 handler, as the signer exports it. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** CORS as API Gateway's `corsPreflight` configures it. */
export interface HttpApiCors {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** Methods and headers the signer route allows cross-origin. */
export const SIGNER_CORS_METHODS: readonly string[] = Object.freeze(['POST', 'OPTIONS']);
export const SIGNER_CORS_HEADERS: readonly string[] = Object.freeze(['content-type', 'authorization', LOCAL_USER_HEADER]);

/** How the local authorizer stand-in fills `requestContext.authorizer`. */
export interface LocalAuthorizer {
  readonly auth: AuthMode;
  /** The JWT claim that names the caller (`auth: 'authorizer'`). @default 'sub' */
  readonly identityClaim?: string;
}

/** The parts of an incoming request the event is built from. */
export interface HttpApiRequest {
  readonly method: string;
  /** Path and query as received (`/uploads?x=1`). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly sourceIp: string;
}

// What API Gateway passes as text; every other content type arrives base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded)\b)/i;

/** Builds the HTTP API payload format 2.0 event for a request. */
export function toHttpApiEvent(request: HttpApiRequest, authorizer: LocalAuthorizer, now: Date = new Date()): APIGatewayProxyEventV2 {
  const method = request.method.toUpperCase();
  const questionMark = request.url.indexOf('?');
  const rawPath = questionMark < 0 ? request.url : request.url.slice(0, questionMark);
  const rawQueryString = questionMark < 0 ? '' : request.url.slice(questionMark + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[lower] = Array.isArray(value) ? value.join(',') : value;
  }

  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }

  const contentType = headers['content-type'] ?? '';
  const isText = request.body.length === 0 || contentType === '' || TEXT_TYPES.test(contentType);
  const requestId = randomUUID();
  const routeKey = `${method} ${rawPath}`;
  const host = headers.host ?? 'localhost';
  const pathDecoded = safeDecode(rawPath);

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method,
        path: pathDecoded,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: formatClfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(request.body.length > 0
      ? { body: isText ? request.body.toString('utf8') : request.body.toString('base64') }
      : {}),
    isBase64Encoded: !isText,
  };
  const context = localAuthorizerContext(headers[LOCAL_USER_HEADER], authorizer);
  if (context) {
    (event.requestContext as unknown as Record<string, unknown>).authorizer = context;
  }
  return event;
}

/**
 * What the authorizer would have put in `requestContext.authorizer` for the user named by the local
 * identity header: JWT claims for `authorizer`, an IAM principal for `iam`, nothing for `none` or
 * without the header.
 */
export function localAuthorizerContext(user: string | undefined, authorizer: LocalAuthorizer): Record<string, unknown> | undefined {
  if (!user || authorizer.auth === 'none') return undefined;
  if (authorizer.auth === 'iam') {
    return {
      iam: {
        accessKey: 'ASIALOCAL',
        accountId: LOCAL_ACCOUNT,
        callerId: user,
        principalOrgId: null,
        userArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/${user}`,
        userId: user,
      },
    };
  }
  const claim = authorizer.identityClaim ?? DEFAULT_IDENTITY_CLAIM;
  return { jwt: { claims: { [claim]: user }, scopes: null } };
}

/** API Gateway's answer when the authorizer refuses (no identity): 401 before the Lambda runs. */
export function isUnauthenticated(headers: IncomingHttpHeaders, authorizer: LocalAuthorizer): boolean {
  if (authorizer.auth === 'none') return false;
  const user = headers[LOCAL_USER_HEADER];
  return typeof user !== 'string' || user.length === 0;
}

/** The response headers for a CORS request from `origin` (none when the origin is not allowed). */
export function corsResponseHeaders(origin: string | undefined, cors: HttpApiCors, preflight: boolean): Record<string, string> {
  if (!origin || !cors.allowOrigins.some((o) => o === '*' || o === origin)) return {};
  const headers: Record<string, string> = {
    'access-control-allow-origin': cors.allowOrigins.includes('*') ? '*' : origin,
    'vary': 'origin',
  };
  if (preflight) {
    headers['access-control-allow-methods'] = cors.allowMethods.join(',');
    headers['access-control-allow-headers'] = cors.allowHeaders.join(',');
    headers['access-control-max-age'] = String(cors.maxAgeSeconds);
  }
  return headers;
}

/** Options of {@link createHttpApiListener}. */
export interface HttpApiListenerOptions {
  readonly handler: HttpApiHandler;
  readonly authorizer: LocalAuthorizer;
  readonly cors: HttpApiCors;
  /** Where faults are reported. @default console.error */
  readonly log?: (line: string) => void;
}

/** A Node `request` listener that plays API Gateway HTTP API in front of `handler`. */
export function createHttpApiListener(options: HttpApiListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => console.error(line));
  return (req, res) => {
    void serve(req, res).catch((err: unknown) => {
      log(`[local http api] ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) {
        send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
      } else {
        res.destroy();
      }
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const method = (req.method ?? 'GET').toUpperCase();

    // API Gateway answers CORS preflights itself when corsPreflight is configured.
    if (method === 'OPTIONS' && origin && req.headers['access-control-request-method']) {
      req.resume();
      send(res, 204, corsResponseHeaders(origin, options.cors, true), '');
      return;
    }

    const cors = corsResponseHeaders(origin, options.cors, false);
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    if (body === undefined) {
      send(res, 413, { ...cors, 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Entity Too Large' }));
      return;
    }
    if (isUnauthenticated(req.headers, options.authorizer)) {
      // What API Gateway answers before invoking the Lambda: 401 from a JWT authorizer, 403 for IAM.
      const [status, message] = options.authorizer.auth === 'iam' ? [403, 'Forbidden'] : [401, 'Unauthorized'];
      send(res, status, { ...cors, 'content-type': 'application/json' }, JSON.stringify({ message }));
      return;
    }

    const event = toHttpApiEvent({
      method,
      url: req.url ?? '/',
      headers: req.headers,
      body,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    }, options.authorizer);

    let result: APIGatewayProxyResultV2;
    try {
      result = await options.handler(event);
    } catch (err) {
      log(`[local http api] handler threw: ${err instanceof Error ? err.message : String(err)}`);
      send(res, 500, { ...cors, 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
      return;
    }
    const structured = normalizeResult(result);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(structured.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    const out = structured.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
    if (structured.cookies?.length) {
      res.setHeader('set-cookie', structured.cookies);
    }
    send(res, structured.statusCode ?? 200, { ...headers, ...cors }, out);
  }
}

/**
 * API Gateway's interpretation of a payload v2 result: a string or non-response object becomes a
 * 200 JSON body.
 */
export function normalizeResult(result: APIGatewayProxyResultV2): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof result === 'string' ? result : JSON.stringify(result),
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  res.end(bytes);
}

/** Reads the whole body, or undefined when it exceeds `limit` bytes (the rest is drained, not kept). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) chunks.push(chunk);
    });
    req.once('end', () => resolve(total > limit ? undefined : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestContext.time`: `21/Nov/2026:15:40:59 +0000`. */
function formatClfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
