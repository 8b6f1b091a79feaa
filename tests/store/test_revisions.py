"""Revisions: the store records in which version each rule last changed, so that of
two price rules of equal priority the most recently changed one wins (DESIGN §1,
docs/semantics.md §2)."""

from __future__ import annotations

from typing import Any

from freezegun import freeze_time

import engine
from rules import RuleStore, Version, content_hash, diff_versions
from rules.store import _Content

from .scenario import BOOTS_10, BOOTS_20, FLASH, SOCKS_3_FOR_2, sources

A_OLD = '''price a_old "T-shirt 10.00" {
    price 10.00 EUR on items where sku = "T-100"
}
'''
A_OLD_9 = A_OLD.replace("10.00", "9.00")
Z_NEW = '''price z_new "T-shirt 12.00" {
    price 12.00 EUR on items where sku = "T-100"
}
'''


def _revisions(version: Version) -> dict[str, int]:
    return {rule.id: rule.revision for rule in version.ruleset_ir().rules}


def _price_a_tshirt(version: Version) -> dict[str, Any]:
    """The only line of a web basket: one T-100 sent at 24.99."""
    request = {"channel": "web", "currency": "EUR", "at": "2026-11-27T12:00:00+01:00",
               "lines": [{"id": "1", "sku": "T-100", "quantity": 1, "unit_price": "24.99"}]}
    response = engine.Evaluator(version.ruleset_ir()).evaluate(engine.parse_request(request))
    line: dict[str, Any] = response["lines"][0]
    return line


def test_the_price_rule_changed_in_the_later_version_wins_a_tie(store: RuleStore) -> None:
    # Given a_old in version 1, and z_new added beside it in version 2 (same priority)
    store.publish("fr", sources(A_OLD), message="v1", author="ana")
    second = store.publish("fr", sources(A_OLD, Z_NEW), message="v2", author="bob")

    # When a T-100 is priced on version 2
    line = _price_a_tshirt(second)

    # Then z_new sets the price: it changed in version 2, a_old in version 1
    assert (line["unit_price"], line["price_rule"]["rule"]) == ("12.00", "z_new")
    assert line["total"] == "12.00"


def test_every_rule_of_a_new_rule_set_gets_revision_1(store: RuleStore) -> None:
    # When a rule set is published for the first time
    first = store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v1", author="ana")

    # Then all its rules changed in version 1
    assert _revisions(first) == {"boots": 1, "socks": 1}


def test_an_unchanged_rule_keeps_its_revision_across_later_publishes(store: RuleStore) -> None:
    # Given socks in version 1, left as it is while boots changes in versions 2 and 3
    store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v1", author="ana")
    store.publish("fr", sources(BOOTS_20, SOCKS_3_FOR_2), message="v2", author="ana")

    # When version 3 changes boots back
    third = store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v3", author="ana")

    # Then socks still last changed in version 1
    assert _revisions(third)["socks"] == 1


def test_a_changed_rule_gets_the_new_version_number(store: RuleStore) -> None:
    # Given boots at -10% in version 1
    store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v1", author="ana")

    # When version 2 makes it -20%
    second = store.publish("fr", sources(BOOTS_20, SOCKS_3_FOR_2), message="v2", author="ana")

    # Then boots changed in version 2 and socks did not
    assert _revisions(second) == {"boots": 2, "socks": 1}


def test_a_rule_added_or_edited_back_is_newer_even_with_its_old_text(store: RuleStore) -> None:
    # Given a_old at 10.00 (version 1), then at 9.00 (version 2), z_new added in version 2
    store.publish("fr", sources(A_OLD), message="v1", author="ana")
    store.publish("fr", sources(A_OLD_9, Z_NEW), message="v2", author="ana")

    # When version 3 puts a_old back at 10.00
    third = store.publish("fr", sources(A_OLD, Z_NEW), message="v3", author="ana")

    # Then a_old is the most recent change, and sets the price
    assert _revisions(third) == {"a_old": 3, "z_new": 2}
    assert _price_a_tshirt(third)["unit_price"] == "10.00"


