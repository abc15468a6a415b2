/**
 * Content detection from the bytes themselves: magic numbers for binary formats, markup sniffing
 * for active content (HTML, SVG, XML, script), and end-of-file checks that catch truncated files.
 *
 * Pure: no AWS SDK, no I/O of its own. Reading beyond the first bytes goes through a {@link RangeReader}
 * the caller provides (a ranged GET in the Lambda, a Buffer in unit tests).
 */

/** How many bytes of the object the verifier reads first (one ranged GET). */
export const HEAD_BYTES = 4096;

/** Reads the inclusive byte range `[start, end]` of the object. */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

/** A format recognised from its leading bytes. */
export interface DetectedFormat {
  /** The content type the bytes are, e.g. `image/png`. */
  readonly contentType: string;
  /** True when a browser would run script in it (HTML, SVG, XML, JavaScript). */
  readonly active: boolean;
}

/** Content types whose leading bytes this module recognises (and therefore must match). */
export const SIGNATURE_CONTENT_TYPES: readonly string[] = Object.freeze([
  'image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif', 'image/bmp',
  'image/tiff', 'application/pdf', 'application/zip', 'application/gzip', 'video/mp4', 'video/quicktime',
  'video/webm', 'video/x-matroska', 'audio/mpeg', 'audio/ogg', 'audio/wav', 'audio/mp4',
]);

/** Types that are the same format under two names (HEIF's brands). */
const EQUIVALENT: Readonly<Record<string, string>> = Object.freeze({ 'image/heic': 'image/heif' });

/** True when content of type `detected` may be declared as `declared`. */
export function sameFormat(declared: string, detected: string): boolean {
  return (EQUIVALENT[declared] ?? declared) === (EQUIVALENT[detected] ?? detected);
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, start + length);
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function u32be(bytes: Uint8Array, offset: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(offset);
}

function u32le(bytes: Uint8Array, offset: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(offset);
}

// ISO base media file format (AVIF, HEIF, MP4, QuickTime): brands of the leading `ftyp` box.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);
const MP4_BRANDS = new Set(['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'dash', 'mmp4', 'M4V ', 'f4v ', 'MSNV']);

function isoBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 4) !== 'ftyp') return undefined;
  const size = u32be(bytes, 0);
  if (size < 16 || size > 4096) return undefined;
  const brands = [ascii(bytes, 8, 4)];
  for (let o = 16; o + 4 <= Math.min(size, bytes.length); o += 4) brands.push(ascii(bytes, o, 4));
  return brands;
}

function isoType(brands: string[]): string | undefined {
  const major = brands[0];
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'image/avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'image/heic';
  if (brands.some((b) => HEIF_BRANDS.has(b))) return 'image/heif';
  if (major === 'qt  ') return 'video/quicktime';
  if (major === 'M4A ') return 'audio/mp4';
  if (brands.some((b) => MP4_BRANDS.has(b))) return 'video/mp4';
  return undefined;
}

/**
 * The binary format of `head` (the object's first bytes), or undefined when no known signature matches.
 * Executables are recognised too, so that they cannot pass as anything else.
 */
export function detectBinary(head: Uint8Array): string | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) && ascii(head, 12, 4) === 'IHDR') return 'image/png';
  const six = ascii(head, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return 'image/gif';
  if (ascii(head, 0, 4) === 'RIFF' && head.length >= 12) {
    const form = ascii(head, 8, 4);
    if (form === 'WEBP' && ['VP8 ', 'VP8L', 'VP8X'].includes(ascii(head, 12, 4))) return 'image/webp';
    if (form === 'WAVE') return 'audio/wav';
  }
  const brands = isoBrands(head);
  if (brands) return isoType(brands);
  if (ascii(head, 0, 2) === 'BM' && head.length >= 18 && [12, 40, 52, 56, 108, 124].includes(u32le(head, 14))) return 'image/bmp';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (ascii(head, 0, 5) === '%PDF-') return 'application/pdf';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'application/zip';
  if (startsWith(head, [0x1f, 0x8b, 0x08])) return 'application/gzip';
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return ascii(head, 0, Math.min(head.length, 64)).includes('webm') ? 'video/webm' : 'video/x-matroska';
  if (ascii(head, 0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(head, 0, 3) === 'ID3' || (head.length >= 2 && head[0] === 0xff && [0xfb, 0xf3, 0xf2].includes(head[1]))) return 'audio/mpeg';
  if (ascii(head, 0, 2) === 'MZ') return 'application/x-msdownload';
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'application/x-executable';
  if (startsWith(head, [0x00, 0x61, 0x73, 0x6d])) return 'application/wasm';
  return undefined;
}

/** Decodes the head as text (UTF-8, or UTF-16 with a byte order mark), BOM removed. */
function headText(head: Uint8Array): string {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.toString('utf16le', 2);
  if (buf[0] === 0xfe && buf[1] === 0xff) {
    const swapped = Buffer.from(buf.subarray(2, 2 + ((buf.length - 2) & ~1))); // eslint-disable-line no-bitwise
    return swapped.swap16().toString('utf16le');
  }
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// The WHATWG MIME sniffing standard's HTML patterns: a browser renders such bytes as HTML when it sniffs.
const HTML_TAGS = ['!doctype html', 'html', 'head', 'script', 'iframe', 'h1', 'div', 'font', 'table', 'a', 'style', 'title', 'b', 'body', 'br', 'p', '!--'];
// Markup that runs script wherever it appears in a text file a browser might render.
const EMBEDDED_ACTIVE = /<(script|svg|html|iframe|object|embed|foreignobject)[\s/>]|javascript:/i;

/**
 * Active content (a browser would run script in it), from the leading text: HTML (the WHATWG sniffing
 * patterns), SVG, other XML, or a JavaScript-looking text. Returns the content type, or undefined.
 */
export function detectActive(head: Uint8Array): string | undefined {
  const text = headText(head).replace(/^[\s\u0000]+/, '').toLowerCase(); // eslint-disable-line no-control-regex
  if (text.startsWith('<?xml') || text.startsWith('<svg')) {
    return /<svg[\s>]/.test(text) ? 'image/svg+xml' : /<html[\s>]/.test(text) ? 'application/xhtml+xml' : 'application/xml';
  }
  for (const tag of HTML_TAGS) {
    if (!text.startsWith(`<${tag}`)) continue;
    const next = text.charAt(tag.length + 1);
    if (tag === '!--' || next === '' || next === ' ' || next === '>' || next === '\t' || next === '\n' || next === '\r' || next === '/') {
      return 'text/html';
    }
  }
  if (/^<[a-z!?]/.test(text) && EMBEDDED_ACTIVE.test(text)) return 'text/html';
  return undefined;
}

/** True when a text-like head contains markup that would run script if rendered (anywhere in the head). */
export function containsActiveMarkup(head: Uint8Array): boolean {
  return EMBEDDED_ACTIVE.test(headText(head));
}

/** The format of the object's first bytes: a binary signature, else active text, else undefined. */
export function detectFormat(head: Uint8Array): DetectedFormat | undefined {
  const binary = detectBinary(head);
  if (binary) return { contentType: binary, active: false };
  const active = detectActive(head);
  return active ? { contentType: active, active: true } : undefined;
}

/** The result of an end-of-file check. */
export type Completeness = 'complete' | 'truncated' | 'unchecked';

const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/** Trailing padding some writers add after the end marker (zeros, line ends). */
function trimPadding(tail: Uint8Array): Uint8Array {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 0x00 || tail[end - 1] === 0x0a || tail[end - 1] === 0x0d)) end--;
  return tail.subarray(0, end);
}

