"""The device folder: install only what verifies, keep the last good bundle, price
offline, and follow the expiry policy."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from filelock import FileLock

import engine
import engine.device
from rules.bundles import SigningKeys

from .helpers import ISSUED, basket, bundle_bytes, issuer, published


def _install(device: engine.DeviceFolder, data: bytes) -> None:
    device.install(data, now=ISSUED, ruleset="fr", channel="pos", store="paris-01")


def test_offline_prices_are_the_engine_s_own(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=ISSUED)

    # boots 10% of 100.00; the hat 20% of 30.00 inside the flash (11:00 Paris)
    assert (response["version"], response["discount"], response["total"]) == (3, "16.00",
                                                                              "124.00")
    expected = engine.Evaluator(published()).evaluate(engine.parse_request(basket()))
    assert engine.dumps(response) == engine.dumps(expected)


def test_a_coupon_for_another_channel_gets_the_server_s_reason(
    device: engine.DeviceFolder,
) -> None:
    response = device.evaluate(basket(coupons=["WEB5"]), now=ISSUED)

    assert response["coupons"] == [{"code": "WEB5", "status": "rejected",
                                    "reason": "channel: only web"}]


def test_a_newer_version_replaces_the_bundle(device: engine.DeviceFolder,
                                             keys: Path) -> None:
    _install(device, bundle_bytes(keys, version=4))

    assert device.evaluate(basket(), now=ISSUED)["version"] == 4


@pytest.mark.parametrize("bad", ["flipped byte", "unknown key", "expired", "older version",
                                 "another store", "not a bundle"])
def test_a_refused_bundle_leaves_the_last_good_one_in_use(
    device: engine.DeviceFolder, keys: Path, tmp_path: Path, bad: str
) -> None:
    good = (device.folder / "bundle.rbundle").read_bytes()
    data = {
        "flipped byte": good.replace(b'"percent":"10"', b'"percent":"90"'),
        "unknown key": bundle_bytes(tmp_path / "rogue", version=9),
        "expired": issuer(keys).issue("fr", published(9), "pos", "paris-01",
                                      ISSUED - timedelta(hours=80)),
        "older version": bundle_bytes(keys, version=2),
        "another store": bundle_bytes(keys, version=9, store="lyon-01"),
        "not a bundle": b"<html>proxy error</html>",
    }[bad]

    with pytest.raises(engine.BundleRefused):
        _install(device, data)

    assert (device.folder / "bundle.rbundle").read_bytes() == good
    assert device.evaluate(basket(), now=ISSUED)["version"] == 3


def test_an_older_version_stays_refused_after_the_bundle_file_is_lost(
    device: engine.DeviceFolder, keys: Path
) -> None:
    (device.folder / "bundle.rbundle").unlink()

    with pytest.raises(engine.BundleRefused, match="older than version 3"):
        _install(device, bundle_bytes(keys, version=2))


# --- a bundle file the device did not install -------------------------------------------


def test_an_older_bundle_copied_over_the_installed_one_is_not_used(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # given a till that moved from version 3 to 4, when version 3's file is copied back
    # (a restore from an old backup): still signed, so it verifies
    older = (device.folder / "bundle.rbundle").read_bytes()
    _install(device, bundle_bytes(keys, version=4))
    (device.folder / "bundle.rbundle").write_bytes(older)

    # then the till refuses to price with it, and says to sync
    with pytest.raises(engine.DeviceError, match=r"holds version 3 of 'fr', older than "
                                                 r"version 4.*run `remise device sync`"):
        engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)


def test_a_bundle_other_than_the_one_installed_is_not_used(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # given the same version's bundle for every store (its rules differ: Lyon's -5 EUR)
    # copied over the one this till installed for Paris
    (device.folder / "bundle.rbundle").write_bytes(bundle_bytes(keys, store=None))

    with pytest.raises(engine.DeviceError, match=r"not the bundle this device installed "
                                                 r"\(state.json records another\)"):
        engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)


def test_a_bundle_whose_install_has_no_record_is_not_used(
    device: engine.DeviceFolder,
) -> None:
    # given state.json deleted (its version floors and the digest of what was installed)
    (device.folder / "state.json").unlink()

    with pytest.raises(engine.DeviceError, match=r"\(state.json records none\): run"):
        engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)


def test_a_device_moves_to_another_rule_set_whose_versions_are_lower(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # given a till holding version 3 of "fr", when it moves to version 1 of "be"
    device.install(bundle_bytes(keys, ruleset="be", version=1), now=ISSUED, ruleset="be",
                   channel="pos", store="paris-01")

    # then it prices with "be", and each rule set keeps its own floor
    assert device.current(ISSUED).header.ruleset == "be"  # type: ignore[union-attr]
    assert device.evaluate(basket(), now=ISSUED)["version"] == 1
    assert (device.highest_version("fr"), device.highest_version("be")) == (3, 1)


def test_moving_back_to_a_rule_set_still_refuses_its_older_versions(
    device: engine.DeviceFolder, keys: Path
) -> None:
    device.install(bundle_bytes(keys, ruleset="be", version=1), now=ISSUED, ruleset="be",
                   channel="pos", store="paris-01")

    with pytest.raises(engine.BundleRefused, match="older than version 3"):
        _install(device, bundle_bytes(keys, version=2))


def test_a_state_file_from_before_per_rule_set_floors_holds_for_every_rule_set(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # given the state an earlier release wrote: one floor, its rule set not named
    (device.folder / "state.json").write_text('{"highest_version": 3}')

    # then it fails closed for any rule set, and keeps doing so after an install
    with pytest.raises(engine.BundleRefused, match="older than version 3"):
        device.install(bundle_bytes(keys, ruleset="be", version=2), now=ISSUED,
                       ruleset="be", channel="pos", store="paris-01")
    _install(device, bundle_bytes(keys, version=4))
    assert (device.highest_version("fr"), device.highest_version("be")) == (4, 3)


@pytest.mark.parametrize("state", ['{"highest_versions": {"fr": "3"}}',
                                   '{"highest_versions": {"fr": true}}',
                                   '{"highest_versions": {"fr": -1}}',
                                   '{"highest_versions": [3]}'])
def test_a_tampered_state_file_fails_closed(device: engine.DeviceFolder, keys: Path,
                                            state: str) -> None:
    (device.folder / "state.json").write_text(state)

    with pytest.raises(engine.DeviceError, match="not a valid state file"):
        _install(device, bundle_bytes(keys, version=4))


def test_a_damaged_trusted_keys_file_is_refused_saying_how_to_mend_it(
        device: engine.DeviceFolder) -> None:
    # given a trusted-keys file cut short (a disk full, a bad copy)
    path = device.folder / "trusted-keys.json"
    path.write_text('{"4753a33674d7764e": "AAAA')

    # when the device reads it, it trusts nothing and says what to do
    with pytest.raises(engine.DeviceError) as refused:
        device.trusted_keys()
    assert str(refused.value).endswith(
        ": restore it, or delete it and run `remise device trust --key-id ID` again")
    assert str(refused.value).startswith(f"{path} is not a valid trusted-keys file (")


def test_a_crash_while_writing_keeps_the_last_good_bundle(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = (device.folder / "bundle.rbundle").read_bytes()

    def power_cut(_descriptor: int) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(engine.DeviceError, match="power cut"):
        _install(device, bundle_bytes(keys, version=4))
    monkeypatch.undo()

    assert (device.folder / "bundle.rbundle").read_bytes() == good
    assert sorted(p.name for p in device.folder.iterdir()) == [
        "bundle.rbundle", "state.json", "trusted-keys.json", "write.lock"]


def _install_cut(device: engine.DeviceFolder, data: bytes, moment: str,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Install, with a power cut just "before" or just "after" the bundle file is replaced."""
    write, written = engine.device.write_atomically, []

    def power_cut(path: Path, data: bytes) -> None:
        if (moment == "before" and path.name == "bundle.rbundle") or (
                moment == "after" and "bundle.rbundle" in written):
            raise OSError("power cut")
        write(path, data)
        written.append(path.name)

    with monkeypatch.context() as patch:
        patch.setattr(engine.device, "write_atomically", power_cut)
        with pytest.raises(engine.DeviceError, match="power cut"):
            _install(device, data)


