/**
 * Class-folder datasets on a generated tree of real JPEG, PNG and WebP files (scripts/make-image-tree.mjs,
 * with a truncated JPEG, a non-image, a CMYK, a greyscale and an EXIF-rotated JPEG): torchvision's
 * class order, decoding, the skipped-file accounting, the cache (reused, rebuilt on a changed tree
 * and on a damaged file), one-line errors, and a one-epoch run that is then evaluated and exported.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { loadConfigText } from '../../src/config/load.js';
import type { DatasetConfig } from '../../src/config/schema.js';
import { evalBatches, trainBatches } from '../../src/data/batches.js';
import { inspectCache } from '../../src/data/image-cache.js';
import { decodeImage } from '../../src/data/image-folder-build.js';
import {
  cacheDirOf,
  cacheFileOf,
  checkSplitFits,
  codePointCompare,
  planImageFolder,
} from '../../src/data/image-folder.js';
import { loadDataset } from '../../src/data/index.js';
import { InputError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { lcconv, tempDir, writeTinyConfig } from '../fixtures.js';

interface TreeResult {
  classes: string[];
  train: number;
  val: number;
  awkward: { bad: string[]; good: string[] };
}
type MakeTree = (dir: string, options?: Record<string, unknown>) => Promise<TreeResult>;

let template = '';
let made: TreeResult;
before(async () => {
  const script = pathToFileURL(join(PACKAGE_ROOT, 'scripts', 'make-image-tree.mjs')).href;
  const { makeImageTree } = (await import(script)) as { makeImageTree: MakeTree };
  template = join(tempDir('image-tree'), 'tree');
  made = await makeImageTree(template, { classes: 3, train: 8, val: 3, size: 24 });
});

/** A fresh copy of the generated tree (tests change it). */
function freshTree(): string {
  const root = join(tempDir('image-folder'), 'tree');
  cpSync(template, root, { recursive: true });
  return root;
}

function datasetConfig(
  root: string,
  folder: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): DatasetConfig {
  const text = JSON.stringify({
    dataset: { name: 'image_folder', root, image_folder: { image_size: 12, ...folder }, ...extra },
  });
  return loadConfigText(text, 'test.yaml').config.dataset;
}

const isInput = (re: RegExp) => (e: Error) => {
  assert.ok(e instanceof InputError, `expected an InputError, got ${e.stack}`);
  assert.match(e.message, re);
  assert.equal(e.message.includes('\n'), false, 'one line');
  return true;
};

test('classes are sorted by code point as torchvision sorts them; train and val decode with the bad files left out and recorded', () => {
  assert.deepEqual(made.classes, ['ant', 'Zebra', 'bee']);
  assert.deepEqual(['ant', 'Zebra', 'bee', 'é', '😀', '\uffff'].sort(codePointCompare), [
    'Zebra',
    'ant',
    'bee',
    'é',
    '\uffff',
    '😀',
  ]);
  const data = loadDataset(datasetConfig(freshTree()), 0);
  assert.deepEqual(data.classNames, ['Zebra', 'ant', 'bee']);
  assert.equal(data.train.count, made.train + made.awkward.good.length);
  assert.equal(data.test.count, made.val);
  assert.equal(data.train.images.length, data.train.count * 12 * 12 * 3);
  // Per class counts: 'ant' (label 1) has the three valid awkward files on top of its 8.
  const counts = [0, 0, 0];
  for (const l of data.train.labels) counts[l]!++;
  assert.deepEqual(counts, [8, 11, 8]);
  const source = data.source as { skipped_files: number; splits: { skipped: { file: string }[] }[] };
  assert.equal(source.skipped_files, 2);
  assert.deepEqual(
    source.splits[0]!.skipped.map((s) => s.file),
    ['ant/not-an-image.png', 'ant/truncated.jpg'],
  );
  assert.equal(data.mean.length, 3);
  assert.ok(data.std.every((s) => s > 0.01 && s < 0.5));
});

