"""Issuing signed bundles for store devices (the device side is ``engine.bundle``).

A bundle carries the live version's rules that can apply to one channel and
store: rules limited to other channels or stores are left out, except rules
behind a coupon, which stay so that a coupon typed at the till gets the very
reason the server would give ("channel: only web"), not "unknown coupon".

Bundles are issued per hour: ``issued_at`` is the start of the current UTC
hour, so within the hour the same version gives the same bytes (and ETag, and
an HTTP 304), and a device that syncs every hour always holds a bundle whose
offline validity (``REMISE_BUNDLE_VALID_HOURS``, default 72) was renewed.

Signing keys are Ed25519 private keys in PEM files (``<key id>.pem``) in
``REMISE_BUNDLE_KEYS_DIR`` (default: ``bundle-keys`` in the data folder); the
file ``active`` names the key that signs. Every key in the folder is listed
by ``/v1/bundles/keys`` so devices can trust the next key before it signs.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import engine
from engine.bundle import BundleHeader, assemble, fingerprint_of, key_id_of
from engine.device import write_atomically
from engine.errors import shortened
from engine.ir import AbsoluteWindow, Rule

from .errors import InvalidRequest, NotFound, StoreError
from .store import RuleStore

BUNDLES_KEPT = 64
DIGESTS_KEPT = 16_384  # ~200 bytes each
K = TypeVar("K")
V = TypeVar("V")
KEY_ID = re.compile(r"[0-9a-f]{16}")  # engine.bundle.key_id_of


class SigningKeyUnusable(StoreError):
    """A file of the signing keys' folder that cannot sign: unreadable, not an Ed25519
    private key in PEM, or holding another key than its name says (a file renamed or
    copied by hand). Nothing is signed or listed until the folder is mended."""


class SigningKeys:
    """The Ed25519 keys that sign bundles, in a folder of PEM files.

    A key is *active* (it signs) or *standby* (listed, so devices can trust it before
    it signs: rotation is add, let devices trust, activate, retire the old one)."""

    _creating = threading.Lock()  # one first key per process, even under load

    def __init__(self, folder: Path,
                 on_first_key: Callable[[str, str], None] | None = None) -> None:
        self.folder = folder
        # told (id, SHA-256) of the key made on first use, for the audit log: the other
        # keys are added by `remise bundle-keys`, which audits them itself
        self.on_first_key = on_first_key

    def generate(self, *, activate: bool = True) -> str:
        """Create a new key, the active one unless ``activate`` is false; returns its id."""
        return self.install(Ed25519PrivateKey.generate(), activate=activate)

    def install(self, key: Ed25519PrivateKey, *, activate: bool) -> str:
        """Write a key into the folder (and make it the active one); returns its id.

        Both files are written atomically, so a server reading them meanwhile sees
        the old active key or the new one, never half a file."""
        key_id = key_id_of(raw_public(key))
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # private keys: owner only
        write_atomically(self.folder / f"{key_id}.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        if activate:
            self.activate(key_id)
        return key_id

    def activate(self, key_id: str) -> None:
        """Make a key of the folder the one that signs (servers sign with it from their
        next bundle)."""
        self._known(key_id)
        self._load(key_id)  # a key that cannot sign is refused before it is named
        write_atomically(self.folder / "active", f"{key_id}\n".encode())

    def retire(self, key_id: str) -> None:
        """Delete a standby key: it is no longer listed, and nothing can sign with it."""
        if key_id == self.active_id():
            raise InvalidRequest(f"bundle key {key_id} is the active one: activate "
                                 "another before retiring it")
        self._known(key_id).unlink()

    def active_id(self) -> str | None:
        """The id of the key that signs, or None before the first key is made."""
        marker = self.folder / "active"
        if not marker.exists():
            return None
        try:
            key_id = marker.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise SigningKeyUnusable(f"cannot read {marker}: {_reason(error)}") from None
        if not KEY_ID.fullmatch(key_id):
            raise SigningKeyUnusable(f"{marker} does not name a key "
                                     f"({shortened(repr(key_id))}): it holds the 16-digit id "
                                     "of the key that signs")
        return key_id

    def _known(self, key_id: str) -> Path:
        path = self.folder / f"{key_id}.pem"
        if not KEY_ID.fullmatch(key_id) or not path.exists():
            known = ", ".join(pem.stem for pem in sorted(self.folder.glob("*.pem")))
            raise NotFound(f"no bundle key {key_id!r} in {self.folder} (there are: "
                           f"{known or 'none'})")
        return path

    def _load(self, key_id: str) -> Ed25519PrivateKey:
        path = self.folder / f"{key_id}.pem"
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as error:
            raise SigningKeyUnusable(f"cannot read bundle key {key_id} from {path}: "
                                     f"{_reason(error)}") from None
        except (ValueError, TypeError):  # not PEM, damaged, or protected by a password
            raise SigningKeyUnusable(f"{path} is not an unencrypted private key in PEM: "
                                     "restore it from the secret store") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyUnusable(f"{path} is not an Ed25519 key")
        if key_id_of(raw_public(key)) != key_id:
            # devices look the key up by the id the bundle names: none would verify
            raise SigningKeyUnusable(f"{path} holds key {key_id_of(raw_public(key))}, not "
                                     f"{key_id}: a key file renamed or copied over another")
        return key

    def active(self) -> tuple[str, Ed25519PrivateKey]:
        """The key that signs (created on first use)."""
        key_id = self.active_id()
        if key_id is None:
            with self._creating:
                key_id = self.active_id() or self._first_key()
        return key_id, self._load(key_id)

    def _first_key(self) -> str:
        key_id = self.generate()
        if self.on_first_key is not None:
            self.on_first_key(key_id, fingerprint_of(raw_public(self._load(key_id))))
        return key_id

    def public_keys(self) -> dict[str, bytes]:
        """Every key's raw public key, by id (the active one included)."""
        self.active()
        return {path.stem: raw_public(self._load(path.stem))
                for path in sorted(self.folder.glob("*.pem")) if KEY_ID.fullmatch(path.stem)}


