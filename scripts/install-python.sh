#!/usr/bin/env bash
# Installs Python packages into .venv: `scripts/install-python.sh -r requirements/run.txt -e common`.
# With uv (requirements/installer.txt, itself installed by pip once) when it can, pip otherwise:
# uv resolves from PyPI and ignores pip's configuration (pip.conf's index, find-links and
# constraints), so INSTALLER=pip keeps pip for a machine that reaches packages only through those,
# and an install uv cannot finish is done again by pip.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)

if [ "${INSTALLER:-uv}" != pip ]; then
  [ -x "$venv/bin/uv" ] || "${pip[@]}" -r requirements/installer.txt || true
  if [ -x "$venv/bin/uv" ]; then
    # Compiled here, in parallel, rather than by six services importing the same files at once.
    if "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --compile-bytecode "$@"; then
      exit 0
    fi
    echo "uv could not install $*; pip installs it instead (INSTALLER=pip skips uv)." >&2
  fi
fi
exec "${pip[@]}" "$@"