test('EXIF orientation is applied, CMYK becomes sRGB and greyscale stays grey', async () => {
  const dir = tempDir('image-decode');
  const g = { image_size: 8, crop_fraction: 1, channels: 3, resize: 'torchvision' } as const;
  // Upright: left half black, right half white; stored turned a quarter anticlockwise with orientation 6.
  const upright = Buffer.alloc(16 * 16 * 3);
  for (let p = 0; p < 256; p++) upright.fill(p % 16 >= 8 ? 255 : 0, p * 3, p * 3 + 3);
  const raw = () => sharp(upright, { raw: { width: 16, height: 16, channels: 3 } });
  await raw().png().toFile(join(dir, 'upright.png'));
  await sharp(await raw().rotate(270).png().toBuffer())
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(join(dir, 'sideways.jpg'));
  const a = await decodeImage(join(dir, 'upright.png'), g);
  const b = await decodeImage(join(dir, 'sideways.jpg'), g);
  const diff = a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
  assert.ok(diff < 12, `orientation applied: mean |Δ| ${diff}`);
  assert.ok(a[0]! < 30 && a[7 * 3]! > 225, 'left dark, right bright');
  const lanczos = await decodeImage(join(dir, 'sideways.jpg'), { ...g, resize: 'lanczos' });
  assert.ok(lanczos[0]! < 30 && lanczos[7 * 3]! > 225, 'lanczos: orientation applied too');

  const colour = Buffer.alloc(16 * 16 * 3);
  for (let p = 0; p < 256; p++) colour.set([200, 60, 30], p * 3);
  const img = () => sharp(colour, { raw: { width: 16, height: 16, channels: 3 } });
  await img().jpeg().toColourspace('cmyk').toFile(join(dir, 'cmyk.jpg'));
  await img().toColourspace('b-w').jpeg().toFile(join(dir, 'grey.jpg'));
  assert.equal((await sharp(join(dir, 'cmyk.jpg')).metadata()).space, 'cmyk');
  const cmyk = await decodeImage(join(dir, 'cmyk.jpg'), g);
  const [r, gr, bl] = [cmyk[0]!, cmyk[1]!, cmyk[2]!];
  assert.ok(r > 150 && gr < 110 && bl < 90, `CMYK decoded to sRGB near (200, 60, 30), got (${r}, ${gr}, ${bl})`);
  const grey = await decodeImage(join(dir, 'grey.jpg'), g);
  assert.ok(grey[0] === grey[1] && grey[1] === grey[2], 'grey replicated to three equal channels');
  assert.equal((await decodeImage(join(dir, 'cmyk.jpg'), { ...g, channels: 1 })).length, 64);
});

test('the cache is reused, rebuilt when the tree changes and when it is damaged; builds are atomic', () => {
  const root = freshTree();
  const cfg = datasetConfig(root, { channels: 1 });
  const first = loadDataset(cfg, 0);
  assert.equal(first.channels, 1);
  const file = cacheFileOf(cfg, 'train');
  const built = statSync(file).mtimeMs;
  assert.deepEqual(
    readdirSync(join(root, '.lcconv-cache')).filter((f) => !f.endsWith('.lcimg')),
    [],
    'no temporary or job files left',
  );
  assert.deepEqual(loadDataset(cfg, 0).train.images, first.train.images);
  assert.equal(statSync(file).mtimeMs, built, 'reused, not rebuilt');

  // A changed tree (one more image) is stale and rebuilt.
  cpSync(join(root, 'train', 'bee', '00000.jpg'), join(root, 'train', 'bee', 'extra.jpg'));
  assert.equal(planImageFolder(cfg)[0]!.state.state, 'stale');
  assert.equal(loadDataset(cfg, 0).train.count, first.train.count + 1);

  // A flipped pixel byte fails the payload checksum; a truncated file fails the size check.
  const bytes = readFileSync(file);
  bytes[bytes.length - 100]! ^= 0xff;
  writeFileSync(file, bytes);
  const again = loadDataset(cfg, 0);
  assert.equal(again.train.count, first.train.count + 1);
  writeFileSync(file, readFileSync(file).subarray(0, 500));
  assert.equal(inspectCache(file, 'any').state, 'damaged');
  assert.deepEqual(loadDataset(cfg, 0).train.images, again.train.images);
  // A build killed mid-write leaves only its temporary file (named by host and pid, as the cache
  // writer names it): it is never read as the cache, and the next build removes it.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  const leftover = `${file}.tmp-${hostname()}-${dead}`;
  writeFileSync(leftover, 'partial');
  rmSync(file);
  assert.equal(planImageFolder(cfg)[0]!.state.state, 'missing');
  assert.deepEqual(loadDataset(cfg, 0).train.images, again.train.images, 'rebuilt from the tree');
  assert.ok(existsSync(file) && !existsSync(leftover), "the killed build's temporary file is gone");
});

