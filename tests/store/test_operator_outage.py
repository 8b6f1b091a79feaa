"""What a server's log says while its database is down: one line when it is lost, one
when it answers again, not a traceback at every check."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import create_engine

from rules import LiveCache, RuleStore

from .processes import wait_until
from .scenario import BOOTS_10, sources

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
