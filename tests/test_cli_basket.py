"""`remise evaluate --basket` reads a basket as the server and a device do: the same
limits, the same refusals, one line on stderr, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app

RULES = """\
currency EUR
timezone Europe/Paris

rule boots "Bottes -10%" {
    discount 10% on items where category = "boots"
}
"""


def basket(**fields: Any) -> dict[str, Any]:
    return {"channel": "pos", "currency": "EUR", "at": "2026-11-23T14:10:00+01:00",
            "lines": [{"id": "1", "sku": "BOOT", "quantity": 1, "unit_price": "100.00",
                       "category": "boots"}], **fields}


def evaluate(tmp_path: Path, body: dict[str, Any] | bytes) -> tuple[int, str, str]:
    rules = tmp_path / "boots.rules"
    rules.write_text(RULES, encoding="utf-8")
    file = tmp_path / "basket.json"
    file.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
    # color=True: what a terminal gets, escape sequences included (click strips them
    # from output that is not a terminal)
    result = CliRunner().invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(file)],
                                color=True)
    return result.exit_code, result.stdout, result.stderr


LINE = basket()["lines"][0]


@pytest.mark.parametrize(("fields", "said"), [
    ({"lines": [{**LINE, "id": str(n)} for n in range(501)]},
     "lines: at most 500 lines per basket, got 501"),
    ({"coupons": [f"C{n}" for n in range(21)]}, "coupons: at most 20 coupons per basket, got 21"),
], ids=["501 lines", "21 coupons"])
def test_a_basket_past_the_server_s_limits_is_refused_by_the_command_line(
    tmp_path: Path, fields: dict[str, Any], said: str
) -> None:
    # Given a basket the server answers with a 422 for its size
    # When the command line prices it
    code, printed, error = evaluate(tmp_path, basket(**fields))

    # Then it refuses it too, in the server's words, and prints no answer
    assert (code, printed) == (2, "")
    assert error.strip().endswith(said)
    assert len(error.strip().splitlines()) == 1


def test_a_refusal_quoting_control_characters_prints_them_escaped_on_one_line(
    tmp_path: Path
) -> None:
    # Given two lines whose id holds a line break and a terminal escape sequence
    twice = basket(lines=[{**LINE, "id": "a\nb\x1b[2J"}, {**LINE, "id": "a\nb\x1b[2J"}])

    # When the command line refuses it
    code, _, error = evaluate(tmp_path, twice)

    # Then the error is one line, the id written with its escapes, nothing for the
    # terminal to run
    assert code == 2
    assert error.endswith('lines[1].id: line id "a\\nb\\x1b[2J" is used twice\n')
    assert len(error.splitlines()) == 1 and "\x1b" not in error


def test_a_name_given_twice_with_a_line_break_is_named_on_one_line(tmp_path: Path) -> None:
    # Given a basket whose JSON gives a name holding a line break twice
    raw = b'{"channel": "pos", "a\\nb": 1, "a\\nb": 2}'

    # When the command line reads it
    code, _, error = evaluate(tmp_path, raw)

    # Then the name is written escaped, in the one line of the error
    assert code == 2
    assert "a\\nb: given twice in one object" in error
    assert len(error.splitlines()) == 1


def test_a_refusal_quoting_a_long_value_has_its_middle_cut(tmp_path: Path) -> None:
    # Given two lines sharing an id of 100,000 characters
    long_id = "x" * 100_000
    twice = basket(lines=[{**LINE, "id": long_id}, {**LINE, "id": long_id}])

    # When the command line refuses it
    code, _, error = evaluate(tmp_path, twice)

    # Then it says so in a line of a few hundred characters, as the server would
    assert code == 2
    assert "[... 99,624 characters ...]" in error and error.endswith("is used twice\n")
    assert len(error) < 600


def test_an_empty_basket_file_is_refused_saying_it_is_empty(tmp_path: Path) -> None:
    # Given a basket file that a failed export left empty
    # When it is priced
    code, out, err = evaluate(tmp_path, b"")

    # Then one line says so, exit 2, nothing priced
    assert (code, out) == (2, "")
    assert err == f"error: basket {tmp_path / 'basket.json'}: empty: expected a JSON object\n"
