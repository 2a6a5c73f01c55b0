/**
 * Class-folder datasets (torchvision's ImageFolder convention): `<root>/<train_dir>/<class>/…/*.jpg`
 * and the same classes under `<val_dir>`. Classes are the sub-folders in code-point order, as
 * torchvision's `find_classes` sorts them; files are found recursively with torchvision's extensions.
 *
 * Images are decoded once (image-folder-build.ts, sharp) into a uint8 cache per split
 * (image-cache.ts); loading reads the cache, and rebuilds it first when it is missing, stale (the tree
 * changed: another file-list checksum) or damaged. The build runs in a child process so that every
 * loader stays synchronous, and so that libvips' threads and memory are gone before training starts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetConfig } from '../config/schema.js';
import { InputError, Interrupted } from '../errors.js';
import { formatCount } from '../format.js';
import { fsCause, fsError, makeDir, StorageError, writeFileSynced } from '../fs-safety.js';
import type { Dataset, DatasetShape, ImageSplit } from './dataset.js';
import { type CacheHeader, type CacheState, inspectCache, readCache } from './image-cache.js';

export type ImageFolderConfig = DatasetConfig['image_folder'];

/** torchvision's IMG_EXTENSIONS (matched case-insensitively): the same files are found as by ImageFolder. */
const EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** Labels are stored as uint8 (Dataset.labels). */
const MAX_CLASSES = 256;

export interface TreeFile {
  path: string; // absolute
  rel: string; // relative to the split's folder, '/'-separated
  size: number;
  mtimeMs: number;
  label: number;
}

export interface Tree {
  dir: string;
  classes: string[];
  files: TreeFile[];
}

/** Python's str ordering (code points), which `sorted()` uses; JS's default sort compares UTF-16 units. */
export function codePointCompare(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory(); // follows symlinks, as os.scandir's is_dir()
  } catch {
    return false;
  }
};

/** The class folders of a split, sorted as torchvision's find_classes. */
export function findClasses(dir: string, what: string): string[] {
  if (!isDir(dir))
    throw new InputError(`dataset image_folder: ${what} folder ${dir} not found (one sub-folder per class expected)`);
  const classes = readdirSync(dir)
    .filter((name) => isDir(join(dir, name)))
    .sort(codePointCompare);
  if (classes.length === 0) throw new InputError(`dataset image_folder: ${dir} has no class folders`);
  if (classes.length < 2)
    throw new InputError(`dataset image_folder: ${dir} has only one class folder (${classes[0]})`);
  if (classes.length > MAX_CLASSES)
    throw new InputError(
      `dataset image_folder: ${dir} has ${classes.length} class folders; at most ${MAX_CLASSES} are supported`,
    );
  return classes;
}

/** Image files under a class folder, recursively, in torchvision's order (sorted folder, then sorted name). */
function classFiles(classDir: string): string[] {
  const out: [string, string][] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (isDir(p)) walk(p);
      else if (EXTENSIONS.some((e) => name.toLowerCase().endsWith(e))) out.push([d, name]);
    }
  };
  walk(classDir);
  out.sort((a, b) => codePointCompare(a[0], b[0]) || codePointCompare(a[1], b[1]));
  return out.map(([d, n]) => join(d, n));
}

/** Every image file of a split with its label, size and mtime; an empty class folder is an error. */
export function scanTree(dir: string, what: string, classes = findClasses(dir, what)): Tree {
  const files: TreeFile[] = [];
  classes.forEach((cls, label) => {
    const found = classFiles(join(dir, cls));
    if (found.length === 0)
      throw new InputError(
        `dataset image_folder: class folder ${join(dir, cls)} has no images (${EXTENSIONS.join(' ')}); remove it or add images`,
      );
    for (const path of found) {
      const st = statSync(path);
      files.push({ path, rel: relative(dir, path).split(sep).join('/'), size: st.size, mtimeMs: st.mtimeMs, label });
    }
  });
  return { dir, classes, files };
}

