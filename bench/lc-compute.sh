#!/usr/bin/env bash
# The LC block's two forms (model.lc_compute) against standard training, on cpu-native, 1 thread:
# ResNet-20 W=16, batch 128, 32×32 synthetic images, frozen k=3 filters at LC rates E, composed and
# expanded, beside learned E=1 (standard training). Within each of REPEATS rounds the arms run one
# after another, so every arm sees the same machine conditions; compare arms by ratios within a round.
# Usage: [COMPOSED="1 2 4 8 16 32"] [EXPANDED="2 4 8"] [REPEATS=2] [STEPS=4] bash bench/lc-compute.sh [backend]
# Prints one line per measurement: round, arm, s/step, ratio to the round's standard step, peak tensor MiB,
# ratio to its peak, the forms the LC blocks took, and GPU dispatches per step (webgpu only).
backend=${1:-cpu-native}
composed=${COMPOSED:-1 2 4 8 16 32}; expanded=${EXPANDED:-2 4 8}; repeats=${REPEATS:-2}; steps=${STEPS:-4}
BASE_FILE=$(mktemp); export BASE_FILE; trap 'rm -f "$BASE_FILE"' EXIT
arms=("learned 1 auto")
for e in $composed; do arms+=("frozen $e composed"); done
for e in $expanded; do arms+=("frozen $e expanded"); done
echo "round arm s_per_step step_ratio peak_MiB peak_ratio lc_forms dispatches load_1min"
for r in $(seq 1 "$repeats"); do
  base=""
  for arm in "${arms[@]}"; do
    set -- $arm; freeze=$1; e=$2; form=$3
    node bin/lcconv.js bench configs/cifar10-resnet20.yaml --set model.width=16 --set train.batch_size=128 \
      --set model.kernel_size=3 --set freeze="$freeze" --set model.lc_expansion="$e" --set model.lc_compute="$form" \
      --set threads=1 --backend "$backend" --steps "$steps" --warmup 1 --json 2>/dev/null |
      node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const [round, name, base] = process.argv.slice(1);
        const j = JSON.parse(s);
        const step = j.train.seconds_per_step, peak = j.peak_tensor_bytes / 2 ** 20;
        const [baseStep, basePeak] = base ? base.split(",").map(Number) : [step, peak];
        const forms = Object.entries(j.model.lc_forms).map(([f, n]) => `${n}${f}`).join("+") || "-";
        console.log([round, name, step.toFixed(3), (step / baseStep).toFixed(2), peak.toFixed(0), (peak / basePeak).toFixed(2),
          forms, j.per_step.dispatches ?? "-", require("os").loadavg()[0].toFixed(1)].join(" "));
        if (!base) require("fs").writeFileSync(process.env.BASE_FILE, `${step},${peak}`);
      });' "$r" "$freeze-E$e-$form" "$base"
    [ -z "$base" ] && base=$(cat "$BASE_FILE")
  done
done
