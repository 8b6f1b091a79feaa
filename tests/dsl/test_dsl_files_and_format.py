"""Rule sets over several files, and the canonical formatter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import dsl
from engine import ir

SKETCH = Path(__file__).parent / "data" / "sketch.rules"
PUBLISHED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def without_sources(ruleset: ir.RuleSet) -> list[ir.Rule]:
    return [rule.model_copy(update={"source": None}) for rule in ruleset.rules]


def test_a_folder_compiles_its_files_into_one_rule_set(tmp_path: Path) -> None:
    (tmp_path / "a.rules").write_text('currency EUR\nrule a "A" { discount 5% on items }\n')
    (tmp_path / "b.rules").write_text('currency EUR\nrule b "B" { discount 6% on items }\n')
    (tmp_path / "notes.txt").write_text("not rules")
    ruleset = dsl.compile_paths([tmp_path])
    assert [rule.id for rule in ruleset.rules] == ["a", "b"]
    assert ruleset.rules[1].source == ir.SourceRef(file=str(tmp_path / "b.rules"), line=2)


def test_files_of_one_rule_set_must_share_a_currency(tmp_path: Path) -> None:
    (tmp_path / "a.rules").write_text('currency EUR\nrule a "A" { discount 5% on items }\n')
    (tmp_path / "b.rules").write_text('currency CHF\nrule b "B" { discount 6% on items }\n')
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_paths([tmp_path])
    assert "this file prices in CHF, another in EUR" in str(caught.value)


def test_a_rule_id_used_in_two_files_is_refused_with_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.rules").write_text('currency EUR\nrule a "A" { discount 5% on items }\n')
    (tmp_path / "b.rules").write_text('currency EUR\n\nrule a "B" { discount 6% on items }\n')
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_paths([tmp_path])
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == (str(tmp_path / "b.rules"), 3)
    assert diagnostic.hint == f"also in {tmp_path / 'a.rules'}:2"


def test_a_missing_path_is_a_located_error(tmp_path: Path) -> None:
    diagnostics = dsl.check_paths([tmp_path / "nope.rules"])
    assert [d.message for d in diagnostics] == ["cannot read this file: No such file or directory"]


def test_the_sketch_is_already_in_canonical_form_but_for_comment_spacing() -> None:
    source = SKETCH.read_text(encoding="utf-8")
    formatted = dsl.format_source(source)
    assert formatted.count("\n") == source.count("\n") - 1  # the blank line after the intro
    assert "currency EUR  # default currency for amounts in this file" in formatted


def test_formatting_is_stable_and_keeps_the_meaning() -> None:
    source = SKETCH.read_text(encoding="utf-8")
    once = dsl.format_source(source)
    assert dsl.format_source(once) == once
    assert without_sources(dsl.compile_source(once, publish_at=PUBLISHED)) == without_sources(
        dsl.compile_source(source, publish_at=PUBLISHED))


def test_formatting_orders_statements_and_normalises_spacing() -> None:
    messy = ('currency EUR\nrule  a   "A"{ priority 3 discount 10%   on items where\n'
             '   not (brand="X" or brand = "Y") and price>=5.00  audience   cardholder }\n')
    assert dsl.format_source(messy) == (
        'currency EUR\n\nrule a "A" {\n'
        '    audience cardholder\n'
        '    discount 10% on items where not (brand = "X" or brand = "Y") and price >= 5.00 EUR\n'
        '    priority 3\n'
        '}\n')


def test_formatting_keeps_comments_with_their_lines() -> None:
    source = ('# Pricing for the demo\ncurrency EUR\n\n# the rain rule\nrule a "A" {\n'
              '    # only for members\n    audience cardholder  # card in wallet\n'
              '    discount 10% on items\n}\n')
    assert dsl.format_source(source) == source


def test_a_folder_is_read_with_its_subfolders(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "a.rules").write_text('currency EUR\nrule a "A" { discount 5% on items }\n')
    (tmp_path / "b.rules").write_text('currency EUR\nrule b "B" { discount 6% on items }\n')
    assert dsl.rule_files([tmp_path]) == [tmp_path / "b.rules", tmp_path / "fr" / "a.rules"]
    assert [rule.id for rule in dsl.compile_paths([tmp_path]).rules] == ["a", "b"]
