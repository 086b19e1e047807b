"""What a test run takes from the machine: the process basics and the database to use, nothing more.

A developer's `.env` (`make run` writes one at the repository root) and the shop variables exported
in their shell would otherwise reach the settings the suites load and the services the tests start,
and change what the tests see (a ``METRICS_TOKEN`` turns a 403 into a 401). So:

- every pytest run in this tree loads this module as a plugin (``-p`` in pyproject.toml's addopts):
  before any settings are read it removes the shop's variables (those ``.env.example`` lists) from
  the environment, except :data:`TEST_INPUTS`, and points ``DOTENV_DIR`` at a folder whose ``.env``
  is empty;
- a stack of services a test starts gets :func:`stack_environment`: the same basics, plus exactly
  the settings the test names (shop_common.testing.stack.Stack adds its ports, secrets and
  ``DOTENV_DIR``).
"""

import os
import re
from pathlib import Path

import pytest

from shop_common.dotenv import without_dotenv

# What a process needs to run at all (and the interpreter's own search path when one is set).
PROCESS_BASICS = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)
# The one choice a test run takes from its caller: which database server (README, "Tests").
TEST_INPUTS = ("DB_ENGINE", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_SCHEMA_PREFIX")


def stack_environment(**settings: str) -> dict[str, str]:
    """The environment of services a test starts: the process basics and :data:`TEST_INPUTS` of
    this process, and ``settings``."""
    kept = {
        name: os.environ[name] for name in (*PROCESS_BASICS, *TEST_INPUTS) if name in os.environ
    }
    return {**kept, **settings}


def shop_variables(env_example: Path) -> set[str]:
    """Every variable ``.env.example`` names, commented out or not."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", env_example.read_text(), re.MULTILINE))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # tryfirst: pytest-django reads the settings in this same hook.
    root = early_config.rootpath
    example = root / ".env.example"
    if example.exists():
        for name in shop_variables(example) - set(TEST_INPUTS):
            os.environ.pop(name, None)
    os.environ["DOTENV_DIR"] = str(without_dotenv(root / "var" / "test-env"))
