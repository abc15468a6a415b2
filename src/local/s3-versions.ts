/**
 * Writes as a versioned S3 bucket makes them, added to s3rver's filesystem store (which keeps one
 * copy per key and writes it in place):
 * - every write (PutObject, POST, CompleteMultipartUpload) is staged first and committed only once
 *   it is complete and its checks passed, as a new version with its own `versionId`
 *   (`x-amz-version-id` in the response; `ctx.state.versionId` for the event);
 * - the version it replaces is kept as a noncurrent version, with its tags: the new current version
 *   starts without tags (S3 never carries tags over to a new version);
 * - `If-None-Match: *` (PutObject, CompleteMultipartUpload) is evaluated when the write commits, against
 *   the current version: 412 `PreconditionFailed` when one exists (a delete marker does not count), so of
 *   two conditional writes the first to finish wins; an upload in progress does not count either.
 *
 * - GetObject, HeadObject, GetObjectTagging, PutObjectTagging and DeleteObject take `versionId`; without
 *   it they act on the current version (and answer its `x-amz-version-id`). Tags belong to a version. An
 *   unknown version is 404 `NoSuchVersion`; reading or tagging a delete marker is 405 `MethodNotAllowed`.
 *   DeleteObject without `versionId` adds a delete marker; with it, removes that version for good (the
 *   previous version becomes current again when the current one is removed).
 *
 * ListObjectVersions: see s3-list-versions.ts. Not emulated: `x-amz-tagging` on PutObject, `VersionId` entries of DeleteObjects
 * (each key gets a delete marker), a delete marker over a key that has no current object, 409
 * `ConditionalRequestConflict`. CopyObject is refused (501 `NotImplemented`): s3rver's copy would write in
 * place, unversioned, keeping the destination's tags.
 *
 * Noncurrent versions live beside the buckets, under `._S3rver_versions/<bucket>/<sha256(key)>/`, with a
 * `versions.json` manifest (oldest first): s3rver's listings never see them.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';
import FilesystemStoreClass from '@20minutes/s3rver/lib/stores/filesystem';

/** The files s3rver keeps for one object (its resource names). */
const OBJECT_FILES = ['object', 'object.md5', 'metadata.json', 'tagging.xml'] as const;

/** Koa context fields used here. */
interface Ctx extends S3rver.Context {
  readonly state: { account?: unknown; versionId?: string };
  set(field: string, value: string): void;
}

interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: unknown;
  readonly metadata: Record<string, unknown>;
}

/** A tagging (or other) subresource as s3rver models it. */
interface Subresource {
  readonly type: string;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putContent(objectPath: string, content: unknown): Promise<[number, string]>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  getObject(bucket: string, key: string, options?: unknown): Promise<{ key: string } | null>;
  deleteObject(bucket: string, key: string): Promise<void>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: Subresource): Promise<void>;
}

/** One entry of a key's version manifest. */
export interface VersionEntry {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly lastModified: string;
}

/** A new S3-style version id: 32 URL-safe characters. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

/** The precondition failure S3 answers to `If-None-Match: *` when the key exists. */
export function preconditionFailed(condition: string): S3Error {
  return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

/** The version layer's handle: the manifest and paths of a key's versions. */
export class VersionStore {
  private readonly locks = new Map<string, Promise<unknown>>();

  /** Noncurrent versions, kept in s3rver's own layout under a pseudo key `<sha256(key)>/<versionId>`. */
  readonly archive: FilesystemStore;

  constructor(private readonly store: FilesystemStore, root: string) {
    this.archive = new FilesystemStoreClass(path.join(root, '._S3rver_versions')) as unknown as FilesystemStore;
  }

  /** The archive's pseudo key of one version (or, without a version, of the key's directory). */
  archiveKey(key: string, versionId = ''): string {
    return `${createHash('sha256').update(key).digest('hex')}/${versionId}`;
  }

  /** The directory of a key's noncurrent versions and manifest. */
  keyDir(bucket: string, key: string): string {
    return path.dirname(this.archive.getResourcePath(bucket, this.archiveKey(key, 'x'), 'object'));
  }

  /** The path of one file of an archived version. */
  versionFile(bucket: string, key: string, versionId: string, file: string): string {
    return this.archive.getResourcePath(bucket, this.archiveKey(key, versionId), file);
  }

  async versions(bucket: string, key: string): Promise<VersionEntry[]> {
    const manifest = path.join(this.keyDir(bucket, key), 'versions.json');
    return existsSync(manifest) ? JSON.parse(await readFile(manifest, 'utf8')) as VersionEntry[] : [];
  }

  async saveVersions(bucket: string, key: string, versions: readonly VersionEntry[]): Promise<void> {
    const dir = this.keyDir(bucket, key);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'versions.json'), JSON.stringify(versions));
    // The directory is named by the key's hash: ListObjectVersions reads the key back from here.
    await writeFile(path.join(dir, 'key'), key);
  }

  /** The directory holding every key's manifest of a bucket. */
  bucketDir(bucket: string): string {
    return path.dirname(this.keyDir(bucket, ''));
  }

  /** The current version (undefined: no version, or the key was never written here). */
  async current(bucket: string, key: string): Promise<VersionEntry | undefined> {
    const all = await this.versions(bucket, key);
    return all[all.length - 1];
  }

  /** Moves the current object's files into the archive as version `versionId`. */
  async archiveCurrent(bucket: string, key: string, versionId: string): Promise<void> {
    await mkdir(this.keyDir(bucket, key), { recursive: true });
    for (const file of OBJECT_FILES) {
      const from = this.store.getResourcePath(bucket, key, file);
      if (existsSync(from)) await rename(from, this.versionFile(bucket, key, versionId, file));
    }
  }

  /** Moves an archived version's files back as the current object. */
  async restoreCurrent(bucket: string, key: string, versionId: string): Promise<void> {
    await mkdir(path.dirname(this.store.getResourcePath(bucket, key, 'object')), { recursive: true });
    for (const file of OBJECT_FILES) {
      const from = this.versionFile(bucket, key, versionId, file);
      if (existsSync(from)) await rename(from, this.store.getResourcePath(bucket, key, file));
    }
  }

  /** Runs `fn` alone for this key (commits, deletes and tag writes of one key do not interleave). */
  async exclusive<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return run;
  }
}

