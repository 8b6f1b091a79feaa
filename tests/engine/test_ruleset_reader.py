"""Reading version after version: only changed rules are re-read and recompiled,
and the answers are exactly those of a fresh load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import dsl
import engine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PUBLISHED = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def _demo_ir() -> str:
    return dsl.compile_paths([EXAMPLES / "rules"], publish_at=PUBLISHED).to_json()


def _next_version(ir_json: str) -> str:
    """The demo with one rule changed, one removed and one added."""
    data = json.loads(ir_json)
    rules = data["rules"]
    changed = next(r for r in rules if r["effect"]["kind"] == "percent")
    changed["effect"]["percent"] = "33"
    removed = rules.pop(-1)
    rules.append({**removed, "id": "zz_new", "title": "A new rule"})
    return json.dumps(data)


def _baskets() -> list[engine.BasketRequest]:
    return [engine.parse_request(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted((EXAMPLES / "baskets").glob("*.json"))]


def test_the_next_version_reads_exactly_as_a_fresh_load() -> None:
    reader = engine.RuleSetReader()
    first, second = _demo_ir(), _next_version(_demo_ir())

    assert reader.read(first) == engine.load_ruleset(first)
    assert reader.read(second) == engine.load_ruleset(second)


def test_unchanged_rules_are_shared_and_changed_ones_are_new() -> None:
    reader = engine.RuleSetReader()
    old = {r.id: r for r in reader.read(_demo_ir()).rules}

    new = {r.id: r for r in reader.read(_next_version(_demo_ir())).rules}

    fresh = [rule_id for rule_id in new if new[rule_id] is not old.get(rule_id)]
    assert len(fresh) == 2  # the changed rule and the new one
    assert "zz_new" in fresh


def test_an_evaluator_reusing_the_previous_one_answers_byte_for_byte_the_same() -> None:
    reader = engine.RuleSetReader()
    previous = engine.Evaluator(reader.read(_demo_ir()))
    second_ir = _next_version(_demo_ir())

    reusing = engine.Evaluator(reader.read(second_ir), reuse=previous)
    fresh = engine.Evaluator(engine.load_ruleset(second_ir))

    for request in _baskets():
        assert engine.dumps(reusing.evaluate(request, explain=True)) == engine.dumps(
            fresh.evaluate(request, explain=True))


def test_a_corrupt_rule_in_a_later_version_is_refused_with_its_place() -> None:
    reader = engine.RuleSetReader()
    reader.read(_demo_ir())
    data = json.loads(_demo_ir())
    data["rules"][3]["priority"] = "high"

    with pytest.raises(engine.IRError, match=r"rules\.3\.priority"):
        reader.read(json.dumps(data))
