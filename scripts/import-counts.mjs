#!/usr/bin/env node
// Imports between the folders of a src/ tree: how many relative import statements (static, dynamic
// and type-only, as test/imports.test.ts reads them) go from each folder to each other one, and the
// lines of each folder. For comparing the structure before and after a change:
//   node scripts/import-counts.mjs src
//   git archive <commit> src | tar -x -C /tmp/old && node scripts/import-counts.mjs /tmp/old/src
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
const root = resolve(process.argv[2]);
const walk = (d) =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? walk(join(d, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [join(d, e.name)]
        : [],
  );
const folder = (f) => {
  const p = relative(root, f).split('/');
  return p.length === 1 ? '.' : p[0];
};
const counts = new Map();
const lines = new Map();
for (const f of walk(root)) {
  const code = readFileSync(f, 'utf8');
  lines.set(folder(f), (lines.get(folder(f)) ?? 0) + code.split('\n').length);
  const specs = [
    ...code.matchAll(
      /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ]
    .map((m) => m[1] ?? m[2] ?? m[3])
    .filter((s) => s.startsWith('.'));
  for (const s of specs) {
    const to = resolve(dirname(f), s);
    if (relative(root, to).startsWith('..')) continue;
    const a = folder(f),
      b = folder(to);
    if (a === b) continue;
    const k = `${a} → ${b}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
}
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(`folders: ${[...lines].map(([f, n]) => `${f} ${n}`).join(', ')}`);
console.log(`cross-folder imports: ${total}`);
const byFrom = new Map();
for (const [k, n] of counts) {
  const [a, b] = k.split(' → ');
  if (!byFrom.has(a)) byFrom.set(a, []);
  byFrom.get(a).push(`${b} ${n}`);
}
for (const [a, l] of [...byFrom].sort()) console.log(`${a} → ${l.sort().join(', ')}`);
