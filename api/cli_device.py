"""``remise device``: a store device's side of offline pricing.

``trust`` pins the server's bundle signing keys whose ids are given (read on
the server: never every key a server lists), ``untrust`` drops one, ``sync``
downloads the live bundle (with its ETag: an unchanged bundle costs a 304),
verifies it and installs it atomically, ``evaluate`` prices a basket offline, ``status`` says
what the device holds. Exit codes: 0 done; 2 bad input or unusable server
answer; 3 the bundle was refused (the last good one stays) or the device
cannot price.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer

import engine
import engine.device
from engine.errors import printable
from rules.store import NAME_PATTERN

from .cli_common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    fail,
    parse_instant,
    read_basket,
    write_utf8,
)

device_app = typer.Typer(help="Offline pricing on a store device.", no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", help="The device's folder.")]
ServerOption = Annotated[str, typer.Option("--server", help="e.g. https://remise.example")]
KeyOption = Annotated[str, typer.Option("--key", help="A `device` API key.",
                                        envvar="REMISE_DEVICE_KEY")]
InsecureOption = Annotated[bool, typer.Option(
    "--insecure", help="Allow a plain http:// server other than this machine, on a network "
                       "you trust: the device key and the key list travel unprotected.")]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)  # per connect and per read
# The whole download's deadline: a server dripping a byte at a time never trips the
# per-read timeout. 100,000 rules are ~2 MiB gzipped: 5 minutes at 64 kbit/s.
DOWNLOAD_SECONDS = 300.0
# Decoded size, checked while decoding (a 1 MB gzip can hold 1 GB of zeros); 100,000
# rules are ~32 MiB raw. The most a device reads from its folder too.
MAX_BUNDLE_BYTES = engine.device.MAX_BUNDLE_BYTES
# A server's list of signing keys: a few hundred bytes a key. Parsed before any key is
# trusted, so whoever answers in the server's place chooses it.
MAX_KEY_LIST_BYTES = 1024 * 1024
# What a till whose server rotated its signing key is to do (docs/devices.md).
ROTATED = (" (if the server's signing key was rotated: read the new key's id on the server, "
           "`remise bundle-keys list`, and run `remise device trust --key-id` with it)")
# engine.bundle.key_id_of: 16 digits; or the whole SHA-256 of the key
_KEY_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{64}")


def _check_server(server: str, insecure: bool) -> None:
    """https, or plain http to this machine only, unless ``insecure``. Bundles are signed,
    but the key list ``trust`` reads is not, and the device key goes with every request:
    over plain http anyone on the way reads the key and answers in the server's place
    (its own key to trust; old bundles, or none, to a syncing till)."""
    try:
        parts = urlsplit(server)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        fail(f"--server {server!r} is not an https:// address (e.g. https://remise.example)",
             EXIT_BAD_INPUT)
    if scheme == "http" and not insecure and not _loopback(host):
        fail(f"refusing plain http to {host}: anyone on the network could read this "
             "device's key and answer in the server's place; use https://, or --insecure "
             "on a network you trust", EXIT_BAD_INPUT)


def _loopback(host: str) -> bool:
    """This machine, named so that no name server or network has a say (127.0.0.0/8, ::1,
    localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: httpx.Headers
    body: bytes


def _get(server: str, path: str, key: str, *, params: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, deadline: float = DOWNLOAD_SECONDS,
         limit: int | None = None) -> _Answer:
    """The server's whole answer, within ``deadline`` seconds and ``limit`` bytes
    (MAX_BUNDLE_BYTES when None, read at each call)."""
    limit = MAX_BUNDLE_BYTES if limit is None else limit
    try:
        with httpx.stream("GET", server.rstrip("/") + path, params=params, timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {key}", **(headers or {})}
                          ) as response:
            body = _read_bounded(response, server, time.monotonic() + deadline, limit)
            return _Answer(response.status_code, response.headers, body)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as error:
        fail(f"cannot reach {server}: {_said(error)}", EXIT_BAD_INPUT)
    except httpx.DecodingError as error:  # what answered is not the server's gzip
        fail(f"{server} sent an answer that does not decode ({_said(error)}): a proxy in "
             "the way?", EXIT_BAD_INPUT)
    except httpx.HTTPError as error:
        # reached, then the exchange broke off: the network dropped, or the server stopped
        fail(f"the exchange with {server} broke off: {_said(error)}", EXIT_BAD_INPUT)


def _said(error: Exception) -> str:
    return printable(str(error)) or type(error).__name__


def _read_bounded(response: httpx.Response, server: str, deadline: float,
                  limit: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():  # decoded (gzip) chunk by chunk
        body += chunk
        if len(body) > limit:
            fail(f"{server} sent more than {limit // 2**20} MiB: refused", EXIT_BAD_INPUT)
        if time.monotonic() > deadline:
            fail(f"{server} did not finish sending within the download deadline",
                 EXIT_BAD_INPUT)
    return bytes(body)


def _refusal(answer: _Answer) -> str:
    """One line saying why the server did not give what was asked."""
    if 300 <= answer.status < 400:
        return (f"the server redirected ({answer.status}) to "
                f"{printable(answer.headers.get('location') or 'nowhere')}: give that address "
                "as --server")
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        data = None
    detail = data.get("detail") if isinstance(data, dict) else None
    if answer.status == 404 and detail in (None, "Not Found"):  # no remise problem: a path
        return ("the server has no such address (404): give --server as the server's root "
                "(e.g. https://remise.example), without /v1")
    text = str(detail) if detail else answer.body.decode("utf-8", "replace")
    # An HTML page on one line; what a terminal would act on (an escape sequence from
    # whoever answered) written out as text.
    text = printable(" ".join(text.split())[:200])
    return f"the server refused ({answer.status}): {text or 'no explanation given'}"


def _public_keys(body: bytes) -> dict[str, bytes]:
    try:
        return {str(item["key_id"]): base64.b64decode(item["public_key"], validate=True)
                for item in json.loads(body)["keys"]}
    except (ValueError, KeyError, TypeError, RecursionError):
        fail("the server's answer is not a list of signing keys (a captive portal or a "
             "proxy's page?)", EXIT_BAD_INPUT)


@device_app.command("trust")
def trust(
    server: ServerOption, key: KeyOption, folder: DirOption,
    key_ids: Annotated[list[str] | None, typer.Option(
        "--key-id", help="The id of a signing key to trust, read on the server with "
                         "`remise bundle-keys list`: its 16-digit id, or better its whole "
                         "sha256 fingerprint; repeat for several.")] = None,
    insecure: InsecureOption = False,
) -> None:
    """Trust the server's bundle signing keys whose ids are given (run once when the
    device is set up, and again when the keys rotate)."""
    _check_server(server, insecure)
    wanted = _key_ids(key_ids, "give --key-id with the id of the server's signing key, "
                               "read on the server (docs/devices.md, 'Trusting the server's "
                               "key'): a device no longer trusts every key a server lists")
    answer = _get(server, "/v1/bundles/keys", key, limit=MAX_KEY_LIST_BYTES)
    if answer.status != 200:
        fail(_refusal(answer), EXIT_BAD_INPUT)
    try:
        added = engine.DeviceFolder(folder).trust_listed(_public_keys(answer.body), wanted)
    except engine.DeviceError as error:
        fail(str(error), EXIT_REFUSED)
    ids = dict.fromkeys(text[:16] for text in wanted)
    typer.echo(f"trusting {', '.join(ids)}; new: {', '.join(added) or 'none'}")


def _key_ids(given: list[str] | None, none_given: str) -> list[str]:
    """The ids (or whole fingerprints) given, checked before any request: the key list a
    server answers proves nothing, only an id read on the server itself does."""
    if not given:
        fail(none_given, EXIT_BAD_INPUT)
    ids = [key_id.strip().lower().removeprefix("sha256:") for key_id in given]
    for key_id in ids:
        if not _KEY_ID.fullmatch(key_id):
            fail(f"--key-id {key_id!r} is not a key id (16 hexadecimal digits, or the 64 "
                 "of its sha256, as `remise bundle-keys list` shows them)", EXIT_BAD_INPUT)
    return ids


@device_app.command("untrust")
def untrust(
    folder: DirOption,
    key_ids: Annotated[list[str] | None, typer.Option(
        "--key-id", help="The id of a signing key to stop trusting (`remise device status` "
                         "lists them); repeat for several.")] = None,
) -> None:
    """Stop trusting signing keys (a key leaked, or retired): the bundles they signed are
    refused, the installed one included, until a sync installs one signed by another."""
    wanted = [text[:16] for text in _key_ids(
        key_ids, "give --key-id with the id of the key to stop trusting (`remise device "
                 "status` lists them)")]
    device = engine.DeviceFolder(folder)
    signer = _installed_signer(device)
    try:
        device.untrust(wanted)
        left = device.trusted_keys()
    except engine.DeviceError as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(f"no longer trusting {', '.join(wanted)}; trusted keys: "
               f"{', '.join(sorted(left)) or 'none'}")
    if signer in wanted:
        # the till stops pricing now: said here, not at the next customer's basket
        typer.echo(f"warning: the installed bundle was signed by {signer}: this device "
                   "refuses to price until `remise device sync` installs one signed by a key "
                   "it trusts", err=True)


def _installed_signer(device: engine.DeviceFolder) -> str | None:
    """The key that signed the bundle this device prices with (None: it has none usable)."""
    try:
        installed = device.current(datetime.now(UTC))
    except (engine.BundleRefused, engine.DeviceError):
        return None
    return installed.key_id if installed is not None else None


@device_app.command("sync")
def sync(
    server: ServerOption, key: KeyOption, folder: DirOption,
    ruleset: Annotated[str, typer.Option("--ruleset")] = "default",
    channel: Annotated[str, typer.Option("--channel")] = "pos",
    store: Annotated[str | None, typer.Option("--store")] = None,
    deadline: Annotated[float, typer.Option(
        "--deadline", min=0.1, help="Seconds the whole download may take.")
                        ] = DOWNLOAD_SECONDS,
    insecure: InsecureOption = False,
) -> None:
    """Download the live bundle if it changed, verify it, install it atomically."""
    _check_server(server, insecure)
    if not NAME_PATTERN.fullmatch(ruleset):
        # it goes into the address: "../keys" asked for /v1/keys with the device's key
        fail(f"--ruleset {ruleset!r} is not a rule set name: 1 to 64 lower-case letters, "
             "digits, '-' or '_' (e.g. default)", EXIT_BAD_INPUT)
    _check_place(channel, store)
    device = engine.DeviceFolder(folder)
    try:
        if not device.trusted_keys():
            # never trust the server's list here: whoever answers this request (a rogue
            # server, a man in the middle) would choose the key, then the bundle
            fail(engine.device.NO_TRUSTED_KEY, EXIT_REFUSED)
        _sync(device, server, key, ruleset, channel, store, deadline)
    except engine.DeviceError as error:  # a corrupt or unwritable device folder
        fail(str(error), EXIT_REFUSED)


def _check_place(channel: str, store: str | None) -> None:
    """Before any request: an empty --store downloaded every store's bundle, then refused
    it (`for store None, not ''`), and a misspelt channel cost a round trip."""
    if channel not in engine.ir.CHANNELS:
        fail(f"--channel {channel!r} is not a channel: one of "
             f"{', '.join(engine.ir.CHANNELS)}", EXIT_BAD_INPUT)
    if store is not None and not store.strip():
        fail("--store is empty: give the store's id as baskets name it (e.g. paris-01), "
             "or leave --store out for every store of the channel", EXIT_BAD_INPUT)


def _sync(device: engine.DeviceFolder, server: str, key: str, ruleset: str, channel: str,
          store: str | None, deadline: float) -> None:
    now = datetime.now(UTC)
    try:
        current = device.current(now)
    except (engine.BundleRefused, engine.device.ReplacedBundle):
        current = None  # an unreadable or replaced installed bundle: a good one replaces it
    headers = {"If-None-Match": f'"{current.digest}"'} if current else {}
    params = {"channel": channel, **({"store": store} if store else {})}
    answer = _get(server, f"/v1/bundles/{ruleset}", key, params=params, headers=headers,
                  deadline=deadline)
    if answer.status == 304 and current is not None:
        typer.echo(f"unchanged: {_describe(current)}")
        return
    if answer.status != 200:
        fail(_refusal(answer), EXIT_BAD_INPUT)
    try:
        installed = device.install(answer.body, now=now, ruleset=ruleset, channel=channel,
                                   store=store)
    except engine.BundleRefused as error:
        fail(f"bundle refused ({error.reason}): {error}; keeping the last good bundle"
             f"{ROTATED if error.reason == 'unknown_key' else ''}", EXIT_REFUSED)
    typer.echo(f"installed: {_describe(installed)}")


def _describe(bundle: engine.Bundle) -> str:
    header = bundle.header
    return (f"{header.ruleset} version {header.version} for {header.channel} "
            f"{header.store or '(every store)'}, {header.rules} rules, valid offline until "
            f"{header.offline_valid_until.isoformat()}")


@device_app.command("status")
def status(folder: DirOption) -> None:
    """What the device holds: its bundle, its trusted keys."""
    device = engine.DeviceFolder(folder)
    now = datetime.now(UTC)
    try:
        current = device.current(now)
        trusted = device.trusted_keys()
    except engine.BundleRefused as error:
        fail(f"the installed bundle is refused ({error.reason}): {error}", EXIT_REFUSED)
    except engine.DeviceError as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(f"trusted keys: {', '.join(sorted(trusted)) or 'none'}")
    if current is None:
        typer.echo("no bundle yet: run `remise device sync`")
        return
    typer.echo(f"bundle: {_describe(current)} ({_validity(current, now)}); sha256 "
               f"{current.digest}")


def _validity(bundle: engine.Bundle, now: datetime) -> str:
    """As `evaluate` sees the bundle: a clock set back before its issue prices as if
    it had expired (docs/devices.md, 'When the bundle has expired')."""
    if engine.device.clock_is_behind(bundle, now):
        return (f"CLOCK BEHIND: this device's clock ({now.isoformat(timespec='seconds')}) "
                f"reads before the bundle was issued ({bundle.header.issued_at.isoformat()}),"
                " so it is priced as expired: set the clock")
    return "EXPIRED" if bundle.expired(now) else "valid"


@device_app.command("evaluate")
def evaluate(
    folder: DirOption,
    basket: Annotated[Path, typer.Option("--basket", help="Basket JSON file, or - for stdin.")],
    at: Annotated[str | None, typer.Option("--at", help="Instant (ISO-8601 with offset); "
                                                        "default: the basket's, else now.")
                  ] = None,
    when_expired: Annotated[engine.WhenExpired, typer.Option(
        "--when-expired", help="Policy once the bundle is past its offline validity.",
        envvar="REMISE_DEVICE_WHEN_EXPIRED")] = engine.WhenExpired.MARK_STALE,
) -> None:
    """Price a basket offline with the installed bundle; print the response JSON."""
    data = read_basket(basket)
    if at is not None:
        data["at"] = parse_instant(at, "--at").isoformat()
    # `replay` is the evaluation contract's, read by the server and `remise evaluate`
    # before the engine sees the basket: false prices as usual; true asks for the
    # version live at the basket's `at`, which only the rule store knows.
    replay = data.pop("replay", False)
    if not isinstance(replay, bool):
        fail(f"basket {basket}: replay: expected true or false", EXIT_BAD_INPUT)
    if replay:
        fail(f"basket {basket}: a replay prices on the version that was live at the "
             "basket's `at`, which only the server knows: replay it there (POST "
             "/v1/evaluate with a finance key, or `remise evaluate --ruleset NAME`)",
             EXIT_REFUSED)
    try:
        response = engine.DeviceFolder(folder).evaluate(data, now=datetime.now(UTC),
                                                        when_expired=when_expired)
    except engine.BasketError as error:
        fail(f"basket {basket}: {error}", EXIT_BAD_INPUT)
    except (engine.DeviceError, engine.BundleRefused) as error:
        fail(str(error), EXIT_REFUSED)
    write_utf8([engine.dumps(response), "\n"])  # the server's bytes, whatever the locale


__all__ = ["device_app"]
