"""`remise db`, `remise rules` and `remise audit` against the configured store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import dsl
from api.cli import app
from rules import RuleStore, create_db_engine
from rules.store import _Compiled, _Content, content_hash

from .scenario import BOOTS_10, BOOTS_20, BROKEN, HEADER, boots_basket

runner = CliRunner()
Remise = Callable[..., tuple[int, str, str]]


@pytest.fixture
def remise(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Remise:
    """Run `remise ...` on a migrated store; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)
    monkeypatch.delenv("REMISE_REDIS_URL", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    assert run("db", "upgrade")[0] == 0
    return run


def _rules(tmp_path: Path, body: str, name: str = "promo.rules") -> str:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(HEADER + body, encoding="utf-8")
    return str(folder)


def test_db_upgrade_says_what_it_did(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)

    first, again = runner.invoke(app, ["db", "upgrade"]), runner.invoke(app, ["db", "upgrade"])

    assert first.stdout == "database upgraded from nothing to schema 0003\n"
    assert again.stdout == "database already at schema 0003\n"


def test_db_current_says_a_database_is_ready_and_exits_0(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)
    runner.invoke(app, ["db", "upgrade"])

    result = runner.invoke(app, ["db", "current"])

    assert (result.exit_code, result.stdout) == (0, "database schema 0003, as this remise needs\n")


def test_db_current_on_an_unmigrated_database_says_to_upgrade_and_exits_3(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a configured database nobody migrated (every other command refuses it)
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)

    result = runner.invoke(app, ["db", "current"])

    # then a deploy script's check fails, with the command to run
    assert result.exit_code == 3
    assert result.stderr.endswith("has no remise schema; this remise needs 0003: "
                                  "run `remise db upgrade`\n")


def test_db_current_on_a_database_a_newer_remise_migrated_exits_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a store at a schema revision this remise does not know
    url = f"sqlite:///{tmp_path / 'remise.db'}"
    monkeypatch.setenv("REMISE_DATABASE_URL", url)
    runner.invoke(app, ["db", "upgrade"])
    db = create_db_engine(url)
    with db.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    db.dispose()

    result = runner.invoke(app, ["db", "current"])

    # then it is refused as every command refuses it: it reported it with exit 0
    assert (result.exit_code, result.stderr) == (
        3, "error: the database's schema (0999) is newer than this remise (0003): "
           "upgrade remise\n")


def test_db_current_on_a_new_embedded_store_says_it_is_created_on_first_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REMISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "data"))

    result = runner.invoke(app, ["db", "current"])

    assert (result.exit_code, result.stdout) == (
        0, "database schema none yet; remise needs 0003 and creates it on first use\n")


def test_an_unmigrated_database_is_refused_with_the_fix(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)

    result = runner.invoke(app, ["rules", "versions"])

    assert result.exit_code == 3
    assert "run `remise db upgrade`" in result.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["rules", "list"]])
def test_a_database_newer_than_this_remise_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # Given a real SQLite store that a newer remise migrated to a revision unknown here
    url = f"sqlite:///{tmp_path / 'remise.db'}"
    monkeypatch.setenv("REMISE_DATABASE_URL", url)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    db = create_engine(url)
    with db.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    db.dispose()

    # When a command opens it, `db upgrade` included
    result = runner.invoke(app, command)

    # Then the fix is to upgrade remise, not the database
    assert (result.exit_code, result.stderr) == (
        3, "error: the database's schema (0999) is newer than this remise (0003): "
           "upgrade remise\n")


