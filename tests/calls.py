"""Work counted, not timed: how many Python functions a piece of code runs is the same
on every machine, so a test can say that work does not grow with its input."""

from __future__ import annotations

import sys
from collections.abc import Callable


def python_calls(work: Callable[[], object]) -> int:
    """How many Python functions ``work`` runs (generator resumptions included). The
    compiled build runs native code this does not see."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls
