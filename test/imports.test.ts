/**
 * The module graph of the compiled src/ has no runtime import cycle (static or dynamic imports;
 * type-only imports are erased by tsc and do not count), so data flows one way:
 * config → model → trainer → sink → runs/, sweep → runs/, results ← runs/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src'); // dist/src

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a compiled module: `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function importsOf(file: string, code: string): string[] {
  const specs = [
    ...code.matchAll(
      /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

/** One cycle as a list of modules (first repeated at the end), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

test('the cycle finder finds a cycle and accepts a tree', () => {
  assert.deepEqual(
    findCycle(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
      ]),
    ),
    ['a', 'b', 'c', 'a'],
  );
  assert.equal(
    findCycle(
      new Map([
        ['a', ['b', 'c']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    null,
  );
  assert.deepEqual(
    importsOf(
      '/x/a.js',
      "import { b } from './b.js';\nexport { c } from '../c.js';\nconst d = await import('./d.js');\nimport 'node:fs';",
    ),
    ['/x/b.js', '/c.js', '/x/d.js'],
  );
});

test('no runtime import cycle among the modules of src/', () => {
  const graph = new Map(modules(SRC).map((file) => [file, importsOf(file, readFileSync(file, 'utf8'))]));
  assert.ok(graph.size > 40, `found the compiled modules (${graph.size})`);
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle: ${cycle?.map((f) => relative(SRC, f)).join(' → ')}`);
});
