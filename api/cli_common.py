"""What every ``remise`` command shares: exit codes, one-line failures, readers.

Exit codes: 0 done; 1 the rules have located errors; 2 the input could not be
used; 3 the rule store (or a device) refused.
"""

from __future__ import annotations

import getpass
import io
import socket
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

import engine
import rules

from .jsontext import JsonRefused, read_object

EXIT_RULE_ERRORS = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Say what went wrong in one sentence on stderr, and exit: never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def announcing(settings: rules.Settings, store: rules.RuleStore) -> rules.RedisFanout | None:
    """With Redis configured, announce every publish and rollback ``store`` makes to the
    running servers at once (they would otherwise find it at their next poll); the
    caller closes what is returned."""
    if not settings.redis_url:
        return None
    fanout = rules.RedisFanout(settings.redis_url, prefix=settings.redis_prefix)
    store.listeners.append(fanout.announce)
    return fanout


def cli_actor(given: str | None = None) -> str:
    """Who a command acts as in the audit log: the name given, else the system user.
    A name given blank is refused: taking the login instead would record someone the
    operator did not name."""
    if given is None:
        return getpass.getuser()
    if not given.strip():
        fail("--author is empty: give a name, or leave the option out to record your login")
    return given


def cli_address() -> str:
    """Where a command acts from in the audit log (an HTTP request records its client)."""
    return f"cli@{socket.gethostname()}"


def parse_instant(text: str, option: str | None = None) -> datetime:
    """An instant as the evaluation contract writes it (engine/instants.py), or a failure
    naming the option."""
    try:
        return engine.parse_instant(text)
    except ValueError as error:
        fail(f"{option}: {error}" if option else str(error))


def print_whatever_the_locale() -> None:
    """Let what is printed for a person (a version's message, a rule's title) pass through
    a terminal whose encoding lacks one of its characters as an escape (``\\u2192``): a
    Latin-1 or Windows code page locale stopped the listing there, exit 2. What is data
    (a CSV, JSON, a version's source) is written as UTF-8 instead (``write_utf8``)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def write_utf8(chunks: Iterable[str]) -> None:
    """Write data (a CSV, a response's JSON) to stdout as UTF-8 bytes, whatever the locale.

    Through the text layer, a Latin-1 locale, or Windows writing to a file
    (`remise audit export > audit.csv`), wrote the locale's encoding, not the UTF-8
    the HTTP API serves, and stopped half way, exit 2, at the first character it
    lacks (an arrow, an emoji): a truncated export that looked like the log.
    """
    sys.stdout.flush()  # what was written as text goes first
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stream an embedding program put there encodes itself
        sys.stdout.writelines(chunks)
        return
    for chunk in chunks:
        binary.write(chunk.encode("utf-8"))
    binary.flush()


def read_basket(basket: Path) -> dict[str, Any]:
    """A basket JSON object from a file (or stdin for ``-``), read as the API reads a body
    (``read_object``: strict UTF-8, each name once, decimals kept exact)."""
    try:
        raw = sys.stdin.buffer.read() if str(basket) == "-" else basket.read_bytes()
    except OSError as error:
        fail(f"cannot read basket {basket}: {error.strerror}")
    try:
        return read_object(raw)
    except JsonRefused as refused:
        fail(f"basket {basket}: {refused}")


__all__ = ["EXIT_BAD_INPUT", "EXIT_REFUSED", "EXIT_RULE_ERRORS", "fail", "parse_instant",
           "read_basket", "write_utf8"]
