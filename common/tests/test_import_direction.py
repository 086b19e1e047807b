"""Imports between these shared modules run one way (issue 24): a module imported at the top of
another never imports it back, not even inside a function."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "shop_common"

# (imported, importer): the importer may use the imported module, never the reverse.
ONE_WAY = [
    ("request_id", "error_handlers"),
    ("service_tokens", "server"),
    ("server", "gunicorn_hooks"),
    ("request_id", "edge"),
    ("error_handlers", "edge"),
]


def imports_of(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "shop_common":
                names |= {alias.name for alias in node.names}
            elif node.module.startswith("shop_common."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("shop_common.")
            }
    return names


@pytest.mark.parametrize(("imported", "importer"), ONE_WAY)
def test_imports_run_one_way(imported, importer):
    assert imported in imports_of(importer)
    assert importer not in imports_of(imported)


def test_service_tokens_know_nothing_of_the_server_that_warms_them():
    assert not imports_of("service_tokens") & {"server", "gunicorn_hooks"}
