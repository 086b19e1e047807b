"""The root ``.env`` that `make run` writes, as the scripts around the services read it.

Each service reads its settings from the process environment first and ``.env`` second
(python-decouple, shop_common.conf). `make run`'s scripts hand the processes they start the same
order: ``.env``'s values with the exported variables over them, so that `DB_ENGINE=mysql make run`
means MySQL even when ``.env`` says sqlite (honcho's own ``.env`` loading did the opposite, so
`make run` turns it off). `make test` and `make bench` pass their own environment on and leave
``.env`` to the services: the test settings fill in throwaway secrets only where the environment
has none.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from decouple import RepositoryEnv


def dotenv_file(root: Path) -> Path:
    """``$DOTENV_DIR/.env`` when DOTENV_DIR is set (as for the services), else ``root/.env``."""
    return Path(os.environ.get("DOTENV_DIR") or root) / ".env"


def dotenv_values(root: Path) -> dict[str, str]:
    path = dotenv_file(root)
    # The parser the services use, so quotes and comments mean the same to both.
    return dict(RepositoryEnv(str(path)).data) if path.exists() else {}


def with_dotenv(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``.env``'s variables, overridden by ``environ`` (default: this process's environment)."""
    return {**dotenv_values(root), **(os.environ if environ is None else environ)}


def without_dotenv(folder: Path) -> Path:
    """``folder`` with an empty ``.env``: as ``DOTENV_DIR`` it ends python-decouple's search for a
    ``.env`` there, before any parent folder's (tests and generated documents read none)."""
    folder.mkdir(parents=True, exist_ok=True)
    dotenv = folder / ".env"
    if not dotenv.exists() or dotenv.stat().st_size:
        dotenv.write_text("")
    return folder
