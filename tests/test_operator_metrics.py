"""/metrics during a database outage: what an operator's alert reads."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine

import rules
from api.services import build_services
from tests.store.processes import wait_until
from tests.store.scenario import BOOTS_10, sources


def _database_up(exposition: bytes) -> str:
    lines = [line for line in exposition.decode().splitlines()
             if line.startswith("remise_database_up ")]
    assert len(lines) == 1, exposition
    return lines[0].split()[1]


def test_metrics_say_the_database_is_down_until_it_answers_again(tmp_path: Path) -> None:
    # given a server process polling its database, with fr live
    settings = rules.Settings.from_env({"REMISE_DATA_DIR": str(tmp_path / "data"),
                                        "REMISE_POLL_SECONDS": "0.05"})
    services = build_services(settings)
    services.store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    services.live.start()
    database = services.store.db
    try:
        before = _database_up(services.metrics.exposition())

        # when the database cannot be reached, then answers again
        services.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")
        wait_until(lambda: _database_up(services.metrics.exposition()) == "0.0")
        time.sleep(0.2)  # a few more failed checks
        during = _database_up(services.metrics.exposition())
        services.store.db = database
        wait_until(lambda: _database_up(services.metrics.exposition()) == "1.0")
    finally:
        services.live.stop()
        database.dispose()

    # then remise_database_up went 1, 0, 1
    assert (before, during) == ("1.0", "0.0")
