/**
 * The one place a config key exists: type, default, bounds and a one-line doc for every key.
 * The TypeScript types, `--set` overrides, error key paths and docs/config.md all derive from it.
 */
import { z } from 'zod';
import { ARCH_NAMES, ATTACK_NAMES, CORRUPTION_NAMES, defaultWidth, USER_MODEL_PATH } from './names.js';
import { BACKEND_CHOICES } from './choices.js';

export { BACKEND_CHOICES };

/** The largest sweep grid accepted unless `sweep.max_trials` / `--max-trials` raises it. */
export const DEFAULT_MAX_TRIALS = 10_000;

export const FREEZE_MODES = ['learned', 'frozen', 'shared'] as const;
export type FreezeMode = (typeof FREEZE_MODES)[number];

/** How an LC block is computed; every form gives the same function, gradients and weights. */
export const LC_COMPUTE_MODES = ['auto', 'composed', 'expanded'] as const;
export type LcCompute = (typeof LC_COMPUTE_MODES)[number];

export const INIT_SCHEMES = ['kaiming_uniform', 'kaiming_normal', 'xavier_uniform', 'xavier_normal'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/** k×k filter init: `default` follows `init`; the i.i.d. schemes; two Gaussians with a k²×k² covariance. */
export const SPATIAL_INIT_SCHEMES = ['default', ...INIT_SCHEMES, 'smooth', 'from_run'] as const;
export type SpatialInitScheme = (typeof SPATIAL_INIT_SCHEMES)[number];

export const DATASET_NAMES = [
  'synthetic',
  'cifar10',
  'cifar100',
  'fashion-mnist',
  'mnist-10k',
  'mnist-idx',
  'fashion-mnist-idx',
  'image_folder',
] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

const int = () => z.int();
/** A thread count no machine has: a bound on input, not on this machine (the backend clamps to its cores). */
const MAX_THREADS = 4096;
/** More images than any dataset lcconv reads (ImageNet has 1.3 M); a bound on input, checked before generating. */
const MAX_IMAGES = 10_000_000;

const oddKernel = int()
  .min(1)
  .refine((k) => k % 2 === 1, { message: 'must be odd (the conv is padded by k//2 on each side)' });

const Synthetic = z
  .strictObject({
    // Bounded here, before anything is generated (the generator also checks the bytes against memory).
    train_size: int().min(2).max(MAX_IMAGES).default(2000).describe('training images'),
    test_size: int().min(1).max(MAX_IMAGES).default(500).describe('validation images'),
    image_size: int().min(4).max(1024).default(16).describe('height = width in pixels'),
    channels: int().min(1).max(4).default(3).describe('colour channels'),
    classes: int()
      .min(2)
      .max(256, 'at most 256 (labels are stored as one byte)')
      .default(10)
      .describe('number of classes'),
    noise: z
      .number()
      .min(0)
      .default(0.35)
      .describe('noise std relative to the class pattern contrast; higher is harder'),
  })
  .describe('generated data: each class is a seeded random oriented pattern, each image a shifted noisy copy');

const ImageFolder = z
  .strictObject({
    train_dir: z.string().min(1).default('train').describe('training tree under dataset.root: one folder per class'),
    val_dir: z
      .string()
      .min(1)
      .default('val')
      .describe('validation tree under dataset.root, same class folders; not read when dataset.val_split > 0'),
    image_size: int().min(4).max(1024).default(64).describe('height = width in pixels of the decoded images'),
    crop_fraction: z
      .number()
      .gt(0)
      .max(1)
      .default(1)
      .describe(
        'the shorter side is resized to image_size / crop_fraction, then the centre image_size square is cut (0.875 = torchvision Resize(256) + CenterCrop(224))',
      ),
    channels: z
      .literal([1, 3])
      .default(3)
      .describe("3 = RGB (greyscale, palette and RGBA files converted as PIL's convert('RGB')), 1 = greyscale"),
    resize: z
      .enum(['torchvision', 'lanczos'])
      .default('torchvision')
      .describe(
        "torchvision = the pixels of torchvision's Resize(image_size / crop_fraction) + CenterCrop(image_size) on PIL images (PIL's antialiased bilinear; greyscale as PIL's convert('L')); lanczos = libvips' Lanczos-3 with JPEG shrink-on-load and linear-light greyscale (lcconv's decode before resize existed). Both apply EXIF orientation, which torchvision's default loader ignores",
      ),
    random_resized_crop: z
      .boolean()
      .default(false)
      .describe(
        'with dataset.augment: a random crop of area crop_scale and aspect 3/4..4/3 of each decoded image, resized back (bilinear), instead of the padded crop',
      ),
    crop_scale: z
      .tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)])
      .default([0.35, 1])
      .describe('random_resized_crop: [min, max] fraction of the image area a crop covers'),
    on_bad_image: z
      .enum(['skip', 'error'])
      .default('skip')
      .describe(
        'a corrupt, truncated or non-image file: skip = name it on one line and leave it out (counted in summary.json), error = stop (exit 2)',
      ),
    cache_dir: z
      .string()
      .min(1)
      .optional()
      .describe('folder of the decoded-image cache; unset = <dataset.root>/.lcconv-cache'),
  })
  .refine((f) => f.crop_scale[0] <= f.crop_scale[1], {
    path: ['crop_scale'],
    message: 'must be [min, max] with min <= max',
  })
  .describe(
    'image_folder: train/<class>/*.jpg (.png, .webp…) trees (torchvision ImageFolder), decoded once into a uint8 cache (docs/datasets.md)',
  );

