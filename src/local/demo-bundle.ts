/**
 * The demo page's script: examples/web/demo.ts bundled with the typed client (src/client) by esbuild, once
 * per demo server start, so the page runs the same upload code an application would.
 */
import * as path from 'node:path';
import { build } from 'esbuild';

/** The page's entry in this repository. */
export const DEMO_SCRIPT_ENTRY = path.join(__dirname, '..', '..', 'examples', 'web', 'demo.ts');

/** Bundles `entry` into one browser script (an IIFE). */
export async function bundleDemoScript(entry: string = DEMO_SCRIPT_ENTRY): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}
