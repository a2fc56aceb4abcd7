#!/usr/bin/env bash
# The README's first hour, as a newcomer runs it: a fresh clone of this checkout's HEAD, the
# README's quickstart command, then the README's worker example (the `dq` command with 2 worker
# processes on Redis, and the sender) copied out of README.md and run as written, except that the
# Redis URL gets a namespace of its own (the machine's Redis is shared). Passes when the workers
# process every job the sender enqueued. Run by scripts/test.sh (CI); needs Redis on 6379.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dq-readme-XXXXXX")
namespace="dq-readme-$$-$RANDOM"
redis_url="redis://127.0.0.1:6379"
dq_pid=""
log() { printf '[readme] %s\n' "$*"; }

cleanup() {
  if [ -n "$dq_pid" ] && kill -0 "$dq_pid" 2>/dev/null; then
    kill -TERM -- "-$dq_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$dq_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$dq_pid" 2>/dev/null || true
  fi
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$namespace:*" | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The README's code lines: the quickstart command, and the worker example's `cd`, dq and sender.
readme="$root/README.md"
quickstart=$(grep -m1 -E '^bash scripts/quickstart\.sh$' "$readme")
cd_line=$(grep -m1 -E '^cd apps/examples/quickstart$' "$readme")
worker_line=$(grep -m1 -E '^DQ_BROKER_URL=.*dq .* -p 2' "$readme" | sed 's/ *#.*$//')
send_line=$(grep -m1 -E '^DQ_BROKER_URL=.*send\.js' "$readme" | sed 's/ *#.*$//')
for line in quickstart cd_line worker_line send_line; do
  [ -n "${!line}" ] || { log "ERROR: README.md has no $line"; exit 1; }
done
namespaced="$redis_url/0?namespace=$namespace"
worker_line=${worker_line//$redis_url/$namespaced}
send_line=${send_line//$redis_url/$namespaced}

if [ -n "${DQ_README_CHECKOUT:-}" ]; then
  # For working on this script: run the README's lines in an existing checkout instead.
  cd "$DQ_README_CHECKOUT"
else
  log "fresh clone of $(git -C "$root" rev-parse --short HEAD) into $work/dq"
  git clone -q "$root" "$work/dq"
  cd "$work/dq"
fi
# The clone builds through this checkout's turbo cache (same commit, same task hashes): the
# README's commands run unchanged and the install is fresh, but CI does not compile every package
# a second time. A hash that differs (uncommitted changes) simply builds.
cache="$(cd "$(git -C "$root" rev-parse --git-common-dir)/.." && pwd)/.turbo/cache"
[ -d "$cache" ] && export TURBO_CACHE_DIR="$cache"
log "\$ $quickstart"
start=$(date +%s)
eval "$quickstart" >"$work/quickstart.log" 2>&1 || { tail -50 "$work/quickstart.log"; log "ERROR: the quickstart failed"; exit 1; }
log "quickstart done in $(($(date +%s) - start)) s"

eval "$cd_line"
log "\$ $worker_line"
# @dq/prometheus is resolvable inside the workspace, and its exposition server's fixed port 9191
# may be taken on a shared CI machine: not what this test is about.
export DQ_PROMETHEUS=0
# In its own process group, stopped as Ctrl-C in a terminal stops it: INT to the whole group.
setsid bash -c "exec env $worker_line" >"$work/dq.log" 2>&1 &
dq_pid=$!
booted() { [ "$(grep -c 'booted:' "$work/dq.log" || true)" -ge 2 ]; }
for _ in $(seq 1 600); do booted && break; kill -0 "$dq_pid" 2>/dev/null || break; sleep 0.1; done
booted || { cat "$work/dq.log"; log "ERROR: 2 worker processes did not boot within 60 s"; exit 1; }

log "\$ $send_line"
eval "$send_line"
done_jobs() { grep -cE '\] (add\(|emailed )' "$work/dq.log" || true; }
for _ in $(seq 1 600); do [ "$(done_jobs)" -ge 8 ] && break; sleep 0.1; done
if [ "$(done_jobs)" -lt 8 ]; then cat "$work/dq.log"; log "ERROR: only $(done_jobs) of 8 jobs ran within 60 s"; exit 1; fi
pids=$(grep -oE '\[pid [0-9]+\] (add\(|emailed )' "$work/dq.log" | grep -oE '[0-9]+' | sort -u | wc -l)
kill -INT -- "-$dq_pid"
code=0
wait "$dq_pid" || code=$?
dq_pid=""
grep -q 'All processes stopped.$' "$work/dq.log" || { cat "$work/dq.log"; log "ERROR: dq did not stop gracefully on Ctrl-C (exit $code)"; exit 1; }
log "OK: 8 of 8 jobs processed by 2 worker processes (jobs ran in $pids of them); Ctrl-C stopped dq gracefully (exit $code)"

# The examples' READMEs: each documented command must finish and exit on its own (bounded).
cd "$work/dq" 2>/dev/null || cd "$DQ_README_CHECKOUT"
for readme_file in apps/examples/*/README.md; do
  while IFS= read -r line; do
    log "\$ $line"
    start=$(date +%s)
    if ! timeout 90 bash -c "$line" >"$work/example.log" 2>&1; then
      tail -30 "$work/example.log"
      log "ERROR: '$line' ($readme_file) did not finish and exit 0 within 90 s"
      exit 1
    fi
    log "finished in $(($(date +%s) - start)) s"
  done < <(grep -E '^([A-Z_]+=[^ ]+ )?bash scripts/pnpm.sh --filter @dq/example-[a-z-]+ start( +#.*)?$' "$readme_file" | sed 's/ *#.*$//')
done
log "OK: every example command finished and exited"
