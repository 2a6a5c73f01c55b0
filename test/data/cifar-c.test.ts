/**
 * CIFAR-10-C: .npy reading, the folder check, download through a loopback server (MD5 checked,
 * plain .tar), and evaluation of a model on the published corrupted images.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tar from 'tar';
import { CIFAR10C_LAYOUT, checkCorruptedDir, readCorrupted, type CorruptedLayout } from '../../src/data/cifar-c.js';
import type { Dataset } from '../../src/data/dataset.js';
import { downloadDataset } from '../../src/data/download.js';
import { InputError } from '../../src/errors.js';
import { evaluateRobustness } from '../../src/eval/evaluate.js';
import { CIFAR_C_CORRUPTIONS } from '../../src/config/names.js';
import { buildNetwork } from '../../src/models/index.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { tempDir, tinyResNetSpec } from '../fixtures.js';

tf.env().set('PROD', true);

/** A .npy v1.0 file of uint8 with the given shape; data padded to a 64-byte-aligned header as NumPy writes it. */
function npy(shape: number[], data: Uint8Array): Buffer {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += `${' '.repeat(63 - ((10 + dict.length) % 64))}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data)]);
}

const PER = 2; // test images per severity in the tiny copy
const TINY: CorruptedLayout = { ...CIFAR10C_LAYOUT, perSeverity: PER };
const PIXELS = 32 * 32 * 3;
/** Pixel value of image i (in the test set), severity s, corruption c: distinct per (c, s, i). */
const value = (c: number, s: number, i: number) => (c * 50 + s * 10 + i) % 256;

function writeTinyCopy(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'labels.npy'),
    npy(
      [5 * PER],
      Uint8Array.from({ length: 5 * PER }, (_, i) => i % PER),
    ),
  );
  TINY.corruptions.forEach((name, c) => {
    const data = new Uint8Array(5 * PER * PIXELS);
    for (let s = 1; s <= 5; s++)
      for (let i = 0; i < PER; i++)
        data.fill(value(c, s, i), ((s - 1) * PER + i) * PIXELS, ((s - 1) * PER + i + 1) * PIXELS);
    writeFileSync(join(dir, `${name}.npy`), npy([5 * PER, 32, 32, 3], data));
  });
}

let server: Server;
let base = '';
let archive: Buffer;
before(async () => {
  const src = tempDir('cifar-c-src');
  writeTinyCopy(join(src, TINY.dir));
  const file = join(src, 'CIFAR-10-C.tar');
  await tar.c({ file, cwd: src }, [TINY.dir]); // plain tar, as on Zenodo
  archive = readFileSync(file);
  server = createServer((req, res) => {
    if (req.url !== '/CIFAR-10-C.tar') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': archive.length });
    res.end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('cifar10-c download: MD5 checked, plain tar unpacked, every .npy checked, then reads the right severity block', async () => {
  const root = join(tempDir('dl-c'), 'data');
  const md5 = createHash('md5').update(archive).digest('hex');
  const check = (dir: string) => checkCorruptedDir(dir, TINY);
  await assert.rejects(
    downloadDataset('cifar10-c', { root, url: `${base}/CIFAR-10-C.tar`, md5: '0'.repeat(32), check }),
    (e: Error) => e instanceof InputError && /MD5 mismatch/.test(e.message),
  );
  assert.deepEqual(readdirSync(root), [], 'nothing left after a failed download');
  const result = await downloadDataset('cifar10-c', { root, url: `${base}/CIFAR-10-C.tar`, md5, check });
  assert.equal(result.status, 'downloaded');
  assert.deepEqual(readdirSync(root), [TINY.dir]);
  assert.equal(
    (await downloadDataset('cifar10-c', { root, url: `${base}/CIFAR-10-C.tar`, md5, check })).status,
    'present',
  );
  // The official layout wants 50,000 images per file: this tiny copy is not complete for it.
  assert.match(
    checkCorruptedDir(join(root, TINY.dir), CIFAR10C_LAYOUT)!,
    /labels\.npy: shape \(10\), expected \(50000\)/,
  );
  const c = TINY.corruptions.indexOf('fog');
  const images = readCorrupted(join(root, TINY.dir), 'fog', 4, [1, 0], PER);
  assert.equal(images[0], value(c, 4, 1));
  assert.equal(images[PIXELS], value(c, 4, 0));
});

test('a truncated .npy is reported with its expected size', () => {
  const dir = join(tempDir('npy-bad'), TINY.dir);
  writeTinyCopy(dir);
  const file = join(dir, 'snow.npy');
  writeFileSync(file, readFileSync(file).subarray(0, 500));
  assert.match(
    checkCorruptedDir(dir, TINY)!,
    /snow\.npy: expected [\d,]+ bytes for shape \(10, 32, 32, 3\) \|u1, found 500/,
  );
});

test('the published corruptions are evaluated per corruption and severity on the test split only', async () => {
  const dir = join(tempDir('eval-c'), TINY.dir);
  writeTinyCopy(dir);
  const data: Dataset = {
    name: 'cifar10',
    height: 32,
    width: 32,
    channels: 3,
    classNames: ['a', 'b'],
    flipAugment: true,
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    train: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    test: { images: new Uint8Array(PER * PIXELS).fill(100), labels: Uint8Array.from([0, 1]), count: PER },
  };
  const model = buildNetwork(tinyResNetSpec({ numClasses: 2, seed: 0 }));
  const config = ConfigSchema.parse({ eval: { attacks: [], corruptions: [], severities: [1, 5] } }).eval;
  try {
    const rows = await evaluateRobustness(model, data, 'test', config, { published: { dir, perSeverity: PER } });
    assert.deepEqual(
      rows.map((r) => `${r.metric}/${r.name}/${r.severity ?? ''}`),
      ['clean/clean/', ...CIFAR_C_CORRUPTIONS.flatMap((n) => [`cifar-c/${n}/1`, `cifar-c/${n}/5`])],
    );
    // Two images of two classes, each image one uniform colour: a fixed model gets 0, 1 or 2 right.
    assert.ok(rows.every((r) => r.n === PER && [0, 0.5, 1].includes(r.accuracy)));
    const onVal = await evaluateRobustness(model, data, 'val', config, { published: { dir, perSeverity: PER } });
    assert.deepEqual(
      onVal.map((r) => r.name),
      ['clean'],
      'a val_split hold-out is not the test set CIFAR-C was made from',
    );
  } finally {
    model.dispose();
  }
});