def test_publish_rollback_and_read_history(remise: Remise, tmp_path: Path) -> None:
    with freeze_time("2026-11-27 09:00:00"):
        code, out, _ = remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr",
                              "-m", "boots", "--author", "ana")
    assert code == 0
    assert out.startswith("published fr version 1 (1 rules, hash ")
    assert out.endswith("live from 2026-11-27T09:00:00+00:00\n")

    with freeze_time("2026-11-27 10:00:00"):
        assert remise("rules", "publish", _rules(tmp_path, BOOTS_20), "-r", "fr", "-m", "more",
                      "--parent", "1", "--author", "bob")[0] == 0
    with freeze_time("2026-11-27 11:00:00"):
        code, out, _ = remise("rules", "rollback", "--to", "1", "-r", "fr", "-m", "too much",
                              "--author", "carla")
    assert code == 0 and out.startswith("rolled back to version 1: fr version 3")

    code, out, _ = remise("rules", "versions", "-r", "fr")
    assert [line.split()[:4] for line in out.splitlines()] == [
        ["1", "2026-11-27T09:00:00+00:00", "->", "2026-11-27T10:00:00+00:00"],
        ["2", "2026-11-27T10:00:00+00:00", "->", "2026-11-27T11:00:00+00:00"],
        ["3", "2026-11-27T11:00:00+00:00", "->", "now"],
    ]
    assert out.splitlines()[2].endswith("carla: rollback to version 1: too much")
    assert remise("rules", "live-at", "2026-11-27T10:30:00+01:00", "-r", "fr")[1].startswith(
        "fr version 1 ")  # 09:30 UTC
    code, out, _ = remise("rules", "diff", "1", "2", "-r", "fr")
    assert out.splitlines()[0] == (
        "fr: version 1 -> 2: 0 added, 0 removed, 1 changed, 0 unchanged")
    assert '+    discount 20% on items where category = "boots"' in out


def test_a_stale_parent_exits_3_and_names_the_latest(remise: Remise, tmp_path: Path) -> None:
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1")
    remise("rules", "publish", _rules(tmp_path, BOOTS_20), "-m", "v2")

    code, _, err = remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v3",
                          "--parent", "1")

    assert code == 3
    assert "'default' is at version 2, but this change was based on version 1" in err


def test_a_rollback_on_a_stale_parent_exits_3_and_keeps_a_colleagues_version(
    remise: Remise, tmp_path: Path
) -> None:
    # given version 2 is the bad one, and a colleague publishes a fix as version 3
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1")
    remise("rules", "publish", _rules(tmp_path, BOOTS_20), "-m", "v2 (bad)")
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v3 (colleague)")

    # when the marketer who looked at version 2 rolls back to version 1 on top of it
    code, _, err = remise("rules", "rollback", "--to", "1", "--parent", "2", "-m", "undo v2")

    # then the rollback is refused as the API refuses it, and version 3 stays live
    assert code == 3
    assert "'default' is at version 3, but this change was based on version 2" in err
    assert remise("rules", "list")[1].startswith("default  version 3, live from ")


@pytest.mark.parametrize("parent", ["0", "-1"])
def test_a_rollback_parent_that_is_no_version_number_exits_2(
    remise: Remise, tmp_path: Path, parent: str
) -> None:
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1")
    remise("rules", "publish", _rules(tmp_path, BOOTS_20), "-m", "v2")

    code, _, err = remise("rules", "rollback", "--to", "1", "--parent", parent, "-m", "undo")

    assert (code, err) == (2, f"error: parent {parent} is not a version number\n")


def test_a_broken_source_prints_located_errors_and_publishes_nothing(
    remise: Remise, tmp_path: Path
) -> None:
    code, _, err = remise("rules", "publish", _rules(tmp_path, BROKEN), "-m", "broken")

    assert code == 1
    assert err.startswith("promo.rules:5:")
    assert "nothing published" in err
    assert remise("rules", "list")[1] == ""


def test_audit_export_writes_csv(remise: Remise, tmp_path: Path) -> None:
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1",
           "--author", "ana")
    target = tmp_path / "audit.csv"

    code, _, err = remise("audit", "export", "-o", str(target))

    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert (code, err) == (0, f"wrote {target}\n")
    assert [(r["actor"], r["action"], r["ruleset"], r["version"]) for r in rows] == [
        ("ana", "publish", "fr", "1")]
    assert rows[0]["address"].startswith("cli@")


