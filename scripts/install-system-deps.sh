#!/usr/bin/env bash
# Debian packages the tests use as real parts: Chromium (end-to-end tests, WebGL2 via
# SwiftShader), dicom3tools (dciodvfy validator), dcmtk, pydicom (independent reader
# and its corpus of test files; python3-gdcm is how it decodes JPEG, JPEG-LS and JPEG
# 2000), Orthanc with DICOMweb (a real PACS on loopback), mricron-data (real MR templates with
# their label atlases: the default segmenter's evaluation on real anatomy).
set -euo pipefail
packages=(chromium dcmtk dicom3tools python3-pydicom python3-numpy python3-gdcm orthanc orthanc-dicomweb fonts-dejavu-core mricron-data)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "System packages present: ${packages[*]}"
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
