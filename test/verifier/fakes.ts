/**
 * In-memory S3 and SQS fakes for the verifier handler, and a setup that wires them to the real handler.
 */
import type { RejectionRecord } from '../../src/contract/queue-message';
import type { UploadPolicy } from '../../src/contract/upload-rules';
import { localPolicy } from '../../src/local/local-stack';
import { encodeS3EventKey } from '../../src/local/s3-events';
import type { MalwareScanConfig, VerifierConfig } from '../../src/verifier/config';
import { createVerifierHandler, MessageSender, ObjectRef, ObjectStore } from '../../src/verifier/handler';

interface StoredVersion {
  readonly versionId?: string;
  body: Buffer;
  contentType?: string;
  eTag: string;
  tags: Record<string, string>;
  headers: Record<string, string>;
  /** A delete marker (versioned bucket, DeleteObject without a version): the key has no current object. */
  readonly deleteMarker?: boolean;
}

/** An in-memory bucket, versioned or not, that records every S3 request the verifier makes. */
export function fakes(versioned: boolean) {
  const versions = new Map<string, StoredVersion[]>(); // oldest first; the last is the current one
  const objects = {
    get: (key: string) => (versions.get(key)?.at(-1)?.deleteMarker ? undefined : versions.get(key)?.at(-1)),
    has: (key: string) => (versions.get(key)?.length ?? 0) > 0 && !versions.get(key)?.at(-1)?.deleteMarker,
    versions: (key: string) => versions.get(key) ?? [],
  };
  const find = (ref: ObjectRef) => {
    const list = versions.get(ref.key) ?? [];
    const found = ref.versionId !== undefined ? list.find((v) => v.versionId === ref.versionId) : list.at(-1);
    return found?.deleteMarker ? undefined : found;
  };
  const name = (ref: ObjectRef) => `${ref.key}${ref.versionId !== undefined ? `@${ref.versionId}` : ''}`;
  const sent: Array<{ queueUrl: string; body: any; delaySeconds?: number }> = [];
  const calls: string[] = [];
  let failSendOnce = false;
  let afterHead: (() => void) | undefined;
  const store: ObjectStore = {
    async readStart(ref, bytes) {
      calls.push(`readStart ${name(ref)}`);
      const o = find(ref);
      const answer = o && {
        size: o.body.length,
        contentType: o.contentType,
        eTag: o.eTag,
        versionId: o.versionId,
        storedHeaders: { ...o.headers },
        body: o.body.subarray(0, bytes),
      };
      const hook = afterHead;
      afterHead = undefined;
      hook?.();
      return answer;
    },
    async read(ref, start, end, eTag) {
      calls.push(`read ${name(ref)} ${start}-${end}`);
      const o = find(ref);
      if (!o || o.eTag !== eTag) throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed' });
      return o.body.subarray(start, end + 1);
    },
    async getTags(ref) {
      calls.push(`getTags ${name(ref)}`);
      const o = find(ref);
      return o && { ...o.tags };
    },
    async putTags(ref, tags) {
      calls.push(`tag ${name(ref)}`);
      const o = find(ref);
      if (!o) return false;
      o.tags = { ...tags };
      return true;
    },
    async delete(ref) {
      calls.push(`delete ${name(ref)}`);
      const list = versions.get(ref.key) ?? [];
      if (versioned && ref.versionId === undefined) {
        versions.set(ref.key, [...list, { versionId: `marker${list.length + 1}`, body: Buffer.alloc(0), eTag: '', tags: {}, headers: {}, deleteMarker: true }]);
        return;
      }
      const o = find(ref);
      versions.set(ref.key, list.filter((v) => v !== o));
    },
    async currentETag(key) {
      calls.push(`headObject ${key}`);
      return versions.get(key)?.at(-1)?.eTag;
    },
  };
  const sender: MessageSender = {
    async send(queueUrl, body, delaySeconds) {
      if (failSendOnce) {
        failSendOnce = false;
        throw new Error('SQS is down');
      }
      sent.push({ queueUrl, body: JSON.parse(body), ...(delaySeconds !== undefined ? { delaySeconds } : {}) });
    },
  };
  return {
    versioned,
    versions,
    objects,
    sent,
    calls,
    store,
    sender,
    failNextSend: () => { failSendOnce = true; },
    /** Runs `action` right after the next ranged GET has answered (a write racing the verifier). */
    afterNextHead: (action: () => void) => { afterHead = action; },
  };
}

export const VERIFIED_URL = 'http://sqs.local/verified';
export const REJECTED_URL = 'http://sqs.local/rejected';

export function setup(overrides: {
  policy?: Partial<UploadPolicy>;
  rejectedObjects?: 'delete' | 'retain';
  versioned?: boolean;
  malwareScan?: MalwareScanConfig;
  tagUnclaimed?: boolean;
  metadataKeys?: string[];
} = {}) {
  const f = fakes(overrides.versioned ?? false);
  const config: VerifierConfig = {
    bucket: 'b',
    policy: localPolicy(overrides.policy),
    verifiedQueueUrl: VERIFIED_URL,
    rejectionQueueUrl: REJECTED_URL,
    rejectedObjects: overrides.rejectedObjects ?? 'delete',
    ...(overrides.malwareScan ? { malwareScan: overrides.malwareScan } : {}),
    ...(overrides.tagUnclaimed ? { tagUnclaimed: true } : {}),
    ...(overrides.metadataKeys ? { metadataKeys: overrides.metadataKeys } : {}),
  };
  const logged: Array<Record<string, unknown>> = [];
  const handler = createVerifierHandler(config, { ...f, now: () => new Date('2030-01-02T03:04:05Z'), log: (line) => { logged.push(JSON.parse(line)); } });
  let n = 0;
  /** Writes an object: a new version when versioned, else a replacement (S3 drops the tags). Returns its ETag. */
  const put = (key: string, body: Buffer, contentType?: string, headers: Record<string, string> = {}) => {
    const eTag = `etag${++n}`;
    const version: StoredVersion = { ...(f.versioned ? { versionId: `v${n}` } : {}), body, contentType, eTag, tags: {}, headers };
    f.versions.set(key, f.versioned ? [...(f.versions.get(key) ?? []), version] : [version]);
    return eTag;
  };
  const eventFor = (key: string, eTag: string | undefined = f.objects.get(key)?.eTag, versionId = f.objects.get(key)?.versionId) => ({
    Records: [{
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'b' },
        object: { key: encodeS3EventKey(key), size: f.objects.get(key)?.body.length ?? 0, eTag, ...(versionId ? { versionId } : {}) },
      },
    }],
  });
  const deliver = (...bodies: unknown[]) => handler({
    Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) })),
  });
  return { ...f, put, eventFor, deliver, logged };
}

export type Sent = Array<{ queueUrl: string; body: any }>;
export const rejections = (sent: Sent) => sent.filter((s) => s.queueUrl === REJECTED_URL).map((s) => s.body as RejectionRecord);
export const verified = (sent: Sent) => sent.filter((s) => s.queueUrl === VERIFIED_URL).map((s) => s.body);

