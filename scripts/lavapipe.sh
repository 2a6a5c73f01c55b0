#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) from Debian bookworm-backports, so that Dawn's Vulkan
# backend — the code path lcconv takes on an NVIDIA GPU — runs here without a GPU (issue 47).
# Bookworm's own lavapipe (Mesa 22.3.6) is refused by Dawn ("Vulkan shaderUniform*ArrayDynamicIndexing
# required."); the backport (Mesa 25) is accepted. Only the driver library is taken from the backport:
# it is unpacked, not installed, so the system's Mesa (the OpenGL ES adapter) stays as it is.
#
#   bash scripts/lavapipe.sh --user    unpack into ${XDG_DATA_HOME:-~/.local/share}/lcconv/lavapipe and
#                                      register it for this user (an ICD manifest in .../vulkan/icd.d):
#                                      every process then finds it (scripts/setup.sh --test-tools does this)
#   eval "$(bash scripts/lavapipe.sh [DIR])"
#                                      unpack into DIR (default .lavapipe) and print the one export line
#                                      that points this shell's Vulkan loader at it (nothing registered)
#
# Needs apt-get and dpkg-deb (Debian/Ubuntu). The driver's runtime libraries (the Vulkan loader,
# LLVM 15, libxcb, ...) are the package's own dependencies, installed from the system's suites with
# apt when run as root or with sudo, else listed. Progress and problems on stderr; exit 1 when a step fails.
set -euo pipefail
data=${XDG_DATA_HOME:-$HOME/.local/share}
if [ "${1:-}" = --user ]; then
  dir=$data/lcconv/lavapipe
  manifest=$data/vulkan/icd.d/lcconv_lvp_icd.json
else
  dir=$(realpath -m "${1:-.lavapipe}")
  manifest=$dir/lvp_icd.json
fi
say() { echo "lavapipe: $*" >&2; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { say "needs apt-get and dpkg-deb (Debian/Ubuntu)"; exit 1; }

suite=bookworm-backports
driver=$(find "$dir/root" -name libvulkan_lvp.so 2>/dev/null | head -n 1 || true)
if [ -z "$driver" ]; then
  mkdir -p "$dir/lists/partial" "$dir/debs"
  echo "deb http://deb.debian.org/debian $suite main" > "$dir/sources.list"
  # A private source list, package lists and cache: downloads only, no root, the system's apt untouched.
  apt=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir/lists"
       -o "Dir::Cache=$dir/cache" -o Debug::NoLocking=1 -o "APT::Sandbox::User=$(id -un)")
  say "fetching mesa-vulkan-drivers from $suite into $dir"
  apt-get "${apt[@]}" update -qq >&2
  rm -f "$dir"/debs/*.deb
  (cd "$dir/debs" && apt-get "${apt[@]}" download mesa-vulkan-drivers >&2)
  dpkg-deb -x "$dir"/debs/mesa-vulkan-drivers_*.deb "$dir/root"
  driver=$(find "$dir/root" -name libvulkan_lvp.so | head -n 1)
  [ -n "$driver" ] || { say "libvulkan_lvp.so is not in the package"; exit 1; }
fi

# The package's dependencies, without versions: bookworm's versions load the driver (its libdrm
# 2.4.114 where the backport asks for 2.4.121: lavapipe uses no newer symbol; the WebGPU tests pass).
mapfile -t depends < <(dpkg-deb -f "$dir"/debs/mesa-vulkan-drivers_*.deb Depends | tr ',' '\n' |
  sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/[[:space:]]//g' | grep -v '^$')
missing=()
for pkg in "${depends[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo="sudo"; }
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    say "installing its runtime libraries: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "not root and no sudo: install ${missing[*]} with apt, then run this again"; exit 1
  fi
fi

# The packaged manifest names the library without a path (it expects the system folder); this one
# names the unpacked file.
mkdir -p "$(dirname "$manifest")"
printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$driver" > "$manifest"
if [ "${1:-}" = --user ]; then
  say "registered $driver for this user ($manifest); remove that file to undo"
else
  echo "export VK_ICD_FILENAMES=$manifest"
fi
