#!/usr/bin/env bash
# The whole test suite from a fresh clone: services, install, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/pnpm.sh install --frozen-lockfile
bash scripts/pnpm.sh build --output-logs=errors-only
bash scripts/pnpm.sh lint --output-logs=errors-only
bash scripts/pnpm.sh typecheck --output-logs=errors-only
bash scripts/pnpm.sh test
