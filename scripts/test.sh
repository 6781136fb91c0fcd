#!/usr/bin/env bash
# Install everything (dev extra) and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
exec .venv/bin/python -m pytest "$@"
