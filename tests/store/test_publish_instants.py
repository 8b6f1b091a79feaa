"""When a version goes live: the moment it is written, not the moment its compile began.

Compiling 10,000 rules takes seconds, and the previous version prices every basket
meanwhile; a ``live_from`` read before the compile would make finance's "which version
was live at T" name the new version for baskets the old one priced.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from sqlalchemy import event

from rules import RuleStore, audit_entries, content_hash

from .scenario import BOOTS_10, BOOTS_20, FLASH, sources

COMPILE_BEGINS = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
WRITTEN = COMPILE_BEGINS + timedelta(seconds=14)


@contextmanager
def _a_compile_of_14_seconds(store: RuleStore) -> Iterator[None]:
    """The clock reads 14:00:00 while the rules compile and 14:00:14 once the publish
    opens its transaction (what a 10,000-rule compile takes)."""
    with freeze_time(COMPILE_BEGINS) as clock:
        def compiled(*_args: Any) -> None:
            clock.move_to(WRITTEN)

        event.listen(store.db, "begin", compiled)
        try:
            yield
        finally:
            event.remove(store.db, "begin", compiled)


def test_a_version_is_live_from_when_it_is_written(store: RuleStore) -> None:
    # given version 1, live before the next publish begins compiling
    with freeze_time(COMPILE_BEGINS - timedelta(hours=1)):
        store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    # when version 2 takes 14 seconds to compile
    with _a_compile_of_14_seconds(store):
        second = store.publish("fr", sources(BOOTS_20), message="v2", author="bob")

    # then a basket priced during the compile was priced by version 1
    assert second.live_from == WRITTEN
    assert store.live_at("fr", COMPILE_BEGINS + timedelta(seconds=7)).number == 1  # type: ignore[union-attr]


def test_a_versions_audit_entry_is_dated_when_it_is_written(store: RuleStore) -> None:
    # when a version takes 14 seconds to compile
    with _a_compile_of_14_seconds(store):
        version = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    # then the version and its audit entry carry the one instant it was written
    [entry] = audit_entries(store.db)
    assert (version.created_at, entry.at) == (WRITTEN, WRITTEN)


def test_from_publish_windows_start_when_the_version_is_written(store: RuleStore) -> None:
    # when a flash sale `valid for 30 minutes from publish` takes 14 seconds to compile
    with _a_compile_of_14_seconds(store):
        version = store.publish("fr", sources(FLASH), message="rain", author="ana")

    # then its 30 minutes start when it goes live, and the hash is that of those rules
    window = version.ruleset_ir().rules[0].windows[0]
    assert (window.start, window.end) == (WRITTEN, WRITTEN + timedelta(minutes=30))  # type: ignore[union-attr]
    assert version.content_hash == content_hash(version.ir_json)


def test_a_version_written_in_the_same_microsecond_as_its_parent_goes_live_after_it(
        store: RuleStore) -> None:
    # given version 1, and a clock that does not move (two publishes in one microsecond)
    with freeze_time(COMPILE_BEGINS):
        first = store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

        # when version 2 is written
        second = store.publish("fr", sources(BOOTS_20), message="v2", author="bob")

    # then version 1 was live for a microsecond, not for no time at all
    assert second.live_from == first.live_from + timedelta(microseconds=1)
    assert store.live_at("fr", first.live_from).number == 1  # type: ignore[union-attr]


# 15:00 in Paris is 14:00 UTC: the very instant the compile below begins.
WRITTEN_AT_COMPILE = '''rule boots "Bottes -10% from 15:00" {
    valid 2026-11-27 15:00 for 30 minutes
    discount 10% on items where category = "boots"
}
'''


def test_a_written_window_starting_as_the_compile_begins_stays_where_it_was_written(
        store: RuleStore) -> None:
    # when a rule whose window was written to start at 14:00 UTC is compiled at 14:00 UTC
    with _a_compile_of_14_seconds(store):
        version = store.publish("fr", sources(WRITTEN_AT_COMPILE), message="m", author="ana")

    # then it starts at 14:00, not when the version was written
    window = version.ruleset_ir().rules[0].windows[0]
    assert window.start == COMPILE_BEGINS  # type: ignore[union-attr]


def test_a_from_publish_rule_changes_in_every_version_that_publishes_it(
        store: RuleStore) -> None:
    # given a flash sale published twice in one microsecond: version 2's window starts
    # a microsecond after version 1's, at the instant version 3 will be compiled with
    with freeze_time(COMPILE_BEGINS):
        for message in ("v1", "v2"):
            store.publish("fr", sources(FLASH), message=message, author="ana")

        # when it is published once more
        third = store.publish("fr", sources(FLASH), message="v3", author="ana")

    # then its window moved again, so the rule changed in version 3
    rule = third.ruleset_ir().rules[0]
    assert rule.windows[0].start == third.live_from  # type: ignore[union-attr]
    assert rule.revision == 3