@pytest.mark.parametrize(("moment", "prices"), [("before", 3), ("after", 4)])
def test_a_crash_around_replacing_the_bundle_leaves_a_till_that_prices(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch,
    moment: str, prices: int,
) -> None:
    _install_cut(device, bundle_bytes(keys, version=4), moment, monkeypatch)

    # the till prices with the bundle in place, old or new, without a sync
    assert engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)["version"] == prices


def test_a_crash_after_a_crash_still_leaves_a_till_that_prices(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given version 4 put in place by an install cut before it could record it
    _install_cut(device, bundle_bytes(keys, version=4), "after", monkeypatch)

    # when the next install is cut before it replaces the file
    _install_cut(device, bundle_bytes(keys, version=5), "before", monkeypatch)

    # then the till still prices with version 4
    assert engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)["version"] == 4


def test_a_device_without_trusted_keys_refuses_to_install(tmp_path: Path,
                                                          keys: Path) -> None:
    with pytest.raises(engine.DeviceError, match="trusts no signing key"):
        engine.DeviceFolder(tmp_path / "new").install(
            bundle_bytes(keys), now=ISSUED, ruleset="fr", channel="pos", store="paris-01")


def test_a_basket_from_another_channel_is_refused(device: engine.DeviceFolder) -> None:
    with pytest.raises(engine.DeviceError, match="prices channel 'pos' in store 'paris-01'"):
        device.evaluate(basket(channel="web", store=None), now=ISSUED)


