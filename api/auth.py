"""API keys and roles.

A key is ``rk_`` plus 43 random URL-safe characters (256 bits), sent as
``Authorization: Bearer <key>``. Only its SHA-256 is stored: keys are random,
so a plain hash is as strong as a password hash and costs one microsecond
per request. Lookups are cached for ``CACHE_SECONDS`` so the evaluate path does
not touch the database; a revoked key therefore stops working within that
time in every process. While the database cannot be reached, a key this process
already knew keeps its last verdict for up to ``OUTAGE_SECONDS`` (15 minutes), so
tills go on pricing on the live versions (a revocation reaches the process once the
database is back). A basket waits at most ``ANSWER_SECONDS`` for the database's
verdict on its key (a hung server, or a silent network, held a pooled connection's read
for ever and a new connection's for its 10 s timeout), and once a lookup has failed the
next ones do not wait at all: a background check asks again every ``RETRY_SECONDS``
until the database answers.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

import rules
from rules.models import ApiKeyRow
from rules.store import NAME_PATTERN

ROLES = ("marketer", "finance", "channel", "device", "admin")
KEY_PREFIX = "rk_"
CACHE_SECONDS = 5.0
# While the database is down, a key this process knew keeps its last verdict so the
# tills go on pricing, for this long past the verdict's expiry: a key revoked just
# before an outage must not work for all of it.
OUTAGE_SECONDS = 900.0
MAX_CACHED = 10_000  # verdicts; past it, those on unknown keys go
# How often, while the database does not answer, one background check asks it again.
RETRY_SECONDS = 5.0
# How long a basket waits for the database's verdict on its key (a read takes a
# millisecond), and how many reads may be waiting on a database that does not answer.
ANSWER_SECONDS = 2.0
MAX_WAITING_READS = 8

# What each role may do; admin may do everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    "evaluate": frozenset({"channel", "finance", "admin"}),
    "author": frozenset({"marketer", "admin"}),
    "read": frozenset({"marketer", "finance", "admin"}),
    "audit": frozenset({"finance", "admin"}),
    "keys": frozenset({"admin"}),
    "bundles": frozenset({"device", "admin"}),
    # A price on another version than the live one (`version`, `replay`) is finance's:
    # a channel key sits in every till and app, and an old version's promotions must
    # not be a request away from a customer's basket.
    "replay": frozenset({"finance", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: str
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class KeyExists(rules.InvalidRequest):
    """A key by that name exists already (revoked ones included: names are not reused)."""


class KeyRevoked(rules.InvalidRequest):
    """The key was revoked already: nothing left to revoke."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """API keys in the rule store's database; every change goes to the audit log."""

    def __init__(self, store: rules.RuleStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()
        # The last lookup's failure while the database does not answer (None: it does),
        # and when it was last asked.
        self._failure: SQLAlchemyError | None = None
        self._asked_at = 0.0
        self._checking = False
        self._waiting_reads = 0

    def create(self, name: str, role: str, *, created_by: str,
               address: str | None = None) -> str:
        """Create a key and return it; it is shown this once and never stored."""
        # Not rules.check_name: a key may be named `keys`, which only rule sets may not.
        if not NAME_PATTERN.fullmatch(name):
            raise rules.InvalidRequest(
                f"key name {name!r} is not allowed: use 1 to 64 lower-case letters, digits, "
                "'-' or '_', starting with a letter or digit (e.g. till-paris)")
        if role not in ROLES:
            raise rules.InvalidRequest(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        # The key and its audit entry in one transaction: never a key nobody created.
        with Session(self.store.db) as session, session.begin():
            session.add(ApiKeyRow(name=name, role=role, key_hash=hash_key(key),
                                  prefix=key[:8], created_at=datetime.now(UTC),
                                  created_by=created_by))
            try:
                session.flush()
            except IntegrityError:
                raise KeyExists(f"a key named {name!r} already exists") from None
            self.store.record(actor=created_by, action="key_create", address=address,
                              message=f"created {role} key {name!r}",
                              details={"name": name, "role": role, "prefix": key[:8]},
                              session=session)
        return key

    def revoke(self, name: str, *, revoked_by: str, address: str | None = None) -> None:
        with Session(self.store.db) as session, session.begin():
            # One conditional UPDATE, not read-then-write: of two revocations at once,
            # the second waits for the first's row lock, then matches nothing.
            role = session.scalar(
                update(ApiKeyRow)
                .where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
                .returning(ApiKeyRow.role))
            if role is None:
                self._refuse_revocation(session, name)
            # In the revocation's transaction: never a key revoked without a trace.
            self.store.record(actor=revoked_by, action="key_revoke", address=address,
                              message=f"revoked {role} key {name!r}",
                              details={"name": name, "role": role}, session=session)
        with self._lock:
            self._cache.clear()

    @staticmethod
    def _refuse_revocation(session: Session, name: str) -> NoReturn:
        if session.scalar(select(ApiKeyRow.name).where(ApiKeyRow.name == name)) is None:
            raise rules.NotFound(f"no key named {name!r}")
        raise KeyRevoked(f"the key {name!r} is already revoked")

    def list_keys(self) -> list[KeyInfo]:
        with Session(self.store.db) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name)).all()
            return [KeyInfo(r.name, r.role, r.prefix, r.created_at, r.created_by, r.revoked_at)
                    for r in rows]

    def has_active_admin(self) -> bool:
        return any(k.role == "admin" and k.revoked_at is None for k in self.list_keys())

    def cached(self, key: str) -> tuple[bool, Principal | None]:
        """(known, principal) from the cache alone: never touches the database."""
        found = self._cache.get(hash_key(key))
        if found is None or found[0] < time.monotonic():
            return False, None
        return True, found[1]

    def lookup(self, key: str) -> Principal | None:
        """The key's owner, or None for an unknown or revoked key."""
        digest = hash_key(key)
        remembered = self._cache.get(digest)
        if remembered is not None and remembered[0] >= time.monotonic():
            return remembered[1]
        if self._failure is not None:  # not answering: wait on it for no basket
            self._check_in_background()
            return self._last_verdict(remembered, self._failure)
        try:
            principal = self._read_in_time(digest)
        except SQLAlchemyError as error:
            self._failure, self._asked_at = error, time.monotonic()
            return self._last_verdict(remembered, error)
        with self._lock:
            if len(self._cache) > MAX_CACHED:
                self._forget_strangers()
            self._cache[digest] = (time.monotonic() + CACHE_SECONDS, principal)
        return principal

    @staticmethod
    def _last_verdict(remembered: tuple[float, Principal | None] | None,
                      failure: SQLAlchemyError) -> Principal | None:
        """While the database does not answer, the last verdict on a key stands; a key
        never seen, or not seen for long, cannot be checked: the caller answers 503."""
        if remembered is None or remembered[0] + OUTAGE_SECONDS < time.monotonic():
            # a new error each time: the stored one may be raised by several threads at once
            raise OperationalError("reading an API key", None,
                                   getattr(failure, "orig", None) or failure)
        return remembered[1]

    def _check_in_background(self) -> None:
        """Ask the database again, once per ``RETRY_SECONDS`` and one check at a time,
        from a thread of its own: the lookups go to it again once it answers."""
        with self._lock:
            if self._checking or time.monotonic() - self._asked_at < RETRY_SECONDS:
                return
            self._checking, self._asked_at = True, time.monotonic()
        threading.Thread(target=self._check, name="remise-keys-check", daemon=True).start()

    def _check(self) -> None:
        try:
            self._read_in_time("")  # no key hashes to "": one indexed read, nothing found
            self._failure = None
        except SQLAlchemyError as error:
            self._failure = error
        finally:
            self._asked_at, self._checking = time.monotonic(), False

    def _read_in_time(self, digest: str) -> Principal | None:
        """``_from_database``, from a thread of its own, given up after ``ANSWER_SECONDS``
        (OperationalError, as any database failure): the read itself cannot be
        interrupted, so at most ``MAX_WAITING_READS`` are left waiting."""
        with self._lock:
            if self._waiting_reads >= MAX_WAITING_READS:
                raise _not_answering("its earlier reads are still waiting")
            self._waiting_reads += 1
        answer: list[Principal | SQLAlchemyError | None] = []
        done = threading.Event()

        def read() -> None:
            try:
                answer.append(self._from_database(digest))
            except SQLAlchemyError as error:
                answer.append(error)
            finally:
                with self._lock:
                    self._waiting_reads -= 1
                done.set()

        threading.Thread(target=read, name="remise-key-read", daemon=True).start()
        if not done.wait(ANSWER_SECONDS) or not answer:
            raise _not_answering(f"no answer within {ANSWER_SECONDS:g} s")
        if isinstance(answer[0], SQLAlchemyError):
            raise answer[0]
        return answer[0]

    def _forget_strangers(self) -> None:
        """Unknown keys must not grow the cache without bound, nor, by filling it, push
        out the tills' keys (a flood of made-up keys cleared it all): drop the verdicts
        on unknown keys and those past any use."""
        oldest = time.monotonic() - OUTAGE_SECONDS
        self._cache = {digest: (expiry, principal)
                       for digest, (expiry, principal) in self._cache.items()
                       if principal is not None and expiry >= oldest}

    def _from_database(self, digest: str) -> Principal | None:
        with Session(self.store.db) as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
            return (Principal(row.name, row.role)
                    if row is not None and row.revoked_at is None else None)


def _not_answering(why: str) -> OperationalError:
    return OperationalError("reading an API key", None,
                            TimeoutError(f"the database does not answer ({why})"))


__all__ = ["PERMISSIONS", "ROLES", "KeyExists", "KeyInfo", "KeyRevoked", "KeyStore", "Principal",
           "hash_key"]
