"""The ``remise`` command line: check, fmt, evaluate, demo (exit codes, messages)."""

from __future__ import annotations

import importlib.metadata
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import engine
from api.cli import app
from rules.db import head_revision

RAIN_RULES = """\
currency EUR
timezone Europe/Paris

rule rain_flash "Averse : -15% sur les vêtements de pluie" {
    audience cardholder
    valid 2026-11-23 14:00 for 30 minutes
    discount 15% on items where category = "rainwear"
}
"""

RAIN_BASKET = {
    "channel": "pos",
    "store": "paris-01",
    "currency": "EUR",
    "at": "2026-11-23T14:10:00+01:00",
    "customer": {"id": "c-42", "cardholder": True},
    "lines": [
        {"id": "1", "sku": "RAIN-JKT-01", "quantity": 1, "unit_price": "89.90",
         "category": "rainwear", "brand": "Aigle"},
    ],
}

runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_accepts_clean_rules(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    result = runner.invoke(app, ["check", str(rules)])
    assert result.exit_code == 0
    assert "ok: 1 rules" in result.output


def test_check_locates_an_error_and_exits_1(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES.replace("15%", "150%"))
    result = runner.invoke(app, ["check", str(rules)])
    assert result.exit_code == 1
    assert "rain.rules:7:" in result.output  # the discount line
    assert "Traceback" not in result.output


def test_evaluate_prints_the_contract_response(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    # 89.90 x 15% = 13.485 -> 13.49 (half-up); 89.90 - 13.49 = 76.41
    assert (response["discount"], response["total"]) == ("13.49", "76.41")
    assert response["applied"][0]["rule"] == "rain_flash"


def test_evaluate_reads_the_basket_from_stdin_as_utf8_bytes(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = json.dumps({**RAIN_BASKET, "store": "café-01"}, ensure_ascii=False)

    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", "-"],
                           input=basket.encode("utf-8"))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == "76.41"


def test_evaluate_writes_utf8_json_whatever_the_locale(tmp_path: Path) -> None:
    # Given a rule whose title has an accent, and a shell whose locale is Latin-1
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    latin1 = CliRunner(charset="latin-1")

    # When finance keeps the priced basket as a file
    result = latin1.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])

    # Then the file holds the UTF-8 JSON the API answers, not the locale's bytes
    assert result.exit_code == 0, result.output
    title = json.loads(result.stdout_bytes.decode("utf-8"))["applied"][0]["title"]
    assert title == "Averse : -15% sur les vêtements de pluie"