def _reason(error: OSError | UnicodeDecodeError) -> str:
    return (error.strerror or str(error)) if isinstance(error, OSError) else "not text"


def first_key_audited(store: RuleStore, actor: str, address: str | None = None
                      ) -> Callable[[str, str], None]:
    """What tells the audit log of the signing key made on first use (a server's first
    bundle, `remise serve`'s start, `bundle-keys list`): devices trust that key, and
    finance can account for it as for the keys `remise bundle-keys` adds."""
    def record(key_id: str, sha256: str) -> None:
        store.record(actor=actor, action="bundle_key_add", address=address,
                     message=f"bundle signing key {key_id} made on first use, active",
                     details={"key_id": key_id, "sha256": sha256})
    return record


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def applies_to(rule: Rule, channel: str, store: str | None) -> bool:
    """Whether a rule can matter to baskets of this channel and store (``None``: every
    store, so store-limited rules stay: the engine picks them by the basket's store, as
    the server does)."""
    if rule.coupons:
        return True  # kept for the coupon's reason, even when it cannot apply here
    if rule.channels is not None and channel not in rule.channels:
        return False
    return rule.stores is None or store is None or store in rule.stores


def next_change(rules: tuple[Rule, ...], after: datetime) -> datetime | None:
    """The earliest start or end of an absolute window after ``after``."""
    edges = [edge for rule in rules for window in rule.windows
             if isinstance(window, AbsoluteWindow)
             for edge in (window.start, window.end) if edge > after]
    return min(edges, default=None)


