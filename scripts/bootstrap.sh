#!/usr/bin/env bash
# Idempotent setup on a fresh machine: system packages, virtualenv, locked Python packages,
# migrations. Sourced by scripts/run.sh and scripts/test.sh; safe to run again and again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_packages=()
command -v dot >/dev/null || apt_packages+=(graphviz)
# the Chinese catalogue is compiled here (compilemessages runs gettext's msgfmt)
command -v msgfmt >/dev/null || apt_packages+=(gettext)
if [ "${RUNBOARD_WITH_BROWSER:-0}" = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
  # the Redis-outage test starts and stops a Redis of its own
  command -v redis-server >/dev/null || apt_packages+=(redis-server)
  # the production test runs docker-compose.yml's proxy configuration in Caddy itself
  command -v caddy >/dev/null || apt_packages+=(caddy)
  # vendor names are often Chinese: a CJK font keeps browser tests and screenshots legible
  fc-list 2>/dev/null | grep -qi wqy || apt_packages+=(fonts-wqy-microhei)
  # the sign-in tests run a real OpenID provider on Node (tests/oidc)
  command -v npm >/dev/null || apt_packages+=(nodejs npm)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing system packages: ${apt_packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${apt_packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  # .python-version pins 3.12 for pyenv; elsewhere take python3.12 from PATH.
  if command -v pyenv >/dev/null; then python=$(pyenv which python); else python=python3.12; fi
  "$python" -m venv .venv
fi
[ -x .venv/bin/uv ] || .venv/bin/pip install -q --disable-pip-version-check "uv==0.13.9"
.venv/bin/uv sync --frozen --quiet --python .venv/bin/python

if [ "${RUNBOARD_WITH_BROWSER:-0}" = 1 ] && [ ! -d tests/oidc/node_modules/oidc-provider ]; then
  npm ci --prefix tests/oidc --no-audit --no-fund --silent
fi

mkdir -p var
SECRET_KEY="${SECRET_KEY:-compilemessages-only}" .venv/bin/python manage.py compilemessages \
  --ignore=.venv --ignore=tests -v0
