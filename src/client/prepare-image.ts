/**
 * Client-side image preparation: the user's device scales and re-encodes, the servers never do.
 * `createImageBitmap` decodes (EXIF orientation applied), a canvas scales to fit the box, and the
 * encoder writes a fresh file from pixels only, so the output carries no EXIF, XMP or GPS data.
 * Browsers only (Node has no image decoder): globals are looked up per call.
 */
import { UploadError } from './errors';

/** Options of {@link prepareImage}. */
export interface PrepareImageOptions {
  /** Widest output, in pixels, after the EXIF orientation is applied. Never upscales. @default 2048 */
  readonly maxWidth?: number;
  /** Tallest output, in pixels, after the EXIF orientation is applied. Never upscales. @default 2048 */
  readonly maxHeight?: number;
  /**
   * Output type: `image/jpeg`, `image/webp` or `image/png`.
   * @default - the input's type when it is one of these, else `image/jpeg`
   */
  readonly type?: string;
  /** Encoder quality for JPEG and WebP, from 0 to 1. @default 0.85 */
  readonly quality?: number;
  /**
   * Re-encode an image that already fits and has the output type, so that none of its metadata is left.
   * Without it such an image is returned as it is, metadata included.
   * @default false
   */
  readonly stripMetadata?: boolean;
}

/** Types the canvas encoders of current browsers write. */
export const ENCODABLE_IMAGE_TYPES: readonly string[] = Object.freeze(['image/jpeg', 'image/webp', 'image/png']);

const EXTENSIONS: Readonly<Record<string, string>> = { 'image/jpeg': '.jpg', 'image/webp': '.webp', 'image/png': '.png' };

/**
 * Scales `file` to fit `maxWidth`×`maxHeight` (orientation applied, never upscaled) and re-encodes it
 * as `type`; the result has no metadata. An image that needs neither is returned unchanged unless
 * `stripMetadata` is set. Refuses with an {@link UploadError}: `IMAGE_NOT_DECODABLE` for what the
 * browser cannot decode, `IMAGE_NOT_ENCODABLE` for a type its encoder does not write,
 * `UNSUPPORTED_RUNTIME` outside a browser, `INVALID_REQUEST` for bad options.
 */
export async function prepareImage(file: Blob, options: PrepareImageOptions = {}): Promise<File> {
  const runtime = globalThis as unknown as ImageRuntime;
  if (typeof runtime.createImageBitmap !== 'function') {
    throw new UploadError('prepareImage needs a browser (createImageBitmap); in Node, upload the file as it is or process it with an image library first.', 'UNSUPPORTED_RUNTIME');
  }
  const { maxWidth, maxHeight, type, quality } = checkOptions(file, options);
  const given = (file as { name?: unknown }).name;
  const name = typeof given === 'string' && given ? given : 'image';

  let bitmap: ImageBitmapLike;
  try {
    bitmap = await runtime.createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (err) {
    throw new UploadError(
      `${name} (${file.type || 'no type'}) cannot be decoded as an image by this browser: ${err instanceof Error ? err.message : String(err)}. Upload it as it is, or convert it first.`,
      'IMAGE_NOT_DECODABLE',
    );
  }
  try {
    const scale = Math.min(1, maxWidth / bitmap.width, maxHeight / bitmap.height);
    if (scale === 1 && type === file.type && !options.stripMetadata) return asFile(file, name);
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const encoded = await encode(runtime, bitmap, width, height, type, quality);
    if (encoded.type !== type) {
      throw new UploadError(`This browser cannot encode ${type} (it wrote ${encoded.type || 'nothing'}); ask for image/jpeg.`, 'IMAGE_NOT_ENCODABLE');
    }
    return new File([encoded], rename(name, type), { type, lastModified: Date.now() });
  } finally {
    bitmap.close();
  }
}

function checkOptions(file: Blob, options: PrepareImageOptions) {
  const maxWidth = options.maxWidth ?? 2048;
  const maxHeight = options.maxHeight ?? 2048;
  const type = options.type ?? (ENCODABLE_IMAGE_TYPES.includes(file.type) ? file.type : 'image/jpeg');
  const quality = options.quality ?? 0.85;
  const problems: string[] = [];
  if (!Number.isSafeInteger(maxWidth) || maxWidth < 1) problems.push('maxWidth must be a positive integer');
  if (!Number.isSafeInteger(maxHeight) || maxHeight < 1) problems.push('maxHeight must be a positive integer');
  if (!ENCODABLE_IMAGE_TYPES.includes(type)) problems.push(`type must be one of ${ENCODABLE_IMAGE_TYPES.join(', ')}`);
  if (!(quality >= 0 && quality <= 1)) problems.push('quality must be between 0 and 1');
  if (problems.length > 0) throw new UploadError(`prepareImage: ${problems.join('; ')}.`, 'INVALID_REQUEST');
  return { maxWidth, maxHeight, type, quality };
}

async function encode(runtime: ImageRuntime, bitmap: ImageBitmapLike, width: number, height: number, type: string, quality: number): Promise<Blob> {
  if (typeof runtime.OffscreenCanvas === 'function') {
    const canvas = new runtime.OffscreenCanvas(width, height);
    draw(canvas.getContext('2d'), bitmap, width, height, type);
    return canvas.convertToBlob({ type, quality });
  }
  const canvas = runtime.document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext('2d'), bitmap, width, height, type);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => {
    if (blob) resolve(blob);
    else reject(new UploadError(`This browser could not encode a ${width}×${height} ${type}.`, 'IMAGE_NOT_ENCODABLE'));
  }, type, quality));
}

function draw(context: Context2dLike | null, bitmap: ImageBitmapLike, width: number, height: number, type: string): void {
  if (!context) throw new UploadError('This browser has no 2D canvas to scale the image with.', 'UNSUPPORTED_RUNTIME');
  if (type === 'image/jpeg') {
    // JPEG has no alpha: transparent pixels would turn black.
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
  }
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, width, height);
}

function asFile(blob: Blob, name: string): File {
  return blob instanceof File ? blob : new File([blob], name, { type: blob.type });
}

function rename(name: string, type: string): string {
  const base = name.replace(/\.[A-Za-z0-9]{1,5}$/, '') || 'image';
  return `${base}${EXTENSIONS[type]}`;
}

/** The parts of the DOM used here (the package compiles without the DOM library). */
interface ImageBitmapLike {
  readonly width: number;
  readonly height: number;
  close(): void;
}

interface Context2dLike {
  fillStyle: string;
  imageSmoothingEnabled: boolean;
  imageSmoothingQuality: string;
  fillRect(x: number, y: number, width: number, height: number): void;
  drawImage(image: ImageBitmapLike, x: number, y: number, width: number, height: number): void;
}

interface ImageRuntime {
  createImageBitmap?: (image: Blob, options: { imageOrientation: 'from-image' }) => Promise<ImageBitmapLike>;
  OffscreenCanvas?: new (width: number, height: number) => {
    getContext(kind: '2d'): Context2dLike | null;
    convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
  };
  document: {
    createElement(tag: 'canvas'): {
      width: number;
      height: number;
      getContext(kind: '2d'): Context2dLike | null;
      toBlob(callback: (blob: Blob | null) => void, type: string, quality: number): void;
    };
  };
}