test('bad trees are one-line errors: on_bad_image error, an empty class folder, differing class sets, a missing folder', () => {
  const root = freshTree();
  assert.throws(
    () => loadDataset(datasetConfig(root, { on_bad_image: 'error' }), 0),
    isInput(/train\/ant\/(not-an-image\.png|truncated\.jpg): not a readable image/),
  );
  mkdirSync(join(root, 'val', 'cat'));
  assert.throws(
    () => loadDataset(datasetConfig(root), 0),
    isInput(/train and val class folders differ \(only in .*val: cat\)/),
  );
  rmSync(join(root, 'val', 'cat'), { recursive: true });
  for (const f of readdirSync(join(root, 'val', 'bee'))) rmSync(join(root, 'val', 'bee', f));
  assert.throws(() => loadDataset(datasetConfig(root), 0), isInput(/class folder .*val\/bee has no images/));
  // A cache folder that cannot be made (here: below a file; a read-only share in real life).
  writeFileSync(join(root, 'a-file'), '');
  assert.throws(
    () => loadDataset(datasetConfig(root, { cache_dir: join(root, 'a-file', 'cache') }, { val_split: 0.5 }), 0),
    isInput(
      /cannot write the decoded-image cache in .*a-file\/cache: a part of the path is a file, not a folder \(ENOTDIR\); set dataset.image_folder.cache_dir/,
    ),
  );
  assert.throws(
    () => loadDataset(datasetConfig(join(root, 'nowhere')), 0),
    isInput(/train folder .*nowhere\/train not found/),
  );
});

test('subset and val_split apply as for CIFAR (val_dir not read); a random resized crop of the whole image is the image', () => {
  const root = freshTree();
  rmSync(join(root, 'val'), { recursive: true });
  const data = loadDataset(datasetConfig(root, {}, { subset: 6, val_split: 0.5 }), 0);
  assert.equal(data.train.count + data.test.count, 18);
  assert.equal(data.test.count, 9);

  const whole = { ...data, resizedCrop: { scale: [1, 1] as [number, number], ratio: [1, 1] as [number, number] } };
  const augment = { cropPadding: 0, flip: false };
  const order = [...trainBatches({ ...data, resizedCrop: null }, data.train.count, 3, 1, augment)][0]!;
  const cropped = [...trainBatches(whole, data.train.count, 3, 1, augment)][0]!;
  const max = order.x.reduce((m, v, i) => Math.max(m, Math.abs(v - cropped.x[i]!)), 0);
  assert.ok(max < 1e-5, `identity crop differs by ${max}`);
  const rrc = {
    ...data,
    resizedCrop: { scale: [0.3, 0.6] as [number, number], ratio: [3 / 4, 4 / 3] as [number, number] },
  };
  const a = [...trainBatches(rrc, 4, 3, 1, augment)][0]!;
  const b = [...trainBatches(rrc, 4, 3, 1, augment)][0]!;
  assert.deepEqual(a.x, b.x, 'seeded');
  assert.notDeepEqual(a.x, [...trainBatches(rrc, 4, 3, 2, augment)][0]!.x, 'another epoch crops differently');
  assert.ok(a.x.every(Number.isFinite));
  assert.equal([...evalBatches(rrc, rrc.test, 4)][0]!.x.length, 4 * 12 * 12 * 3);
});

