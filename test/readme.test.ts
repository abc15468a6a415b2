import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/**
 * The README's examples that a test runs, each marked `<!-- readme-code: <file> <name> ... -->` with the file
 * that holds it between `[readme:<name>]` and `[/readme]` comment lines.
 */
const blocks = [...readme.matchAll(/<!-- readme-code: (\S+) ([\w-]+)[^>]*-->\n```\w+\n([\s\S]*?)\n```/g)]
  .map(([, file, name, code]) => ({ file, name, code }));

/** The part of a source file between `[readme:<name>]` and `[/readme]` comment lines, dedented to the markers. */
function region(file: string, name: string): string {
  const text = readFileSync(path.join(root, file), 'utf8');
  const match = new RegExp(`^([ \\t]*)(?:#|//) \\[readme:${name}\\]\\n([\\s\\S]*?)\\n\\1(?:#|//) \\[/readme\\]$`, 'm').exec(text);
  if (!match) throw new Error(`${file} has no [readme:${name}] ... [/readme] region`);
  const indent = match[1];
  return match[2].split('\n').map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line)).join('\n');
}

/** A TypeScript block's leading `import ... from '<module>';` lines, and the code after them. */
function splitImports(code: string): { imports: Array<{ names: string[]; from: string }>; body: string } {
  const imports: Array<{ names: string[]; from: string }> = [];
  const lines = code.split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^import (?:(\w+)|\{ ([^}]+) \}) from '([^']+)';$/.exec(lines[i]);
    if (!m) break;
    imports.push({ names: m[1] ? [m[1]] : m[2].split(',').map((n) => n.trim()), from: m[3] });
  }
  while (lines[i] === '') i++;
  return { imports, body: lines.slice(i).join('\n') };
}

/** What a test file imports for a README import: the package's entry points are the source folders. */
const SOURCE_OF: Record<string, string> = {
  'cdk-direct-upload/client': '../../src/client',
  'cdk-direct-upload/local': '../../src/local/local-stack',
};

test('the README shows a Python and a Java example, and its browser, Uppy and local-stack examples are tested', () => {
  expect(blocks.map((b) => b.name)).toEqual([
    'browser-fetch', 'uppy', 'uppy-sign-request', 'client', 'client-progress', 'client-verified', 'client-checksum',
    'client-prepare', 'uppy-prepare', 'local-stack', 'python', 'java',
  ]);
});

test.each(blocks.map((b) => [b.name, b] as const))('the README\'s %s example is the code its test runs', (_name, block) => {
  const { imports, body } = splitImports(block.code);
  expect(body).toBe(region(block.file, block.name));
  const source = readFileSync(path.join(root, block.file), 'utf8');
  for (const { names, from } of imports) {
    const module = SOURCE_OF[from] ?? from;
    const imported = new RegExp(`^import (?:(\\w+)|\\{ ([^}]+) \\}) from '${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}';$`, 'm').exec(source);
    expect({ from, names: imported ? (imported[1] ? [imported[1]] : imported[2].split(',').map((n) => n.trim())) : [] })
      .toEqual({ from, names: expect.arrayContaining(names) });
  }
});