const Dataset = z
  .strictObject({
    name: z
      .enum(DATASET_NAMES)
      .default('synthetic')
      .describe("dataset (docs/datasets.md gives each one's files and split)"),
    root: z
      .string()
      .min(1)
      .default('data')
      .describe('folder holding downloaded datasets; image_folder: the folder holding train_dir and val_dir'),
    augment: z
      .boolean()
      .default(true)
      .describe('random crop (4-pixel padding) and horizontal flip on training batches (no flip for digits)'),
    label_mode: z
      .enum(['fine', 'coarse'])
      .default('fine')
      .describe('cifar100: the 100 fine classes or the 20 coarse superclasses'),
    subset: int().min(1).optional().describe('keep only N training images per class (seeded choice); unset = all'),
    val_split: z
      .number()
      .min(0)
      .max(0.9)
      .default(0)
      .describe(
        'fraction of the training images held out (seeded, per class) and used as the validation split instead of the test set; 0 = validate on the test set',
      ),
    split_seed: int()
      .min(0)
      .default(0)
      .describe(
        'seed of the subset and val_split choices (not the run seed, so every arm and seed sees the same images)',
      ),
    synthetic: Synthetic.prefault({}),
    image_folder: ImageFolder.prefault({}),
  })
  .superRefine((d, ctx) => {
    // Only CIFAR-100 has coarse labels; elsewhere the key would change the run id and nothing else.
    if (d.label_mode === 'coarse' && d.name !== 'cifar100')
      ctx.addIssue({
        code: 'custom',
        path: ['label_mode'],
        input: d.label_mode,
        message: `coarse labels exist only for cifar100 (dataset.name is ${d.name}); remove label_mode`,
      });
  });

