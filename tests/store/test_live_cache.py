"""The live cache: atomic swaps, in-flight requests keep their version, and new
versions reach every process (database polling, Redis pub/sub, after an outage)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

import dsl
import engine
from rules import (
    Announcement,
    LiveCache,
    RedisFanout,
    RuleStore,
    Version,
    create_db_engine,
    upgrade,
)
from rules.store import content_hash as hash_of
from tests.conftest import require_program

from .processes import Follower, PrivateRedis, following_redis, wait_until
from .scenario import BOOTS_10, BOOTS_20, SOCKS_3_FOR_2, boots_basket, sources


def _discount(entry_evaluator: engine.Evaluator) -> str:
    response = entry_evaluator.evaluate(engine.parse_request(boots_basket()))
    return str(response["discount"])


def test_a_request_in_flight_finishes_on_the_version_it_started_with(
    store: RuleStore,
) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store)
    in_flight = cache.get("fr")
    assert in_flight is not None

    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
    assert cache.refresh("fr")

    assert (in_flight.version, _discount(in_flight.evaluator)) == (1, "10.00")
    now_live = cache.get("fr")
    assert now_live is not None
    assert (now_live.version, _discount(now_live.evaluator)) == (2, "20.00")


def test_a_rule_set_never_published_is_not_served(store: RuleStore) -> None:
    assert LiveCache(store).get("fr") is None


def test_refresh_all_loads_every_rule_set_and_only_what_changed(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="fr", author="ana")
    store.publish("be", sources(BOOTS_20), message="be", author="ana")
    cache = LiveCache(store)

    assert cache.refresh_all() == 2
    assert cache.refresh_all() == 0
    assert {name: entry.version for name, entry in cache.loaded().items()} == {"fr": 1, "be": 1}


def test_without_redis_another_process_polls_the_database(
    store: RuleStore, database_url: str
) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    other = LiveCache(RuleStore(create_db_engine(database_url)), poll_seconds=0.05)
    other.start()
    try:
        store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
        wait_until(lambda: other.get("fr").version == 2)  # type: ignore[union-attr]
    finally:
        other.stop()


# --- Redis ---------------------------------------------------------------------------


@pytest.fixture
def fanout(redis_url: str, redis_prefix: str) -> Iterator[RedisFanout]:
    fanout = RedisFanout(redis_url, prefix=redis_prefix)
    yield fanout
    fanout.client.delete(*fanout.client.keys(f"{redis_prefix}:*") or ["-"])
    fanout.close()


def test_an_announcement_caches_the_ir_by_content_hash(
    store: RuleStore, fanout: RedisFanout
) -> None:
    version = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    assert fanout.announce(version)

    assert fanout.cached_ir(version.content_hash) == version.ir_json


def _worker_on_v1_then_v2_published(store: RuleStore, fanout: RedisFanout
                                    ) -> tuple[LiveCache, Version]:
    """A worker that loaded version 1 of fr, and version 2 published since (not yet
    announced)."""
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, fanout=fanout)
    cache.refresh_all()
    return cache, store.publish("fr", sources(BOOTS_20), message="v2", author="ana")


def test_an_announced_version_loads_its_rules_from_redis_not_from_the_database(
    store: RuleStore, fanout: RedisFanout
) -> None:
    cache, second = _worker_on_v1_then_v2_published(store, fanout)
    fanout.announce(second)
    statements: list[str] = []
    event.listen(store.db, "before_cursor_execute", lambda *a: statements.append(a[2]))

    assert cache.apply(Announcement("fr", 2, second.content_hash, second.live_from))

    # one query, for the version's hash: its IR and source (megabytes) stay in the database
    assert len(statements) == 1
    assert "content_hash" in statements[0] and "versions.ir" not in statements[0] \
        and "versions.sources" not in statements[0]
    assert _discount(cache.get("fr").evaluator) == "20.00"  # type: ignore[union-attr]


def test_an_old_announcement_never_replaces_a_newer_version(
    store: RuleStore, fanout: RedisFanout
) -> None:
    first = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
    cache = LiveCache(store, fanout=fanout)
    cache.refresh_all()

    assert not cache.apply(Announcement("fr", 1, first.content_hash, first.live_from))
    assert cache.get("fr").version == 2  # type: ignore[union-attr]


def test_an_announcement_whose_hash_is_not_this_databases_is_ignored(
    store: RuleStore, fanout: RedisFanout, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a worker serving fr version 1, version 2 published here but not announced,
    # and another deployment on the same Redis server whose own version 2 is announced
    # (its IR cached in another Redis database: pub/sub channels ignore the number)
    ours = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, fanout=fanout)
    cache.refresh_all()
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
    staging = RuleStore(create_db_engine(f"sqlite:///{tmp_path / 'staging.db'}"))
    upgrade(staging.db)
    staging.publish("fr", sources(BOOTS_10), message="v1", author="sam")
    theirs = staging.publish("fr", sources(SOCKS_3_FOR_2), message="v2", author="sam")

    # When the worker hears the other deployment's announcement
    applied = cache.apply(Announcement("fr", 2, theirs.content_hash, theirs.live_from))

    # Then it keeps serving its own version 1, and says why
    live = cache.get("fr")
    assert live is not None
    assert (applied, live.version, live.content_hash) == (False, 1, ours.content_hash)
    assert "needs its own REMISE_REDIS_PREFIX" in caplog.text


def test_an_announcement_of_a_version_this_database_lacks_is_ignored(
    store: RuleStore, fanout: RedisFanout
) -> None:
    # Given a worker serving fr version 1, the latest here
    first = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, fanout=fanout)
    cache.refresh_all()

    # When it hears of a version 7 (another deployment's), not cached in its Redis
    applied = cache.apply(Announcement("fr", 7, "0" * 64, first.live_from))

    # Then it is ignored, not an error, and version 1 stays live
    assert (applied, cache.get("fr").version) == (False, 1)  # type: ignore[union-attr]


def test_rules_announced_on_redis_that_this_database_lacks_are_never_served(
    store: RuleStore, fanout: RedisFanout
) -> None:
    # Given a worker serving fr version 1 (boots -10%), and someone who may write to
    # Redis caching rules of their own under their hash (boots -20%, unpublished here)
    first = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, fanout=fanout)
    cache.refresh_all()
    forged = dsl.compile_sources(sources(BOOTS_20)).model_dump_json()
    fanout.client.set(fanout.ir_key(hash_of(forged)), forged)

    # When they announce them as version 2
    applied = cache.apply(Announcement("fr", 2, hash_of(forged), first.live_from))

    # Then the worker keeps pricing on version 1: this database has no version 2
    live = cache.get("fr")
    assert live is not None
    assert (applied, live.version, _discount(live.evaluator)) == (False, 1, "10.00")


def test_an_ir_cached_under_another_hash_is_not_served(
    store: RuleStore, fanout: RedisFanout
) -> None:
    # Given a worker on version 1, and version 2 announced while Redis holds other
    # rules under version 2's hash
    cache, second = _worker_on_v1_then_v2_published(store, fanout)
    fanout.client.set(fanout.ir_key(second.content_hash), store.version("fr", 1).ir_json)

    # When the worker applies the announcement
    assert cache.apply(Announcement("fr", 2, second.content_hash, second.live_from))

    # Then it serves version 2's own rules, read from the database
    live = cache.get("fr")
    assert live is not None
    assert (live.version, _discount(live.evaluator)) == (2, "20.00")


def test_a_publish_in_one_process_is_served_by_two_others_through_redis(
    store: RuleStore, database_url: str, fanout: RedisFanout, redis_url: str,
    redis_prefix: str,
) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    store.listeners.append(fanout.announce)
    # poll every hour: only pub/sub can bring the new version in time
    followers = [Follower(database_url, redis_url, redis_prefix, 3600) for _ in range(2)]
    try:
        for follower in followers:
            follower.wait_for_version("fr", 1)

        store.publish("fr", sources(BOOTS_20), message="v2", author="ana")

        for follower in followers:
            follower.wait_for_version("fr", 2, timeout=5)
    finally:
        for follower in followers:
            follower.close()


def test_a_process_that_lost_redis_catches_up_when_it_is_back(
    store: RuleStore, database_url: str, redis_prefix: str
) -> None:
    redis_server = PrivateRedis(require_program("redis-server"))
    redis_server.start()
    fanout = RedisFanout(redis_server.url, prefix=redis_prefix)
    store.listeners.append(fanout.announce)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    follower = Follower(database_url, redis_server.url, redis_prefix, 3600)
    try:
        follower.wait_for_version("fr", 1)

        redis_server.stop()
        store.publish("fr", sources(BOOTS_20), message="v2 while Redis is down", author="ana")
        follower.wait_for_version("fr", 2, timeout=15)  # caught up from the database
        redis_server.start()
        time.sleep(0.5)  # let the follower resubscribe
        store.publish("fr", sources(SOCKS_3_FOR_2), message="v3", author="ana")

        follower.wait_for_version("fr", 3, timeout=10)  # pub/sub works again
    finally:
        follower.close()
        fanout.close()
        redis_server.stop()


def test_an_unknown_name_is_asked_about_once_a_second_not_once_a_request(
    store: RuleStore,
) -> None:
    cache = LiveCache(store)
    statements: list[str] = []
    event.listen(store.db, "before_cursor_execute", lambda *a: statements.append(a[2]))

    for _ in range(50):
        assert cache.get("nope") is None

    assert 1 <= len(statements) <= 2  # one lookup (two on PostgreSQL's first connect)


def test_a_name_published_later_is_served_at_once_after_a_refresh(store: RuleStore) -> None:
    cache = LiveCache(store)
    assert cache.get("fr") is None
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    cache.refresh("fr")  # what a publish in this process, or an announcement, does

    assert cache.get("fr").version == 1  # type: ignore[union-attr]


# The hour of boots_basket() (12:00 in Paris): what the pinned clock reads below.
BASKET_HOUR = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)


def _clock_in_basket_hour() -> datetime:
    return BASKET_HOUR + timedelta(minutes=20)


def _first_version(store: RuleStore, clock: Callable[[], datetime]
                   ) -> tuple[LiveCache, engine.Evaluator]:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    cache = LiveCache(store, clock=clock)
    first = cache.get("fr")
    assert first is not None
    return cache, first.evaluator


def _second_version(store: RuleStore, cache: LiveCache) -> engine.Evaluator:
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")
    cache.refresh("fr")
    second = cache.get("fr")
    assert second is not None and second.version == 2
    return second.evaluator


def test_a_new_version_starts_with_the_slices_the_old_one_was_serving_this_hour(
    store: RuleStore,
) -> None:
    cache, first = _first_version(store, _clock_in_basket_hour)
    _discount(first)  # a web basket: builds the web slice of this hour

    second = _second_version(store, cache)

    assert second.cached_slices() == [("web", BASKET_HOUR)]
    assert _discount(second) == "20.00"


def test_a_new_version_is_not_warmed_for_a_replayed_hour(store: RuleStore) -> None:
    cache, first = _first_version(store, _clock_in_basket_hour)
    first.evaluate(engine.parse_request(boots_basket("2026-11-20T12:00:00+01:00")))

    second = _second_version(store, cache)

    assert second.cached_slices() == []


def test_a_new_version_published_in_the_last_minute_takes_the_prepared_next_hour_too(
    store: RuleStore,
) -> None:
    cache, first = _first_version(
        store, lambda: BASKET_HOUR + timedelta(minutes=59, seconds=30))
    _discount(first)
    first.prepare(BASKET_HOUR + timedelta(hours=1))  # as rules/ahead.py does

    second = _second_version(store, cache)

    assert second.cached_slices() == [
        ("web", BASKET_HOUR), ("web", BASKET_HOUR + timedelta(hours=1))]


def test_a_redis_that_cannot_be_reached_from_the_start_is_logged_once(
    store: RuleStore, caplog: pytest.LogCaptureFixture
) -> None:
    # given a process whose REMISE_REDIS_URL names a port where no Redis listens
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    fanout = RedisFanout("redis://127.0.0.1:1/0", prefix="remise-unreachable")
    cache = LiveCache(store, fanout=fanout, poll_seconds=3600)
    # when it starts following live versions, and retries for a while
    with caplog.at_level("WARNING", logger="remise.live"):
        cache.start()
        try:
            wait_until(lambda: "cannot reach Redis" in caplog.text)
            time.sleep(0.5)  # a few retries (backoff from 0.1 s)
        finally:
            cache.stop()
            fanout.close()
    # then the operator is told once, naming the setting, and it still serves from the database
    warnings = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1 and "REMISE_REDIS_URL" in warnings[0]
    assert cache.get("fr") is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_after_a_long_outage_a_short_redis_restart_is_caught_up_at_once(
    store: RuleStore, database_url: str, redis_prefix: str
) -> None:
    # given a process following a private Redis, which once was down for 1.6 s (its
    # reconnection backoff grew meanwhile: 0.1, 0.2, 0.4, 0.8, then 1.6 s)
    redis_server = PrivateRedis(require_program("redis-server"))
    redis_server.start()
    publisher = RedisFanout(redis_server.url, prefix=redis_prefix)
    store.listeners.append(publisher.announce)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    try:
        with following_redis(database_url, redis_server.url, redis_prefix) as cache:
            redis_server.stop()
            wait_until(lambda: not cache.redis_connected)
            time.sleep(1.6)
            redis_server.start()
            wait_until(lambda: cache.redis_connected)

            # when, days later, Redis restarts in a blink and a version is published as
            # it comes back
            redis_server.stop()
            wait_until(lambda: not cache.redis_connected)
            redis_server.start()
            store.publish("fr", sources(BOOTS_20), message="v2", author="ana")

            # then the process resubscribes and catches up from the database at once, as
            # after the first outage, not after the 3.2 s the first outage had grown its
            # backoff to
            wait_until(lambda: cache.get("fr").version == 2,  # type: ignore[union-attr]
                       timeout=1.5)
    finally:
        publisher.close()
        redis_server.stop()
