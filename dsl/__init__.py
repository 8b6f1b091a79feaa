"""remise dsl: the rule language (grammar, parser, checks, compiler to IR, formatter)."""

from __future__ import annotations

from . import ast
from .compiler import (
    check_paths,
    compile_paths,
    compile_source,
    compile_sources,
    read_source,
    rule_files,
    rule_sources,
)
from .errors import Diagnostic, DslError
from .formatter import format_source
from .parser import parse

__all__ = [
    "Diagnostic",
    "DslError",
    "ast",
    "check_paths",
    "compile_paths",
    "compile_source",
    "compile_sources",
    "format_source",
    "parse",
    "read_source",
    "rule_files",
    "rule_sources",
]
