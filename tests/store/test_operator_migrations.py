"""An operator's deploy: every server of a deployment runs `remise db upgrade` as it
starts, so several run at once on a database with no schema yet."""

from __future__ import annotations

import threading

from rules import create_db_engine, current_revision, head_revision
from rules.db import migrate

SERVERS = 6


def _upgrade_at_once(database_url: str) -> list[tuple[str | None, str] | Exception]:
    """Each server's outcome, the migrations released together from a barrier."""
    engines = [create_db_engine(database_url) for _ in range(SERVERS)]
    outcomes: list[tuple[str | None, str] | Exception] = []
    barrier = threading.Barrier(SERVERS)

    def server(index: int) -> None:
        barrier.wait()
        try:
            outcomes.append(migrate(engines[index]))
        except Exception as error:  # the outcome under test, asserted below
            outcomes.append(error)

    threads = [threading.Thread(target=server, args=(i,)) for i in range(SERVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.dispose()
    return outcomes


def test_servers_upgrading_an_empty_database_at_once_all_succeed(database_url: str) -> None:
    # given a database with no schema, and servers starting together
    # when each runs the upgrade at the same moment
    outcomes = _upgrade_at_once(database_url)

    # then none fails, exactly one made the schema, the others found it made
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(outcomes, key=str) == sorted(
        [(None, head_revision())] + [(head_revision(), head_revision())] * (SERVERS - 1),
        key=str)
    db = create_db_engine(database_url)
    assert current_revision(db) == head_revision()
    db.dispose()
