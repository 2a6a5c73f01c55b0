/**
 * The names the config schema accepts for architectures and evaluations, kept apart from their code
 * so the schema (the lowest folder but one) lists them without importing models/ or eval/, and
 * without loading tfjs or the JPEG codec. The registries (models/registry.ts, eval/attacks.ts,
 * eval/corruptions.ts) are typed as records over these names, so the compiler keeps both in step.
 */

/**
 * The architectures: the CIFAR ResNets of depth 6n + 2 (open_lth layout), the low-resolution
 * ResNet-18/34/50 and VGG-11/16-BN of the authors' trainer (tinytorchtrainer), the Wide ResNets
 * WRN-16-4 and WRN-28-10, the ResNet-9 of DAWNBench, a low-resolution MobileNetV2 and a small
 * low-resolution ConvNeXt. Their layouts are models/registry.ts.
 */
export const ARCH_NAMES = [
  'resnet8',
  'resnet14',
  'resnet20',
  'resnet32',
  'resnet44',
  'resnet56',
  'resnet110',
  'resnet18',
  'resnet34',
  'resnet50',
  'vgg11_bn',
  'vgg16_bn',
  'wrn16_4',
  'wrn28_10',
  'resnet9',
  'mobilenet_v2',
  'convnext',
] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

/**
 * `model.arch` naming your own network: a path to a script ending in .js or .cjs (models/user-model.ts
 * runs it), relative to the working directory like every path of a config.
 */
export const USER_MODEL_PATH = /\.c?js$/;

/** Whether `arch` names a user's model script rather than a built-in architecture. */
export function isUserModel(arch: string): boolean {
  return !(ARCH_NAMES as readonly string[]).includes(arch) && USER_MODEL_PATH.test(arch);
}

/** `model.width` when the config leaves it unset: the width at which each family has its published size (16 for your own). */
export function defaultWidth(arch: string): number {
  if (arch === 'mobilenet_v2') return 32; // its stem's channels, torchvision's width multiplier 1
  if (arch === 'convnext') return 32; // the small preset: 32, 64, 128, 256 channels
  return arch.startsWith('vgg') || ['resnet18', 'resnet34', 'resnet50', 'resnet9'].includes(arch) ? 64 : 16;
}

/** fgsm and pgd are L∞ attacks; pgd_l2 is PGD in the L2 ball. */
export const ATTACK_NAMES = ['fgsm', 'pgd', 'pgd_l2'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

/** The CIFAR-10-C file names of the built-in corruptions. */
export const CORRUPTION_NAMES = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'gaussian_blur',
  'contrast',
  'brightness',
  'pixelate',
  'jpeg_compression',
] as const;
export type CorruptionName = (typeof CORRUPTION_NAMES)[number];

/** The 15 benchmark corruptions of CIFAR-10-C / CIFAR-100-C (their .npy file names), evaluated when the files are present. */
export const CIFAR_C_CORRUPTIONS = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'motion_blur',
  'zoom_blur',
  'snow',
  'frost',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
] as const;

/**
 * The full protocol (`lcconv eval --full`): every test image, every attack at the usual radii, every
 * built-in corruption at severities 1–5. Hours per run on a CPU; the schema's eval defaults take minutes.
 */
export const FULL_EVAL = {
  images: 'all',
  attacks: [...ATTACK_NAMES],
  linf_epsilons: [0.5, 1, 2, 4, 8],
  l2_epsilons: [0.125, 0.25, 0.5, 1],
  corruptions: [...CORRUPTION_NAMES],
  severities: [1, 2, 3, 4, 5],
} as const;
