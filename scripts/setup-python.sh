#!/usr/bin/env bash
# Creates the project's Python environment (default .venv-models/, or $MEDREASONER_VENV):
# the export scripts, the PyTorch references of the parity tests, highdicom.
# Idempotent: a venv whose requirements stamp matches is reused as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MEDREASONER_VENV:-$PWD/.venv-models}"
requirements="$PWD/native-models/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "Python environment up to date: $venv"
  exit 0
fi
python=""
for candidate in python3.11 python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
    python="$(command -v "$candidate")"; break
  fi
done
[ -n "$python" ] || { echo "setup-python: needs Python 3.11 with venv (the torch wheels are cp311)" >&2; exit 1; }
echo "Creating the Python environment in $venv with $python"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install "setuptools>=70" wheel
"${pip[@]}" install -r "$requirements"
# sam2 ships as an sdist whose build imports torch: build it against the torch above, without
# its optional CUDA kernels (they only speed up hole filling in video post-processing).
SAM2_BUILD_CUDA=0 "${pip[@]}" install --no-build-isolation --no-deps "sam2==1.1.0"
"$venv/bin/python" -c 'import torch, torchvision, transformers, onnx, onnxruntime, sam2, highdicom; print("python env:", "torch", torch.__version__, "transformers", transformers.__version__, "onnxruntime", onnxruntime.__version__)'
echo "$want" > "$stamp"
