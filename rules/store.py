"""The rule store: rule sets as chains of immutable versions.

Publishing compiles first (a source that does not compile writes nothing),
then appends version ``parent + 1`` and its audit entry in one transaction.
The unique (rule set, number) constraint makes the database the referee: of
two publishes on the same parent exactly one commits, the other is told it
is stale (``Conflict``). A publish without a stated parent goes on top of
whatever is latest, retrying if it loses a race, so it never fails on a
conflict and never leaves a gap.

Each rule of a published version carries its ``revision``, the version in
which it last changed (``rules.revisions``), filled in against the version it
goes on top of, in the transaction that appends it.

The latest version is the live one. ``live_from`` is when it went live: the
clock read in the transaction that writes it, once its rule set is locked and
its rules compiled (compiling 10,000 rules takes seconds, during which the
previous version still prices every basket). It is also the version's
``created_at`` and its audit entry's ``at``. It is always later than the
previous version's, by a microsecond at least, even if a publisher's clock is
behind the previous one's, so every version is live for some time and "which
version was live at T" always has one answer.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

import dsl
import engine as runtime
from engine.ir import AbsoluteWindow, Rule

from .errors import Conflict, InvalidRequest, NotFound, SourceRejected, UnreadableVersion
from .models import AuditRow, RuleSetRow, VersionRow
from .revisions import Previous, previous_rules, stamp_revisions, stamp_rule

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_VERSION = 2_147_483_647  # 32-bit integers in every database
MAX_RETRIES = 50  # publishes without a parent retry this often before giving up
MICROSECOND = timedelta(microseconds=1)  # the finest instant every database keeps
AUDIT_ORDER_LOCK = 0x72656D6973653A61  # "remise:a" in ASCII: the key of lock_audit_order


@dataclass(frozen=True)
class VersionSummary:
    ruleset: str
    number: int
    parent: int | None
    content_hash: str
    rule_count: int
    author: str
    message: str
    created_at: datetime
    live_from: datetime
    rollback_of: int | None


@dataclass(frozen=True)
class Version(VersionSummary):
    sources: dict[str, str] = field(repr=False)
    ir_json: str = field(repr=False)

    def ruleset_ir(self) -> runtime.RuleSet:
        """The compiled rules, stamped with this version's number and content hash."""
        try:
            ruleset = runtime.load_ruleset(self.ir_json)
        except runtime.IRError as error:
            raise UnreadableVersion(self.ruleset, self.number, str(error)) from None
        return ruleset.model_copy(
            update={"version": self.number, "content_hash": self.content_hash})


@dataclass(frozen=True)
class LivePeriod:
    version: int
    start: datetime
    end: datetime | None  # None: still live


@dataclass(frozen=True)
class RuleSetInfo:
    name: str
    live_version: int  # also the number of versions: the chain has no gap
    live_from: datetime


@dataclass(frozen=True)
class _Content:
    """What a new version carries, exactly as it will be stored (a rollback's copy of
    an old version: its rules keep the revisions and the `from publish` instants they
    had)."""

    sources: dict[str, str]
    ir_json: str
    content_hash: str
    rule_count: int

    def on_top_of(self, previous_ir_json: str | None, number: int) -> _Content:
        """Stored as it is, whatever version it goes on top of..."""
        return self

    def going_live(self, live_from: datetime) -> _Content:
        """... and whenever it goes live."""
        return self


@dataclass(frozen=True)
class _Compiled:
    """Freshly compiled rules: their revisions depend on the version they go on top of,
    known only inside the transaction that appends them (a publish without a parent
    may retry on top of a newer one)."""

    sources: dict[str, str]
    ruleset: runtime.RuleSet
    compiled_at: datetime  # the start of its `from publish` windows (compile_instant)

    def on_top_of(self, previous_ir_json: str | None, number: int) -> _Stamped:
        """As version ``number``, on top of the version whose IR is given (None: the
        first version). The slow part (a second at 10,000 rules), so it runs before
        the clock that dates the version is read."""
        before = previous_rules(previous_ir_json)
        return _Stamped(self.sources, stamp_revisions(self.ruleset, before, number),
                        self.compiled_at, before, number)


