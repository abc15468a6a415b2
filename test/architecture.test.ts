/**
 * Imports flow one way: the L3 imports the parts, the parts import the contract and shared helpers,
 * nothing imports the L3 (but the entry point), no module imports itself back through others, the
 * contract imports nothing but itself, and no module the runtime loads is construct code.
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

/** Every import cycle in the graph, each as `a → b → … → a`. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

test('no import cycle anywhere in src/, runtime included', () => {
  expect(cycles(importGraph())).toEqual([]);
});

test('the cycle check finds a cycle', () => {
  const [a, b, c] = ['a.ts', 'b.ts', 'c.ts'].map((f) => path.join(SRC, f));
  expect(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual(['a.ts → b.ts → c.ts → a.ts']);
});

/** Package imports of a module (`aws-cdk-lib`, `@aws-sdk/client-s3`, `node:crypto`, …). */
function packageImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '([^.][^']*)'|require\('([^.][^']*)'\)/g)].map(([, a, b]) => a ?? b);
}

test('the contract imports no package and no module outside src/contract/', () => {
  const graph = importGraph();
  const contract = [...graph.keys()].filter((file) => rel(file).startsWith('contract/'));
  expect(contract.length).toBeGreaterThan(5);
  for (const file of contract) {
    expect({ file: rel(file), packages: packageImports(file), modules: graph.get(file)!.map(rel).filter((m) => !m.startsWith('contract/')) })
      .toEqual({ file: rel(file), packages: [], modules: [] });
  }
});

/** Files that are construct code: they import aws-cdk-lib or constructs. */
const isConstructCode = (file: string) => packageImports(file).some((p) => p === 'constructs' || p.startsWith('aws-cdk-lib'));

test('no module the runtime loads is construct code (handlers, local stack, client)', () => {
  const graph = importGraph();
  const entries = ['signer/signer.lambda.ts', 'verifier/verifier.lambda.ts', 'local/index.ts', 'client/index.ts', 'contract/index.ts']
    .map((p) => path.join(SRC, p));
  const reached = new Set<string>();
  const walk = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const target of graph.get(file) ?? []) walk(target);
  };
  entries.forEach(walk);
  expect([...reached].filter(isConstructCode).map(rel)).toEqual([]);
  // and the construct side really is detected
  expect(isConstructCode(path.join(SRC, 'signer/upload-signer.ts'))).toBe(true);
});
