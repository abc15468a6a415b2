/**
 * `POST /uploads/status`: whether one of the caller's uploads is pending, verified or rejected (and why).
 * One S3 request while an upload is pending or verified: GetObjectTagging of the key's current version,
 * whose tags the verifier alone writes (`direct-upload:*`). Only when there is no current version, two
 * more: ListObjectVersions with the key as prefix (versions and delete markers, newest first), then the
 * newest version's tags. A rejected upload's version stays, tagged with the reason and
 * hidden by a delete marker, until the lifecycle rule expires noncurrent versions (see the verifier).
 */
import type { SignerConfig } from './config';
import { readKey, readObject } from './fields';
import { accept, Outcome, reject } from './http';
import { bounded, createS3Client, DependencyUnavailableError, isUnavailable, S3_SDK_TIMEOUTS } from './multipart';
import { REASON_TAG, REJECTED_TAG, VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';
import { ErrorCodes, UploadStatus } from '../contract/signer-protocol';
import { contentTypeOfKey } from '../contract/upload-rules';

/** One entry of a key's version list. */
export interface KeyVersion {
  /** Absent for S3's `null` version (an unversioned bucket). */
  readonly versionId?: string;
  readonly deleteMarker: boolean;
  /** Bytes (0 for a delete marker). */
  readonly size: number;
}

/** The S3 reads of the status route. Injectable for tests. */
export interface StatusStore {
  /** The versions and delete markers of exactly this key, newest first (one ListObjectVersions request). */
  versions(key: string): Promise<KeyVersion[]>;
  /** The tags of one version (undefined when it is gone). */
  tags(key: string, versionId: string | undefined): Promise<Record<string, string> | undefined>;
}

/** Answers the status route for a caller whose keys start with `<prefix>/<scope>/`. */
export async function statusRoute(
  config: SignerConfig, store: StatusStore, scope: string, body: unknown,
): Promise<Outcome<UploadStatus>> {
  const fields = readObject(body, ['key'], '{"key":"..."}');
  if (!fields.ok) return fields;
  const key = readKey(fields.value, config.policy, scope);
  if (!key.ok) return key;
  const notFound = () => reject<UploadStatus>(404, ErrorCodes.UPLOAD_NOT_FOUND,
    'Nothing is stored at this key: the upload has not been sent (or completed) yet, or it was deleted; send it first.');

  const answer = (tags: Record<string, string>): Outcome<UploadStatus> => {
    if (tags[REJECTED_TAG] !== undefined || tags[VERIFIED_TAG] === 'false') {
      return accept({ key: key.value, state: 'rejected', reason: tags[REASON_TAG] ?? tags[REJECTED_TAG] ?? 'REJECTED' });
    }
    const verified = tags[VERIFIED_TAG] === VERIFIED_VALUE;
    // The signer chose the key's extension from the signed content type: no HeadObject needed.
    const contentType = contentTypeOfKey(key.value, config.policy.allowedContentTypes);
    return accept({
      key: key.value,
      state: verified ? 'verified' : 'pending',
      ...(contentType ? { contentType } : {}),
      ...(verified ? { publicUrl: `${config.publicBaseUrl}/${key.value}` } : {}),
    });
  };

  // One GET-class read while the client waits (pending, verified, or rejected and retained): the current
  // version's tags. A LIST costs 12.5 times as much, so it is only read when there is no current version.
  const current = await store.tags(key.value, undefined);
  if (current) return answer(current);
  // Nothing stored, or a rejected version the verifier hid behind a delete marker (its tags say why).
  const versions = await store.versions(key.value);
  const newest = versions.find((v) => !v.deleteMarker);
  if (!newest) return notFound();
  const tags = await store.tags(key.value, newest.versionId);
  if (!tags) return notFound();
  const outcome = answer(tags);
  // Hidden by a delete marker without the verifier's rejection: deleted by its owner.
  if (versions[0].deleteMarker && !(outcome.ok && outcome.value.state === 'rejected')) return notFound();
  return outcome;
}

/** The SDK-backed store: ListObjectVersions and GetObjectTagging on the upload bucket, each bounded. */
export function sdkStatusStore(config: SignerConfig): StatusStore {
  const s3 = createS3Client(config);
  const Bucket = config.bucket;
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw isUnavailable(err) ? new DependencyUnavailableError('S3', err) : err;
    }
  };
  return {
    versions: (key) => guard(async () => {
      const { client, m } = s3();
      // A write-once key has one version and at most one delete marker; a few more bound a replayed form.
      const res = await client.send(new m.ListObjectVersionsCommand({ Bucket, Prefix: key, MaxKeys: 20 }), bounded(S3_SDK_TIMEOUTS.callBudget));
      const entries = [
        ...(res.Versions ?? []).map((v) => ({ ...v, deleteMarker: false, size: v.Size ?? 0 })),
        ...(res.DeleteMarkers ?? []).map((d) => ({ ...d, deleteMarker: true, size: 0 })),
      ].filter((e) => e.Key === key);
      entries.sort((a, b) => Number(b.IsLatest ?? false) - Number(a.IsLatest ?? false)
        || (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0));
      return entries.map((e) => ({
        ...(e.VersionId && e.VersionId !== 'null' ? { versionId: e.VersionId } : {}), deleteMarker: e.deleteMarker, size: e.size,
      }));
    }),
    tags: (key, versionId) => guard(async () => {
      const { client, m } = s3();
      try {
        const res = await client.send(new m.GetObjectTaggingCommand({ Bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
          bounded(S3_SDK_TIMEOUTS.callBudget));
        return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || status === 405) return undefined;
        throw err;
      }
    }),
  };
}
