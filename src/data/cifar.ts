/**
 * CIFAR-10 and CIFAR-100 in their official binary formats: fixed-size records of label byte(s) and
 * 3,072 pixel bytes (32×32, channel-major RGB). CIFAR-10 (cifar-10-batches-bin/) has 1 label byte
 * and 10,000 records per file; CIFAR-100 (cifar-100-binary/) has coarse then fine label bytes,
 * 50,000 records in train.bin and 10,000 in test.bin. Converted to NHWC uint8 on load.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { formatCount } from '../format.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';
import { readChecked, requireFiles } from './files.js';

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

/** Where a CIFAR variant's files are and how many records each holds; `recordsPerFile` is what `lcconv data list` checks sizes against. */
export interface CifarLayout {
  dir: string;
  trainFiles: string[];
  testFile: string;
  labelBytes: number; // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  trainRecordsPerFile: number;
  testRecords: number;
}

export const CIFAR10_LAYOUT: CifarLayout = {
  dir: 'cifar-10-batches-bin',
  trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  testFile: 'test_batch.bin',
  labelBytes: 1,
  trainRecordsPerFile: 10_000,
  testRecords: 10_000,
};

export const CIFAR100_LAYOUT: CifarLayout = {
  dir: 'cifar-100-binary',
  trainFiles: ['train.bin'],
  testFile: 'test.bin',
  labelBytes: 2,
  trainRecordsPerFile: 50_000,
  testRecords: 10_000,
};

/** Every file of a layout with its exact expected size in bytes. */
export function cifarFiles(layout: CifarLayout): { file: string; bytes: number }[] {
  const record = layout.labelBytes + PIXELS;
  return [
    ...layout.trainFiles.map((f) => ({ file: f, bytes: layout.trainRecordsPerFile * record })),
    { file: layout.testFile, bytes: layout.testRecords * record },
  ];
}

const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_SHAPE = { height: SIDE, width: SIDE, channels: 3, classes: CIFAR10_CLASSES.length };

// Label order of the archive's fine_label_names.txt / coarse_label_names.txt (alphabetical).
const CIFAR100_FINE = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish ' +
  'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle ' +
  'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine ' +
  'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar ' +
  'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree ' +
  'wolf woman worm'
).split(' ');
const CIFAR100_COARSE = (
  'aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices household_furniture ' +
  'insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores ' +
  'medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2'
).split(' ');

/**
 * Reads label-prefixed records; checks every file's size and every label. `labelIndex` picks which
 * label byte is the class (CIFAR-100: 0 = coarse, 1 = fine); each label byte is range-checked.
 */
function readRecords(
  files: string[],
  perFile: number,
  layout: CifarLayout,
  labelIndex: number,
  labelRanges: number[],
): ImageSplit {
  const record = layout.labelBytes + PIXELS;
  const count = files.length * perFile;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  const what = `${formatCount(perFile)} records of ${formatCount(record)}`;
  files.forEach((file, f) => {
    const bytes = readChecked(file, perFile * record, what);
    for (let r = 0; r < perFile; r++) {
      const i = f * perFile + r;
      const off = r * record;
      for (let b = 0; b < layout.labelBytes; b++) {
        const label = bytes[off + b]!;
        if (label >= labelRanges[b]!)
          throw new InputError(
            `${file}: record ${r} has ${layout.labelBytes > 1 ? ['coarse ', 'fine '][b] : ''}label ${label}, expected 0..${labelRanges[b]! - 1}`,
          );
      }
      labels[i] = bytes[off + labelIndex]!;
      // channel-major (all R, all G, all B) → pixel-major NHWC
      const px = off + layout.labelBytes;
      for (let p = 0; p < SIDE * SIDE; p++)
        for (let c = 0; c < 3; c++) images[i * PIXELS + p * 3 + c] = bytes[px + c * SIDE * SIDE + p]!;
    }
  });
  return { images, labels, count };
}

/** The official archives (binary versions), which `lcconv data download` fetches. */
export const CIFAR_URLS = {
  cifar10: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  cifar100: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
} as const;

/** The command that gets a missing CIFAR set. */
export function downloadCommand(name: keyof typeof CIFAR_URLS, root: string): string {
  return `lcconv data download ${name} --root ${root}`;
}

function missingHint(name: keyof typeof CIFAR_URLS, root: string): string {
  return `download it with '${downloadCommand(name, root)}', or extract ${CIFAR_URLS[name]} into ${root}/`;
}

/** CIFAR-10 from `<root>/cifar-10-batches-bin/`; `layout` is the official one except in tests (small generated files). */
export function loadCifar10(root: string, layout: CifarLayout = CIFAR10_LAYOUT): Dataset {
  const dir = join(root, layout.dir);
  const files = [...layout.trainFiles, layout.testFile].map((f) => join(dir, f));
  requireFiles('cifar10', files, missingHint('cifar10', root));
  const train = readRecords(files.slice(0, -1), layout.trainRecordsPerFile, layout, 0, [10]);
  const test = readRecords(files.slice(-1), layout.testRecords, layout, 0, [10]);
  return {
    name: 'cifar10',
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames: CIFAR10_CLASSES,
    train,
    test,
    ...channelStats(train, 3),
    flipAugment: true,
  };
}

/** CIFAR-100 from `<root>/cifar-100-binary/`: the 100 fine classes, or the 20 coarse superclasses. */
export function loadCifar100(
  root: string,
  labelMode: 'fine' | 'coarse',
  layout: CifarLayout = CIFAR100_LAYOUT,
): Dataset {
  const dir = join(root, layout.dir);
  const files = [...layout.trainFiles, layout.testFile].map((f) => join(dir, f));
  requireFiles('cifar100', files, missingHint('cifar100', root));
  const labelIndex = labelMode === 'coarse' ? 0 : 1;
  const ranges = [CIFAR100_COARSE.length, CIFAR100_FINE.length];
  const train = readRecords(files.slice(0, -1), layout.trainRecordsPerFile, layout, labelIndex, ranges);
  const test = readRecords(files.slice(-1), layout.testRecords, layout, labelIndex, ranges);
  const classNames = labelMode === 'coarse' ? CIFAR100_COARSE : CIFAR100_FINE;
  return {
    name: 'cifar100',
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames,
    train,
    test,
    ...channelStats(train, 3),
    flipAugment: true,
  };
}
