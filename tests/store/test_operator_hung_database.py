"""A PostgreSQL that accepts connections and never answers (hung, or a pooler in front of
a dead one): every command and a server's checks give up after a while, not never."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import rules.db
from rules import SchemaNotReady, create_db_engine, current_revision

GIVE_UP_AFTER = 2  # psycopg's shortest connect_timeout
WAIT_AT_MOST = 60  # the test's own guard: without a timeout the attempt never ends


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A real TCP port whose connections the kernel accepts and nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def _attempt(url: str) -> list[BaseException]:
    """What reading the schema revision raised, if it ended within WAIT_AT_MOST."""
    raised: list[BaseException] = []

    def read() -> None:
        try:
            current_revision(create_db_engine(url))
        except BaseException as error:  # the outcome under test, asserted by the caller
            raised.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(WAIT_AT_MOST)
    assert not reader.is_alive(), f"still waiting for the database after {WAIT_AT_MOST} s"
    return raised


def test_a_database_that_never_answers_is_given_up_on(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a PostgreSQL URL whose server accepts and never answers, and no timeout in it
    monkeypatch.setattr(rules.db, "CONNECT_TIMEOUT_SECONDS", GIVE_UP_AFTER)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/remise"

    # when a command reads its schema revision
    raised = _attempt(url)

    # then it gives up, saying so, instead of waiting for ever
    assert len(raised) == 1 and isinstance(raised[0], SchemaNotReady)
    assert str(raised[0]) == (f"cannot reach the database {url}: connection timeout expired")


def test_a_urls_own_connect_timeout_wins_over_remises(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a URL that sets its own connect_timeout, shorter than remise's
    monkeypatch.setattr(rules.db, "CONNECT_TIMEOUT_SECONDS", 10 * WAIT_AT_MOST)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/remise?connect_timeout=2"

    # when a command reads its schema revision, then it gives up as the URL says
    raised = _attempt(url)

    assert len(raised) == 1 and "connection timeout expired" in str(raised[0])
