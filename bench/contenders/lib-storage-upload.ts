/**
 * A Node peer of figure 8: `@aws-sdk/lib-storage` `Upload` (multipart, the SDK's defaults unless the
 * arguments say otherwise) of a generated file to the local S3 stand-in with its access key (no
 * signer). The body is a `Readable` repeating one 1 MiB chunk (lib-storage buffers up to `queueSize`
 * parts of `partSize`). Prints one JSON line (see node-upload.ts).
 *
 *   tsx bench/contenders/lib-storage-upload.ts '{"endpoint":…,"bucket":…,"key":…,"size":…,"partSize":…,"queueSize":…}'
 */
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { chunk, CHUNK_BYTES, reportUpload } from './node-upload';

interface Args {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** @default - lib-storage's (5 MiB) */
  readonly partSize?: number;
  /** @default - lib-storage's (4) */
  readonly queueSize?: number;
}

function generated(size: number): Readable {
  const one = chunk();
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK_BYTES, size - sent);
      sent += n;
      this.push(n === CHUNK_BYTES ? one : one.subarray(0, n));
    },
  });
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const client = new S3Client({
  endpoint: args.endpoint,
  region: args.region,
  forcePathStyle: true,
  credentials: { accessKeyId: args.accessKeyId, secretAccessKey: args.secretAccessKey },
  // The SDK's default adds a CRC32 per part, which the stand-in does not emulate (it verifies SHA-256 only) and
  // which costs the peer CPU: without it lib-storage does less work, so the comparison only gets harder for us.
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
reportUpload(async () => {
  await new Upload({
    client,
    params: { Bucket: args.bucket, Key: args.key, Body: generated(args.size), ContentType: args.contentType },
    ...(args.partSize ? { partSize: args.partSize } : {}),
    ...(args.queueSize ? { queueSize: args.queueSize } : {}),
  }).done();
  client.destroy();
  return args.key;
});