const Model = z
  .strictObject({
    arch: z
      .string()
      .refine((arch) => (ARCH_NAMES as readonly string[]).includes(arch) || USER_MODEL_PATH.test(arch), {
        message: `expected one of ${ARCH_NAMES.join(', ')}, or the path of your own model script (ending in .js or .cjs)`,
      })
      .default('resnet20')
      .describe(
        "network: resnet8…resnet110 = CIFAR ResNet of depth 6n+2 (open_lth layout); resnet18/34/50 and vgg11_bn/vgg16_bn = the low-resolution ResNet (basic; bottleneck for 50) and VGG-BN of the authors' trainer; wrn16_4/wrn28_10 = Wide ResNets (pre-activation); resnet9 = the DAWNBench ResNet-9; mobilenet_v2 = MobileNetV2 with depthwise spatial convs (stem and second stage at stride 1); convnext = a small low-resolution ConvNeXt (2×2 patch stem, 4 stages of 2 blocks, depthwise convs, LayerNorm, GELU, layer scale; images >= 16×16); or ./path/to/model.js = your own network built from lcconv's layers, relative to the working directory (docs/architectures.md)",
      ),
    width: int()
      .min(1)
      .optional()
      .describe(
        'W, channels of the first stage, scaling every layer: CIFAR ResNets W, 2W, 4W; resnet18/34/50 W, 2W, 4W, 8W (bottleneck outputs ×4); VGG W…8W and a classifier of 64W hidden units; Wide ResNets a W stem, then W·k, 2W·k, 4W·k; ResNet-9 W…8W; MobileNetV2 the torchvision channels × W/32 (stem W); ConvNeXt W, 2W, 4W, 8W. Unset: 16 for the CIFAR and Wide ResNets and your own model, 32 for MobileNetV2 and ConvNeXt, 64 for the others (their published sizes)',
      ),
    kernel_size: oddKernel
      .default(3)
      .describe(
        'k of every spatial conv (odd, >= 1), depthwise ones included, in every stage: ConvNeXt has no per-stage k here (its own 7 is kernel_size: 7); only its 2×2 patch convs keep their size',
      ),
    lc_expansion: int()
      .min(1)
      .default(1)
      .describe('E; 1 = plain conv, > 1 = LC block (k×k conv to E× channels, then learned 1×1 conv)'),
    lc_depthwise: z
      .boolean()
      .default(false)
      .describe(
        'LC block spatial part grouped per input channel (depthwise) instead of full, with the 1×1 combination even at E = 1; a depthwise conv of the architecture (MobileNetV2) is depthwise either way and gets its combination only when E > 1 or this is set',
      ),
    lc_compute: z
      .enum(LC_COMPUTE_MODES)
      .default('auto')
      .describe(
        "how an LC block is computed, with the same function, gradients and weights (so not part of the run identity): composed = one k×k conv whose filter W·L is rebuilt from the block's weights every step; expanded = the k×k conv to E× channels, then the 1×1 conv; auto = per layer whichever takes fewer multiply-adds (forward and backward) at the run's batch and feature-map size",
      ),
    spatial_init: z
      .enum(SPATIAL_INIT_SCHEMES)
      .default('default')
      .describe(
        "initialisation of the k×k filters only, in every freeze mode (1×1 convs, BN and classifier keep `init`): default = `init`; kaiming_*/xavier_* i.i.d. per weight; smooth = each filter ~ N(0, Σ) with Σ = exp(-d²/2ℓ²) between kernel positions at distance d; from_run = N(0, Σ) with Σ the second moments of the k×k filters of spatial_init_from. Gaussians are rescaled to the `init` scheme's per-weight variance",
      ),
    spatial_init_length_scale: z
      .number()
      .positive()
      .default(1)
      .describe('ℓ of spatial_init: smooth, in pixels (larger = smoother filters)'),
    spatial_init_from: z
      .string()
      .min(1)
      .optional()
      .describe('spatial_init: from_run: directory of a finished run with the same k whose k×k filters give Σ'),
  })
  // The resolved config always holds the width, so a run's config.yaml and identity say what was built.
  .overwrite((m) => ({ ...m, width: m.width ?? defaultWidth(m.arch) }))
  .superRefine((m, ctx) => {
    if (m.spatial_init === 'from_run' && m.spatial_init_from === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['spatial_init_from'],
        message: 'spatial_init: from_run needs the run directory to estimate the covariance from',
      });
    if (m.spatial_init !== 'from_run' && m.spatial_init_from !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['spatial_init_from'],
        message: `is only used with spatial_init: from_run (spatial_init is ${m.spatial_init})`,
      });
  });

