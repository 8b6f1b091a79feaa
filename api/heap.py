"""Keeping the cyclic garbage collector off the live rule sets (servers only).

A live rule set is a large, long-lived object graph: compiled rules, their
predicates, the index (about 350,000 objects that the collector tracks at
10,000 rules). Every full collection walked all of it, a pause of tens of
milliseconds that stalls every request in flight: over HTTP with 8
connections the evaluate p99 was 142 ms with these pauses and 10 ms without
(bench/RESULTS.md, HTTP).

So after each version goes live, the server moves every object alive at that
moment into the interpreter's permanent generation (``gc.freeze``), which
collections skip. The same goes for each index slice built after that (the
rules of one channel for one hour: built by the first basket of the hour, ahead
of it, or when a new version is warmed): ~6,300 tracked objects at 10,000
rules (more at 100,000: not counted) that every full collection would walk again
for the rest of the hour.

Freezing changes nothing for reference counting: when a newer version
replaces it, the old one is freed as usual (tests/api/test_heap.py checks that
reloads do not pile versions up). Only garbage cycles still pending at the
freeze would stay; the young generations are collected first so that there
are next to none.
"""

from __future__ import annotations

import gc

import rules


def freeze_after_reload(entry: rules.LiveRuleSet) -> None:
    """An ``on_reload`` callback of the live cache: collect the young, freeze the rest."""
    del entry  # whatever went live, the whole heap is frozen
    _freeze()


def freeze_after_slice_built(ruleset: str, ahead: bool) -> None:
    """An ``on_slice_built`` callback of the live cache: the same, once per channel and
    hour (it runs in the thread that built the slice: a basket's, or the preparer's)."""
    del ruleset, ahead
    _freeze()


def _freeze() -> None:
    gc.collect(1)
    gc.freeze()


__all__ = ["freeze_after_reload", "freeze_after_slice_built"]
