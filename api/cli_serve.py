"""``remise serve`` and ``remise keys``: run the HTTP API, manage its API keys."""

from __future__ import annotations

import copy
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

import dsl
import rules
from rules.bundles import SigningKeys, first_key_audited
from rules.db import redact_url

from .auth import ROLES, KeyExists, KeyRevoked, KeyStore
from .cli_common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    announcing,
    cli_actor,
    cli_address,
    fail,
)

DEMO_RULES = Path(__file__).resolve().parents[1] / "examples" / "rules"

keys_app = typer.Typer(help="API keys of the HTTP API (one role each).", no_args_is_help=True)


def open_store() -> tuple[rules.Settings, rules.RuleStore]:
    try:
        settings = rules.Settings.from_env()
        return settings, rules.open_store(settings)
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)


def _publish_demo(store: rules.RuleStore, folder: Path) -> None:
    """The first start of an empty store publishes the demo rules as `default`."""
    if store.rulesets() or not folder.is_dir():
        return
    sources = {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
               for path in dsl.rule_files([folder])}
    try:
        version = store.publish("default", sources, message="demo rule set (first start)",
                                author="remise serve", parent=0, address="local")
    except rules.Conflict:  # another server starting on the same store published it first
        typer.echo("the demo rules were published by another server starting meanwhile")
        return
    typer.echo(f"published the demo rules ({version.rule_count} rules) as rule set "
               f"'default', version {version.number}")


def _first_admin_key(keys: KeyStore) -> None:
    if keys.has_active_admin():
        typer.echo("admin key: already created (make another with "
                   "`remise keys create --role admin --name NAME`)")
        return
    # Names are never reused: after "admin" was revoked, the next free "admin-N".
    taken = {known.name for known in keys.list_keys()}
    name = next(candidate for candidate in ("admin", *(f"admin-{n}" for n in range(2, 10**6)))
                if candidate not in taken)
    try:
        key = keys.create(name, "admin", created_by="remise serve", address="local")
    except KeyExists:  # another server starting on the same store made it first
        typer.echo(f"admin key: {name!r} was created by another server starting meanwhile "
                   "(its output shows it)")
        return
    named = "" if name == "admin" else f" {name!r}"
    typer.echo(f"admin key{named} (shown once, keep it): {key}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    demo: Annotated[bool, typer.Option(
        "--demo/--no-demo", help="Publish the demo rules into an empty store.")] = True,
) -> None:
    """Run the HTTP API. With nothing configured: SQLite under ./remise-data, the demo
    rules published as `default`, and an admin key printed on first start.

    Production reads REMISE_DATABASE_URL (PostgreSQL, migrated first with `remise db
    upgrade`), REMISE_REDIS_URL and REMISE_REDIS_PREFIX; every setting is in
    docs/store.md."""
    _check_metrics_folder()
    _check_port(host, port)
    settings, store = open_store()
    check_keys_folder(settings.signing_keys_dir)
    if demo:
        # announced: servers already running on this database (another host's first
        # start, say) serve the demo at once, not at their next poll
        fanout = announcing(settings, store)
        _publish_demo(store, DEMO_RULES)
        if fanout is not None:
            fanout.close()
    _first_admin_key(KeyStore(store))
    # before the workers start: one key
    SigningKeys(settings.signing_keys_dir,
                first_key_audited(store, "remise serve", "local")).active()
    store.db.dispose()
    shared_metrics = _share_metrics() if workers > 1 else None
    typer.echo(start_line(settings, host, port))
    try:
        uvicorn.run("api.app:create_server_app", factory=True, host=host, port=port,
                    workers=workers, log_level="info", access_log=False,
                    log_config=log_config())
    finally:
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)


