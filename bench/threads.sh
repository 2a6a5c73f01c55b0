#!/usr/bin/env bash
# Thread scaling of one run, lcconv (cpu-native) next to the PyTorch reference with the same thread
# count: Fashion-MNIST ResNet-8 W=16, batch 128, SUBSET training images per class (default 300:
# 3,000 images), evaluated on the 10,000 test images, one epoch per measurement; thread counts
# alternate within each of REPEATS rounds so both sides see the same machine conditions.
# Usage: [THREADS="1 2 4 8 16"] [REPEATS=2] [SUBSET=300] bash bench/threads.sh [python with torch]
# Prints one line per measurement: threads, then train and eval seconds per epoch of each side.
python=${1:-python3}
threads=${THREADS:-1 2}; repeats=${REPEATS:-2}; subset=${SUBSET:-300}
echo "threads lcconv_train_s lcconv_eval_s pytorch_train_s pytorch_eval_s load_1min"
for r in $(seq 1 "$repeats"); do
  for t in $threads; do
    node bin/lcconv.js bench configs/fashion-mnist.yaml --set model.arch=resnet8 --set model.width=16 \
      --set model.kernel_size=3 --set model.lc_expansion=1 --set freeze=learned --set train.batch_size=128 \
      --set dataset.subset="$subset" --set dataset.val_split=0 --set dataset.augment=false --set threads="$t" \
      --backend cpu-native --whole-run --epochs 1 --repeats 1 --pytorch "$python" --json 2>/dev/null |
      node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const { summary: m, repeats: [rep] } = JSON.parse(s);
        const f = (x) => x.toFixed(2);
        console.log([process.argv[1], f(m.lcconv.train), f(m.lcconv.eval), f(m.pytorch.train), f(m.pytorch.eval), rep.load[0]].join(" "));
      });' "$t"
  done
done
