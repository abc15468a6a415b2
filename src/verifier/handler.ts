/**
 * The verifier handler: SQS batch of S3 ObjectCreated events in, per object: read the first bytes of
 * the version the event names, decide, then either notify consumers and tag that version, or record the
 * rejection + delete that version (or retain it, tagged). Per verified upload: one ranged GET, one
 * GetObjectTagging, one PutObjectTagging (and, in an unversioned bucket only, one HEAD to detect a
 * replacement between the read and the tag write).
 *
 * Storage and messaging come in through two small interfaces ({@link ObjectStore}, {@link MessageSender}):
 * the Lambda passes AWS SDK adapters (`./aws`), the local stack the same adapters on local clients,
 * unit tests in-memory fakes. Failures of one message are reported as batch item failures (SQS retries
 * it, then moves it to the dead-letter queue); the others are not retried.
 */
import type { VerifierConfig } from './config';
import { HEAD_BYTES } from './detect';
import { verifyObject } from './verify';
import { decodeFilename, FILENAME_HEADER } from '../contract/filename';
import {
  GUARDDUTY_SCAN_TAG,
  isScanDeadlineMessage,
  isScanResultEvent,
  isScanVerdict,
  parseScanResultEvent,
  SCAN_PENDING,
  ScanDeadlineMessage,
  scanRejection,
  ScanRejectionCode,
  ScanResult,
  ScanVerdict,
} from '../contract/malware-scan';
import { storedMetadata } from '../contract/metadata';
import {
  decodeS3EventKey,
  ETAG_TAG,
  REASON_TAG,
  REJECTED_TAG,
  RejectionCode,
  rejectionReasonTag,
  RejectionRecord,
  SCAN_TAG,
  TAG_KEY_PREFIX,
  UNCLAIMED_TAG,
  VERIFIED_TAG,
  VERIFIED_VALUE,
  VerificationResult,
} from '../contract/queue-message';
import { encodeS3EventKey } from '../local/s3-events';

/** One object version: the key, and the version S3 named in the event (absent in an unversioned bucket). */
export interface ObjectRef {
  readonly key: string;
  readonly versionId?: string;
}

/** The first bytes of an object and what S3 says about it. */
export interface ObjectStart {
  /** Total size (from `Content-Range`, or 0 for an empty object). */
  readonly size: number;
  readonly contentType?: string;
  /** ETag without quotes. */
  readonly eTag: string;
  /** The version read (as S3 reports it; absent in an unversioned bucket). */
  readonly versionId?: string;
  /**
   * The stored response headers other than `Content-Type` (lower-case names: `cache-control`,
   * `content-disposition`, `content-encoding`, `content-language`, `expires`,
   * `x-amz-website-redirect-location`, `x-amz-meta-*`). S3 stores them from an upload's request headers.
   */
  readonly storedHeaders: Readonly<Record<string, string>>;
  /** Up to the requested number of leading bytes. */
  readonly body: Uint8Array;
}

/**
 * The S3 operations the verifier uses, each on exactly the version named (the current object when
 * `versionId` is absent); `undefined` results mean "the object does not exist (any more)".
 */
export interface ObjectStore {
  /** Ranged GET of the first `bytes` bytes. */
  readStart(object: ObjectRef, bytes: number): Promise<ObjectStart | undefined>;
  /** Ranged GET of `[start, end]` of the object with the given ETag. */
  read(object: ObjectRef, start: number, end: number, eTag: string): Promise<Uint8Array>;
  getTags(object: ObjectRef): Promise<Record<string, string> | undefined>;
  /** Replaces the tag set; false when the object is gone. */
  putTags(object: ObjectRef, tags: Record<string, string>): Promise<boolean>;
  delete(object: ObjectRef): Promise<void>;
  /** The current object's ETag (HEAD), undefined when there is none: detects a replacement in an unversioned bucket. */
  currentETag(key: string): Promise<string | undefined>;
}

/** Sends one message body to a queue (delayed by `delaySeconds`, 0 to 900, when given). */
export interface MessageSender {
  send(queueUrl: string, body: string, delaySeconds?: number): Promise<void>;
}

/** What happened to one object (returned for tests and logged). */
export type ObjectOutcome = 'verified' | 'rejected' | 'duplicate' | 'gone' | 'stale' | 'replaced' | 'ignored' | 'pending' | 'scan-overdue';

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
    readonly s3SchemaVersion?: string;
    readonly bucket?: { readonly name?: string };
    readonly object?: { readonly key?: string; readonly size?: number; readonly eTag?: string; readonly versionId?: string };
  };
  readonly [field: string]: unknown;
}

