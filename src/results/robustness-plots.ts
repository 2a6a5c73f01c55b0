/**
 * The robustness plots of the report (rendered like the others, see plots.ts): robust accuracy vs
 * ε for each attack, and mean corruption accuracy, one line or bar per freeze mode, one panel per
 * k and E, so frozen and shared arms are read against standard training.
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  DASHES,
  type Figure,
  figureTitle,
  freezeColor,
  legendColumns,
  PANEL_PART_SEPARATOR,
  VEGA_LITE_SCHEMA,
  writeFigures,
} from './figure.js';

import type { RobustnessRow } from './robustness.js';

/** Writes robust_accuracy_vs_epsilon and mean_corruption_accuracy (figure.ts: both widths, SVG + PNG); returns the SVG paths. */
export async function writeRobustnessPlots(dir: string, rows: RobustnessRow[]): Promise<string[]> {
  return writeFigures(dir, robustnessFigures(rows));
}

/** The robustness figures of these rows: robust accuracy vs ε (when attacked) and mean corruption accuracy. */
export function robustnessFigures(rows: RobustnessRow[]): Figure[] {
  // Config groups are never pooled: each is its own line (dash) or bar (side by side), named in a legend.
  const groupNames = [...new Set(rows.map((r) => r.group))].sort();
  const grouped = groupNames.length > 1;
  const arm = (r: RobustnessRow) => `k=${r.kernel_size} E=${r.lc_expansion}${r.lc_depthwise ? ' dw' : ''}`;
  // ε = 0 is clean accuracy, the start of every attack's curve; L∞ ε in 1/255, L2 ε as is.
  const clean = rows.filter((r) => r.metric === 'clean');
  const attacks = [...new Set(rows.filter((r) => r.metric === 'adversarial').map((r) => r.name))];
  const points = attacks.flatMap((attack) => [
    ...clean.map((r) => ({
      attack,
      arm: arm(r),
      freeze: r.freeze,
      group: r.group,
      epsilon: 0,
      accuracy: 100 * r.accuracy_mean,
    })),
    ...rows
      .filter((r) => r.name === attack)
      .map((r) => ({
        attack,
        arm: arm(r),
        freeze: r.freeze,
        group: r.group,
        epsilon: attack === 'pgd_l2' ? r.epsilon! : Number((r.epsilon! * 255).toFixed(4)),
        accuracy: 100 * r.accuracy_mean,
      })),
  ]);
  const corruption = rows
    .filter((r) => r.name === 'mean')
    .map((r) => ({
      arm: arm(r),
      freeze: r.freeze,
      group: r.group,
      series: `${r.freeze}|${r.group}`,
      set: r.metric === 'cifar-c' ? 'CIFAR-C' : 'built-in',
      accuracy: 100 * r.accuracy_mean,
    }));
  const arms = [...new Set(rows.map(arm))];
  const groupDash = {
    field: 'group',
    type: 'nominal',
    title: 'config',
    scale: { domain: groupNames, range: groupNames.map((_, i) => DASHES[i % DASHES.length]) },
  };
  const attackPanels = attacks.length * arms.length;
  const figures: Figure[] = [];
  if (points.length)
    figures.push({
      name: 'robust_accuracy_vs_epsilon',
      shape: {
        panels: attackPanels,
        labels: attacks.flatMap((a) => arms.map((r) => `${a}${PANEL_PART_SEPARATOR}${r}`)),
      },
      build: (layout) =>
        ({
          $schema: VEGA_LITE_SCHEMA,
          title: figureTitle(layout, 'Robust accuracy vs ε', [
            'Mean over seeds; ε in 1/255 for fgsm and pgd, in [0,1] pixel units for pgd_l2; ε = 0 is clean accuracy; y axis from 0.',
          ]),
          data: { values: points.map((p) => ({ ...p, panel: `${p.attack}${PANEL_PART_SEPARATOR}${p.arm}` })) },
          facet: {
            field: 'panel',
            type: 'nominal',
            title: null,
            sort: attacks.flatMap((a) => arms.map((r) => `${a}${PANEL_PART_SEPARATOR}${r}`)),
          },
          columns: layout.columns,
          spec: {
            width: layout.panelWidth,
            height: layout.panelHeight,
            mark: { type: 'line', point: { filled: true, size: 16 }, strokeWidth: 1.2 },
            encoding: {
              x: { field: 'epsilon', type: 'ordinal', title: 'ε', axis: { labelAngle: 0 } },
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
              color: freezeColor(points), // only the freeze modes evaluated are in the legend
              detail: { field: 'group' },
              ...(grouped
                ? { strokeDash: { ...groupDash, legend: { columns: legendColumns(groupNames, layout) } } }
                : {}),
            },
          },
          resolve: { scale: { x: 'independent' } },
        }) as TopLevelSpec,
    });
  if (corruption.length) {
    const sets = [...new Set(corruption.map((c) => c.set))];
    figures.push({
      name: 'mean_corruption_accuracy',
      shape: { panels: arms.length * sets.length, columns: { column: 3, wide: 6 } },
      build: (layout) =>
        ({
          $schema: VEGA_LITE_SCHEMA,
          title: figureTitle(layout, 'Mean accuracy over corruptions and severities', [
            'Mean over seeds; y axis from 0.',
          ]),
          data: {
            values: corruption.map((c) => ({
              ...c,
              panel: sets.length > 1 ? `${c.arm}${PANEL_PART_SEPARATOR}${c.set}` : c.arm,
            })),
          },
          facet: { field: 'panel', type: 'nominal', title: null },
          columns: layout.columns,
          spec: {
            width: layout.panelWidth,
            height: layout.panelHeight,
            mark: 'bar',
            encoding: {
              x: { field: 'freeze', type: 'nominal', title: null, sort: freezeColor(corruption).scale.domain },
              ...(grouped ? { xOffset: { field: 'group', type: 'nominal', scale: { domain: groupNames } } } : {}),
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
              color: { ...freezeColor(corruption), legend: null },
              // Bars of config groups side by side within a freeze mode, told apart by opacity.
              ...(grouped
                ? {
                    opacity: {
                      field: 'group',
                      type: 'nominal',
                      title: 'config',
                      scale: {
                        domain: groupNames,
                        range: groupNames.map((_, i) => 1 - (0.6 * i) / (groupNames.length - 1)),
                      },
                      legend: { columns: legendColumns(groupNames, layout) },
                    },
                  }
                : {}),
            },
          },
        }) as TopLevelSpec,
    });
  }
  return figures;
}
