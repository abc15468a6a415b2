/**
 * Runs a TypeScript script of bench/ in a Node process of its own (through the project's tsx), with one
 * JSON argument, and parses the JSON line it prints last: for the parts of a figure whose CPU or memory
 * must not be the benchmark process's (load clients, contenders whose peak RSS is reported).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

/** `script` relative to bench/ (e.g. `contenders/lib-storage-upload.ts`). Rejects with its stderr when it fails. */
export async function runTsxScript<T>(script: string, args: unknown): Promise<T> {
  const file = path.join(__dirname, '..', script);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(TSX, [file, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${script} exited ${code}: ${stderr.slice(-2000)}`))));
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T;
}
