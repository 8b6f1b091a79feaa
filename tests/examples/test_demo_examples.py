"""The demo retailer: its rules compile cleanly and every demo basket gives the
committed, hand-checked response (examples/expected/NAME.json).

The expected files were generated once with REMISE_REGENERATE_EXAMPLES=1 and
every amount was then checked by hand against docs/semantics.md; the
arithmetic of the most instructive ones is in test_demo_worked.py. Regenerate
only after a deliberate change, and read the diff line by line.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import dsl
import engine
from api.cli import DEMO_PUBLISH_AT

EXAMPLES = Path(__file__).parents[2] / "examples"
BASKETS = sorted((EXAMPLES / "baskets").glob("*.json"))


def demo_response(path: Path) -> dict[str, Any]:
    ruleset = dsl.compile_paths([EXAMPLES / "rules"],
                                publish_at=datetime.fromisoformat(DEMO_PUBLISH_AT))
    request = engine.parse_request(json.loads(path.read_text(encoding="utf-8")))
    return engine.Evaluator(ruleset).evaluate(request)


def test_the_demo_rules_are_clean_and_numerous() -> None:
    assert dsl.check_paths([EXAMPLES / "rules"]) == []
    assert len(dsl.compile_paths([EXAMPLES / "rules"]).rules) >= 25


def test_there_are_baskets_from_every_channel() -> None:
    channels = [json.loads(p.read_text(encoding="utf-8"))["channel"] for p in BASKETS]
    assert len(BASKETS) >= 48
    assert {channel: channels.count(channel) for channel in engine.ir.CHANNELS
            if channels.count(channel) < 12} == {}


def test_the_demo_rules_use_every_effect_and_stacking() -> None:
    rules = dsl.compile_paths([EXAMPLES / "rules"]).rules
    assert {rule.effect.kind for rule in rules} == {
        "percent", "amount_basket", "amount_each", "price", "buy_pay", "bundle", "tiered",
        "points"}
    assert {rule.stacking for rule in rules} == {"exclusive", "best", "stackable"}


@pytest.mark.parametrize("path", BASKETS, ids=[p.stem for p in BASKETS])
def test_demo_basket_gives_the_expected_response(path: Path) -> None:
    expected_path = EXAMPLES / "expected" / path.name
    actual = json.dumps(demo_response(path), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("REMISE_REGENERATE_EXAMPLES") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")
