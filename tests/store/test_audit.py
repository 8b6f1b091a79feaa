"""The audit log: every change, who, when, why, from where; CSV for finance;
append-only down to the database."""

from __future__ import annotations

import csv
import io

import pytest
from freezegun import freeze_time
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rules import AuditQuery, RuleStore, all_audit_entries, audit_csv, audit_entries
from rules.audit import as_text_cell

from .scenario import BOOTS_10, BOOTS_20, sources


def _history(store: RuleStore) -> None:
    with freeze_time("2026-11-27 09:00:00"):
        store.publish("fr", sources(BOOTS_10), message="boots, 10%", author="ana",
                      address="10.0.0.7")
    with freeze_time("2026-11-27 10:00:00"):
        store.publish("fr", sources(BOOTS_20), message="boots \"20%\"", author="bob",
                      address="10.0.0.8")
    with freeze_time("2026-11-27 11:00:00"):
        store.rollback("fr", 1, message="too generous", author="carla", address="10.0.0.9")


def test_every_publish_and_rollback_is_in_the_audit_log(store: RuleStore) -> None:
    _history(store)

    entries = audit_entries(store.db)

    assert [(e.actor, e.action, e.ruleset, e.version, e.address) for e in entries] == [
        ("ana", "publish", "fr", 1, "10.0.0.7"),
        ("bob", "publish", "fr", 2, "10.0.0.8"),
        ("carla", "rollback", "fr", 3, "10.0.0.9"),
    ]
    assert entries[2].message == "rollback to version 1: too generous"
    assert entries[2].details["rollback_of"] == 1
    assert entries[2].details["content_hash"] == store.version("fr", 1).content_hash


def test_audit_entries_filter_and_page(store: RuleStore) -> None:
    _history(store)
    store.publish("be", sources(BOOTS_10), message="be", author="ana")

    fr_publishes = audit_entries(store.db, AuditQuery(ruleset="fr", action="publish"))
    first_page = audit_entries(store.db, AuditQuery(limit=2))
    second_page = audit_entries(store.db, AuditQuery(limit=2, after_id=first_page[-1].id))

    assert [e.version for e in fr_publishes] == [1, 2]
    assert [e.version for e in first_page + second_page] == [1, 2, 3, 1]
    assert [e.ruleset for e in second_page] == ["fr", "be"]


def test_audit_export_is_csv_with_exact_rows(store: RuleStore) -> None:
    _history(store)

    exported = "".join(audit_csv(all_audit_entries(store.db, AuditQuery(actor="bob"))))

    hash_2 = store.version("fr", 2).content_hash
    assert exported == (
        "id,at,actor,action,ruleset,version,message,address,details\r\n"
        '2,2026-11-27T10:00:00+00:00,bob,publish,fr,2,"boots ""20%""",10.0.0.8,'
        f'"{{""content_hash"": ""{hash_2}"", ""live_from"": ""2026-11-27T10:00:00+00:00"", '
        '""parent"": 1, ""rules"": 1}"\r\n')


@pytest.mark.parametrize("message", [
    "=HYPERLINK(\"https://evil.example\", \"refund\")", "+1+cmd", "-2+3", "@SUM(A1:A9)",
])
def test_a_cell_a_spreadsheet_would_run_is_exported_behind_an_apostrophe(
    store: RuleStore, message: str
) -> None:
    store.publish("fr", sources(BOOTS_10), message=message, author="=mallory")

    rows = list(csv.reader(io.StringIO("".join(audit_csv(all_audit_entries(store.db))))))

    assert (rows[1][2], rows[1][6]) == ("'=mallory", "'" + message)


@pytest.mark.parametrize("text", ["\t=1+1", "\r=1+1"])
def test_a_cell_starting_with_a_tab_or_carriage_return_is_neutralised_too(text: str) -> None:
    # The store strips messages and authors, so only a unit test can give it one.
    assert as_text_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["boots, 10%", "'quoted'", "'=already", "=x", "", "1-2"])
def test_dropping_one_leading_apostrophe_restores_any_cell(text: str) -> None:
    cell = as_text_cell(text)

    assert (cell[1:] if cell.startswith("'") else cell) == text


def test_an_empty_export_still_has_its_header(store: RuleStore) -> None:
    assert "".join(audit_csv(all_audit_entries(store.db))) == (
        "id,at,actor,action,ruleset,version,message,address,details\r\n")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "UPDATE versions SET message = 'rewritten'",
    "DELETE FROM versions",
    # a rename would hand fr's history to another name, and leave none under fr
    "UPDATE rulesets SET name = 'be'",
    "DELETE FROM rulesets",
])
def test_the_database_refuses_to_rewrite_history(store: RuleStore, statement: str) -> None:
    _history(store)

    with pytest.raises(DBAPIError, match="append-only"), store.db.begin() as connection:
        connection.execute(text(statement))

    assert [e.actor for e in audit_entries(store.db)] == ["ana", "bob", "carla"]
    assert next(v.message for v in store.versions("fr")) == "boots, 10%"
    assert [r.name for r in store.rulesets()] == ["fr"]