@dataclass(frozen=True)
class _Stamped:
    """Compiled rules with their revisions, `from publish` windows still at the instant
    they were compiled with."""

    sources: dict[str, str]
    ruleset: runtime.RuleSet
    compiled_at: datetime
    before: Previous
    number: int

    def going_live(self, live_from: datetime) -> _Content:
        """The content of the version live from ``live_from``."""
        # A rule whose windows moved is stamped again: its revision follows what is stored.
        ruleset = start_publish_windows(self.ruleset, self.compiled_at, live_from,
                                        lambda rule: stamp_rule(rule, self.before, self.number))
        ir_json = ruleset.to_json()
        # Hashed as stored, revisions included: they decide ties between price rules.
        return _Content(self.sources, ir_json, content_hash(ir_json), len(ruleset.rules))


def compile_instant(now: datetime) -> datetime:
    """``now``, or a microsecond later if it is a whole second: the instant to compile
    `from publish` windows with. A written window starts on a whole minute (the
    language has no seconds), so a window starting at this instant is one of them."""
    return now if now.microsecond else now + MICROSECOND


def start_publish_windows(ruleset: runtime.RuleSet, compiled_at: datetime,
                          live_from: datetime,
                          moved: Callable[[Rule], Rule] = lambda rule: rule) -> runtime.RuleSet:
    """``ruleset``, compiled at ``compiled_at``, with its `from publish` windows moved to
    start at ``live_from`` (known only once the version is written, after the compile,
    which is too slow to run again then); ``moved`` is applied to each rule moved."""
    shift = live_from - compiled_at
    if not shift:
        return ruleset
    rules = tuple(_shift_publish_windows(rule, compiled_at, shift, moved)
                  for rule in ruleset.rules)
    return ruleset.model_copy(update={"rules": rules})


def _shift_publish_windows(rule: Rule, compiled_at: datetime, shift: timedelta,
                           moved: Callable[[Rule], Rule]) -> Rule:
    def from_publish(window: object) -> bool:
        return isinstance(window, AbsoluteWindow) and window.start == compiled_at

    if not any(map(from_publish, rule.windows)):
        return rule
    windows = tuple(window.model_copy(update={"start": window.start + shift,
                                              "end": window.end + shift})
                    if from_publish(window) else window for window in rule.windows)
    return moved(rule.model_copy(update={"windows": windows}))


def content_hash(ir_json: str) -> str:
    """SHA-256 of the canonical IR JSON as stored (revisions included): equal rules,
    equal hash."""
    return hashlib.sha256(ir_json.encode("utf-8")).hexdigest()


RESERVED_NAMES = frozenset({"keys"})  # /v1/bundles/keys lists signing keys


def check_name(name: str) -> str:
    if name in RESERVED_NAMES:
        raise InvalidRequest(f"rule set name {name!r} is reserved; choose another", "ruleset")
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(
            f"rule set name {name!r} is not allowed: use 1 to 64 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit (e.g. fr, be-web)", "ruleset")
    return name


MAX_AUTHOR = 200  # characters: the audit log's actor column


def _check_text(what: str, text: str, limit: int = 2000) -> str:
    text = text.strip()
    if not text:
        raise InvalidRequest(f"{'an' if what[0] in 'aeiou' else 'a'} {what} is required", what)
    if len(text) > limit:
        raise InvalidRequest(f"the {what} is longer than {limit} characters", what)
    return text



def _refuse_rolling_back_to_the_live(ruleset: str, to: int, head: VersionRow,
                                     content: _Content | _Compiled) -> None:
    """A rollback to what is live already writes a version that changes nothing: read in
    the transaction that appends, so two rollbacks racing to one version make one."""
    if head.number == to:
        raise InvalidRequest(f"version {to} of {ruleset!r} is already live: nothing to roll "
                             "back", "to")
    if isinstance(content, _Content) and head.content_hash == content.content_hash:
        raise InvalidRequest(f"version {to} of {ruleset!r} is already live, as version "
                             f"{head.number}: nothing to roll back", "to")

