"""The command line and the HTTP API give the same bytes for the same basket."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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


@pytest.fixture
def two_versions(demo: Api) -> Api:
    """default at version 2 (the demo without rain_flash), version 1 before it."""
    sources = {p.name: p.read_text(encoding="utf-8")
               for p in sorted((EXAMPLES / "rules").glob("*.rules"))}
    changed = {name: text.replace("15%", "25%") for name, text in sources.items()}
    response = demo.call("marketer", "POST", "/v1/rulesets/default/versions",
                         json={"sources": changed, "message": "-25%", "parent": 1})
    assert response.status_code == 201
    return demo


RAIN = EXAMPLES / "baskets" / "pos-rain-flash-cardholder.json"


def test_a_basket_pinned_to_an_old_version_gets_the_same_answer_from_both(
    two_versions: Api, tmp_path: Path
) -> None:
    # Given a basket that asks for version 1 (version 2 is live)
    basket = tmp_path / "old.json"
    body = {**json.loads(RAIN.read_text(encoding="utf-8")), "version": 1}
    basket.write_text(json.dumps(body), encoding="utf-8")

    # When the HTTP API and the command line price it
    http = two_versions.call("finance", "POST", "/v1/evaluate", json=body)
    printed = CliRunner().invoke(cli, ["evaluate", "--ruleset", "default", "--basket",
                                       str(basket)])

    # Then both answer on version 1, byte for byte (the CLI priced on the live one)
    assert http.status_code == 200 and printed.exit_code == 0, printed.stderr
    assert json.loads(http.text)["version"] == 1
    assert printed.stdout == http.text + "\n"


@pytest.mark.parametrize(("at", "status", "exit_code"), [
    ("now", 200, 0),  # after both publishes: version 2
    ("2026-11-23T14:10:00+01:00", 404, 3),  # before the first: nothing was live
])
def test_a_replay_reads_the_version_live_at_the_baskets_instant_in_both(
    two_versions: Api, tmp_path: Path, at: str, status: int, exit_code: int
) -> None:
    instant = datetime.now(UTC).isoformat() if at == "now" else at
    body = {**json.loads(RAIN.read_text(encoding="utf-8")), "replay": True, "at": instant}
    basket = tmp_path / "replay.json"
    basket.write_text(json.dumps(body), encoding="utf-8")

    http = two_versions.call("finance", "POST", "/v1/evaluate", json=body)
    printed = CliRunner().invoke(cli, ["evaluate", "--ruleset", "default", "--basket",
                                       str(basket)])

    assert (http.status_code, printed.exit_code) == (status, exit_code), printed.stderr
    if status == 200:
        assert json.loads(http.text)["version"] == 2
        assert printed.stdout == http.text + "\n"


@pytest.mark.parametrize(("pinned", "options", "words"), [
    ({"ruleset": "fr"}, [], "the basket names rule set 'fr', --ruleset 'default'"),
    ({"version": 1}, ["--version", "2"], "the basket names version 1, --version 2"),
    ({"replay": True}, ["--version", "1"], "either a version or a replay"),
])
def test_a_basket_at_odds_with_the_options_is_refused(
    two_versions: Api, tmp_path: Path, pinned: dict[str, object], options: list[str],
    words: str
) -> None:
    basket = tmp_path / "odd.json"
    basket.write_text(json.dumps({**json.loads(RAIN.read_text(encoding="utf-8")), **pinned}),
                      encoding="utf-8")

    printed = CliRunner().invoke(cli, ["evaluate", "--ruleset", "default", "--basket",
                                       str(basket), *options])

    assert printed.exit_code == 2
    assert words in printed.stderr


def test_version_0_is_refused_not_read_as_the_live_one(two_versions: Api) -> None:
    printed = CliRunner().invoke(cli, ["evaluate", "--ruleset", "default", "--basket",
                                       str(RAIN), "--version", "0"])

    assert printed.exit_code == 3
