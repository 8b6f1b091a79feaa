"""Paging the audit log with ``after=<id>`` while others write: no entry is ever skipped.

On PostgreSQL an entry's id is taken from a sequence when it is inserted but seen
when its transaction commits, so ids could become visible out of order; the store
makes them commit in order. Real PostgreSQL, two real writers on their own
connections: the first is held between writing its entry and committing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from rules import AuditQuery, RuleStore, audit_entries
from rules.models import AuditRow

from .scenario import BOOTS_10, BOOTS_20, sources

SECONDS = 10  # far beyond what any step takes; only a failure waits this long


class _Writer(threading.Thread):
    """A publish or an audit record in its own thread, hence its own connection."""

    def __init__(self, write: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.write, self.backend_pid = write, 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.write()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


@contextmanager
def _held_after_writing_its_entry(writer: _Writer) -> Iterator[threading.Event]:
    """Hold ``writer`` once its audit entry is inserted, before its commit, until the
    event yielded is set; the ``with`` ends once it has its entry's id."""
    inserted, release = threading.Event(), threading.Event()

    def hold(session: Session, _context: Any) -> None:
        if threading.current_thread() is writer and any(
                isinstance(o, AuditRow) for o in session.new):
            inserted.set()
            release.wait(SECONDS)

    event.listen(Session, "after_flush", hold)
    try:
        writer.start()
        assert inserted.wait(SECONDS), "the held writer never wrote its entry"
        yield release
    finally:
        release.set()
        event.remove(Session, "after_flush", hold)


def _remember_backend(writer: _Writer) -> Callable[..., None]:
    def remember(session: Session, _transaction: Any, connection: Any) -> None:
        if threading.current_thread() is writer:
            writer.backend_pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    return remember


def _committed_or_waiting(store: RuleStore, writer: _Writer) -> None:
    """Until ``writer`` has committed or waits for a lock in PostgreSQL."""
    deadline = time.monotonic() + SECONDS
    while writer.is_alive() and time.monotonic() < deadline:
        with store.db.connect() as connection:
            if connection.execute(text("SELECT count(*) FROM pg_locks WHERE pid = :pid "
                                       "AND NOT granted"), {"pid": writer.backend_pid}).scalar():
                return
        time.sleep(0.01)
    assert not writer.is_alive(), "the second writer neither committed nor waited"


def _read(store: RuleStore, after: int) -> list[int]:
    return [entry.id for entry in audit_entries(store.db, AuditQuery(after_id=after))]


def _first_writer(store: RuleStore, kind: str) -> _Writer:
    if kind == "publish":
        return _Writer(lambda: store.publish("fr", sources(BOOTS_10), message="fr",
                                             author="ana"))
    return _Writer(lambda: store.record(actor="admin", action="key_create",
                                        message="created admin key 'ops'"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("held", ["publish", "record"])
def test_a_reader_paging_after_the_last_id_it_saw_never_skips_an_entry(
        store: RuleStore, held: str) -> None:
    # given a first writer holding its audit entry uncommitted (a slow commit)
    first = _first_writer(store, held)
    second = _Writer(lambda: store.publish("be", sources(BOOTS_20), message="be",
                                           author="bob"))
    remember = _remember_backend(second)
    event.listen(Session, "after_begin", remember)
    try:
        with _held_after_writing_its_entry(first) as release:
            # when a second writer writes its own entry, and a reader pages meanwhile
            second.start()
            _committed_or_waiting(store, second)
            seen = _read(store, 0)
            release.set()
            first.join(SECONDS)
            second.join(SECONDS)
    finally:
        event.remove(Session, "after_begin", remember)

    # then following the last id it saw, the reader gets every entry
    assert (first.error, second.error) == (None, None)
    seen += _read(store, seen[-1] if seen else 0)
    assert seen == _read(store, 0)
    assert len(seen) == 2