# --- a device for every store of its channel ------------------------------------------


@pytest.fixture
def every_store(tmp_path: Path, keys: Path) -> engine.DeviceFolder:
    """A till synced without --store: one bundle for every shop of the channel."""
    folder = engine.DeviceFolder(tmp_path / "roaming")
    folder.trust(SigningKeys(keys).public_keys())
    folder.install(bundle_bytes(keys, store=None), now=ISSUED, ruleset="fr", channel="pos",
                   store=None)
    return folder


@pytest.mark.parametrize("store", ["lyon-01", "paris-01", None])
def test_an_every_store_device_prices_each_store_as_the_server_does(
    every_store: engine.DeviceFolder, store: str | None
) -> None:
    # given a device synced for every store; when it prices a basket of any store
    response = every_store.evaluate(basket(store=store), now=ISSUED)

    # then the answer is the server's own, lyon_only's -5 EUR included in Lyon
    expected = engine.Evaluator(published()).evaluate(engine.parse_request(basket(store=store)))
    assert engine.dumps(response) == engine.dumps(expected)
    assert ("lyon_only" in {a["rule"] for a in response["applied"]}) == (store == "lyon-01")


def test_an_every_store_device_refuses_a_bundle_for_one_store(
    every_store: engine.DeviceFolder, keys: Path
) -> None:
    # given a device that asked for every store; when the server sends one store's bundle
    with pytest.raises(engine.BundleRefused, match="not every store") as refused:
        every_store.install(bundle_bytes(keys, version=4, store="paris-01"), now=ISSUED,
                            ruleset="fr", channel="pos", store=None)

    # then it is refused as wrong_store and the every-store bundle stays
    assert refused.value.reason == "wrong_store"
    assert every_store.evaluate(basket(store="lyon-01"), now=ISSUED)["version"] == 3


# --- baskets asking for other rules ----------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("ruleset", "spring"), ("version", 99),
                                              ("version", 2)])
def test_a_basket_naming_other_rules_is_refused(
    device: engine.DeviceFolder, field: str, value: object
) -> None:
    # given a device holding version 3 of fr; when a basket names other rules
    # then it refuses rather than price with rules the basket did not ask for
    with pytest.raises(engine.DeviceError, match="the basket asks for"):
        device.evaluate(basket(**{field: value}), now=ISSUED)


def test_a_basket_naming_the_bundle_s_own_rules_is_priced(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(ruleset="fr", version=3), now=ISSUED)

    assert (response["version"], response["total"]) == (3, "124.00")


@pytest.mark.parametrize(("field", "many", "said"), [
    ("lines", engine.basket.MAX_LINES + 1, "at most 500 lines per basket, got 501"),
    ("coupons", engine.basket.MAX_COUPONS + 1, "at most 20 coupons per basket, got 21"),
])
def test_a_basket_past_the_server_s_limits_is_refused_offline(
    device: engine.DeviceFolder, field: str, many: int, said: str
) -> None:
    # given a basket the server would refuse for its size; when the device prices it
    line = basket()["lines"][0]  # type: ignore[index]
    big = basket(**{field: [{**line, "id": str(n)} for n in range(many)] if field == "lines"
                    else [f"C{n}" for n in range(many)]})

    # then the device refuses it too, with the server's words
    with pytest.raises(engine.BasketError, match=said):
        device.evaluate(big, now=ISSUED)


