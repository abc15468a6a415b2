/**
 * A diagnostic row of figure 8: the typed client (`uploadFile`) in Node, through the local signer, with
 * a Blob of one 1 MiB Blob repeated: the same client code as in Chromium without the browser, to tell
 * the client's cost from the browser's. Prints one JSON line (see node-upload.ts).
 *
 *   tsx bench/contenders/typed-client-upload.ts '{"signerUrl":…,"user":…,"size":…,"contentType":…,"concurrency":…}'
 */
import { chunk, CHUNK_BYTES, reportUpload } from './node-upload';
import { uploadFile } from '../../src/client';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';

interface Args {
  readonly signerUrl: string;
  readonly user: string;
  readonly size: number;
  readonly contentType: string;
  readonly concurrency: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const one = new Blob([chunk()]);
const parts: Blob[] = [];
for (let left = args.size; left > 0; left -= CHUNK_BYTES) parts.push(left >= CHUNK_BYTES ? one : one.slice(0, left));
reportUpload(async () => {
  const r = await uploadFile(new Blob(parts, { type: args.contentType }), {
    signerUrl: args.signerUrl,
    getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: args.user }),
    concurrency: args.concurrency,
  });
  return r.key;
});
