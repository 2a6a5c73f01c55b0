#!/usr/bin/env bash
# Sets lcconv up on a fresh machine: the system libraries its fast paths need (where apt can
# install them), then the npm packages from the lockfile (which builds dist/ and the native addon).
#   scripts/setup.sh               runtime: g++ + oneDNN (cpu-native backend), Mesa EGL/GLES (WebGPU without a GPU),
#                                  libjpeg-turbo + libpng headers (the fast decoder of image folders)
#   scripts/setup.sh --test-tools  also Slurm + munge, for the Slurm executor's integration test, and Mesa's
#                                  software Vulkan driver (scripts/lavapipe.sh --user), so the WebGPU tests
#                                  run on Dawn's Vulkan backend as well as on OpenGL ES
# Without apt (macOS, other Linux) it says what to install and goes on: every library is optional,
# lcconv then runs on the backends that load (`lcconv doctor` tells which and why).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ make python3 libdnnl-dev libegl1 libegl-mesa0 libgles2 libjpeg62-turbo-dev libpng-dev)
[ "${1:-}" = --test-tools ] && packages+=(slurm-wlm munge)

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo="sudo"; }
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    # Optional as every library here: without it the Vulkan half of the WebGPU tests is skipped, with the reason.
    [ "${1:-}" = --test-tools ] && { bash scripts/lavapipe.sh --user || echo "setup: lavapipe not installed: the WebGPU tests run on OpenGL ES only" >&2; }
  else
    echo "setup: not root and no sudo: install ${packages[*]} with apt to enable the fast backends" >&2
  fi
else
  echo "setup: no apt-get here; for the native CPU backend install a C++ compiler and oneDNN 2.x" \
       "(macOS: brew install onednn), for WebGPU without a GPU an EGL/GLES driver (Mesa)" >&2
fi

npm ci --no-audit --no-fund

# The tfjs-node packages are optional: npm drops them silently when their libtensorflow download
# (storage.googleapis.com) fails. Say so in one line, with what it means.
missing=()
for pkg in tfjs-node-gpu tfjs-node; do
  compgen -G "node_modules/@tensorflow/$pkg/lib/napi-v*/tfjs_binding.node" >/dev/null || missing+=("@tensorflow/$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: optional ${missing[*]} not installed (libtensorflow download failed): no 'tensorflow' backend (its CUDA build needs CUDA 11.2 + cuDNN 8.1); a GPU still trains through WebGPU (Vulkan), a CPU through cpu-native; see npx lcconv doctor" >&2
fi
