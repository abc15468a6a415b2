/**
 * The verifier handler: SQS batch of S3 ObjectCreated events in, per object: read the first bytes,
 * decide, then either tag + notify consumers, or record the rejection + delete (or retain, tagged).
 *
 * Storage and messaging come in through two small interfaces ({@link ObjectStore}, {@link MessageSender}):
 * the Lambda passes AWS SDK adapters (`./aws`), the local stack the same adapters on local clients,
 * unit tests in-memory fakes. Failures of one message are reported as batch item failures (SQS retries
 * it, then moves it to the dead-letter queue); the others are not retried.
 */
import type { VerifierConfig } from './config';
import { HEAD_BYTES } from './detect';
import {
  ETAG_TAG,
  NOTIFIED_TAG,
  REJECTED_TAG,
  RejectionRecord,
  VERIFIED_TAG,
  VERIFIED_VALUE,
  VerificationResult,
} from './protocol';
import { Verdict, verifyObject } from './verify';

/** The first bytes of an object and what S3 says about it. */
export interface ObjectHead {
  /** Total size (from `Content-Range`, or 0 for an empty object). */
  readonly size: number;
  readonly contentType?: string;
  /** ETag without quotes. */
  readonly eTag: string;
  /** Up to the requested number of leading bytes. */
  readonly body: Uint8Array;
}

/** The S3 operations the verifier uses; `undefined` results mean "the object does not exist (any more)". */
export interface ObjectStore {
  /** Ranged GET of the first `bytes` bytes. */
  head(key: string, bytes: number): Promise<ObjectHead | undefined>;
  /** Ranged GET of `[start, end]` of the object with the given ETag. */
  read(key: string, start: number, end: number, eTag: string): Promise<Uint8Array>;
  getTags(key: string): Promise<Record<string, string> | undefined>;
  /** Replaces the object's tag set; false when the object is gone. */
  putTags(key: string, tags: Record<string, string>): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** Sends one message body to a queue. */
export interface MessageSender {
  send(queueUrl: string, body: string): Promise<void>;
}

/** What happened to one object (returned for tests and logged). */
export type Outcome = 'verified' | 'rejected' | 'duplicate' | 'gone' | 'stale' | 'ignored';

/** Test hooks and dependencies. */
export interface VerifierDependencies {
  readonly store: ObjectStore;
  readonly sender: MessageSender;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default console.log with one JSON line */
  readonly log?: (line: string) => void;
}

/** The SQS event shape the handler reads (a subset of aws-lambda's `SQSEvent`). */
export interface SqsBatch {
  readonly Records: ReadonlyArray<{ readonly messageId: string; readonly body: string }>;
}

/** Partial batch response: the messages to retry. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** An S3 event record, as much of it as the verifier reads. */
interface S3Record {
  readonly eventName?: string;
  readonly s3?: {
    readonly bucket?: { readonly name?: string };
    readonly object?: { readonly key?: string; readonly size?: number; readonly eTag?: string };
  };
  readonly [field: string]: unknown;
}

/** Decodes `s3.object.key` (form URL-encoding: `+` is a space). */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** Creates the SQS batch handler. */
export function createVerifierHandler(config: VerifierConfig, deps: VerifierDependencies): (event: SqsBatch) => Promise<SqsBatchResponse> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((line: string) => console.log(line));
  const { store, sender } = deps;

  const report = (fields: Record<string, unknown>) => log(JSON.stringify({ source: 'cdk-direct-upload-verifier', ...fields }));

