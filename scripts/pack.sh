#!/usr/bin/env bash
# Writes an installable tarball of every public package to one folder (default: ./packs), for using
# dq in a project outside this workspace before the packages are published:
#   bash scripts/pack.sh [DIR]
#   cd ~/my-app && npm install DIR/dq-core-*.tgz DIR/dq-broker-redis-*.tgz DIR/dq-redis-connection-*.tgz
# Builds first. `pnpm pack` rewrites the `workspace:` ranges between the packages into the
# versions they have here (one version for all: see .changeset/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/packs}" && cd "${1:-$root/packs}" && pwd)
cd "$root"
echo "==> building packages"
bash scripts/pnpm.sh build --output-logs=hash-only
rm -f "$out"/dq-*.tgz
filters=()
dirs=()
for dir in packages/*/; do
  if [ "$(node -p "Boolean(require('./${dir}package.json').private)")" = true ]; then continue; fi
  filters+=(--filter "$(node -p "require('./${dir}package.json').name")")
  dirs+=("$dir")
done
# Each tarball carries the repository's LICENSE and COPYING (the packages declare
# LGPL-3.0-or-later, which supplements the GPL v3): copied in for the packing only.
trap 'for dir in "${dirs[@]}"; do rm -f "$dir/LICENSE" "$dir/COPYING"; done' EXIT
for dir in "${dirs[@]}"; do cp LICENSE COPYING "$dir"; done
echo "==> packing ${#dirs[@]} packages"
bash scripts/pnpm.sh "${filters[@]}" exec pnpm pack --pack-destination "$out" >/dev/null
ls "$out"/dq-*.tgz
