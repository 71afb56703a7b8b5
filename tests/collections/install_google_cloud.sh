#!/usr/bin/env bash
# Installs the google.cloud collection (the gcp_vm role's modules) once into .cache/collections of this checkout,
# extracted from the `ansible` wheel on PyPI: Galaxy is not reachable from CI, PyPI is. Prints the collections path.
# Usage: tests/collections/install_google_cloud.sh [python]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.cache/collections"
ansible_version=14.5.0 # ships google.cloud 1.15.0
manifest="$dest/ansible_collections/google/cloud/MANIFEST.json"
installed() { grep -q '"version": "1.15.0"' "$manifest" 2>/dev/null; }
if ! installed; then
  mkdir -p "$dest"
  exec 9>"$dest/.install.lock"
  flock 9
  if ! installed; then
    python="${1:-python3}"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.13 \
      "ansible==$ansible_version" -d "$tmp" 2>&1 | grep -v "is ignored" >&2 || true
    rm -rf "$dest/ansible_collections/google/cloud"
    "$python" - "$tmp"/ansible-"$ansible_version"-py3-none-any.whl "$dest" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as wheel:
    names = [n for n in wheel.namelist() if n.startswith("ansible_collections/google/cloud/")]
    wheel.extractall(sys.argv[2], names)
PY
  fi
fi
echo "$dest"
