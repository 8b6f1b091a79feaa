"""Signed bundles: what goes in, and every reason a device refuses one."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import engine
import rules.bundles
from rules.bundles import BUNDLES_KEPT, SigningKeys

from .helpers import ISSUED, bundle_bytes, issuer, published


def _trusted(folder: Path) -> dict[str, bytes]:
    return SigningKeys(folder).public_keys()


def test_a_bundle_holds_the_rules_for_its_channel_and_store(keys: Path) -> None:
    data = bundle_bytes(keys)

    bundle = engine.read_bundle(data, _trusted(keys), now=ISSUED)

    header = bundle.header
    assert (header.ruleset, header.version, header.channel, header.store) == (
        "fr", 3, "pos", "paris-01")
    assert header.content_hash == published().content_hash
    assert header.issued_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert header.offline_valid_until == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    # the flash starts at 10:00 Paris = 09:00 UTC, which is not after the issue instant
    # (09:00); its end, 11:00 UTC, is the next change
    assert header.next_change == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    # web_only (other channel) and lyon_only (other store) are left out; the web coupon
    # stays so that a till typing WEB5 hears why it does not apply
    assert [rule.id for rule in bundle.ruleset.rules] == ["boots", "flash", "web_coupon"]
    assert header.rules == 3


def test_an_every_store_bundle_keeps_every_store_s_rules(keys: Path) -> None:
    # given rules limited to lyon-01; when a bundle is issued for every store of pos
    bundle = engine.read_bundle(bundle_bytes(keys, store=None), _trusted(keys), now=ISSUED)

    # then lyon_only is in it (the engine applies it to Lyon's baskets only); web_only is not
    assert bundle.header.store is None
    assert sorted(rule.id for rule in bundle.ruleset.rules) == [
        "boots", "flash", "lyon_only", "web_coupon"]


def test_the_same_hour_gives_the_same_bytes_and_the_next_hour_new_ones(keys: Path) -> None:
    first = bundle_bytes(keys)

    assert bundle_bytes(keys, now=ISSUED + timedelta(minutes=30)) == first
    assert bundle_bytes(keys, now=ISSUED + timedelta(minutes=45)) != first


def test_the_digest_of_a_bundle_is_known_long_after_its_bytes_are_dropped(
        keys: Path) -> None:
    # given one store's bundle, then those of more stores than bundles are kept
    issuing = issuer(keys)
    first = issuing.issue("fr", published(), "pos", "paris-01", ISSUED)
    for number in range(BUNDLES_KEPT + 1):
        issuing.issue("fr", published(), "pos", f"store-{number}", ISSUED)

    # when the first store's bundle is asked for again, within the hour
    known = issuing.known_digest("fr", published(), "pos", "paris-01",
                                 ISSUED + timedelta(minutes=30))

    # then its ETag is known without building it
    assert known == hashlib.sha256(first).hexdigest()


def test_a_bundle_kept_in_memory_is_served_after_its_digest_is_forgotten(
        keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a server that remembers the ETags of fewer bundles than it keeps the bytes of
    monkeypatch.setattr(rules.bundles, "DIGESTS_KEPT", 2)
    issuing = issuer(keys)
    first = issuing.issue("fr", published(), "pos", "paris-01", ISSUED)
    for store in ("lyon-01", "lyon-02", "bordeaux-01"):
        issuing.issue("fr", published(), "pos", store, ISSUED)

    # when the first bundle is asked for again, its bytes still kept
    again = issuing.issue_tagged("fr", published(), "pos", "paris-01", ISSUED)

    # then it is served, with its ETag
    assert again == (first, hashlib.sha256(first).hexdigest())


@pytest.mark.parametrize(("change", "value"), [
    ("now", ISSUED + timedelta(minutes=45)),  # 10:05: the next hour's bundle
    ("store", "lyon-01"), ("channel", "web"), ("name", "be")])
def test_no_digest_is_known_for_a_bundle_not_issued(
        keys: Path, change: str, value: object) -> None:
    # given the bundle for the till of paris-01 at 09:20
    issuing = issuer(keys)
    issuing.issue("fr", published(), "pos", "paris-01", ISSUED)
    asked: dict[str, Any] = {"name": "fr", "channel": "pos", "store": "paris-01",
                             "now": ISSUED}

    # when another hour's, store's, channel's or rule set's is asked for
    asked[change] = value
    known = issuing.known_digest(ruleset=published(), **asked)

    # then it must be built: nothing is known of it
    assert known is None


def test_no_digest_is_known_once_another_key_signs(keys: Path) -> None:
    # given a bundle, then another signing key made active
    issuing = issuer(keys)
    issuing.issue("fr", published(), "pos", "paris-01", ISSUED)
    SigningKeys(keys).generate()

    # then the bundle is built again, to be signed by the new key
    assert issuing.known_digest("fr", published(), "pos", "paris-01", ISSUED) is None


def test_no_digest_is_known_for_another_version(keys: Path) -> None:
    issuing = issuer(keys)
    issuing.issue("fr", published(3), "pos", "paris-01", ISSUED)

    assert issuing.known_digest("fr", published(4), "pos", "paris-01", ISSUED) is None


def _envelope(data: bytes) -> tuple[dict[str, str], bytes]:
    envelope, payload = data.split(b"\n", 1)
    return json.loads(envelope), payload


def _with_envelope(envelope: dict[str, str], payload: bytes) -> bytes:
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode() + b"\n" + payload


def _flip_a_byte_in_the_rules(data: bytes) -> bytes:
    position = data.index(b'"percent":"10"') + len(b'"percent":"1')
    return data[:position] + b"9" + data[position + 1:]  # 10% becomes 19%


def _swap_signature(data: bytes, other: bytes) -> bytes:
    envelope, payload = _envelope(data)
    envelope["signature"] = _envelope(other)[0]["signature"]
    return _with_envelope(envelope, payload)


def test_every_tampering_is_refused_with_its_reason(keys: Path, tmp_path: Path) -> None:
    good = bundle_bytes(keys)
    other_key_bundle = bundle_bytes(tmp_path / "other-keys")
    trusted = _trusted(keys)
    cases = {
        "bad_signature": [_flip_a_byte_in_the_rules(good),
                          _swap_signature(good, bundle_bytes(keys, version=4))],
        "unknown_key": [other_key_bundle],
        "malformed": [b"not a bundle", good.replace(b"remise.bundle/1", b"remise.bundle/9")],
    }
    for reason, variants in cases.items():
        for data in variants:
            with pytest.raises(engine.BundleRefused) as refused:
                engine.read_bundle(data, trusted, now=ISSUED)
            assert refused.value.reason == reason, data[:80]


def test_a_key_id_of_a_million_characters_is_refused_in_a_short_sentence(keys: Path) -> None:
    # Given a download whose envelope (read before any signature) names a huge key id
    envelope, payload = _envelope(bundle_bytes(keys))
    envelope["key_id"] = "9" * 1_000_000

    # When the device reads it
    with pytest.raises(engine.BundleRefused) as refused:
        engine.read_bundle(_with_envelope(envelope, payload), _trusted(keys), now=ISSUED)

    # Then it is refused as signed by a key it does not trust, in one short line (the
    # device prints it on the operator's terminal and in its logs)
    assert refused.value.reason == "unknown_key"
    assert len(str(refused.value)) < 600
    assert str(refused.value).endswith("which this device does not trust")


def _padded_with_numbers(text: bytes, count: int) -> bytes:
    """A JSON object line with a list of ``count`` zeros added (what costs a parser the
    most memory per byte: a Python object per number)."""
    return text[:-1] + b',"pad":[' + b"0," * count + b"0]}"


@pytest.mark.parametrize("line", ["envelope", "header"])
def test_an_envelope_or_header_longer_than_any_bundle_s_is_refused_unparsed(
        keys: Path, line: str) -> None:
    # Given a download whose envelope or header (both read before the signature is
    # checked: whoever answers chooses them) carries 3 MiB of numbers
    envelope, header, rules_text = bundle_bytes(keys).split(b"\n", 2)
    if line == "envelope":
        envelope = _padded_with_numbers(envelope, 1_500_000)
    else:
        header = _padded_with_numbers(header, 1_500_000)

    # When the device reads it, then it is refused as not a bundle, unparsed (a 256 MiB
    # envelope took 2 GB of a till's memory to find its key unknown, or its signature bad)
    with pytest.raises(engine.BundleRefused) as refused:
        engine.read_bundle(b"\n".join((envelope, header, rules_text)), _trusted(keys),
                           now=ISSUED)
    assert (refused.value.reason, str(refused.value)) == (
        "malformed", "not a remise bundle (cannot read its envelope and header)")


@pytest.mark.parametrize(("options", "reason", "words"), [
    ({"now": ISSUED + timedelta(hours=72)}, "expired", "valid offline until 2026-11-30T09:00"),
    ({"at_least_version": 4}, "older_version", "version 3 is older than version 4"),
    ({"store": "lyon-01"}, "wrong_store", "for store 'paris-01', not 'lyon-01'"),
    ({"channel": "web"}, "wrong_channel", "for channel 'pos', not 'web'"),
    ({"ruleset": "be"}, "wrong_ruleset", "for rule set 'fr', not 'be'"),
])
def test_a_bundle_for_another_place_or_time_is_refused(
    keys: Path, options: dict[str, object], reason: str, words: str
) -> None:
    arguments: dict[str, object] = {"now": ISSUED, **options}

    with pytest.raises(engine.BundleRefused, match=words) as refused:
        engine.read_bundle(bundle_bytes(keys), _trusted(keys), **arguments)  # type: ignore[arg-type]

    assert refused.value.reason == reason


def test_rules_that_do_not_match_their_hash_are_refused_even_if_re_signed(
    keys: Path,
) -> None:
    """A signer's own bug (header and rules disagreeing) is caught too."""
    _key_id, key = SigningKeys(keys).active()
    envelope, payload = _envelope(bundle_bytes(keys))
    header, rules = payload.split(b"\n", 1)
    payload = header + b"\n" + rules.replace(b'"percent":"10"', b'"percent":"11"')
    envelope["signature"] = base64.b64encode(key.sign(payload)).decode()

    with pytest.raises(engine.BundleRefused) as refused:
        engine.read_bundle(_with_envelope(envelope, payload), _trusted(keys), now=ISSUED)

    assert refused.value.reason == "bad_rules"


