"""A server while its database is down: its log says one line when it is lost, one when
it answers again, not a traceback at every check; and a version announced meanwhile is
served once it answers."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import create_engine

from rules import LiveCache, RedisFanout, RuleStore
from rules.live import MAX_BACKOFF_SECONDS

from .processes import following_redis, wait_until
from .scenario import BOOTS_10, BOOTS_20, sources

POLL_SECONDS = 0.05
CHECKS_DURING_THE_OUTAGE = 10


def test_a_database_outage_is_said_once_when_lost_and_once_when_back(
    store: RuleStore, caplog: pytest.LogCaptureFixture
) -> None:
    # given a server following its database, with fr live
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, poll_seconds=POLL_SECONDS)
    cache.start()
    database = store.db
    caplog.set_level(logging.INFO, logger="remise.live")
    try:
        # when the database cannot be reached for many checks, then answers again
        store.db = create_engine("sqlite:////nonexistent/folder/remise.db")
        time.sleep(POLL_SECONDS * CHECKS_DURING_THE_OUTAGE)
        store.db = database
        wait_until(lambda: any("answers again" in r.getMessage() for r in caplog.records))
    finally:
        cache.stop()

    # then the log holds two lines, no traceback, and fr is still served
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "remise.live"]
    assert said == [
        ("WARNING", "lost the database (unable to open database file); still serving the "
                    "current versions, asking it again every few seconds"),
        ("WARNING", "the database answers again"),
    ]
    assert all(r.exc_info is None for r in caplog.records)
    live = cache.get("fr")
    assert live is not None and live.version == 1


# After a failed check the next one comes at the reconnection pace (rules.live), not at
# the safety net's (an hour here): this is how long the test waits for it.
CHECK_AGAIN_WITHIN = MAX_BACKOFF_SECONDS + 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_version_announced_while_the_database_is_lost_is_served_once_it_is_back(
    store: RuleStore, database_url: str, redis_url: str, redis_prefix: str,
    caplog: pytest.LogCaptureFixture
) -> None:
    # given a server following Redis (its database checked hourly), with fr version 1
    publisher = RedisFanout(redis_url, prefix=redis_prefix)
    store.listeners.append(publisher.announce)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    caplog.set_level(logging.WARNING, logger="remise.live")
    try:
        with following_redis(database_url, redis_url, redis_prefix) as cache:
            wait_until(lambda: cache.peek("fr") is not None)
            database = cache.store.db

            # when version 2 is announced while the server cannot reach its database
            # (the announcement heard, the version's hash not readable), which then
            # answers again
            cache.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")
            store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
            wait_until(lambda: "lost the database" in caplog.text)
            cache.store.db = database

            # then the server serves version 2 within seconds, not at its hourly check
            wait_until(lambda: cache.peek("fr").version == 2,  # type: ignore[union-attr]
                       timeout=CHECK_AGAIN_WITHIN,
                       failing="still serving version 1 after the database came back")
    finally:
        publisher.close()
