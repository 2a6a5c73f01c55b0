/**
 * Architecture registry: each architecture as data, keyed by config/names.ts's ARCH_NAMES (the
 * names the schema accepts): `satisfies Record<ArchName, …>` fails to compile when the two lists
 * differ. The family says which file builds it.
 */
import type { ArchName } from '../config/names.js';

/** The CIFAR ResNets of open_lth: depth 6n + 2, three stages of n basic blocks (models/resnet.ts). */
interface CifarResNetLayout {
  family: 'cifar_resnet';
  blocksPerStage: number;
}

/**
 * The low-resolution ResNets of the authors' trainer (tinytorchtrainer models/lowresresnet.py):
 * four stages of basic or bottleneck blocks (models/resnet-lowres.ts).
 */
interface LowResResNetLayout {
  family: 'resnet';
  block: 'basic' | 'bottleneck';
  blocksPerStage: readonly [number, number, number, number];
}

/**
 * The low-resolution VGG-BN of the trainer (models/lowresvgg.py): conv widths as multiples of W,
 * 'M' a 2×2 max-pool (models/vgg.ts).
 */
interface VggLayout {
  family: 'vgg';
  layers: readonly (number | 'M')[];
}

/**
 * The Wide ResNets of Zagoruyko & Komodakis (2016), WRN-d-k: depth d = 6n + 4, three stages of n
 * pre-activation blocks at widths W·k, 2W·k, 4W·k (models/wrn.ts).
 */
interface WideResNetLayout {
  family: 'wrn';
  blocksPerStage: number;
  widen: number;
}

/** ResNet-9 of DAWNBench (Page's "How to train your ResNet", the network airbench grew from; models/resnet9.ts). */
interface ResNet9Layout {
  family: 'resnet9';
}

/** MobileNetV2 for low-resolution images, its depthwise convs spatial (models/mobilenetv2.ts). */
interface MobileNetV2Layout {
  family: 'mobilenet_v2';
}

/** A small low-resolution ConvNeXt, its depthwise and patch convs spatial (models/convnext.ts). */
interface ConvNeXtLayout {
  family: 'convnext';
}

export type ArchLayout =
  | CifarResNetLayout
  | LowResResNetLayout
  | VggLayout
  | WideResNetLayout
  | ResNet9Layout
  | MobileNetV2Layout
  | ConvNeXtLayout;

export const ARCHS = {
  resnet8: { family: 'cifar_resnet', blocksPerStage: 1 }, // tiny: tests and smoke runs
  resnet14: { family: 'cifar_resnet', blocksPerStage: 2 },
  resnet20: { family: 'cifar_resnet', blocksPerStage: 3 }, // the paper's reference model
  resnet32: { family: 'cifar_resnet', blocksPerStage: 5 },
  resnet44: { family: 'cifar_resnet', blocksPerStage: 7 },
  resnet56: { family: 'cifar_resnet', blocksPerStage: 9 },
  resnet110: { family: 'cifar_resnet', blocksPerStage: 18 },
  resnet18: { family: 'resnet', block: 'basic', blocksPerStage: [2, 2, 2, 2] },
  resnet34: { family: 'resnet', block: 'basic', blocksPerStage: [3, 4, 6, 3] },
  resnet50: { family: 'resnet', block: 'bottleneck', blocksPerStage: [3, 4, 6, 3] },
  // torchvision's configurations "A" and "D", channels 64…512 written as 1…8 × W.
  vgg11_bn: { family: 'vgg', layers: [1, 'M', 2, 'M', 4, 4, 'M', 8, 8, 'M', 8, 8, 'M'] },
  vgg16_bn: { family: 'vgg', layers: [1, 1, 'M', 2, 2, 'M', 4, 4, 4, 'M', 8, 8, 8, 'M', 8, 8, 8, 'M'] },
  wrn16_4: { family: 'wrn', blocksPerStage: 2, widen: 4 },
  wrn28_10: { family: 'wrn', blocksPerStage: 4, widen: 10 },
  resnet9: { family: 'resnet9' },
  mobilenet_v2: { family: 'mobilenet_v2' },
  convnext: { family: 'convnext' },
} as const satisfies Record<ArchName, ArchLayout>;

export type { ArchName };

/** The layout of a built-in `arch`, as its family's builder reads it (your own script has none). */
export function layoutOf(arch: string): ArchLayout {
  if (!Object.hasOwn(ARCHS, arch)) throw new Error(`${arch} is not a built-in architecture`);
  return ARCHS[arch as ArchName];
}

/** The CIFAR ResNet's blocks per stage, or null for an architecture of another family (or your own). */
export function cifarBlocksPerStage(arch: string): number | null {
  if (!Object.hasOwn(ARCHS, arch)) return null;
  const layout = layoutOf(arch);
  return layout.family === 'cifar_resnet' ? layout.blocksPerStage : null;
}
