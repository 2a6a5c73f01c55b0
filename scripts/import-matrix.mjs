#!/usr/bin/env node
// Prints the folder-to-folder runtime import counts of the compiled dist/src (one row per importing
// folder, one column per imported folder), so a change of layout can be stated in numbers.
// Usage: npm run build && node scripts/import-matrix.mjs [dist/src]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(process.argv[2] ?? 'dist/src');
const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
const folderOf = (file) => {
  const parts = relative(src, file).split('/');
  return parts.length === 1 ? '.' : parts[0];
};
const re =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
const counts = new Map();
const folders = new Set();
for (const file of files(src)) {
  const from = folderOf(file);
  folders.add(from);
  for (const m of readFileSync(file, 'utf8').matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const to = folderOf(resolve(dirname(file), spec));
    if (to === from) continue;
    const key = `${from}>${to}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
const names = [...folders].sort();
const w = Math.max(...names.map((n) => n.length));
console.log(`${'from\\to'.padEnd(w)} ${names.map((n) => n.slice(0, 5).padStart(5)).join(' ')}`);
for (const a of names)
  console.log(`${a.padEnd(w)} ${names.map((b) => String(counts.get(`${a}>${b}`) ?? (a === b ? '·' : '')).padStart(5)).join(' ')}`);
