/**
 * Figure 2's comparison bundle: a signer as the usual samples write it — the full S3 client created at
 * module scope, `getSignedUrl` + `PutObjectCommand` per request. Bundled with the same esbuild flags as
 * the real signer. Not used anywhere else.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

// Checksums only when required, or the URL pins an empty-body CRC32 and every upload fails.
const s3 = new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const { contentType, size } = JSON.parse(event.body ?? '{}') as { contentType: string; size: number };
  const key = `uploads/${randomUUID()}`;
  const url = await getSignedUrl(s3, new PutObjectCommand({
    Bucket: process.env.DIRECT_UPLOAD_BUCKET,
    Key: key,
    ContentType: contentType,
    ContentLength: size,
    IfNoneMatch: '*',
  }), { expiresIn: 300, signableHeaders: new Set(['content-type', 'content-length', 'if-none-match']) });
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, method: 'PUT', url }) };
};
