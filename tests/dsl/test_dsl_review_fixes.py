"""Behaviour a reviewer found broken: given a source, when it is checked, compiled or
formatted, then the marketer gets the right prices or a located error, never a crash.
(The messages themselves are pinned by the golden cases.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import dsl
from api.cli import app
from dsl.checks import PLACES_OFF_THE_HOUR

runner = CliRunner()
RULE = 'rule a "T" {{\n    {}\n}}\n'


def diagnostics_of(source: str) -> list[tuple[int, int, str]]:
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, "x.rules")
    return [(d.line, d.column, d.message) for d in caught.value.diagnostics]


# 1. A file without a currency line takes the rule set's currency.


def test_a_file_without_currency_line_has_its_amounts_checked_in_the_rule_set_currency(
        tmp_path: Path) -> None:
    (tmp_path / "a.rules").write_text('currency JPY\nrule a "A" { discount 1 on basket }\n')
    (tmp_path / "b.rules").write_text(
        'rule b "B" {\n    discount 10.555 on basket\n}\n'
        'rule c "C" {\n    discount 0.50 EUR each on items\n}\n'
        'rule d "D" {\n    discount 5.00 XYZ on basket\n}\n')
    diagnostics = dsl.check_paths([tmp_path])
    assert [(Path(d.file).name, d.line, d.message) for d in diagnostics] == [
        ("b.rules", 2, "10.555 has more decimals than JPY has"),
        ("b.rules", 5, "amount in EUR, the rule set is in JPY"),
        ("b.rules", 8, 'unknown currency "XYZ"')]


def test_a_file_without_currency_line_compiles_in_the_rule_set_currency(
        tmp_path: Path) -> None:
    (tmp_path / "a.rules").write_text('currency JPY\nrule a "A" { discount 1 on basket }\n')
    (tmp_path / "b.rules").write_text('rule b "B" { discount 500 on basket }\n')
    ruleset = dsl.compile_paths([tmp_path])
    assert ruleset.currency == "JPY"
    assert [rule.id for rule in ruleset.rules] == ["a", "b"]


# 2. Never a traceback.


def test_fmt_of_a_latin1_file_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.rules"
    path.write_bytes('currency EUR\nrule a "café" {\n    discount 10% on items\n}\n'
                     .encode("latin-1"))
    for command in (["fmt", "--check"], ["fmt"], ["check"]):
        result = runner.invoke(app, [*command, str(path)])
        assert result.exit_code == 1, command
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert f"{path}:2:12: error: cannot read this file: byte 0xe9 is not UTF-8" \
            in result.output
    assert path.read_bytes().count(b"\xe9") == 1  # fmt changed nothing


def test_a_binary_file_is_a_located_error_without_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "binary.rules"
    path.write_bytes(b"\x7fELF\x00\x01\n\x00\xff\xfe")
    [diagnostic] = dsl.check_paths([path])
    assert (diagnostic.line, diagnostic.column, diagnostic.source_line) == (2, 2, "")


def test_an_amount_too_large_for_a_basket_is_refused_before_evaluation(
        tmp_path: Path) -> None:
    rules = tmp_path / "big.rules"
    rules.write_text("currency EUR\n"
                     + RULE.format("discount 1000000000000000000000000000.00 EUR on basket"))
    basket = tmp_path / "basket.json"
    basket.write_text('{"channel": "pos", "store": "s", "currency": "EUR", "lines": '
                      '[{"id": "1", "sku": "A", "quantity": 1, "unit_price": "10.00"}]}')
    result = runner.invoke(app, ["evaluate", "--rules", str(rules), "--basket", str(basket)])
    assert result.exit_code == 2
    assert "3:14: error: 1000000000000000000000000000.00 is too large" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("condition", [
    "audience " + "(" * 250 + "cardholder" + ")" * 250 + "\n    discount 10% on items",
    "audience " + "not " * 600 + "cardholder\n    discount 10% on items",
    "discount 10% on items where " + "not " * 600 + 'sku = "A"',
])
def test_deep_nesting_is_refused_by_check_and_fmt_without_a_crash(condition: str) -> None:
    source = "currency EUR\n" + RULE.format(condition)
    assert [m for _, _, m in diagnostics_of(source)] == ["this condition is nested too deeply"]
    with pytest.raises(dsl.DslError):
        dsl.format_source(source)


def test_thirty_two_levels_of_nesting_are_fine() -> None:
    condition = "audience " + "(" * 16 + "not " * 16 + "cardholder" + ")" * 16
    dsl.compile_source("currency EUR\n" + RULE.format(condition + "\n    discount 1% on items"))


# 3. A byte-order mark.


def test_a_byte_order_mark_is_skipped_and_columns_stay_right() -> None:
    source = "\ufeffcurrency EUR\n" + RULE.format("discount 10% on items")
    assert [rule.id for rule in dsl.compile_source(source).rules] == ["a"]
    assert diagnostics_of("\ufeffcurrency XYZ\n" + RULE.format("discount 1% on items")) == [
        (1, 10, 'unknown currency "XYZ"')]


# 4. Carets under tabs.


def test_the_caret_copies_the_tabs_of_the_line() -> None:
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source('currency EUR\nrule a "T" {\n\tchannels\tpos,\twebb\n'
                           "\tdiscount 10% on items\n}\n")
    lines = caught.value.diagnostics[0].render().split("\n")
    assert lines[2].index("^") == lines[1].index("webb")
    assert lines[2].expandtabs().index("^") == lines[1].expandtabs().index("webb")


# 5. Limits given twice.


@pytest.mark.parametrize("limit", ["1 per customer, 2 per customer", "5 total, 9 total"])
def test_a_limit_given_twice_is_refused(limit: str) -> None:
    source = "currency EUR\n" + RULE.format(f"limit {limit}\n    discount 1% on items")
    assert [m for _, _, m in diagnostics_of(source)] == [
        f"the limit {limit.split(', ')[0].split(' ', 1)[1]} is given twice"]


# 6. Ids and titles.


def test_ids_are_letters_digits_and_underscores_and_titles_are_not_empty() -> None:
    assert diagnostics_of('currency EUR\nrule a-b "   " {\n    discount 1% on items\n}\n') == [
        (2, 6, '"a-b" cannot be a rule id'), (2, 10, "the title is empty")]


# 8. Keywords are whole words; a keyword is still a fine id or value mid-line.


@pytest.mark.parametrize(("written", "word"), [
    ("audience cardholders", "cardholders"), ("audience knowns", "knowns"),
    ("discounts 10% on items", "discounts"), ("discount 10% on itemss", "itemss"),
    ("discount 10% on baskets", "baskets"),
    ('discount 10% on items where skus = "A"', "skus"),
    ('discount 10% on items where categoryy = "A"', "categoryy"),
])
def test_a_keyword_with_extra_letters_is_one_unknown_word(written: str, word: str) -> None:
    [(_, _, message)] = diagnostics_of("currency EUR\n" + RULE.format(written))
    assert message == f'unknown word "{word}"'


def test_keywords_remain_usable_as_ids_and_wrapped_values() -> None:
    source = ('currency EUR\nrule discount "T" {\n    channels pos,\n        web\n'
              '    discount 10% on items where sku = "A" or\n        category = "B"\n}\n')
    [rule] = dsl.compile_source(source).rules
    assert (rule.id, rule.channels) == ("discount", ("pos", "web"))


# 9, 10. Missing values and unclosed blocks, where they are.


def test_a_block_that_is_not_closed_is_reported_at_its_start_and_the_others_checked() -> None:
    source = ('currency EUR\n\nrule a "A" {\n    discount 10% on items\n\n'
              'rule b "B" {\n    discount 5% on itemz\n}\n')
    assert diagnostics_of(source) == [(3, 12, "this block is never closed"),
                                      (7, 20, 'unknown word "itemz"')]


def test_the_statements_of_a_block_that_is_not_closed_are_checked_too() -> None:
    # given a block missing its brace, whose discount is also wrong
    source = ('currency EUR\n\nrule a "A" {\n    discount 150% on items\n\n'
              'rule b "B" {\n    discount 5% on items\n}\n')

    # then both mistakes are reported at once, and the missing effect of an unread
    # end is not
    assert diagnostics_of(source) == [(3, 12, "this block is never closed"),
                                      (4, 14, "150% is not a discount")]


def test_a_block_that_is_not_closed_at_the_end_of_the_file_has_its_statements_checked(
        ) -> None:
    source = 'currency EUR\nrule a "A" {\n    priority 5\n    discount 5.001 on basket\n'
    assert diagnostics_of(source) == [(2, 12, "this block is never closed"),
                                      (4, 14, "5.001 has more decimals than EUR has")]


def test_a_block_left_open_is_reported_beside_an_earlier_mistake_in_it() -> None:
    # given a block with a misspelt word and no closing brace, at the end of the file
    source = ('currency EUR\nrule a "A" {\n    discount 15% on items wher sku = "{x"\n'
              '    priority 5  # {\n')

    # then both are reported at once: the brace was told only once the word was mended
    assert diagnostics_of(source) == [(2, 12, "this block is never closed"),
                                      (3, 27, 'unknown word "wher"')]


# 11. Comments travel with their statement.


def test_formatting_moves_comments_with_the_statements_they_belong_to() -> None:
    source = ('currency EUR\n\nrule a "T" {\n    # 10% for everyone, agreed with finance\n'
              '    discount 10% on items  # not on gift cards\n'
              '    # web only until the stores are trained\n    channels web\n}\n')
    assert dsl.format_source(source) == (
        'currency EUR\n\nrule a "T" {\n    # web only until the stores are trained\n'
        '    channels web\n    # 10% for everyone, agreed with finance\n'
        '    discount 10% on items  # not on gift cards\n}\n')


def test_a_comment_inside_a_tiered_discount_stays_with_it() -> None:
    source = ('currency EUR\n\nrule a "T" {\n    discount on basket  # tiers\n'
              '        5% when subtotal >= 100.00 EUR\n        # the big one\n'
              '        10% when subtotal >= 200.00 EUR\n    audience cardholder\n}\n')
    formatted = dsl.format_source(source)
    assert formatted == ('currency EUR\n\nrule a "T" {\n    audience cardholder\n'
                         '    # tiers\n    # the big one\n    discount on basket\n'
                         '        5% when subtotal >= 100.00 EUR\n'
                         '        10% when subtotal >= 200.00 EUR\n}\n')
    assert dsl.format_source(formatted) == formatted


# A zone written as an offset with minutes.


@pytest.mark.parametrize("where", ["file", "rule"])
def test_an_offset_with_minutes_is_one_unknown_zone_naming_a_place(where: str) -> None:
    header, statement = (("timezone UTC+5:30\n", "discount 10% on items") if where == "file"
                         else ("", "timezone UTC+5:30\n    discount 10% on items"))
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(header + RULE.format(statement), "x.rules")

    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.message, diagnostic.hint) == (
        'unknown time zone "UTC+5:30"',
        "use the zone of a place: Asia/Kolkata keeps UTC+5:30 all year")
    assert diagnostic.end_column - diagnostic.column == len("UTC+5:30")


@pytest.mark.parametrize("offset, place", sorted(PLACES_OFF_THE_HOUR.items()))
def test_each_place_named_for_an_offset_keeps_it_in_winter_and_summer(offset: str,
                                                                      place: str) -> None:
    hours, minutes = offset[1:].split(":")
    expected = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if offset[0] == "-"
                                                                     else 1)
    for moment in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        assert moment.astimezone(ZoneInfo(place)).utcoffset() == expected


# An empty SKU, category, brand, store or tier: a basket never sends one (refused).


@pytest.mark.parametrize(("statement", "what"), [
    ('stores "paris-01", ""', "store"),
    ('audience cardholder and not tier in ("gold", " ")', "tier"),
    ('discount 10% on items where category != ""', "category"),
    ('discount 10% on items where not (brand = "" or sku = "A")', "brand"),
])
def test_an_empty_text_a_basket_never_sends_is_refused_where_written(
        statement: str, what: str) -> None:
    # given a rule matching an empty text (never in a basket: = "" is never true,
    # != "" always)
    source = "currency EUR\n" + RULE.format(statement)
    if "discount" not in statement:
        source = source.replace("}\n", "    discount 10% on items\n}\n")

    # then it is refused at the text, naming what it is
    empty = statement.index('" "') if '" "' in statement else statement.index('""')
    assert diagnostics_of(source) == [
        (3, 4 + empty + 1, f"an empty {what}: a basket's {what} is never empty")]


# A misspelt unit is suggested in the form that agrees with its count.


@pytest.mark.parametrize(("written", "suggested"), [
    ("for 30 MIN", "minutes"), ("for 1 MIN", "minute"), ("for 2 hr", "hours"),
    ("for 1 hr", "hour"), ("for 7 Day", "days"), ("for 1 dy", "day")])
def test_a_misspelt_unit_is_suggested_agreeing_with_its_count(written: str,
                                                              suggested: str) -> None:
    source = ("currency EUR\n"
              + RULE.format(f"valid {written} from publish\n    discount 5% on items"))
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, "x.rules")
    assert [d.hint for d in caught.value.diagnostics] == [f'did you mean "{suggested}"?']


# Characters nobody means and which act on what prints them are refused where written.


@pytest.mark.parametrize(("line", "column", "message"), [
    ('rule a "Soldes\x1b[2K" {', 15, "an invisible control character (U+001B) in a text"),
    ('rule a "\u202e50% off" {', 9, "an invisible control character (U+202E) in a text"),
    ('rule a "Soldes\td\'hiver" {', 15, "a tab in a text"),
    ('rule a "A" {  # caché \x1b[1A\x1b[2K', 23,
     "an invisible control character (U+001B) in a comment"),
    ('rule a "\u2028A" {', 9, "an invisible control character (U+2028) in a text"),
])
def test_an_invisible_control_character_in_a_text_or_comment_is_refused(
        line: str, column: int, message: str) -> None:
    source = f"currency EUR\n{line}\n    discount 5% on items\n}}\n"
    assert diagnostics_of(source) == [(2, column, message)]


def test_a_value_with_a_control_character_is_refused_and_shown_without_it() -> None:
    # given a category pasted with a bell character
    source = 'currency EUR\nrule a "A" {\n    discount 5% on items where category = "x\x07y"\n}\n'
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, "x.rules")

    # then the line is shown with a replacement character, the caret under it
    assert caught.value.diagnostics[0].render().splitlines()[1:3] == [
        '        discount 5% on items where category = "x\ufffdy"',
        "                                                ^"]


def test_no_break_spaces_and_joiners_are_kept_in_titles() -> None:
    title = "Soldes\u00a0: -20\u202f% \U0001f468\u200d\U0001f469\u200d\U0001f467"
    ruleset = dsl.compile_source(f'currency EUR\nrule a "{title}" {{ discount 5% on items }}\n')
    assert ruleset.rules[0].title == title


def test_a_misspelt_statement_keyword_does_not_hide_the_blocks_other_mistakes() -> None:
    # given a block whose first statement starts with a misspelt keyword, wrapped
    # statements after it (a `where` line is no misspelt `when`), and a wrong stacking
    source = ('currency EUR\nrule a "A" {\n    audiance cardholder\n'
              '    discount 10% on items\n        where category = "boots"\n'
              '    stacking bset\n}\n')

    # then both mistakes are reported at once
    assert diagnostics_of(source) == [(3, 5, 'unknown word "audiance"'),
                                      (6, 14, 'unknown stacking "bset"')]
