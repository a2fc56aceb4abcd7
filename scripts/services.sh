#!/usr/bin/env bash
# Makes sure every server the tests need is installed and running on loopback.
# Idempotent: a server that already answers is left alone.
set -uo pipefail

log() { printf '[services] %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    port_open "$2" && { log "$1 is up on 127.0.0.1:$2"; return 0; }
    sleep 0.1
  done
  log "ERROR: $1 did not come up on 127.0.0.1:$2 within $3 s"
  return 1
}

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then log "cannot install $* without root"; return 1; fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_redis() {
  port_open 6379 && { log "redis is up on 127.0.0.1:6379"; return 0; }
  command -v redis-server >/dev/null || apt_install redis-server || return 1
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port redis 6379 20
}

ensure_rabbitmq() {
  port_open 5672 && { log "rabbitmq is up on 127.0.0.1:5672"; return 0; }
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server || return 1
  rabbitmq-server -detached
  wait_port rabbitmq 5672 90
}

# The management HTTP API (counts, rates, consumers) that @dq/dashboard reads: the plugin is enabled
# online on the running node (idempotent), then its port is awaited.
ensure_rabbitmq_management() {
  port_open 15672 && { log "rabbitmq management is up on 127.0.0.1:15672"; return 0; }
  port_open 5672 || ensure_rabbitmq || return 1
  rabbitmq-plugins enable rabbitmq_management >/dev/null || return 1
  wait_port "rabbitmq management" 15672 90
}

ensure_memcached() {
  port_open 11211 && { log "memcached is up on 127.0.0.1:11211"; return 0; }
  command -v memcached >/dev/null || apt_install memcached || return 1
  memcached -d -u "$(id -un)" -l 127.0.0.1 -p 11211 -m 64
  wait_port memcached 11211 20
}

# Headless Chromium for @dq/dashboard's browser tests (driven by playwright-core, which must never
# download a browser of its own).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && { log "chromium is installed"; return 0; }
  apt_install chromium || return 1
  log "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)"
}

status=0
for service in ${DQ_SERVICES:-redis rabbitmq rabbitmq_management memcached chromium}; do
  "ensure_$service" || status=1
done
exit $status
