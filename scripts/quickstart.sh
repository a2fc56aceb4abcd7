#!/usr/bin/env bash
# One command from a fresh clone: install, build, and run the quickstart example.
# Runs on the in-memory broker; set DQ_BROKER_URL=redis://127.0.0.1:6379 to run it on Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> installing dependencies (pnpm $(node -p "require('./package.json').packageManager"))"
bash scripts/pnpm.sh install --frozen-lockfile
echo "==> building packages (one line per package as it starts; a first build takes about a minute)"
bash scripts/pnpm.sh build --output-logs=hash-only
echo "==> running apps/examples/quickstart"
bash scripts/pnpm.sh --filter @dq/example-quickstart start
