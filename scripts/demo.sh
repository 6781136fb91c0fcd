#!/usr/bin/env bash
# Install the offline stack and run the demo suite on the local model (no network, no API key).
# Extra arguments go to `harness run`, e.g. `./scripts/demo.sh --model openai/gpt-4o-mini`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh all
exec .venv/bin/harness run suites/demo/suite.yaml "$@"