const Train = z.strictObject({
  epochs: int().min(1).default(75).describe('training length in epochs'),
  batch_size: int().min(1).default(256).describe('images per step (the last incomplete training batch is dropped)'),
  optimizer: z.enum(['sgd']).default('sgd').describe('optimizer'),
  lr: z.number().positive().default(0.01).describe('peak learning rate'),
  momentum: z.number().min(0).max(1).default(0.9).describe('SGD momentum'),
  nesterov: z.boolean().default(true).describe('Nesterov momentum'),
  weight_decay: z
    .number()
    .min(0)
    .default(5e-4)
    .describe('L2 penalty on all learnable parameters (added to the gradient, as PyTorch SGD)'),
  label_smoothing: z.number().min(0).max(1).default(0.1).describe('label smoothing of the training loss'),
  schedule: z.enum(['cosine', 'step', 'constant']).default('cosine').describe('learning-rate schedule after warm-up'),
  warmup_epochs: z.number().min(0).default(0).describe('linear warm-up from 0 to lr, in epochs'),
  step_milestones: z
    .array(int().min(1))
    .default([])
    .describe('step schedule: epochs at which lr is multiplied by step_gamma (empty = at 50% and 75%)'),
  step_gamma: z.number().positive().max(1).default(0.1).describe('step schedule: factor at each milestone'),
});

/**
 * A grid of trials (`lcconv sweep`): every key but `exclude` and `max_trials` is a config key path mapped to the list
 * of values it takes; the trials are the product, in the order the keys are written (last fastest).
 * Each value is validated as if written at that key, so errors name e.g. sweep.model.kernel_size[2].
 */
const Sweep = z
  .object({
    max_trials: int()
      .min(1)
      .default(DEFAULT_MAX_TRIALS)
      .describe(
        'largest grid (number of points before exclude) a sweep may have; a guard against a typo expanding to millions of trials (lcconv sweep --max-trials N)',
      ),
    exclude: z
      .array(z.record(z.string(), z.unknown()))
      .default([])
      .describe(
        'grid points to drop: each rule is a partial assignment {key.path: value, …}; a point matching every entry of a rule is dropped',
      ),
  })
  .catchall(z.array(z.unknown()).min(1))
  .describe(
    'grid of trials: each key but exclude and max_trials is a config key path (e.g. model.kernel_size, freeze, seed) mapped to a list of values; the trials are their product',
  );

/**
 * Text that is written into the generated sbatch script. Quoting (scriptWord in src/sweep/slurm.ts)
 * makes any printable text safe, but no quoting survives a newline on a `#SBATCH` line: refuse
 * control characters here, where the error can name the key.
 */
const scriptText = () =>
  z
    .string()
    .min(1)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters (newline, tab, …)');

/** sbatch options lcconv sets itself: overriding them would break the one-task-per-trial bookkeeping. */
const RESERVED_SBATCH_LONG = ['--array', '--output', '--chdir', '--wrap', '--parsable', '--job-name'];
const RESERVED_SBATCH_SHORT = ['a', 'o', 'D', 'J'];
/** sbatch's short options that take no value: in a cluster such as -Ho, the letter after one is another option. */
const SBATCH_SHORT_FLAGS = new Set(['H', 'h', 'I', 'k', 'O', 'Q', 's', 'u', 'V', 'v', 'W']);

/**
 * The reserved option `arg` would set, read as sbatch's getopt_long reads it: a long option by any
 * prefix of its name (`--outp=x` is --output; an ambiguous prefix is refused by sbatch itself), a
 * short one anywhere in a cluster of value-less flags (`-Ho x` is -H -o x).
 */
