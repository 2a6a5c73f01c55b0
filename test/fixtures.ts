/** Shared test fixtures: tiny configs and datasets (8×8 images, W = 4) so each test is fast. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';

export function tinyConfig(overrides: string[] = []): Config {
  const yaml = `
name: tiny
dataset:
  name: synthetic
  augment: false
  synthetic: { train_size: 64, test_size: 32, image_size: 8, classes: 4 }
model: { arch: resnet8, width: 4, kernel_size: 3 }
train: { epochs: 1, batch_size: 16, lr: 0.05 }
compare_to_standard: false
backend: cpu
`;
  return loadConfigText(yaml, 'tiny.yaml', overrides).config;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lcconv-${prefix}-`));
}