def test_audit_export_to_stdout_is_utf8_whatever_the_locale(
        remise: Remise, database_url: str, tmp_path: Path) -> None:
    # Given a publish whose message holds an arrow, which Latin-1 cannot write
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m",
           "soldes → -10 % été", "--author", "ana")

    # When finance exports the log to stdout from a shell whose locale is Latin-1
    result = CliRunner(charset="latin-1").invoke(app, ["audit", "export"])

    # Then the whole CSV comes out, in UTF-8 as the API serves it, not half of it
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8"))))
    assert [(r["actor"], r["message"]) for r in rows] == [("ana", "soldes → -10 % été")]


def test_show_writes_the_source_as_utf8_whatever_the_locale(remise: Remise,
                                                            tmp_path: Path) -> None:
    # Given a version whose rule title holds an arrow, which Latin-1 cannot write
    titled = BOOTS_10.replace("Bottes -10%", "Bottes → -10 % été")
    remise("rules", "publish", _rules(tmp_path, titled), "-r", "fr", "-m", "v1")

    # When a marketer keeps its source as a file from a shell whose locale is Latin-1
    result = CliRunner(charset="latin-1").invoke(app, ["rules", "show", "1", "-r", "fr"])

    # Then the whole source comes out in UTF-8, as a .rules file is read
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.decode("utf-8").endswith(HEADER + titled)


def test_a_listing_shows_what_the_terminal_cannot_print_as_an_escape(
        remise: Remise, tmp_path: Path) -> None:
    # Given a version whose message holds an arrow, which Latin-1 cannot print
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "soldes → été")

    # When a marketer lists the versions in a terminal whose locale is Latin-1
    result = CliRunner(charset="latin-1").invoke(app, ["rules", "versions", "-r", "fr"])

    # Then the listing is whole, the arrow written as its escape
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.decode("latin-1").rstrip().endswith(": soldes \\u2192 été")


def test_diff_as_json_is_utf8_whatever_the_locale(remise: Remise, tmp_path: Path) -> None:
    # Given a second version whose rule title holds an arrow, which Latin-1 cannot write
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")
    renamed = BOOTS_10.replace("Bottes -10%", "Bottes → -10 % été")
    remise("rules", "publish", _rules(tmp_path, renamed), "-r", "fr", "-m", "v2",
           "--parent", "1")

    # When finance keeps the diff as JSON from a shell whose locale is Latin-1
    result = CliRunner(charset="latin-1").invoke(app, ["rules", "diff", "1", "2", "-r", "fr",
                                                       "--json"])

    # Then the whole JSON comes out in UTF-8, the new title in it
    assert result.exit_code == 0, result.stderr
    assert "Bottes → -10 % été" in result.stdout_bytes.decode("utf-8")
    json.loads(result.stdout_bytes.decode("utf-8"))


@pytest.mark.parametrize(("args", "message"), [
    (["rules", "versions", "-r", "nope"], "no rule set named 'nope'"),
    (["rules", "live-at", "yesterday"], "is not an ISO-8601 instant"),
    (["rules", "live-at", "2026-11-27T10:00:00"], "has no UTC offset"),
    (["rules", "publish", "/nowhere", "-m", "x"], "cannot read /nowhere: No such file"),
])
def test_bad_requests_get_one_clear_line(remise: Remise, args: list[str], message: str) -> None:
    code, _, err = remise(*args)

    assert code in (2, 3)
    assert message in err
    assert "Traceback" not in err


def test_key_commands_are_audited_as_publishes_are(remise: Remise, tmp_path: Path) -> None:
    # Given a key created and revoked from the command line
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")
    assert remise("keys", "create", "--role", "device", "--name", "till")[0] == 0
    assert remise("keys", "revoke", "till")[0] == 0
    target = tmp_path / "audit.csv"

    # When finance exports the audit log
    remise("audit", "export", "-o", str(target))

    # Then the key entries name the same actor and address as the publish does
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len({(r["actor"], r["address"]) for r in rows}) == 1
    assert rows[0]["address"].startswith("cli@")


