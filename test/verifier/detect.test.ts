import { HTML, SVG, makeAvif, makeGif, makeIsoBmff, makeJpeg, makePdf, makePng, makeWebp, makeZip } from './samples';
import { checkComplete, detectActive, detectFormat, HEAD_BYTES, RangeReader } from '../../src/verifier/detect';

/** A reader over a whole file, counting the ranges asked for. */
function readerOf(file: Buffer): RangeReader & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  const read = (async (start: number, end: number): Promise<Uint8Array> => {
    calls.push([start, end]);
    return file.subarray(start, end + 1);
  }) as unknown as RangeReader & { calls: Array<[number, number]> };
  read.calls = calls;
  return read;
}

async function complete(type: string, file: Buffer) {
  return checkComplete(type, file.length, file.subarray(0, HEAD_BYTES), readerOf(file));
}

describe('detectFormat: magic bytes of generated sample files', () => {
  test.each([
    ['image/png', makePng(4, 3)],
    ['image/jpeg', makeJpeg()],
    ['image/gif', makeGif()],
    ['image/webp', makeWebp(16, 9)],
    ['image/avif', makeAvif()],
    ['image/heic', makeIsoBmff('heic', ['mif1', 'heic'])],
    ['image/heif', makeIsoBmff('mif1', ['mif1'])],
    ['video/mp4', makeIsoBmff('isom', ['isom', 'iso2', 'mp41'])],
    ['video/quicktime', makeIsoBmff('qt  ', ['qt  '])],
    ['application/pdf', makePdf()],
    ['application/zip', makeZip()],
  ])('%s', (type, file) => {
    expect(detectFormat(file)).toEqual({ contentType: type, active: false });
  });

  test('an AVIF whose major brand is mif1 is still AVIF (compatible brand avif)', () => {
    expect(detectFormat(makeIsoBmff('mif1', ['mif1', 'avif']))?.contentType).toBe('image/avif');
  });

  test('executables are recognised, so they cannot pass as another type', () => {
    expect(detectFormat(Buffer.from('MZ\x90\x00\x03', 'latin1'))?.contentType).toBe('application/x-msdownload');
    expect(detectFormat(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]))?.contentType).toBe('application/x-executable');
  });

  test('plain text and random bytes are not a known format', () => {
    expect(detectFormat(Buffer.from('just some words, 1, 2, 3\n'))).toBeUndefined();
    expect(detectFormat(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]))).toBeUndefined();
    expect(detectFormat(Buffer.alloc(0))).toBeUndefined();
  });

  test('a PNG signature without its IHDR chunk is not a PNG', () => {
    expect(detectFormat(makePng(1, 1).subarray(0, 8))).toBeUndefined();
  });
});

describe('detectActive: markup a browser would run', () => {
  test.each([
    ['text/html', HTML],
    ['image/svg+xml', SVG],
    ['image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['text/html', Buffer.from('\n\n   <html><body>hi</body></html>')],
    ['text/html', Buffer.from('<SCRIPT>alert(1)</SCRIPT>')],
    ['text/html', Buffer.from('<!-- comment --><p>x</p>')],
    ['text/html', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<html>')])],
    ['text/html', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<html><script>', 'utf16le')])],
    ['application/xml', Buffer.from('<?xml version="1.0"?><note>x</note>')],
    ['application/xhtml+xml', Buffer.from('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">')],
  ])('%s: %s', (type, bytes) => {
    expect(detectActive(bytes)).toBe(type);
    expect(detectFormat(bytes)).toEqual({ contentType: type, active: true });
  });

  test('text that merely mentions a tag later is not sniffed as HTML', () => {
    expect(detectActive(Buffer.from('name,comment\nalice,"I like <b>bold</b>"\n'))).toBeUndefined();
    expect(detectActive(Buffer.from('<abbreviation> is not a tag a browser sniffs'))).toBeUndefined();
  });
});

describe('checkComplete: the end of the file matches the format', () => {
  test.each([
    ['image/png', makePng(8, 8)],
    ['image/jpeg', makeJpeg()],
    ['image/gif', makeGif()],
    ['image/webp', makeWebp()],
    ['image/avif', makeAvif()],
    ['application/pdf', makePdf()],
    ['application/zip', makeZip()],
  ])('%s: complete when whole, truncated when cut', async (type, file) => {
    expect(await complete(type, file)).toBe('complete');
    expect(await complete(type, file.subarray(0, file.length - 3))).toBe('truncated');
  });

  test('a large PNG is checked with one small ranged read of its tail', async () => {
    const png = makePng(200, 200, [1, 2, 3]);
    const padded = Buffer.concat([png.subarray(0, 33), Buffer.alloc(HEAD_BYTES * 3), png.subarray(33)]);
    const read = readerOf(padded);
    expect(await checkComplete('image/png', padded.length, padded.subarray(0, HEAD_BYTES), read)).toBe('complete');
    expect(read.calls).toEqual([[padded.length - 12, padded.length - 1]]);
  });

  test('a large AVIF is checked by walking its top-level boxes (a few 16-byte reads)', async () => {
    const avif = makeAvif(100_000);
    const read = readerOf(avif);
    expect(await checkComplete('image/avif', avif.length, avif.subarray(0, HEAD_BYTES), read)).toBe('complete');
    expect(read.calls.every(([s, e]) => e - s < 16)).toBe(true);
    const cut = avif.subarray(0, 50_000);
    expect(await checkComplete('image/avif', cut.length, cut.subarray(0, HEAD_BYTES), readerOf(cut))).toBe('truncated');
  });

  test('JPEG and GIF tolerate trailing zero padding after their end marker', async () => {
    expect(await complete('image/jpeg', Buffer.concat([makeJpeg(), Buffer.alloc(8)]))).toBe('complete');
    expect(await complete('image/gif', Buffer.concat([makeGif(), Buffer.alloc(2)]))).toBe('complete');
  });

  test('types without an end marker are not checked', async () => {
    expect(await complete('image/tiff', Buffer.from([0x49, 0x49, 0x2a, 0x00, 1, 2]))).toBe('unchecked');
  });
});
