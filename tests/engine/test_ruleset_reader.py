"""Reading version after version: only changed rules are re-read and recompiled,
and the answers are exactly those of a fresh load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    return engine.load_ruleset(json.dumps(data)).to_json()  # canonical, as the store keeps it


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


def test_text_not_in_the_canonical_form_is_read_the_slow_way_and_still_exactly() -> None:
    reader = engine.RuleSetReader()
    reader.read(_demo_ir())
    spaced = json.dumps(json.loads(_next_version(_demo_ir())), indent=1)

    assert reader.read(spaced) == engine.load_ruleset(spaced)


def test_rule_texts_cut_the_canonical_form_into_rules() -> None:
    ruleset = engine.load_ruleset(_demo_ir())

    cut = engine.loading.rule_texts(ruleset.to_json())

    assert cut is not None
    head, texts = cut
    assert [engine.ir.Rule.model_validate_json(t) for t in texts] == list(ruleset.rules)
    assert head.startswith('{"schema":"remise.ir/1"')


def test_a_corrupt_rule_in_a_later_version_is_refused_with_its_place() -> None:
    reader = engine.RuleSetReader()
    reader.read(_demo_ir())
    data = json.loads(_demo_ir())
    data["rules"][3]["priority"] = "high"
    canonical_but_corrupt = json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    with pytest.raises(engine.IRError, match=r"rules\.3\.priority"):
        reader.read(canonical_but_corrupt)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 27), st.integers(0, 9)), max_size=28),
                min_size=1, max_size=4))
def test_any_sequence_of_versions_reads_exactly_as_fresh_loads(
    versions: list[list[tuple[int, int]]],
) -> None:
    """Each version: some demo rules, in any order, some with their priority changed."""
    demo = engine.load_ruleset(_demo_ir())
    reader = engine.RuleSetReader()
    for picks in versions:
        chosen = {index: priority for index, priority in picks}
        rules = tuple(demo.rules[i].model_copy(update={"priority": p}) if p % 2 else
                      demo.rules[i] for i, p in chosen.items())
        text = demo.model_copy(update={"rules": rules}).to_json()

        assert reader.read(text) == engine.load_ruleset(text)
