#!/usr/bin/env bash
# Runs the pnpm version pinned in package.json ("packageManager") on a machine that has only Node
# and npm: a matching pnpm on PATH, else corepack, else npx. When pnpm is not on PATH, a small
# `pnpm` shim goes into .tools/bin and onto PATH, because turbo looks for the binary itself.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want=$(node -p "require('$here/package.json').packageManager.split('@')[1]")
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then
  exec pnpm "$@"
fi
# corepack 0.34 rejects pnpm's current registry signatures unless integrity checks are off.
export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0
if command -v corepack >/dev/null 2>&1 && corepack "pnpm@$want" --version >/dev/null 2>&1; then
  runner="corepack pnpm@$want"
else
  runner="npx --yes pnpm@$want"
fi
mkdir -p "$here/.tools/bin"
printf '#!/usr/bin/env bash\nexport COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0\nexec %s "$@"\n' "$runner" >"$here/.tools/bin/pnpm"
chmod +x "$here/.tools/bin/pnpm"
export PATH="$here/.tools/bin:$PATH"
exec pnpm "$@"