def test_a_rule_moved_down_its_file_is_not_changed(store: RuleStore) -> None:
    # Given a_old in version 1
    store.publish("fr", sources(A_OLD), message="v1", author="ana")

    # When version 2 inserts z_new above it, so a_old now starts lines further down
    second = store.publish("fr", sources(Z_NEW, A_OLD), message="v2", author="ana")

    # Then a_old keeps revision 1 and the new z_new sets the price
    assert _revisions(second) == {"a_old": 1, "z_new": 2}
    assert _price_a_tshirt(second)["unit_price"] == "12.00"


def test_a_from_publish_window_counts_as_changed_at_each_publish(store: RuleStore) -> None:
    # Given the 30-minute flash sale published at 14:00
    with freeze_time("2026-11-27 14:00:00"):
        store.publish("fr", sources(FLASH, BOOTS_10), message="v1", author="ana")

    # When the same source is published again at 15:00
    with freeze_time("2026-11-27 15:00:00"):
        second = store.publish("fr", sources(FLASH, BOOTS_10), message="v2", author="ana")

    # Then the flash sale's window starts at 15:00 now: it changed in version 2
    assert _revisions(second) == {"boots": 1, "flash": 2}


def test_republishing_the_same_rules_gives_the_same_content_hash(store: RuleStore) -> None:
    # Given boots and socks in version 1
    first = store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v1", author="ana")

    # When exactly the same source is published again
    second = store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v2", author="ana")

    # Then the rules, their revisions and so the hash are the same
    assert second.ir_json == first.ir_json
    assert second.content_hash == first.content_hash == content_hash(second.ir_json)


def test_a_rollback_keeps_the_revisions_of_the_version_rolled_back_to(store: RuleStore) -> None:
    # Given a_old at 10.00 (version 1), then at 9.00 beside a new z_new (version 2)
    first = store.publish("fr", sources(A_OLD), message="v1", author="ana")
    store.publish("fr", sources(A_OLD_9, Z_NEW), message="v2", author="ana")

    # When version 1 is rolled back to, as version 3
    third = store.rollback("fr", 1, message="wrong prices", author="carla")

    # Then a_old is back exactly as it was in version 1, revision 1 included
    assert _revisions(third) == {"a_old": 1}
    assert (third.ir_json, third.content_hash) == (first.ir_json, first.content_hash)
    assert _price_a_tshirt(third)["unit_price"] == "10.00"


def test_a_publish_on_top_of_an_unreadable_version_still_succeeds(store: RuleStore) -> None:
    # Given a latest version whose IR cannot be read (as an older release could store)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    ir_json = '{"not": "an IR"}'
    store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                  message="unreadable", author="an older release", parent=None,
                  address=None, rollback_of=None)

    # When the fix is published on top of it
    third = store.publish("fr", sources(BOOTS_10), message="fix", author="ana")

    # Then every rule counts as changed in the fix
    assert _revisions(third) == {"boots": 3}


def test_the_diff_names_a_revision_that_moved_without_a_change_of_content(
    store: RuleStore,
) -> None:
    # Given a_old at 10.00 (version 1), at 9.00 (version 2), back at 10.00 (version 3)
    first = store.publish("fr", sources(A_OLD), message="v1", author="ana")
    store.publish("fr", sources(A_OLD_9), message="v2", author="ana")
    third = store.publish("fr", sources(A_OLD), message="v3", author="ana")

    # When versions 1 and 3 are compared
    diff = diff_versions(first, third)

    # Then a_old is listed as changed in its revision alone, since that decides ties
    assert [(c.rule, c.fields) for c in diff.changed] == [("a_old", ("revision",))]
    assert diff.changed[0].diff == (
        "(same rule, last changed in version 1 before and 3 after: this decides ties "
        "between price rules of equal priority)\n")
