"""The device runtime: a folder holding the last good bundle, evaluated offline.

Needs no server, web framework, SQL or parser: only the engine. The folder
holds ``bundle.rbundle`` (the last good bundle), ``trusted-keys.json`` (the
Ed25519 public keys the device trusts, by key id) and ``state.json`` (the
highest version ever installed of each rule set, so an older bundle is refused
even after the current one is deleted, and a device can move to another rule
set, whose numbers are its own, and the digest of the bundle installed: another
bundle file, even signed, is not used). Every write is atomic (a temporary file,
fsync, rename): a crash or a corrupt download never replaces the last good bundle.
One command writes at a time (``write.lock``): a sync started by hand while the
timer's runs, or an untrust during a sync, waits for the other to finish.

When the bundle is past ``offline_valid_until`` the device follows its
policy (``WhenExpired``): ``mark-stale`` (default) prices as usual and marks
the answer ``"stale": true``; ``base-prices`` applies no rule at all (the
basket's own prices) and marks it stale; ``refuse`` refuses to price.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .basket import BasketRequest, parse_request
from .bundle import (
    Bundle,
    BundleHeader,
    BundleRefused,
    canonical_json,
    fingerprint_of,
    key_id_of,
    read_bundle,
)
from .errors import BasketError, RemiseError
from .evaluator import Evaluator

BUNDLE_FILE = "bundle.rbundle"
KEYS_FILE = "trusted-keys.json"
STATE_FILE = "state.json"
LOCK_FILE = "write.lock"
# How long a command waits for another one writing the folder: an install verifies the
# bundle under the lock (about 0.2 s at 10,000 rules on a server core, more on a till).
LOCK_WAIT_SECONDS = 60.0
# How far a bundle's issue may be ahead of the device's clock: the server issues at the
# start of its hour, and a till's clock may drift by minutes, not by more than this.
CLOCK_SKEW = timedelta(hours=1)
# How old a temporary file of the folder must be to be taken for a crash's leftover.
LEFTOVER_SECONDS = 3600.0
NO_TRUSTED_KEY = ("this device trusts no signing key yet: run `remise device trust --key-id "
                  "ID` first, with the id of the server's signing key (docs/devices.md, "
                  "'Trusting the server's key')")


# The largest bundle a device reads (100,000 rules are ~32 MiB), and the largest keys or
# state file (a few hundred bytes): a file of the folder is read whole, and one that is
# a link to /dev/zero, or a file of gigabytes, took all the till's memory.
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
MAX_SMALL_FILE_BYTES = 1024 * 1024


# A file's inode, modification time (ns) and size: None when it is not there.
_Stamp = tuple[int, int, int] | None


class WhenExpired(StrEnum):
    MARK_STALE = "mark-stale"
    BASE_PRICES = "base-prices"
    REFUSE = "refuse"


class DeviceError(RemiseError):
    """The device cannot price: no bundle, no trusted key, a refused policy."""


class ReplacedBundle(DeviceError):
    """The bundle file is not the one this device installed (restored from an old backup,
    copied by hand): it is not used, and a sync replaces it."""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once, or not at all."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them; ``ValueError`` saying why not
    (``OSError`` when it cannot be opened). Opened without blocking, so that a named
    pipe put in its place is refused rather than waited on for ever."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024:,} KiB")
    return data


def _read(path: Path) -> str:
    try:
        return read_bounded(path, MAX_SMALL_FILE_BYTES).decode("utf-8")
    except OSError as error:  # unreadable counts as invalid: the caller says which file
        raise ValueError(error.strerror or str(error)) from None


class DeviceFolder:
    """What one till, kiosk or tablet keeps for offline pricing."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._loaded: tuple[tuple[_Stamp, ...], Bundle] | None = None
        self._evaluator: tuple[Bundle, Evaluator] | None = None  # built for the first basket

    # --- trust -----------------------------------------------------------------------

    def trusted_keys(self) -> dict[str, bytes]:
        path = self.folder / KEYS_FILE
        if not path.exists():
            return {}
        try:
            raw = json.loads(_read(path))
            return {key_id: base64.b64decode(value) for key_id, value in raw.items()}
        except (ValueError, AttributeError, TypeError, RecursionError) as error:
            raise DeviceError(f"{path} is not a valid trusted-keys file ({error}): restore "
                              "it, or delete it and run `remise device trust --key-id ID` "
                              "again") from None

    def trust(self, public_keys: Mapping[str, bytes]) -> list[str]:
        """Add public keys the caller holds from a source it trusts (not a server's list:
        see ``trust_listed``); returns the ids newly trusted."""
        for key_id, key in public_keys.items():
            if key_id_of(key) != key_id:
                raise DeviceError(f"key {key_id} does not match its public key (its id is "
                                  f"{key_id_of(key)}): nothing trusted")
        with self._writing():
            keys = self.trusted_keys()
            added = [key_id for key_id in public_keys if key_id not in keys]
            self._write_keys({**keys, **public_keys})
        return added

    def trust_listed(self, listed: Mapping[str, bytes], key_ids: Iterable[str]) -> list[str]:
        """Trust, among the keys a server lists, only those whose ids were given out of
        band (read on the server by its operator); returns the ids newly trusted.

        The list itself proves nothing: a rogue server or a man in the middle lists its own
        key, and a device trusting it would install its bundles. An id is the SHA-256 of
        the key, so a key listed under an id that is not its own is refused too. An id
        may be given as the key's whole SHA-256 (64 hexadecimal digits), which is
        checked in full: 16 digits are 64 bits, within reach of a determined forger. All
        or nothing: an id the server does not list trusts no key at all."""
        given = {text[:16]: text for text in dict.fromkeys(key_ids)}
        if not given:
            raise DeviceError("no key id given: nothing trusted")
        missing = [key_id for key_id in given if key_id not in listed]
        if missing:
            # the server's ids are its own text: quoted (a newline stays one line), a few
            shown = ", ".join(repr(key_id[:32]) for key_id in sorted(listed)[:4])
            more = ", ..." if len(listed) > 4 else ""
            raise DeviceError(f"the server does not list key {', '.join(missing)} (it lists "
                              f"{shown or 'none'}{more}): nothing trusted; check the id, and "
                              "that this is your server")
        for key_id, text in given.items():
            actual = fingerprint_of(listed[key_id])
            if len(text) > len(key_id) and actual != text:
                raise DeviceError(f"the key the server lists as {key_id} has the fingerprint "
                                  f"sha256:{actual}, not sha256:{text}: nothing trusted; "
                                  "check the fingerprint, and that this is your server")
        return self.trust({key_id: listed[key_id] for key_id in given})

    def untrust(self, key_ids: Iterable[str]) -> None:
        """Stop trusting keys (a key leaked, or retired): a bundle they signed is refused
        from then on, the installed one included, until a sync replaces it."""
        wanted = list(dict.fromkeys(key_ids))
        with self._writing():
            keys = self.trusted_keys()
            unknown = [key_id for key_id in wanted if key_id not in keys]
            if unknown:
                raise DeviceError(f"this device does not trust key {', '.join(unknown)} (it "
                                  f"trusts {', '.join(sorted(keys)) or 'none'}): nothing "
                                  "removed")
            self._write_keys({k: v for k, v in keys.items() if k not in wanted})


    def _write_keys(self, keys: Mapping[str, bytes]) -> None:
        encoded = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(keys.items())}
        self._write(KEYS_FILE, canonical_json(encoded).encode("utf-8"))

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the folder's write lock: each command reads the keys or the state and
        writes them back, so two at once would lose one's change. Two syncs would leave
        the state naming one bundle and the file holding the other (a till that refuses to
        price), or the floor of the older version (an older bundle let in later); an
        untrust beside a trust could put a leaked key back. Readers take no lock: each
        write is a rename, and a basket sees the files before it or after it."""
        lock = FileLock(self.folder / LOCK_FILE, timeout=LOCK_WAIT_SECONDS)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout:
            raise DeviceError(f"another `remise device` command has been writing {self.folder} "
                              f"for {LOCK_WAIT_SECONDS:g} s ({LOCK_FILE} is held): try again "
                              "once it is done") from None
        except OSError as error:
            raise DeviceError(f"cannot write {self.folder / LOCK_FILE}: "
                              f"{error.strerror or error}") from None
        try:
            yield
        finally:
            lock.release()

    def _write(self, name: str, data: bytes) -> None:
        """Write one file of the folder, or say in one sentence why the device cannot
        (read-only disk, full disk, ``folder`` naming a file)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self.folder / name, data)
        except OSError as error:
            raise DeviceError(f"cannot write {self.folder / name}: "
                              f"{error.strerror or error}") from None

    # --- the bundle --------------------------------------------------------------------

    def highest_version(self, ruleset: str) -> int:
        """The highest version of ``ruleset`` this device ever installed (0: none)."""
        floors, legacy, _ = self._state()
        return floors.get(ruleset, legacy)

    def _state(self) -> tuple[dict[str, int], int, tuple[str | None, str | None]]:
        """Each rule set's highest installed version, the floor a state file written
        before floors were kept per rule set puts on every rule set (0 otherwise), and the
        digests of the bundle installed and of the one being installed (None: none)."""
        path = self.folder / STATE_FILE
        if not path.exists():
            return {}, 0, (None, None)
        try:
            state = json.loads(_read(path))
            floors = {str(name): _version(number)
                      for name, number in state.get("highest_versions", {}).items()}
            digests = (_digest(state.get("digest")), _digest(state.get("installing")))
            return floors, _version(state.get("highest_version", 0)), digests
        except (ValueError, AttributeError, TypeError, RecursionError) as error:
            # fail closed: guessing 0 would let an older (rolled back) bundle in
            raise DeviceError(f"{path} is not a valid state file ({error}): restore it, "
                              "or delete it to accept any version the server sends") from None

    def current(self, now: datetime) -> Bundle | None:
        """The installed bundle, verified again (the file could have been altered).

        Its evaluator is built only for a basket: `sync` and `status` need the bundle
        alone, and at 10,000 rules the evaluator costs three times the verification."""
        path = self.folder / BUNDLE_FILE
        # The bundle is used only with the keys and state it was checked against: a till
        # running for days must stop pricing once `remise device untrust` (another
        # process) drops its key, or a deleted state.json no longer records it.
        stamps = tuple(_stamp(self.folder / name) for name in (BUNDLE_FILE, KEYS_FILE,
                                                               STATE_FILE))
        if stamps[0] is None:
            return None
        if self._loaded is not None and self._loaded[0] == stamps:
            return self._loaded[1]
        try:
            data = read_bounded(path, MAX_BUNDLE_BYTES)
        except OSError as error:
            raise DeviceError(f"cannot read {path}: {error.strerror or error}") from None
        except ValueError as error:  # refused as a bundle: a sync replaces it
            raise BundleRefused("malformed", f"{path} is not a bundle ({error}): run "
                                             "`remise device sync` to replace it") from None
        bundle = read_bundle(data, self.trusted_keys(), now=now, allow_expired=True)
        self._check_installed(bundle, path)
        self._loaded = (stamps, bundle)
        return bundle

    def _current(self, now: datetime) -> tuple[Bundle | None, Evaluator | None]:
        """The installed bundle and its evaluator, built once per bundle."""
        bundle = self.current(now)
        if bundle is None:
            return None, None
        if self._evaluator is None or self._evaluator[0] is not bundle:
            self._evaluator = (bundle, Evaluator(bundle.ruleset))
        return self._evaluator

    def _check_installed(self, bundle: Bundle, path: Path) -> None:
        """Use only the bundle ``install`` wrote: an older signed bundle copied over it (a
        restore from an old backup) verifies, and would price silently with rules the
        store has since replaced. Read once per load, not per basket."""
        floors, legacy, accepted = self._state()
        header = bundle.header
        floor = floors.get(header.ruleset, legacy)
        if header.version < floor:
            raise ReplacedBundle(f"{path} holds version {header.version} of "
                                 f"{header.ruleset!r}, older than version {floor}, which this "
                                 "device installed: run `remise device sync` to replace it")
        if bundle.digest not in accepted:
            raise ReplacedBundle(f"{path} is not the bundle this device installed ({STATE_FILE} "
                                 f"records {'another' if any(accepted) else 'none'}): run "
                                 "`remise device sync` to replace it")

    def install(self, data: bytes, *, now: datetime, ruleset: str, channel: str,
                store: str | None) -> Bundle:
        """Verify a downloaded bundle and make it the current one; on any refusal the
        last good bundle stays in place and ``BundleRefused`` says why."""
        with self._writing():  # the floor it is checked against is the one it raises
            return self._install(data, now=now, ruleset=ruleset, channel=channel, store=store)

    def _install(self, data: bytes, *, now: datetime, ruleset: str, channel: str,
                 store: str | None) -> Bundle:
        trusted = self.trusted_keys()
        if not trusted:
            raise DeviceError(NO_TRUSTED_KEY)
        bundle = read_bundle(data, trusted, now=now, ruleset=ruleset, channel=channel,
                             store=store, at_least_version=self.highest_version(ruleset))
        if bundle.header.issued_at > now + CLOCK_SKEW:
            # A device whose clock is behind would keep the bundle's offline validity
            # long past its end, and price baskets at its own wrong instant.
            raise BundleRefused("issued_in_future", (
                f"this bundle was issued at {bundle.header.issued_at.isoformat()}, after "
                f"this device's clock ({now.isoformat()}): set the device's clock"))
        if store is None and bundle.header.store is not None:
            # read_bundle takes no store as "do not check"; a device that asked for every
            # store must not end up refusing all the other stores' baskets
            raise BundleRefused("wrong_store", f"this bundle is for store "
                                               f"{bundle.header.store!r}, not every store")
        floors, legacy, accepted = self._state()
        # Only the bundle recorded in the state is used, so the state names the new one
        # before the file is replaced: a crash between the writes leaves either bundle
        # usable (the floor rises only once the new one is in place). The one in place
        # is hashed: after such a crash it may be either of the two the state names.
        in_place = self._digest_in_place()
        kept = in_place if in_place in accepted else accepted[0]
        self._remove_leftovers()
        self._write_state(floors, legacy, kept, installing=bundle.digest)
        self._write(BUNDLE_FILE, data)
        floors[ruleset] = bundle.header.version
        self._write_state(floors, legacy, bundle.digest)
        return bundle

    def _remove_leftovers(self) -> None:
        """Remove the temporary files a power cut left mid-write (each up to a bundle's
        size: a till unplugged every night would fill its flash), once an hour old, so
        that a write still under way in another process is left alone."""
        prefixes = tuple(f".{name}." for name in (BUNDLE_FILE, KEYS_FILE, STATE_FILE))
        older_than = time.time() - LEFTOVER_SECONDS
        for path in self.folder.glob(".*"):
            try:
                if path.name.startswith(prefixes) and path.stat().st_mtime < older_than:
                    path.unlink()
            except OSError:  # gone meanwhile, or not ours to remove: harmless either way
                continue

    def _digest_in_place(self) -> str | None:
        path = self.folder / BUNDLE_FILE
        try:
            return hashlib.sha256(read_bounded(path, MAX_BUNDLE_BYTES)).hexdigest()
        except FileNotFoundError:
            return None
        except ValueError:  # no bundle this device wrote: the install replaces it
            return None
        except OSError as error:
            raise DeviceError(f"cannot read {path}: {error.strerror or error}") from None

    def _write_state(self, floors: dict[str, int], legacy: int, digest: str | None,
                     installing: str | None = None) -> None:
        state: dict[str, Any] = {"highest_versions": floors, "digest": digest}
        if installing is not None:
            state["installing"] = installing
        if legacy:  # a floor of unknown rule set, from an older state file: fail closed
            state["highest_version"] = legacy
        self._write(STATE_FILE, canonical_json(state).encode())

    # --- pricing -----------------------------------------------------------------------

    def evaluate(self, request: Mapping[str, Any], *, now: datetime,
                 when_expired: WhenExpired = WhenExpired.MARK_STALE) -> dict[str, Any]:
        """Price a basket offline: the server's exact answer while the bundle is valid."""
        bundle, evaluator = self._current(now)
        if bundle is None or evaluator is None:
            raise DeviceError(f"no bundle in {self.folder}: run `remise device sync` first")
        basket = parse_request(request, now=now)
        header = bundle.header
        _check_rules_asked(basket, header)
        if basket.channel != header.channel or (header.store and basket.store != header.store):
            raise DeviceError(f"this device's bundle prices channel {header.channel!r} in "
                              f"store {header.store!r}; the basket is for {basket.channel!r} "
                              f"in {basket.store!r}")
        if basket.currency != evaluator.currency:  # the basket's fault, as on the server
            raise BasketError("currency", f"the rules price in {evaluator.currency}, the "
                                          f"basket is in {basket.currency}")
        # A clock reading before the bundle's issue was set back since the install (which
        # refuses such a bundle): the bundle's age is unknown, so it may have expired.
        # Only a clock set back that far is seen: telling one set back by less would
        # mean recording the clock's readings, a write per basket.
        clock_behind = clock_is_behind(bundle, now)
        if not bundle.expired(now) and not clock_behind:
            return evaluator.evaluate(basket, explain=basket.explain)
        if when_expired is WhenExpired.REFUSE:
            raise DeviceError(
                f"this device's clock ({now.isoformat()}) is before its bundle was issued "
                f"({header.issued_at.isoformat()}): set the clock; it refuses to price until "
                "then" if clock_behind else
                f"the bundle expired at {header.offline_valid_until.isoformat()}; this device "
                "refuses to price until it syncs")
        if when_expired is WhenExpired.BASE_PRICES:
            # no version: an answer naming the bundle's would claim its rules priced it
            evaluator = Evaluator(bundle.ruleset.model_copy(
                update={"rules": (), "version": None, "content_hash": None}))
        response = evaluator.evaluate(basket, explain=basket.explain)
        since = header.offline_valid_until.isoformat()
        if when_expired is WhenExpired.BASE_PRICES:
            # with no rule, every coupon was "unknown": a customer's valid code, so named
            # at the till, would be turned away as one that does not exist
            reason = (f"no promotion applies on this device until it syncs: its rules are "
                      f"stale (valid offline until {since})")
            response["coupons"] = [{**coupon, "status": "rejected", "reason": reason}
                                   for coupon in response["coupons"]]
        response["stale"] = True
        response["stale_since"] = since
        return response