def start_line(settings: rules.Settings, host: str, port: int) -> str:
    """What the server serves and from where, as an operator checks it: the database (its
    password hidden) and the Redis prefix, which deployments sharing a Redis must not
    share (it said "the configured database" and "Redis fan-out", naming neither)."""
    where = ("SQLite " + settings.database_url.split("///", 1)[-1] if settings.embedded
             else redact_url(settings.database_url))
    follow = (f"Redis fan-out on {redact_url(settings.redis_url)}, prefix "
              f"{settings.redis_prefix!r}" if settings.redis_url else "polling")
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"  # IPv6
    return f"remise on {url} (API docs: {url}/docs), rules in {where}, {follow}"


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with remise's own loggers (``remise.live``, ``remise.ahead``,
    ``remise.api``) on its handler at INFO. Without them, a new version going live or the
    next hour prepared was never said, and a warning (Redis lost) reached stderr through
    Python's last-resort handler, without its level."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["remise"] = {"handlers": ["default"], "level": "INFO",
                                   "propagate": False}
    return config


def _check_port(host: str, port: int) -> None:
    """A port already taken made serve publish the demo and print a new admin key, then
    stop: refused before anything is written. Bound as uvicorn binds (SO_REUSEADDR), so
    a port left in TIME_WAIT by a server just stopped is not refused."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as error:
        fail(f"cannot listen on {host!r}: {getattr(error, 'strerror', None) or error}",
             EXIT_BAD_INPUT)
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            fail(f"cannot listen on {host}:{port}: {error.strerror or error} (another server "
                 "there? choose another --port)", EXIT_REFUSED)


def check_keys_folder(folder: Path) -> None:
    """A bundle-keys folder that is a file stopped serve with "[Errno 17] File exists"
    after it had published the demo and printed an admin key, and `bundle-keys` with
    that line alone: refused first, naming the setting."""
    file = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if file is not None:
        fail(f"cannot use {folder} as the bundle keys folder: {file} is a file "
             "(REMISE_BUNDLE_KEYS_DIR, or bundle-keys in REMISE_DATA_DIR)", EXIT_REFUSED)


def _check_metrics_folder() -> None:
    """A PROMETHEUS_MULTIPROC_DIR that is not a folder made every evaluate a 500 while
    /readyz said ready: refused before anything starts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder is not None and not Path(folder).is_dir():
        fail(f"PROMETHEUS_MULTIPROC_DIR {folder!r} is not a folder: create it, or unset it "
             "and remise makes one", EXIT_REFUSED)  # a setting, as REMISE_...'s are


def _share_metrics() -> str | None:
    """Workers write their metrics to one folder so /metrics adds them all up; returns
    the folder when it is ours to remove afterwards."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder is not None:
        for stale in Path(folder).glob("*.db"):  # a previous run's figures
            stale.unlink()
        return None
    folder = tempfile.mkdtemp(prefix="remise-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # inherited by the workers
    return folder


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses it, e.g. till-paris.")],
) -> None:
    """Create an API key and print it, once."""
    _, store = open_store()
    try:
        key = KeyStore(store).create(name, role, created_by=cli_actor(), address=cli_address())
    except KeyExists as error:  # a conflict, as the API's 409
        fail(str(error), EXIT_REFUSED)
    except rules.InvalidRequest as error:
        fail(str(error), EXIT_BAD_INPUT)
    typer.echo(key)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke an API key (refused everywhere within seconds)."""
    _, store = open_store()
    try:
        KeyStore(store).revoke(name, revoked_by=cli_actor(), address=cli_address())
    except (rules.NotFound, KeyRevoked) as error:  # as the API's 404 and 409
        fail(str(error), EXIT_REFUSED)
    except rules.InvalidRequest as error:
        fail(str(error), EXIT_BAD_INPUT)
    typer.echo(f"revoked {name}")


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (names, roles, prefixes; never the keys)."""
    _, store = open_store()
    for key in KeyStore(store).list_keys():
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        typer.echo(f"{key.name:<24} {key.role:<9} {key.prefix}…  {state}")


__all__ = ["keys_app", "log_config", "open_store", "serve", "start_line"]