/** What triggered a verdict, and what to announce: the S3 event's record, or one built from the object. */
interface Subject {
  readonly key: string;
  readonly versionId?: string;
  /** The ETag the trigger is about (a different current ETag means a stale event). */
  readonly eTag?: string;
  readonly trigger: 's3' | 'scan' | 'deadline';
  /** The scan verdict the trigger carries (a scan result event). */
  readonly scan?: ScanVerdict;
  readonly record: (head: ObjectStart) => S3Record;
}

/** Why an object is rejected. */
interface Rejection {
  readonly code: RejectionCode | ScanRejectionCode;
  readonly message: string;
  readonly declaredType?: string;
  readonly detectedType?: string;
}

/** Creates the SQS batch handler. */
export function createVerifierHandler(config: VerifierConfig, deps: VerifierDependencies): (event: SqsBatch) => Promise<SqsBatchResponse> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((line: string) => console.log(line));
  const { store, sender } = deps;

  const report = (fields: Record<string, unknown>) => log(JSON.stringify({ source: 'cdk-direct-upload-verifier', ...fields }));

  async function processObject(record: S3Record): Promise<ObjectOutcome> {
    const encodedKey = record.s3?.object?.key;
    if (!record.eventName?.startsWith('ObjectCreated:') || typeof encodedKey !== 'string') return 'ignored';
    if (record.s3?.bucket?.name !== config.bucket) {
      report({ outcome: 'ignored', reason: `event for another bucket (${String(record.s3?.bucket?.name)})` });
      return 'ignored';
    }
    const key = decodeS3EventKey(encodedKey);
    const eventETag = record.s3?.object?.eTag;
    // In a versioned bucket every read, tag and delete names the event's version: the verdict, the tag
    // and the announcement are about exactly the bytes that were read, whatever is written to the key later.
    const versionId = realVersion(record.s3?.object?.versionId);

    if (!key.startsWith(`${config.policy.prefix}/`)) {
      // Not ours to delete (the role may not): record it, touch nothing.
      await sendRejection(record, key, { size: record.s3?.object?.size ?? 0, eTag: eventETag ?? '', versionId }, {
        code: 'OUTSIDE_PREFIX', message: `key "${key}" is not under the upload prefix "${config.policy.prefix}/"`,
      }, 'none');
      return 'rejected';
    }
    return judge({ key, versionId, eTag: eventETag, trigger: 's3', record: () => record });
  }

  /** A GuardDuty scan result (EventBridge): completes the upload if its bytes passed, whichever came first. */
  async function processScanResult(result: ScanResult): Promise<ObjectOutcome> {
    if (!config.malwareScan || result.bucket !== config.bucket || !result.key.startsWith(`${config.policy.prefix}/`)) {
      report({ outcome: 'ignored', reason: 'scan result for an object the verifier does not scan', bucket: result.bucket, key: result.key });
      return 'ignored';
    }
    const versionId = realVersion(result.versionId);
    return judge({
      key: result.key,
      versionId,
      eTag: result.eTag,
      trigger: 'scan',
      scan: result.verdict,
      record: (head) => announcedRecord(result.key, head, versionId, result.time, result.region),
    });
  }

  /** The delayed self-message of an upload that was waiting for its scan: still waiting means overdue. */
  async function processDeadline(message: ScanDeadlineMessage): Promise<ObjectOutcome> {
    if (!config.malwareScan) return 'ignored';
    const { key, versionId, eTag } = message.scanDeadline;
    return judge({ key, versionId: realVersion(versionId), eTag, trigger: 'deadline', record: (head) => announcedRecord(key, head, versionId) });
  }

  /**
   * The state machine, without a database: the object's tags hold the state. Every trigger (the S3 event,
   * the scan result, the deadline) checks the bytes again (one ranged GET, cheap) and takes the scan
   * verdict from the event or GuardDuty's tag, so arrival order does not matter and a lost tag (two
   * writers replacing a tag set) only delays, never passes, an upload.
   */
  async function judge(subject: Subject): Promise<ObjectOutcome> {
    const { key } = subject;
    const head = await store.readStart({ key, versionId: subject.versionId }, HEAD_BYTES);
    if (!head) {
      report({ key, versionId: subject.versionId, outcome: 'gone', trigger: subject.trigger });
      return 'gone';
    }
    if (subject.eTag && head.eTag !== subject.eTag) {
      // Unversioned: the object was replaced after this event; the newer object's own event verifies it.
      report({ key, versionId: subject.versionId, outcome: 'stale', eventETag: subject.eTag, eTag: head.eTag });
      return 'stale';
    }
    const object: ObjectRef = { key, versionId: subject.versionId ?? realVersion(head.versionId) };
    // The tags carry the verifier's state (idempotency). Always read: `x-amz-tagging-count` on the GET
    // is absent both when there are no tags and when a stand-in omits it.
    const tags = await store.getTags(object);
    if (!tags) return 'gone';

    if (tags[ETAG_TAG] === head.eTag && (tags[VERIFIED_TAG] === VERIFIED_VALUE || tags[VERIFIED_TAG] === 'false')) {
      report({ key, versionId: object.versionId, outcome: 'duplicate', eTag: head.eTag, trigger: subject.trigger });
      return 'duplicate';
    }
    const verdict = await verifyObject({
      policy: config.policy,
      key,
      contentType: head.contentType,
      storedHeaders: head.storedHeaders,
      metadataKeys: config.metadataKeys,
      size: head.size,
      head: head.body,
      read: (start, end) => store.read(object, start, end, head.eTag),
    });
    const scanning = config.malwareScan;
    const tagged = tags[GUARDDUTY_SCAN_TAG];
    const scan = scanning ? subject.scan ?? (isScanVerdict(tagged) ? tagged : undefined) : undefined;

    if (verdict.ok && scanning && scan === undefined) {
      // Bytes passed, scan result not yet known: pending (never served, never announced).
      if (subject.trigger === 'deadline') {
        report({ key, versionId: object.versionId, outcome: 'scan-overdue', eTag: head.eTag, deadlineSeconds: scanning.deadlineSeconds });
        return 'scan-overdue';
      }
      if (tags[SCAN_TAG] !== SCAN_PENDING || tags[ETAG_TAG] !== head.eTag) {
        // Deadline first: if the tag write fails, the retry sends it again; the other way round a retry
        // would find the tag and never send one.
        const version = object.versionId ? { versionId: object.versionId } : {};
        const deadline: ScanDeadlineMessage = { scanDeadline: { key, ...version, eTag: head.eTag } };
        await sender.send(scanning.verificationQueueUrl, JSON.stringify(deadline), scanning.deadlineSeconds);
        if (!(await store.putTags(object, { ...withoutOurTags(tags), [SCAN_TAG]: SCAN_PENDING, [ETAG_TAG]: head.eTag }))) return 'gone';
      }
      report({ key, versionId: object.versionId, outcome: 'pending', reason: 'awaiting the malware scan', eTag: head.eTag });
      return 'pending';
    }
    const scanRejected = verdict.ok && scan ? scanRejection(scan) : undefined;

    if (verdict.ok && !scanRejected) {
      // Announce, then tag: one tag write, and the tag means "announced" too, so a redelivered event does
      // nothing. A failure between the two announces again on the retry (notifications are at-least-once).
      const verification: VerificationResult = {
        status: 'verified',
        contentType: verdict.declaredType,
        ...(verdict.detectedType ? { detectedType: verdict.detectedType } : {}),
        method: verdict.method,
        size: head.size,
        eTag: head.eTag,
        ...(object.versionId ? { versionId: object.versionId } : {}),
        verifiedAt: now().toISOString(),
        ...(scanning ? { malwareScan: 'NO_THREATS_FOUND' as const } : {}),
        ...userMetadataOf(head.storedHeaders, config.metadataKeys),
      };
      await sender.send(config.verifiedQueueUrl, JSON.stringify({ Records: [{ ...subject.record(head), verification }] }));
      const kept = withoutOurTags(tags);
      const scanTags: Record<string, string> = scanning && scan ? { [SCAN_TAG]: scan } : {};
      // With unclaimed uploads expiring, the same single write marks it unclaimed (whichever trigger completes
      // the upload: the S3 event or the scan result); claiming rewrites the tags without it.
      const unclaimed: Record<string, string> = config.tagUnclaimed ? { [UNCLAIMED_TAG]: 'true' } : {};
      if (!(await store.putTags(object, { ...kept, [VERIFIED_TAG]: VERIFIED_VALUE, [ETAG_TAG]: head.eTag, ...scanTags, ...unclaimed }))) return 'gone';
      if (object.versionId === undefined && (await store.currentETag(key)) !== head.eTag) {
        // Unversioned bucket: the key was overwritten between the read and the tag write, so the tag may
        // sit on bytes that were never read. Take it off; the newer object's own event verifies those.
        await store.putTags(object, kept);
        report({ key, outcome: 'replaced', eTag: head.eTag });
        return 'replaced';
      }
      report({ key, versionId: object.versionId, outcome: 'verified', contentType: verification.contentType, method: verification.method, size: head.size, ...(scan ? { scan } : {}) });
      return 'verified';
    }

    // Rejected (bytes, or the scan): record first (the audit trail survives a crash), then delete or
    // retain exactly this version.
    const reason: Rejection = verdict.ok
      ? { ...scanRejected!, declaredType: verdict.declaredType, detectedType: verdict.detectedType }
      : verdict;
    const action = config.rejectedObjects === 'delete' ? 'deleted' : 'retained';
    await sendRejection(subject.record(head), key, { ...head, versionId: object.versionId }, reason, action, scan);
    const rejectedTags = {
      ...withoutOurTags(tags),
      [VERIFIED_TAG]: 'false',
      [ETAG_TAG]: head.eTag,
      [REJECTED_TAG]: reason.code,
      [REASON_TAG]: rejectionReasonTag(reason.code, reason.message),
      ...(scan ? { [SCAN_TAG]: scan } : {}),
    };
    if (config.rejectedObjects === 'retain') {
      await store.putTags(object, rejectedTags);
    } else if (object.versionId === undefined || reason.code === 'MALWARE_FOUND') {
      // Unversioned, or malware: delete exactly this version. Malicious bytes are not kept for the status
      // route's sake (it then answers 404, which waitUntilVerified reports as rejected); the record says why.
      await store.delete(object);
    } else {
      // Versioned: tag the rejected version, then hide it behind a delete marker (never served: the key has
      // no current object). The tags keep the reason for the status route; the lifecycle rule expires the
      // noncurrent version. One request more than deleting the version, on rejected uploads only.
      if (!(await store.putTags(object, rejectedTags))) return 'gone';
      await store.delete({ key });
    }
    return 'rejected';
  }

  /** The S3-shaped record announced when the scan result (or the deadline), not the S3 event, completes an upload. */
  function announcedRecord(key: string, head: ObjectStart, versionId: string | undefined, time?: string, region?: string): S3Record {
    return {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      ...(region ? { awsRegion: region } : {}),
      eventTime: time ?? now().toISOString(),
      eventName: 'ObjectCreated:*',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: config.bucket },
        object: { key: encodeS3EventKey(key), size: head.size, eTag: head.eTag, ...(versionId ? { versionId } : {}) },
      },
    };
  }

  async function sendRejection(
    record: S3Record,
    key: string,
    object: { size: number; eTag: string; versionId?: string; storedHeaders?: Readonly<Record<string, string>> },
    reason: Rejection,
    action: RejectionRecord['action'],
    scan?: ScanVerdict,
  ): Promise<void> {
    const rejection: RejectionRecord = {
      rejection: { code: reason.code, message: reason.message },
      ...(scan ? { malwareScan: scan } : {}),
      bucket: config.bucket,
      key,
      size: object.size,
      eTag: object.eTag,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(reason.declaredType ? { declaredContentType: reason.declaredType } : {}),
      ...(reason.detectedType ? { detectedType: reason.detectedType } : {}),
      ...(object.storedHeaders ? userMetadataOf(object.storedHeaders, config.metadataKeys) : {}),
      action,
      rejectedAt: now().toISOString(),
      event: record,
    };
    await sender.send(config.rejectionQueueUrl, JSON.stringify(rejection));
    report({ key, versionId: object.versionId, outcome: 'rejected', code: reason.code, message: reason.message, action, ...(scan ? { scan } : {}) });
  }

  async function processMessage(body: string): Promise<ObjectOutcome[]> {
    const message = JSON.parse(body) as { Records?: unknown; Event?: unknown };
    if (message.Event === 's3:TestEvent') return ['ignored'];
    if (isScanResultEvent(message)) return [await processScanResult(parseScanResultEvent(message))];
    if (isScanDeadlineMessage(message)) return [await processDeadline(message)];
    if (!Array.isArray(message.Records)) throw new Error('not an S3 event notification (no Records array)');
    const outcomes: ObjectOutcome[] = [];
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

/** `{ filename, metadata }` from the signed user metadata, each when there is one. */
function userMetadataOf(
  stored: Readonly<Record<string, string>>, keys: readonly string[] = [],
): { filename?: string; metadata?: Record<string, string> } {
  const filename = decodeFilename(stored[FILENAME_HEADER]);
  const metadata = storedMetadata(stored, keys);
  return { ...(filename !== undefined ? { filename } : {}), ...(metadata ? { metadata } : {}) };
}

/** The tag set without the verifier's own tags (other tags, e.g. a worker's, are kept). */
function withoutOurTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => !k.startsWith(TAG_KEY_PREFIX)));
}

/** A version id that names one immutable version; S3's `null` version is overwritten in place. */
function realVersion(versionId: string | undefined): string | undefined {
  return versionId && versionId !== 'null' ? versionId : undefined;
}
