"""The benchmark generator's diagnostic: a rule set holding fewer basket-wide offers.

bench/RESULTS.md reads the growth from 10,000 to 100,000 rules against a rule set
of 100,000 rules that keeps only the basket-wide offers of 10,000; these tests hold
the generator to what that comparison assumes.
"""

from __future__ import annotations

from bench.generate import rules_source


def _blocks(source: str) -> int:
    return source.count("\nrule ") + source.count("\nprice ")


def _basket_wide(source: str) -> int:
    return source.count("on basket")


def test_a_smaller_set_of_basket_offers_keeps_about_its_share_of_them() -> None:
    # Given 5,000 rules, once as the mix has them and once with the basket
    # offers of a 500-rule set
    full = rules_source(5_000)
    held = rules_source(5_000, basket_offers_of=500)

    # Then both hold 5,000 rules, and the held set about a tenth of the basket offers
    assert _blocks(full) == _blocks(held) == 5_000
    assert _basket_wide(full) >= 50
    assert 0 < _basket_wide(held) <= _basket_wide(full) // 5


def test_asking_for_the_offers_of_a_larger_set_changes_nothing() -> None:
    # Given basket offers asked for a set as large as this one, or larger
    # Then the source is the mix's own, byte for byte
    assert rules_source(2_000, basket_offers_of=2_000) == rules_source(2_000)
    assert rules_source(2_000, basket_offers_of=10_000) == rules_source(2_000)