test('lcconv run trains one epoch on the tree and records the skipped files; data list shows the cache; eval and export work', () => {
  const root = freshTree();
  const dir = tempDir('image-run');
  const config = writeTinyConfig(join(dir, 'images.yaml'), {
    dataset: {
      name: 'image_folder',
      root,
      augment: true,
      image_folder: { image_size: 8, random_resized_crop: true },
    },
    freeze: 'frozen',
    'train.batch_size': 8,
    results_dir: join(dir, 'results'),
  });
  const r = lcconv(['run', config, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /image_folder: skipped .*truncated\.jpg: not a readable image/);
  assert.match(r.stderr, /image_folder: train: 27 images decoded .* 2 skipped/);
  const experiment = join(dir, 'results', 'tiny');
  const runDir = join(experiment, readdirSync(experiment).find((d) => d.startsWith('frozen-'))!);
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.dataset, 'image_folder');
  assert.equal(summary.classes, 3);
  assert.equal(summary.dataset_source.skipped_files, 2);
  assert.equal(summary.dataset_source.mean.length, 3);

  const list = lcconv(['data', 'list', '--config', config]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(
    list.stdout,
    /image_folder +ok .*3 classes, 8px c3: train 29 files, cache ok \(27 decoded, 2 skipped\); val 9 files, cache ok/,
  );

  const ev = lcconv([
    'eval',
    runDir,
    '--images',
    '6',
    '--attacks',
    'fgsm',
    '--eps',
    '8',
    '--corruptions',
    'contrast',
    '--severities',
    '1',
  ]);
  assert.equal(ev.status, 0, ev.stderr);
  assert.doesNotMatch(ev.stderr, /decoded/, 'eval reads the cache, decodes nothing');
  const out = join(dir, 'export');
  const ex = lcconv(['export', runDir, '--out', out]);
  assert.equal(ex.status, 0, ex.stderr);
  assert.ok(existsSync(join(out, 'model.safetensors')));

  // A rerun after the tree changed reuses the finished run, and says its results are of the earlier images.
  const bee = join(root, 'train', 'bee');
  const one = readdirSync(bee).find((f) => f.endsWith('.png'))!;
  cpSync(join(bee, one), join(bee, `copy-${one}`));
  const again = lcconv(['run', config]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(
    again.stdout + again.stderr,
    /: its class-folder data changed since it trained \(train\); these results are of the earlier images: --force retrains on the current tree/,
  );

  // A problem in the tree is exit 2 with one line (a new results_dir: the finished run would be reused).
  mkdirSync(join(root, 'val', 'cat'));
  const bad = lcconv(['run', config, '--quiet', '--set', `results_dir=${join(dir, 'again')}`]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /train and val class folders differ/);
});

test('a full disk at the image cache (written by the build child process): one line, exit 1, no half cache', () => {
  const root = freshTree();
  const results = tempDir('image-folder-full');
  const preload = new URL('../full-disk-preload.js', import.meta.url).pathname;
  const r = spawnSync(
    process.execPath,
    [
      join(PACKAGE_ROOT, 'bin', 'lcconv.js'),
      'run',
      join(PACKAGE_ROOT, 'configs', 'image-folder.yaml'),
      '--set',
      `dataset.root=${root}`,
      '--set',
      `results_dir=${results}`,
      '--quiet',
    ],
    {
      encoding: 'utf8',
      // NODE_OPTIONS reaches the cache builder's own process too: the disk is full there.
      env: {
        ...process.env,
        CI: 'true',
        NODE_OPTIONS: `--import ${preload}`,
        LCCONV_TEST_FULL_DISK: JSON.stringify({ match: String.raw`\.lcimg\.tmp-` }),
      },
    },
  );
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('lcconv: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /^lcconv: dataset image_folder: cannot write the decoded-image cache in \S+\.lcconv-cache: no space left on device \(ENOSPC\); set dataset\.image_folder\.cache_dir to a writable folder$/,
  );
  const cache = join(root, '.lcconv-cache');
  assert.deepEqual(
    readdirSync(cache).filter((f) => f.endsWith('.lcimg') || f.includes('.tmp-')),
    [],
    'no cache file, whole or half',
  );
});

test('hostile trees: symlink loops end, a symlink back into the tree is not followed, FIFOs and dangling links are bad images, names that are not UTF-8 are named', {
  timeout: 120_000,
}, () => {
  const root = freshTree();
  const plain = planImageFolder(datasetConfig(root))[0]!.job.tree;
  const count = (cfg: DatasetConfig) => planImageFolder(cfg)[0]!.job.tree.files.length;
  // Two symlinks to their own folder: the scan grew exponentially; each real folder is now read once.
  symlinkSync('.', join(root, 'train', 'ant', 'l1'));
  symlinkSync('.', join(root, 'train', 'ant', 'l2'));
  assert.equal(count(datasetConfig(root)), plain.files.length);
  // Back up into the split's tree: its images would be labelled ant; not followed.
  symlinkSync('..', join(root, 'train', 'ant', 'up'));
  const tree = planImageFolder(datasetConfig(root))[0]!.job.tree;
  assert.equal(tree.files.length, plain.files.length);
  assert.deepEqual(
    tree.files.map((f) => [f.rel, f.label]),
    plain.files.map((f) => [f.rel, f.label]),
    'every image keeps its own label',
  );
  // Entries that cannot be images are bad images (skipped and named), never opened.
  spawnSync('mkfifo', [join(root, 'train', 'bee', 'pipe.png')]);
  symlinkSync(join(root, 'nowhere.jpg'), join(root, 'train', 'bee', 'dangling.jpg'));
  symlinkSync('self.jpg', join(root, 'train', 'bee', 'self.jpg'));
  writeFileSync(
    Buffer.from(`${join(root, 'train', 'bee')}/caf\xe9.png`, 'latin1'),
    readFileSync(
      join(
        root,
        'train',
        'bee',
        readdirSync(join(root, 'train', 'bee')).find((f) => f.endsWith('.png') && !f.startsWith('pipe'))!,
      ),
    ),
  );
  const data = loadDataset(datasetConfig(root), 0);
  assert.equal(data.train.count, made.train + made.awkward.good.length, 'the four entries are left out');
  const skipped = (data.source as { splits: { skipped: { file: string; reason: string }[] }[] }).splits[0]!.skipped;
  for (const [file, reason] of [
    ['bee/pipe.png', /not a regular file/],
    ['bee/dangling.jpg', /cannot be opened: no such file/],
    ['bee/self.jpg', /cannot be opened/],
    ['bee/caf\\xe9.png', /not UTF-8/],
  ] as const)
    assert.match(skipped.find((s) => s.file === file)?.reason ?? 'not skipped', reason, file);
  // A class folder whose name is not UTF-8 is named, not silently dropped.
  mkdirSync(Buffer.from(`${join(root, 'train')}/cla\xdf`, 'latin1'));
  assert.throws(
    () => planImageFolder(datasetConfig(root)),
    isInput(/train has a class folder whose name is not UTF-8 \(cla\\xdf\); rename it/),
  );
});

test("the cache: an edited header (mean), a header of the wrong shape and a folder in its place are damage, not crashes; lcconv's cache folder is never a class", () => {
  const root = freshTree();
  const cfg = datasetConfig(root);
  const first = loadDataset(cfg, 0);
  const file = cacheFileOf(cfg, 'train');
  const edit = (change: (header: Record<string, unknown>) => void) => {
    const bytes = readFileSync(file);
    const len = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.subarray(12, 12 + len).toString('utf8'));
    change(header);
    let json = Buffer.from(JSON.stringify(header));
    json = Buffer.concat([json, Buffer.alloc(Math.max(0, len - json.length), 0x20)]).subarray(0, len);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 12), json, bytes.subarray(12 + len)]));
  };
  edit((h) => {
    (h.mean as number[])[0] = 0.9;
  });
  assert.deepEqual(inspectCache(file, planImageFolder(cfg)[0]!.job.key), {
    state: 'damaged',
    why: 'header does not match its checksum',
  });
  assert.deepEqual(loadDataset(cfg, 0).mean, first.mean, 'rebuilt: the edited mean is not trained on');
  edit((h) => {
    h.class_names = null;
  });
  assert.equal(inspectCache(file, 'any').state, 'damaged');
  assert.deepEqual(loadDataset(cfg, 0).classNames, first.classNames);
  rmSync(file);
  mkdirSync(file);
  assert.equal(inspectCache(file, 'any').state, 'damaged');
  rmSync(file, { recursive: true });
  // train_dir: . with val_split: the cache folder lies inside the split's folder, and is not a class.
  const inTree = datasetConfig(join(root, 'train'), { train_dir: '.' }, { val_split: 0.25 });
  loadDataset(inTree, 0);
  assert.ok(existsSync(join(root, 'train', '.lcconv-cache')));
  assert.deepEqual(loadDataset(inTree, 0).classNames, first.classNames, 'a second run sees the same classes');
});

