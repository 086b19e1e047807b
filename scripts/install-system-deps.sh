#!/usr/bin/env bash
# Installs the Debian packages the Python requirements build against or the Makefile runs.
# Usage: scripts/install-system-deps.sh [package-set]   (sets below)
#   venv:  python3-venv, when the Python that makes .venv ($PYTHON, default python3) lacks ensurepip
#   build: headers and pkg-config for mysqlclient (compiled from source: PyPI ships no Linux wheel),
#          and python3-dev when that Python has no headers
#   bench: wrk, the load generator used by `make bench`
#   browser: Debian's chromium and chromedriver, for the headless-browser end-to-end test
#   node:  Node.js and npm, to install newman (scripts/install-newman.sh)
#   compose: docker-compose (1.29, Python), which checks docker-compose.yml without a Docker engine
#   diagrams: graphviz, which draws the model diagrams (make diagrams)
#   monitor: Debian's prometheus (server and promtool), for make monitor and its end-to-end test
# Installs only what is missing; says what to run when it cannot install (not root, no sudo, no apt).
set -euo pipefail

set_name="${1:-build}"
python="${PYTHON:-python3}"
case "$set_name" in
  venv)
    packages=()
    "$python" -c "import ensurepip, venv" 2>/dev/null || packages=(python3-venv)
    ;;
  build)
    packages=(libmariadb-dev pkg-config gcc)
    "$python" -c "import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))" 2>/dev/null \
      || packages+=(python3-dev)
    ;;
  bench) packages=(wrk) ;;
  browser) packages=(chromium chromium-driver) ;;
  node)
    packages=()
    # Any Node.js and npm on the PATH will do (nvm, NodeSource); Debian's otherwise.
    command -v node >/dev/null 2>&1 || packages+=(nodejs)
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    ;;
  compose) packages=(docker-compose) ;;
  diagrams) packages=(graphviz) ;;
  monitor) packages=(prometheus) ;;
  *) echo "unknown package set: $set_name (expected venv, build, bench, browser, node, compose, diagrams or monitor)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${packages[@]+"${packages[@]}"}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]}. This is not a Debian-like system; install their equivalents by hand." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo_cmd=(sudo -n)
else
  echo "Missing system packages: ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
