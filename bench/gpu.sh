#!/usr/bin/env bash
# One command for the GPU comparison: lcconv on its best GPU backend and bench/pytorch_reference.py
# on CUDA, side by side, for CIFAR ResNet-20 (W=16) at batch 128 and 512, k = 3 and 7, learned /
# frozen / LC E=4 frozen, on random data of CIFAR's shape (no dataset needed). Prints a Markdown
# table (train and eval images/s, GPU dispatches per step, peak memory, ratio to PyTorch) and the
# estimated wall time of configs/cifar10-resnet20.yaml (both of its arms, 75 epochs).
#
#   bench/gpu.sh                         from the project root, after `npm ci` (or from a .device/
#                                        bundle holding node and dist/: no Node.js needed)
# Knobs (environment): GPU_BENCH_STEPS (20) and GPU_BENCH_WARMUP (3) per measurement,
# GPU_BENCH_BATCHES ("128 512"), GPU_BENCH_KERNELS ("3 7"), GPU_BENCH_BACKEND (the best GPU
# backend `lcconv doctor` finds, else webgpu), PYTHON (python3), GPU_BENCH_LOGS (a temp folder),
# GPU_BENCH_ESTIMATE_BATCH (256, the config's; a rehearsal may shrink it, the estimate says so).
# Without CUDA, PyTorch runs on the CPU (said in the table); without PyTorch its columns are blank.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  [ -f .device/setup.sh ] || { echo "gpu.sh: no node on PATH and no .device/ bundle (a folder with setup.sh that puts node on PATH)" >&2; exit 2; }
  # shellcheck disable=SC1091
  set +eu # the bundle's setup is written for an interactive shell
  source .device/setup.sh
  set -eu
  command -v node >/dev/null 2>&1 || { echo "gpu.sh: .device/setup.sh did not provide node" >&2; exit 2; }
fi
[ -f dist/src/cli/main.js ] || { echo "gpu.sh: dist/ is missing: run npm run build (or pack it into .device/)" >&2; exit 2; }

steps=${GPU_BENCH_STEPS:-20}
warmup=${GPU_BENCH_WARMUP:-3}
batches=${GPU_BENCH_BATCHES:-128 512}
kernels=${GPU_BENCH_KERNELS:-3 7}
python=${PYTHON:-python3}
logs=${GPU_BENCH_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/lcconv-gpu-bench.XXXXXX")}
mkdir -p "$logs"
config=configs/cifar10-resnet20.yaml
estimate_batch=${GPU_BENCH_ESTIMATE_BATCH:-256}
lcconv() { node bin/lcconv.js "$@"; }

# The best GPU backend: what `auto` picks when it is a hardware device, else webgpu (then on a
# software adapter, which is what a rehearsal without a GPU measures). The device line names the
# adapter and, for webgpu, the Dawn backend (Vulkan on an NVIDIA machine; LCCONV_DAWN_BACKEND pins one).
lcconv doctor --json >"$logs/doctor.json" 2>"$logs/doctor.err" || true
read -r backend device < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const hw = r.probes.filter((p) => p.ok && p.hardware).map((p) => p.backend);
  const name = process.argv[2] || (hw.includes("tensorflow") ? "tensorflow" : "webgpu");
  const probe = r.probes.find((p) => p.backend === name);
  console.log(name, probe && probe.ok ? probe.device : `not available: ${probe ? probe.reason : "unknown backend"}`);
' "$logs/doctor.json" "${GPU_BENCH_BACKEND:-}")
[ -n "${backend:-}" ] || { echo "gpu.sh: lcconv doctor failed: $(tail -n 1 "$logs/doctor.err")" >&2; exit 1; }

pytorch=()
if "$python" -c 'import torch' >/dev/null 2>&1; then
  pytorch=(--pytorch "$python")
  torch_device=$("$python" -c 'import torch; print("cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (no CUDA)")')
else
  torch_device="not run: '$python' has no torch"
fi

echo "lcconv bench, backend $backend on $device; PyTorch $torch_device; $warmup warm-up + $steps timed steps each; logs in $logs"
echo "$(uname -srm); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
echo
echo "| batch | k | arm | lcconv train img/s | eval img/s | dispatches/step | peak MiB | PyTorch train img/s | eval img/s | peak MiB | train ratio | eval ratio |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

# One measurement: prints its table row; keeps the JSON for the wall-time estimate.
measure() {
  local batch=$1 k=$2 arm=$3 freeze=$4 e=$5
  local name="b$batch-k$k-$arm"
  if ! lcconv bench "$config" --backend "$backend" --steps "$steps" --warmup "$warmup" --json "${pytorch[@]}" \
      --set "train.batch_size=$batch" --set "model.kernel_size=$k" --set "freeze=$freeze" --set "model.lc_expansion=$e" \
      >"$logs/$name.json" 2>"$logs/$name.err"; then
    echo "| $batch | $k | $arm | failed: $(grep -v '^Warning\|^ *at \|^$' "$logs/$name.err" | tail -1) |||||||||"
    return
  fi
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const f = (x, d = 1) => (x == null ? "" : x.toFixed(d));
    const mib = (b) => (b == null ? "" : (b / 2 ** 20).toFixed(0));
    const t = r.pytorch;
    console.log(`| ${process.argv.slice(2).join(" | ")} | ${f(r.train.images_per_second)} | ${f(r.eval.images_per_second)} | ${f(r.per_step.dispatches, 0)} | ${mib(r.peak_tensor_bytes)} | ` +
      `${f(t?.train.images_per_second)} | ${f(t?.eval.images_per_second)} | ${mib(t?.peak_memory_bytes)} | ${f(t?.train_ratio, 2)} | ${f(t?.eval_ratio, 2)} |`);
  ' "$logs/$name.json" "$batch" "$k" "$arm"
}

for batch in $batches; do
  for k in $kernels; do
    measure "$batch" "$k" learned learned 1
    measure "$batch" "$k" frozen frozen 1
    measure "$batch" "$k" "LC E=4 frozen" frozen 4
  done
done

# The reference experiment at its own batch size: steps per epoch × s/step + one evaluation of
# the 10,000 test images per epoch, 75 epochs, for its frozen arm and the learned arm it compares with.
echo
for arm in frozen learned; do measure "$estimate_batch" 3 "$arm-estimate" "$arm" 1 >/dev/null; done
node -e '
  const fs = require("fs");
  const [logs, config, b] = process.argv.slice(1);
  const epochs = 75, train = 50000, test = 10000, batch = Number(b);
  let total = 0;
  const parts = [];
  for (const arm of ["frozen", "learned"]) {
    const file = `${logs}/b${batch}-k3-${arm}-estimate.json`;
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) { console.log(`estimate: the ${arm} measurement failed (see ${logs})`); process.exit(0); }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const s = epochs * (Math.floor(train / batch) * r.train.seconds_per_step + test / r.eval.images_per_second);
    parts.push(`${arm} ${(s / 3600).toFixed(2)} h`);
    total += s;
  }
  const note = batch === 256 ? "" : ` [measured at batch ${batch}, not the config batch of 256]`;
  console.log(`estimated wall time of ${config} (${epochs} epochs, both arms, this backend): ${(total / 3600).toFixed(2)} h (${parts.join(", ")})${note}`);
' "$logs" "$config" "$estimate_batch"