  async function processObject(record: S3Record): Promise<Outcome> {
    const encodedKey = record.s3?.object?.key;
    if (!record.eventName?.startsWith('ObjectCreated:') || typeof encodedKey !== 'string') return 'ignored';
    if (record.s3?.bucket?.name !== config.bucket) {
      report({ outcome: 'ignored', reason: `event for another bucket (${String(record.s3?.bucket?.name)})` });
      return 'ignored';
    }
    const key = decodeEventKey(encodedKey);
    const eventETag = record.s3?.object?.eTag;

    if (!key.startsWith(`${config.policy.prefix}/`)) {
      // Not ours to delete (the role may not): record it, touch nothing.
      await sendRejection(record, key, { size: record.s3?.object?.size ?? 0, eTag: eventETag ?? '' }, {
        ok: false, code: 'OUTSIDE_PREFIX', message: `key "${key}" is not under the upload prefix "${config.policy.prefix}/"`,
      }, 'none');
      return 'rejected';
    }

    const head = await store.head(key, HEAD_BYTES);
    if (!head) {
      report({ key, outcome: 'gone' });
      return 'gone';
    }
    if (eventETag && head.eTag !== eventETag) {
      // The object was replaced after this event: the newer object's own event verifies it.
      report({ key, outcome: 'stale', eventETag, eTag: head.eTag });
      return 'stale';
    }
    // The tags carry the verifier's state (idempotency). Always read: `x-amz-tagging-count` on the GET
    // is not something to rely on (stand-ins omit it), and one GetObjectTagging per upload is cheap.
    const tags = await store.getTags(key);
    if (!tags) return 'gone';

    const sameObject = tags[ETAG_TAG] === head.eTag;
    if (sameObject && tags[VERIFIED_TAG] === VERIFIED_VALUE && tags[NOTIFIED_TAG] === 'true') {
      report({ key, outcome: 'duplicate', eTag: head.eTag });
      return 'duplicate';
    }
    if (sameObject && tags[VERIFIED_TAG] === 'false') {
      report({ key, outcome: 'duplicate', eTag: head.eTag });
      return 'duplicate';
    }
    // Otherwise verify (again, when a previous attempt tagged the object but did not get to notify:
    // cheap and deterministic), and finish the job.
    const verdict = await verifyObject({
      policy: config.policy,
      key,
      contentType: head.contentType,
      size: head.size,
      head: head.body,
      read: (start, end) => store.read(key, start, end, head.eTag),
    });

    if (verdict.ok) {
      // Tag first (the CDN may serve it from now on), then tell consumers, then remember that we did.
      const verified = { ...withoutOurTags(tags), [VERIFIED_TAG]: VERIFIED_VALUE, [ETAG_TAG]: head.eTag };
      if (!(await store.putTags(key, verified))) return 'gone';
      const verification: VerificationResult = {
        status: 'verified',
        contentType: verdict.declaredType!,
        ...(verdict.detectedType ? { detectedType: verdict.detectedType } : {}),
        method: verdict.method!,
        size: head.size,
        eTag: head.eTag,
        verifiedAt: now().toISOString(),
      };
      await sender.send(config.verifiedQueueUrl, JSON.stringify({ Records: [{ ...record, verification }] }));
      await store.putTags(key, { ...verified, [NOTIFIED_TAG]: 'true' });
      report({ key, outcome: 'verified', contentType: verification.contentType, method: verification.method, size: head.size });
      return 'verified';
    }

    // Rejected: record first (the audit trail survives a crash), then delete or retain.
    const action = config.rejectedObjects === 'delete' ? 'deleted' : 'retained';
    await sendRejection(record, key, head, verdict, action);
    if (config.rejectedObjects === 'delete') {
      await store.delete(key);
    } else {
      await store.putTags(key, { ...withoutOurTags(tags), [VERIFIED_TAG]: 'false', [ETAG_TAG]: head.eTag, [REJECTED_TAG]: verdict.code! });
    }
    return 'rejected';
  }

  async function sendRejection(
    record: S3Record,
    key: string,
    object: { size: number; eTag: string },
    verdict: Verdict,
    action: RejectionRecord['action'],
  ): Promise<void> {
    const rejection: RejectionRecord = {
      rejection: { code: verdict.code!, message: verdict.message },
      bucket: config.bucket,
      key,
      size: object.size,
      eTag: object.eTag,
      ...(verdict.declaredType ? { declaredContentType: verdict.declaredType } : {}),
      ...(verdict.detectedType ? { detectedType: verdict.detectedType } : {}),
      action,
      rejectedAt: now().toISOString(),
      event: record,
    };
    await sender.send(config.rejectionQueueUrl, JSON.stringify(rejection));
    report({ key, outcome: 'rejected', code: verdict.code, message: verdict.message, action });
  }

  async function processMessage(body: string): Promise<Outcome[]> {
    const message = JSON.parse(body) as { Records?: unknown; Event?: unknown };
    if (message.Event === 's3:TestEvent') return ['ignored'];
    if (!Array.isArray(message.Records)) throw new Error('not an S3 event notification (no Records array)');
    const outcomes: Outcome[] = [];
    for (const record of message.Records as S3Record[]) outcomes.push(await processObject(record));
    return outcomes;
  }

  return async (event) => {
    const failures: Array<{ itemIdentifier: string }> = [];
    await Promise.all(event.Records.map(async (message) => {
      try {
        await processMessage(message.body);
      } catch (err) {
        report({ messageId: message.messageId, outcome: 'error', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        failures.push({ itemIdentifier: message.messageId });
      }
    }));
    return { batchItemFailures: failures };
  };
}

/** The tag set without the verifier's own tags (other tags, e.g. a worker's, are kept). */
function withoutOurTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => ![VERIFIED_TAG, ETAG_TAG, NOTIFIED_TAG, REJECTED_TAG].includes(k)));
}
