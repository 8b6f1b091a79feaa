"""`remise device evaluate` reads a basket of the evaluation contract as the server does:
its `replay` field included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import basket, one_line, remise, till_holding_a_bundle


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
