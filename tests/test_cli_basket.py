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


def evaluate(tmp_path: Path, body: dict[str, Any]) -> tuple[int, str, str]:
    rules = tmp_path / "boots.rules"
    rules.write_text(RULES, encoding="utf-8")
    file = tmp_path / "basket.json"
    file.write_text(json.dumps(body), encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(file)])
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
