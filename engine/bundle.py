"""Signed rule bundles: what a store device receives, and how it decides to trust it.

A bundle is UTF-8 text in three lines' worth of parts::

    {"format":"remise.bundle/1","key_id":"<16 hex>","signature":"<base64>"}\\n
    {<header JSON>}\\n
    {<IR JSON>}

The first line is the envelope. Everything after its newline is the *signed
payload*, verified byte for byte with Ed25519: the header (rule set, version,
the version's content hash, channel, store, issued at, offline valid until,
next change, rule count, SHA-256 of the IR text) then the compiled rules
exactly as the engine reads them. Any other implementation can check a
bundle with nothing but Ed25519, SHA-256 and a JSON parser.

``read_bundle`` refuses, each with its own reason: a malformed file, an
unknown key, a bad signature, rules that do not match their hash, a bundle
for another rule set, channel or store, a version older than the one the
device has (a rollback attack), and an expired bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import IRError, RemiseError, shortened
from .ir import RuleSet
from .loading import load_ruleset

BUNDLE_FORMAT = "remise.bundle/1"
MEDIA_TYPE = "application/vnd.remise.bundle"


class BundleRefused(RemiseError):
    """A bundle the device must not use; ``reason`` is a stable code, the text says why."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class BundleHeader:
    ruleset: str
    version: int
    content_hash: str  # the version's, as on the server: receipts name it
    channel: str
    store: str | None
    issued_at: datetime
    offline_valid_until: datetime
    next_change: datetime | None  # earliest start or end of a rule window after issue
    rules: int
    ir_sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"ruleset": self.ruleset, "version": self.version,
                "content_hash": self.content_hash, "channel": self.channel,
                "store": self.store, "issued_at": self.issued_at.isoformat(),
                "offline_valid_until": self.offline_valid_until.isoformat(),
                "next_change": self.next_change.isoformat() if self.next_change else None,
                "rules": self.rules, "ir_sha256": self.ir_sha256}


@dataclass(frozen=True)
class Bundle:
    header: BundleHeader
    key_id: str
    ruleset: RuleSet
    digest: str  # SHA-256 of the whole file: its identity (and HTTP ETag)

    def expired(self, now: datetime) -> bool:
        return now >= self.header.offline_valid_until


def fingerprint_of(public_key: bytes) -> str:
    """The SHA-256 of a raw 32-byte Ed25519 public key, in hex: what an operator compares
    in full when a device is told to trust the key."""
    return hashlib.sha256(public_key).hexdigest()


def key_id_of(public_key: bytes) -> str:
    """The id of a raw 32-byte Ed25519 public key: the first 16 hex digits of its SHA-256."""
    return fingerprint_of(public_key)[:16]


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assemble(header: BundleHeader, ir_json: str, key_id: str, sign: Any) -> bytes:
    """The bundle's bytes; ``sign(payload) -> signature`` holds the private key."""
    payload = (canonical_json(header.as_dict()) + "\n" + ir_json).encode("utf-8")
    envelope = canonical_json({"format": BUNDLE_FORMAT, "key_id": key_id,
                               "signature": base64.b64encode(sign(payload)).decode("ascii")})
    return envelope.encode("utf-8") + b"\n" + payload


# The envelope and the header are a few hundred bytes each. Both are read before the
# signature is checked, so whoever answers a sync chooses them: a 256 MiB envelope of
# numbers took 2 GB of a till's memory to parse, only to find its key unknown.
MAX_LINE_BYTES = 2 * 1024 * 1024


def _split(data: bytes) -> tuple[dict[str, Any], bytes, dict[str, Any], bytes]:
    try:
        envelope_text, payload = data.split(b"\n", 1)
        header_text, ir_bytes = payload.split(b"\n", 1)
        if max(len(envelope_text), len(header_text)) > MAX_LINE_BYTES:
            raise ValueError("an envelope or a header longer than any bundle's")
        envelope, header = json.loads(envelope_text), json.loads(header_text)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: hostile
        raise BundleRefused("malformed", "not a remise bundle (cannot read its envelope "
                                         "and header)") from None
    if not isinstance(envelope, dict) or envelope.get("format") != BUNDLE_FORMAT:
        raise BundleRefused("malformed", f"not a {BUNDLE_FORMAT} bundle")
    if not isinstance(header, dict):
        raise BundleRefused("malformed", "the bundle header is not a JSON object")
    return envelope, payload, header, ir_bytes


