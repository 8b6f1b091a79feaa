"""While the database does not answer, a till's baskets do not wait on it: a hung
database costs its connect timeout (10 s) per attempt, and every basket whose key's
verdict was older than 5 s made one, then was priced on the remembered verdict anyway.

The outage is real: the key store's database is swapped for one that cannot be opened,
and each attempt to connect to it is counted."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

import rules
from api.auth import KeyStore, Principal
from tests.store.processes import wait_until

UNREACHABLE = "sqlite:////nonexistent/folder/remise.db"


@pytest.fixture
def attempts() -> list[object]:
    return []


@pytest.fixture
def unreachable(attempts: list[object]) -> Iterator[Engine]:
    engine = create_engine(UNREACHABLE)
    event.listen(engine, "do_connect", lambda *args: attempts.append(args))
    yield engine
    engine.dispose()


@pytest.fixture
def keys(store: rules.RuleStore, monkeypatch: pytest.MonkeyPatch) -> KeyStore:
    """A process whose verdicts expire at once, so every basket asks the database."""
    monkeypatch.setattr("api.auth.CACHE_SECONDS", 0.0)
    return KeyStore(store)


def test_a_known_till_s_baskets_do_not_each_wait_on_a_database_that_does_not_answer(
        keys: KeyStore, unreachable: Engine, attempts: list[object]) -> None:
    # given a till this process knows, and then a database that does not answer
    till = keys.create("till-paris", "channel", created_by="root")
    assert keys.lookup(till) == Principal("till-paris", "channel")
    keys.store.db = unreachable

    # when the till prices 20 baskets
    verdicts = [keys.lookup(till) for _ in range(20)]

    # then each is priced on the remembered verdict, and the database was asked once
    assert verdicts == [Principal("till-paris", "channel")] * 20
    assert len(attempts) == 1


def test_an_unknown_key_is_refused_without_waiting_on_the_database(
        keys: KeyStore, unreachable: Engine, attempts: list[object]) -> None:
    # given a database that did not answer a till's lookup
    till = keys.create("till-paris", "channel", created_by="root")
    keys.lookup(till)
    keys.store.db = unreachable
    keys.lookup(till)

    # when a key this process never saw comes
    with pytest.raises(OperationalError):
        keys.lookup("rk_never_seen")

    # then it cannot be checked (the caller answers 503), and the database was not asked
    assert len(attempts) == 1


def test_once_the_database_answers_again_a_revocation_made_meanwhile_counts(
        keys: KeyStore, store: rules.RuleStore, unreachable: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a till's key, remembered through an outage of this process's database
    monkeypatch.setattr("api.auth.RETRY_SECONDS", 0.0)
    till = keys.create("till-paris", "channel", created_by="root")
    keys.lookup(till)
    database, keys.store.db = keys.store.db, unreachable
    assert keys.lookup(till) == Principal("till-paris", "channel")

    # when the database answers again, and another process has revoked the key
    keys.store.db = database
    KeyStore(store).revoke("till-paris", revoked_by="root")

    # then this process reads the database again and refuses the key
    wait_until(lambda: keys.lookup(till) is None, failing="the revoked key still works")


@pytest.fixture
def silent_database() -> Iterator[Engine]:
    """A PostgreSQL address that takes connections and never answers (a hung server, a
    pooler in front of a dead one), with a connect timeout of a minute."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://remise@127.0.0.1:{port}/remise"
                           "?connect_timeout=60")
    yield engine
    listener.close()


def test_a_basket_waits_on_a_database_that_never_answers_only_briefly(
        keys: KeyStore, silent_database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a till this process knows, and a database that takes connections and never
    # answers, which this process waits a minute for
    monkeypatch.setattr("api.auth.ANSWER_SECONDS", 0.5)
    till = keys.create("till-paris", "channel", created_by="root")
    keys.lookup(till)
    keys.store.db = silent_database

    # when the till prices two baskets
    started = time.monotonic()
    verdicts = [keys.lookup(till), keys.lookup(till)]

    # then both are priced on the remembered verdict, the first after half a second's wait
    # for the database, the second at once: not a minute each
    assert verdicts == [Principal("till-paris", "channel")] * 2
    assert time.monotonic() - started < 30
