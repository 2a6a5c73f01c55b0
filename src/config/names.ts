/**
 * The names the config schema accepts for architectures and evaluations, kept apart from their code
 * so the schema (the lowest folder but one) lists them without importing models/ or eval/, and
 * without loading tfjs or the JPEG codec. The registries (models/registry.ts, eval/attacks.ts,
 * eval/corruptions.ts) are typed as records over these names, so the compiler keeps both in step.
 */

/** The CIFAR ResNets of depth 6n + 2 (open_lth layout); their stage layout is models/registry.ts. */
export const ARCH_NAMES = ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

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
