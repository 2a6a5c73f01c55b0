/**
 * The robustness plots of the report (rendered like the others, see plots.ts): robust accuracy vs
 * ε for each attack, and mean corruption accuracy, one line or bar per freeze mode, one panel per
 * k and E, so frozen and shared arms are read against standard training.
 */
import type { TopLevelSpec } from 'vega-lite';
import { writeSpecs } from './plots.js';
import type { RobustnessRow } from './robustness.js';

const FREEZE_COLORS = { domain: ['learned', 'frozen', 'shared'], range: ['#1f77b4', '#d62728', '#2ca02c'] };

/** Writes robust_accuracy_vs_epsilon and mean_corruption_accuracy (SVG + PNG); returns the SVG paths. */
export async function writeRobustnessPlots(dir: string, rows: RobustnessRow[]): Promise<string[]> {
  const arm = (r: RobustnessRow) => `k=${r.kernel_size} E=${r.lc_expansion}${r.lc_depthwise ? ' dw' : ''}`;
  // ε = 0 is clean accuracy, the start of every attack's curve; L∞ ε in 1/255, L2 ε as is.
  const clean = rows.filter((r) => r.metric === 'clean');
  const attacks = [...new Set(rows.filter((r) => r.metric === 'adversarial').map((r) => r.name))];
  const points = attacks.flatMap((attack) => [
    ...clean.map((r) => ({ attack, arm: arm(r), freeze: r.freeze, epsilon: 0, accuracy: 100 * r.accuracy_mean })),
    ...rows
      .filter((r) => r.name === attack)
      .map((r) => ({
        attack,
        arm: arm(r),
        freeze: r.freeze,
        epsilon: attack === 'pgd_l2' ? r.epsilon! : Number((r.epsilon! * 255).toFixed(4)),
        accuracy: 100 * r.accuracy_mean,
      })),
  ]);
  const corruption = rows
    .filter((r) => r.name === 'mean')
    .map((r) => ({
      arm: arm(r),
      freeze: r.freeze,
      set: r.metric === 'cifar-c' ? 'CIFAR-C' : 'built-in',
      accuracy: 100 * r.accuracy_mean,
    }));
  const plots: [string, TopLevelSpec][] = [];
  if (points.length) {
    plots.push([
      'robust_accuracy_vs_epsilon',
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Robust accuracy vs ε (mean over seeds; ε in 1/255 for fgsm and pgd, [0,1] units for pgd_l2)',
        data: { values: points },
        facet: {
          row: { field: 'attack', type: 'nominal', title: 'attack' },
          column: { field: 'arm', type: 'nominal', title: null },
        },
        spec: {
          width: 220,
          height: 160,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'epsilon', type: 'ordinal', title: 'ε', axis: { labelAngle: 0 } },
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)' },
            color: { field: 'freeze', type: 'nominal', title: 'freeze', scale: FREEZE_COLORS },
          },
        },
        resolve: { scale: { x: 'independent' } },
      } as TopLevelSpec,
    ]);
  }
  if (corruption.length) {
    plots.push([
      'mean_corruption_accuracy',
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Mean accuracy over corruptions and severities (mean over seeds)',
        data: { values: corruption },
        facet: {
          column: { field: 'arm', type: 'nominal', title: null },
          row: { field: 'set', type: 'nominal', title: null },
        },
        spec: {
          width: 160,
          height: 160,
          mark: 'bar',
          encoding: {
            x: { field: 'freeze', type: 'nominal', title: 'freeze', sort: FREEZE_COLORS.domain },
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)' },
            color: { field: 'freeze', type: 'nominal', scale: FREEZE_COLORS, legend: null },
          },
        },
      } as TopLevelSpec,
    ]);
  }
  return writeSpecs(dir, plots);
}
