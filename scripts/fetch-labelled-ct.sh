#!/usr/bin/env bash
# Real labelled CT for bench/segmenter-dice.ts: pyradiomics ships two lung CT cases, each
# with a labelmap of one finding, as test data in its source package on the Python index
# (pyradiomics 3.0.1, BSD-3, Harvard Medical School). This downloads that package with pip
# (no install, no build) and keeps the four NRRD files in .cache/pyradiomics-data/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/pyradiomics-data"
files=(lung1_image.nrrd lung1_label.nrrd lung2_image.nrrd lung2_label.nrrd)
if [ -f "$out/${files[-1]}" ]; then
  echo "Labelled CT present in $out"
  exit 0
fi
pip=()
venv="${MEDREASONER_VENV:-$root/.venv-models}"
if [ -x "$venv/bin/pip" ]; then pip=("$venv/bin/pip")
elif python3 -m pip --version >/dev/null 2>&1; then pip=(python3 -m pip)
else echo "Need pip: run npm run setup:python (it makes .venv-models) or install python3-pip" >&2; exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${pip[@]}" download --quiet --no-deps --no-binary :all: --no-build-isolation pyradiomics==3.0.1 -d "$tmp"
mkdir -p "$out"
tar -xzf "$tmp"/pyradiomics-3.0.1.tar.gz -C "$tmp" "${files[@]/#/pyradiomics-3.0.1/data/}" pyradiomics-3.0.1/LICENSE.txt
for f in "${files[@]}"; do mv "$tmp/pyradiomics-3.0.1/data/$f" "$out/"; done
mv "$tmp/pyradiomics-3.0.1/LICENSE.txt" "$out/LICENSE.txt"
echo "Labelled CT in $out (${files[*]})"
