/**
 * Multipart uploads: the part layout (pure) and the four S3 calls the signer makes itself
 * (CreateMultipartUpload, ListParts, CompleteMultipartUpload, AbortMultipartUpload).
 *
 * The calls go through `@aws-sdk/client-s3`, loaded on the first multipart request only: it is external
 * to the Lambda bundle (the nodejs22.x runtime ships it), so the single-upload path neither bundles nor
 * loads it.
 */
import type * as S3 from '@aws-sdk/client-s3';
import { SignerConfig } from './config';
import { MAX_PART_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE, UploadPolicy, multipartSettings } from '../policy';

/** Where each part of a file of `size` bytes goes. */
export interface PartLayout {
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
}

/**
 * The layout for a file: the policy's part size, grown (to whole MiB) when the file would need more
 * than 10,000 parts; never above 5 GiB per part.
 */
export function partLayout(size: number, policy: UploadPolicy): PartLayout {
  let partSize = Math.max(multipartSettings(policy).partSize, MIN_PART_SIZE);
  if (Math.ceil(size / partSize) > MAX_PARTS) {
    partSize = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  }
  partSize = Math.min(partSize, MAX_PART_SIZE);
  return { size, partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Byte length of part `partNumber` (1-based) in a layout. */
export function partLength(layout: PartLayout, partNumber: number): number {
  return partNumber < layout.partCount ? layout.partSize : layout.size - (layout.partCount - 1) * layout.partSize;
}

/**
 * The highest part number that can still complete within `maxFileSize`: every part but the last is at
 * least 5 MiB (S3 refuses to complete otherwise), so more parts than this cannot fit.
 */
export function maxPartNumber(maxFileSize: number): number {
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(maxFileSize / MIN_PART_SIZE)));
}

/** A part as ListParts reports it. */
export interface ListedPart {
  readonly partNumber: number;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
}

/** The S3 operations multipart needs, on the upload bucket. Injectable for tests. */
export interface MultipartStore {
  create(key: string, contentType: string): Promise<string>;
  /** Every part, in part-number order; undefined when no such upload exists for this key. */
  listParts(key: string, uploadId: string): Promise<ListedPart[] | undefined>;
  /** Completes with exactly these parts; `size` is sent as `x-amz-mp-object-size` (S3 checks it). */
  complete(key: string, uploadId: string, parts: readonly ListedPart[], size: number): Promise<void>;
  /** False when no such upload exists. */
  abort(key: string, uploadId: string): Promise<boolean>;
}

type S3Module = typeof S3;

let sdk: S3Module | undefined;

/** `@aws-sdk/client-s3`, required on first use (external to the bundle). */
function loadSdk(): S3Module {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= require('@aws-sdk/client-s3') as S3Module;
  return sdk;
}

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

/** The SDK-backed store (the Lambda's role credentials, or the local stack's endpoint). */
export function sdkMultipartStore(config: SignerConfig): MultipartStore {
  let cached: S3.S3Client | undefined;
  const s3 = (): { client: S3.S3Client; m: S3Module } => {
    const m = loadSdk();
    cached ??= new m.S3Client({
      region: config.region,
      credentials: async () => config.credentials(),
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return { client: cached, m };
  };
  const Bucket = config.bucket;

  return {
    async create(key, contentType) {
      const { client, m } = s3();
      const res = await client.send(new m.CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType }));
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return res.UploadId;
    },

    async listParts(key, uploadId) {
      const { client, m } = s3();
      const parts: ListedPart[] = [];
      let marker: string | undefined;
      try {
        for (let page = 0; page < MAX_PARTS / 1000 + 1; page++) {
          const res = await client.send(new m.ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
          for (const p of res.Parts ?? []) {
            parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: unquote(p.ETag) });
          }
          if (!res.IsTruncated || res.NextPartNumberMarker === undefined) break;
          marker = String(res.NextPartNumberMarker);
        }
      } catch (err) {
        if (isNoSuchUpload(err)) return undefined;
        throw err;
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async complete(key, uploadId, parts, size) {
      const { client, m } = s3();
      await client.send(new m.CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MpuObjectSize: size,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
      }));
    },

    async abort(key, uploadId) {
      const { client, m } = s3();
      try {
        await client.send(new m.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
        return true;
      } catch (err) {
        if (isNoSuchUpload(err)) return false;
        throw err;
      }
    },
  };
}