def _verify_signature(envelope: dict[str, Any], payload: bytes,
                      trusted_keys: Mapping[str, bytes]) -> str:
    key_id = envelope.get("key_id")
    if not isinstance(key_id, str) or key_id not in trusted_keys:
        # read before any signature: whoever answered chose it, of any length
        raise BundleRefused("unknown_key", f"signed by key {shortened(repr(key_id))}, which "
                                           "this device does not trust")
    try:
        signature = base64.b64decode(str(envelope.get("signature")), validate=True)
        Ed25519PublicKey.from_public_bytes(trusted_keys[key_id]).verify(signature, payload)
    except (InvalidSignature, binascii.Error, ValueError):
        raise BundleRefused("bad_signature", f"the signature does not match the content "
                                             f"(key {key_id}): tampered or corrupt") from None
    return key_id


def _header(raw: dict[str, Any]) -> BundleHeader:
    try:
        def instant(name: str) -> datetime:
            value = datetime.fromisoformat(raw[name])
            if value.tzinfo is None:
                raise ValueError(name)
            return value

        return BundleHeader(
            ruleset=str(raw["ruleset"]), version=int(raw["version"]),
            content_hash=str(raw["content_hash"]), channel=str(raw["channel"]),
            store=None if raw["store"] is None else str(raw["store"]),
            issued_at=instant("issued_at"), offline_valid_until=instant("offline_valid_until"),
            next_change=instant("next_change") if raw.get("next_change") else None,
            rules=int(raw["rules"]), ir_sha256=str(raw["ir_sha256"]))
    except (KeyError, TypeError, ValueError) as error:
        raise BundleRefused("malformed", f"the bundle header is incomplete ({error})") from None


def _check_scope(header: BundleHeader, ruleset: str | None, channel: str | None,
                 store: str | None, at_least_version: int | None) -> None:
    if ruleset is not None and header.ruleset != ruleset:
        raise BundleRefused("wrong_ruleset", f"this bundle is for rule set {header.ruleset!r}, "
                                             f"not {ruleset!r}")
    if channel is not None and header.channel != channel:
        raise BundleRefused("wrong_channel", f"this bundle is for channel {header.channel!r}, "
                                             f"not {channel!r}")
    if store is not None and header.store != store:
        raise BundleRefused("wrong_store", f"this bundle is for store {header.store!r}, "
                                           f"not {store!r}")
    if at_least_version is not None and header.version < at_least_version:
        raise BundleRefused("older_version", f"version {header.version} is older than version "
                                             f"{at_least_version}, which this device already "
                                             "has (refused: a rollback must come as a new "
                                             "version)")


def read_bundle(
    data: bytes,
    trusted_keys: Mapping[str, bytes],
    *,
    now: datetime,
    ruleset: str | None = None,
    channel: str | None = None,
    store: str | None = None,
    at_least_version: int | None = None,
    allow_expired: bool = False,
) -> Bundle:
    """Verify a bundle and read its rules; raise ``BundleRefused`` with the reason."""
    envelope, payload, raw_header, ir_bytes = _split(data)
    key_id = _verify_signature(envelope, payload, trusted_keys)
    header = _header(raw_header)
    if hashlib.sha256(ir_bytes).hexdigest() != header.ir_sha256:
        raise BundleRefused("bad_rules", "the rules do not match the hash in the header")
    _check_scope(header, ruleset, channel, store, at_least_version)
    if not allow_expired and now >= header.offline_valid_until:
        # Just downloaded, a bundle is at most an hour old: expired, it is the device's
        # clock that is ahead, far more often than the server's validity that is short.
        raise BundleRefused("expired", f"this bundle was valid offline until "
                                       f"{header.offline_valid_until.isoformat()}, and "
                                       f"this device's clock reads "
                                       f"{now.isoformat(timespec='seconds')}: if the server "
                                       "issued it just now, set the device's clock")
    try:
        rules = load_ruleset(ir_bytes)
    except IRError as error:
        raise BundleRefused("bad_rules", str(error)) from None
    if (rules.version, rules.content_hash) != (header.version, header.content_hash):
        raise BundleRefused("bad_rules", "the rules' version or hash differ from the header")
    return Bundle(header, key_id, rules, hashlib.sha256(data).hexdigest())


__all__ = [
    "BUNDLE_FORMAT",
    "MEDIA_TYPE",
    "Bundle",
    "BundleHeader",
    "BundleRefused",
    "assemble",
    "canonical_json",
    "fingerprint_of",
    "key_id_of",
    "read_bundle",
]
