"""``remise bundle-keys``: the Ed25519 keys that sign device bundles, and their rotation.

Rotating without stopping a till: ``add`` a standby key (listed by
``/v1/bundles/keys`` but not signing), have every device ``trust`` its id,
``activate`` it, then ``retire`` the old one. Each change is written to the
audit log, which is why these commands open the rule store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

import rules
from engine.bundle import fingerprint_of, key_id_of
from rules.bundles import SigningKeys, SigningKeyUnusable, first_key_audited, raw_public

from .cli_common import EXIT_REFUSED, cli_actor, cli_address, fail
from .cli_serve import check_keys_folder, open_store

bundle_keys_app = typer.Typer(
    help="The keys that sign device bundles: list, add a standby key, activate, retire.",
    no_args_is_help=True)

KeyIdArgument = Annotated[str, typer.Argument(
    help="The key's id (16 hexadecimal digits, as `remise bundle-keys list` shows).",
    parser=lambda text: text.strip().lower())]


def _keys() -> tuple[rules.RuleStore, SigningKeys]:
    settings, store = open_store()
    check_keys_folder(settings.signing_keys_dir)
    return store, SigningKeys(settings.signing_keys_dir,
                              first_key_audited(store, cli_actor(), cli_address()))


def _audited(store: rules.RuleStore, action: str, message: str, details: dict[str, Any],
             change: Callable[[], None]) -> None:
    """Make the change with its audit entry: the entry is written (and the database
    proven reachable) first, and is committed only once the change is made."""
    try:
        with Session(store.db) as session, session.begin():
            store.record(actor=cli_actor(), action=action, address=cli_address(),
                         message=message, details=details, session=session)
            session.flush()
            change()
    except (rules.NotFound, rules.InvalidRequest, SigningKeyUnusable) as error:
        fail(str(error), EXIT_REFUSED)  # no such key; the active one; a damaged key file
    except OSError as error:
        fail(f"cannot change the bundle keys in {error.filename}: {error.strerror}",
             EXIT_REFUSED)


@bundle_keys_app.command("list")
def list_keys() -> None:
    """Every signing key: id, active or standby, and the full SHA-256 fingerprint."""
    _, keys = _keys()
    try:
        listed = keys.public_keys()  # makes the first key, as a server's first bundle would
        active = keys.active_id()
    except SigningKeyUnusable as error:  # a key file damaged by hand: which, and why
        fail(str(error), EXIT_REFUSED)
    for key_id, public_key in listed.items():
        state = "active" if key_id == active else "standby"
        typer.echo(f"{key_id}  {state:<7}  sha256:{fingerprint_of(public_key)}")


@bundle_keys_app.command("add")
def add() -> None:
    """Add a standby key (listed to devices, not signing yet) and print its id and
    fingerprint, to give to `remise device trust --key-id` on every device."""
    store, keys = _keys()
    key = Ed25519PrivateKey.generate()
    key_id, sha256 = key_id_of(raw_public(key)), fingerprint_of(raw_public(key))
    _audited(store, "bundle_key_add", f"standby bundle signing key {key_id} added",
             {"key_id": key_id, "sha256": sha256},
             lambda: keys.install(key, activate=False))
    typer.echo(f"added standby key {key_id}  sha256:{sha256}")


@bundle_keys_app.command("activate")
def activate(key_id: KeyIdArgument) -> None:
    """Sign bundles with this key from now on (trust it on every device first: a device
    refuses a bundle signed by a key it does not trust)."""
    store, keys = _keys()
    before = keys.active_id()
    _audited(store, "bundle_key_activate", f"bundle signing key {key_id} active",
             {"key_id": key_id, "previous": before}, lambda: keys.activate(key_id))
    typer.echo(f"active key: {key_id} (was {before or 'none'})")


@bundle_keys_app.command("retire")
def retire(key_id: KeyIdArgument) -> None:
    """Delete a standby key (a retired or leaked one; never the active key). Devices
    still trusting it: `remise device untrust --key-id`."""
    store, keys = _keys()
    _audited(store, "bundle_key_retire", f"bundle signing key {key_id} retired",
             {"key_id": key_id}, lambda: keys.retire(key_id))
    typer.echo(f"retired key {key_id}")


__all__ = ["bundle_keys_app"]
