"""Imports between these modules run one way: a module imported at the top of another never
imports it back, not even inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("shop_common", ROOT / "common" / "shop_common")
ACCOUNTS = ("accounts", ROOT / "userService" / "accounts")

# (package, imported, importer): the importer may use the imported module, never the reverse.
ONE_WAY = [
    (SHARED, "request_id", "error_handlers"),
    (SHARED, "service_tokens", "server"),
    (SHARED, "server", "gunicorn_hooks"),
    (SHARED, "request_id", "edge"),
    (SHARED, "error_handlers", "edge"),
    (ACCOUNTS, "models", "services"),
    (ACCOUNTS, "models", "session_state"),
    (ACCOUNTS, "session_state", "services"),
]


def imports_of(package: tuple[str, Path], module: str) -> set[str]:
    """The modules of ``package`` that ``module`` imports, at its top or inside a function."""
    name, folder = package
    tree = ast.parse((folder / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == name:
                names |= {alias.name for alias in node.names}
            elif node.module.startswith(f"{name}."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith(f"{name}.")
            }
    return names


@pytest.mark.parametrize(
    ("package", "imported", "importer"),
    ONE_WAY,
    ids=[f"{package[0]}.{importer}->{imported}" for package, imported, importer in ONE_WAY],
)
def test_imports_run_one_way(package, imported, importer):
    assert imported in imports_of(package, importer)
    assert importer not in imports_of(package, imported)


def test_service_tokens_know_nothing_of_the_server_that_warms_them():
    assert not imports_of(SHARED, "service_tokens") & {"server", "gunicorn_hooks"}


def test_the_account_models_import_nothing_built_on_them():
    assert not imports_of(ACCOUNTS, "models") - {"models"}