/**
 * Makes the store's writes versioned, staged and conditional. Call before the authentication guard
 * wraps the store (so that it runs first); `currentRequest` returns the request being served.
 */
export function addVersioning(s3rver: S3rver, root: string, currentRequest: () => S3rver.Context | undefined): VersionStore {
  const store = s3rver.store as unknown as FilesystemStore;
  const versions = new VersionStore(store, root);
  const staging = path.join(root, '._S3rver_staging');
  let stagingReady: Promise<unknown> | undefined;

  store.putObject = async (object) => {
    const ctx = currentRequest() as Ctx | undefined;
    const versionId = newVersionId();
    await (stagingReady ??= mkdir(staging, { recursive: true }));
    const staged = path.join(staging, versionId);
    // putContent checks Content-MD5 (and removes the staged file when it differs): the current version
    // is untouched by a refused write.
    const [size, md5] = await store.putContent(staged, object.content);
    try {
      await versions.exclusive(object.bucket, object.key, async () => {
        const current = await versions.current(object.bucket, object.key);
        const exists = current ? !current.deleteMarker : existsSync(store.getResourcePath(object.bucket, object.key, 'object'));
        if (ctx?.get('if-none-match') === '*' && exists) throw preconditionFailed('If-None-Match');
        const history = current ? await versions.versions(object.bucket, object.key) : [];
        if (exists) {
          // An object written before versioning was enabled is version "null" in S3.
          const archivedId = current?.versionId ?? 'null';
          await versions.archiveCurrent(object.bucket, object.key, archivedId);
          if (!current) history.push({ versionId: archivedId, deleteMarker: false, lastModified: new Date().toISOString() });
        }
        // s3rver leaves a deleted object's tags behind; they must not reach a new object.
        await rm(store.getResourcePath(object.bucket, object.key, 'tagging.xml'), { force: true });
        const target = store.getResourcePath(object.bucket, object.key, 'object');
        await mkdir(path.dirname(target), { recursive: true });
        await rename(staged, target);
        await store.putMetadata(object.bucket, object.key, object.metadata, md5);
        history.push({ versionId, deleteMarker: false, lastModified: new Date().toISOString() });
        await versions.saveVersions(object.bucket, object.key, history);
      });
    } finally {
      await rm(staged, { force: true });
    }
    if (ctx) {
      ctx.state.versionId = versionId;
      ctx.set('x-amz-version-id', versionId);
    }
    return { size, md5 };
  };

  /** The version the request names (`?versionId=`), checked, or the current one. */
  async function resolve(bucket: string, key: string): Promise<Resolved> {
    const ctx = currentRequest() as Ctx | undefined;
    const requested = ctx?.query.versionId;
    const all = await versions.versions(bucket, key);
    const current = all[all.length - 1];
    if (typeof requested !== 'string') {
      if (current && ctx) ctx.set('x-amz-version-id', current.versionId);
      return { entry: current, isCurrent: true, ctx };
    }
    const entry = all.find((v) => v.versionId === requested)
      ?? (requested === 'null' && all.length === 0 && await existsCurrent(bucket, key)
        ? { versionId: 'null', deleteMarker: false, lastModified: '' } : undefined);
    if (!entry) {
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: requested });
    }
    ctx?.set('x-amz-version-id', entry.versionId);
    return { entry, isCurrent: entry === current || all.length === 0, ctx };
  }

  const existsCurrent = store.existsObject.bind(store);
  // With a versionId: whether that version (or delete marker) exists; a DELETE of an unknown one is
  // a no-op, as in S3.
  store.existsObject = async (bucket, key) => {
    const ctx = currentRequest();
    if (typeof ctx?.query.versionId !== 'string') return existsCurrent(bucket, key);
    try {
      await resolve(bucket, key);
      return true;
    } catch (err) {
      if (ctx.method === 'DELETE' && err instanceof S3Error && err.code === 'NoSuchVersion') return false;
      throw err;
    }
  };

  function refuseDeleteMarker(entry: VersionEntry | undefined, ctx: Ctx | undefined): void {
    if (!entry?.deleteMarker || typeof ctx?.query.versionId !== 'string') return;
    ctx.set('x-amz-delete-marker', 'true');
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.method, ResourceType: 'DeleteMarker' });
  }

  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const { entry, isCurrent, ctx } = await resolve(bucket, key);
    refuseDeleteMarker(entry, ctx);
    if (isCurrent || !entry) return getObject(bucket, key, options);
    const object = await versions.archive.getObject(bucket, versions.archiveKey(key, entry.versionId), options);
    if (object) object.key = key;
    return object;
  };

  const getSubresource = store.getSubresource.bind(store);
  store.getSubresource = async (bucket, key, type) => {
    if (key === undefined || type !== 'tagging') return getSubresource(bucket, key, type);
    const { entry, isCurrent, ctx } = await resolve(bucket, key);
    refuseDeleteMarker(entry, ctx);
    return isCurrent || !entry ? getSubresource(bucket, key, type)
      : versions.archive.getSubresource(bucket, versions.archiveKey(key, entry.versionId), type);
  };

  // Tag writes and commits of one key take turns: tags meant for the current version never land on
  // a version committed in between.
  const putSubresource = store.putSubresource.bind(store);
  store.putSubresource = async (bucket, key, resource) => {
    if (key === undefined || resource.type !== 'tagging') return putSubresource(bucket, key, resource);
    return versions.exclusive(bucket, key, async () => {
      const { entry, isCurrent, ctx } = await resolve(bucket, key);
      refuseDeleteMarker(entry, ctx);
      if (isCurrent && !await existsCurrent(bucket, key)) {
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
      }
      return isCurrent || !entry ? putSubresource(bucket, key, resource)
        : versions.archive.putSubresource(bucket, versions.archiveKey(key, entry.versionId), resource);
    });
  };

  const deleteCurrent = store.deleteObject.bind(store);
  store.deleteObject = async (bucket, key) => versions.exclusive(bucket, key, async () => {
    const { entry, isCurrent, ctx } = await resolve(bucket, key);
    const all = await versions.versions(bucket, key);
    if (typeof ctx?.query.versionId !== 'string') {
      // A delete marker becomes the current version; the object stays as a noncurrent one.
      const markerId = newVersionId();
      if (await existsCurrent(bucket, key)) {
        const archivedId = entry?.versionId ?? 'null';
        await versions.archiveCurrent(bucket, key, archivedId);
        if (!entry) all.push({ versionId: archivedId, deleteMarker: false, lastModified: new Date().toISOString() });
      }
      all.push({ versionId: markerId, deleteMarker: true, lastModified: new Date().toISOString() });
      await versions.saveVersions(bucket, key, all);
      await deleteCurrent(bucket, key);
      ctx?.set('x-amz-version-id', markerId);
      ctx?.set('x-amz-delete-marker', 'true');
      return;
    }
    if (!entry) return;
    if (entry.deleteMarker) ctx.set('x-amz-delete-marker', 'true');
    const remaining = all.filter((v) => v.versionId !== entry.versionId);
    if (isCurrent) {
      await rm(store.getResourcePath(bucket, key, 'tagging.xml'), { force: true });
      await deleteCurrent(bucket, key);
      const previous = remaining[remaining.length - 1];
      if (previous && !previous.deleteMarker) await versions.restoreCurrent(bucket, key, previous.versionId);
    } else {
      for (const file of OBJECT_FILES) await rm(versions.versionFile(bucket, key, entry.versionId, file), { force: true });
    }
    await versions.saveVersions(bucket, key, remaining);
  });

  (store as unknown as { copyObject: () => Promise<never> }).copyObject = async () => {
    throw new S3Error('NotImplemented', 'CopyObject is not emulated by the local S3 stand-in (it would bypass versioning).');
  };
  return versions;
}

interface Resolved {
  /** The version named, or the current one (undefined: the key has no version yet). */
  readonly entry: VersionEntry | undefined;
  /** Whether it is the current version (stored where s3rver keeps the object). */
  readonly isCurrent: boolean;
  readonly ctx: Ctx | undefined;
}
