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

Two kept dumps (``--keep`` of bench_instructions or bench_http_instructions)
compared from the command line, per basket or request::

    python -m bench.callgrind BEFORE AFTER --per 300 --top 20
"""

from __future__ import annotations

import argparse
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


def summary(text: str) -> dict[str, int]:
    """A dump's ``summary:`` line by event ("Ir", "DLmr", ...); empty if it has none."""
    events = re.search(r"^events: (.+)$", text, re.MULTILINE)
    found = re.search(r"^summary: (.+)$", text, re.MULTILINE)
    if events is None or found is None:
        return {}
    counts = [int(count) for count in found.group(1).split()]
    return dict(zip(events.group(1).split(), counts, strict=True))


# What a cache simulation adds to a report: data reads and writes that miss the first
# level, and those that miss the last level too (each pair of events summed).
MISSES = {"L1 data misses": ("D1mr", "D1mw"), "last-level data misses": ("DLmr", "DLmw")}


def cache_options(last_level: int | None) -> list[str]:
    """callgrind's cache simulation: L1 as valgrind reads it off the host, the last
    level given in bytes (a core's own L2 is the honest model on a shared machine,
    where the host's L3 is other tenants' as much as ours)."""
    if last_level is None:
        return []
    return ["--cache-sim=yes", f"--LL={last_level},16,64"]


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


# The events a function's row shows: instructions, then (with the caches simulated)
# last-level misses of instruction fetches, data reads and data writes.
FUNCTION_EVENTS = ("Ir", "ILmr", "DLmr", "DLmw")


def difference_table(before: Path, after: Path, top: int, per: int) -> tuple[str, list[str]]:
    """The ``top`` functions whose own cost grows most from the dump ``before`` to
    ``after`` (by last-level data read misses when the caches were simulated, else by
    instructions), each count divided by ``per``: (the event sorted by, table lines)."""
    events, old = read_self_costs(before)
    _, new = read_self_costs(after)
    shown = [event for event in FUNCTION_EVENTS if event in events]
    by = "DLmr" if "DLmr" in events else "Ir"
    lines = ["| " + " | ".join(shown) + " | function |", "|" + "---:|" * len(shown) + "---|"]
    for function, grown in differences(old, new, events, shown, by, top):
        counts = " | ".join(f"{count / per:,.0f}" for count in grown)
        lines.append(f"| {counts} | `{function}` |")
    return by, lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The functions whose own cost grows most between two callgrind dumps")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--per", type=int, default=1,
                        help="divide every count by this (the baskets or requests counted)")
    args = parser.parse_args()
    by, lines = difference_table(args.before, args.after, args.top, args.per)
    print(f"after - before, each function's own cost, the {args.top} that grow most in {by}:")
    print("\n".join(lines))


__all__ = ["FUNCTION_EVENTS", "MISSES", "cache_options", "difference_table", "differences",
           "read_self_costs", "self_costs", "summary"]


if __name__ == "__main__":
    main()