test('a split too large to hold decoded is refused before decoding, naming the keys', () => {
  const root = freshTree();
  const job = planImageFolder(datasetConfig(root))[0]!.job;
  assert.throws(
    () => checkSplitFits('train', job.tree, job.geometry, 2 ** 10),
    isInput(
      /^dataset image_folder: train: \d+ images of 12×12×3 are 0\.0 GiB decoded, more than the 0\.0 GiB a split may take here; lower dataset\.image_folder\.image_size/,
    ),
  );
});

test('on_bad_image: error holds for a cache built under skip; cache files of different folders never collide; transparent pixels keep their colour', async () => {
  const root = freshTree();
  loadDataset(datasetConfig(root), 0); // built under skip: the bad files are left out and listed
  assert.throws(
    () => loadDataset(datasetConfig(root, { on_bad_image: 'error' }), 0),
    isInput(
      /train\/ant\/\S+: not a readable image \(.*\); dataset\.image_folder\.on_bad_image: skip leaves such files out$/,
    ),
  );
  const cfg = datasetConfig(root);
  assert.notEqual(cacheFileOf(cfg, 't/v'), cacheFileOf(cfg, 't_v'));
  assert.notEqual(
    cacheFileOf(cfg, 'train'),
    cacheFileOf(datasetConfig(freshTree(), { cache_dir: cacheDirOf(cfg) }), 'train'),
  );
  // A fully transparent orange PNG: PIL's convert('RGB') keeps the orange; resizing with alpha made it black.
  const file = join(tempDir('alpha'), 'clear.png');
  await sharp(Buffer.alloc(20 * 20 * 4, Buffer.from([200, 100, 20, 0])), {
    raw: { width: 20, height: 20, channels: 4 },
  })
    .png()
    .toFile(file);
  const pixels = await decodeImage(file, { image_size: 8, crop_fraction: 1, channels: 3, resize: 'torchvision' });
  assert.deepEqual([...pixels.subarray(0, 3)], [200, 100, 20]);
});

