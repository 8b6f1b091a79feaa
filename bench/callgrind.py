"""A callgrind dump read as each function's own (exclusive) cost.

`callgrind_annotate` reads the server's dumps (`bench_http_instructions --keep`)
wrongly in its exclusive view: on 2026-11-29 it put a whole request's cost under
one CPython function, while its inclusive view added up. This reads the format
itself (valgrind's "Callgrind Format Specification"): a cost line belongs to the
function named by the last ``fn=``, except the line right after ``calls=``,
which is the inclusive cost of that call and is skipped. Names may be
compressed (``fn=(12) name`` once, ``fn=(12)`` after); trailing zero costs may
be left out of a line.

The rows add up to the dump's ``totals:`` line, which callgrind does not always
make equal to its ``summary:`` (what bench_http_instructions' totals read): the
echo dumps of 2026-11-29 held 13% more in ``totals:``, the evaluate ones 0.6%.
Compare functions between dumps; take the request totals from the summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_COMPRESSED = re.compile(r"\((\d+)\)(?:\s+(.*))?$")
# The lines that name something, and the table their compressed names share. ``fn``
# is the function a cost line belongs to, ``ob`` the object file it is in; the others
# only need their compressed names learnt.
_TABLE = {"fn": "fn", "cfn": "fn", "ob": "ob", "cob": "ob",
          "fl": "file", "fi": "file", "fe": "file", "cfi": "file", "cfl": "file"}


class _Names:
    """callgrind's name compression: one table per kind (functions, objects, files)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, str]] = {"fn": {}, "ob": {}, "file": {}}

    def read(self, kind: str, spec: str) -> str:
        found = _COMPRESSED.match(spec.strip())
        if found is None:
            return spec.strip()
        table = self.tables[_TABLE[kind]]
        number, name = found.groups()
        if name:
            table[number] = name
        return table.get(number, f"({number})")


def self_costs(lines: Iterable[str]) -> tuple[list[str], dict[str, list[int]]]:
    """The dump's event names, and each function's own cost ("name [object]": counts)."""
    names = _Names()
    events: list[str] = []
    position_columns = 1
    costs: dict[str, list[int]] = {}
    function, obj = "", ""
    after_call = False
    for line in lines:
        line = line.rstrip("\n")
        key, _, value = line.partition("=")
        if key in _TABLE:
            name = names.read(key, value)
            if key == "ob":
                obj = name.rsplit("/", 1)[-1]
            elif key == "fn":
                function = f"{name} [{obj}]"
        elif line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("positions:"):
            position_columns = len(line.split()) - 1
        elif key == "calls":
            after_call = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if after_call:  # the call's inclusive cost: the callee counts it as its own
                after_call = False
                continue
            counts = [int(count) for count in line.split()[position_columns:]]
            total = costs.setdefault(function, [0] * len(events))
            for index, count in enumerate(counts):
                total[index] += count
    return events, costs


def read_self_costs(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    with path.open(errors="replace") as dump:
        return self_costs(dump)


def differences(before: dict[str, list[int]], after: dict[str, list[int]], events: list[str],
                shown: list[str], by: str, top: int) -> list[tuple[str, list[int]]]:
    """The ``top`` functions whose own ``by`` count grew most from ``before`` to
    ``after``, with their differences in each ``shown`` event."""
    columns = [events.index(event) for event in shown]
    zero = [0] * len(events)
    rows = []
    for function in before.keys() | after.keys():
        old, new = before.get(function, zero), after.get(function, zero)
        rows.append((function, [new[column] - old[column] for column in columns]))
    rows.sort(key=lambda row: (-row[1][shown.index(by)], row[0]))
    return rows[:top]


__all__ = ["differences", "read_self_costs", "self_costs"]
