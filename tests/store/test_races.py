"""Concurrent publishers: the database decides, nobody overwrites anybody, no gaps."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from rules import Conflict, InvalidRequest, RuleStore
from rules.models import RuleSetRow

from .scenario import BOOTS_10, BOOTS_20, SOCKS_3_FOR_2, sources


@contextmanager
def _rival_publishes_as_we_lock(store: RuleStore,
                                rival: Callable[[], object] | None = None) -> Iterator[None]:
    """Force the tightest race: this publish has compiled and is about to lock its rule
    set and read the latest version when another publisher (its own thread and
    connection) commits the next number (by default a publish of socks). (Any later,
    and on PostgreSQL the rival would wait for our lock, which is the point of it.)"""
    state = {"fired": False}
    main = threading.get_ident()
    rival = rival or (lambda: store.publish("fr", sources(SOCKS_3_FOR_2), message="rival",
                                            author="bob"))

    def before_select(orm_execute_state: Any) -> None:
        locks = (orm_execute_state.is_select and RuleSetRow in {
            d.get("entity") for d in orm_execute_state.statement.column_descriptions})
        if locks and not state["fired"] and threading.get_ident() == main:
            state["fired"] = True
            thread = threading.Thread(target=rival)
            thread.start()
            thread.join()

    event.listen(Session, "do_orm_execute", before_select)
    try:
        yield
    finally:
        event.remove(Session, "do_orm_execute", before_select)
    assert state["fired"]


def test_losing_the_race_on_a_stated_parent_is_a_conflict(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    with _rival_publishes_as_we_lock(store), pytest.raises(Conflict) as refused:
        store.publish("fr", sources(BOOTS_20), message="mine", author="ana", parent=1)

    assert (refused.value.parent, refused.value.head) == (1, 2)
    assert [(v.number, v.author) for v in store.versions("fr")] == [(1, "ana"), (2, "bob")]


def test_losing_the_race_without_a_parent_retries_on_top(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    with _rival_publishes_as_we_lock(store):
        mine = store.publish("fr", sources(BOOTS_20), message="mine", author="ana")

    assert (mine.number, mine.parent) == (3, 2)
    assert [v.author for v in store.versions("fr")] == ["ana", "bob", "ana"]


def test_two_rollbacks_to_one_version_racing_make_one_version(store: RuleStore) -> None:
    # Given version 2 live, and two marketers rolling back to version 1 at once
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")

    def rival() -> None:
        store.rollback("fr", 1, message="bob's", author="bob")

    # When bob's rollback commits as ana's is about to append
    with _rival_publishes_as_we_lock(store, rival), \
            pytest.raises(InvalidRequest, match="version 1 of 'fr' is already live, as "
                                                "version 3"):
        store.rollback("fr", 1, message="ana's", author="ana")

    # Then ana's is refused: it would have written version 4, changing nothing
    assert [(v.number, v.author) for v in store.versions("fr")] == [
        (1, "ana"), (2, "ana"), (3, "bob")]


def test_two_publishes_on_the_same_parent_at_once_exactly_one_wins(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    start = threading.Barrier(2)

    def attempt(author: str) -> str:
        start.wait()
        try:
            store.publish("fr", sources(BOOTS_20), message=author, author=author, parent=1)
        except Conflict:
            return "conflict"
        return "won"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(attempt, ["ana", "bob"]))

    assert sorted(outcomes) == ["conflict", "won"]
    assert [v.number for v in store.versions("fr")] == [1, 2]


def test_twenty_concurrent_publishes_leave_a_gap_free_chain(store: RuleStore) -> None:
    start = threading.Barrier(20)

    def publish(n: int) -> int:
        start.wait()
        return store.publish("fr", sources(BOOTS_10 if n % 2 else BOOTS_20),
                             message=f"publish {n}", author=f"marketer-{n}").number

    with ThreadPoolExecutor(20) as pool:
        numbers = list(pool.map(publish, range(20)))

    chain = store.versions("fr")
    assert sorted(numbers) == list(range(1, 21))
    assert [(v.number, v.parent) for v in chain] == [(1, None)] + [
        (n, n - 1) for n in range(2, 21)]
    assert sorted(v.message for v in chain) == sorted(f"publish {n}" for n in range(20))
    # every version was live for some time: no two went live at the same instant
    assert all(a.live_from < b.live_from for a, b in itertools.pairwise(chain))
