#!/usr/bin/env bash
# Writes an installable tarball of every public package to one folder (default: ./packs), for using
# dq in a project outside this workspace before the packages are published:
#   bash scripts/pack.sh [DIR]
#   cd ~/my-app && npm install DIR/dq-core-*.tgz DIR/dq-broker-redis-*.tgz
# Builds first. `pnpm pack` rewrites the `workspace:` ranges between the packages into the
# versions they have here (one version for all: see .changeset/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/packs}" && cd "${1:-$root/packs}" && pwd)
cd "$root"
echo "==> building packages"
bash scripts/pnpm.sh build --output-logs=hash-only
rm -f "$out"/dq-*.tgz
for dir in packages/*/; do
  if [ "$(node -p "Boolean(require('./${dir}package.json').private)")" = true ]; then continue; fi
  name=$(node -p "require('./${dir}package.json').name")
  # Each tarball carries the repository's LICENSE (the packages declare LGPL-3.0-or-later).
  cp LICENSE COPYING "$dir"
  (cd "$dir" && bash "$root/scripts/pnpm.sh" pack --pack-destination "$out" >/dev/null)
  rm -f "$dir/LICENSE" "$dir/COPYING"
  echo "==> packed $name"
done
ls "$out"/dq-*.tgz