/** Train and val must name the same classes, or labels would mean different things. */
export function checkSameClasses(train: string[], val: string[], trainDir: string, valDir: string): void {
  const onlyTrain = train.filter((c) => !val.includes(c));
  const onlyVal = val.filter((c) => !train.includes(c));
  if (onlyTrain.length === 0 && onlyVal.length === 0) return;
  const list = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, … (${xs.length})` : '');
  const parts = [
    onlyTrain.length ? `only in ${trainDir}: ${list(onlyTrain)}` : '',
    onlyVal.length ? `only in ${valDir}: ${list(onlyVal)}` : '',
  ].filter(Boolean);
  throw new InputError(`dataset image_folder: train and val class folders differ (${parts.join('; ')})`);
}

/** The decoder and its version: part of the cache key, since another libvips may decode other pixels. */
export function decoderVersion(): string {
  // sharp's exports hide its package.json, and importing sharp here would load libvips for nothing.
  let dir = dirname(createRequire(import.meta.url).resolve('sharp'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return `sharp ${(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version}`;
}

export interface Geometry {
  image_size: number;
  crop_fraction: number;
  channels: 1 | 3;
}

/** The file-list checksum: paths, sizes, mtimes, class names, geometry and decoder. */
export function treeKey(tree: Tree, geometry: Geometry): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: 1, decoder: decoderVersion(), geometry, classes: tree.classes }));
  for (const f of tree.files) hash.update(`\n${f.label}\t${f.rel}\t${f.size}\t${f.mtimeMs}`);
  return hash.digest('hex');
}

export function cacheDirOf(cfg: DatasetConfig): string {
  return cfg.image_folder.cache_dir ?? join(cfg.root, '.lcconv-cache');
}

/** One cache file per split folder and geometry, so several image sizes of one tree can coexist. */
export function cacheFileOf(cfg: DatasetConfig, splitDir: string): string {
  const f = cfg.image_folder;
  const name = splitDir.replace(/[\\/]+/g, '_').replace(/^\.+/, '');
  const crop = f.crop_fraction === 1 ? '' : `-crop${f.crop_fraction}`;
  return join(cacheDirOf(cfg), `${name}-${f.image_size}px-c${f.channels}${crop}.lcimg`);
}

/** What the child process builds: a split's files into one cache file. */
export interface BuildJob {
  split: string; // 'train' or 'val', for messages
  tree: Tree;
  key: string;
  file: string;
  geometry: Geometry;
  onBadImage: 'skip' | 'error';
}

interface SplitPlan {
  job: BuildJob;
  state: CacheState;
}

function geometryOf(f: ImageFolderConfig): Geometry {
  return { image_size: f.image_size, crop_fraction: f.crop_fraction, channels: f.channels };
}

/** The trees, their keys and their caches' states; no decoding. */
export function planImageFolder(cfg: DatasetConfig): SplitPlan[] {
  const f = cfg.image_folder;
  const trainDir = join(cfg.root, f.train_dir);
  const train = scanTree(trainDir, 'train');
  const trees: [string, string, Tree][] = [['train', f.train_dir, train]];
  if (cfg.val_split === 0) {
    const valDir = join(cfg.root, f.val_dir);
    const valClasses = findClasses(valDir, 'val (dataset.image_folder.val_dir; or set dataset.val_split)');
    checkSameClasses(train.classes, valClasses, trainDir, valDir);
    trees.push(['val', f.val_dir, scanTree(valDir, 'val', valClasses)]);
  }
  const geometry = geometryOf(f);
  return trees.map(([split, dir, tree]) => {
    const key = treeKey(tree, geometry);
    const file = cacheFileOf(cfg, dir);
    return { job: { split, tree, key, file, geometry, onBadImage: f.on_bad_image }, state: inspectCache(file, key) };
  });
}

/** Runs image-folder-build.js on the jobs in a child process; its stderr (progress, skipped files) is ours. */
function build(jobs: BuildJob[], cacheDir: string): void {
  const jobFile = join(cacheDir, `.jobs-${process.pid}.json`);
  try {
    makeDir(cacheDir);
    writeFileSynced(jobFile, JSON.stringify(jobs));
  } catch (err) {
    throw unwritableCache(cacheDir, (err as Error).cause ?? err);
  }
  try {
    const script = fileURLToPath(new URL('./image-folder-build.js', import.meta.url));
    const child = spawnSync(process.execPath, [script, jobFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    const said = child.stdout?.toString().trim() ?? '';
    if (child.signal === 'SIGINT' || child.signal === 'SIGTERM')
      throw new Interrupted(
        `${child.signal}: the image_folder cache build stopped; nothing was kept (the next run builds it again)`,
      );
    if (child.status === BUILD_EXIT.input) throw new InputError(said);
    if (child.status === BUILD_EXIT.storage) throw new StorageError(said);
    if (child.status !== 0)
      throw new Error(
        `image_folder cache build failed (${child.signal ?? `exit ${child.status}`}): ${said || child.error?.message}`,
      );
  } finally {
    rmSync(jobFile, { force: true });
  }
}

/**
 * The one line for a cache folder that cannot be written (e.g. a read-only shared dataset), as the
 * error every writer gives for that cause (fsError): StorageError for a fault of the storage,
 * InputError otherwise.
 */
export function unwritableCache(dir: string, err: unknown): InputError | StorageError {
  const line = `dataset image_folder: cannot write the decoded-image cache in ${dir}: ${fsCause(err)}; set dataset.image_folder.cache_dir to a writable folder`;
  return fsError(dir, 'cannot write', err) instanceof StorageError ? new StorageError(line) : new InputError(line);
}

/** How the cache builder's child process says which kind of one-line error it ended with. */
export const BUILD_EXIT = { input: 2, storage: 3 } as const;

/** Why a cache is rebuilt, for the one line the user sees. */
function rebuildReason(plan: SplitPlan): string {
  const { state, job } = plan;
  if (state.state === 'missing') return `no cache yet (${job.file})`;
  if (state.state === 'stale') return `the tree changed since ${job.file} was built`;
  if (state.state === 'damaged') return `${job.file} is damaged (${state.why})`;
  return '';
}

/** The dataset's provenance (summary.json `dataset_source`): where it came from and what was left out. */
export type ImageFolderSource = {
  root: string;
  splits: { split: string; dir: string; cache: string; key: string; images: number; skipped: CacheHeader['skipped'] }[];
  skipped_files: number;
  decoder: string;
};

/** Loads a class-folder dataset from its caches, building any that are missing, stale or damaged. */
export function loadImageFolder(cfg: DatasetConfig): Dataset {
  const f = cfg.image_folder;
  let plans = planImageFolder(cfg);
  let built = false;
  for (;;) {
    const todo = plans.filter((p) => p.state.state !== 'ok');
    if (todo.length > 0) {
      if (built) throw new Error(`image_folder: ${rebuildReason(todo[0]!)} right after building it`);
      for (const p of todo) process.stderr.write(`image_folder: ${p.job.split}: ${rebuildReason(p)}\n`);
      build(
        todo.map((p) => p.job),
        cacheDirOf(cfg),
      );
      built = true;
      plans = plans.map((p) => ({ job: p.job, state: inspectCache(p.job.file, p.job.key) }));
      continue;
    }
    // Headers are fine; the payload checksum is checked while reading.
    const splits: ImageSplit[] = [];
    for (const p of plans) {
      const s = p.state as Extract<CacheState, { state: 'ok' }>;
      const read = readCache(p.job.file, s.header, s.dataOffset);
      if (typeof read !== 'string') splits.push(read);
      else if (built) throw new Error(`image_folder: ${p.job.file} is damaged (${read}) right after building it`);
      else p.state = { state: 'damaged', why: read };
    }
    if (splits.length < plans.length) continue;
    const headers = plans.map((p) => (p.state as Extract<CacheState, { state: 'ok' }>).header);
    const skipped = headers.reduce((n, h) => n + h.skipped.length, 0);
    if (skipped > 0)
      process.stderr.write(
        `image_folder: ${formatCount(skipped)} unreadable file${skipped > 1 ? 's' : ''} left out (listed in summary.json dataset_source)\n`,
      );
    const source: ImageFolderSource = {
      root: cfg.root,
      splits: plans.map((p, i) => ({
        split: p.job.split,
        dir: p.job.tree.dir,
        cache: p.job.file,
        key: p.job.key,
        images: headers[i]!.count,
        skipped: headers[i]!.skipped,
      })),
      skipped_files: skipped,
      decoder: headers[0]!.decoder,
    };
    const train = splits[0]!;
    return {
      name: 'image_folder',
      height: f.image_size,
      width: f.image_size,
      channels: f.channels,
      classNames: plans[0]!.job.tree.classes,
      train,
      // With val_split the held-out images replace the test split (split.ts); until then it is empty.
      test: splits[1] ?? { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
      mean: headers[0]!.mean,
      std: headers[0]!.std,
      flipAugment: true,
      resizedCrop: f.random_resized_crop ? { scale: f.crop_scale, ratio: [3 / 4, 4 / 3] } : null,
      source,
    };
  }
}

/** Image shape and class count without decoding (reads only the class folder names). */
export function imageFolderShape(cfg: DatasetConfig): DatasetShape {
  const f = cfg.image_folder;
  const classes = findClasses(join(cfg.root, f.train_dir), 'train').length;
  return { height: f.image_size, width: f.image_size, channels: f.channels, classes };
}

/** `lcconv data list`: whether the configured tree's caches are present and current (no decoding). */
export function imageFolderStatus(cfg: DatasetConfig): {
  status: 'ok' | 'missing' | 'invalid';
  where: string;
  detail: string;
} {
  const where = join(cfg.root, cfg.image_folder.train_dir);
  if (!existsSync(where))
    return {
      status: 'missing',
      where,
      detail: 'no class-folder tree here (lcconv data list --config <experiment.yaml> checks the one a config names)',
    };
  try {
    const plans = planImageFolder(cfg);
    const parts = plans.map((p) => {
      const n = formatCount(p.job.tree.files.length);
      const s = p.state;
      const cache =
        s.state === 'ok'
          ? `cache ok (${formatCount(s.header.count)} decoded${s.header.skipped.length ? `, ${s.header.skipped.length} skipped` : ''})`
          : s.state === 'stale'
            ? 'cache stale (tree changed; rebuilt on next load)'
            : s.state === 'damaged'
              ? `cache damaged (${s.why}; rebuilt on next load)`
              : 'cache missing (built on first load)';
      return `${p.job.split} ${n} files, ${cache}`;
    });
    const classes = plans[0]!.job.tree.classes.length;
    return {
      status: 'ok',
      where,
      detail: `${classes} classes, ${cfg.image_folder.image_size}px c${cfg.image_folder.channels}: ${parts.join('; ')}`,
    };
  } catch (err) {
    if (err instanceof InputError) return { status: 'invalid', where, detail: err.message };
    throw err;
  }
}
