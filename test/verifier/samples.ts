/**
 * Sample files for the verifier's tests, built here from their format specifications (no binary blobs).
 */
import { makePng } from '../local/helpers';

export { makePng };

function segment(marker: number, payload: number[]): number[] {
  const length = payload.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...payload]; // eslint-disable-line no-bitwise
}

/**
 * A baseline JPEG: one 8×8 grey block (SOI, JFIF APP0, DQT, SOF0, DHT ×2, SOS, one entropy-coded byte, EOI).
 * The Huffman tables have one code each ("0": DC difference category 0, AC end-of-block), so the block
 * is coded as the bits 00, padded with ones: 0x3F. A decoder renders it as a mid-grey square.
 */
export function makeJpeg(): Buffer {
  const jfif = [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  const dqt = [0x00, ...Array<number>(64).fill(1)];
  const sof0 = [0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00];
  const counts = (n: number) => [n, ...Array<number>(15).fill(0)];
  const dhtDc = [0x00, ...counts(1), 0x00];
  const dhtAc = [0x10, ...counts(1), 0x00];
  const sos = [0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
  return Buffer.from([
    0xff, 0xd8,
    ...segment(0xe0, jfif),
    ...segment(0xdb, dqt),
    ...segment(0xc0, sof0),
    ...segment(0xc4, dhtDc),
    ...segment(0xc4, dhtAc),
    ...segment(0xda, sos),
    0x3f,
    0xff, 0xd9,
  ]);
}

/** A 1×1 GIF89a (header, screen descriptor, 2-colour table, image, LZW data, trailer). */
export function makeGif(): Buffer {
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    Buffer.from([0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00]),
    Buffer.from([0xff, 0xff, 0xff, 0x00, 0x00, 0x00]),
    Buffer.from([0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]),
    Buffer.from([0x3b]),
  ]);
}

function riff(form: string, chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from(form, 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

function riffChunk(id: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A lossless WebP container (RIFF/WEBP/VP8L) for a `width`×`height` image header. */
export function makeWebp(width = 1, height = 1): Buffer {
  const vp8l = Buffer.alloc(10);
  vp8l[0] = 0x2f; // VP8L signature
  // 14 bits width-1, 14 bits height-1, 1 bit alpha, 3 bits version (0), little-endian bit order.
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14); // eslint-disable-line no-bitwise
  vp8l.writeUInt32LE(bits, 1);
  return riff('WEBP', [riffChunk('VP8L', vp8l)]);
}

function box(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + data.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, data]);
}

/** An ISO BMFF file: `ftyp` (major brand + compatible brands), `meta`, `mdat`. */
export function makeIsoBmff(major: string, compatible: string[], payload = 64): Buffer {
  const ftyp = box('ftyp', Buffer.concat([Buffer.from(major, 'latin1'), Buffer.alloc(4), ...compatible.map((b) => Buffer.from(b, 'latin1'))]));
  return Buffer.concat([ftyp, box('meta', Buffer.alloc(24)), box('mdat', Buffer.alloc(payload, 0x42))]);
}

/** An AVIF file structure (`ftyp` avif/mif1/miaf). */
export function makeAvif(payload = 64): Buffer {
  return makeIsoBmff('avif', ['avif', 'mif1', 'miaf'], payload);
}

/** A minimal PDF with an `%%EOF` marker. */
export function makePdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
}

/** A ZIP archive with no entries (just the end of central directory record). */
export function makeZip(): Buffer {
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  return eocd;
}

export const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n', 'utf8');
export const SVG = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>\n', 'utf8');