def _stamp(path: Path) -> _Stamp:
    """What changes whenever a file of the folder is written (each write is a new file,
    renamed into place, whose inode number may be a deleted one's: hence all three), or
    None when it is not there."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DeviceError(f"cannot read {path}: {error.strerror or error}") from None
    return info.st_ino, info.st_mtime_ns, info.st_size


def clock_is_behind(bundle: Bundle, now: datetime) -> bool:
    """Whether the device's clock reads more than CLOCK_SKEW before the bundle's issue:
    it was set back since the install (which refuses such a bundle), so the bundle's
    age, and whether it expired, are unknown."""
    return now < bundle.header.issued_at - CLOCK_SKEW


def _version(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ValueError(f"{number!r} is not a version number")
    return number


def _digest(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{value!r} is not a digest")
    return value


def _check_rules_asked(basket: BasketRequest, header: BundleHeader) -> None:
    """A basket naming other rules than the bundle's would get the wrong prices with no
    sign of it (the server prices it with those rules, or answers 404): refuse it."""
    if basket.ruleset is not None and basket.ruleset != header.ruleset:
        raise DeviceError(f"the basket asks for rule set {basket.ruleset!r}; this device "
                          f"holds {header.ruleset!r}")
    if basket.version is not None and basket.version != header.version:
        raise DeviceError(f"the basket asks for version {basket.version}; this device holds "
                          f"version {header.version} of {header.ruleset!r}")


__all__ = ["BundleRefused", "DeviceError", "DeviceFolder", "ReplacedBundle", "WhenExpired",
           "clock_is_behind", "write_atomically"]