def test_a_basket_at_the_limits_is_priced(device: engine.DeviceFolder) -> None:
    line = basket()["lines"][0]  # type: ignore[index]
    full = basket(lines=[{**line, "id": str(n)} for n in range(engine.basket.MAX_LINES)],
                  coupons=[f"C{n}" for n in range(engine.basket.MAX_COUPONS)])

    assert len(device.evaluate(full, now=ISSUED)["lines"]) == 500


# --- once the bundle has expired ------------------------------------------------------

AFTER_EXPIRY = ISSUED + timedelta(hours=73)


def test_expired_mark_stale_prices_and_says_so(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=AFTER_EXPIRY)

    assert (response["discount"], response["stale"]) == ("16.00", True)
    assert response["stale_since"] == "2026-11-30T09:00:00+00:00"


def test_expired_base_prices_applies_no_rule(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=AFTER_EXPIRY,
                               when_expired=engine.WhenExpired.BASE_PRICES)

    assert (response["discount"], response["total"], response["stale"]) == (
        "0.00", "140.00", True)
    assert response["applied"] == []
    # and names no version: finance replaying version 3 would get other prices
    assert response["version"] is None and "content_hash" not in response


def test_expired_base_prices_says_why_a_coupon_is_not_applied(
    device: engine.DeviceFolder,
) -> None:
    # given a customer's coupon the store knows (WEB5), on a till at base prices
    response = device.evaluate(basket(coupons=["WEB5"]), now=AFTER_EXPIRY,
                               when_expired=engine.WhenExpired.BASE_PRICES)

    # then the till is told why, not that the code does not exist ("unknown coupon")
    assert response["coupons"] == [{
        "code": "WEB5", "status": "rejected",
        "reason": "no promotion applies on this device until it syncs: its rules are stale "
                  "(valid offline until 2026-11-30T09:00:00+00:00)"}]


def test_expired_refuse_refuses(device: engine.DeviceFolder) -> None:
    with pytest.raises(engine.DeviceError, match="refuses to price until it syncs"):
        device.evaluate(basket(), now=AFTER_EXPIRY, when_expired=engine.WhenExpired.REFUSE)


CLOCK_SET_BACK = ISSUED - timedelta(days=30)  # before the bundle was issued


def test_a_clock_set_back_before_the_bundle_s_issue_marks_the_answer_stale(
    device: engine.DeviceFolder,
) -> None:
    # given a till whose clock was set back a month after it installed its bundle: the
    # bundle may well have expired, the device cannot tell
    response = device.evaluate(basket(), now=CLOCK_SET_BACK)

    assert (response["discount"], response["stale"]) == ("16.00", True)


def test_a_clock_set_back_before_the_bundle_s_issue_is_named_when_refusing(
    device: engine.DeviceFolder,
) -> None:
    with pytest.raises(engine.DeviceError, match=r"before its bundle was issued "
                                                 r"\(2026-11-27T09:00:00\+00:00\): set the"):
        device.evaluate(basket(), now=CLOCK_SET_BACK, when_expired=engine.WhenExpired.REFUSE)


