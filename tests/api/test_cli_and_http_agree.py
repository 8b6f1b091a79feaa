"""The command line and the HTTP API give the same bytes for the same basket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli

from .conftest import Api

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASKETS = sorted((EXAMPLES / "baskets").glob("*.json"))


@pytest.fixture
def demo(api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Api:
    sources = {p.name: p.read_text(encoding="utf-8")
               for p in sorted((EXAMPLES / "rules").glob("*.rules"))}
    response = api.call("marketer", "POST", "/v1/rulesets/default/versions",
                        json={"sources": sources, "message": "demo", "parent": 0})
    assert response.status_code == 201
    monkeypatch.setenv("REMISE_DATABASE_URL", database_url)
    return api


@pytest.mark.parametrize("basket", BASKETS, ids=[b.stem for b in BASKETS])
def test_cli_and_http_answers_are_identical(demo: Api, basket: Path) -> None:
    body = json.loads(basket.read_text(encoding="utf-8"))

    http = demo.call("channel", "POST", "/v1/evaluate", json={**body, "explain": True})
    printed = CliRunner().invoke(cli, ["evaluate", "--ruleset", "default", "--basket",
                                       str(basket), "--explain"])

    assert http.status_code == 200 and printed.exit_code == 0, printed.stderr
    assert printed.stdout == http.text + "\n"
    assert json.loads(http.text)["version"] == 1
