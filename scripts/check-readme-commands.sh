#!/usr/bin/env bash
# Runs every command in the README's ```sh blocks, as written and in the README's order, in a fresh
# clone of this repository's HEAD: what a newcomer does. Stops at the first command that fails and
# names it. test/readme.test.ts checks the same commands cheaply (real commands, flags, configs) on
# every `npm test`; this runs them for real (several CPU minutes: the Fashion-MNIST runs and their
# evaluation).
#   scripts/check-readme-commands.sh [--skip-tests]   (--skip-tests: leave out `npm test`)
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_TESTS=0
for arg in "$@"; do
  case $arg in
    --skip-tests) SKIP_TESTS=1 ;;
    *) echo "check-readme-commands.sh: unknown argument $arg (use --skip-tests)" >&2; exit 2 ;;
  esac
done
CLONE=$(mktemp -d -t lcconv-readme-clone-XXXX)
trap 'rm -rf "$CLONE"' EXIT
git clone -q . "$CLONE"
cd "$CLONE"

# The commands: shell blocks only, `\` continuations joined, comments dropped.
node -e '
  const text = require("fs").readFileSync("README.md", "utf8");
  for (const [, body] of text.matchAll(/```sh\n([\s\S]*?)```/g))
    for (const line of body.replace(/\\\n\s*/g, "").split("\n")) {
      const command = line.replace(/\s+#.*$/, "").trim();
      if (command && !command.startsWith("#")) console.log(command);
    }
' > "$CLONE/.readme-commands"

n=0
while IFS= read -r command; do
  n=$((n + 1))
  if [[ $SKIP_TESTS == 1 && $command == "npm test" ]]; then echo "[$n] skipped: $command"; continue; fi
  echo "[$n] $command"
  start=$(date +%s)
  if ! bash -c "$command" > "$CLONE/.log" 2>&1 < /dev/null; then
    tail -n 20 "$CLONE/.log"
    echo "check-readme-commands: README command $n failed: $command" >&2
    exit 1
  fi
  echo "    ok ($(( $(date +%s) - start )) s)"
done < "$CLONE/.readme-commands"
echo "all $n README commands ran as written in a fresh clone"
