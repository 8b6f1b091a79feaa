"""Text a rule matches is compared in Unicode NFC: "é" precomposed (U+00E9) and "é"
decomposed (e, U+0301) are one letter, whichever side wrote which."""

from __future__ import annotations

import unicodedata

import pytest
from pricing import basket, by_id, evaluate, line, rules

import engine

PRECOMPOSED = "vêtements"
DECOMPOSED = unicodedata.normalize("NFD", PRECOMPOSED)
assert PRECOMPOSED != DECOMPOSED


def test_a_decomposed_category_in_a_basket_matches_the_rule_s_precomposed_one() -> None:
    # Given a rule on category "vêtements", written precomposed
    given = rules(f'rule v "-10%" {{\n discount 10% on items where category = "{PRECOMPOSED}"\n}}')
    # When a till sends the category decomposed
    response = evaluate(given, basket(line("1", "A", "10.00", category=DECOMPOSED)))
    # Then the rule applies, as to the precomposed spelling
    assert by_id(response)["1"]["discount"] == "1.00"


def test_a_rule_written_decomposed_matches_a_precomposed_sku() -> None:
    # Given a rule on a SKU written decomposed (as some editors save it)
    sku = unicodedata.normalize("NFD", "CAFÉ-1")
    given = rules(f'rule c "-10%" {{\n discount 10% on items where sku = "{sku}"\n}}')
    # When a basket sends the SKU precomposed
    response = evaluate(given, basket(line("1", "CAFÉ-1", "10.00")))
    # Then the rule applies
    assert by_id(response)["1"]["discount"] == "1.00"


def test_a_decomposed_segment_and_store_match_the_rule_s() -> None:
    # Given a rule for segment "étudiants" in store "orléans"
    given = rules('rule s "-10%" {\n stores "orléans"\n audience segment "étudiants"\n'
                  ' discount 10% on items\n}')
    # When a basket sends both decomposed
    response = evaluate(given, basket(
        line("1", "A", "10.00"), store=unicodedata.normalize("NFD", "orléans"),
        customer={"id": "c", "segments": [unicodedata.normalize("NFD", "étudiants")]}))
    # Then the rule applies
    assert by_id(response)["1"]["discount"] == "1.00"


def test_a_line_id_is_sent_back_as_it_came() -> None:
    # Given a line whose id is decomposed text (the client's own name for it)
    line_id = unicodedata.normalize("NFD", "é-1")
    # When it is priced, then the answer names the line by the very same id
    response = evaluate(rules('rule n "none" { discount 1% on basket }'),
                        basket(line(line_id, "A", "10.00")))
    assert response["lines"][0]["id"] == line_id


def test_an_attribute_named_twice_in_two_unicode_forms_is_refused() -> None:
    # Given a line whose attributes name "coloré" precomposed and decomposed
    attributes = {"coloré": "oui", unicodedata.normalize("NFD", "coloré"): "non"}
    # When it is read, then it is refused naming the attribute, not read one way or another
    with pytest.raises(engine.BasketError) as refused:
        engine.parse_request(basket(line("1", "A", "10.00", attributes=attributes)))
    assert refused.value.path == "lines[0].attributes.coloré"
    assert "given twice" in refused.value.message
