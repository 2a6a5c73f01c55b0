/**
 * Architecture registry: each CIFAR ResNet variant as data (open_lth layout, depth = 6n + 2, three
 * stages of n basic blocks). Keyed by config/names.ts's ARCH_NAMES (the names the schema accepts):
 * `satisfies Record<ArchName, …>` fails to compile when the two lists differ.
 */
import type { ArchName } from '../config/names.js';
export const ARCHS = {
  resnet8: { blocksPerStage: 1 }, // tiny: tests and smoke runs
  resnet14: { blocksPerStage: 2 },
  resnet20: { blocksPerStage: 3 }, // the paper's reference model
  resnet32: { blocksPerStage: 5 },
  resnet44: { blocksPerStage: 7 },
  resnet56: { blocksPerStage: 9 },
  resnet110: { blocksPerStage: 18 },
} as const satisfies Record<ArchName, { blocksPerStage: number }>;

export type { ArchName };

/** Depth as in the name: 6n + 2 (two convs per block, three stages, stem conv and classifier). */
export function depthOf(arch: ArchName): number {
  return 6 * ARCHS[arch].blocksPerStage + 2;
}
