#!/usr/bin/env python
"""Writes .env from .env.example on the first `make run`, with fresh random secrets; never overwrites."""

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = {"SECRET_KEY"}


def ensure_env(root: Path) -> bool:
    """Creates ``root/.env`` if it is missing; True when it wrote one."""
    target = root / ".env"
    if target.exists():
        return False
    lines = []
    for line in (root / ".env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and name in GENERATED and not value:
            line = f"{name}={secrets.token_urlsafe(48)}"
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    return True


if __name__ == "__main__":
    if ensure_env(ROOT):
        sys.stdout.write("Wrote .env with fresh secrets (from .env.example).\n")
