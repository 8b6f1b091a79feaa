"""The suite tests the code of the checkout it sits in.

tests/api is a package; while tests/ was not one, pytest put tests/ first on sys.path and
`import api` found tests/api. `api.app` and every other module of the API were then found
by the editable install's finder, in whatever checkout `pip install -e` was run from: in a
git worktree, the API under test was another checkout's, and a change to api/ was never
run by the tests said to cover it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["api", "api.app", "api.cli", "engine", "dsl", "rules"])
def test_each_package_is_imported_from_this_checkout(module: str) -> None:
    # Given the suite running in this checkout; when a package of the project is imported
    imported = importlib.import_module(module)

    # Then it is this checkout's own file, not tests/api nor another checkout's
    top = module.split(".")[0]
    assert imported.__file__ is not None
    assert Path(imported.__file__).resolve().is_relative_to(ROOT / top), imported.__file__
