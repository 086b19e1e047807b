#!/usr/bin/env python
"""`make run`'s first step: writes .env from .env.example with fresh random secrets. On an existing
.env it adds what a newer .env.example has and .env lacks (new secrets generated, other variables
with their example values). It never changes a value that is already there. The file is the root
one, or the one in DOTENV_DIR when that is set (where the services then look for it)."""

import re
import secrets
import sys
from pathlib import Path

from shop_common.dotenv import dotenv_file
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
GENERATED = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "SERVICE_TOKEN_SIGNING_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "METRICS_TOKEN",
    *(service.client_secret_variable for service in SERVICES),
)


def fresh_secret() -> str:
    return secrets.token_urlsafe(48)


def _example_lines(root: Path) -> list[tuple[str, str]]:
    """(name, value) of every variable .env.example sets, secrets generated where marked."""
    pairs = []
    for line in (root / ".env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            pairs.append((name, fresh_secret() if name in GENERATED and not value else value))
    return pairs


def ensure_env(root: Path, target: Path | None = None) -> list[str]:
    """Creates or completes ``target`` (default ``root/.env``) from ``root/.env.example``; returns
    the names of the variables it wrote."""
    target = target or root / ".env"
    if target.exists():
        text = target.read_text()
        present = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
        secrets_set = set(re.findall(r"^([A-Z][A-Z0-9_]*)=\S", text, re.MULTILINE))
        missing = [
            (name, value)
            for name, value in _example_lines(root)
            if name not in present or (name in GENERATED and name not in secrets_set)
        ]
        if missing:
            kept = [
                line
                for line in text.splitlines()
                if line.partition("=")[0] not in {n for n, _ in missing}
            ]
            target.write_text(
                "\n".join([*kept, *(f"{name}={value}" for name, value in missing)]) + "\n"
            )
        return [name for name, _ in missing]
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
    written = ensure_env(ROOT, dotenv_file(ROOT))
    if written:
        sys.stdout.write(f".env: wrote {', '.join(written)}\n")
