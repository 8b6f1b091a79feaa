"""Schema migrations: `remise db upgrade` creates the store, twice is harmless,
an unmigrated database is refused with the command to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DataError, DBAPIError

from rules import (
    InvalidRequest,
    RuleStore,
    SchemaNotReady,
    Settings,
    create_db_engine,
    current_revision,
    ensure_schema,
    head_revision,
    open_store,
    upgrade,
)
from rules.bundles import SigningKeys
from rules.db import downgrade

from .scenario import BOOTS_10, sources


def test_upgrade_creates_the_store_and_is_idempotent(database_url: str) -> None:
    db = create_db_engine(database_url)

    assert current_revision(db) is None
    assert upgrade(db) == head_revision()
    assert upgrade(db) == head_revision()

    assert {"rulesets", "versions", "audit_log"} <= set(inspect(db).get_table_names())
    ensure_schema(db)
    db.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(
    database_url: str,
) -> None:
    db = create_db_engine(database_url)
    upgrade(db)

    downgrade(db)
    assert not {"rulesets", "versions", "audit_log"} & set(inspect(db).get_table_names())
    upgrade(db)
    assert current_revision(db) == head_revision()
    db.dispose()


def test_upgrading_a_store_with_history_keeps_it_and_guards_its_names(
    database_url: str,
) -> None:
    # given a store at schema 0002 (before rule set names were guarded) holding fr
    db = create_db_engine(database_url)
    upgrade(db)
    RuleStore(db).publish("fr", sources(BOOTS_10), message="v1", author="ana")
    downgrade(db, "0002")

    # when it is upgraded
    assert upgrade(db) == "0003"

    # then fr and its version are there, and its name can no longer be changed
    assert [v.number for v in RuleStore(db).versions("fr")] == [1]
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as connection:
        connection.execute(text("UPDATE rulesets SET name = 'be'"))
    db.dispose()


def test_an_unmigrated_configured_database_is_refused_with_the_fix(database_url: str) -> None:
    settings = Settings.from_env({"REMISE_DATABASE_URL": database_url})

    with pytest.raises(SchemaNotReady, match=r"has no remise schema.*run `remise db upgrade`"):
        open_store(settings)


def test_the_embedded_default_migrates_itself(tmp_path: object) -> None:
    settings = Settings.from_env({"REMISE_DATA_DIR": f"{tmp_path}/data"})

    store = open_store(settings)

    assert settings.embedded
    assert settings.database_url.endswith("/data/remise.db")
    assert current_revision(store.db) == head_revision()


def test_the_embedded_default_makes_its_data_folder_for_its_owner_alone(
        tmp_path: Path) -> None:
    # given a data folder that does not exist yet
    settings = Settings.from_env({"REMISE_DATA_DIR": f"{tmp_path}/data"})

    # when the store and the bundle signing keys are first used
    store = open_store(settings)
    SigningKeys(settings.signing_keys_dir).active()
    store.db.dispose()

    # then no other local user may read the rule sources, key hashes or signing keys
    for folder in (tmp_path / "data", settings.signing_keys_dir):
        assert folder.stat().st_mode & 0o077 == 0, folder


@pytest.mark.parametrize(("url", "words"), [
    ("mysql://user@db/remise", "its driver is not installed (MySQLdb)"),
    ("nonsense://x", "cannot use database URL 'nonsense://x'"),
    ("postgresql+psycopg://remise:secret@127.0.0.1:1/remise", "remise:***@127.0.0.1:1"),
])
def test_an_unusable_database_url_is_one_clear_sentence(url: str, words: str) -> None:
    with pytest.raises((InvalidRequest, SchemaNotReady)) as refused:
        open_store(Settings.from_env({"REMISE_DATABASE_URL": url}))

    assert words in str(refused.value)
    assert "secret" not in str(refused.value)


def _stamped_newer(tmp_path: Path) -> Engine:
    """A real SQLite store migrated by a newer remise: at a revision this one lacks."""
    db = create_db_engine(f"sqlite:///{tmp_path / 'remise.db'}")
    upgrade(db)
    with db.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    return db


NEWER = rf"^the database's schema \(0999\) is newer than this remise \({head_revision()}\): " \
        r"upgrade remise$"


def test_a_database_newer_than_this_remise_is_refused_with_the_fix(tmp_path: Path) -> None:
    db = _stamped_newer(tmp_path)

    with pytest.raises(SchemaNotReady, match=NEWER):
        ensure_schema(db)


def test_upgrading_a_database_newer_than_this_remise_says_to_upgrade_remise(
    tmp_path: Path,
) -> None:
    db = _stamped_newer(tmp_path)

    with pytest.raises(SchemaNotReady, match=NEWER):
        upgrade(db)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_error_does_not_carry_the_statements_values(database_url: str) -> None:
    # Given a statement carrying a rule source that fails in the database
    db = create_db_engine(database_url)
    with pytest.raises(DataError) as refused, db.connect() as connection:
        connection.execute(text("SELECT 1 / 0, CAST(:value AS TEXT)"),
                           {"value": "rule secret_staff_code"})
    db.dispose()

    # Then the error, which a server logs, names the statement but not the value
    assert "SELECT 1 / 0" in str(refused.value)
    assert "secret_staff_code" not in str(refused.value)
