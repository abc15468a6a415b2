/**
 * Shared helpers for the local stack's end-to-end tests.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { DeleteMessageCommand, Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import type { LocalStack } from '../../src/local/local-stack';
import type { S3EventNotification } from '../../src/local/s3-events';
import type { CreateUploadRequest, ErrorResponse, PresignedUpload } from '../../src/signer/protocol';

/** Asks the local signer for an upload, as a client would. */
export async function requestUpload(
  stack: LocalStack,
  request: CreateUploadRequest,
  user: string | null = 'alice',
): Promise<{ status: number; body: PresignedUpload & Partial<ErrorResponse> }> {
  const res = await fetch(`${stack.signerUrl}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { [LOCAL_USER_HEADER]: user } : {}) },
    body: JSON.stringify(request),
  });
  return { status: res.status, body: (await res.json()) as PresignedUpload & Partial<ErrorResponse> };
}

/** Signs an upload for `body` and fails the test when the signer refuses. */
export async function signFor(stack: LocalStack, body: Buffer, extra: Partial<CreateUploadRequest> = {}, user = 'alice'): Promise<PresignedUpload> {
  const { status, body: signed } = await requestUpload(stack, { contentType: 'image/png', size: body.length, ...extra }, user);
  if (status !== 200) throw new Error(`signer answered ${status}: ${JSON.stringify(signed)}`);
  return signed;
}

/** Sends the bytes with the presigned request; returns the status and S3's error code (if any). */
export async function putSigned(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; code: string | undefined; text: string }> {
  const res = await fetch(url, { method: 'PUT', headers, body });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text };
}

/** Base64 MD5, as `Content-MD5` carries it. */
export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64');
}

/**
 * Receives and deletes every message on a queue. Call `stack.flush()` first: after it, an empty
 * receive means an empty queue (the stand-in is in memory).
 */
export async function drain(stack: LocalStack, queueUrl: string = stack.queueUrl): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    if (Messages.length === 0) return all;
    for (const m of Messages) {
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    all.push(...Messages);
  }
}

/** The S3 event records in messages (test events have none). */
export function recordsOf(messages: readonly Message[]): S3EventNotification['Records'][number][] {
  return messages.flatMap((m) => (JSON.parse(m.Body ?? '{}') as Partial<S3EventNotification>).Records ?? []);
}

/** A valid PNG of `width`×`height` pixels in one colour (no image library needed). */
export function makePng(width: number, height: number, rgb: [number, number, number] = [37, 99, 235]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/* eslint-disable no-bitwise -- CRC-32 is bit arithmetic */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/* eslint-enable no-bitwise */
