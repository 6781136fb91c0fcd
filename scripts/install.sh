#!/usr/bin/env bash
# Create .venv (if needed) and install the harness with the given extras (default: dev, which
# includes everything). Safe to re-run: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
if [ ! -x .venv/bin/python ]; then
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: the harness needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)" >&2
    exit 2
  fi
  python3 -m venv .venv
fi
py=.venv/bin/python
"$py" -m pip install --quiet --upgrade pip wheel setuptools
if [[ "$extras" != "" ]] && ! "$py" -c "import torch" 2>/dev/null; then
  # Pinned first so nothing else resolves an unpinned torch (which would pull GBs of CUDA wheels
  # on a CPU-only machine); where this exact version has a local CPU build, pip takes it.
  "$py" -m pip install --quiet "torch==2.13.0"
fi
# llama-cpp-python builds from source (about 5 minutes, cached by pip afterwards); a portable
# build, so a cached wheel runs on any x86-64 CPU with AVX2.
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "$py" -m pip install --quiet -e ".[${extras}]"
