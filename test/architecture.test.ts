/**
 * Imports flow one way: the L3 imports the parts, the parts import shared helpers, nothing imports the
 * L3 (but the entry point), and no module imports itself back through others.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Module → the src modules it imports (relative imports, resolved to files). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map(([, spec]) => {
      const base = path.resolve(path.dirname(file), spec);
      return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => graph.has(candidate) || sourceFiles(SRC).includes(candidate))!;
    });
    graph.set(file, targets);
  }
  return graph;
}

const rel = (file: string) => path.relative(SRC, file);

test('no module imports the L3 except the entry point', () => {
  const l3 = path.join(SRC, 'direct-upload-bucket.ts');
  const importers = [...importGraph()].filter(([, targets]) => targets.includes(l3)).map(([file]) => rel(file));
  expect(importers).toEqual(['index.ts']);
});

test('the parts import neither each other nor the L3', () => {
  const parts = ['signer/upload-signer.ts', 'verifier/upload-verifier.ts', 'delivery/upload-delivery.ts', 'direct-upload-bucket.ts'].map((p) => path.join(SRC, p));
  const graph = importGraph();
  for (const part of parts.slice(0, 3)) {
    expect({ part: rel(part), imports: graph.get(part)!.filter((t) => parts.includes(t)).map(rel) }).toEqual({ part: rel(part), imports: [] });
  }
});

/** The construct side (what this test guards); the runtime modules have their own owners. */
const CONSTRUCT_MODULE = /^(direct-upload-bucket|upload-rules|index|delivery\/.*|private\/.*|signer\/upload-signer|verifier\/upload-verifier)\.ts$/;

test('no import cycle through a construct module', () => {
  const graph = importGraph();
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      const cycle = [...trail.slice(trail.indexOf(file)), file].map(rel);
      if (cycle.some((m) => CONSTRUCT_MODULE.test(m))) cycles.push(cycle.join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  expect(cycles).toEqual([]);
});
