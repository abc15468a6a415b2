/**
 * The README's browser and Uppy examples, verbatim between `[readme:<name>]` and `[/readme]` (test/readme.test.ts
 * holds each README block to its region, and the block's `import` lines to this file's imports);
 * test/client/readme-browser.test.ts bundles this file and runs every example in Chromium against the local stack.
 * The examples' free variables (`file`, `signerUrl`, `idToken`, ...) are the functions' parameters.
 */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { prepareImage, uploadFile, UploadError, UploadFileOptions, uppySigner } from '../../src/client';

interface Bar { set(fraction: number): void }

/** README "From the browser": the signer protocol by hand. */
export async function rawProtocol(file: File, signerUrl: string, idToken: string) {
  // [readme:browser-fetch]
  const res = await fetch(`${signerUrl}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'authorization': `Bearer ${idToken}` },
    body: JSON.stringify({ contentType: file.type, size: file.size, filename: file.name }),
  });
  const upload = await res.json();
  if (!res.ok) throw new Error(`${upload.error.code}: ${upload.error.message}`);
  await fetch(upload.url, { method: upload.method, headers: upload.headers, body: file }); // S3 enforces type + size
  // upload.publicUrl is where the CDN serves it
  // [/readme]
  return upload.key as string;
}

/** README "With the typed client": the five-line version. */
export async function fiveLines(file: File, signerUrl: string, idToken: string) {
  // [readme:client]
  const { key, publicUrl } = await uploadFile(file, {
    signerUrl,
    getAuthHeaders: () => ({ authorization: `Bearer ${idToken}` }),
  });
  // [/readme]
  return { key, publicUrl };
}

/** README: progress, abort and resume. */
export async function withProgress(file: File, signerUrl: string, getAuthHeaders: UploadFileOptions['getAuthHeaders'], bar: Bar, controller: AbortController) {
  // [readme:client-progress]
  const options: UploadFileOptions = {
    signerUrl,
    getAuthHeaders,
    onProgress: ({ uploadedBytes, totalBytes }) => bar.set(uploadedBytes / totalBytes),
    signal: controller.signal, // concurrency?: 4, retries?: 3
  };
  let result;
  try {
    result = await uploadFile(file, options);
  } catch (err) {
    // S3 holds the parts sent so far: continue with those (err.code says why it stopped)
    if (!(err instanceof UploadError && err.resume)) throw err;
    result = await uploadFile(file, { ...options, resume: err.resume });
  }
  // [/readme]
  return result;
}

/** README: waitUntilVerified. */
export async function untilVerified(file: File, signerUrl: string, getAuthHeaders: UploadFileOptions['getAuthHeaders'], show: (message: string) => void) {
  // [readme:client-verified]
  try {
    await uploadFile(file, { signerUrl, getAuthHeaders, waitUntilVerified: true, timeout: 30_000 });
  } catch (err) {
    if (err instanceof UploadError && err.code === 'UPLOAD_REJECTED') show(err.message); // "CONTENT_MISMATCH: …"
  }
  // [/readme]
}

/** README: checksum. */
export async function withChecksum(file: File, signerUrl: string, getAuthHeaders: UploadFileOptions['getAuthHeaders'], multipartThreshold: number) {
  // [readme:client-checksum]
  const { key } = await uploadFile(file, {
    signerUrl,
    getAuthHeaders,
    checksum: true, // SHA-256 of the file (one PUT) or of each part, signed: S3 refuses corrupted bytes
    multipartThreshold, // the construct's: above it, parts (default 100 MiB)
  });
  // [/readme]
  return key;
}

/** README "Preparing images on the device". */
export async function withPrepare(input: HTMLInputElement, signerUrl: string, getAuthHeaders: UploadFileOptions['getAuthHeaders']) {
  // [readme:client-prepare]
  const { key } = await uploadFile(input.files![0], {
    signerUrl,
    getAuthHeaders,
    prepare: { maxWidth: 2048, maxHeight: 2048, type: 'image/webp', quality: 0.85 },
  });
  // [/readme]
  return key;
}

/** README "With Uppy 6": the adapter. */
export function uppyWithSigner(signerUrl: string, idToken: string) {
  // [readme:uppy]
  const uppy = new Uppy().use(AwsS3, uppySigner({
    signerUrl,
    getAuthHeaders: () => ({ authorization: `Bearer ${idToken}` }),
    multipartThreshold: 100 * 2 ** 20, // match the construct's multipartThreshold (and partSize: multipartPartSize)
  }));
  // [/readme]
  return uppy;
}

/** README "With Uppy 6": a hand-written signRequest. */
export function uppySignRequest(signerUrl: string, idToken: string) {
  return {
    // [readme:uppy-sign-request]
    signRequest: async (request: unknown) => {
      const res = await fetch(`${signerUrl}/uppy/sign`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'authorization': `Bearer ${idToken}` },
        body: JSON.stringify(request),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error?.message ?? body.message ?? `signer answered ${res.status}`);
      return body;
    },
    // [/readme]
  };
}

/** README: `prepareImage` in an Uppy preprocessor. */
export function uppyPrepare(uppy: Uppy) {
  // [readme:uppy-prepare]
  uppy.addPreProcessor(async (fileIDs) => {
    for (const id of fileIDs) {
      const file = uppy.getFile(id);
      if (!file.type?.startsWith('image/')) continue;
      const prepared = await prepareImage(file.data, { maxWidth: 2048, maxHeight: 2048, type: 'image/webp' });
      uppy.setFileState(id, {
        data: prepared,
        size: prepared.size,
        type: prepared.type,
        name: prepared.name,
        extension: 'webp',
        meta: { ...file.meta, name: prepared.name, type: prepared.type },
      });
    }
  });
  // [/readme]
}
