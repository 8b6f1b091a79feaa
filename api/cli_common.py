"""What every ``remise`` command shares: exit codes, one-line failures, readers.

Exit codes: 0 done; 1 the rules have located errors; 2 the input could not be
used; 3 the rule store (or a device) refused.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import typer

import engine

from .jsontext import lone_surrogate

EXIT_RULE_ERRORS = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Say what went wrong in one sentence on stderr, and exit: never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def parse_instant(text: str, option: str | None = None) -> datetime:
    """An instant as the evaluation contract writes it (engine/instants.py), or a failure
    naming the option."""
    try:
        return engine.parse_instant(text)
    except ValueError as error:
        fail(f"{option}: {error}" if option else str(error))


def read_basket(basket: Path) -> dict[str, Any]:
    """A basket JSON object from a file (or stdin for ``-``), decimals kept exact."""
    try:
        text = sys.stdin.read() if str(basket) == "-" else basket.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read basket {basket}: {error.strerror}")
    except UnicodeDecodeError as error:
        fail(f"basket {basket}: not UTF-8 text (byte {error.start})")
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        fail(f"basket {basket}: not valid JSON at line {error.lineno}, column {error.colno}: "
             f"{error.msg}")
    if not isinstance(data, dict):
        fail(f"basket {basket}: expected a JSON object with channel, currency and lines")
    surrogate = lone_surrogate(text, data)
    if surrogate is not None:
        fail(f"basket {basket}: {surrogate[0]}: {surrogate[1]}")
    return data


__all__ = ["EXIT_BAD_INPUT", "EXIT_REFUSED", "EXIT_RULE_ERRORS", "fail", "parse_instant",
           "read_basket"]
