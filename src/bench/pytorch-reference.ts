/**
 * Runs the repo's PyTorch reference (bench/pytorch_reference.py: the same ResNet, freeze mode and
 * batch) on the same machine, so `lcconv bench --pytorch` puts the lcconv/PyTorch ratio on record
 * from one command.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { datasetShape } from '../data/index.js';
import { InputError } from '../errors.js';
import { isUserModel } from '../config/names.js';
import { cifarBlocksPerStage } from '../models/registry.js';
import { PACKAGE_ROOT } from '../provenance.js';
import type { EpochTiming } from './whole-run.js';

export interface ReferenceResult {
  framework: string;
  device: string;
  model: { learnable_params: number; stored_params: number };
  train: { images_per_second: number; seconds_per_step: number };
  eval: { images_per_second: number; seconds_per_batch: number };
}

export interface ReferenceOptions {
  python: string;
  steps: number;
  warmup: number;
  /** 'cpu' or 'cuda'; the reference picks cuda when it has one. */
  device?: string;
  threads?: number;
}

/** A CIFAR ResNet by its depth, any other architecture by name (the twin's --arch). */
function architectureArgs(arch: Config['model']['arch']): string[] {
  if (isUserModel(arch))
    throw new InputError(
      `model.arch: ${arch}: --pytorch compares the built-in architectures with their PyTorch twins (bench/pytorch_reference.py); your own model has none`,
    );
  const n = cifarBlocksPerStage(arch);
  return n === null ? ['--arch', arch] : ['--depth', String(6 * n + 2)];
}

/** The model, optimizer and data-shape flags both reference modes take. */
function modelArgs(config: Config): string[] {
  const shape = datasetShape(config.dataset);
  const m = config.model;
  return [
    join(PACKAGE_ROOT, 'bench', 'pytorch_reference.py'),
    ...architectureArgs(m.arch),
    '--width',
    String(m.width),
    '--kernel-size',
    String(m.kernel_size),
    '--freeze',
    config.freeze,
    '--lc-expansion',
    String(m.lc_expansion),
    ...(m.lc_depthwise ? ['--lc-depthwise'] : []),
    '--batch-size',
    String(config.train.batch_size),
    '--image-size',
    String(shape.height),
    '--channels',
    String(shape.channels),
    '--classes',
    String(shape.classes),
    '--lr',
    String(config.train.lr),
    '--momentum',
    String(config.train.momentum),
    '--nesterov',
    config.train.nesterov ? '1' : '0',
    '--weight-decay',
    String(config.train.weight_decay),
    '--label-smoothing',
    String(config.train.label_smoothing),
    '--seed',
    String(config.seed),
  ];
}

export function runPytorchReference(config: Config, options: ReferenceOptions): ReferenceResult {
  const args = [
    ...modelArgs(config),
    '--steps',
    String(options.steps),
    '--warmup',
    String(options.warmup),
    ...(options.device ? ['--device', options.device] : []),
    ...(options.threads ? ['--threads', String(options.threads)] : []),
  ];
  return runReference(options.python, args) as ReferenceResult;
}

export interface WholeRunReferenceResult {
  framework: string;
  device: string;
  train_images: number;
  test_images: number;
  epochs: EpochTiming[];
  peak_rss_bytes: number;
}

/** The reference's --whole-run mode on the dataset exported to `dataDir` (see src/bench/whole-run.ts), on the CPU. */
export function runPytorchWholeRun(
  config: Config,
  dataDir: string,
  options: { python: string; epochs: number; threads?: number },
): WholeRunReferenceResult {
  const args = [
    ...modelArgs(config),
    '--whole-run',
    dataDir,
    '--epochs',
    String(options.epochs),
    '--device',
    'cpu',
    ...(options.threads ? ['--threads', String(options.threads)] : []),
  ];
  return runReference(options.python, args) as WholeRunReferenceResult;
}

/**
 * glibc's malloc settings lcconv's native backend applies to itself (tuneMalloc in
 * native/src/addon.cc), given to the reference too. With glibc's defaults every activation-sized
 * tensor is a fresh mmap whose pages fault in one by one; on the VM these benchmarks ran on that
 * made the reference's relu 7x and a whole training step 2x slower (docs/benchmarks.md), which
 * would flatter lcconv. A GLIBC_TUNABLES of the caller's own, or LCCONV_KEEP_MALLOC=1, wins.
 */
const REFERENCE_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456';

export function referenceEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined || env.LCCONV_KEEP_MALLOC === '1') return env;
  return { ...env, GLIBC_TUNABLES: REFERENCE_MALLOC_TUNABLES };
}

function runReference(python: string, args: string[]): unknown {
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: referenceEnv() });
  if (r.error)
    throw new InputError(
      `--pytorch: cannot run '${python}' (${r.error.message}); name a Python with PyTorch, e.g. --pytorch /usr/bin/python3`,
    );
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    throw new InputError(
      `--pytorch: the PyTorch reference failed under '${python}': ${last} (Debian/Ubuntu: apt-get install python3-torch)`,
    );
  }
  return JSON.parse(r.stdout);
}