export function reservedSbatchOption(arg: string): string | null {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=')[0]!;
    return RESERVED_SBATCH_LONG.find((o) => name !== '' && o.slice(2).startsWith(name)) ?? null;
  }
  for (const letter of arg.slice(1)) {
    if (RESERVED_SBATCH_SHORT.includes(letter)) return `-${letter}`;
    if (!SBATCH_SHORT_FLAGS.has(letter)) return null; // the rest is this option's value
  }
  return null;
}

const sbatchOption = scriptText()
  .regex(/^(--[A-Za-z][A-Za-z0-9-]*(=.*)?|-[A-Za-z].*)$/s, 'must be one sbatch option, e.g. --account=abc or -Aabc')
  .superRefine((arg, ctx) => {
    const reserved = reservedSbatchOption(arg);
    if (reserved)
      ctx.addIssue({
        code: 'custom',
        message: `lcconv sets ${RESERVED_SBATCH_LONG.join(', ')} itself (${arg.split('=')[0]} is ${reserved})`,
      });
  });

/**
 * Robustness evaluation of a finished run (`lcconv eval`; docs/eval-export.md says
 * exactly what is computed). The command-line flags of `lcconv eval` override these.
 */
const Eval = z
  .strictObject({
    after_training: z
      .boolean()
      .default(false)
      .describe(
        'evaluate every run of this config as soon as it finishes (also sweep trials, local or Slurm), writing eval.csv',
      ),
    attacks: z
      .array(z.enum(ATTACK_NAMES))
      .default(['fgsm', 'pgd'])
      .describe('adversarial attacks: fgsm and pgd (L∞), pgd_l2'),
    linf_epsilons: z
      .array(z.number().min(0))
      .default([1, 4])
      .describe('ε of fgsm and pgd in units of 1/255 of the [0,1] pixel range (before normalisation)'),
    l2_epsilons: z
      .array(z.number().min(0))
      .default([0.125, 0.25, 0.5, 1])
      .describe('ε of pgd_l2 in [0,1] pixel units (L2 norm over all pixels and channels of one image)'),
    steps: int().min(1).default(10).describe('PGD iterations'),
    step_size: z.number().positive().default(2.5).describe('PGD step α = step_size·ε/steps'),
    restarts: int().min(1).default(1).describe('PGD random restarts (an image is robust only if it survives all)'),
    corruptions: z
      .array(z.enum(CORRUPTION_NAMES))
      .default(['gaussian_noise', 'defocus_blur', 'contrast'])
      .describe('built-in common corruptions (CIFAR-10-C parameters)'),
    severities: z.array(int().min(1).max(5)).default([3]).describe('corruption severities, 1..5'),
    cifar_c: z
      .boolean()
      .default(true)
      .describe(
        'cifar10/cifar100 runs: also the 15 corruptions of CIFAR-10-C / CIFAR-100-C when present under dataset.root (lcconv data download cifar10-c)',
      ),
    images: z
      .union([int().min(1), z.literal('all')])
      .default(1000)
      .describe('evaluate on N images of the split (seeded choice, the same for every run), or all'),
    seed: int()
      .min(0)
      .default(0)
      .describe(
        'seed of the image choice, the corruptions and the PGD random starts (not the run seed, so every run sees the same images)',
      ),
    batch_size: int().min(1).default(256).describe('images per evaluation batch'),
  })
  .describe(
    "robustness evaluation (lcconv eval): adversarial attacks and common corruptions. The defaults are sized for a CPU (1,000 images, FGSM and PGD at 1 and 4/255, 3 corruptions at severity 3); lcconv eval --full sets FULL_EVAL, the paper's protocol",
  );

