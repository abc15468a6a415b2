/**
 * The optional per-caller upload quota: at most `maxUploads` new uploads per caller per fixed window.
 *
 * One conditional, atomic DynamoDB `UpdateItem` per new upload (single PUT, POST form, multipart
 * create, Uppy PutObject / CreateMultipartUpload; never per part): the item of `(caller, window start)`
 * gets `ADD count 1` only if `count < maxUploads`. Concurrent requests cannot overshoot (the condition
 * and the increment are one operation), the item expires through the table's TTL once its window is
 * over, and nothing is read first. When DynamoDB cannot be reached the signer fails closed (503).
 *
 * `@aws-sdk/client-dynamodb` is external to the Lambda bundle (the nodejs22.x runtime ships it) and is
 * required on the first counted request only: with the quota off, nothing here is loaded or called.
 */
import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import { SignerCredentials } from './config';
import { Rejection } from './http';
import type { QuotaSettings } from '../contract/environment';
import { ErrorCodes } from '../contract/signer-protocol';

/** Partition key of the quota table: `<caller scope>#<window start, epoch seconds>`. */
export const QUOTA_KEY_ATTRIBUTE = 'pk';
/** Uploads counted in the item's window. */
export const QUOTA_COUNT_ATTRIBUTE = 'uploads';
/** TTL attribute (epoch seconds): the end of the item's window plus a margin; DynamoDB deletes it later. */
export const QUOTA_TTL_ATTRIBUTE = 'expiresAt';

/** The outcome of one counted upload. */
export type QuotaDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

/** Counts uploads; throws when the counter cannot be reached (the signer then answers 503). */
export interface QuotaStore {
  consume(subject: string, now: Date): Promise<QuotaDecision>;
}

/** Start (epoch seconds) of the fixed window `now` falls in. */
export function windowStart(now: Date, windowSeconds: number): number {
  const t = Math.floor(now.getTime() / 1000);
  return t - (t % windowSeconds);
}

/** Seconds until the next window starts (at least 1). */
export function secondsUntilNextWindow(now: Date, windowSeconds: number): number {
  const next = (windowStart(now, windowSeconds) + windowSeconds) * 1000;
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

/** The 429 for a caller over quota. */
export function quotaExceeded(maxUploads: number, windowSeconds: number, retryAfterSeconds: number): Rejection {
  return {
    status: 429,
    code: ErrorCodes.QUOTA_EXCEEDED,
    message: `Upload quota exceeded: at most ${maxUploads} upload(s) per ${describeSeconds(windowSeconds)} per caller; retry in ${retryAfterSeconds} s.`,
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

/** The 503 when a dependency failed; `what` names it for the caller (no internal detail). */
export function serviceUnavailable(what: string, retryAfterSeconds = 5): Rejection {
  return {
    status: 503,
    code: ErrorCodes.SERVICE_UNAVAILABLE,
    message: `${what} is temporarily unavailable, so nothing was signed; retry in a few seconds.`,
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

function describeSeconds(s: number): string {
  if (s % 86_400 === 0) return s === 86_400 ? 'day' : `${s / 86_400} days`;
  if (s % 3600 === 0) return s === 3600 ? 'hour' : `${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? 'minute' : `${s / 60} minutes`;
  return `${s} seconds`;
}

/** Bounded DynamoDB calls: 2 attempts of at most 1 s to connect and 1 s to answer, 3 s in all, then the 503. */
export const QUOTA_SDK_TIMEOUTS = Object.freeze({ maxAttempts: 2, connectionTimeout: 1000, requestTimeout: 1000, callBudget: 3000 });

type DynamoDBModule = typeof DynamoDB;
let sdk: DynamoDBModule | undefined;

function loadSdk(): DynamoDBModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= require('@aws-sdk/client-dynamodb') as DynamoDBModule;
  return sdk;
}

/** Options of {@link dynamoDbQuotaStore}. */
export interface DynamoDbQuotaStoreOptions {
  readonly settings: QuotaSettings;
  readonly region: string;
  readonly credentials: () => SignerCredentials;
  /** Local stack only (dynalite). */
  readonly endpoint?: string;
}

/** The DynamoDB-backed counter: one conditional `UpdateItem` per counted upload. */
export function dynamoDbQuotaStore(options: DynamoDbQuotaStoreOptions): QuotaStore {
  const { table, maxUploads, windowSeconds } = options.settings;
  let client: DynamoDB.DynamoDBClient | undefined;
  return {
    async consume(subject, now) {
      const m = loadSdk();
      client ??= new m.DynamoDBClient({
        region: options.region,
        credentials: async () => options.credentials(),
        maxAttempts: QUOTA_SDK_TIMEOUTS.maxAttempts,
        requestHandler: {
          connectionTimeout: QUOTA_SDK_TIMEOUTS.connectionTimeout,
          requestTimeout: QUOTA_SDK_TIMEOUTS.requestTimeout,
          throwOnRequestTimeout: true,
        },
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      });
      const start = windowStart(now, windowSeconds);
      try {
        await client.send(new m.UpdateItemCommand({
          TableName: table,
          Key: { [QUOTA_KEY_ATTRIBUTE]: { S: `${subject}#${start}` } },
          UpdateExpression: 'SET #ttl = if_not_exists(#ttl, :ttl) ADD #count :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#count': QUOTA_COUNT_ATTRIBUTE, '#ttl': QUOTA_TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':max': { N: String(maxUploads) },
            // Kept one extra window after it ends: TTL deletion is lazy and never affects the count.
            ':ttl': { N: String(start + 2 * windowSeconds) },
          },
        }), { abortSignal: AbortSignal.timeout(QUOTA_SDK_TIMEOUTS.callBudget) });
        return { allowed: true };
      } catch (err) {
        if ((err as { name?: string })?.name === 'ConditionalCheckFailedException') {
          return { allowed: false, retryAfterSeconds: secondsUntilNextWindow(now, windowSeconds) };
        }
        throw err;
      }
    },
  };
}
