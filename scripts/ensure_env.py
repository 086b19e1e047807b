#!/usr/bin/env python
"""`make run`'s first step: writes .env from .env.example with fresh random secrets, and adds any
secret a newer version needs to an existing .env. Never changes a value that is already there."""

import re
import secrets
import sys
from pathlib import Path

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
GENERATED = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    *(service.client_secret_variable for service in SERVICES),
)


def fresh_secret() -> str:
    return secrets.token_urlsafe(48)


def ensure_env(root: Path) -> list[str]:
    """Creates or completes ``root/.env``; returns the names of the secrets it generated."""
    target = root / ".env"
    if target.exists():
        text = target.read_text()
        present = set(re.findall(r"^([A-Z][A-Z0-9_]*)=\S", text, re.MULTILINE))
        missing = [name for name in GENERATED if name not in present]
        if missing:
            lines = [f"{name}={fresh_secret()}" for name in missing]
            target.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")
        return missing
    lines, generated = [], []
    for line in (root / ".env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and name in GENERATED and not value:
            line = f"{name}={fresh_secret()}"
            generated.append(name)
        lines.append(line)
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    return generated


if __name__ == "__main__":
    written = ensure_env(ROOT)
    if written:
        sys.stdout.write(f".env: generated {', '.join(written)}\n")
