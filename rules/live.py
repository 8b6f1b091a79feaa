"""The live cache: every process serves each rule set's live version, compiled once.

Reads never wait: ``get`` returns an immutable ``LiveRuleSet`` (version,
rules, evaluator). A reload builds the new evaluator aside and then swaps one
dictionary entry, so a request that already holds the old entry finishes on
the version it started with and the next request sees the new one.

How new versions arrive:

* With Redis, a publish announces ``{ruleset, version, hash, live_from}`` on a
  pub/sub channel and caches the compiled IR under its content hash, so a
  hundred workers reloading at once read Redis, not the database, and nobody
  recompiles rule source. Pub/sub delivers at most once, so each (re)subscribe
  is followed by a catch-up against the database, and a slow database check
  runs behind it as a safety net. While Redis is unreachable the process
  polls the database at its backoff pace and reconnects by itself.
* Without Redis, a background thread polls the database every
  ``poll_seconds``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.exc import OperationalError, SQLAlchemyError

import engine as runtime

from .errors import UnreadableVersion
from .store import RuleStore, Version
from .store import content_hash as hash_of

log = logging.getLogger("remise.live")

IR_CACHE_SECONDS = 7 * 24 * 3600
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 5.0
# A subscription that hears nothing for HEARTBEAT_SECONDS sends a PING, and is taken
# for lost when no PONG comes within PONG_TIMEOUT_SECONDS: a firewall or load balancer
# that drops an idle flow closes nothing, and the process would never hear another
# announcement (the PINGs also keep the flow from looking idle).
HEARTBEAT_SECONDS = 5.0
PONG_TIMEOUT_SECONDS = 3.0
UNKNOWN_SECONDS = 1.0


@dataclass(frozen=True)
class LiveRuleSet:
    name: str
    version: int
    content_hash: str
    live_from: datetime
    ruleset: runtime.RuleSet
    evaluator: runtime.Evaluator


@dataclass(frozen=True)
class Announcement:
    ruleset: str
    version: int
    content_hash: str
    live_from: datetime

    def to_json(self) -> str:
        return json.dumps({"ruleset": self.ruleset, "version": self.version,
                           "hash": self.content_hash, "live_from": self.live_from.isoformat()})

    @classmethod
    def from_json(cls, data: str | bytes) -> Announcement:
        raw = json.loads(data)
        return cls(str(raw["ruleset"]), int(raw["version"]), str(raw["hash"]),
                   datetime.fromisoformat(raw["live_from"]))


class RedisFanout:
    """Announces new live versions on Redis pub/sub and caches their IR by hash."""

    def __init__(self, url: str, *, prefix: str = "remise") -> None:
        # No silent reconnection inside redis-py: the follower notices a lost
        # connection and catches up itself (see LiveCache._follow_redis).
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5,
                                           retry=Retry(NoBackoff(), 0))
        self.channel = f"{prefix}:live"
        self.prefix = prefix

    def ir_key(self, content_hash: str) -> str:
        return f"{self.prefix}:ir:{content_hash}"

    def announce(self, version: Version) -> bool:
        """Cache the IR and tell every process. A Redis outage is logged, not raised:
        the version is already live in the database and pollers will find it."""
        announcement = Announcement(version.ruleset, version.number, version.content_hash,
                                    version.live_from)
        try:
            pipe = self._without_idle_connections().pipeline(transaction=False)
            pipe.set(self.ir_key(version.content_hash), version.ir_json, ex=IR_CACHE_SECONDS)
            pipe.publish(self.channel, announcement.to_json())
            # Each command's own error: a full Redis refuses the IR yet still delivers
            # the announcement (it needs no memory).
            cached, published = pipe.execute(raise_on_error=False)
        except redis.RedisError as error:
            published = error
        else:
            if isinstance(cached, redis.RedisError) and not isinstance(published, Exception):
                log.warning("announced %s version %s on Redis, which could not keep its "
                            "rules (%s): every process reads them from its database",
                            version.ruleset, version.number, cached)
        if isinstance(published, Exception):
            log.warning("could not announce %s version %s on Redis: %s", version.ruleset,
                        version.number, published)
            return False
        return True

    def cached_ir(self, content_hash: str) -> str | None:
        try:
            data = self._without_idle_connections().get(self.ir_key(content_hash))
        except redis.RedisError:
            return None
        return data.decode("utf-8") if isinstance(data, bytes) else None

    def _without_idle_connections(self) -> redis.Redis:
        """The client, its pool's idle connections closed first: idle since the last
        publish (hours, often), a firewall or load balancer may have dropped their flow
        without a word, and a command sent on one would wait the 5 s socket timeout for
        nothing, and fail. Announcements and IR reads come a few times a day; a new
        connection costs a millisecond. (The subscription is in use, and stays.)"""
        self.client.connection_pool.disconnect(inuse_connections=False)
        return self.client

    def subscribe(self) -> Any:
        pubsub = self.client.pubsub()
        pubsub.subscribe(self.channel)
        return pubsub

    def close(self) -> None:
        self.client.close()


class LiveCache:
    """The live version of every rule set, compiled and ready, for one process."""

    def __init__(self, store: RuleStore, *, fanout: RedisFanout | None = None,
                 poll_seconds: float = 2.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """``clock``: the wall clock, which says what hour a new version is warmed for
        (tests pin it)."""
        self.store = store
        self.clock = clock
        self.fanout = fanout
        self.poll_seconds = poll_seconds
        self.redis_connected = False
        # Every rule set's live version loaded: one check of the whole database went
        # through (a process started while its database was down has none to serve).
        self.caught_up = False
        self.on_reload: list[Callable[[LiveRuleSet], None]] = []
        # Told (rule set, ahead) of each index slice a live evaluator builds, ahead
        # (Evaluator.prepare) or on demand; runs in the thread that built it, a
        # basket's among them, so it must be quick and must not raise.
        self.on_slice_built: list[Callable[[str, bool], None]] = []
        self._live: dict[str, LiveRuleSet] = {}
        self._readers: dict[str, runtime.RuleSetReader] = {}
        self._unknown: dict[str, float] = {}  # name -> until when not to ask again
        self._unloadable: dict[str, int] = {}  # name -> the version that failed to load
        self._database_lost = False  # said once per outage, not at every check
        # Told False when a check cannot reach the database, True when one goes through
        # again (/metrics' remise_database_up); must be quick and must not raise.
        self.on_database: list[Callable[[bool], None]] = []
        self._reload_lock = threading.Lock()  # one reload at a time; reads never take it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reading -------------------------------------------------------------------

    def get(self, name: str) -> LiveRuleSet | None:
        """The live rule set, loading it on first use (None: never published).

        A name found unpublished is not asked about again for a second, so a
        client sending unknown names cannot turn each request into a query; a
        publish reaches this process through ``refresh`` or ``apply`` anyway."""
        entry = self._live.get(name)
        if entry is None and self._unknown.get(name, 0.0) < time.monotonic():
            self.refresh(name)
            entry = self._live.get(name)
            if entry is None:
                if len(self._unknown) > 10_000:
                    self._unknown.clear()
                self._unknown[name] = time.monotonic() + UNKNOWN_SECONDS
        return entry

    def peek(self, name: str) -> LiveRuleSet | None:
        """The live rule set if this process has it loaded; never touches the database."""
        return self._live.get(name)

    def loaded(self) -> dict[str, LiveRuleSet]:
        return dict(self._live)

    # --- reloading -----------------------------------------------------------------

    def refresh(self, name: str) -> bool:
        """Load ``name``'s latest version from the database if it is newer."""
        with self._reload_lock:
            version = self.store.latest(name)
            if version is None or not self._is_newer(name, version.number):
                return False
            self._install(self._build(name, version.number, version.content_hash,
                                      version.live_from, version.ir_json))
            return True

    def refresh_all(self) -> int:
        """Catch up with the database on every rule set; returns how many changed."""
        changed = 0
        for name, number in sorted(self.store.latest_numbers().items()):
            if self._is_newer(name, number):
                changed += self._refresh_one(name, number)
        self.caught_up = True
        return changed

    def _refresh_one(self, name: str, number: int) -> bool:
        """``refresh(name)``, where a version that cannot be loaded keeps its rule set on
        the version it has and does not hold the other rule sets back (logged once)."""
        try:
            return self.refresh(name)
        except (redis.RedisError, SQLAlchemyError):
            raise  # the store or Redis is down: every rule set would fail alike
        except Exception:
            if self._unloadable.get(name) != number:
                self._unloadable[name] = number
                log.exception("live: %s version %s cannot be loaded; still serving the "
                              "version before it", name, number)
            return False

    def apply(self, announcement: Announcement) -> bool:
        """Install an announced version, from the Redis IR cache when it is there, else
        from this process's database if that version is the one announced."""
        with self._reload_lock:
            if not self._is_newer(announcement.ruleset, announcement.version):
                return False
            entry = self._announced(announcement)
            if entry is None:
                return False
            self._install(entry)
            return True

    def _announced(self, announcement: Announcement) -> LiveRuleSet | None:
        """The announced version, compiled; None when this database does not have it.

        The database says whether it does, whatever Redis holds: pub/sub channels
        ignore Redis's database number, so a deployment sharing the server (and the
        prefix) hears another's announcements, and whoever may write to Redis could
        announce rules of their own with their IR cached under its hash. Only a
        version this database has, with the hash announced, is installed; its IR is
        read from Redis when cached there (the database would send each worker
        megabytes), else from the database."""
        name = announcement.ruleset
        stamp = self.store.version_stamp(name, announcement.version)
        if stamp is None or stamp[0] != announcement.content_hash:
            found = f"has hash {stamp[0][:12]}" if stamp else "has no such version"
            log.warning("live: ignored the announcement of %s version %s (hash %s): this "
                        "database %s; a deployment sharing this Redis server needs its own "
                        "REMISE_REDIS_PREFIX", name, announcement.version,
                        announcement.content_hash[:12], found)
            return None
        content_hash, live_from = stamp
        ir_json = self._cached_ir(content_hash)
        if ir_json is None:
            ir_json = self.store.version(name, announcement.version).ir_json
        return self._build(name, announcement.version, content_hash, live_from, ir_json)

    def _cached_ir(self, expected_hash: str) -> str | None:
        """The IR Redis holds under ``expected_hash``, if it has that hash: a key written
        with other content (by another writer, or damaged) is not served."""
        ir_json = self.fanout.cached_ir(expected_hash) if self.fanout else None
        if ir_json is not None and hash_of(ir_json) != expected_hash:
            log.warning("live: the IR cached in Redis under %s has another hash; reading "
                        "the database instead", expected_hash[:12])
            return None
        return ir_json

    def _build(self, name: str, number: int, content_hash: str, live_from: datetime,
               ir_json: str) -> LiveRuleSet:
        """Read and compile a version, reusing whatever the live one shares with it."""
        reader = self._readers.setdefault(name, runtime.RuleSetReader())
        try:
            ruleset = reader.read(ir_json).model_copy(
                update={"version": number, "content_hash": content_hash})
        except runtime.IRError as error:  # named, for whoever asked for this rule set
            raise UnreadableVersion(name, number, str(error)) from None
        current = self._live.get(name)
        evaluator = runtime.Evaluator(ruleset, reuse=current.evaluator if current else None,
                                      on_slice_built=partial(self._slice_built, name))
        return LiveRuleSet(name, number, content_hash, live_from, ruleset, evaluator)

    def _slice_built(self, name: str, channel: str, hour: datetime, ahead: bool) -> None:
        for callback in self.on_slice_built:
            callback(name, ahead)

    def _is_newer(self, name: str, number: int) -> bool:
        current = self._live.get(name)
        return current is None or number > current.version

    def _install(self, entry: LiveRuleSet) -> None:
        previous = self._live.get(entry.name)
        self._live[entry.name] = entry  # one atomic swap; holders keep the old entry
        self._unknown.pop(entry.name, None)
        log.info("live: %s version %s (%s rules)", entry.name, entry.version,
                 len(entry.ruleset.rules))
        if previous is not None:
            self._warm(entry, previous)
        for callback in self.on_reload:  # after warming: the heap freeze takes the slices
            callback(entry)

    def _warm(self, entry: LiveRuleSet, previous: LiveRuleSet) -> None:
        """Build the new version's index slices that the previous one had for this hour
        and the next (the next one prepared ahead, rules/ahead.py, when a publish falls
        in the minute before the hour turns), right after the swap: not before it, the
        new rules should reach baskets as soon as they can. Otherwise the first basket
        of each channel on a new version would build its slice (10-150 ms with
        10,000-100,000 rules) while it and the baskets behind it wait, at every publish."""
        this_hour = datetime.fromtimestamp(int(self.clock().timestamp()) // 3600 * 3600, UTC)
        wanted: dict[datetime, list[str]] = {this_hour: [], this_hour + timedelta(hours=1): []}
        for channel, hour in previous.evaluator.cached_slices():
            if hour in wanted:
                wanted[hour].append(channel)
        built = 0
        for hour, channels in wanted.items():
            if not channels:
                continue
            try:
                built += entry.evaluator.prepare(hour, channels)
            except Exception:  # the version is live already: a basket builds what is missing
                log.exception("could not warm %s version %s", entry.name, entry.version)
                return
        if built:
            log.info("live: %s version %s warmed: %s index slices", entry.name,
                     entry.version, built)

    # --- following new versions ----------------------------------------------------

    def start(self) -> None:
        """Load everything now, then follow new versions in a background thread."""
        self._safely(self.refresh_all)
        target = self._follow_redis if self.fanout else self._poll
        self._thread = threading.Thread(target=target, name="remise-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self._safely(self.refresh_all)

    def _follow_redis(self) -> None:
        assert self.fanout is not None
        backoff = FIRST_BACKOFF_SECONDS
        reached = False  # a Redis never reached since the start is said once, as a lost one
        while not self._stop.is_set():
            try:
                self._listen(self.fanout)
            except (redis.RedisError, OSError) as error:
                if self.redis_connected:
                    log.warning("lost Redis (%s); polling the database until it is back", error)
                    # A new outage: resubscribe as soon as it ends, not at the pace a past
                    # outage slowed down to (the versions published meanwhile wait for it).
                    backoff = FIRST_BACKOFF_SECONDS
                elif not reached:
                    log.warning("cannot reach Redis (%s): check REMISE_REDIS_URL; polling the "
                                "database until it answers", error)
                reached = True
                self.redis_connected = False
                self._safely(self.refresh_all)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                backoff = FIRST_BACKOFF_SECONDS

    def _listen(self, fanout: RedisFanout) -> None:
        pubsub = fanout.subscribe()
        last_check = time.monotonic()
        heartbeat = _Heartbeat(pubsub)
        # A check or an announcement failed (the database was down): what it would have
        # installed is not announced again, so the database is asked at the pace of a
        # lost Redis until a check goes through, not at the safety net's (30 s).
        behind = False
        try:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                heartbeat.beat(message is not None)
                if message is None:
                    pass
                elif message["type"] == "subscribe":
                    # (Re)subscribed: anything announced while we were away is lost
                    # on pub/sub, so ask the database.
                    self.redis_connected = True
                    behind = not self._safely(self.refresh_all)
                    last_check = time.monotonic()
                elif message["type"] == "message":
                    behind |= not self._safely(lambda data=message["data"]: self.apply(
                        Announcement.from_json(data)))
                # Not caught up yet (the database was down at the start) is behind too.
                every = (MAX_BACKOFF_SECONDS if behind or not self.caught_up
                         else self.poll_seconds)
                if time.monotonic() - last_check >= min(every, self.poll_seconds):
                    behind = not self._safely(self.refresh_all)
                    last_check = time.monotonic()
        finally:
            pubsub.close()

    def _safely(self, action: Callable[[], object]) -> bool:
        """A failed reload keeps the current version serving; it is logged, and False
        is returned for the caller to retry. A database that cannot be reached is said
        in one line when it is lost and one when it answers again: a traceback at every
        check filled the log with thousands of lines an hour, per worker."""
        try:
            action()
        except redis.RedisError:
            raise
        except OperationalError as error:
            if not self._database_lost:
                reason = (str(error.orig).strip().splitlines() or [type(error).__name__])[0]
                log.warning("lost the database (%s); still serving the current versions, "
                            "asking it again every few seconds", reason)
                self._tell_database(reachable=False)
            self._database_lost = True
            return False
        except Exception:  # never kill the follower
            log.exception("live cache reload failed; still serving the current versions")
            return False
        if self._database_lost:
            log.warning("the database answers again")
            self._tell_database(reachable=True)
        self._database_lost = False
        return True

    def _tell_database(self, *, reachable: bool) -> None:
        for listener in self.on_database:
            listener(reachable)


class _Heartbeat:
    """Tells a silent subscription from a lost one: after HEARTBEAT_SECONDS without a
    word from Redis it sends a PING, and raises if nothing (a PONG, or anything else)
    comes back within PONG_TIMEOUT_SECONDS."""

    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub
        self.heard_at = time.monotonic()
        self.pinged_at: float | None = None

    def beat(self, heard: bool) -> None:
        """Called after each wait for a message, ``heard`` saying whether one came."""
        now = time.monotonic()
        if heard:
            self.heard_at, self.pinged_at = now, None
        elif self.pinged_at is not None and now - self.pinged_at >= PONG_TIMEOUT_SECONDS:
            raise redis.ConnectionError(
                f"Redis did not answer a PING in {PONG_TIMEOUT_SECONDS:g} s")
        elif self.pinged_at is None and now - self.heard_at >= HEARTBEAT_SECONDS:
            self.pubsub.ping()
            self.pinged_at = now


__all__ = ["Announcement", "LiveCache", "LiveRuleSet", "RedisFanout"]
