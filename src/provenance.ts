/**
 * Where a result came from: package versions, Node, and the git commit of the lcconv checkout.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The package root (holds package.json and configs/): the nearest folder above this file with a package.json. */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

export function lcconvVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** tfjs-core's version from its package.json: importing tfjs only to ask would load all of it (~1 s). */
function tfjsVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
}

export function versions(): Record<string, string> {
  return { lcconv: lcconvVersion(), tfjs: tfjsVersion(), node: process.version };
}

export function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null; // not a git checkout (e.g. installed from a tarball)
  }
}
