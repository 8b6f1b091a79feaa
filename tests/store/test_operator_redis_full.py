"""A Redis that refuses writes (full: `maxmemory` reached under `noeviction`) still
delivers announcements, which need no memory: the log must say what really failed."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis

from rules import RedisFanout, RuleStore
from tests.conftest import require_program

from .processes import PrivateRedis
from .scenario import BOOTS_10, sources


@pytest.fixture
def full_redis() -> Iterator[PrivateRedis]:
    """A private redis-server whose memory is full: every write is refused."""
    server = PrivateRedis(require_program("redis-server"))
    server.start()
    client = redis.Redis.from_url(server.url)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)
    client.close()
    yield server
    server.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_redis_that_delivers_the_announcement_is_not_said_to_have_lost_it(
    store: RuleStore, full_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    # given a server subscribed to a Redis whose memory is full
    fanout = RedisFanout(full_redis.url, prefix="remise-full")
    listener = fanout.subscribe()
    assert listener.get_message(timeout=5)["type"] == "subscribe"
    store.listeners.append(fanout.announce)
    try:
        # when a version is published
        with caplog.at_level(logging.WARNING, logger="remise.live"):
            store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
        heard = listener.get_message(timeout=5)
    finally:
        listener.close()
        fanout.close()

    # then the server heard it, and the log says its rules were not cached, not that it
    # could not be announced (which tells an operator that servers wait 30 s for it)
    assert heard is not None and heard["type"] == "message"
    said = [record.getMessage() for record in caplog.records]
    assert said == [
        "announced fr version 1 on Redis, which could not keep its rules (command not "
        "allowed when used memory > 'maxmemory'.): every process reads them from its "
        "database"]
