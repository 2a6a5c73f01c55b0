import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../src/errors.js';
import { fsCause, makeDir, within } from '../src/fs-safety.js';
import { tempDir } from './fixtures.js';

test('within: a name stays inside its root; "..", ".", separators and absolute paths are refused', () => {
  assert.equal(within('results', 'exp'), join('results', 'exp'));
  assert.equal(within('/r', 'a..b'), '/r/a..b');
  for (const bad of ['..', '.', '', 'a/b', '../x', '/etc', 'a/../../x'])
    assert.throws(() => within('results', bad), InputError, bad);
});

test('makeDir creates missing parents, and where a parent refuses children (/proc) it fails at once naming the folder', () => {
  const dir = tempDir('mkdir');
  makeDir(join(dir, 'a', 'b', 'c'));
  assert.ok(existsSync(join(dir, 'a', 'b', 'c')));
  makeDir(join(dir, 'a', 'b')); // existing: nothing to do
  writeFileSync(join(dir, 'file'), '');
  assert.throws(
    () => makeDir(join(dir, 'file', 'x')),
    /file\/x: cannot create this folder: a part of the path is a file, not a folder \(ENOTDIR\)$/,
  );
  if (existsSync('/proc/self')) {
    // Node's mkdirSync(…, { recursive: true }) spins forever here; run it in a child with a timeout to be safe.
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { makeDir } from ${JSON.stringify(new URL('../src/fs-safety.js', import.meta.url).href)}; try { makeDir('/proc/nope/deeper'); } catch (e) { console.log(e.message); }`,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(r.signal, null, 'finished, no timeout');
    assert.equal(r.stdout.trim(), '/proc/nope: cannot create this folder: no such file or folder (ENOENT)');
  }
  if (process.getuid?.() !== 0) {
    const readOnly = join(dir, 'ro');
    makeDir(readOnly);
    chmodSync(readOnly, 0o500);
    assert.throws(
      () => makeDir(join(readOnly, 'x')),
      /ro\/x: cannot create this folder: permission denied \(EACCES\)$/,
    );
  }
});

test('fsCause names the real cause with its code', () => {
  const err = (code: string) => Object.assign(new Error('x'), { code });
  assert.equal(fsCause(err('ENOSPC')), 'no space left on device (ENOSPC)');
  assert.equal(fsCause(err('EROFS')), 'read-only file system (EROFS)');
  assert.equal(fsCause(err('EWEIRD')), 'EWEIRD');
});
