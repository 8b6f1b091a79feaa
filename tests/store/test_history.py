"""Rollback, diff and "which version was live at T": the finance view of history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import event

import dsl
from rules import (
    InvalidRequest,
    LivePeriod,
    NotFound,
    RuleStore,
    SettingChange,
    diff_versions,
)
from rules.store import _Content, content_hash

from .scenario import BOOTS_10, BOOTS_20, HEADER, SOCKS_3_FOR_2, sources

NINE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ELEVEN = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)


def _three_versions(store: RuleStore) -> None:
    """v1 at 09:00 boots -10%; v2 at 10:00 boots -20% and socks 3 for 2; v3 at 11:00
    a rollback to v1."""
    with freeze_time(NINE):
        store.publish("fr", sources(BOOTS_10), message="boots", author="ana")
    with freeze_time(TEN):
        store.publish("fr", sources(BOOTS_20, SOCKS_3_FOR_2), message="more", author="bob")
    with freeze_time(ELEVEN):
        store.rollback("fr", 1, message="socks promo was a mistake", author="carla")


def test_rollback_publishes_the_old_content_as_a_new_version(store: RuleStore) -> None:
    _three_versions(store)

    first, rolled_back = store.version("fr", 1), store.version("fr", 3)
    assert (rolled_back.number, rolled_back.parent, rolled_back.rollback_of) == (3, 2, 1)
    assert rolled_back.message == "rollback to version 1: socks promo was a mistake"
    assert rolled_back.author == "carla"
    assert (rolled_back.sources, rolled_back.ir_json) == (first.sources, first.ir_json)
    assert rolled_back.content_hash == first.content_hash
    assert [v.number for v in store.versions("fr")] == [1, 2, 3]  # nothing rewritten


def test_rolling_back_to_the_live_version_is_refused(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="boots", author="ana")

    with pytest.raises(InvalidRequest, match="version 1 of 'fr' is already live"):
        store.rollback("fr", 1, message="again", author="ana")


def test_rolling_back_to_a_version_whose_rules_a_rollback_made_live_is_refused(
        store: RuleStore) -> None:
    # Given version 3, a rollback to version 1, live
    store.publish("fr", sources(BOOTS_10), message="boots", author="ana")
    store.publish("fr", sources(BOOTS_20), message="boots -20%", author="ana")
    store.rollback("fr", 1, message="back", author="ana")

    # Then a second rollback to 1 would change nothing: refused, nothing written
    with pytest.raises(InvalidRequest, match="version 1 of 'fr' is already live, as version 3"):
        store.rollback("fr", 1, message="again", author="ana")
    assert [v.number for v in store.versions("fr")] == [1, 2, 3]


def test_rolling_back_to_a_version_that_does_not_exist_is_refused(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10), message="boots", author="ana")

    with pytest.raises(NotFound, match="has no version 7 \\(versions 1 to 1\\)"):
        store.rollback("fr", 7, message="?", author="ana")


def test_live_periods_chain_each_version_to_the_next(store: RuleStore) -> None:
    _three_versions(store)

    assert store.live_periods("fr") == [
        LivePeriod(1, NINE, TEN), LivePeriod(2, TEN, ELEVEN), LivePeriod(3, ELEVEN, None)]


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-27T08:59:59+00:00", None),
    ("2026-11-27T09:00:00+00:00", 1),  # a version is live from its own instant
    ("2026-11-27T10:59:59.999999+00:00", 2),
    ("2026-11-27T12:00:00+01:00", 3),  # 11:00 UTC written in Paris time
    ("2027-01-01T00:00:00+00:00", 3),
])
def test_live_at_names_the_version_live_at_that_instant(
    store: RuleStore, at: str, expected: int | None
) -> None:
    _three_versions(store)

    live = store.live_at("fr", datetime.fromisoformat(at))

    assert (live.number if live else None) == expected


def test_live_at_needs_an_offset(store: RuleStore) -> None:
    _three_versions(store)

    with pytest.raises(InvalidRequest, match="needs a UTC offset"):
        store.live_at("fr", datetime(2026, 11, 27, 10))


def test_diff_lists_added_removed_and_changed_rules(store: RuleStore) -> None:
    _three_versions(store)

    diff = diff_versions(store.version("fr", 1), store.version("fr", 2))

    assert [c.rule for c in diff.added] == ["socks"]
    assert diff.removed == []
    assert [(c.rule, c.fields) for c in diff.changed] == [("boots", ("effect", "title"))]
    assert diff.unchanged == 0
    assert diff.changed[0].diff == (
        "--- version 1: boots\n"
        "+++ version 2: boots\n"
        "@@ -1,3 +1,3 @@\n"
        '-rule boots "Bottes -10%" {\n'
        '-    discount 10% on items where category = "boots"\n'
        '+rule boots "Bottes -20%" {\n'
        '+    discount 20% on items where category = "boots"\n'
        " }\n")
    assert diff.added[0].diff.splitlines()[3] == '+rule socks "Chaussettes 3 pour 2" {'


def test_diff_back_to_a_rolled_back_version_is_the_reverse(store: RuleStore) -> None:
    _three_versions(store)

    diff = diff_versions(store.version("fr", 2), store.version("fr", 3))

    assert ([c.rule for c in diff.added], [c.rule for c in diff.removed]) == ([], ["socks"])
    assert [c.rule for c in diff.changed] == ["boots"]


def test_moving_or_commenting_a_rule_is_not_a_change(store: RuleStore) -> None:
    store.publish("fr", sources(BOOTS_10, SOCKS_3_FOR_2), message="v1", author="ana")
    store.publish("fr", sources("# socks first now\n" + SOCKS_3_FOR_2, BOOTS_10),
                  message="reordered", author="ana")

    diff = diff_versions(store.version("fr", 1), store.version("fr", 2))

    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == ([], [], [], 2)


def test_a_new_currency_and_time_zone_are_in_the_diff_though_no_rule_changed(
    store: RuleStore,
) -> None:
    # Given the same rule in EUR at Paris time, then in USD at New York time
    store.publish("fr", sources(BOOTS_10), message="eur", author="ana")
    usd = HEADER.replace("EUR", "USD").replace("Europe/Paris", "America/New_York")
    store.publish("fr", {"promo.rules": usd + BOOTS_10}, message="usd", author="ana")

    # When finance compares them
    diff = diff_versions(store.version("fr", 1), store.version("fr", 2))

    # Then both settings are listed, from and to, beside the unchanged rule
    assert diff.settings == [SettingChange("currency", "EUR", "USD"),
                             SettingChange("timezone", "Europe/Paris", "America/New_York")]
    assert (diff.changed, diff.unchanged) == ([], 1)


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**70])
def test_a_version_number_out_of_range_is_simply_not_found(store: RuleStore,
                                                           number: int) -> None:
    store.publish("fr", sources(BOOTS_10), message="boots", author="ana")

    with pytest.raises(NotFound, match=f"has no version {number}"):
        store.version("fr", number)


def test_listing_the_history_reads_no_version_s_rules_or_source(store: RuleStore) -> None:
    # given a history (each version of a 10,000-rule set holds about 4 MB of IR)
    _three_versions(store)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    # when the history is listed, as every publish's answer and `rules versions` do
    event.listen(store.db, "before_cursor_execute", seen)
    try:
        chain, periods = store.versions("fr"), store.live_periods("fr")
    finally:
        event.remove(store.db, "before_cursor_execute", seen)

    # then it is all there, without loading every version's compiled rules and source
    assert [(v.number, v.rollback_of) for v in chain] == [(1, None), (2, None), (3, 1)]
    assert [p.version for p in periods] == [1, 2, 3]
    assert statements
    assert not [s for s in statements if "versions.ir" in s or "versions.sources" in s]


def test_a_diff_never_calls_a_source_it_cannot_read_unchanged(store: RuleStore) -> None:
    # Given version 2 storing the IR of boots -20% with a source this remise cannot parse
    # (as an older release, whose language read it, could have stored)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    ir_json = dsl.compile_sources(sources(BOOTS_20)).to_json()
    store._append("fr", _Content({"promo.rules": "rule boots {{ discount 20%"}, ir_json,
                                 content_hash(ir_json), 1),
                  message="v2", author="an older release", parent=None, address=None,
                  rollback_of=None)

    # When versions 1 and 2 are compared
    diff = diff_versions(store.version("fr", 1), store.version("fr", 2))

    # Then boots is changed, and its source is said to be unreadable, not unchanged
    assert [(c.rule, c.fields) for c in diff.changed] == [("boots", ("effect", "title"))]
    assert diff.changed[0].diff == (
        "(the source of this rule in version 2 cannot be read by this remise; compiled "
        "effect, title differ)\n")
