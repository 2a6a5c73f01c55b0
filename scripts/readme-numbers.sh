#!/usr/bin/env bash
# Measures every number the README quotes and writes it into README.md, between
# `<!-- numbers:NAME -->` and `<!-- /numbers -->`: the machine, the default experiment's table and
# time, the smoke sweep's time and a three-seed Fashion-MNIST comparison, each from a fresh results
# folder. Nothing else in the README, the help text or a config comment states a measured time or
# accuracy (test/readme.test.ts checks that, and that each block is here and filled).
# Usage: scripts/readme-numbers.sh [--print] [--skip-fashion]
#   --print          print the blocks instead of writing them into README.md
#   --skip-fashion   leave the Fashion-MNIST blocks as they are (that part takes a few CPU minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
LCCONV="node bin/lcconv.js"
OUT=$(mktemp -d -t lcconv-readme-XXXX)
trap 'rm -rf "$OUT"' EXIT
PRINT=0 FASHION=1
for arg in "$@"; do
  case $arg in
    --print) PRINT=1 ;;
    --skip-fashion) FASHION=0 ;;
    *) echo "readme-numbers.sh: unknown argument $arg (use --print, --skip-fashion)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT/blocks"

# Runs a command; its output goes to $OUT/log, its wall and CPU seconds to $WALL and $CPU.
measure() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -o "$OUT/time" -f '%U %S' "$@" > "$OUT/log" 2>&1
  end=$(date +%s.%N)
  WALL=$(echo "$end - $start" | bc | xargs printf '%.1f')
  CPU=$(tail -1 "$OUT/time" | awk '{printf "%.1f", $1 + $2}')
}

# The table and closing sentence `lcconv run --quiet` printed, without the line naming the CSV.
table_of_log() {
  echo '```'
  grep -v -e '^comparison written to' -e '^-------' "$OUT/log" | sed '/^$/d'
  echo '```'
}

cpu_name=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | xargs || uname -m)
backend=$($LCCONV doctor --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);console.log(j.auto?.backend??j.auto??"?")}catch{console.log("?")}})')
echo "$(nproc)-core ${cpu_name}, Node $(node --version), \`${backend}\` backend, load average $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?') before, $(date -u +%Y-%m-%d)" > "$OUT/blocks/machine"

measure $LCCONV run --set "results_dir=$OUT/default" --quiet
{ table_of_log; echo; echo "${WALL} s wall, ${CPU} s CPU."; } > "$OUT/blocks/default"

measure $LCCONV sweep configs/smoke-sweep.yaml --set "results_dir=$OUT/sweep" --workers 2
echo "${WALL} s wall" > "$OUT/blocks/sweep"

if [[ $FASHION == 1 ]]; then
  measure $LCCONV run configs/fashion-mnist.yaml --set "results_dir=$OUT/fashion" --set 'seeds=[0,1,2]' --quiet
  { table_of_log; echo; echo "${WALL} s wall for the 9 runs."; } > "$OUT/blocks/fashion"
  # lcconv eval's defaults on one of those runs (frozen, E = 4, seed 0).
  measure $LCCONV eval "$(ls -d "$OUT"/fashion/*/frozen-k3-E4-seed0-* | head -1)"
  echo "${WALL} s wall" > "$OUT/blocks/eval"
fi

if [[ $PRINT == 1 ]]; then
  for f in "$OUT"/blocks/*; do echo "<!-- numbers:$(basename "$f") -->"; cat "$f"; echo "<!-- /numbers -->"; echo; done
  exit 0
fi
node - "$OUT/blocks" <<'EOF'
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const dir = process.argv[2];
let readme = readFileSync('README.md', 'utf8');
for (const name of readdirSync(dir)) {
  const body = readFileSync(`${dir}/${name}`, 'utf8').trimEnd();
  const block = new RegExp(`(<!-- numbers:${name} -->)[\\s\\S]*?(<!-- /numbers -->)`, 'g');
  if (!block.test(readme)) throw new Error(`README.md has no <!-- numbers:${name} --> block`);
  const inline = !body.includes('\n');
  readme = readme.replace(block, (_, open, close) => (inline ? `${open}${body}${close}` : `${open}\n${body}\n${close}`));
}
writeFileSync('README.md', readme);
console.log(`README.md: wrote ${readdirSync(dir).join(', ')}`);
EOF
