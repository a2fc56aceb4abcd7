#!/usr/bin/env bash
# The whole test suite from a fresh clone: services, install, build, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/pnpm.sh install --frozen-lockfile
echo "==> building (one line per package as it starts)"
bash scripts/pnpm.sh build --output-logs=hash-only
bash scripts/pnpm.sh lint --output-logs=errors-only
bash scripts/pnpm.sh typecheck --output-logs=errors-only
log=$(mktemp)
set +e
bash scripts/pnpm.sh test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# A newcomer's first hour, side by side (each waits on the network or Redis much of its time):
# the README's commands on a fresh clone, and dq used from the package tarballs in a project
# outside the workspace.
echo "==> the README's commands on a fresh clone, and dq from its tarballs outside the workspace"
bash scripts/test-readme.sh >"$log.readme" 2>&1 &
readme_pid=$!
bash scripts/test-outside.sh >"$log.outside" 2>&1 &
outside_pid=$!
wait "$readme_pid" || { status=1; echo "test-readme.sh FAILED"; }
cat "$log.readme"
wait "$outside_pid" || { status=1; echo "test-outside.sh FAILED"; }
cat "$log.outside"
rm -f "$log.readme" "$log.outside"
set -e
# One closing line for the whole run, summed over every package's jest summary.
sum() { grep -Eo "Tests: .*" "$log" | grep -Eo "[0-9]+ $1" | awk '{ s += $1 } END { print s + 0 }'; }
echo "tests: $(sum passed) passed, $(sum failed) failed, $(sum skipped) skipped"
rm -f "$log"
exit "$status"
