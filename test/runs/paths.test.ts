/**
 * src/runs/ owns every path on disk: the names of a run directory's files and of an experiment
 * folder's own entries are constants of src/runs/files.ts, and no other module spells one as a
 * string literal (it imports the constant), so a rename happens in one place.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import * as files from '../../src/runs/files.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';

const SRC = join(PACKAGE_ROOT, 'src');

/** Every name files.ts exports as a string constant (CONFIG_FILE, COMPARISON_FILE, SWEEP_DIR, …). */
const NAMES = Object.entries(files)
  .filter(([key, value]) => /^[A-Z_]+$/.test(key) && typeof value === 'string')
  .map(([, value]) => value as string);

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

test('the names of files on disk are spelled only in src/runs/files.ts', () => {
  for (const name of [
    'config.yaml',
    'summary.json',
    'eval.csv',
    'comparison.csv',
    'robustness.csv',
    'report.md',
    'analysis',
    'sweep',
  ])
    assert.ok(NAMES.includes(name), `files.ts names ${name}`);
  // A file name anywhere in quotes; a folder name (no dot: `sweep` is also a command) as a path part.
  const quoted = (name: string) =>
    name.includes('.')
      ? new RegExp(`(['"])${name.replace(/[.]/g, '\\.')}\\1`) // string literals (comments use backquotes)
      : new RegExp(`(join|within|resolve)\\([^)]*(['"])${name}\\2`);
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith(`runs${'/'}`)) continue;
    const text = readFileSync(file, 'utf8');
    for (const name of NAMES) if (quoted(name).test(text)) found.push(`src/${rel}: '${name}'`);
  }
  assert.deepEqual(found, [], 'import the constant from src/runs/files.ts instead');
});

/** The identifiers of those constants (CONFIG_FILE, EVAL_FILE, ANALYSIS_FILES, …). */
const NAME_KEYS = Object.entries(files)
  .filter(([key, value]) => /^[A-Z_]+$/.test(key) && (typeof value === 'string' || typeof value === 'object'))
  .map(([key]) => key);

/** A path call (join, within, resolve) with one of the name constants among its arguments. */
export function pathJoinsOfNames(text: string, keys: string[]): string[] {
  const call = new RegExp(`\\b(?:join|within|resolve)\\(([^()]|\\([^()]*\\))*\\b(${keys.join('|')})\\b`, 'g');
  return [...text.matchAll(call)].map((m) => m[0]);
}

test('the path finder finds a join of a run-file name and passes a path function', () => {
  assert.deepEqual(pathJoinsOfNames('const f = join(run.dir, EVAL_FILE);', NAME_KEYS), ['join(run.dir, EVAL_FILE']);
  assert.deepEqual(pathJoinsOfNames('within(dirname(p), ANALYSIS_DIR)', NAME_KEYS), [
    'within(dirname(p), ANALYSIS_DIR',
  ]);
  assert.deepEqual(pathJoinsOfNames('const f = runPaths(dir).eval; say("no " + CONFIG_FILE)', NAME_KEYS), []);
});

test('only src/runs/ joins the paths of run and experiment files (runPaths, experimentPaths, …)', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith(`runs${'/'}`)) continue;
    for (const call of pathJoinsOfNames(readFileSync(file, 'utf8'), NAME_KEYS)) found.push(`src/${rel}: ${call}`);
  }
  assert.deepEqual(found, [], 'call the path function of src/runs/files.ts instead');
});