def test_revoking_a_key_twice_is_refused_as_the_api_refuses_it(remise: Remise) -> None:
    remise("keys", "create", "--role", "device", "--name", "till")
    remise("keys", "revoke", "till")

    code, _, err = remise("keys", "revoke", "till")

    assert code == 3
    assert err == "error: the key 'till' is already revoked\n"


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("-m", "fix\x00", "--message: control characters other than tabs and line breaks are "
                      "not allowed: U+0000 at character 4"),
    ("--author", "ana\x1b[31m", "--author: control characters are not allowed: U+001B at "
                                "character 4"),
])
def test_a_control_character_in_a_message_or_author_is_one_line_exit_2(
    remise: Remise, tmp_path: Path, option: str, value: str, problem: str
) -> None:
    # Given the options of a publish, one of them holding a control character
    options = {"-m": "v1", "--author": "ana", option: value}

    # When it is published
    code, _, err = remise("rules", "publish", _rules(tmp_path, BOOTS_10),
                          *[part for pair in options.items() for part in pair])

    # Then it is refused in one line naming the option, and nothing is published
    assert (code, err) == (2, f"error: {problem}\n")
    assert remise("rules", "list")[1] == ""


@pytest.mark.parametrize("author", ["", "   "])
def test_an_author_given_blank_is_refused_rather_than_taken_for_the_login(
    remise: Remise, tmp_path: Path, author: str
) -> None:
    # When a publish names an author that is empty or only spaces
    code, _, err = remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1",
                          "--author", author)

    # Then it is refused in one line naming the option, and nothing is published
    assert (code, err) == (2, "error: --author is empty: give a name, or leave the option "
                              "out to record your login\n")
    assert remise("rules", "list")[1] == ""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_value_postgresql_cannot_hold_is_one_line_exit_2(remise: Remise) -> None:
    # When a rule set name holding a NUL reaches PostgreSQL, which refuses it
    code, _, err = remise("rules", "versions", "-r", "fr\x00")

    # Then the database's reason is one line, as bad input
    assert (code, err) == (2, "error: the database cannot hold a value given: PostgreSQL "
                              "text fields cannot contain NUL (0x00) bytes\n")


def test_diff_prints_the_settings_that_changed(remise: Remise, tmp_path: Path) -> None:
    # Given the same rule published in EUR, then in USD
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "eur")
    usd = tmp_path / "usd"
    usd.mkdir()
    (usd / "promo.rules").write_text(HEADER.replace("EUR", "USD") + BOOTS_10, encoding="utf-8")
    remise("rules", "publish", str(usd), "-m", "usd")

    # When the two versions are compared
    code, out, _ = remise("rules", "diff", "1", "2")

    # Then the new currency is said, though no rule changed
    assert (code, out) == (0, "default: version 1 -> 2: 0 added, 0 removed, 0 changed, "
                              "1 unchanged, 1 settings changed\n\n"
                              "setting currency: EUR -> USD\n")


def test_versions_prints_one_line_per_version_whatever_its_message(
    remise: Remise, tmp_path: Path
) -> None:
    # Given a version whose message's second line reads like another version's listing
    forged = "   9  2026-11-27T12:00:00+00:00 -> now (live)      1 rules  0123456789ab  eve: ok"
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", f"boots\n{forged}",
           "--author", "ana")

    # When finance lists the versions
    code, out, _ = remise("rules", "versions", "-r", "fr")

    # Then the one version is one line, its message's line break written as an escape
    assert code == 0 and len(out.splitlines()) == 1
    assert out.endswith(f"ana: boots\\n{forged}\n")


