/**
 * CIFAR-10 in its official binary format (cifar-10-batches-bin/): records of 1 label byte and
 * 3,072 pixel bytes (32×32, channel-major RGB), 10,000 per file. Converted to NHWC on load.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;
const RECORD = 1 + PIXELS;
const PER_FILE = 10_000;

export const CIFAR10_DIR = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_SHAPE = { height: SIDE, width: SIDE, channels: 3, classes: CIFAR10_CLASSES.length };

/** Reads label-prefixed records from files; checks every size and label. */
function readRecords(files: string[], classes: number): ImageSplit {
  const count = files.length * PER_FILE;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  files.forEach((file, f) => {
    const expected = PER_FILE * RECORD;
    const size = statSync(file).size;
    if (size !== expected) throw new InputError(`${file}: expected ${expected.toLocaleString('en-US')} bytes (${PER_FILE.toLocaleString('en-US')} records of ${RECORD.toLocaleString('en-US')}), found ${size.toLocaleString('en-US')}`);
    const bytes = readFileSync(file);
    for (let r = 0; r < PER_FILE; r++) {
      const i = f * PER_FILE + r;
      const off = r * RECORD;
      const label = bytes[off]!;
      if (label >= classes) throw new InputError(`${file}: record ${r} has label ${label}, expected 0..${classes - 1}`);
      labels[i] = label;
      // channel-major (all R, all G, all B) → pixel-major NHWC
      for (let p = 0; p < SIDE * SIDE; p++)
        for (let c = 0; c < 3; c++) images[i * PIXELS + p * 3 + c] = bytes[off + 1 + c * SIDE * SIDE + p]!;
    }
  });
  return { images, labels, count };
}

export function loadCifar10(root: string): Dataset {
  const dir = join(root, CIFAR10_DIR);
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].map((f) => join(dir, f));
  const missing = files.find((f) => !existsSync(f));
  if (missing) {
    throw new InputError(
      `dataset cifar10: ${missing} not found; download it with 'lcconv data download cifar10 --root ${root}', or extract https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz into ${root}/`,
    );
  }
  const train = readRecords(files.slice(0, 5), 10);
  const test = readRecords(files.slice(5), 10);
  return { name: 'cifar10', height: SIDE, width: SIDE, channels: 3, classNames: CIFAR10_CLASSES, train, test, ...channelStats(train, 3), flipAugment: true };
}
