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

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putContent(objectPath: string, content: unknown): Promise<[number, string]>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
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

  constructor(private readonly store: FilesystemStore, private readonly root: string) {}

  /** The directory of a key's noncurrent versions and manifest. */
  keyDir(bucket: string, key: string): string {
    return path.join(this.root, '._S3rver_versions', bucket, createHash('sha256').update(key).digest('hex'));
  }

  /** The path of one file of an archived version. */
  versionFile(bucket: string, key: string, versionId: string, file: string): string {
    return path.join(this.keyDir(bucket, key), `${versionId}.${file}`);
  }

  async versions(bucket: string, key: string): Promise<VersionEntry[]> {
    const manifest = path.join(this.keyDir(bucket, key), 'versions.json');
    return existsSync(manifest) ? JSON.parse(await readFile(manifest, 'utf8')) as VersionEntry[] : [];
  }

  async saveVersions(bucket: string, key: string, versions: readonly VersionEntry[]): Promise<void> {
    const dir = this.keyDir(bucket, key);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'versions.json'), JSON.stringify(versions));
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

  store.putObject = async (object) => {
    const ctx = currentRequest() as Ctx | undefined;
    const versionId = newVersionId();
    await mkdir(staging, { recursive: true });
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
  return versions;
}
