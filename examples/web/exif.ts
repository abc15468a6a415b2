/**
 * What the demo page shows about an image's metadata: whether a JPEG carries an Exif APP1 segment and,
 * in it, a GPS IFD (tag 0x8825 in IFD0). PNG and WebP: whether an `eXIf` / `EXIF` chunk is present.
 */

/** Exif and GPS presence, and a line for the page. */
export interface ExifSummary {
  readonly exif: boolean;
  readonly gps: boolean;
  readonly text: string;
}

const GPS_IFD_TAG = 0x8825;

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function exifSummary(bytes: Uint8Array): ExifSummary {
  const found = findExif(bytes);
  const exif = found !== undefined;
  const gps = found !== undefined && hasGpsIfd(found);
  return { exif, gps, text: `${exif ? 'Exif' : 'no Exif'}, ${gps ? 'GPS present' : 'no GPS'}` };
}

/** The TIFF header and IFDs inside an Exif block, or undefined. */
function findExif(b: Uint8Array): Uint8Array | undefined {
  if (b[0] === 0xff && b[1] === 0xd8) {
    for (let i = 2; i + 4 <= b.length && b[i] === 0xff;) {
      const marker = b[i + 1];
      if (marker === 0xda || marker === 0xd9) return undefined; // image data: no more metadata segments
      const length = (b[i + 2] << 8) | b[i + 3];
      const body = b.subarray(i + 4, i + 2 + length);
      if (marker === 0xe1 && String.fromCharCode(...body.subarray(0, 6)) === 'Exif\0\0') return body.subarray(6);
      i += 2 + length;
    }
    return undefined;
  }
  // PNG eXIf and WebP EXIF chunks hold the TIFF data directly.
  const text = String.fromCharCode(...b.subarray(0, Math.min(b.length, 1 << 16)));
  const at = Math.max(text.indexOf('eXIf'), text.indexOf('EXIF'));
  return at >= 0 ? b.subarray(at + (text.startsWith('RIFF') ? 8 : 4)) : undefined;
}

function hasGpsIfd(tiff: Uint8Array): boolean {
  if (tiff.length < 8) return false;
  const little = tiff[0] === 0x49;
  const u16 = (o: number) => (little ? tiff[o] | (tiff[o + 1] << 8) : (tiff[o] << 8) | tiff[o + 1]);
  const u32 = (o: number) => (little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return false;
  const count = u16(ifd);
  for (let n = 0; n < count && ifd + 2 + n * 12 + 2 <= tiff.length; n++) {
    if (u16(ifd + 2 + n * 12) === GPS_IFD_TAG) return true;
  }
  return false;
}
