/**
 * The config keys that commands take as flags, with the description and default of each: generated
 * from src/config/schema.ts by `node scripts/write-flag-table.mjs` (after the build); do not edit by
 * hand (test/config/flags.test.ts fails when it differs from the schema). Data only, so help never
 * loads the schema.
 */
import type { SchemaFlag } from './reference.js';

export const SCHEMA_FLAGS: SchemaFlag[] = [
  {
    key: 'eval.attacks',
    flag: 'attacks',
    form: 'list',
    describe: 'adversarial attacks: fgsm and pgd (L∞), pgd_l2',
    default: '["fgsm","pgd"]',
  },
  {
    key: 'eval.linf_epsilons',
    flag: 'eps',
    form: 'list',
    describe: 'ε of fgsm and pgd in units of 1/255 of the [0,1] pixel range (before normalisation)',
    default: '[1,4]',
  },
  {
    key: 'eval.l2_epsilons',
    flag: 'l2-eps',
    form: 'list',
    describe: 'ε of pgd_l2 in [0,1] pixel units (L2 norm over all pixels and channels of one image)',
    default: '[0.125,0.25,0.5,1]',
  },
  {
    key: 'eval.steps',
    flag: 'steps',
    form: 'number',
    describe: 'PGD iterations',
    default: '10',
  },
  {
    key: 'eval.step_size',
    flag: 'step-size',
    form: 'number',
    describe: 'PGD step α = step_size·ε/steps',
    default: '2.5',
  },
  {
    key: 'eval.restarts',
    flag: 'restarts',
    form: 'number',
    describe: 'PGD random restarts (an image is robust only if it survives all)',
    default: '1',
  },
  {
    key: 'eval.corruptions',
    flag: 'corruptions',
    form: 'list',
    describe: 'built-in common corruptions (CIFAR-10-C parameters)',
    default: '["gaussian_noise","defocus_blur","contrast"]',
  },
  {
    key: 'eval.severities',
    flag: 'severities',
    form: 'list',
    describe: 'corruption severities, 1..5',
    default: '[3]',
  },
  {
    key: 'eval.cifar_c',
    flag: 'cifar-c',
    form: 'boolean',
    describe:
      'cifar10/cifar100 runs: also the 15 corruptions of CIFAR-10-C / CIFAR-100-C when present under dataset.root (lcconv data download cifar10-c)',
    default: 'true',
  },
  {
    key: 'eval.images',
    flag: 'images',
    form: 'string',
    describe: 'evaluate on N images of the split (seeded choice, the same for every run), or all',
    default: '1000',
  },
  {
    key: 'eval.seed',
    flag: 'seed',
    form: 'number',
    describe:
      'seed of the image choice, the corruptions and the PGD random starts (not the run seed, so every run sees the same images)',
    default: '0',
  },
  {
    key: 'eval.batch_size',
    flag: 'batch-size',
    form: 'number',
    describe: 'images per evaluation batch',
    default: '256',
  },
  {
    key: 'slurm.partition',
    flag: 'partition',
    form: 'string',
    describe: 'partition (sbatch --partition); unset = the cluster default',
  },
  {
    key: 'slurm.gpus_per_task',
    flag: 'gpus-per-task',
    form: 'number',
    describe: 'GPUs per array task (sbatch --gres=gpu:N); each task runs one trial',
    default: '0',
  },
  {
    key: 'slurm.cpus_per_task',
    flag: 'cpus-per-task',
    form: 'number',
    describe: 'CPU cores per array task (sbatch --cpus-per-task)',
    default: '1',
  },
  {
    key: 'slurm.time',
    flag: 'time',
    form: 'string',
    describe: 'wall-time limit per task (sbatch --time); unset = the partition default',
  },
  {
    key: 'slurm.max_parallel',
    flag: 'max-parallel',
    form: 'number',
    describe: 'at most this many tasks at once (the array %M throttle); unset = no limit',
  },
  {
    key: 'slurm.sbatch_args',
    flag: 'sbatch-arg',
    form: 'list',
    describe: 'extra sbatch options, one per item, e.g. --account=abc',
    default: '[]',
  },
  {
    key: 'sweep.max_trials',
    flag: 'max-trials',
    form: 'number',
    describe:
      'largest grid (number of points before exclude) a sweep may have; a guard against a typo expanding to millions of trials (lcconv sweep --max-trials N)',
    default: '10000',
  },
];
