"""``remise device``: a store device's side of offline pricing.

``trust`` pins the server's bundle signing keys, ``sync`` downloads the live
bundle (with its ETag: an unchanged bundle costs a 304), verifies it and
installs it atomically, ``evaluate`` prices a basket offline, ``status`` says
what the device holds. Exit codes: 0 done; 2 bad input or unusable server
answer; 3 the bundle was refused (the last good one stays) or the device
cannot price.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

import engine

from .cli_common import EXIT_BAD_INPUT, EXIT_REFUSED, fail, parse_instant, read_basket

device_app = typer.Typer(help="Offline pricing on a store device.", no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", help="The device's folder.")]
ServerOption = Annotated[str, typer.Option("--server", help="e.g. https://remise.example")]
KeyOption = Annotated[str, typer.Option("--key", help="A `device` API key.",
                                        envvar="REMISE_DEVICE_KEY")]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def _get(server: str, path: str, key: str, **kwargs: object) -> httpx.Response:
    try:
        return httpx.get(server.rstrip("/") + path, timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {key}",
                                  **kwargs.pop("headers", {})},  # type: ignore[dict-item]
                         **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as error:
        fail(f"cannot reach {server}: {error}", EXIT_BAD_INPUT)


def _problem(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]


@device_app.command("trust")
def trust(server: ServerOption, key: KeyOption, folder: DirOption) -> None:
    """Trust the server's bundle signing keys (run once when the device is set up,
    and again when the keys rotate)."""
    response = _get(server, "/v1/bundles/keys", key)
    if response.status_code != 200:
        fail(f"the server refused ({response.status_code}): {_problem(response)}",
              EXIT_BAD_INPUT)
    keys = {item["key_id"]: base64.b64decode(item["public_key"])
            for item in response.json()["keys"]}
    try:
        added = engine.DeviceFolder(folder).trust(keys)
    except engine.DeviceError as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(f"trusting {len(keys)} key(s); new: {', '.join(added) or 'none'}")


@device_app.command("sync")
def sync(
    server: ServerOption, key: KeyOption, folder: DirOption,
    ruleset: Annotated[str, typer.Option("--ruleset")] = "default",
    channel: Annotated[str, typer.Option("--channel")] = "pos",
    store: Annotated[str | None, typer.Option("--store")] = None,
) -> None:
    """Download the live bundle if it changed, verify it, install it atomically."""
    device = engine.DeviceFolder(folder)
    now = datetime.now(UTC)
    if not device.trusted_keys():
        trust(server, key, folder)
    try:
        current = device.current(now)
    except engine.BundleRefused:
        current = None  # an unreadable installed bundle is replaced by a good one
    headers = {"If-None-Match": f'"{current.digest}"'} if current else {}
    params = {"channel": channel, **({"store": store} if store else {})}
    response = _get(server, f"/v1/bundles/{ruleset}", key, params=params, headers=headers)
    if response.status_code == 304 and current is not None:
        typer.echo(f"unchanged: {_describe(current)}")
        return
    if response.status_code != 200:
        fail(f"the server refused ({response.status_code}): {_problem(response)}",
              EXIT_BAD_INPUT)
    try:
        installed = device.install(response.content, now=now, ruleset=ruleset,
                                   channel=channel, store=store)
    except engine.BundleRefused as error:
        fail(f"bundle refused ({error.reason}): {error}; keeping the last good bundle",
              EXIT_REFUSED)
    except engine.DeviceError as error:
        fail(str(error), EXIT_REFUSED)
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
    except engine.BundleRefused as error:
        fail(f"the installed bundle is refused ({error.reason}): {error}", EXIT_REFUSED)
    typer.echo(f"trusted keys: {', '.join(sorted(device.trusted_keys())) or 'none'}")
    if current is None:
        typer.echo("no bundle yet: run `remise device sync`")
        return
    state = "EXPIRED" if current.expired(now) else "valid"
    typer.echo(f"bundle: {_describe(current)} ({state}); sha256 {current.digest}")


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
    try:
        response = engine.DeviceFolder(folder).evaluate(data, now=datetime.now(UTC),
                                                        when_expired=when_expired)
    except engine.BasketError as error:
        fail(f"basket {basket}: {error}", EXIT_BAD_INPUT)
    except (engine.DeviceError, engine.BundleRefused) as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(engine.dumps(response))


__all__ = ["device_app"]
