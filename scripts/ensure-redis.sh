#!/usr/bin/env bash
# Makes sure redis-server is on PATH: the tests run a real one and `escai dev`
# prefers it. Installs it with apt-get when we may (root, or passwordless
# sudo); otherwise says exactly what to install and fails.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
install() {
  DEBIAN_FRONTEND=noninteractive $1 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $1 apt-get install -y -qq redis-server >/dev/null
}
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "redis-server not found: installing it with apt-get" >&2
    install ""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "redis-server not found: installing it with sudo apt-get" >&2
    install sudo
  fi
fi
if ! command -v redis-server >/dev/null 2>&1; then
  cat >&2 <<'MSG'
redis-server is required (the tests run a real Redis on a free loopback port).
Install it, then run the command again:
  sudo apt-get install -y redis-server        # Debian/Ubuntu
  brew install redis                          # macOS
MSG
  exit 1
fi
