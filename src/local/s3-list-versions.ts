/**
 * ListObjectVersions (`GET /bucket?versions&prefix=…`) over the version layer (s3-versions.ts), which
 * s3rver's router answers MethodNotAllowed (after authenticating). As S3 lists them: by key, then newest
 * first, versions and delete markers interleaved, `IsLatest` on the current one; `prefix` and `max-keys`
 * (with `IsTruncated`, `NextKeyMarker`, `NextVersionIdMarker`).
 *
 * Not emulated: `key-marker`/`version-id-marker` paging (501 `NotImplemented`), `delimiter`, and keys
 * written without the version layer (every write of the stand-in goes through it).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';
import type { VersionStore } from './s3-versions';

interface Ctx extends S3rver.Context {
  readonly state: { account?: unknown };
  body: unknown;
  type: string;
}

interface Store {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Answers ListObjectVersions for signed requests. */
export function addListObjectVersions(s3rver: S3rver, versions: VersionStore): void {
  const store = s3rver.store as unknown as Store;
  s3rver.middleware.unshift(async (context, next) => {
    const ctx = context as Ctx;
    try {
      await next();
    } catch (err) {
      if (!(err instanceof S3Error) || err.code !== 'MethodNotAllowed' || ctx.method !== 'GET'
        || ctx.query.versions === undefined || !ctx.params.bucket || ctx.params.key) {
        throw err;
      }
      if (!ctx.state.account) throw new S3Error('AccessDenied', 'Access Denied');
      ctx.type = 'application/xml';
      ctx.body = await listVersionsXml(ctx.params.bucket, ctx);
    }
  });

  /** Size and ETag of the current object or of an archived version. */
  async function describe(bucket: string, key: string, versionId: string, isCurrent: boolean): Promise<{ size: number; eTag: string }> {
    const file = (name: string) => (isCurrent ? store.getResourcePath(bucket, key, name) : versions.versionFile(bucket, key, versionId, name));
    const size = existsSync(file('object')) ? (await stat(file('object'))).size : 0;
    const eTag = existsSync(file('object.md5')) ? (await readFile(file('object.md5'), 'utf8')).trim() : '';
    return { size, eTag };
  }

  async function listVersionsXml(bucket: string, ctx: Ctx): Promise<string> {
    const param = (name: string) => {
      const value = ctx.query[name];
      return (Array.isArray(value) ? value[0] : value) ?? '';
    };
    for (const name of ['key-marker', 'version-id-marker', 'delimiter']) {
      if (param(name)) throw new S3Error('NotImplemented', `ListObjectVersions ${name} is not emulated by the local S3 stand-in.`);
    }
    const prefix = param('prefix');
    const maxParam = param('max-keys');
    const maxKeys = maxParam === '' ? 1000 : Number(maxParam);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxParam });
    }
    const root = versions.bucketDir(bucket);
    const keys: string[] = [];
    for (const dir of existsSync(root) ? await readdir(root) : []) {
      const keyFile = path.join(root, dir, 'key');
      if (!existsSync(keyFile)) continue;
      const key = await readFile(keyFile, 'utf8');
      if (key.startsWith(prefix)) keys.push(key);
    }
    keys.sort();
    const entries: string[] = [];
    let next: { key: string; versionId: string } | undefined;
    outer: for (const key of keys) {
      const all = await versions.versions(bucket, key);
      for (let i = all.length - 1; i >= 0; i--) {
        const v = all[i];
        if (entries.length === maxKeys) {
          next = { key, versionId: v.versionId };
          break outer;
        }
        const latest = i === all.length - 1;
        const common = `<Key>${esc(key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${v.lastModified}</LastModified>`;
        if (v.deleteMarker) {
          entries.push(`<DeleteMarker>${common}</DeleteMarker>`);
        } else {
          const { size, eTag } = await describe(bucket, key, v.versionId, latest);
          entries.push(`<Version>${common}<ETag>"${eTag}"</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Version>`);
        }
      }
    }
    const truncated = next !== undefined;
    return '<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
      + `<Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>`
      + `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`
      + (next ? `<NextKeyMarker>${esc(next.key)}</NextKeyMarker><NextVersionIdMarker>${next.versionId}</NextVersionIdMarker>` : '')
      + `${entries.join('')}</ListVersionsResult>`;
  }
}
