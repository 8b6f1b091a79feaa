"""SQLAlchemy 2 models of the rule store.

Three tables: ``rulesets`` (one row per name), ``versions`` (the immutable
chain of each rule set) and ``audit_log`` (append-only). The migrations in
``rules/migrations`` create them and add database triggers that refuse any
UPDATE or DELETE of a version or an audit entry, so history cannot be
rewritten even by a bug or a hand-typed SQL statement.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every database.

    SQLite keeps no offset, so instants are stored in UTC and read back as UTC;
    PostgreSQL stores ``timestamptz``. Naive datetimes are refused: an instant
    without an offset is a bug waiting for a daylight-saving change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the rule store")
        instant = value.astimezone(UTC)
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class RuleSetRow(Base):
    __tablename__ = "rulesets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (
        # The chain's guard: two publishes on the same parent both try number
        # parent + 1, and the database lets exactly one of them in.
        UniqueConstraint("ruleset_id", "number", name="uq_versions_ruleset_number"),
        Index("ix_versions_ruleset_live_from", "ruleset_id", "live_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset_id: Mapped[int] = mapped_column(ForeignKey("rulesets.id"))
    number: Mapped[int]
    parent: Mapped[int | None]
    sources: Mapped[str] = mapped_column(Text)  # JSON object: file name -> text
    ir: Mapped[str] = mapped_column(Text)  # canonical IR JSON (engine.RuleSet)
    content_hash: Mapped[str] = mapped_column(String(64))
    rule_count: Mapped[int]
    author: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    live_from: Mapped[datetime] = mapped_column(UtcDateTime)
    rollback_of: Mapped[int | None]


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_ruleset_at", "ruleset", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    ruleset: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)  # JSON object


class ApiKeyRow(Base):
    """An API key of the HTTP API: only its SHA-256 is kept, never the key itself."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


__all__ = ["ApiKeyRow", "AuditRow", "Base", "RuleSetRow", "UtcDateTime", "VersionRow"]
