#!/usr/bin/env bash
# The class-folder cache build against PIL, side by side (issue 50): a generated tree of 10 classes ×
# 1,000 JPEGs of 64×64, decoded at image_size SIZE by `lcconv data prepare` under each
# dataset.image_folder.resize (torchvision: with the native decoder, then with sharp alone; lanczos)
# and by PIL in one process (open, convert('RGB'), torchvision's Resize + CenterCrop), alternating,
# REPEATS times. Prints images/s of each.
#   bash bench/decode.sh [SIZE=64] [REPEATS=2] [DIR=/tmp/lcconv-decode-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-64}" repeats="${2:-2}" dir="${3:-/tmp/lcconv-decode-bench}"
[ -d "$dir/train" ] || node scripts/make-image-tree.mjs "$dir" --classes 10 --train 1000 --val 0 --size 64 \
  --aspect 1 --formats jpg --no-awkward >/dev/null
images=$(find "$dir/train" -name '*.jpg' | wc -l)
for resize in torchvision lanczos; do
  cat > "$dir/$resize.yaml" <<YAML
dataset: { name: image_folder, root: $dir, val_split: 0.1, image_folder: { image_size: $size, resize: $resize } }
YAML
done
rate() { awk -v n="$images" -v s="$1" 'BEGIN { printf "%.0f images/s (%.2f s)", n / s, s }'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
echo "$images JPEGs of 64×64 → ${size} px, load $(cut -d' ' -f1 /proc/loadavg), $(nproc) cores"
for i in $(seq "$repeats"); do
  # torchvision-compatible decode with the native libjpeg-turbo/libpng decoder (default where built),
  # the same with sharp decoding every file (LCCONV_NATIVE_DECODE=0), and libvips' Lanczos.
  for arm in torchvision torchvision-sharp lanczos; do
    rm -rf "$dir/.lcconv-cache"
    native=1; [ "$arm" = torchvision-sharp ] && native=0
    t0=$(date +%s.%N)
    decoded=$(LCCONV_NATIVE_DECODE=$native node bin/lcconv.js data prepare --config "$dir/${arm%-sharp}.yaml" 2>&1 |
      grep -o 'decoded in [0-9.]* s ([0-9,]* images/s)' || true)
    t1=$(date +%s.%N)
    echo "lcconv $arm: $decoded; whole command $(rate "$(echo "$t1 - $t0" | bc)")"
  done
  # PIL's loop alone (interpreter start and imports not counted, as lcconv's "decoded" rate does not
  # count Node's start), then the whole command.
  t0=$(date +%s.%N)
  loop=$(/usr/bin/python3 - "$dir" "$size" <<'PY'
import sys, glob, time
from PIL import Image
from torchvision import transforms
files = sorted(glob.glob(sys.argv[1] + "/train/*/*.jpg"))
size = int(sys.argv[2])
t = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size)])
start = time.perf_counter()
for f in files:
    with open(f, "rb") as fh:
        t(Image.open(fh).convert("RGB")).tobytes()
print(time.perf_counter() - start)
PY
)
  t1=$(date +%s.%N)
  echo "PIL + torchvision, one process: loop $(rate "$loop"); whole command $(rate "$(echo "$t1 - $t0" | bc)")"
done
