"""Work counted, not timed: `remise device sync` and `status` read the installed bundle
to know what the device holds, and build no evaluator for it (at 10,000 rules the
evaluator cost three times the verification, on every sync)."""

from __future__ import annotations

from pathlib import Path

import engine
from rules.bundles import SigningKeys
from tests.calls import python_calls

from .helpers import ISSUED, issuer, published


def _rules(count: int) -> str:
    return "currency EUR\ntimezone Europe/Paris\n" + "".join(
        f'rule r{number} "R{number}" {{\n'
        f'    discount {number % 50 + 1}% on items where category = "c{number}"\n}}\n'
        for number in range(count))


def _till_holding(folder: Path, rules: int) -> Path:
    """A till holding a bundle of ``rules`` rules, signed by a key it trusts."""
    device = engine.DeviceFolder(folder / "till")
    device.trust(SigningKeys(folder / "keys").public_keys())
    data = issuer(folder / "keys").issue("fr", published(3, _rules(rules)), "pos", "paris-01",
                                         ISSUED)
    device.install(data, now=ISSUED, ruleset="fr", channel="pos", store="paris-01")
    return device.folder


def test_reading_the_installed_bundle_does_no_python_work_per_rule(tmp_path: Path) -> None:
    # given two tills, one holding 10 rules and one 200
    small, large = (_till_holding(tmp_path / str(count), count) for count in (10, 200))

    # when each reads its bundle, as sync (for its ETag) and status do, in a new process
    def work(till: Path) -> int:
        return python_calls(lambda: engine.DeviceFolder(till).current(ISSUED))

    # then the work does not grow with the rules: they are verified and read, and no
    # evaluator (about 25 Python calls a rule) is built. Fewer than one call for each of
    # the 190 more rules; the first reading of a process may pay a one-off, hence two.
    work(small)
    assert work(large) < work(small) + 190


def test_the_first_basket_builds_the_evaluator_after_a_read(tmp_path: Path) -> None:
    # given a till whose bundle was read (its state shown) by the same process
    device = engine.DeviceFolder(_till_holding(tmp_path, 10))
    device.current(ISSUED)

    # when it prices a basket, then its rules price it: r0 is 1% off category c0
    response = device.evaluate({"channel": "pos", "store": "paris-01", "currency": "EUR",
                                "at": ISSUED.isoformat(), "lines": [
                                    {"id": "1", "sku": "A", "quantity": 1,
                                     "unit_price": "50.00", "category": "c0"}]}, now=ISSUED)
    assert (response["discount"], response["total"]) == ("0.50", "49.50")
