#!/usr/bin/env bash
# dq in a project outside this workspace, as the README's "Use dq in your own project" says: the
# tarballs of scripts/pack.sh installed with npm into a fresh app (scripts/outside-app copied to a
# temporary directory), built with tsc (which also checks that the packages' types arrive), then
# run against Redis: a pipeline and a group, with results in Redis. Run by scripts/test.sh (CI);
# needs Redis on 6379 and the npm registry (typescript, ioredis, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dq-outside-XXXXXX")
namespace="dq-outside-$$-$RANDOM"
log() { printf '[outside] %s\n' "$*"; }
cleanup() {
  if command -v redis-cli >/dev/null 2>&1; then
    for pattern in "$namespace:*" "$namespace-results:*"; do
      redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$pattern" | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null || true
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
bash "$root/scripts/pack.sh" "$work/packs" >/dev/null
log "packed $(ls "$work/packs" | wc -l) tarballs in $(($(date +%s) - start)) s"
cp -r "$root/scripts/outside-app" "$work/app"
cd "$work/app"
start=$(date +%s)
npm install --no-audit --no-fund --loglevel=error \
  "$work"/packs/dq-core-*.tgz "$work"/packs/dq-broker-redis-*.tgz "$work"/packs/dq-results-redis-*.tgz \
  "$work"/packs/dq-redis-connection-*.tgz
npm install --no-audit --no-fund --loglevel=error --save-dev typescript@5.9.3 "@types/node@^20"
log "npm install done in $(($(date +%s) - start)) s: $(node -p "Object.entries(require('./package.json').dependencies).map(([k, v]) => k + '@' + v.replace(/^.*\//, '')).join(', ')")"
npm run --silent build
log "tsc: built and type-checked"
DQ_LOG_LEVEL=warn DQ_BROKER_URL="redis://127.0.0.1:6379/0?namespace=$namespace" timeout 120 node dist/main.js
log "OK"
