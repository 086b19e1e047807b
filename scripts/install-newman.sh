#!/usr/bin/env bash
# Installs newman, Postman's command-line runner, from the npm registry into .venv/node (so that
# `make clean` removes it with the rest), for `make test` and `make newman`. Node.js and npm come
# from Debian (scripts/install-system-deps.sh node). Exits non-zero, saying why, when either cannot
# be had (no npm, registry unreachable); `make test` then skips the collection's test.
set -euo pipefail
cd "$(dirname "$0")/.."

version=6.2.2
prefix=.venv/node
newman="$prefix/node_modules/.bin/newman"

if [ -x "$newman" ] && [ "$("$newman" --version 2>/dev/null)" = "$version" ]; then
  exit 0
fi
scripts/install-system-deps.sh node
mkdir -p "$prefix"
# A dead registry would otherwise keep npm retrying for minutes.
timeout 300 npm install --prefix "$prefix" --no-audit --no-fund --silent \
  --fetch-retries=1 --fetch-timeout=30000 "newman@$version"
"$newman" --version >/dev/null
