/**
 * Class-folder datasets (torchvision's ImageFolder convention): `<root>/<train_dir>/<class>/…/*.jpg`
 * and the same classes under `<val_dir>`. Classes are the sub-folders in code-point order, as
 * torchvision's `find_classes` sorts them; files are found recursively with torchvision's extensions.
 *
 * Images are decoded once (image-folder-build.ts: native libjpeg-turbo/libpng, or sharp) into a uint8 cache per split
 * (image-cache.ts); loading reads the cache, and rebuilds it first when it is missing, stale (the tree
 * changed: another file-list checksum) or damaged. The build runs in a child process so that every
 * loader stays synchronous, and so that the decoders' threads and memory are gone before training starts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetConfig } from '../config/schema.js';
import { InputError, Interrupted } from '../errors.js';
import { formatCount } from '../format.js';
import {
  fsCause,
  isStorageFault,
  makeDir,
  removeStaleTemps,
  StorageError,
  tempPath,
  writeFileSynced,
} from '../fs-safety.js';
import { totalmem } from 'node:os';
import type { Dataset, DatasetShape, ImageSplit } from './dataset.js';
import { nativeDecoderVersion } from './native-decode.js';
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
  /** The inode's change time: a file replaced by one of the same size with its old mtime restored (`cp -p`) still changes it. */
  ctimeMs: number;
  label: number;
  /**
   * Why this entry cannot be read as an image, found while scanning (a dangling or looping symlink, a
   * FIFO or device, a name that is not UTF-8): the build treats it as a bad image (on_bad_image)
   * without opening it, since opening a FIFO would wait forever.
   */
  problem?: string;
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