def test_evaluate_at_overrides_the_basket_instant(tmp_path: Path) -> None:
    # 14:30 Paris is the exclusive end of the 30-minute window: nothing applies.
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    result = runner.invoke(
        app,
        ["evaluate", "--rules", str(rules), "--basket", str(basket),
         "--at", "2026-11-23T13:30:00Z"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["discount"] == "0.00"


def test_evaluate_explains_when_asked(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    anonymous = {**RAIN_BASKET, "customer": None}
    basket = write(tmp_path, "basket.json", json.dumps(anonymous))
    result = runner.invoke(
        app, ["evaluate", "--rules", str(rules), "--basket", str(basket), "--explain"]
    )
    assert result.exit_code == 0, result.output
    [explained] = json.loads(result.stdout)["explain"]
    assert explained["status"] == "not_applied"
    assert "cardholder" in explained["reason"]


def test_evaluate_refuses_a_bad_basket_with_exit_2(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    bad = json.loads(json.dumps(RAIN_BASKET))
    bad["lines"][0]["quantity"] = -1
    basket = write(tmp_path, "basket.json", json.dumps(bad))
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "lines[0].quantity" in result.output
    assert "Traceback" not in result.output


def test_evaluate_refuses_invalid_json_with_its_position(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", '{"channel": "pos",\n "lines": [}')
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "not valid JSON at line 2" in result.output


def test_evaluate_refuses_half_a_surrogate_pair_with_its_field(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    text = json.dumps(RAIN_BASKET).replace('"sku": "RAIN', '"sku": "\\udc00RAIN')
    basket = write(tmp_path, "basket.json", text)
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "lines[0].sku: \\udc00 is half of a surrogate pair" in result.output
    assert "Traceback" not in result.output


def test_evaluate_refuses_a_basket_that_is_not_utf8(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = tmp_path / "basket.json"
    basket.write_bytes(json.dumps(RAIN_BASKET).replace("Aigle", "A\xefgle").encode("latin-1"))
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output


def _refusal(tmp_path: Path, text: str) -> tuple[int, list[str]]:
    """Evaluate a basket file holding ``text``: the exit code and the lines written."""
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", text)
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    return result.exit_code, result.output.splitlines()


def test_evaluate_refuses_a_number_too_long_to_convert_in_one_line(tmp_path: Path) -> None:
    text = json.dumps(RAIN_BASKET).replace('"quantity": 1', '"quantity": ' + "9" * 5000)

    code, lines = _refusal(tmp_path, text)

    assert code == 2
    assert lines == [f"error: basket {tmp_path / 'basket.json'}: lines[0].quantity: "
                     "a number of 5000 digits; at most 4,300 are read"]


def test_evaluate_refuses_nesting_too_deep_in_one_line(tmp_path: Path) -> None:
    code, lines = _refusal(tmp_path, "[" * 50_000 + "]" * 50_000)

    assert code == 2
    assert lines == [f"error: basket {tmp_path / 'basket.json'}: "
                     "arrays and objects are nested too deeply to read"]


def test_evaluate_refuses_a_name_given_twice(tmp_path: Path) -> None:
    text = json.dumps(RAIN_BASKET).replace('"currency": "EUR"',
                                           '"currency": "EUR", "currency": "CHF"')

    code, lines = _refusal(tmp_path, text)

    assert code == 2
    assert lines == [f"error: basket {tmp_path / 'basket.json'}: currency: given twice in one "
                     "object; each name may appear once (I-JSON, RFC 7493)"]


def test_evaluate_refuses_rules_that_do_not_compile_with_exit_2(tmp_path: Path) -> None:
    rules = write(tmp_path, "rain.rules", RAIN_RULES.replace("cardholder", "cardholdr"))
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "rain.rules:5:" in result.output


def test_fmt_check_reports_an_unformatted_file_and_changes_nothing(tmp_path: Path) -> None:
    messy = RAIN_RULES.replace("    audience cardholder", "  audience   cardholder")
    rules = write(tmp_path, "rain.rules", messy)
    result = runner.invoke(app, ["fmt", "--check", str(rules)])
    assert result.exit_code == 1
    assert "would reformat" in result.output
    assert rules.read_text(encoding="utf-8") == messy


def test_fmt_rewrites_then_is_stable(tmp_path: Path) -> None:
    messy = RAIN_RULES.replace("    audience cardholder", "  audience   cardholder")
    rules = write(tmp_path, "rain.rules", messy)
    assert runner.invoke(app, ["fmt", str(rules)]).exit_code == 0
    formatted = rules.read_text(encoding="utf-8")
    assert "    audience cardholder\n" in formatted
    assert runner.invoke(app, ["fmt", "--check", str(rules)]).exit_code == 0


def test_fmt_writes_a_notepad_file_back_without_its_mark_and_carriage_returns(
        tmp_path: Path) -> None:
    # given the canonical rules saved by Notepad: a byte-order mark and CR LF line ends
    notepad = "\ufeff" + RAIN_RULES.replace("\n", "\r\n")
    rules = tmp_path / "rain.rules"
    rules.write_bytes(notepad.encode("utf-8"))

    # then --check wants it reformatted, and fmt writes the canonical bytes
    assert runner.invoke(app, ["fmt", "--check", str(rules)]).exit_code == 1
    assert runner.invoke(app, ["fmt", str(rules)]).exit_code == 0
    assert rules.read_bytes() == RAIN_RULES.encode("utf-8")


def test_demo_prices_every_demo_basket() -> None:
    result = runner.invoke(app, ["demo", "--examples", str(Path(__file__).parents[1] / "examples")])
    assert result.exit_code == 0, result.output
    baskets = list((Path(__file__).parents[1] / "examples" / "baskets").glob("*.json"))
    assert len(baskets) >= 12
    assert f"{len(baskets)} baskets" in result.output
    assert all(Decimal(line.split("total")[1].split()[0]) >= 0
               for line in result.output.splitlines() if " total " in line)


def test_demo_finds_its_examples_from_any_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a working directory with no examples/ folder (as `remise serve` is run)
    monkeypatch.chdir(tmp_path)
    # When the README's `remise demo` runs there
    result = runner.invoke(app, ["demo"])
    # Then it prices remise's own demo baskets, as `serve` publishes its demo rules
    assert result.exit_code == 0, result.output
    assert "pos-rain-flash-cardholder" in result.output
    assert "cannot read" not in result.output


def test_evaluate_refuses_version_with_rule_files(tmp_path: Path) -> None:
    # Given rule files, which have no versions
    rules = write(tmp_path, "rain.rules", RAIN_RULES)
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    # When --version is given with --rules
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket),
                                 "--version", "2"])
    # Then it is refused in one line (not silently ignored), exit 2, saying to use --ruleset
    assert result.exit_code == 2
    assert "--ruleset" in result.output
    assert '"version"' not in result.output


def test_evaluate_refuses_publish_at_with_a_published_rule_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a basket priced on a rule set of the store (an empty one, in a scratch folder)
    monkeypatch.chdir(tmp_path)
    basket = write(tmp_path, "basket.json", json.dumps(RAIN_BASKET))
    # When --publish-at (a rule-files option) is given with --ruleset
    result = runner.invoke(app, ["evaluate", "--ruleset", "fr", "--basket", str(basket),
                                 "--publish-at", "2026-11-23T13:00:00Z"])
    # Then it is refused before the store is opened, exit 2, naming --rules
    assert result.exit_code == 2
    assert "--publish-at" in result.output and "--rules" in result.output


def test_help_wraps_a_commands_summary_to_the_terminal_not_to_its_docstring() -> None:
    # given a wide terminal, and a summary written over two lines of its docstring
    result = runner.invoke(app, ["device", "--help"], env={"COLUMNS": "200"})

    # then it is one line: the docstring's line breaks cut it at odd places
    trust = next(line for line in result.output.splitlines() if "Trust the server's" in line)
    assert "when the keys rotate" in trust


def test_version_names_the_release_the_schema_it_needs_and_the_engine_build() -> None:
    # given an operator comparing this remise with a database and a running server
    # when they ask for its version
    result = runner.invoke(app, ["--version"])

    # then one line says what `remise db current` and /healthz are compared with
    assert result.exit_code == 0
    assert result.output == (f"remise {importlib.metadata.version('remise')} (database schema "
                             f"{head_revision()}, engine build {engine.BUILD})\n")