async function tailOf(size: number, length: number, head: Uint8Array, read: RangeReader): Promise<Uint8Array> {
  const start = Math.max(0, size - length);
  if (size <= head.length) return head.subarray(start, size);
  return read(start, size - 1);
}

/** Walks the top-level boxes of an ISO BMFF file: their sizes must add up to the object's size. */
async function isoComplete(size: number, head: Uint8Array, read: RangeReader): Promise<Completeness> {
  let offset = 0;
  for (let boxes = 0; boxes < 64; boxes++) {
    if (offset === size) return 'complete';
    if (offset + 8 > size) return 'truncated';
    const header = offset + 16 <= head.length ? head.subarray(offset, offset + 16) : await read(offset, Math.min(size, offset + 16) - 1);
    let boxSize = u32be(header, 0);
    if (boxSize === 0) return 'complete'; // "extends to the end of the file"
    if (boxSize === 1) {
      if (header.length < 16) return 'truncated';
      const large = Buffer.from(header.buffer, header.byteOffset, header.byteLength).readBigUInt64BE(8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) return 'truncated';
      boxSize = Number(large);
    }
    if (boxSize < 8) return 'truncated';
    offset += boxSize;
    if (offset > size) return 'truncated';
  }
  return 'unchecked'; // fragmented media with many boxes: the leading ones were consistent
}

/**
 * Checks that an object of the detected type ends as that format ends: PNG `IEND`, JPEG `EOI`,
 * GIF trailer, RIFF (WebP, WAV) and BMP sizes, ISO BMFF box sizes (AVIF, HEIF, MP4), PDF `%%EOF`,
 * ZIP end of central directory. Reads at most a few small ranges past the head.
 */
export async function checkComplete(contentType: string, size: number, head: Uint8Array, read: RangeReader): Promise<Completeness> {
  switch (contentType) {
    case 'image/png': {
      const t = await tailOf(size, PNG_IEND.length, head, read);
      return startsWith(t, PNG_IEND) ? 'complete' : 'truncated';
    }
    case 'image/jpeg': {
      const t = trimPadding(await tailOf(size, 64, head, read));
      return t.length >= 2 && t[t.length - 2] === 0xff && t[t.length - 1] === 0xd9 ? 'complete' : 'truncated';
    }
    case 'image/gif': {
      const t = trimPadding(await tailOf(size, 16, head, read));
      return t.length > 0 && t[t.length - 1] === 0x3b ? 'complete' : 'truncated';
    }
    case 'image/webp':
    case 'audio/wav':
      return head.length >= 8 && u32le(head, 4) + 8 === size ? 'complete' : 'truncated';
    case 'image/bmp': {
      const declared = u32le(head, 2);
      if (declared === 0) return 'unchecked';
      return declared === size ? 'complete' : 'truncated';
    }
    case 'image/avif':
    case 'image/heic':
    case 'image/heif':
    case 'video/mp4':
    case 'video/quicktime':
    case 'audio/mp4':
      return isoComplete(size, head, read);
    case 'application/pdf': {
      const t = await tailOf(size, 1024, head, read);
      return Buffer.from(t.buffer, t.byteOffset, t.byteLength).includes('%%EOF') ? 'complete' : 'truncated';
    }
    case 'application/zip': {
      // The end of central directory record: 22 bytes + its comment, ending exactly at the end of the file.
      const t = Buffer.from((await tailOf(size, 65_557, head, read)).slice());
      const eocd = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
      for (let p = t.lastIndexOf(eocd); p >= 0; p = p > 0 ? t.lastIndexOf(eocd, p - 1) : -1) {
        if (p + 22 <= t.length && p + 22 + t.readUInt16LE(p + 20) === t.length) return 'complete';
      }
      return 'truncated';
    }
    default:
      return 'unchecked';
  }
}