def test_signed_rules_the_engine_cannot_price_are_refused_naming_the_place(
    keys: Path,
) -> None:
    """A bundle from a signer whose rules this engine cannot price (150% off), its hash
    and signature right: refused when read, not a crash at the first basket."""
    _key_id, key = SigningKeys(keys).active()
    envelope, payload = _envelope(bundle_bytes(keys))
    raw_header, rules = payload.split(b"\n", 1)
    rules = rules.replace(b'"percent":"10"', b'"percent":"150"')
    header = json.loads(raw_header)
    header["ir_sha256"] = hashlib.sha256(rules).hexdigest()
    payload = json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + rules
    envelope["signature"] = base64.b64encode(key.sign(payload)).decode()

    with pytest.raises(engine.BundleRefused, match="percent") as refused:
        engine.read_bundle(_with_envelope(envelope, payload), _trusted(keys), now=ISSUED)

    assert refused.value.reason == "bad_rules"


def test_signing_keys_rotate_and_old_bundles_still_verify(keys: Path) -> None:
    old = bundle_bytes(keys)
    signing = SigningKeys(keys)
    new_id = signing.generate()

    fresh = issuer(keys).issue("fr", published(4), "pos", "paris-01", ISSUED)

    trusted = signing.public_keys()
    assert len(trusted) == 2 and new_id in trusted
    assert engine.read_bundle(fresh, trusted, now=ISSUED).key_id == new_id
    assert engine.read_bundle(old, trusted, now=ISSUED).key_id != new_id


def test_the_first_key_is_created_once_however_many_requests_ask_at_once(
    keys: Path,
) -> None:
    with ThreadPoolExecutor(16) as pool:
        ids = set(pool.map(lambda _: SigningKeys(keys).active()[0], range(16)))

    assert len(ids) == 1
    assert [p.name for p in keys.glob("*.pem")] == [f"{ids.pop()}.pem"]
    assert oct((keys / "active").stat().st_mode & 0o777) == "0o600"
