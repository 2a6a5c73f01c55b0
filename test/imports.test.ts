/**
 * Imports point one way. Files: the module graph of the compiled src/ has no runtime import cycle
 * (static or dynamic imports; type-only imports are erased by tsc and do not count). Folders: every
 * import, type-only ones included, goes to the module's own folder or one before it in FOLDER_ORDER,
 * so data flows config → model → trainer → results and never reaches back.
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

/**
 * The folders of src/, lowest first: a module may import its own folder and folders before its own,
 * never one after it (type-only imports count too: they are how a folder depends on another's
 * design). `.` is src/'s own leaf modules (errors, formatting, file safety, provenance, random).
 * Read bottom-up it is the pipeline: config → backends → data → models → runs (the disk) → train →
 * eval, export, results, analysis → sweep → experiment (orchestration) → bench → cli.
 */
export const FOLDER_ORDER = [
  '.',
  'config',
  'backends',
  'data',
  'models',
  'runs',
  'train',
  'eval',
  'export',
  'results',
  'analysis',
  'sweep',
  'experiment',
  'bench',
  'cli',
];

const TS_SRC = resolve(SRC, '..', '..', 'src'); // the TypeScript sources, for type-only imports too

function tsModules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsModules(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The folder of a module under `root`: its first path segment, or `.` for root-level modules. */
export function folderOf(root: string, file: string): string {
  const parts = relative(root, file).split('/');
  return parts.length === 1 ? '.' : parts[0]!;
}

/**
 * Imports that go to a folder later in `order` (or to one it does not list), as `from → to` lines.
 * Imports of files outside `root` (the bundled tfjs gradients) are not src/'s folders.
 */
export function upwardImports(root: string, edges: [string, string][], order: string[]): string[] {
  const rank = (f: string) => order.indexOf(folderOf(root, f));
  return edges
    .filter(([, to]) => !relative(root, to).startsWith('..'))
    .filter(([from, to]) => rank(from) === -1 || rank(to) === -1 || rank(to) > rank(from))
    .map(([from, to]) => `${relative(root, from)} → ${relative(root, to)}`);
}

test('the folder check refuses an import of a later folder and accepts one of an earlier', () => {
  const edges: [string, string][] = [
    ['/s/train/trainer.ts', '/s/models/index.js'],
    ['/s/runs/recorder.ts', '/s/train/trainer.js'],
    ['/s/errors.ts', '/s/cli/main.js'],
    ['/s/new/thing.ts', '/s/errors.js'],
    ['/s/backends/runtime.ts', '/bundle.mjs'],
  ];
  assert.deepEqual(upwardImports('/s', edges, FOLDER_ORDER), [
    'runs/recorder.ts → train/trainer.js',
    'errors.ts → cli/main.js',
    'new/thing.ts → errors.js',
  ]);
});

test('every folder of src/ imports only folders before it in FOLDER_ORDER (type-only imports too)', () => {
  const files = tsModules(TS_SRC).filter((f) => !f.endsWith('.d.ts'));
  assert.ok(files.length > 40, `found the sources (${files.length})`);
  const folders = new Set(files.map((f) => folderOf(TS_SRC, f)));
  assert.deepEqual(
    [...folders].filter((f) => !FOLDER_ORDER.includes(f)),
    [],
    'a new folder of src/ needs its place in FOLDER_ORDER',
  );
  const edges = files.flatMap((f) => importsOf(f, readFileSync(f, 'utf8')).map((to): [string, string] => [f, to]));
  assert.deepEqual(upwardImports(TS_SRC, edges, FOLDER_ORDER), []);
});