/** Defaults of `lcconv sweep --executor slurm`; the command-line flags of the same name override them. */
const Slurm = z
  .strictObject({
    partition: scriptText()
      .regex(
        /^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*$/,
        'use partition names (letters, digits, _ . + -), comma-separated',
      )
      .optional()
      .describe('partition (sbatch --partition); unset = the cluster default'),
    gpus_per_task: int()
      .min(0)
      .default(0)
      .describe('GPUs per array task (sbatch --gres=gpu:N); each task runs one trial'),
    cpus_per_task: int().min(1).default(1).describe('CPU cores per array task (sbatch --cpus-per-task)'),
    time: z
      .string()
      .regex(/^(\d+-)?\d+:\d{2}:\d{2}$/, 'use HH:MM:SS or D-HH:MM:SS')
      .optional()
      .describe('wall-time limit per task (sbatch --time); unset = the partition default'),
    max_parallel: int()
      .min(1)
      .optional()
      .describe('at most this many tasks at once (the array %M throttle); unset = no limit'),
    sbatch_args: z.array(sbatchOption).default([]).describe('extra sbatch options, one per item, e.g. --account=abc'),
  })
  .describe('Slurm executor settings for lcconv sweep --executor slurm');

export const ConfigSchema = z.strictObject({
  name: z
    .string()
    .max(100, 'at most 100 characters (it names a folder)')
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'one folder name: letters, digits, ".", "_" and "-", starting with a letter or digit',
    )
    .default('experiment')
    .describe('experiment name: results go to <results_dir>/<name>/'),
  seed: int().min(0).default(0).describe('seed for initialisation, shuffling and augmentation'),
  seeds: z
    .array(int().min(0))
    .min(1)
    .refine(
      (seeds) => new Set(seeds).size === seeds.length,
      'lists a seed twice (each seed is one run; a repeat would count one run as several)',
    )
    .optional()
    .describe('several seeds: one run each (overrides seed)'),
  dataset: Dataset.prefault({}),
  model: Model.prefault({}),
  freeze: z
    .enum(FREEZE_MODES)
    .default('learned')
    .describe(
      'learned = standard training; frozen = k×k filters random and never updated; shared = all k×k filters sliced from one frozen random tensor',
    ),
  init: z
    .enum(INIT_SCHEMES)
    .default('kaiming_uniform')
    .describe(
      "initialisation of conv and linear weights (kaiming_uniform = PyTorch's default, a=√5); model.spatial_init overrides it for the k×k filters",
    ),
  train: Train.prefault({}),
  eval_every: int().min(1).default(1).describe('validate every N epochs (and always after the last)'),
  compare_to_standard: z
    .boolean()
    .default(true)
    .describe('also train (or reuse) the learned arm of the same config and report Δ accuracy'),
  backend: z.enum(BACKEND_CHOICES).default('auto').describe('tfjs backend; auto picks the fastest available'),
  // Not bounded by this machine's cores: a run's config.yaml recorded on a cluster node must load on
  // a laptop (eval, export, analyze re-read it); the backend clamps to the usable cores and says so.
  threads: int()
    .min(1)
    .max(MAX_THREADS)
    .optional()
    .describe(
      'CPU threads of the cpu-native backend (unset: $LCCONV_THREADS, else the cores the process may use: affinity, cgroup quota, SLURM_CPUS_PER_TASK; sweep workers share them); more than the process may use runs on those, with a notice',
    ),
  results_dir: z.string().min(1).default('results').describe('folder for run outputs'),
  sweep: Sweep.optional(),
  slurm: Slurm.prefault({}),
  eval: Eval.prefault({}),
});

type ParsedConfig = z.infer<typeof ConfigSchema>;
/** The validated config; `model.width` is always set (the overwrite above fills the arch's default). */
export type Config = Omit<ParsedConfig, 'model'> & { model: ParsedConfig['model'] & { width: number } };
export type ModelConfig = Config['model'];
export type TrainConfig = Config['train'];
export type DatasetConfig = Config['dataset'];
export type SweepConfig = NonNullable<Config['sweep']>;
export type SlurmConfig = Config['slurm'];
export type EvalConfig = Config['eval'];
