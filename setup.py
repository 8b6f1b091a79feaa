"""Optional compiled build of the evaluator's hot path (mypyc).

    REMISE_COMPILE=1 pip install .          # a server: the engine compiled to C
    pip install .                           # anywhere: pure Python, same answers

The compiled modules are the same source files, compiled; their answers are
held to the pure-Python ones byte for byte by the conformance, example and
semantics tests, which CI runs against both builds. Editable installs stay
pure Python: a compiled module next to its source would hide later edits.
Everything else about the distribution is in pyproject.toml.
"""

from __future__ import annotations

import os

from setuptools import setup

# What one basket runs through; the rest of engine/ (IR schema, loading,
# bundles, device folder) is not on the per-basket path and stays Python.
COMPILED_MODULES = [
    "engine/basket.py",
    "engine/compiled.py",
    "engine/evaluator.py",
    "engine/money.py",
    "engine/predicates.py",
    "engine/response.py",
    "engine/windows.py",
]


def compiled_extensions() -> list[object]:
    if os.environ.get("REMISE_COMPILE") != "1":
        return []
    from mypyc.build import mypycify  # a build requirement (pyproject.toml)

    return list(mypycify(COMPILED_MODULES, opt_level="3"))


setup(ext_modules=compiled_extensions())