def test_a_bundle_issued_after_the_device_s_clock_is_refused(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # Given a device whose clock reads a day before the bundle was issued (a clock
    # behind would keep the bundle's offline validity long past its end)
    clock = ISSUED - timedelta(days=1)

    # When it is offered a newer version
    with pytest.raises(engine.BundleRefused) as refused:
        device.install(bundle_bytes(keys, version=4), now=clock, ruleset="fr",
                       channel="pos", store="paris-01")

    # Then it refuses it and keeps version 3
    assert refused.value.reason == "issued_in_future"
    assert "set the device's clock" in str(refused.value)
    assert device.evaluate(basket(), now=ISSUED)["version"] == 3


def test_a_clock_a_few_minutes_behind_the_server_still_installs(
    device: engine.DeviceFolder, keys: Path
) -> None:
    clock = ISSUED.replace(minute=0) - timedelta(minutes=50)  # issued at 09:00

    device.install(bundle_bytes(keys, version=4), now=clock, ruleset="fr",
                   channel="pos", store="paris-01")

    assert device.evaluate(basket(), now=ISSUED)["version"] == 4


def test_an_install_removes_what_a_power_cut_left_mid_write(
    device: engine.DeviceFolder, keys: Path
) -> None:
    # given a temporary bundle a power cut left two hours ago, and one another process
    # is writing now
    leftover = device.folder / ".bundle.rbundle.k3x9q1"
    leftover.write_bytes(b"half a bundle")
    two_hours_ago = leftover.stat().st_mtime - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    under_way = device.folder / ".bundle.rbundle.p0w2z8"
    under_way.write_bytes(b"a bundle being written")

    # when the next bundle is installed
    _install(device, bundle_bytes(keys, version=4))

    # then the leftover is gone, and the write under way is left alone
    assert sorted(p.name for p in device.folder.iterdir()) == [
        ".bundle.rbundle.p0w2z8", "bundle.rbundle", "state.json", "trusted-keys.json",
        "write.lock"]


# --- two commands writing the folder at once --------------------------------------------

@contextmanager
def _paused(monkeypatch: pytest.MonkeyPatch, file: str, *, after: bool
            ) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Pause the first command of another thread that writes ``file`` (just before or
    just after the write), as a slow disk or the scheduler may: the first event says it
    is paused there, setting the second lets it go on."""
    write, paused, resume = engine.device.write_atomically, threading.Event(), threading.Event()
    first = threading.current_thread()

    def slowed(path: Path, data: bytes) -> None:
        pause = path.name == file and threading.current_thread() is not first \
            and not paused.is_set()
        if pause and not after:
            paused.set()
            resume.wait(10)
        write(path, data)
        if pause and after:
            paused.set()
            resume.wait(10)

    monkeypatch.setattr(engine.device, "write_atomically", slowed)
    yield paused, resume


def _run_beside(first: Callable[[], object], second: Callable[[], object],
                paused: threading.Event, resume: threading.Event) -> None:
    """Start ``first`` in a thread; once it is paused, run ``second`` in another and give
    it a second to finish (it finishes at once, or waits for ``first``), then let
    ``first`` go on; both are done on return."""
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert paused.wait(10)
    threads[1].start()
    threads[1].join(1.0)
    resume.set()
    for thread in threads:
        thread.join(20)


def test_two_syncs_at_once_leave_a_till_that_prices_with_the_newer_bundle(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a sync of version 4 paused right after it replaced the bundle file
    with _paused(monkeypatch, "bundle.rbundle", after=True) as (paused, resume):
        first = engine.DeviceFolder(device.folder)
        second = engine.DeviceFolder(device.folder)
        # when a second sync installs version 5 meanwhile
        _run_beside(lambda: _install(first, bundle_bytes(keys, version=4)),
                    lambda: _install(second, bundle_bytes(keys, version=5)), paused, resume)

    # then the till prices with version 5, and refuses version 4 from now on
    till = engine.DeviceFolder(device.folder)
    assert till.evaluate(basket(), now=ISSUED)["version"] == 5
    assert till.highest_version("fr") == 5


def test_an_untrust_beside_a_trust_keeps_both_changes(
    device: engine.DeviceFolder, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a device trusting the server's key, which leaked, and a new key to trust
    leaked = next(iter(device.trusted_keys()))
    new = SigningKeys(tmp_path / "new-keys").public_keys()
    # when the untrust of the leaked key is paused before it writes, and a trust of the
    # new key runs meanwhile
    with _paused(monkeypatch, "trusted-keys.json", after=False) as (paused, resume):
        _run_beside(lambda: engine.DeviceFolder(device.folder).untrust([leaked]),
                    lambda: engine.DeviceFolder(device.folder).trust(new), paused, resume)

    # then the device trusts the new key alone
    assert sorted(engine.DeviceFolder(device.folder).trusted_keys()) == sorted(new)


def test_a_command_waits_for_the_one_writing_then_says_so(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given another command holding the folder's write lock past the wait
    monkeypatch.setattr(engine.device, "LOCK_WAIT_SECONDS", 0.2)
    # when a sync tries to install version 4
    with FileLock(device.folder / "write.lock"), pytest.raises(engine.DeviceError) as refused:
        _install(engine.DeviceFolder(device.folder), bundle_bytes(keys, version=4))

    # then it says why in one line, and the till keeps version 3
    assert str(refused.value) == (
        f"another `remise device` command has been writing {device.folder} for 0.2 s "
        "(write.lock is held): try again once it is done")
    assert engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)["version"] == 3
