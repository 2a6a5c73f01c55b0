#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) from Debian bookworm-backports, unpacked into a folder
# instead of installed, so that Dawn's Vulkan backend — the code path lcconv takes on an NVIDIA GPU —
# can run here without a GPU and without changing the system (issue 47). Bookworm's own lavapipe
# (Mesa 22.3.6) is refused by Dawn ("Vulkan shaderUniform*ArrayDynamicIndexing required."); the
# backport (Mesa 25) is accepted. Needs apt-get (downloads only, no root) and dpkg-deb.
#
#   eval "$(bash scripts/lavapipe-local.sh [DIR=.lavapipe])"    # sets VK_ICD_FILENAMES, LD_LIBRARY_PATH
#   npx lcconv doctor                                          # webgpu: ... (Dawn vulkan, software adapter)
#
# Prints the two export lines on stdout; progress and problems on stderr (exit 1 when a step fails).
set -euo pipefail
dir=$(realpath -m "${1:-.lavapipe}")
suite=bookworm-backports
packages=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1) # lavapipe and the libdrm it needs (>= 2.4.121)
lib="$dir/root/usr/lib/x86_64-linux-gnu"
if [ ! -f "$lib/libvulkan_lvp.so" ]; then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "lavapipe-local: needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2; exit 1; }
  mkdir -p "$dir/lists/partial" "$dir/debs"
  echo "deb http://deb.debian.org/debian $suite main" > "$dir/sources.list"
  apt=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir/lists"
       -o "Dir::Cache=$dir/cache" -o Debug::NoLocking=1)
  echo "lavapipe-local: fetching ${packages[*]} from $suite into $dir" >&2
  apt-get "${apt[@]}" update -qq >&2
  (cd "$dir/debs" && apt-get "${apt[@]}" download "${packages[@]}" >&2)
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  [ -f "$lib/libvulkan_lvp.so" ] || { echo "lavapipe-local: libvulkan_lvp.so not in the packages" >&2; exit 1; }
fi
# The packaged ICD file names the library without a path; this one points into the folder.
printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s/libvulkan_lvp.so", "api_version": "1.3.0"}}\n' \
  "$lib" > "$dir/lvp_icd.json"
echo "export VK_ICD_FILENAMES=$dir/lvp_icd.json"
echo "export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
