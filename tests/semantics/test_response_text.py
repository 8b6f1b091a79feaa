"""The response written as text (``Evaluator.evaluate_json``, what a server sends) is
byte for byte ``engine.dumps`` of the response built as data (``Evaluator.evaluate``).

Whatever the rules, titles and basket strings: quotes, backslashes, control
characters, non-ASCII letters and separators must come out exactly as the
reference encoder writes them, and the fixed pieces (a rule's name, a rule
set's opening) must be the encoder's own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pricing import PUBLISHED, basket, line, rules

import dsl
import engine
from engine import ir
from engine.response import QuotedStrings, json_string

EXAMPLES = Path(__file__).parents[2] / "examples"

# Strings a basket or a title may hold that JSON must escape, or must not.
TRICKY = ["plain", 'say "hi"', "back\\slash", "tab\there", "new\nline", "\x00\x1f\x7f",
          "été", "雨", "line\u2028sep", "emoji 🧥", "", " ", "\u00a0nbsp"]
texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
# What the basket parser accepts as an id, SKU or coupon code: not blank, no lone
# surrogate (the API refuses those before parsing).
basket_texts = texts.filter(lambda text: text.strip() != "").map(
    lambda text: text.encode("utf-8", "replace").decode("utf-8"))

RULES = rules(
    'rule gift "Cadeau « Noël » \\"offert\\"" {\n discount 10% on items where category = "socks"\n'
    ' stacking stackable\n}\n'
    'rule five "5 € off, back\\\\slash" {\n coupon "HIVER"\n discount 5.00 EUR on basket\n}\n'
    'rule points "Points" { points 1 per 1.00 EUR on items }')


def both_answers(ruleset: engine.RuleSet, request: dict[str, Any], explain: bool = False
                 ) -> tuple[str, str]:
    evaluator = engine.Evaluator(ruleset)
    parsed = engine.parse_request(request)
    return (engine.dumps(evaluator.evaluate(parsed, explain=explain)),
            evaluator.evaluate_json(parsed, explain=explain))


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_a_string_is_written_as_the_encoder_writes_it(text: str) -> None:
    assert json_string(text) == json.dumps(text, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_a_remembered_string_is_written_as_the_encoder_writes_it(text: str) -> None:
    quoted = QuotedStrings()
    assert quoted.quote(text) == quoted.quote(text) == json.dumps(text, ensure_ascii=False)


def test_remembered_strings_are_forgotten_when_full_and_still_written_right() -> None:
    quoted = QuotedStrings()
    for number in range(quoted.SIZE + 10):  # on the instance: a compiled class's is native
        assert quoted.quote(f'sku "{number}"') == f'"sku \\"{number}\\""'
    assert len(quoted.known) == 10  # emptied once, at the limit


@settings(max_examples=150, deadline=None)
@given(ids=st.lists(basket_texts, min_size=1, max_size=4, unique=True),
       sku=basket_texts, code=basket_texts)
def test_basket_strings_come_out_as_the_data_answer_writes_them(
        ids: list[str], sku: str, code: str) -> None:
    # Given lines and a coupon code spelled with characters JSON must escape
    request = basket(*(line(line_id, sku, "12.50", 2, category="socks") for line_id in ids),
                     coupons=[code, "HIVER"])
    # When the basket is priced both ways
    data, text = both_answers(RULES, request)
    # Then the text is the data's bytes
    assert text == data


@settings(max_examples=100, deadline=None)
@given(title=texts, version=st.one_of(st.none(), st.integers(1, 10**6)),
       content_hash=st.one_of(st.none(), st.sampled_from(["ab" * 32, "f00d"])))
def test_titles_and_the_opening_come_out_as_the_data_answer_writes_them(
        title: str, version: int | None, content_hash: str | None) -> None:
    # Given a rule set whose titles and opening hold anything
    rule = ir.Rule(id="r1", title=title, effect=ir.PercentOff(percent=Decimal("15"),
                                                              target="items"))
    points = ir.Rule(id="r2", title=title + "!", effect=ir.Points(points=2, per=Decimal("1")))
    ruleset = ir.RuleSet(currency="EUR", timezone="Europe/Paris", rules=(rule, points),
                         version=version, content_hash=content_hash)
    # When a basket is priced both ways
    data, text = both_answers(ruleset, basket(line("a", "S1", "19.99", 3)))
    # Then the text is the data's bytes
    assert text == data
    assert json.loads(text)["lines"][0]["adjustments"][0]["title"] == title


def test_every_demo_basket_is_the_same_text_both_ways() -> None:
    # Given the demo rule set and its baskets (every feature, every channel)
    demo = dsl.compile_paths([EXAMPLES / "rules"], publish_at=PUBLISHED)
    evaluator = engine.Evaluator(demo)
    for path in sorted((EXAMPLES / "baskets").glob("*.json")):
        request = engine.parse_request(json.loads(path.read_text(encoding="utf-8")))
        # When each is priced both ways, with and without explain
        for explain in (False, True):
            # Then the answers are the same bytes
            assert evaluator.evaluate_json(request, explain=explain) == engine.dumps(
                evaluator.evaluate(request, explain=explain)), (path.name, explain)


def test_a_basket_without_discounts_writes_empty_lists() -> None:
    # Given a line no rule matches, in JPY (no decimals)
    ruleset = rules('rule x "X" { discount 10% on items where sku = "OTHER" }', currency="JPY")
    request = basket(line("1", "LONE", "1200"), currency="JPY")
    # When it is priced as text
    data, text = both_answers(ruleset, request)
    # Then the lists are empty and the amounts whole yen
    assert text == data
    answer = json.loads(text)
    assert answer["lines"][0]["adjustments"] == [] and answer["applied"] == []
    assert answer["points"] == {"total": 0, "by_rule": []}
    assert answer["total"] == "1200"
