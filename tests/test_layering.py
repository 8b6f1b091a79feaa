"""Imports point only downwards: engine <- dsl <- rules <- api (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_loaded_by(package: str) -> set[str]:
    code = f"import sys, {package}; print('\\n'.join(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    return {name.split(".")[0] for name in output.split()}


@pytest.mark.parametrize(("package", "forbidden"), [
    ("engine", {"lark", "dsl", "rules", "api", "fastapi", "sqlalchemy", "redis", "typer",
                "orjson"}),
    ("dsl", {"rules", "api", "fastapi", "sqlalchemy", "redis", "typer"}),
    ("rules", {"api", "fastapi", "starlette", "uvicorn", "typer", "lark_cython"}),
])
def test_a_layer_never_imports_the_layers_above(package: str, forbidden: set[str]) -> None:
    assert modules_loaded_by(package) & forbidden == set()


def test_public_names_are_exported() -> None:
    import dsl
    import engine
    import rules

    for package in (dsl, engine, rules):
        assert all(hasattr(package, name) for name in package.__all__)
