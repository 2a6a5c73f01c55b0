#!/usr/bin/env bash
# Regenerates the figure gallery (docs/figures.md, docs/img/figures/): trains configs/figures.yaml
# (a small Fashion-MNIST grid with a second config group), evaluates it, analyses it, and copies one
# of each figure that report, eval and analyze draw, in its one-column width (SVG; the filter picture as PNG).
# Usage: bash scripts/docs-figures.sh [results folder]   (its measured time: docs/figures.md)
set -euo pipefail
cd "$(dirname "$0")/.."
results="${1:-$(mktemp -d)/results}"
lcconv() { node bin/lcconv.js "$@"; }

lcconv sweep configs/figures.yaml --workers 2 --set "results_dir=$results"
exp="$results/figures"
lcconv eval "$exp" --quiet
lcconv report "$exp"
lcconv analyze "$exp"

out=docs/img/figures
rm -rf "$out" && mkdir -p "$out"
# The report's figures, the robustness figures, the analysis across runs …
for f in accuracy_vs_kernel_size accuracy_vs_lc_expansion delta_vs_kernel_size delta_vs_lc_expansion \
  training_curves robust_accuracy_vs_epsilon mean_corruption_accuracy; do
  cp "$exp/$f.svg" "$out/"
done
for f in sparsity_vs_kernel_size effective_filters_vs_kernel_size spectrum_vs_kernel_size spectrum_vs_lc_expansion \
  centre_energy_vs_kernel_size centre_energy_vs_lc_expansion; do
  cp "$exp/analysis/$f.svg" "$out/"
done
# (LC statistics only vary with k here: E = 1 has no LC block.) And one run's pictures: a frozen k = 5, E = 4 run (random filters and their learned combinations).
run=$(basename "$(ls -d "$exp"/analysis/frozen-k5-E4-seed0-*)")
for f in lc_weights spectrum energy; do cp "$exp/analysis/$run/$f.svg" "$out/run-$f.svg"; done
cp "$exp/analysis/$run/filters.png" "$out/run-filters.png" # a picture of many cells: smaller as PNG than as SVG
echo "figures of $exp copied to $out"
