/**
 * S3 event notifications in the shape S3 really sends to SQS, built by the local stack from the
 * S3 stand-in's own (looser) events. Pure functions, no I/O.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
import { randomBytes } from 'node:crypto';
export { decodeS3EventKey } from '../contract/queue-message';

/** The `ObjectCreated` event names S3 sends for the ways an upload can finish. */
export type ObjectCreatedEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

/** One `Records[]` entry of an S3 event notification. */
export interface S3EventRecord {
  readonly eventVersion: string;
  readonly eventSource: 'aws:s3';
  readonly awsRegion: string;
  readonly eventTime: string;
  readonly eventName: ObjectCreatedEventName;
  readonly userIdentity: { readonly principalId: string };
  readonly requestParameters: { readonly sourceIPAddress: string };
  readonly responseElements: { readonly 'x-amz-request-id': string; readonly 'x-amz-id-2': string };
  readonly s3: {
    readonly s3SchemaVersion: '1.0';
    readonly configurationId: string;
    readonly bucket: { readonly name: string; readonly ownerIdentity: { readonly principalId: string }; readonly arn: string };
    readonly object: {
      readonly key: string;
      readonly size: number;
      readonly eTag: string;
      /** Present when the bucket is versioned (as the upload bucket is). */
      readonly versionId?: string;
      readonly sequencer: string;
    };
  };
}

/** The message body S3 puts on the queue. */
export interface S3EventNotification {
  readonly Records: readonly S3EventRecord[];
}

/** The message S3 sends once when a notification configuration is put on a bucket. */
export interface S3TestEvent {
  readonly Service: 'Amazon S3';
  readonly Event: 's3:TestEvent';
  readonly Time: string;
  readonly Bucket: string;
  readonly RequestId: string;
  readonly HostId: string;
}

// Characters S3 leaves as they are in event keys: ASCII letters and digits, `-_.*` and the `/`
// between segments. Everything else is UTF-8 percent-encoded and a space becomes `+`
// (application/x-www-form-urlencoded, as the S3 documentation says: "red flower.jpg" → "red+flower.jpg").
const KEPT = /[A-Za-z0-9\-_.*/]/;

/**
 * Encodes an object key the way S3 writes it into `s3.object.key`: form URL-encoding (space → `+`,
 * `+` → `%2B`, non-ASCII → UTF-8 `%XX`), with `/` kept. Decode with {@link decodeS3EventKey}.
 */
export function encodeS3EventKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch === ' ') {
      out += '+';
    } else if (KEPT.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
    }
  }
  return out;
}

/** The `s3:TestEvent` message. */
export function s3TestEvent(bucket: string, time: Date = new Date()): S3TestEvent {
  return {
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: time.toISOString(),
    Bucket: bucket,
    RequestId: randomHex(8),
    HostId: randomBytes(48).toString('base64'),
  };
}

/** What the S3 stand-in reports about one created object. */
export interface ObjectCreated {
  readonly eventName: ObjectCreatedEventName;
  readonly bucket: string;
  /** The object key, unencoded. */
  readonly key: string;
  readonly size: number;
  /** ETag without quotes. */
  readonly eTag: string;
  /** The version the write created (versioned buckets). */
  readonly versionId?: string;
  readonly sourceIp: string;
  readonly time: Date;
  /** Hex string that grows with each event for the same key (S3's ordering hint). */
  readonly sequencer: string;
}

/** Options of {@link objectCreatedEvent}. */
export interface ObjectCreatedEventOptions {
  readonly region: string;
  /** The notification configuration's id. @default 'direct-upload-local' */
  readonly configurationId?: string;
  /** Owner / caller principal ids (S3 uses the account's canonical ids). */
  readonly principalId?: string;
}

/** The S3 event notification body for one created object. */
export function objectCreatedEvent(created: ObjectCreated, options: ObjectCreatedEventOptions): S3EventNotification {
  const principalId = options.principalId ?? 'A1LOCALSTACKPRINCIPAL';
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: options.region,
        eventTime: created.time.toISOString(),
        eventName: created.eventName,
        userIdentity: { principalId: `AWS:${principalId}` },
        requestParameters: { sourceIPAddress: created.sourceIp },
        responseElements: { 'x-amz-request-id': randomHex(8), 'x-amz-id-2': randomBytes(48).toString('base64') },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: options.configurationId ?? 'direct-upload-local',
          bucket: { name: created.bucket, ownerIdentity: { principalId }, arn: `arn:aws:s3:::${created.bucket}` },
          object: {
            key: encodeS3EventKey(created.key),
            size: created.size,
            eTag: created.eTag,
            ...(created.versionId !== undefined ? { versionId: created.versionId } : {}),
            sequencer: created.sequencer,
          },
        },
      },
    ],
  };
}

/** A source of S3-style sequencers: 18 upper-case hex digits, strictly increasing. */
export function createSequencer(now: () => number = Date.now): () => string {
  let last = 0n;
  return () => {
    // Milliseconds in the high bits, a counter in the low 16: increasing even within one millisecond.
    let next = BigInt(now()) * 65536n;
    if (next <= last) next = last + 1n;
    last = next;
    return next.toString(16).toUpperCase().padStart(18, '0');
  };
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}