def test_audit_export_filters_by_action_and_actor_as_the_api_does(
        remise: Remise, tmp_path: Path) -> None:
    # Given ana's publish, then ben's publish and rollback
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1", "--author", "ana")
    remise("rules", "publish", _rules(tmp_path, BOOTS_20), "-m", "v2", "--author", "ben")
    remise("rules", "rollback", "1", "-m", "back", "--author", "ben")

    # When finance exports ben's publishes
    code, out, _ = remise("audit", "export", "--action", "publish", "--actor", "ben")

    # Then only that one is in the CSV
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["actor"], r["action"], r["version"]) for r in rows] == [("ben", "publish", "2")]


def test_audit_export_since_a_tenth_of_a_microsecond_after_an_entry_leaves_it_out(
        remise: Remise, tmp_path: Path) -> None:
    # Given three publishes, and the instant of the second written with seven digits (as
    # .NET writes instants), a tenth of a microsecond after it
    for body in (BOOTS_10, BOOTS_20, BOOTS_10):
        remise("rules", "publish", _rules(tmp_path, body), "-m", "v", "--author", "ana")
    rows = list(csv.DictReader(io.StringIO(remise("audit", "export")[1])))
    second = datetime.fromisoformat(rows[1]["at"]).strftime("%Y-%m-%dT%H:%M:%S.%f")

    # When finance exports what happened since then
    code, out, _ = remise("audit", "export", "--since", f"{second}1Z")

    # Then the second publish, before that instant, is not exported
    assert code == 0
    assert [r["version"] for r in csv.DictReader(io.StringIO(out))] == ["3"]


@pytest.mark.parametrize(("args", "message"), [
    (["--action", "publsh"], "error: --action: 'publsh' is not an action of the audit log: "
                             "publish, rollback, key_create, "),
    (["--actor", ""], "error: --actor: an empty filter matches no entry"),
    (["--action", ""], "error: --action: an empty filter matches no entry"),
    # as GET /v1/audit refuses them: no author holds a control character or 201 of them
    (["--actor", "ana\x1b[2J"], "error: --actor: control characters are not allowed: "
                                "U+001B at character 4"),
    (["--actor", "a" * 201], "error: --actor: longer than any author (200 characters)"),
])
def test_audit_export_refuses_a_filter_that_can_match_nothing(
        remise: Remise, args: list[str], message: str) -> None:
    code, out, err = remise("audit", "export", *args)

    assert (code, out) == (2, "")
    assert err.startswith(message)


def test_audit_export_refuses_an_empty_rule_set_filter(remise: Remise, tmp_path: Path) -> None:
    # Given a publish in the log
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")

    # When finance exports with a blank --ruleset (an unset variable in a script)
    code, out, err = remise("audit", "export", "--ruleset", "")

    # Then it is refused in one line, rather than a CSV with no entry at all
    assert (code, out) == (2, "")
    assert err == ("error: --ruleset: an empty filter matches no entry: leave it out to "
                   "export every entry\n")


def test_audit_export_refuses_an_empty_since(remise: Remise, tmp_path: Path) -> None:
    # Given a publish in the log
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")

    # When finance exports with a blank --since (an unset variable in a script)
    code, out, err = remise("audit", "export", "--since", "")

    # Then it is refused naming the option, rather than exporting the whole log
    assert (code, out) == (2, "")
    assert err == "error: --since: '' is not an ISO-8601 instant, e.g. 2026-11-23T14:10:00+01:00\n"


def test_a_version_this_remise_cannot_read_is_one_line_exit_3(
    remise: Remise, tmp_path: Path, database_url: str
) -> None:
    # Given version 2 of fr, whose IR this engine refuses (as an older release stored one)
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")
    store = RuleStore(create_db_engine(database_url))
    ir_json = '{"not": "an IR"}'
    store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                  message="unreadable", author="an older release", parent=None,
                  address=None, rollback_of=None)
    store.db.dispose()
    basket = tmp_path / "basket.json"
    basket.write_text(json.dumps({**boots_basket(), "ruleset": "fr"}), encoding="utf-8")

    # When finance diffs it, and replays a basket on it
    diffed = remise("rules", "diff", "1", "2", "-r", "fr")
    replayed = remise("evaluate", "--ruleset", "fr", "--version", "2", "--basket", str(basket))

    # Then each is refused in one line naming the version
    for code, _, err in (diffed, replayed):
        assert code == 3
        assert err.startswith("error: version 2 of 'fr' cannot be read by this remise: ")
        assert len(err.splitlines()) == 1


