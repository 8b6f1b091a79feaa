"""Reading the append-only audit log: filtered, paged, and as CSV for finance.

Nothing here (or anywhere in remise) updates or deletes an entry; the
database triggers installed by the first migration refuse it as well.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from .models import AuditRow, RuleSetRow

CSV_COLUMNS = ("id", "at", "actor", "action", "ruleset", "version", "message", "address",
               "details")
MAX_PAGE = 1000
# Every action the log holds (docs/store.md): a change that writes a new one adds it here,
# or a filter on it is refused.
ACTIONS = ("publish", "rollback", "key_create", "key_revoke", "bundle_key_add",
           "bundle_key_activate", "bundle_key_retire")

# A text cell a spreadsheet would run as a formula starts with one of these (OWASP, CSV
# injection); a publish message "=HYPERLINK(...)" must reach finance as text. The
# apostrophe is on the list too, so that a cell starting with one always had one added:
# dropping one leading apostrophe restores any cell exactly.
NEUTRALISED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    ruleset: str | None
    version: int | None
    message: str
    address: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditQuery:
    ruleset: str | None = None
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after_id: int = 0  # paging: entries with a larger id
    limit: int = 100


# Entries are dated to the microsecond; an instant may be written finer (.NET writes
# seven digits, Java nine), and reading it keeps the microseconds only.
_FRACTION = re.compile(r"\.([0-9]+)")
MICROSECOND = timedelta(microseconds=1)


def bound_instant(text: str, instant: datetime) -> datetime:
    """``instant``, read from ``text``, as a ``since`` or ``until`` bound: the first whole
    microsecond at or after what ``text`` wrote, which every entry compares with exactly.
    Cut down to its microsecond instead, `since=...06.8168031Z` took in an entry of
    06.816803, before it, and `until` left out one before it."""
    fraction = _FRACTION.search(text)
    below = fraction.group(1)[6:] if fraction else ""
    return instant + MICROSECOND if below.strip("0") else instant


def audit_entries(db: Engine, query: AuditQuery = AuditQuery()) -> list[AuditEntry]:
    """Entries oldest first, at most ``query.limit`` (capped at 1,000) after ``after_id``."""
    statement = select(AuditRow).where(AuditRow.id > query.after_id)
    for column, value in ((AuditRow.ruleset, query.ruleset), (AuditRow.action, query.action),
                          (AuditRow.actor, query.actor)):
        if value is not None:
            statement = statement.where(column == value)
    if query.since is not None:
        statement = statement.where(AuditRow.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditRow.at < query.until)
    statement = statement.order_by(AuditRow.id).limit(max(1, min(query.limit, MAX_PAGE)))
    with Session(db) as session:
        return [_entry(row) for row in session.scalars(statement)]


def unknown_ruleset(db: Engine, name: str) -> str | None:
    """Why ``name`` cannot filter the log: there is no rule set by that name (rule sets
    are never deleted, so a misspelt one would only answer an empty log). None when
    there is one."""
    with Session(db) as session:
        names = list(session.scalars(select(RuleSetRow.name).order_by(RuleSetRow.name)))
    if name in names:
        return None
    return f"no rule set named {name!r}; rule sets: {', '.join(names) or 'none yet'}"


def all_audit_entries(db: Engine, query: AuditQuery = AuditQuery()) -> Iterator[AuditEntry]:
    """Every matching entry, fetched page by page (for exports)."""
    after = query.after_id
    while True:
        page = audit_entries(db, AuditQuery(query.ruleset, query.action, query.actor,
                                            query.since, query.until, after, MAX_PAGE))
        yield from page
        if len(page) < MAX_PAGE:
            return
        after = page[-1].id


def as_text_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it without running it: behind an apostrophe
    when it starts like a formula (or with an apostrophe, ``NEUTRALISED_STARTS``)."""
    return "'" + value if value.startswith(NEUTRALISED_STARTS) else value


def audit_csv(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """RFC 4180 CSV, header first; instants in ISO-8601 UTC, details as JSON; every text
    cell neutralised with ``as_text_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = [entry.id, entry.at.isoformat(), entry.actor, entry.action, entry.ruleset or "",
               "" if entry.version is None else entry.version, entry.message,
               entry.address or "", json.dumps(entry.details, sort_keys=True)]
        writer.writerow([as_text_cell(c) if isinstance(c, str) else c for c in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.actor, row.action, row.ruleset, row.version,
                      row.message, row.address, json.loads(row.details))


__all__ = ["ACTIONS", "AuditEntry", "AuditQuery", "all_audit_entries", "as_text_cell",
           "audit_csv", "audit_entries", "bound_instant", "unknown_ruleset"]
