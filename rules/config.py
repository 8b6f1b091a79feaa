"""Where the rule store lives, read from the environment.

* ``REMISE_DATABASE_URL``: a SQLAlchemy URL (``postgresql+psycopg://...``).
  Unset: the embedded default, a SQLite file ``remise.db`` in the data folder.
* ``REMISE_DATA_DIR``: the data folder (default ``./remise-data``).
* ``REMISE_REDIS_URL``: Redis for the live-version fan-out (unset: none, and
  every process polls the database instead).
* ``REMISE_REDIS_PREFIX``: prefix of remise's Redis keys and channel (default
  ``remise``), for deployments that share one Redis.
* ``REMISE_BUNDLE_KEYS_DIR``: the Ed25519 keys that sign device bundles
  (default ``bundle-keys`` in the data folder; created on first use).
* ``REMISE_BUNDLE_VALID_HOURS``: how long a bundle may be used offline
  (default 72).
* ``REMISE_POLL_SECONDS``: how often a process checks the database for a new
  live version: default 2 s without Redis; with Redis the check is only a
  safety net behind pub/sub and defaults to 30 s.
* ``REMISE_PREPARE_AHEAD_SECONDS``: how long before each hour turns a server
  builds the next hour's index slices (default 60; 0 turns it off, and the
  first basket of each hour builds them), see rules/ahead.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from redis.connection import parse_url

from .db import redact_url
from .errors import InvalidRequest

DEFAULT_DATA_DIR = "remise-data"
POLL_SECONDS_WITHOUT_REDIS = 2.0
POLL_SECONDS_WITH_REDIS = 30.0
PREPARE_AHEAD_SECONDS = 60.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    redis_prefix: str
    poll_seconds: float
    data_dir: Path
    embedded: bool  # the database is the default SQLite file in the data folder
    bundle_keys_dir: Path | None = None  # None: bundle-keys in the data folder
    bundle_valid_hours: float = 72.0
    prepare_ahead_seconds: float = PREPARE_AHEAD_SECONDS  # 0: off

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("REMISE_DATA_DIR") or DEFAULT_DATA_DIR)
        url = env.get("REMISE_DATABASE_URL") or ""
        redis_url = _redis_url(env.get("REMISE_REDIS_URL"))
        default_poll = POLL_SECONDS_WITH_REDIS if redis_url else POLL_SECONDS_WITHOUT_REDIS
        return cls(
            database_url=url or f"sqlite:///{(data_dir / 'remise.db').as_posix()}",
            redis_url=redis_url,
            redis_prefix=env.get("REMISE_REDIS_PREFIX") or "remise",
            poll_seconds=_seconds(env.get("REMISE_POLL_SECONDS"), default_poll),
            data_dir=data_dir,
            embedded=not url,
            bundle_keys_dir=Path(env.get("REMISE_BUNDLE_KEYS_DIR") or data_dir / "bundle-keys"),
            bundle_valid_hours=_hours(env.get("REMISE_BUNDLE_VALID_HOURS")),
            prepare_ahead_seconds=_lead(env.get("REMISE_PREPARE_AHEAD_SECONDS")),
        )

    @property
    def signing_keys_dir(self) -> Path:
        return self.bundle_keys_dir or self.data_dir / "bundle-keys"


def _redis_url(text: str | None) -> str | None:
    """A Redis URL as redis-py reads it, refused at once naming the setting: its error
    came when the server started following Redis, without saying which setting."""
    if not text:
        return None
    try:
        parse_url(text)
    except ValueError as error:
        raise InvalidRequest(f"REMISE_REDIS_URL={redact_url(text)!r}: {error}") from None
    return text


def _hours(text: str | None) -> float:
    if not text:
        return 72.0
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequest(f"REMISE_BUNDLE_VALID_HOURS={text!r} is not a number") from None
    # A bundle is issued at the start of its hour, and its validity counts from there:
    # under an hour, the server would hand out bundles that expired within the hour.
    if not 1 <= value <= 24 * 90:
        raise InvalidRequest(f"REMISE_BUNDLE_VALID_HOURS={text!r} must be at least 1 (bundles "
                             "are issued per hour, valid from the hour's start) and at most "
                             "2160 (90 days)")
    return value


def _seconds(text: str | None, default: float) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequest(f"REMISE_POLL_SECONDS={text!r} is not a number of seconds") from None
    if not 0.05 <= value <= 3600:
        raise InvalidRequest(f"REMISE_POLL_SECONDS={text!r} must be between 0.05 and 3600")
    return value


def _lead(text: str | None) -> float:
    if not text:
        return PREPARE_AHEAD_SECONDS
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequest(f"REMISE_PREPARE_AHEAD_SECONDS={text!r} is not a number of "
                             "seconds") from None
    # An hour or more ahead, the hour prepared would be later than the next one, and
    # preparing it could evict the slices of the hour in progress (Evaluator.prepare).
    if not 0 <= value < 3600:
        raise InvalidRequest(f"REMISE_PREPARE_AHEAD_SECONDS={text!r} must be at least 0 (off) "
                             "and below 3600")
    return value


__all__ = ["Settings"]
