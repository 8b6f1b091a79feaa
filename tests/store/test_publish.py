"""Publishing: compile first, append version parent + 1, refuse stale parents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import engine
from rules import Conflict, InvalidRequest, NotFound, RuleStore, SourceRejected, content_hash
from rules.models import AuditRow, VersionRow

from .scenario import BOOTS_10, BOOTS_20, BROKEN, FLASH, SOCKS_3_FOR_2, boots_basket, sources


def _count(store: RuleStore, model: type) -> int:
    with Session(store.db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_first_publish_is_version_1_and_live(store: RuleStore) -> None:
    with freeze_time("2026-11-27 09:00:00"):
        version = store.publish("fr", sources(BOOTS_10), message="boots promo", author="ana")

    assert (version.ruleset, version.number, version.parent) == ("fr", 1, None)
    assert (version.author, version.message, version.rule_count) == ("ana", "boots promo", 1)
    assert version.live_from == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert version.content_hash == content_hash(version.ir_json)
    assert store.latest("fr") == version


def test_published_rules_price_a_basket_like_the_source(store: RuleStore) -> None:
    version = store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="m", author="ana")

    response = engine.Evaluator(version.ruleset_ir()).evaluate(
        engine.parse_request(boots_basket()))

    # boots 10% of 100.00 = 10.00; socks: the third of three at 5.00 is free
    assert response["discount"] == "15.00"
    assert response["total"] == "100.00"
    assert response["version"] == 1


def test_publish_on_the_latest_parent_appends(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana", parent=0)

    second = store.publish("fr", sources(BOOTS_20), message="v2", author="bob", parent=1)

    assert (second.number, second.parent) == (2, 1)
    assert [v.number for v in store.versions("fr")] == [1, 2]


def test_publish_on_a_stale_parent_is_a_conflict_and_writes_nothing(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana", parent=0)
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana", parent=1)

    with pytest.raises(Conflict) as refused:
        store.publish("fr", sources(SOCKS_3_FOR_2), message="mine", author="bob", parent=1)

    assert (refused.value.parent, refused.value.head) == (1, 2)
    assert "is at version 2, but this change was based on version 1" in str(refused.value)
    assert store.latest("fr").number == 2  # type: ignore[union-attr]
    assert _count(store, AuditRow) == 2


def test_a_parent_on_a_rule_set_never_published_does_not_advise_creating_it_blindly(
        store: RuleStore) -> None:
    # given a marketer who means rule set fr, at version 3, but types fr-web
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    # when they publish on top of version 3 of fr-web, which was never published
    with pytest.raises(Conflict) as refused:
        store.publish("fr-web", sources(BOOTS_20), message="mine", author="ana", parent=3)

    # then they are told it has no version, not to "review version 0 and publish on top"
    assert (refused.value.parent, refused.value.head) == (3, 0)
    assert str(refused.value) == (
        "rule set 'fr-web' has no version yet, but this change was based on version 3: "
        "check the rule set's name (parent 0 creates a new rule set)")
    assert [info.name for info in store.rulesets()] == ["fr"]


def test_a_parent_ahead_of_the_latest_version_says_there_is_no_such_version(
        store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    with pytest.raises(Conflict) as refused:
        store.publish("fr", sources(BOOTS_20), message="mine", author="ana", parent=5)

    assert str(refused.value) == (
        "rule set 'fr' has no version 5, but this change was based on it: the latest is "
        "version 1; review it and publish again on top of it")


def test_publish_without_parent_goes_on_top_of_the_latest(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    second = store.publish("fr", sources(BOOTS_20), message="v2", author="bob")

    assert (second.number, second.parent) == (2, 1)


def test_a_source_that_does_not_compile_publishes_nothing(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    with pytest.raises(SourceRejected) as refused:
        store.publish("fr", sources(BROKEN), message="broken", author="bob", parent=1)

    diagnostic = refused.value.diagnostics[0]
    assert (diagnostic.file, diagnostic.line) == ("promo.rules", 5)
    assert "150" in diagnostic.message
    assert store.latest("fr").number == 1  # type: ignore[union-attr]
    assert (_count(store, VersionRow), _count(store, AuditRow)) == (1, 1)


def test_a_broken_first_publish_creates_no_rule_set(store: RuleStore) -> None:
    with pytest.raises(SourceRejected):
        store.publish("fr", sources(BROKEN), message="broken", author="bob")

    assert store.rulesets() == []
    with pytest.raises(NotFound, match="no rule set named 'fr'"):
        store.versions("fr")


def test_from_publish_windows_start_when_the_version_goes_live(store: RuleStore) -> None:
    with freeze_time("2026-11-27 14:00:00"):
        version = store.publish("fr", sources(FLASH), message="rain", author="ana")

    window = version.ruleset_ir().rules[0].windows[0]
    assert window.start == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # type: ignore[union-attr]
    assert window.end == window.start + timedelta(minutes=30)  # type: ignore[union-attr]


def test_rule_sets_are_independent(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="fr", author="ana")
    store.publish("be", sources(BOOTS_20), message="be", author="ana")
    store.publish("fr", sources(BOOTS_20), message="fr 2", author="ana")

    assert [(r.name, r.live_version) for r in store.rulesets()] == [("be", 1), ("fr", 2)]
    assert store.latest_numbers() == {"be": 1, "fr": 2}


@pytest.mark.parametrize("name", ["", "FR", "fr/../x", "-fr", "a" * 65, "fr be"])
def test_unusable_rule_set_names_are_refused(store: RuleStore, name: str) -> None:
    with pytest.raises(InvalidRequest, match="is not allowed"):
        store.publish(name, sources(BOOTS_10), message="m", author="ana")


def test_an_empty_message_is_refused(store: RuleStore) -> None:
    with pytest.raises(InvalidRequest, match="a message is required"):
        store.publish("fr", sources(BOOTS_10), message="  ", author="ana")


def test_an_empty_author_is_refused_in_plain_words(store: RuleStore) -> None:
    with pytest.raises(InvalidRequest, match=r"^an author is required$"):
        store.publish("fr", sources(BOOTS_10), message="v1", author="  ")


def test_live_from_never_goes_backwards_when_a_clock_is_behind(store: RuleStore) -> None:
    with freeze_time("2026-11-27 10:00:00"):
        store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    with freeze_time("2026-11-27 09:59:00"):  # this publisher's clock is a minute late
        late = store.publish("fr", sources(BOOTS_20), message="v2", author="bob")

    # a microsecond after version 1: version 1 was live, however briefly
    assert late.live_from == datetime(2026, 11, 27, 10, 0, 0, 1, tzinfo=UTC)
    assert store.live_at("fr", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)).number == 1  # type: ignore[union-attr]
    assert store.live_at("fr", late.live_from).number == 2  # type: ignore[union-attr]


def test_the_reserved_name_keys_is_refused(store: RuleStore) -> None:
    with pytest.raises(InvalidRequest, match="'keys' is reserved"):
        store.publish("keys", sources(BOOTS_10), message="m", author="ana")
