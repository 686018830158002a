#!/usr/bin/env bash
# Everything launchday needs on a fresh Debian/Ubuntu machine: the system
# packages (redis-server for the Redis tests, chromium for the browser tests,
# Node.js for the load-test reference server, nginx for the test of
# deploy/nginx.conf, prometheus for promtool and the checks of deploy/prometheus/,
# iproute2 for `ss` and `ip`, openssl and curl for the TLS test), then .venv in the repo root
# with the project and its tools. Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
updated=0
apt_install() {
  echo "setup: installing system packages: $*"
  if [ "$updated" -eq 0 ]; then
    $sudo apt-get update -qq
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
# openssl makes the throwaway CA and curl checks HTTPS in tests/deploy/test_tls.py.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# nginx and prometheus come as Debian services that would start on install
# (nginx on port 80, prometheus on 9090). The tests run /usr/sbin/nginx with
# their own config, port, pid file and logs (tests/services.py), and only
# promtool of the prometheus package (tests/deploy/test_prometheus.py), never
# Debian's services: a policy-rc.d answering 101 ("action forbidden") keeps
# them from starting, and is removed again right after.
services=()
[ -x /usr/sbin/nginx ] || services+=(nginx)
command -v promtool >/dev/null 2>&1 || services+=(prometheus)
if [ ${#services[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    ours=1
  fi
  status=0
  apt_install "${services[@]}" || status=$?
  [ "$ours" -eq 1 ] && $sudo rm -f "$policy"
  [ "$status" -eq 0 ] || exit "$status"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.launchday-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing launchday and its tools into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -U pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi
