"""bench/callgrind.py: a callgrind dump read as each function's own cost.

The dumps here are written by hand in callgrind's format, with the features the
server's dumps use: compressed names, relative positions, a call's inclusive
cost after ``calls=``, trailing zero costs left out.
"""

from __future__ import annotations

from pathlib import Path

from bench.callgrind import difference_table, differences, self_costs, summary

DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
part: 2

desc: Trigger: dump /v1/evaluate 1

positions: line
events: Ir DLmr

summary: 1111 21

ob=(1) /usr/lib/libpython3.11.so
fl=(1) Objects/dictobject.c
fn=(1) lookup
10 100 5
+2 50

ob=(2) /work/build/engine.so
fl=(2) engine/evaluator.c
fn=(2) walk
3 400 10
cfi=(1)
cfn=(1)
calls=4 10
5 900 7
+1 60 2
fi=(1)
-4 1

ob=(1)
fn=(1)
12 500 4
"""


def test_each_function_keeps_its_own_cost_and_not_its_callees() -> None:
    # Given a dump where `walk` calls `lookup` (900 instructions inclusive)
    lines = DUMP.splitlines(keepends=True)

    # When it is read
    events, costs = self_costs(lines)

    # Then each function holds only its own lines: lookup 100 + 50 + 500,
    # walk 400 + 60 + 1 (the call's 900 is lookup's, already counted), with a
    # left-out trailing zero read as zero; the rows add up to the real total
    assert events == ["Ir", "DLmr"]
    assert costs == {
        "lookup [libpython3.11.so]": [650, 9],
        "walk [engine.so]": [461, 12],
    }
    assert sum(cost[0] for cost in costs.values()) == 1111


def test_a_compressed_name_used_again_names_the_same_function() -> None:
    # Given a dump that names `lookup` in full once, then by its number only
    _, costs = self_costs(DUMP.splitlines(keepends=True))

    # Then its later lines are added to it, not to a function called "(1)"
    assert not any(name.startswith("(1)") for name in costs)


def test_differences_list_what_grew_most_first() -> None:
    # Given the costs of two dumps
    events = ["Ir", "DLmr"]
    before = {"a [x]": [100, 1], "b [x]": [100, 50], "gone [x]": [30, 3]}
    after = {"a [x]": [400, 30], "b [x]": [90, 60], "new [y]": [5, 20]}

    # When they are compared by DLmr
    rows = differences(before, after, events, ["Ir", "DLmr"], "DLmr", top=3)

    # Then the functions come by growth in DLmr, each with its growth in every event
    assert rows == [("a [x]", [300, 29]), ("new [y]", [5, 20]), ("b [x]", [-10, 10])]


def test_the_summary_line_is_read_by_event() -> None:
    # Given a dump whose summary line counts 1111 instructions and 21 misses
    # When it is read
    counted = summary(DUMP)

    # Then each count is under its event's name
    assert counted == {"Ir": 1111, "DLmr": 21}


def test_a_dump_without_a_summary_reads_as_nothing_counted() -> None:
    assert summary("events: Ir\n") == {}


def test_two_dumps_compare_per_basket_by_last_level_misses(tmp_path: Path) -> None:
    # Given the dump above, and a later one where `walk` misses 30 more times on its
    # own and `lookup` runs 100 instructions fewer
    before, after = tmp_path / "before", tmp_path / "after"
    before.write_text(DUMP)
    after.write_text(DUMP.replace("3 400 10", "3 400 40").replace("12 500 4", "12 400 4"))

    # When they are compared per basket, over 10 baskets
    by, lines = difference_table(before, after, top=2, per=10)

    # Then the table lists `walk` first (3 more misses per basket), then `lookup`
    # (10 fewer instructions per basket), in the events the dumps hold
    assert by == "DLmr"
    assert lines == ["| Ir | DLmr | function |", "|---:|---:|---|",
                     "| 0 | 3 | `walk [engine.so]` |", "| -10 | 0 | `lookup [libpython3.11.so]` |"]
