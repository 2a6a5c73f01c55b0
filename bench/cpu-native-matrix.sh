#!/usr/bin/env bash
# cpu-native vs the PyTorch reference (1 thread each), ResNet-20 W=16, batch 32, synthetic data:
# k=3, k=7 and an LC block (E=4), learned and frozen. Usage: bash bench/cpu-native-matrix.sh [python with torch]
python=${1:-python3}
for variant in "k3 model.kernel_size=3 model.lc_expansion=1" "k7 model.kernel_size=7 model.lc_expansion=1" "k3-E4 model.kernel_size=3 model.lc_expansion=4"; do
  set -- $variant; name=$1; k=$2; e=$3
  for freeze in learned frozen; do
    echo "== $name $freeze load $(cut -d' ' -f1 /proc/loadavg)"
    node bin/lcconv.js bench configs/cifar10-resnet20.yaml --set train.batch_size=32 --set freeze=$freeze --set $k --set $e \
      --backend cpu-native --steps 10 --warmup 2 --pytorch "$python" 2>&1 | grep -E "^(train|eval|pytorch|lcconv /)"
  done
done
