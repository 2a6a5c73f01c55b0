#!/usr/bin/env bash
# Runs the docs/benchmarks-cpu-native.md matrix: cpu-native and PyTorch, learned / frozen conv
# filters, 1 / 2 threads, REPS repetitions interleaved so both see the same machine load. Prints
# one JSON line per run, each preceded by the 1-minute load average when it started.
#   npm run build && bash bench/cpu-native-matrix.sh 3 > /tmp/matrix.jsonl
set -euo pipefail
reps=${1:-3}
cd "$(dirname "$0")/.."
for rep in $(seq "$reps"); do
  for freeze in learned frozen; do
    for threads in 1 2; do
      echo "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
      node dist/bench/cpu-native.js --backend cpu-native --freeze "$freeze" --threads "$threads" --steps 10 2>/dev/null | tail -1
      if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        echo "{\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
        /usr/bin/python3 bench/torch_resnet20.py --freeze "$freeze" --threads "$threads" --steps 10
      fi
    done
  done
done
