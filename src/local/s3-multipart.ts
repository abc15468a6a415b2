/**
 * Multipart behaviour real S3 has and s3rver lacks, added to the S3 stand-in so the end-to-end tests
 * see what production sees:
 * - ListParts (`GET ?uploadId`) and AbortMultipartUpload (`DELETE ?uploadId`), signed like any request;
 * - ListMultipartUploads (`GET /bucket?uploads&prefix=…`): the in-progress uploads sorted by key, then by
 *   initiation time, with `key-marker`/`upload-id-marker`/`max-uploads` paging (no `delimiter`);
 * - `NoSuchUpload` for an unknown upload id, or one used with another key (UploadPart, Complete);
 * - part numbers 1 to 10,000;
 * - completion checks: parts in ascending order (`InvalidPartOrder`), each present with its ETag
 *   (`InvalidPart`), every part but the last at least 5 MiB (`EntityTooSmall`), and the total equal to
 *   `x-amz-mp-object-size` when the request sends it;
 * - SHA-256 part checksums (the upload's algorithm, each part's, and completion): see s3-part-checksums.ts.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';
import { checkCompletionChecksums, checkCreateChecksum, listPartsChecksumXml, partChecksumXml, putPartWithChecksum } from './s3-part-checksums';

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
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: unknown): Promise<void>;
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

  // File times are too coarse to order uploads started in one burst: record the order explicitly.
  let initiations = 0;
  const initiateUpload = store.initiateUpload.bind(store);
  store.initiateUpload = async (bucket, key, uploadId, metadata) => {
    checkCreateChecksum(currentRequest());
    const initiated = { time: new Date().toISOString(), order: ++initiations };
    await initiateUpload(bucket, key, uploadId, metadata);
    await writeFile(path.join(uploadDir(bucket, uploadId), 'initiated'), JSON.stringify(initiated));
  };

  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const ctx = currentRequest();
    const dir = await uploadOf(bucket, uploadId, ctx?.params.key);
    const n = Number(partNumber);
    if (!Number.isInteger(n) || n < 1 || n > 10_000 || String(n) !== String(partNumber)) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
        { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) });
    }
    return putPartWithChecksum(ctx, dir, n, () => putPart(bucket, uploadId, partNumber, content));
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
    await checkCompletionChecksums(ctx, dir);
    return complete(bucket, uploadId, parts);
  };

  // ListParts and AbortMultipartUpload: s3rver's router answers MethodNotAllowed *after* authenticating;
  // answer them instead when the request was signed.
  s3rver.middleware.unshift(async (context, next) => {
    const ctx = context as Ctx;
    try {
      await next();
    } catch (err) {
      if (err instanceof S3Error && err.code === 'NotImplemented' && isListUploads(ctx)) {
        if (!ctx.state.account) throw new S3Error('AccessDenied', 'Access Denied');
        ctx.type = 'application/xml';
        ctx.body = await listUploadsXml(store.getResourcePath(ctx.params.bucket!, undefined, 'uploads'), ctx);
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

/** `GET /bucket?uploads`: s3rver's router answers it NotImplemented (after authenticating). */
function isListUploads(ctx: Ctx): boolean {
  return ctx.method === 'GET' && ctx.query.uploads !== undefined && !!ctx.params.bucket && !ctx.params.key;
}

/** One query parameter as a string ('' when absent; the first when repeated). */
function param(ctx: Ctx, name: string): string {
  const value = ctx.query[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface UploadEntry {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/**
 * The ListMultipartUploadsResult, as S3 orders it: by key, then by initiation time; `key-marker`
 * alone resumes after that key, with `upload-id-marker` after that upload of it.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 */
async function listUploadsXml(uploadsDir: string, ctx: Ctx): Promise<string> {
  if (param(ctx, 'delimiter') !== '') {
    throw new S3Error('NotImplemented', 'A parameter you provided implies functionality that is not implemented', { Header: 'delimiter' });
  }
  const prefix = param(ctx, 'prefix');
  const keyMarker = param(ctx, 'key-marker');
  const uploadIdMarker = keyMarker ? param(ctx, 'upload-id-marker') : '';
  const maxParam = param(ctx, 'max-uploads');
  const maxUploads = maxParam === '' ? 1000 : Number(maxParam);
  if (maxParam !== '' && !/^\d{1,9}$/.test(maxParam)) {
    throw new S3Error('InvalidArgument', 'Provided max-uploads not an integer or within integer range',
      { ArgumentName: 'max-uploads', ArgumentValue: maxParam });
  }
  const ids = existsSync(uploadsDir) ? (await readdir(uploadsDir)).filter((id) => UPLOAD_ID_RE.test(id)) : [];
  const entries: Array<UploadEntry & { order: number }> = [];
  for (const uploadId of ids) {
    const dir = path.join(uploadsDir, uploadId);
    if (!existsSync(path.join(dir, 'initiated'))) continue;
    const [key, initiated] = await Promise.all([readFile(path.join(dir, 'key'), 'utf8'), readFile(path.join(dir, 'initiated'), 'utf8')]);
    const { time, order } = JSON.parse(initiated) as { time: string; order: number };
    if (key.startsWith(prefix)) entries.push({ key, uploadId, initiated: new Date(time), order });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.order - b.order));
  let start = 0;
  if (keyMarker) {
    const markerAt = uploadIdMarker ? entries.findIndex((e) => e.key === keyMarker && e.uploadId === uploadIdMarker) : -1;
    start = markerAt >= 0 ? markerAt + 1 : entries.findIndex((e) => e.key > keyMarker);
    if (start < 0) start = entries.length;
  }
  const page = entries.slice(start, start + Math.min(maxUploads, 1000));
  const truncated = start + page.length < entries.length;
  const last = page[page.length - 1];
  const owner = '<ID>local</ID><DisplayName>local</DisplayName>';
  const uploads = page.map((u) => `<Upload><Key>${esc(u.key)}</Key><UploadId>${u.uploadId}</UploadId>`
    + `<Initiator>${owner}</Initiator><Owner>${owner}</Owner><StorageClass>STANDARD</StorageClass>`
    + `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`).join('');
  return '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Bucket>${esc(ctx.params.bucket ?? '')}</Bucket><KeyMarker>${esc(keyMarker)}</KeyMarker><UploadIdMarker>${esc(uploadIdMarker)}</UploadIdMarker>`
    + `<NextKeyMarker>${esc(truncated && last ? last.key : '')}</NextKeyMarker><NextUploadIdMarker>${truncated && last ? last.uploadId : ''}</NextUploadIdMarker>`
    + `<Prefix>${esc(prefix)}</Prefix><MaxUploads>${maxUploads}</MaxUploads><IsTruncated>${truncated}</IsTruncated>${uploads}</ListMultipartUploadsResult>`;
}

async function listPartsXml(dir: string, bucket: string, key: string, uploadId: string): Promise<string> {
  const numbers = (await readdir(dir)).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  const parts: string[] = [];
  for (const n of numbers) {
    const file = path.join(dir, String(n));
    const info = await stat(file);
    const md5 = (await readFile(`${file}.md5`)).toString();
    parts.push(`<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>`
      + `<ETag>&quot;${md5}&quot;</ETag>${await partChecksumXml(dir, n)}<Size>${info.size}</Size></Part>`);
  }
  return '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId>`
    + `<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${numbers[numbers.length - 1] ?? 0}</NextPartNumberMarker>`
    + `<MaxParts>10000</MaxParts><IsTruncated>false</IsTruncated>${await listPartsChecksumXml(dir)}${parts.join('')}</ListPartsResult>`;
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}
