#!/usr/bin/env bash
# Regenerates the numbers the README quotes (default experiment, smoke sweep, Fashion-MNIST over
# three seeds), each from a fresh results folder, and prints them as Markdown with the machine they
# were measured on. Usage: scripts/readme-numbers.sh [--skip-fashion]  (Fashion-MNIST: ~3 minutes
# on 2 cores with cpu-native; the rest: under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
LCCONV="node bin/lcconv.js"
OUT=$(mktemp -d -t lcconv-readme-XXXX)
trap 'rm -rf "$OUT"' EXIT

echo "## Machine"
echo
echo "- $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs || uname -m), $(nproc) cores, Node $(node --version), $(uname -sr)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime) (other work on the machine slows wall time, not CPU time)"
echo "- backend: $($LCCONV doctor --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);console.log(j.auto?.backend??j.auto??"?")}catch{console.log("?")}})')"
echo

# Runs a command, prints its output (fenced) and its wall and CPU seconds.
measure() {
  local title=$1; shift
  echo "## $title"
  echo
  echo "\`$*\`"
  echo
  echo '```'
  local start=$(date +%s.%N)
  /usr/bin/time -o "$OUT/time" -f '%U %S' "$@" > "$OUT/log" 2>&1 || true
  local times; times=$(tail -1 "$OUT/time")
  local end=$(date +%s.%N)
  tail -n 12 "$OUT/log"
  echo '```'
  echo
  echo "wall $(echo "$end - $start" | bc | xargs printf '%.1f') s, CPU $(echo "$times" | awk '{printf "%.1f", $1 + $2}') s (user + system)"
  echo
}

measure "Default experiment (lcconv run, configs/smoke.yaml)" $LCCONV run --set "results_dir=$OUT/default" --quiet
measure "Smoke sweep, two workers" $LCCONV sweep configs/smoke-sweep.yaml --set "results_dir=$OUT/sweep" --workers 2
if [[ "${1:-}" != "--skip-fashion" ]]; then
  measure "Fashion-MNIST, three seeds" $LCCONV run configs/fashion-mnist.yaml --set "results_dir=$OUT/fashion" --set 'seeds=[0,1,2]' --quiet
fi
