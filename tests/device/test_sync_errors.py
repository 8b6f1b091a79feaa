"""`remise device` against answers and folders that go wrong: always one line and the
documented exit code (2 bad input or server answer, 3 refused or cannot price), never a
traceback, and never a hang."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import dsl
import engine
import engine.device
from api import cli_device
from bench.generate import BENCH_AT, rules_source
from rules.bundles import SigningKeys
from rules.store import content_hash

from .helpers import (
    FakeServer,
    basket,
    bundle_bytes,
    fake_server,
    issuer,
    one_line,
    remise,
    till_holding_a_bundle,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, type[FakeServer]]]:
    with fake_server(SigningKeys(tmp_path / "keys").public_keys()) as answering:
        yield answering


@pytest.fixture
def till(tmp_path: Path) -> Path:
    """A device folder holding a good bundle, issued now."""
    return till_holding_a_bundle(tmp_path / "till", tmp_path / "keys")


def _sync(url: str, folder: Path, *more: str) -> tuple[int, str]:
    return remise("device", "sync", "--server", url, "--key", "k", "--dir", str(folder),
                  "--ruleset", "fr", "--channel", "pos", "--store", "paris-01", *more)


def _key_id(tmp_path: Path) -> str:
    """The id of the key the server signs with, as its operator reads it."""
    return (tmp_path / "keys" / "active").read_text().strip()


def _hostile_signature(data: bytes) -> bytes:
    """The bundle with its signature replaced by 100,000 nested arrays."""
    envelope, payload = data.split(b"\n", 1)
    deep = json.loads(envelope) | {"signature": "@"}
    return json.dumps(deep).replace('"@"', "[" * 100_000).encode() + b"\n" + payload


# --- what the server answers -----------------------------------------------------------


@pytest.mark.parametrize(("answer", "said"), [
    ((200, {"Content-Type": "text/html"}, b"<html><body>Sign in to Wi-Fi</body></html>"),
     "not a list of signing keys"),
    ((200, {}, b'{"keys": {"a": 5}}'), "not a list of signing keys"),
    ((302, {"Location": "https://portal.example/login"}, b""),
     "redirected (302) to https://portal.example/login"),
    ((404, {}, b'{"detail":"Not Found"}'),  # --server https://remise.example/v1
     "no such address (404): give --server as the server's root"),
])
def test_a_bad_answer_to_trust_is_one_line_exit_2(
    server: tuple[str, type[FakeServer]], tmp_path: Path,
    answer: tuple[int, dict[str, str], bytes], said: str,
) -> None:
    url, handler = server
    handler.keys = answer  # given a captive portal, say

    code, output = remise("device", "trust", "--server", url, "--key", "k", "--dir",
                          str(tmp_path / "new"), "--key-id", _key_id(tmp_path))

    assert code == 2 and said in one_line(output)


@pytest.mark.parametrize(("answer", "said"), [
    ((500, {}, b"[1,2]"), "the server refused (500): [1,2]"),
    ((503, {}, b""), "the server refused (503): no explanation given"),
    ((302, {"Location": "https://other.example/v1/bundles/fr"}, b""),
     "redirected (302) to https://other.example/v1/bundles/fr"),
    ((404, {}, b"<html>Not Found</html>"), "no such address (404)"),
    ((404, {}, b'{"detail":"no rule set named \'fr\' is published"}'),
     "the server refused (404): no rule set named 'fr' is published"),
])
def test_a_bad_answer_to_sync_is_one_line_exit_2(
    server: tuple[str, type[FakeServer]], till: Path,
    answer: tuple[int, dict[str, str], bytes], said: str,
) -> None:
    url, handler = server
    handler.bundle = answer

    code, output = _sync(url, till)

    assert code == 2 and said in one_line(output)


@pytest.mark.parametrize("body", [
    b'{"detail": "Maintenance \\u001b]0;pwned\\u0007\\u009b2J"}',  # a problem's detail
    b"Maintenance \x1b]0;pwned\x07\xc2\x9b2J",  # a proxy's page
])
def test_what_a_server_answers_is_printed_with_its_escape_sequences_written_out(
    server: tuple[str, type[FakeServer]], till: Path, body: bytes
) -> None:
    # Given a server (or whoever answers in its place) refusing with terminal escapes
    url, handler = server
    handler.bundle = (503, {}, body)

    # When a till syncs
    code, output = _sync(url, till)

    # Then the operator's terminal is given the escapes as text, not to run
    assert code == 2
    assert one_line(output) == ("error: the server refused (503): Maintenance "
                                "\\x1b]0;pwned\\x07\\x9b2J")


def test_a_redirect_is_printed_with_its_escape_sequences_written_out(
    server: tuple[str, type[FakeServer]], till: Path
) -> None:
    url, handler = server
    handler.bundle = (302, {"Location": "https://x.example/\x9b2J"}, b"")  # C1 CSI

    code, output = _sync(url, till)

    assert code == 2
    assert "redirected (302) to https://x.example/\\x9b2J:" in one_line(output)


@pytest.mark.parametrize("ruleset", ["../keys", "fr?channel=web", "Fr"])
def test_a_ruleset_that_is_not_a_rule_set_name_is_refused_before_any_request(
    server: tuple[str, type[FakeServer]], till: Path, ruleset: str
) -> None:
    # Given a till, and a --ruleset that would be read as another address (../keys is
    # /v1/keys, where an admin key got the list of API keys back as a "bundle")
    url, handler = server
    handler.bundle = (500, {}, b"asked")

    # When it syncs
    code, output = remise("device", "sync", "--server", url, "--key", "k", "--dir", str(till),
                          "--ruleset", ruleset, "--channel", "pos", "--store", "paris-01")

    # Then the name is refused, in one line naming it, with the input's exit code
    assert code == 2
    assert one_line(output).startswith(f"error: --ruleset {ruleset!r} is not a rule set name")


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--channel", "till", "error: --channel 'till' is not a channel: one of pos, web, "
                          "mobile, kiosk"),
    ("--store", "", "error: --store is empty: give the store's id"),
    ("--store", "  ", "error: --store is empty: give the store's id"),
])
def test_a_channel_or_store_that_cannot_be_is_refused_before_any_request(
    server: tuple[str, type[FakeServer]], till: Path, option: str, value: str, words: str
) -> None:
    # given a server that would answer, had it been asked (an empty --store downloaded
    # every store's bundle, then refused it: "for store None, not ''")
    url, handler = server
    handler.bundle = (500, {}, b"asked")
    place = {"--channel": "pos", "--store": "paris-01", option: value}

    code, output = remise("device", "sync", "--server", url, "--key", "k", "--dir", str(till),
                          "--ruleset", "fr", *[text for pair in place.items() for text in pair])

    assert code == 2
    assert one_line(output).startswith(words)


def test_an_answer_that_does_not_decode_is_not_called_unreachable(
    server: tuple[str, type[FakeServer]], till: Path
) -> None:
    # given something in the server's place answering "gzip" that is not gzip (a proxy)
    url, handler = server
    handler.bundle = (200, {"Content-Encoding": "gzip"}, b"not gzip at all")

    code, output = _sync(url, till)

    # then the device says the server was reached and its answer could not be read
    assert code == 2
    assert one_line(output) == (f"error: {url} sent an answer that does not decode (Error -3 "
                                "while decompressing data: incorrect header check): a proxy "
                                "in the way?")


def test_a_server_that_does_not_listen_cannot_be_reached(till: Path) -> None:
    with fake_server({}) as (url, _):
        pass  # the server is gone: nothing listens on its port any more

    code, output = _sync(url, till)

    assert code == 2 and one_line(output).startswith(f"error: cannot reach {url}: ")


def test_a_bundle_signed_by_a_key_not_trusted_says_how_to_trust_a_rotated_key(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path
) -> None:
    # given the server signing with a new key (rotated) this till does not trust yet
    url, handler = server
    new_key = SigningKeys(tmp_path / "new-keys")
    handler.bundle = (200, {}, bundle_bytes(new_key.folder, version=4))

    code, output = _sync(url, till)

    assert code == 3
    assert one_line(output) == (
        f"error: bundle refused (unknown_key): signed by key '{new_key.active_id()}', which "
        "this device does not trust; keeping the last good bundle (if the server's signing "
        "key was rotated: read the new key's id on the server, `remise bundle-keys list`, "
        "and run `remise device trust --key-id` with it)")


def test_a_hostile_signature_downloaded_is_refused_as_malformed(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path
) -> None:
    url, handler = server
    handler.bundle = (200, {}, _hostile_signature(bundle_bytes(tmp_path / "keys", version=4)))

    code, output = _sync(url, till)

    assert code == 3 and "bundle refused (malformed)" in one_line(output)


# --- what the device folder holds ------------------------------------------------------


def _corrupt(folder: Path, damage: str) -> None:
    if damage == "keys not JSON":
        (folder / "trusted-keys.json").write_text("{not json")
    elif damage == "keys of the wrong type":
        (folder / "trusted-keys.json").write_text('{"8f667e5c485686b4": 5}')
    elif damage == "empty state":
        (folder / "state.json").write_text("")
    elif damage == "hostile signature":
        bundle = folder / "bundle.rbundle"
        bundle.write_bytes(_hostile_signature(bundle.read_bytes()))


# (state.json is read by sync only; sync replaces an unreadable bundle, so a hostile one
# matters to status and evaluate)
DAMAGED = [(damage, command) for damage in ("keys not JSON", "keys of the wrong type")
           for command in ("sync", "status", "evaluate")] + [
    ("empty state", "sync"), ("hostile signature", "status"),
    ("hostile signature", "evaluate")]


@pytest.mark.parametrize(("damage", "command"), DAMAGED)
def test_a_damaged_device_folder_is_one_line_exit_3(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path, command: str, damage: str
) -> None:
    url, handler = server
    handler.bundle = (200, {}, bundle_bytes(tmp_path / "keys", version=4))
    _corrupt(till, damage)
    (tmp_path / "basket.json").write_text(json.dumps(basket()))

    code, output = {
        "sync": lambda: _sync(url, till),
        "status": lambda: remise("device", "status", "--dir", str(till)),
        "evaluate": lambda: remise("device", "evaluate", "--dir", str(till), "--basket",
                                    str(tmp_path / "basket.json")),
    }[command]()

    assert code == 3, output
    one_line(output)


def test_a_read_only_device_folder_is_one_line_exit_3(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, handler = server
    handler.bundle = (200, {}, bundle_bytes(tmp_path / "keys", version=4))
    good = (till / "bundle.rbundle").read_bytes()

    def read_only(_path: Path, _data: bytes) -> None:
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr(engine.device, "write_atomically", read_only)  # root ignores chmod
    code, output = _sync(url, till)

    assert code == 3 and "Read-only file system" in one_line(output)
    assert (till / "bundle.rbundle").read_bytes() == good


def test_a_dir_naming_a_file_is_one_line_exit_3(
    server: tuple[str, type[FakeServer]], tmp_path: Path
) -> None:
    url, _ = server
    (tmp_path / "afile").write_text("")

    code, output = remise("device", "trust", "--server", url, "--key", "k", "--dir",
                          str(tmp_path / "afile"), "--key-id", _key_id(tmp_path))

    assert code == 3 and "cannot write" in one_line(output)


def test_sync_replaces_a_bundle_file_the_device_did_not_install(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path
) -> None:
    # given a till holding version 3, then version 4, then version 3's file copied back
    older = (till / "bundle.rbundle").read_bytes()
    now = datetime.now(UTC)
    newer = bundle_bytes(tmp_path / "keys", version=4, now=now)
    engine.DeviceFolder(till).install(newer, now=now, ruleset="fr", channel="pos",
                                      store="paris-01")
    (till / "bundle.rbundle").write_bytes(older)
    url, handler = server
    handler.bundle = (200, {}, newer)

    # when it syncs (the file refused is not named as the one held: no 304 for it)
    code, output = _sync(url, till)

    # then it installs the server's bundle again
    assert (code, output.split(" for ")[0]) == (0, "installed: fr version 4")
    assert engine.DeviceFolder(till).current(now).header.version == 4  # type: ignore[union-attr]


# --- downloads that never end ----------------------------------------------------------


def test_a_dripping_download_stops_at_the_deadline(
    server: tuple[str, type[FakeServer]], till: Path, tmp_path: Path
) -> None:
    url, handler = server
    handler.bundle, handler.drip = (200, {}, bundle_bytes(tmp_path / "keys", version=4)), 0.05
    started = time.monotonic()

    code, output = _sync(url, till, "--deadline", "1")

    assert code == 2 and "download deadline" in one_line(output)
    assert time.monotonic() - started < 10


def test_a_gzip_bomb_is_refused_past_the_size_limit(
    server: tuple[str, type[FakeServer]], till: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = server
    handler.bundle = (200, {"Content-Encoding": "gzip"}, gzip.compress(bytes(8 * 2**20)))
    monkeypatch.setattr(cli_device, "MAX_BUNDLE_BYTES", 2**20)
    good = (till / "bundle.rbundle").read_bytes()

    code, output = _sync(url, till)

    assert code == 2 and "more than 1 MiB" in one_line(output)
    assert (till / "bundle.rbundle").read_bytes() == good


def test_the_size_limit_leaves_room_for_100_000_rules(tmp_path: Path) -> None:
    # given the bundle of 1,000 rules of the benchmarks' realistic mix, for every store
    # (the largest: no store-limited rule is left out)
    ruleset = dsl.compile_source(rules_source(1_000), "generated.rules", publish_at=BENCH_AT)
    ruleset = ruleset.model_copy(update={"version": 1,
                                         "content_hash": content_hash(ruleset.to_json())})
    data = issuer(tmp_path / "keys").issue("fr", ruleset, "pos", None, BENCH_AT)

    # then a hundred times as many rules decode to at most half the download limit
    assert 100 * len(data) <= cli_device.MAX_BUNDLE_BYTES // 2