class RuleStore:
    """Rule sets, versions and the audit log in one SQL database."""

    def __init__(
        self,
        db: Engine,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self._clock = clock or (lambda: datetime.now(UTC))
        # Called after a version is committed (fan-out to other processes).
        self.listeners: list[Callable[[Version], None]] = []

    # --- writing -------------------------------------------------------------------

    def publish(
        self,
        ruleset: str,
        sources: Mapping[str, str],
        *,
        message: str,
        author: str,
        parent: int | None = None,
        address: str | None = None,
    ) -> Version:
        """Compile ``sources`` and make them the live version of ``ruleset``.

        ``parent`` is the version the change was based on (0 for a new rule
        set); None means "on top of whatever is latest".
        """
        check_name(ruleset)
        message = _check_text("message", message)
        author = _check_text("author", author, MAX_AUTHOR)
        if parent is not None and not 0 <= parent <= MAX_VERSION:
            raise InvalidRequest(f"parent {parent} is not a version number", "parent")
        compiled_at = compile_instant(self._clock())
        try:
            compiled = dsl.compile_sources(sources, publish_at=compiled_at)
        except dsl.DslError as error:
            raise SourceRejected(error.diagnostics) from None
        return self._append(ruleset, _Compiled(dict(sources), compiled, compiled_at),
                            message=message, author=author, parent=parent, address=address,
                            rollback_of=None)

    def rollback(
        self,
        ruleset: str,
        to: int,
        *,
        message: str,
        author: str,
        parent: int | None = None,
        address: str | None = None,
    ) -> Version:
        """Make version ``to``'s exact content live again, as a new version.

        The IR is copied, not recompiled: the rules come back exactly as they
        were, instants of `from publish` windows and revisions included (ties
        between price rules go as they went in that version).
        """
        message = _check_text("message", message)
        author = _check_text("author", author, MAX_AUTHOR)
        if parent is not None and not 1 <= parent <= MAX_VERSION:  # a rollback needs a version
            raise InvalidRequest(f"parent {parent} is not a version number", "parent")
        target = self.version(ruleset, to)
        # Copied as stored, so read first: a version this remise cannot read (an older
        # release stored one) would be live in the database and served by no process.
        target.ruleset_ir()
        content = _Content(target.sources, target.ir_json, target.content_hash,
                           target.rule_count)
        return self._append(ruleset, content, message=f"rollback to version {to}: {message}",
                            author=author, parent=parent, address=address, rollback_of=to)

    def _append(self, ruleset: str, content: _Content | _Compiled, *, message: str,
                author: str, parent: int | None, address: str | None,
                rollback_of: int | None) -> Version:
        for _attempt in range(MAX_RETRIES):
            try:
                version = self._append_once(ruleset, content, message=message, author=author,
                                            parent=parent, address=address,
                                            rollback_of=rollback_of)
            except IntegrityError:
                # Another publish took the number (or created the rule set) first.
                if parent is not None:
                    raise Conflict(ruleset, parent, self._head_number(ruleset)) from None
                continue
            for listener in self.listeners:
                listener(version)
            return version
        raise Conflict(ruleset, parent, self._head_number(ruleset))

    def _append_once(self, ruleset: str, content: _Content | _Compiled, *, message: str,
                     author: str, parent: int | None, address: str | None,
                     rollback_of: int | None) -> Version:
        with Session(self.db) as session, session.begin():
            row = self._locked_ruleset(session, ruleset)
            head = session.scalars(select(VersionRow).where(VersionRow.ruleset_id == row.id)
                                   .order_by(VersionRow.number.desc()).limit(1)).first()
            head_number = head.number if head else 0
            if parent is not None and parent != head_number:
                raise Conflict(ruleset, parent, head_number)
            if rollback_of is not None and head is not None:
                _refuse_rolling_back_to_the_live(ruleset, rollback_of, head, content)
            # Revisions are filled in against the head read in this transaction: the
            # parent when one was given, else whatever is latest.
            stamped = content.on_top_of(head.ir if head else None, head_number + 1)
            live_from = self._live_from(head)
            stored = stamped.going_live(live_from)
            version_row = VersionRow(
                ruleset_id=row.id, number=head_number + 1, parent=head_number or None,
                sources=json.dumps(stored.sources, sort_keys=True), ir=stored.ir_json,
                content_hash=stored.content_hash, rule_count=stored.rule_count,
                author=author, message=message, created_at=live_from, live_from=live_from,
                rollback_of=rollback_of)
            session.add(version_row)
            session.flush()
            lock_audit_order(session)
            session.add(_audit_row(version_row, ruleset, address))
            return _version(version_row, ruleset)

    def _locked_ruleset(self, session: Session, ruleset: str) -> RuleSetRow:
        """The rule set's row, locked until the transaction ends (created if missing).

        On PostgreSQL a second publish waits here for the first to commit, so it reads
        the new head and a later clock instead of losing on the version number and
        stamping its revisions again (SQLite has no row locks; its writers take turns
        on the database, and a loser retries).
        """
        query = select(RuleSetRow).where(RuleSetRow.name == ruleset).with_for_update()
        row = session.scalars(query).first()
        if row is None:
            row = RuleSetRow(name=ruleset, created_at=self._clock())
            session.add(row)
            session.flush()
        return row

    def _live_from(self, head: VersionRow | None) -> datetime:
        """Now, read after the compile and the lock; but after the head's own instant, so
        that no version is live for no time at all, whatever this host's clock says."""
        now = self._clock()
        return now if head is None else max(now, head.live_from + MICROSECOND)

    def record(self, *, actor: str, action: str, message: str, address: str | None = None,
               ruleset: str | None = None, details: Mapping[str, Any] | None = None,
               session: Session | None = None) -> None:
        """Append an audit entry for a change that is not a version (e.g. API keys).

        Given the ``session`` that makes the change, the entry joins its transaction:
        the change and its entry commit together or not at all (a process killed
        between two transactions would leave a change nobody can account for).
        """
        if session is not None:
            self._add_entry(session, actor, action, message, address, ruleset, details)
            return
        with Session(self.db) as own, own.begin():
            self._add_entry(own, actor, action, message, address, ruleset, details)

    def _add_entry(self, session: Session, actor: str, action: str, message: str,
                   address: str | None, ruleset: str | None,
                   details: Mapping[str, Any] | None) -> None:
        lock_audit_order(session)
        session.add(AuditRow(at=self._clock(), actor=actor, action=action, ruleset=ruleset,
                             version=None, message=message, address=address,
                             details=json.dumps(dict(details or {}), sort_keys=True)))

    # --- reading -------------------------------------------------------------------

    def rulesets(self) -> list[RuleSetInfo]:
        """Every rule set with its live version."""
        latest = (select(VersionRow.ruleset_id, func.max(VersionRow.number).label("number"))
                  .group_by(VersionRow.ruleset_id).subquery())
        query = (select(RuleSetRow.name, VersionRow.number, VersionRow.live_from)
                 .join(VersionRow, VersionRow.ruleset_id == RuleSetRow.id)
                 .join(latest, (latest.c.ruleset_id == VersionRow.ruleset_id)
                       & (latest.c.number == VersionRow.number))
                 .order_by(RuleSetRow.name))
        with Session(self.db) as session:
            return [RuleSetInfo(name, number, live_from)
                    for name, number, live_from in session.execute(query)]

    def latest(self, ruleset: str) -> Version | None:
        """The live version (None for a rule set never published)."""
        with Session(self.db) as session:
            row = session.scalars(self._versions_of(ruleset)
                                  .order_by(VersionRow.number.desc()).limit(1)).first()
            return _version(row, ruleset) if row else None

    def latest_numbers(self) -> dict[str, int]:
        """The live version number of every rule set, in one cheap query (polling)."""
        query = (select(RuleSetRow.name, func.max(VersionRow.number))
                 .join(VersionRow, VersionRow.ruleset_id == RuleSetRow.id)
                 .group_by(RuleSetRow.name))
        with Session(self.db) as session:
            return {name: number for name, number in session.execute(query)}

    def version(self, ruleset: str, number: int) -> Version:
        if not 1 <= number <= MAX_VERSION:
            raise NotFound(f"rule set {ruleset!r} has no version {number}")
        with Session(self.db) as session:
            row = session.scalars(self._versions_of(ruleset)
                                  .where(VersionRow.number == number)).first()
            if row is None:
                raise self._missing(session, ruleset, number)
            return _version(row, ruleset)

    def version_stamp(self, ruleset: str, number: int) -> tuple[str, datetime] | None:
        """Version ``number``'s content hash and live-from instant, without its IR and
        source (None: no such version): what an announcement is checked against."""
        query = (select(VersionRow.content_hash, VersionRow.live_from)
                 .join(RuleSetRow, VersionRow.ruleset_id == RuleSetRow.id)
                 .where(RuleSetRow.name == ruleset, VersionRow.number == number))
        with Session(self.db) as session:
            row = session.execute(query).first()
        return (row[0], row[1]) if row else None

    def versions(self, ruleset: str) -> list[VersionSummary]:
        """The whole chain, oldest first, without each version's IR and source: at 10,000
        rules a version holds about 4 MB of them, and every publish's answer lists the
        chain."""
        with Session(self.db) as session:
            rows = session.scalars(self._versions_of(ruleset)
                                   .options(defer(VersionRow.ir), defer(VersionRow.sources))
                                   .order_by(VersionRow.number)).all()
            if not rows:
                raise self._missing(session, ruleset, None)
            return [_summary(row, ruleset) for row in rows]

    def live_at(self, ruleset: str, at: datetime) -> Version | None:
        """The version that was live at instant ``at`` (None: before the first one)."""
        if at.tzinfo is None:
            raise InvalidRequest("the instant needs a UTC offset, e.g. 2026-11-23T14:10:00+01:00")
        with Session(self.db) as session:
            row = session.scalars(self._versions_of(ruleset)
                                  .where(VersionRow.live_from <= at)
                                  .order_by(VersionRow.live_from.desc(),
                                            VersionRow.number.desc()).limit(1)).first()
            if row is None:
                self._require_ruleset(session, ruleset)
            return _version(row, ruleset) if row else None

    def live_periods(self, ruleset: str) -> list[LivePeriod]:
        """When each version was live: from its own start to the next one's."""
        chain = self.versions(ruleset)
        periods = [LivePeriod(v.number, v.live_from, after.live_from)
                   for v, after in itertools.pairwise(chain)]
        periods.append(LivePeriod(chain[-1].number, chain[-1].live_from, None))
        return periods

    def _head_number(self, ruleset: str) -> int:
        latest = self.latest(ruleset)
        return latest.number if latest else 0

    @staticmethod
    def _versions_of(ruleset: str) -> Any:
        return (select(VersionRow).join(RuleSetRow, VersionRow.ruleset_id == RuleSetRow.id)
                .where(RuleSetRow.name == ruleset))

    @staticmethod
    def _require_ruleset(session: Session, ruleset: str) -> None:
        if session.scalar(select(RuleSetRow.id).where(RuleSetRow.name == ruleset)) is None:
            raise NotFound(f"no rule set named {ruleset!r}")

    def _missing(self, session: Session, ruleset: str, number: int | None) -> NotFound:
        self._require_ruleset(session, ruleset)
        head = self._head_number(ruleset)
        return NotFound(f"rule set {ruleset!r} has no version {number} (versions 1 to {head})")


def lock_audit_order(session: Session) -> None:
    """Make the audit entry about to be inserted in this transaction visible only after
    every entry with a smaller id: call it right before adding the entry.

    On PostgreSQL an entry's id comes from a sequence when it is inserted, but the
    entry is seen by others when its transaction commits. Two writers could commit
    out of order, and a reader paging with ``after=<id>`` who saw id 9 would never
    see id 8, committed a moment later. Holding this lock from the insert to the
    commit (a transaction-scoped advisory lock, released by the commit) makes ids
    commit in order. On SQLite a writer holds the whole database from its first write
    to its commit already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(AUDIT_ORDER_LOCK)))


def _audit_row(row: VersionRow, ruleset: str, address: str | None) -> AuditRow:
    details: dict[str, Any] = {"content_hash": row.content_hash, "parent": row.parent,
                               "rules": row.rule_count, "live_from": row.live_from.isoformat()}
    if row.rollback_of is not None:
        details["rollback_of"] = row.rollback_of
    return AuditRow(at=row.created_at, actor=row.author,
                    action="rollback" if row.rollback_of is not None else "publish",
                    ruleset=ruleset, version=row.number, message=row.message, address=address,
                    details=json.dumps(details, sort_keys=True))


def _summary(row: VersionRow, ruleset: str) -> VersionSummary:
    return VersionSummary(ruleset, row.number, row.parent, row.content_hash, row.rule_count,
                          row.author, row.message, row.created_at, row.live_from,
                          row.rollback_of)


def _version(row: VersionRow, ruleset: str) -> Version:
    return Version(ruleset, row.number, row.parent, row.content_hash, row.rule_count,
                   row.author, row.message, row.created_at, row.live_from, row.rollback_of,
                   sources=json.loads(row.sources), ir_json=row.ir)


__all__ = [
    "MAX_AUTHOR",
    "LivePeriod",
    "RuleSetInfo",
    "RuleStore",
    "Version",
    "VersionSummary",
    "check_name",
    "content_hash",
    "lock_audit_order",
]
