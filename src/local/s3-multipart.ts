/**
 * Multipart behaviour real S3 has and s3rver lacks, added to the S3 stand-in so the end-to-end tests
 * see what production sees:
 * - ListParts (`GET ?uploadId`) and AbortMultipartUpload (`DELETE ?uploadId`), signed like any request;
 * - ListMultipartUploads (`GET /bucket?uploads`, with `prefix`; one page of up to 1,000);
 * - `NoSuchUpload` for an unknown upload id, or one used with another key (UploadPart, Complete);
 * - part numbers 1 to 10,000;
 * - completion checks: parts in ascending order (`InvalidPartOrder`), each present with its ETag
 *   (`InvalidPart`), every part but the last at least 5 MiB (`EntityTooSmall`), and the total equal to
 *   `x-amz-mp-object-size` when the request sends it.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';

/** S3's smallest part but the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;

/** The parts of a Koa context used here. */
interface Ctx extends S3rver.Context {
  readonly state: { account?: unknown };
  body: unknown;
  type: string;
  status: number;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putPart(bucket: string, uploadId: string, partNumber: unknown, content: unknown): Promise<{ size: number; md5: string }>;
  putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<unknown>;
}

/**
 * Adds the checks and operations. Call before any other store wrapping (so that authentication
 * checks wrapped later run first); `currentRequest` returns the request being served.
 */
export function addMultipartEmulation(s3rver: S3rver, currentRequest: () => S3rver.Context | undefined): void {
  const store = s3rver.store as unknown as FilesystemStore;
  const uploadDir = (bucket: string, uploadId: string) => path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);

  /** The upload's directory, when the id exists and belongs to `key`. */
  async function uploadOf(bucket: string, uploadId: string, key: string | undefined): Promise<string> {
    const dir = uploadDir(bucket, uploadId);
    if (!UPLOAD_ID_RE.test(uploadId) || !existsSync(dir)) throw noSuchUpload(uploadId);
    const owner = (await readFile(path.join(dir, 'key'))).toString();
    if (key !== undefined && owner !== key) throw noSuchUpload(uploadId);
    return dir;
  }

  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    await uploadOf(bucket, uploadId, currentRequest()?.params.key);
    const n = Number(partNumber);
    if (!Number.isInteger(n) || n < 1 || n > 10_000 || String(n) !== String(partNumber)) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
        { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) });
    }
    return putPart(bucket, uploadId, partNumber, content);
  };

  const complete = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const ctx = currentRequest();
    const dir = await uploadOf(bucket, uploadId, ctx?.params.key);
    let total = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i > 0 && part.number <= parts[i - 1].number) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      }
      const file = path.join(dir, String(part.number));
      const md5 = existsSync(`${file}.md5`) ? (await readFile(`${file}.md5`)).toString() : undefined;
      if (md5 === undefined || md5 !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.');
      }
      const size = (await stat(file)).size;
      if (i < parts.length - 1 && size < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      }
      total += size;
    }
    const expected = ctx?.get('x-amz-mp-object-size');
    if (expected && Number(expected) !== total) {
      throw new S3Error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${expected} does not match what was computed: ${total}`);
    }
    return complete(bucket, uploadId, parts);
  };

  // ListMultipartUploads is a bucket-level GET to `/<bucket>/`: SDK v3 signs that path with its trailing
  // slash, s3rver canonicalizes path-style bucket requests without it. Its virtual-host branch builds
  // `/<bucket>` + mount path; set both after its vhost middleware so the canonical path is the one sent.
  const vhostAt = s3rver.middleware.findIndex((m) => m.name === 'vhost');
  if (vhostAt < 0) throw new Error('s3rver has no vhost middleware to follow; update the ListMultipartUploads emulation');
  s3rver.middleware.splice(vhostAt + 1, 0, async (context, next) => {
    const ctx = context as Ctx & { mountPath?: string; path: string; state: { vhost?: boolean } };
    if (ctx.method === 'GET' && ctx.query.uploads !== undefined && !ctx.state.vhost && /^\/[^/]+\/$/.test(ctx.path)) {
      ctx.state.vhost = true;
      ctx.mountPath = `${ctx.mountPath ?? ''}/`;
    }
    await next();
  });

  // ListParts and AbortMultipartUpload: s3rver's router answers MethodNotAllowed *after* authenticating;
  // answer them instead when the request was signed.
  s3rver.middleware.unshift(async (context, next) => {
    const ctx = context as Ctx;
    try {
      await next();
    } catch (err) {
      if (err instanceof S3Error && err.code === 'NotImplemented' && ctx.method === 'GET' && ctx.params.bucket
        && !ctx.params.key && ctx.query.uploads !== undefined) {
        if (!ctx.state.account) throw new S3Error('AccessDenied', 'Access Denied');
        const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
        ctx.type = 'application/xml';
        ctx.body = await listUploadsXml(path.dirname(uploadDir(ctx.params.bucket, 'x')), ctx.params.bucket, prefix);
        return;
      }
      const uploadId = ctx.query.uploadId;
      const operation = ctx.method === 'GET' ? 'list' : ctx.method === 'DELETE' ? 'abort' : undefined;
      if (!(err instanceof S3Error) || err.code !== 'MethodNotAllowed' || typeof uploadId !== 'string' || !operation
        || !ctx.params.bucket || !ctx.params.key || ctx.query.partNumber !== undefined) {
        throw err;
      }
      if (!ctx.state.account) throw new S3Error('AccessDenied', 'Access Denied');
      const dir = await uploadOf(ctx.params.bucket, uploadId, ctx.params.key);
      if (operation === 'abort') {
        await rm(dir, { recursive: true, force: true });
        ctx.status = 204;
        ctx.body = null;
        return;
      }
      ctx.type = 'application/xml';
      ctx.body = await listPartsXml(dir, ctx.params.bucket, ctx.params.key, uploadId);
    }
  });
}

async function listPartsXml(dir: string, bucket: string, key: string, uploadId: string): Promise<string> {
  const numbers = (await readdir(dir)).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  const parts: string[] = [];
  for (const n of numbers) {
    const file = path.join(dir, String(n));
    const info = await stat(file);
    const md5 = (await readFile(`${file}.md5`)).toString();
    parts.push(`<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>`
      + `<ETag>&quot;${md5}&quot;</ETag><Size>${info.size}</Size></Part>`);
  }
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId>`
    + `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${numbers[numbers.length - 1] ?? 0}</NextPartNumberMarker>`
    + `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
}

async function listUploadsXml(root: string, bucket: string, prefix: string): Promise<string> {
  const uploads: Array<{ key: string; id: string; initiated: Date }> = [];
  for (const id of existsSync(root) ? await readdir(root) : []) {
    const keyFile = path.join(root, id, 'key');
    if (!UPLOAD_ID_RE.test(id) || !existsSync(keyFile)) continue;
    const key = (await readFile(keyFile)).toString();
    if (key.startsWith(prefix)) uploads.push({ key, id, initiated: (await stat(keyFile)).mtime });
  }
  // S3's order: by key, then by initiation time.
  uploads.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.getTime() - b.initiated.getTime()));
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Bucket>${esc(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${esc(prefix)}</Prefix>`
    + `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads.slice(0, 1000).map((u) => `<Upload><Key>${esc(u.key)}</Key>`
      + `<UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`).join('')}`
    + '</ListMultipartUploadsResult>';
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}