test('a val_split that leaves a class without a validation image says so', () => {
  const root = freshTree();
  const cls = join(root, 'train', 'bee');
  const keep = readdirSync(cls).find((f) => f.endsWith('.png'))!;
  for (const f of readdirSync(cls)) if (f !== keep) rmSync(join(cls, f), { recursive: true });
  const said: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    said.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    loadDataset(datasetConfig(root, {}, { val_split: 0.25 }), 0);
  } finally {
    process.stderr.write = write;
  }
  assert.ok(
    said.some((l) => /^dataset\.val_split: 0\.25 holds out no image of class bee \(too few images\)/.test(l)),
    said.join(''),
  );
});

test('a file replaced by one of the same size with its old mtime restored makes the cache stale (ctime is in the key)', async () => {
  const root = freshTree();
  const cfg = datasetConfig(root);
  const bee = join(root, 'train', 'bee');
  const file = join(bee, readdirSync(bee).find((f) => f.endsWith('.png'))!);
  const stamp = 1_700_000_000; // whole seconds: restored exactly below
  utimesSync(file, stamp, stamp);
  loadDataset(cfg, 0);
  assert.equal(planImageFolder(cfg)[0]!.state.state, 'ok');
  await new Promise((ok) => setTimeout(ok, 20)); // a later ctime than the build's scan
  const bytes = readFileSync(file);
  bytes[bytes.length - 20]! ^= 0xff;
  writeFileSync(file, bytes); // same size
  utimesSync(file, stamp, stamp); // as cp -p or rsync -t leave it
  assert.equal(statSync(file).mtimeMs, stamp * 1000);
  assert.equal(planImageFolder(cfg)[0]!.state.state, 'stale');
});
