/** Shared test fixtures: tiny experiments (8×8 images, W = 4, resnet8) so each test is fast. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { setKeyPath } from '../src/config/grid.js';
import { loadConfigText } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { buildCli } from '../src/cli/main.js';
import { InputError } from '../src/errors.js';
import { PACKAGE_ROOT } from '../src/provenance.js';
import { EPOCH_COLUMNS, type RunStart, type RunSummary } from '../src/runs/records.js';
import type { ModelSpec } from '../src/models/index.js';

/** The tiny experiment every test starts from: synthetic data, pure-JS cpu, no standard-training arm. */
const TINY = {
  name: 'tiny',
  dataset: {
    name: 'synthetic',
    augment: false,
    synthetic: { train_size: 64, test_size: 32, image_size: 8, classes: 4 },
  },
  model: { arch: 'resnet8', width: 4, kernel_size: 3 },
  train: { epochs: 1, batch_size: 16, lr: 0.05 },
  compare_to_standard: false,
  backend: 'cpu',
};

/** TINY with `settings` (dotted key paths → values, e.g. { 'train.epochs': 6, sweep: {…} }) as YAML. */
export function tinyYaml(settings: Record<string, unknown> = {}): string {
  const raw = structuredClone(TINY) as Record<string, unknown>;
  for (const [key, value] of Object.entries(settings)) setKeyPath(raw, key, value);
  return stringify(raw);
}

/** Writes a tiny experiment file for CLI tests; returns its path. */
export function writeTinyConfig(file: string, settings: Record<string, unknown> = {}): string {
  writeFileSync(file, tinyYaml(settings));
  return file;
}

export function tinyConfig(overrides: string[] = []): Config {
  return loadConfigText(tinyYaml(), 'tiny.yaml', overrides).config;
}

/** Temp folders made by this test process; removed when it exits (set LCCONV_KEEP_TEST_DIRS=1 to inspect them). */
const made: string[] = [];
process.on('exit', () => {
  if (!process.env.LCCONV_KEEP_TEST_DIRS) for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lcconv-${prefix}-`));
  made.push(dir);
  return dir;
}

export const BIN = join(PACKAGE_ROOT, 'bin', 'lcconv.js');

/**
 * Parses `args` in this process with the CLI's own builder (and runs the handler, which for bad
 * flags throws before doing anything); returns the InputError it threw — what `lcconv` prints as one
 * line with exit 2 — or fails the test. For flag checks that need no child process.
 */
export async function inputErrorOf(args: string[]): Promise<InputError> {
  try {
    await buildCli(args).parseAsync();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error(`lcconv ${args.join(' ')}: expected an input error, got none`);
}

/** Runs the CLI to completion, as CI would (no TTY, CI=true). */
export const lcconv = (args: string[], cwd = PACKAGE_ROOT) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

/** A finished run directory: summary, config.yaml and an `epochs`-epoch metrics.csv ending at `acc`. */
export function fixtureRun(
  dir: string,
  freeze: string,
  k: number,
  seed: number,
  acc: number,
  learnable: number,
  epochs = 3,
  valSplit = 0,
): void {
  const runId = `${freeze}-k${k}-E1-seed${seed}-fixture${epochs === 3 ? '0' : `-e${epochs}`}`;
  const runDir = join(dir, runId);
  mkdirSync(runDir, { recursive: true });
  const summary: RunSummary = {
    run_id: runId,
    dir: runDir,
    seed,
    freeze,
    kernel_size: k,
    lc_expansion: 1,
    lc_depthwise: false,
    group: `k${k}-e${epochs}`,
    standard_group: `k${k}-e${epochs}`,
    spatial_init: 'default',
    status: 'finished',
    arch: 'resnet8',
    dataset: 'synthetic',
    epochs,
    classes: 10,
    final_val_acc: acc,
    final_val_loss: 1,
    best_val_acc: acc + 0.01,
    best_epoch: epochs,
    final_train_acc: acc,
    params: { total: 1000, learnable, frozen: 1000 - learnable, stored: 1000, buffers: 10 },
    backend: 'cpu',
    device: 'cpu',
    backend_skipped: [],
    versions: {},
    git_commit: null,
    wall_seconds: 1,
    train_images_per_second: 1,
    finished_at: '2026-01-01T00:00:00Z',
  };
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary));
  writeFileSync(
    join(runDir, 'config.yaml'),
    `# lcconv resolved config\nname: fixture\nseed: ${seed}\nfreeze: ${freeze}\nbackend: cpu\nmodel:\n  kernel_size: ${k}\n  width: 4\ndataset:\n  val_split: ${valSplit}\ntrain:\n  epochs: ${epochs}\n`,
  );
  const rows = Array.from({ length: epochs }, (_, i) => i + 1).map((e) =>
    [e, 0.1, 1, (acc * e) / epochs, 1, (acc * e) / epochs, (acc * e) / epochs, 1, 1, learnable, 1000 - learnable].join(
      ',',
    ),
  );
  writeFileSync(join(runDir, 'metrics.csv'), `${EPOCH_COLUMNS.join(',')}\n${rows.join('\n')}\n`);
}

/** A tiny ResNet-8 (W = 4, k = 3, frozen i.i.d. filters) for tests that build a model directly. */
export function tinyResNetSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    arch: 'resnet8',
    width: 4,
    kernelSize: 3,
    lcExpansion: 1,
    lcDepthwise: false,
    lcCompute: 'auto',
    freeze: 'frozen',
    init: 'kaiming_uniform',
    spatialInit: { kind: 'iid', scheme: 'kaiming_uniform' },
    inChannels: 3,
    numClasses: 10,
    seed: 0,
    ...overrides,
  };
}

/** What a sink is told when a run starts: a small frozen LC run on synthetic data, on the cpu backend. */
export function runStart(overrides: Partial<RunStart> = {}): RunStart {
  return {
    run_id: 'frozen-k3-E8-seed2-abc',
    dir: '/tmp/x',
    seed: 2,
    freeze: 'frozen',
    kernel_size: 3,
    lc_expansion: 8,
    lc_depthwise: false,
    group: 'g',
    standard_group: 'g',
    spatial_init: 'default',
    arch: 'resnet8',
    dataset: 'synthetic',
    epochs: 4,
    stepsPerEpoch: 10,
    batchSize: 32,
    counts: { total: 10, learnable: 5, frozen: 5, stored: 10, buffers: 2 },
    lcCompute: 'auto',
    lcForms: { 'stem.conv': 'composed', 'stage1.block1.conv1': 'composed', 'stage3.block1.conv1': 'expanded' },
    backend: 'cpu',
    device: 'CPU',
    firstEpoch: 1,
    ...overrides,
  };
}
