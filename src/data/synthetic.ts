/**
 * A deterministic, learnable synthetic image set for tests and smoke runs: each class is a seeded
 * mix of two oriented colour gratings; each image is a randomly shifted copy with pixel noise and a
 * random brightness. Orientation and frequency differ between classes, so small convs separate them.
 */
import type { DatasetConfig } from '../config/schema.js';
import { totalmem } from 'node:os';
import { InputError } from '../errors.js';
import { formatCount } from '../format.js';
import { rngFor, type Rng } from '../random.js';
import { channelStats, type Dataset, type ImageSplit } from './dataset.js';

interface Grating {
  fx: number;
  fy: number;
  phase: number;
  colour: number[];
}

function classPatterns(classes: number, channels: number, rng: Rng): Grating[][] {
  return Array.from({ length: classes }, (_, c) =>
    [0, 1].map((g) => {
      // Spread orientations evenly across classes so every pair of classes differs.
      const angle = (Math.PI * (c + 0.5 * g + 0.25 * rng())) / classes;
      const freq = 0.35 + 0.5 * rng();
      return {
        fx: freq * Math.cos(angle),
        fy: freq * Math.sin(angle),
        phase: 2 * Math.PI * rng(),
        colour: Array.from({ length: channels }, () => 0.4 + 0.6 * rng()),
      };
    }),
  );
}

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function makeSplit(
  patterns: Grating[][],
  count: number,
  size: number,
  channels: number,
  noise: number,
  rng: Rng,
): ImageSplit {
  const images = new Uint8Array(count * size * size * channels);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % patterns.length; // balanced classes
    labels[i] = label;
    const dx = Math.floor(rng() * size);
    const dy = Math.floor(rng() * size);
    const brightness = 0.8 + 0.4 * rng();
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < channels; c++) {
          let v = 0;
          for (const g of patterns[label]!) v += g.colour[c]! * Math.sin(g.fx * (x + dx) + g.fy * (y + dy) + g.phase);
          v = brightness * v * 0.5 + noise * gaussian(rng);
          images[((i * size + y) * size + x) * channels + c] = Math.max(0, Math.min(255, Math.round(128 + 100 * v)));
        }
  }
  return { images, labels, count };
}

/**
 * Refuses, before allocating, a set larger than half this machine's memory (`memoryLimit`), naming
 * the keys that size it: generating it would take the machine's memory while ignoring Ctrl-C.
 */
export function checkSyntheticFits(cfg: DatasetConfig['synthetic'], memoryLimit = totalmem()): void {
  const bytes = (cfg.train_size + cfg.test_size) * cfg.image_size * cfg.image_size * cfg.channels;
  if (bytes > memoryLimit / 2)
    throw new InputError(
      `dataset.synthetic: ${formatCount(cfg.train_size)} + ${formatCount(cfg.test_size)} images of ${cfg.image_size}×${cfg.image_size}×${cfg.channels} need ${(bytes / 2 ** 30).toFixed(1)} GiB, more than half this machine's ${(memoryLimit / 2 ** 30).toFixed(1)} GiB; lower dataset.synthetic.train_size, test_size or image_size`,
    );
}

export function loadSynthetic(cfg: DatasetConfig['synthetic'], seed: number): Dataset {
  checkSyntheticFits(cfg);
  const patterns = classPatterns(cfg.classes, cfg.channels, rngFor(seed, 'synthetic/classes'));
  const train = makeSplit(
    patterns,
    cfg.train_size,
    cfg.image_size,
    cfg.channels,
    cfg.noise,
    rngFor(seed, 'synthetic/train'),
  );
  const test = makeSplit(
    patterns,
    cfg.test_size,
    cfg.image_size,
    cfg.channels,
    cfg.noise,
    rngFor(seed, 'synthetic/test'),
  );
  return {
    name: 'synthetic',
    height: cfg.image_size,
    width: cfg.image_size,
    channels: cfg.channels,
    classNames: Array.from({ length: cfg.classes }, (_, c) => `class${c}`),
    train,
    test,
    ...channelStats(train, cfg.channels),
    flipAugment: true,
  };
}
