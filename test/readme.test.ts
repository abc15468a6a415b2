import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The README's examples in other languages, each marked with the file a language test runs. */
const blocks = [...readme.matchAll(/<!-- readme-code: (\S+) (\w+)[^>]*-->\n```\w+\n([\s\S]*?)\n```/g)]
  .map(([, file, lang, code]) => ({ file, lang, code }));

/** The part of a source file between `[readme:<lang>]` and `[/readme]` comment lines. */
function region(file: string, lang: string): string {
  const text = readFileSync(path.join(root, file), 'utf8');
  const match = new RegExp(`^(?:#|//) \\[readme:${lang}\\]\\n([\\s\\S]*?)\\n(?:#|//) \\[/readme\\]$`, 'm').exec(text);
  if (!match) throw new Error(`${file} has no [readme:${lang}] ... [/readme] region`);
  return match[1];
}

test('the README shows a Python and a Java example', () => {
  expect(blocks.map((b) => b.lang)).toEqual(['python', 'java']);
});

test.each(blocks.map((b) => [b.lang, b] as const))('the README %s example is the code its language test runs', (_lang, block) => {
  expect(block.code).toBe(region(block.file, block.lang));
});
