"""remise rules: the versioned rule store, its audit log and the live cache.

Imports point down only: rules uses dsl (to compile on publish) and engine
(to evaluate), never the api.
"""

from __future__ import annotations

from .audit import AuditEntry, AuditQuery, all_audit_entries, audit_csv, audit_entries
from .config import Settings
from .db import create_db_engine, current_revision, ensure_schema, head_revision, upgrade
from .diff import RuleChange, RuleSetDiff, SettingChange, diff_versions
from .errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    SchemaNotReady,
    SourceRejected,
    StoreError,
    UnreadableVersion,
)
from .live import Announcement, LiveCache, LiveRuleSet, RedisFanout
from .store import (
    LivePeriod,
    RuleSetInfo,
    RuleStore,
    Version,
    VersionSummary,
    check_name,
    content_hash,
)


def open_store(settings: Settings) -> RuleStore:
    """The rule store the settings point at.

    The embedded SQLite default creates or upgrades its own schema, so a
    newcomer needs no setup; a configured database must be migrated by its
    operator (``remise db upgrade``) and is refused until it is.
    """
    db = create_db_engine(settings.database_url)
    if settings.embedded:
        upgrade(db)
    else:
        ensure_schema(db)
    return RuleStore(db)


def follow_live(settings: Settings, store: RuleStore) -> LiveCache:
    """A live cache wired as the settings say: with Redis, this process announces
    its own publishes and follows everybody else's; without, it polls."""
    fanout = (RedisFanout(settings.redis_url, prefix=settings.redis_prefix)
              if settings.redis_url else None)
    if fanout is not None:
        store.listeners.append(fanout.announce)
    return LiveCache(store, fanout=fanout, poll_seconds=settings.poll_seconds)


__all__ = [
    "Announcement",
    "AuditEntry",
    "AuditQuery",
    "Conflict",
    "InvalidRequest",
    "LiveCache",
    "LivePeriod",
    "LiveRuleSet",
    "NotFound",
    "RedisFanout",
    "RuleChange",
    "RuleSetDiff",
    "RuleSetInfo",
    "RuleStore",
    "SchemaNotReady",
    "SettingChange",
    "Settings",
    "SourceRejected",
    "StoreError",
    "UnreadableVersion",
    "Version",
    "VersionSummary",
    "all_audit_entries",
    "audit_csv",
    "audit_entries",
    "check_name",
    "content_hash",
    "create_db_engine",
    "current_revision",
    "diff_versions",
    "ensure_schema",
    "follow_live",
    "head_revision",
    "open_store",
    "upgrade",
]