def test_audit_export_refuses_an_until_before_since(remise: Remise) -> None:
    # When finance swaps the bounds of an export
    code, out, err = remise("audit", "export", "--since", "2026-11-28T00:00:00+01:00",
                            "--until", "2026-11-27T00:00:00+01:00")

    # Then it is refused in one line, rather than a CSV with no entry at all
    assert (code, out) == (2, "")
    assert err == ("error: --until: '2026-11-27T00:00:00+01:00' is not after --since "
                   "'2026-11-28T00:00:00+01:00': no entry can match\n")


def test_diff_prints_a_terminal_escape_in_a_rule_as_text(
        remise: Remise, tmp_path: Path, database_url: str) -> None:
    # Given version 2 adding to boots a comment that would erase the line above it on a
    # terminal (cursor up, erase line), and a title that would turn the screen red, as a
    # release that did not refuse them stored it (publish refuses them now)
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1")
    hidden = BOOTS_20.replace(" {\n", " {\n    # \x1b[1A\x1b[2K\n").replace(
        '"Bottes -20%"', '"Bottes\x1b[31m -20%"')
    compiled_at = datetime(2026, 11, 23, 15, 0, 0, 1, tzinfo=UTC)
    clean = dsl.compile_sources({"promo.rules": HEADER + BOOTS_20}, publish_at=compiled_at)
    titled = clean.model_copy(update={"rules": tuple(
        rule.model_copy(update={"title": "Bottes\x1b[31m -20%"}) for rule in clean.rules)})
    store = RuleStore(create_db_engine(database_url))
    store._append("default", _Compiled({"promo.rules": HEADER + hidden}, titled, compiled_at),
                  message="v2", author="an older release", parent=None, address=None,
                  rollback_of=None)
    store.db.dispose()

    # When finance reads the diff on a terminal
    code, out, _ = remise("rules", "diff", "1", "2")

    # Then every escape is printed as text, so the diff shows all it holds
    assert code == 0 and "\x1b" not in out
    assert '\nchanged: boots "Bottes\\x1b[31m -20%"\n' in out
    assert "\n+    # \\x1b[1A\\x1b[2K\n" in out


def test_audit_export_refuses_a_rule_set_that_does_not_exist(
    remise: Remise, tmp_path: Path
) -> None:
    # Given rule set fr
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-r", "fr", "-m", "v1")

    # When finance exports the log of a misspelt rule set
    code, out, err = remise("audit", "export", "--ruleset", "fr-web")

    # Then it is refused in one line, rather than a CSV with no entry at all
    assert (code, out) == (3, "")
    assert err == "error: no rule set named 'fr-web'; rule sets: fr\n"


def test_french_spaces_in_a_title_or_message_are_printed_as_they_are(
    remise: Remise, tmp_path: Path
) -> None:
    # Given a title and a message typeset in French: a no-break space before the colon,
    # a narrow one before the per cent sign
    remise("rules", "publish", _rules(tmp_path, BOOTS_10), "-m", "v1")
    french = BOOTS_20.replace('"Bottes -20%"', '"Bottes\xa0: -20\u202f%"')
    remise("rules", "publish", _rules(tmp_path, french), "-m", "Soldes\xa0: -20\u202f%",
           "--author", "ana")

    # When finance lists the versions and reads the diff
    _, versions, _ = remise("rules", "versions")
    _, diff, _ = remise("rules", "diff", "1", "2")

    # Then both read as typed: only what a terminal would act on is written as an escape
    assert versions.splitlines()[1].endswith("ana: Soldes\xa0: -20\u202f%")
    assert '\nchanged: boots "Bottes\xa0: -20\u202f%"\n' in diff
