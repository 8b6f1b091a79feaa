"""`remise rules publish` reading its files: what it cannot read is said where it is,
as `remise check` says it, and nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded default in the test's folder: no configured database or Redis."""
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REMISE_DATABASE_URL", raising=False)
    monkeypatch.delenv("REMISE_REDIS_URL", raising=False)


def test_a_file_that_is_not_utf8_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    # given a rule file saved as Latin-1: "été" in the title of line 2 is 0xe9 't' 0xe9
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "promo.rules").write_bytes(
        b'currency EUR\nrule ete "\xe9t\xe9" {\n'
        b'    discount 10% on items where category = "boots"\n}\n')

    # when it is published
    result = runner.invoke(app, ["rules", "publish", str(folder), "-r", "fr", "-m", "summer"])

    # then the byte is located as `remise check` locates it, with the fix, and nothing is
    # published
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"{folder / 'promo.rules'}:2:11: error: cannot read this file: byte 0xe9 is not "
        "UTF-8 text\n")
    assert "hint: save the file as UTF-8" in result.stderr
    assert result.stderr.endswith(
        f"error: cannot read {folder / 'promo.rules'}: byte 0xe9 is not UTF-8 text; "
        "nothing published\n")
    assert runner.invoke(app, ["rules", "list"]).stdout == ""


def test_two_files_that_would_be_stored_under_one_name_are_refused(tmp_path: Path) -> None:
    # given two folders, each with its own promo.rules (remise check counts 2 rules)
    for folder, rule, category in (("winter", "boots", "boots"), ("flash", "socks", "socks")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "promo.rules").write_text(
            f'currency EUR\nrule {rule} "x" {{\n'
            f'    discount 10% on items where category = "{category}"\n}}\n', encoding="utf-8")
    assert runner.invoke(app, ["check", str(tmp_path / "winter"), str(tmp_path / "flash")]
                         ).stdout == "ok: 2 rules, currency EUR\n"

    # when both folders are published
    result = runner.invoke(app, ["rules", "publish", str(tmp_path / "winter"),
                                 str(tmp_path / "flash"), "-r", "fr", "-m", "winter + flash"])

    # then it is refused, rather than one file silently replacing the other
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / 'winter' / 'promo.rules'} and {tmp_path / 'flash' / 'promo.rules'}"
        " would both be stored as promo.rules: a rule set's files need distinct names "
        "(publish the folder that holds both, or rename one); nothing published\n")
    assert runner.invoke(app, ["rules", "list"]).stdout == ""
