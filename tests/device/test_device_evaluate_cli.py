"""`remise device evaluate` reads a basket of the evaluation contract as the server does:
its `replay` field included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import engine
from api.cli import app as cli
from rules.bundles import SigningKeys

from .helpers import (
    SOURCE,
    basket,
    issuer,
    one_line,
    published,
    remise,
    till_holding_a_bundle,
)


@pytest.fixture
def till(tmp_path: Path) -> Path:
    """A till holding fr version 3 for pos in paris-01, signed by a key it trusts."""
    return till_holding_a_bundle(tmp_path / "till", tmp_path / "keys")


def _evaluate(till: Path, tmp_path: Path, **fields: object) -> tuple[int, str]:
    path = tmp_path / "basket.json"
    path.write_text(json.dumps(basket(**fields)), encoding="utf-8")
    return remise("device", "evaluate", "--dir", str(till), "--basket", str(path))


def test_a_basket_saying_replay_false_is_priced_as_without_it(till: Path,
                                                               tmp_path: Path) -> None:
    # given a basket the server prices, with "replay": false (what /v1/echo sends back)
    # when the till prices it
    code, output = _evaluate(till, tmp_path, replay=False)
    # then it is priced exactly as the same basket without the field
    assert code == 0, output
    assert output == _evaluate(till, tmp_path)[1]
    assert json.loads(output)["version"] == 3


def test_a_basket_asking_a_replay_is_refused_saying_where_to_replay(till: Path,
                                                                    tmp_path: Path) -> None:
    # given a finance replay basket; when a till is asked to price it
    code, output = _evaluate(till, tmp_path, replay=True)
    # then it is refused in one line, exit 3, sending it to the server (not "did you mean")
    line = one_line(output)
    assert code == 3
    assert "replay it there" in line and "did you mean" not in line


def test_a_replay_that_is_not_a_boolean_is_a_bad_basket(till: Path, tmp_path: Path) -> None:
    code, output = _evaluate(till, tmp_path, replay="yes")
    assert code == 2 and "replay: expected true or false" in one_line(output)


def test_the_answer_is_the_server_s_utf8_json_whatever_the_locale(tmp_path: Path) -> None:
    # given a till whose rule has an accented title, and a shell whose locale is Latin-1
    keys, device = tmp_path / "keys", engine.DeviceFolder(tmp_path / "till")
    device.trust(SigningKeys(keys).public_keys())
    now = datetime.now(UTC)
    rules = published(3, SOURCE.replace('"Bottes -10%"', '"Bottes d\'été → -10 %"'))
    device.install(issuer(keys).issue("fr", rules, "pos", "paris-01", now), now=now,
                   ruleset="fr", channel="pos", store="paris-01")
    path = tmp_path / "basket.json"
    path.write_text(json.dumps(basket()), encoding="utf-8")

    # when the till's software keeps the priced basket as a file
    result = CliRunner(charset="latin-1").invoke(
        cli, ["device", "evaluate", "--dir", str(device.folder), "--basket", str(path)])

    # then the file holds the UTF-8 JSON the server answers, not the locale's bytes
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout_bytes.decode("utf-8"))
    assert answer["applied"][0]["title"] == "Bottes d'été → -10 %"