class BundleIssuer:
    """Builds and signs bundles, keeping recent ones (same hour, same bytes).

    The bytes of the last ``BUNDLES_KEPT`` bundles are kept (3 MiB each at 10,000
    rules), and the SHA-256 (the ETag) of many more (``DIGESTS_KEPT``): a chain of
    hundreds of stores syncing every few minutes gets its 304s without a bundle
    being built again for each, once each store's bundle of the hour was issued."""

    def __init__(self, keys: SigningKeys, valid_hours: float = 72.0,
                 on_built: Callable[[str], None] = lambda ruleset: None) -> None:
        self.keys = keys
        self.valid_for = timedelta(hours=valid_hours)
        self.on_built = on_built  # told the rule set of each bundle built (not kept)
        self._issued: OrderedDict[tuple[object, ...], tuple[bytes, str]] = OrderedDict()
        self._digests: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._gzipped: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def known_digest(self, name: str, ruleset: engine.RuleSet, channel: str,
                     store: str | None, now: datetime) -> str | None:
        """The SHA-256 of the bundle ``issue`` would give now, if this process issued
        that very bundle (same version, channel, store, hour and signing key) before."""
        key_id = self.keys.active_id()
        if key_id is None:
            return None
        cache_key = self._bundle_key(name, ruleset, channel, store, now, key_id)
        with self._lock:
            return self._digests.get(cache_key)

    def _bundle_key(self, name: str, ruleset: engine.RuleSet, channel: str,
                    store: str | None, now: datetime, key_id: str) -> tuple[object, ...]:
        return (name, *self._identity(ruleset), channel, store, _hour_of(now), key_id)

    def issue(self, name: str, ruleset: engine.RuleSet, channel: str, store: str | None,
              now: datetime) -> bytes:
        """The signed bundle of a published version (``ruleset.version`` and
        ``content_hash`` set, as the store and live cache give it)."""
        return self.issue_tagged(name, ruleset, channel, store, now)[0]

    def issue_tagged(self, name: str, ruleset: engine.RuleSet, channel: str,
                     store: str | None, now: datetime) -> tuple[bytes, str]:
        """``issue``'s bundle and its SHA-256 (hex), the ETag it is served with."""
        if channel not in engine.ir.CHANNELS:
            raise InvalidRequest(f"unknown channel {channel!r}: one of "
                                 f"{', '.join(engine.ir.CHANNELS)}")
        issued_at = _hour_of(now)
        key_id, key = self.keys.active()
        number, content = self._identity(ruleset)
        cache_key = self._bundle_key(name, ruleset, channel, store, now, key_id)
        with self._lock:
            if cache_key in self._issued:
                self._issued.move_to_end(cache_key)
                return self._issued[cache_key]
        kept = tuple(rule for rule in ruleset.rules if applies_to(rule, channel, store))
        ir_json = ruleset.model_copy(update={"rules": kept}).to_json()
        header = BundleHeader(
            ruleset=name, version=number, content_hash=content, channel=channel, store=store,
            issued_at=issued_at, offline_valid_until=issued_at + self.valid_for,
            next_change=next_change(kept, issued_at), rules=len(kept),
            ir_sha256=hashlib.sha256(ir_json.encode("utf-8")).hexdigest())
        data = assemble(header, ir_json, key_id, key.sign)
        digest = hashlib.sha256(data).hexdigest()
        self.on_built(name)
        with self._lock:
            _keep(self._issued, cache_key, (data, digest), BUNDLES_KEPT)
            _keep(self._digests, cache_key, digest, DIGESTS_KEPT)
        return data, digest

    def compressed(self, data: bytes) -> bytes:
        """The gzip form of an issued bundle (kept beside it: compressing costs more
        than serving)."""
        digest = hashlib.sha256(data).digest()
        with self._lock:
            found = self._gzipped.get(digest)
        if found is None:
            found = gzip.compress(data, compresslevel=6, mtime=0)
            with self._lock:
                _keep(self._gzipped, digest, found, BUNDLES_KEPT)
        return found

    @staticmethod
    def _identity(ruleset: engine.RuleSet) -> tuple[int, str]:
        if ruleset.version is None or ruleset.content_hash is None:
            raise InvalidRequest("only a published version can be bundled")
        return ruleset.version, ruleset.content_hash


def _hour_of(now: datetime) -> datetime:
    """A bundle's ``issued_at``: the start of the UTC hour of ``now``."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _keep(kept: OrderedDict[K, V], key: K, value: V, most: int) -> None:
    """Keep ``value`` as the most recent of at most ``most`` (the caller holds the lock)."""
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > most:
        kept.popitem(last=False)


__all__ = ["BundleIssuer", "SigningKeyUnusable", "SigningKeys", "applies_to",
           "first_key_audited", "next_change", "raw_public"]