/** lcconv's own cache folder, when it lies inside a split's folder (`train_dir: .`): never a class. */
const CACHE_FOLDER = '.lcconv-cache';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether two paths name one folder (a configured cache_dir inside the split's folder is no class). */
function sameFolder(a: string, b: string | undefined): boolean {
  if (b === undefined || !existsSync(b)) return false;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * A folder's entry names; a name that is not valid UTF-8 comes back as null, with its bytes shown
 * (`\xe9`) and whether it is a folder (read through its raw bytes, as no string names it).
 */
function entriesOf(dir: string): { name: string | null; shown: string; folder: boolean }[] {
  return readdirSync(dir, { encoding: 'buffer' }).map((raw) => {
    try {
      return { name: utf8.decode(raw), shown: '', folder: false };
    } catch {
      const shown = raw
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      let folder = false;
      try {
        folder = statSync(Buffer.concat([Buffer.from(`${dir}${sep}`), raw])).isDirectory();
      } catch {
        // dangling: not a folder
      }
      return { name: null, shown, folder };
    }
  });
}

/** The class folders of a split, sorted as torchvision's find_classes. */
export function findClasses(dir: string, what: string, cacheDir?: string): string[] {
  if (!isDir(dir))
    throw new InputError(`dataset image_folder: ${what} folder ${dir} not found (one sub-folder per class expected)`);
  const entries = entriesOf(dir);
  const unnamed = entries.find((e) => e.name === null && e.folder);
  if (unnamed)
    throw new InputError(
      `dataset image_folder: ${dir} has a class folder whose name is not UTF-8 (${unnamed.shown}); rename it, since a class is named by its folder`,
    );
  const classes = entries
    .flatMap((e) => (e.name === null ? [] : [e.name]))
    .filter((name) => name !== CACHE_FOLDER && isDir(join(dir, name)) && !sameFolder(join(dir, name), cacheDir))
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

const isInside = (path: string, folder: string) => path === folder || path.startsWith(folder + sep);

/**
 * Image files under a class folder, recursively, in torchvision's order (sorted folder, then sorted
 * name), each with the problem that keeps it from being read, if any. Folders are followed through
 * symlinks (as torchvision's os.walk with followlinks) but each real folder once, so a symlink loop
 * ends; a symlink into another part of the split's own tree is not followed, since its images would
 * be labelled with this class (`train/a/up -> ..` would take class b's images as a's).
 */
function classFiles(classDir: string, splitDir: string): { path: string; problem?: string }[] {
  const out: { dir: string; name: string; problem?: string }[] = [];
  const splitReal = realpathSync(splitDir);
  const classReal = realpathSync(classDir);
  const visited = new Set<string>();
  const walk = (d: string) => {
    for (const { name, shown } of entriesOf(d)) {
      const image = EXTENSIONS.some((e) => (name ?? shown).toLowerCase().endsWith(e));
      if (name === null) {
        if (image) out.push({ dir: d, name: shown, problem: 'its file name is not UTF-8' });
        continue;
      }
      const p = join(d, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch (err) {
        if (image) out.push({ dir: d, name, problem: `cannot be opened: ${fsCause(err)}` }); // dangling or looping symlink
        continue;
      }
      if (st.isDirectory()) {
        const real = realpathSync(p);
        if (visited.has(real)) continue; // a loop, or a folder reached twice
        if (isInside(real, splitReal) && !isInside(real, classReal)) {
          process.stderr.write(
            `image_folder: not followed: ${relative(splitDir, p)} leads to ${relative(splitReal, real) || '.'}, another part of this split's tree (its images would be labelled ${relative(splitDir, classDir)})\n`,
          );
          continue;
        }
        visited.add(real);
        walk(p);
      } else if (image) {
        out.push({ dir: d, name, problem: st.isFile() ? undefined : 'not a regular file (a FIFO, socket or device)' });
      }
    }
  };
  visited.add(classReal);
  walk(classDir);
  out.sort((a, b) => codePointCompare(a.dir, b.dir) || codePointCompare(a.name, b.name));
  return out.map(({ dir, name, problem }) => ({ path: join(dir, name), ...(problem ? { problem } : {}) }));
}

/** Every image file of a split with its label, size and mtime; an empty class folder is an error. */
export function scanTree(dir: string, what: string, classes = findClasses(dir, what)): Tree {
  const files: TreeFile[] = [];
  classes.forEach((cls, label) => {
    const found = classFiles(join(dir, cls), dir);
    if (found.length === 0)
      throw new InputError(
        `dataset image_folder: class folder ${join(dir, cls)} has no images (${EXTENSIONS.join(' ')}); remove it or add images`,
      );
    for (const { path, problem } of found) {
      const rel = relative(dir, path).split(sep).join('/');
      if (problem) {
        files.push({ path, rel, size: -1, mtimeMs: 0, ctimeMs: 0, label, problem });
        continue;
      }
      const st = statSync(path);
      files.push({ path, rel, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, label });
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

/**
 * The decoders and their versions: part of the cache key, since another libvips, libjpeg-turbo or
 * libpng may decode other pixels, and a build with the native decoder decodes JPEG and PNG with it.
 */
export function decoderVersion(resize: Geometry['resize']): string {
  // sharp's exports hide its package.json, and importing sharp here would load libvips for nothing.
  let dir = dirname(createRequire(import.meta.url).resolve('sharp'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const sharp = `sharp ${(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version}`;
  const native = resize === 'torchvision' ? nativeDecoderVersion() : null; // lanczos is libvips' own
  return native ? `${native}, ${sharp}` : sharp;
}

export interface Geometry {
  image_size: number;
  crop_fraction: number;
  channels: 1 | 3;
  resize: 'torchvision' | 'lanczos';
}

/** The file-list checksum: paths, sizes, mtimes, class names, geometry and decoder. */
export function treeKey(tree: Tree, geometry: Geometry): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({ version: 1, decoder: decoderVersion(geometry.resize), geometry, classes: tree.classes }),
  );
  for (const f of tree.files) hash.update(`\n${f.label}\t${f.rel}\t${f.size}\t${f.mtimeMs}\t${f.ctimeMs}`);
  return hash.digest('hex');
}

export function cacheDirOf(cfg: DatasetConfig): string {
  return cfg.image_folder.cache_dir ?? join(cfg.root, '.lcconv-cache');
}

/**
 * One cache file per split folder and geometry, so several image sizes of one tree can coexist. The
 * name carries a hash of the split folder's absolute path: `t/v` and `t_v`, or two trees sharing
 * one cache_dir, never share a file.
 */
export function cacheFileOf(cfg: DatasetConfig, splitDir: string): string {
  const f = cfg.image_folder;
  const name = splitDir.replace(/[\\/]+/g, '_').replace(/^\.+/, '') || 'root';
  const where = createHash('sha256').update(resolve(cfg.root, splitDir)).digest('hex').slice(0, 8);
  const crop = f.crop_fraction === 1 ? '' : `-crop${f.crop_fraction}`;
  const resize = f.resize === 'torchvision' ? '' : `-${f.resize}`;
  return join(cacheDirOf(cfg), `${name}-${where}-${f.image_size}px-c${f.channels}${crop}${resize}.lcimg`);
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
  return { image_size: f.image_size, crop_fraction: f.crop_fraction, channels: f.channels, resize: f.resize };
}

/** The trees, their keys and their caches' states; no decoding. */
export function planImageFolder(cfg: DatasetConfig): SplitPlan[] {
  const f = cfg.image_folder;
  const trainDir = join(cfg.root, f.train_dir);
  const train = scanTree(trainDir, 'train', findClasses(trainDir, 'train', cacheDirOf(cfg)));
  const trees: [string, string, Tree][] = [['train', f.train_dir, train]];
  if (cfg.val_split === 0) {
    const valDir = join(cfg.root, f.val_dir);
    const valClasses = findClasses(
      valDir,
      'val (dataset.image_folder.val_dir; or set dataset.val_split)',
      cacheDirOf(cfg),
    );
    checkSameClasses(train.classes, valClasses, trainDir, valDir);
    trees.push(['val', f.val_dir, scanTree(valDir, 'val', valClasses)]);
  }
  const geometry = geometryOf(f);
  for (const [split, , tree] of trees) checkSplitFits(split, tree, geometry);
  return trees.map(([split, dir, tree]) => {
    const key = treeKey(tree, geometry);
    const file = cacheFileOf(cfg, dir);
    return { job: { split, tree, key, file, geometry, onBadImage: f.on_bad_image }, state: inspectCache(file, key) };
  });
}

/** A decoded split is one typed array: at most this many bytes (Node's limit), and half the machine's memory. */
const MAX_SPLIT_BYTES = 2 ** 32 - 1;

/** Refuses, before decoding, a split too large to hold decoded, naming the keys that size it. */
export function checkSplitFits(split: string, tree: Tree, g: Geometry, memoryLimit = totalmem()): void {
  const bytes = tree.files.length * g.image_size * g.image_size * g.channels;
  const limit = Math.min(MAX_SPLIT_BYTES, memoryLimit / 2);
  if (bytes > limit)
    throw new InputError(
      `dataset image_folder: ${split}: ${formatCount(tree.files.length)} images of ${g.image_size}×${g.image_size}×${g.channels} are ${(bytes / 2 ** 30).toFixed(1)} GiB decoded, more than the ${(limit / 2 ** 30).toFixed(1)} GiB a split may take here; lower dataset.image_folder.image_size or split the tree`,
    );
}

/** Runs image-folder-build.js on the jobs in a child process; its stderr (progress, skipped files) is ours. */
function build(jobs: BuildJob[], cacheDir: string): void {
  // Named by host and pid (tempPath): the job file of a killed build is removed by the next one.
  const jobFile = tempPath(join(cacheDir, '.jobs.json'));
  try {
    makeDir(cacheDir);
    removeStaleTemps(join(cacheDir, '.jobs.json'));
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
        `image_folder cache build failed (${child.signal ?? `exit ${child.status}`}): ${said || child.error?.message || 'its own output, above, says why'}`,
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
  return isStorageFault(err) ? new StorageError(line) : new InputError(line);
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

/**
 * The splits whose tree differs now from the one a run recorded (its summary's dataset_source),
 * found by scanning (no decoding): a finished run that is reused says so instead of silently
 * standing for data it never saw. Empty when nothing changed or nothing was recorded.
 */
export function changedSplits(cfg: DatasetConfig, recorded: Record<string, unknown> | undefined): string[] {
  const then = (recorded as Partial<ImageFolderSource> | undefined)?.splits;
  if (!Array.isArray(then)) return [];
  let now: SplitPlan[];
  try {
    now = planImageFolder(cfg);
  } catch (err) {
    return [`the tree cannot be read now (${(err as Error).message})`];
  }
  return now.filter((p) => then.find((s) => s.split === p.job.split)?.key !== p.job.key).map((p) => p.job.split);
}

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
    // A cache built under on_bad_image: skip holds no trace of the files it left out but its list:
    // switching to error must still stop on the first of them.
    const at = headers.findIndex((h) => h.skipped.length > 0);
    if (f.on_bad_image === 'error' && at >= 0) {
      const first = headers[at]!.skipped[0]!;
      throw new InputError(
        `${join(plans[at]!.job.tree.dir, first.file)}: not a readable image (${first.reason}); dataset.image_folder.on_bad_image: skip leaves such files out`,
      );
    }
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
  const classes = findClasses(join(cfg.root, f.train_dir), 'train', cacheDirOf(cfg)).length;
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
