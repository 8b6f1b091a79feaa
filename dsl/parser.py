"""Source text -> syntax tree, with errors a marketer can act on.

The Lark parser is built once per process. When a file does not parse, it is
cut into its top-level pieces (header lines and ``rule``/``price`` blocks) and
each piece is parsed alone, so that every broken block is reported at once,
not just the first.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex
from lark.tree import Meta

from . import ast
from .checks import offset_hint
from .errors import INVISIBLE, DslError, Reporter, closest_word, did_you_mean, source_lines
from .hints import (
    OPERATORS,
    Misplaced,
    after_from,
    explain,
    in_rule_id,
    lookalike,
    unclosed_hint,
    without_accents,
)

# What a marketer reads instead of a terminal's name.
PLAIN_WORDS = {
    "WORD": "a name", "STRING": 'a quoted text like "rainwear"',
    "NUMBER": "an amount like 10.00", "INT": "a whole number", "SIGNED_INT": "a whole number",
    "PERCENT": "a percentage like 15%", "DATE": "a date like 2026-11-23",
    "TIME": "a time like 14:00", "FIELD": "sku, category or brand",
    "EQUALITY": "= or !=", "COMPARE": "a comparison like >=",
    "RULE": '"rule"', "PRICE": '"price"', "ITEMS": '"items"', "BASKET": '"basket"',
    "$END": "the end of the file",
}  # fmt: skip


# Words that start a header, a block or a statement. At the start of a line one
# of them always starts something new: `valid ... for 30` followed by a line
# `discount ...` is a missing unit on the `valid` line, not a unit "discount".
STATEMENT_KEYWORDS = frozenset({
    "currency", "timezone", "rule", "price", "audience", "channels", "stores", "valid",
    "coupon", "limit", "when", "stacking", "priority", "discount", "buy", "bundle", "points"})
# Parentheses and `not`s inside one audience or item condition. No marketer
# needs more; far more would exhaust Python's stack in the tree walkers.
MAX_NESTING = 32
# Currency signs a marketer may type instead of the code.
CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₣": "CHF"}


class _Trail(threading.local):
    """What the lexer last read, per thread, for the error messages."""

    def __init__(self) -> None:
        self.tokens: list[Token] = []  # the last few tokens read
        self.braces: list[Token] = []  # the block braces not yet closed


_TRAIL = _Trail()
_NUMBERS = ("NUMBER", "INT", "SIGNED_INT")


class _Words(PostLex):
    """Whole words, statement keywords at the start of a line, numbers in one piece.

    WORD is read in every parser state, so a keyword followed by more letters
    is one unknown word ("cardholders"), never the keyword and a rest.
    """

    always_accept = ("WORD",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        trail = _TRAIL
        trail.tokens, trail.braces = [], []
        previous: Token | None = None
        for token in stream:
            if token.type == "WORD" and str(token) in STATEMENT_KEYWORDS and (
                    previous is None or token.line != previous.end_line):
                token = Token.new_borrow_pos(_keyword_types()[str(token)], str(token), token)
            if previous is not None and previous.type in _NUMBERS and token.type == "WORD" \
                    and _touching(previous, token) and not str(token).isalpha():
                raise _bad_number(previous, str(previous) + str(token))  # 1e3, 1_000
            if token.type == "LBRACE":
                trail.braces.append(token)
            elif token.type == "RBRACE" and trail.braces:
                trail.braces.pop()
            trail.tokens = [*trail.tokens[-3:], token]
            previous = token
            yield token


def _touching(first: Token, second: Token) -> bool:
    return first.end_line == second.line and first.end_column == second.column


def _bad_number(number: Token, written: str) -> _BadValue:
    column = number.column or 1
    pos = ast.Pos(number.line or 1, column, column + len(written))
    if "," in written:
        hint = "write decimals with a point, like 10.5, and no thousands separator"
    elif number.type in ("INT", "SIGNED_INT") and re.fullmatch(r"-?\d+\.\d+", written):
        return _BadValue(pos, f'"{written}" is not a whole number',
                         "units, points, limits, priorities and durations are whole: 1.5 hours "
                         "is 90 minutes")
    else:
        hint = "write amounts like 1000 or 12.50"
    return _BadValue(pos, f'"{written}" is not a number', hint)


# Whole numbers of more digits than Python converts (int() refuses them: a quadratic
# conversion) are refused as too large, as an HTTP body's are (api/jsontext.py).
MAX_DIGITS = 4_300


def _whole(token: Token) -> ast.Number:
    """A whole number as written (INT or SIGNED_INT), at its position."""
    digits = len(str(token).lstrip("-"))
    if digits > MAX_DIGITS:
        raise _BadValue(_pos(token), f"a number of {digits:,} digits is too large",
                        "units, points, limits, priorities and durations have a few digits")
    return ast.Number(int(token), _pos(token))


@cache
def _parser() -> Lark:
    grammar = resources.files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, postlex=_Words(), start=["start", "resume"])


@cache
def _keyword_types() -> dict[str, str]:
    """Keyword -> its terminal's name."""
    return {word: name for name, word in _keywords().items()}


@cache
def _keywords() -> dict[str, str]:
    """Terminal name -> the keyword it stands for, for every literal keyword."""
    found = {}
    for terminal in _parser().terminals:
        pattern = terminal.pattern
        if pattern.type == "str":
            found[terminal.name] = pattern.value
    return found


def _pos(token: Token) -> ast.Pos:
    line, column = token.line or 1, token.column or 1
    end = token.end_column if token.end_line == line and token.end_column else column + 1
    return ast.Pos(line, column, end)


def _meta_pos(meta: Meta) -> ast.Pos:
    end = meta.end_column if meta.end_line == meta.line else meta.column + 1
    return ast.Pos(meta.line, meta.column, end)


def report_invisible(reporter: Reporter) -> None:
    """Refuse, in the texts and comments of a parsed source, the characters of
    ``INVISIBLE``: the first of each text or comment. A check of what is written, not
    of the grammar, so that a source stored before it (a diff reads old versions)
    still parses."""
    for number, line in enumerate(reporter.lines, start=1):
        comment = _comment_start(line)
        code = line if comment is None else line[:comment]
        # (1-based column of its first character, the text, what it is)
        spans = [(found.start() + 2, found.group()[1:], "a text")  # after the quote
                 for found in _STRING.finditer(code)]
        if comment is not None:
            spans.append((comment + 1, line[comment:], "a comment"))
        for column, text, where in spans:
            _report_invisible(reporter, text, number, column, where)


def _report_invisible(reporter: Reporter, text: str, line: int, column: int,
                      where: str) -> None:
    found = INVISIBLE.search(text)
    if found is None:
        return
    char, at = found.group(), column + found.start()
    pos = ast.Pos(line, at, at + 1)
    if char == "\t":
        reporter.error(pos, f"a tab in {where}", "write a space")
    else:
        reporter.error(pos, f"an invisible control character (U+{ord(char):04X}) in {where}",
                       "delete it (it comes with a copy and paste): receipts and terminals "
                       "act on it")


def _text(token: Token) -> ast.Text:
    """A quoted text, unquoted: \\" is a quote and \\\\ a backslash; any other
    backslash is refused, never dropped (\\n in a title printed "n")."""
    raw = str(token)[1:-1]
    for escape in re.finditer(r"\\(.)", raw):
        if escape.group(1) not in '"\\':
            column = (token.column or 1) + 1 + escape.start()
            raise _BadValue(ast.Pos(token.line or 1, column, column + 2),
                            f'"{escape.group()}" is not allowed in a text',
                            'inside quotes, write \\" for a quote and \\\\ for a backslash')
    return ast.Text(re.sub(r"\\(.)", r"\1", raw), _pos(token))


def _date(token: Token) -> date:
    try:
        return date.fromisoformat(str(token))
    except ValueError:
        raise _BadValue(_pos(token), f"{token} is not a date", _date_hint(str(token))) from None


def _date_hint(written: str) -> str:
    """Why a YYYY-MM-DD date does not exist: the month, or the month's length."""
    year, month, day = (int(part) for part in written.split("-"))
    if not 1 <= month <= 12:
        return "the month is 01 to 12"
    if year < 1:
        return "the year starts at 0001"
    if day < 1:
        return "the day starts at 01"
    return (f"{calendar.month_name[month]} {year} has "
            f"{calendar.monthrange(year, month)[1]} days")


def _time(token: Token, midnight: Callable[[], str] | None = None) -> time:
    """A time of day; ``midnight`` gives the hint for 24:00 where a window ends."""
    hours, minutes = (int(part) for part in str(token).split(":"))
    if hours > 23 or minutes > 59:
        hint = midnight() if (hours, minutes) == (24, 0) and midnight else \
            "write it as HH:MM, 00:00-23:59"
        raise _BadValue(_pos(token), f"{token} is not a time of day", hint)
    return time(hours, minutes)


def _midnight_after(day: Token) -> str:
    """The hint for `to DAY 24:00`: the next day's 00:00, or the day alone."""
    whole_day = f"write `to {day}`: the whole day"
    if _date(day) == date.max:
        return whole_day
    return f"midnight ending {day} is {_date(day) + timedelta(days=1)} 00:00; or {whole_day}"


class _BadValue(Exception):
    """A value the grammar reads but the language refuses, at its position."""

    def __init__(self, pos: ast.Pos, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.pos, self.message, self.hint = pos, message, hint


def _flatten(kind: Any, args: list[Any], meta: Meta) -> Any:
    """``a and (b and c)`` is ``a and b and c``: one node, whatever the parentheses,
    so that the formatter, which prints no needless parentheses, keeps the IR."""
    if len(args) == 1:
        return args[0]
    flat: list[Any] = []
    for arg in args:
        flat.extend(arg.args if isinstance(arg, kind) else (arg,))
    return kind(tuple(flat), _meta_pos(meta))


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Lark tree -> ``dsl.ast`` nodes."""

    # values
    def amount(self, meta: Meta, children: list[Token]) -> ast.Amount:
        number = children[0]
        currency = ast.Word(str(children[1]), _pos(children[1])) if len(children) > 1 else None
        return ast.Amount(Decimal(str(number)), str(number), currency, _meta_pos(meta))

    def word_list(self, meta: Meta, children: list[Token]) -> tuple[ast.Word, ...]:
        return tuple(ast.Word(str(c), _pos(c)) for c in children)

    day_list = word_list

    def string_list(self, meta: Meta, children: list[Token]) -> tuple[ast.Text, ...]:
        return tuple(_text(c) for c in children)

    string_tuple = string_list

    # audience
    def aud_or(self, meta: Meta, children: list[Any]) -> Any:
        return _flatten(ast.AudienceAny, children, meta)

    def aud_and(self, meta: Meta, children: list[Any]) -> Any:
        return _flatten(ast.AudienceAll, children, meta)

    def aud_negate(self, meta: Meta, children: list[Any]) -> ast.AudienceNot:
        return ast.AudienceNot(children[0], _meta_pos(meta))

    def aud_cardholder(self, meta: Meta, children: list[Any]) -> ast.AudienceFlag:
        return ast.AudienceFlag("cardholder", _meta_pos(meta))

    def aud_known(self, meta: Meta, children: list[Any]) -> ast.AudienceFlag:
        return ast.AudienceFlag("known", _meta_pos(meta))

    def aud_anonymous(self, meta: Meta, children: list[Any]) -> ast.AudienceFlag:
        return ast.AudienceFlag("anonymous", _meta_pos(meta))

    def aud_tier(self, meta: Meta, children: list[Any]) -> ast.AudienceTier:
        value = children[0]
        if isinstance(value, tuple):
            return ast.AudienceTier(value, True, _meta_pos(meta))
        return ast.AudienceTier((_text(value),), False, _meta_pos(meta))

    def aud_segment(self, meta: Meta, children: list[Token]) -> ast.AudienceSegment:
        return ast.AudienceSegment(_text(children[0]), _meta_pos(meta))

    def aud_attribute(self, meta: Meta, children: list[Any]) -> ast.AudienceAttribute:
        name, value = _text(children[0]), children[1]
        if isinstance(value, tuple):
            return ast.AudienceAttribute(name, value, True, _meta_pos(meta))
        return ast.AudienceAttribute(name, (_text(value),), False, _meta_pos(meta))

    # item predicates
    def item_or(self, meta: Meta, children: list[Any]) -> Any:
        return _flatten(ast.ItemAny, children, meta)

    def item_and(self, meta: Meta, children: list[Any]) -> Any:
        return _flatten(ast.ItemAll, children, meta)

    def item_negate(self, meta: Meta, children: list[Any]) -> ast.ItemNot:
        return ast.ItemNot(children[0], _meta_pos(meta))

    def item_field(self, meta: Meta, children: list[Token]) -> ast.ItemField:
        field, op, value = children
        return ast.ItemField(ast.Word(str(field), _pos(field)), str(op), (_text(value),),
                             _meta_pos(meta))

    def item_field_in(self, meta: Meta, children: list[Any]) -> ast.ItemField:
        field, values = children
        return ast.ItemField(ast.Word(str(field), _pos(field)), "in", values, _meta_pos(meta))

    def item_attribute(self, meta: Meta, children: list[Token]) -> ast.ItemAttribute:
        name, op, value = children
        return ast.ItemAttribute(_text(name), str(op), (_text(value),), _meta_pos(meta))

    def item_attribute_in(self, meta: Meta, children: list[Any]) -> ast.ItemAttribute:
        return ast.ItemAttribute(_text(children[0]), "in", children[1], _meta_pos(meta))

    def item_price(self, meta: Meta, children: list[Any]) -> ast.ItemPrice:
        return ast.ItemPrice(str(children[1]), children[2], _meta_pos(meta))

    def where(self, meta: Meta, children: list[Any]) -> Any:
        return children[0]

    # windows
    def _duration(self, count: Token, unit: Token) -> ast.Duration:
        return ast.Duration(_whole(count), ast.Word(str(unit), _pos(unit)))

    def window_relative(self, meta: Meta, children: list[Token]) -> ast.RelativeWindow:
        day, clock, count, unit = children
        return ast.RelativeWindow(_date(day), _time(clock), self._duration(count, unit),
                                  _meta_pos(meta))

    def window_publish(self, meta: Meta, children: list[Token]) -> ast.PublishWindow:
        return ast.PublishWindow(self._duration(children[0], children[1]), _meta_pos(meta))

    def window_absolute(self, meta: Meta, children: list[Token]) -> ast.AbsoluteWindow:
        # children: DATE [TIME] DATE [TIME]
        second = next(i for i, c in enumerate(children) if i > 0 and c.type == "DATE")
        start, end = children[:second], children[second:]
        end_pos = ast.Pos(end[0].line or 1, end[0].column or 1,
                          end[-1].end_column or (end[0].column or 1) + 1)
        return ast.AbsoluteWindow(
            _date(start[0]), _time(start[1]) if len(start) > 1 else None,
            _date(end[0]), _time(end[1], lambda: _midnight_after(end[0])) if len(end) > 1 else None,
            _meta_pos(meta), end_pos)

    def date_bounds(self, meta: Meta, children: list[Token]) -> tuple[date, date]:
        return (_date(children[0]), _date(children[1]))

    def window_recurring(self, meta: Meta, children: list[Any]) -> ast.RecurringWindow:
        days, start = children[0], _time(children[1])
        end = _time(children[2],
                    lambda: f"a slot ending at midnight ends at 00:00: {children[1]}-00:00")
        bounds = children[3] if len(children) > 3 else (None, None)
        return ast.RecurringWindow(days, start, end, bounds[0], bounds[1], _meta_pos(meta))

    # conditions, limits
    def subtotal(self, meta: Meta, children: list[Any]) -> ast.SubtotalCondition:
        return ast.SubtotalCondition(str(children[0]), children[1], _meta_pos(meta))

    def quantity(self, meta: Meta, children: list[Any]) -> ast.QuantityCondition:
        of_items = any(isinstance(c, Token) and c.type == "ITEMS" for c in children)
        rest = [c for c in children if not (isinstance(c, Token) and c.type == "ITEMS")]
        items = rest[0] if len(rest) == 3 else None
        op, count = rest[-2], rest[-1]
        return ast.QuantityCondition(items, of_items, str(op),
                                     _whole(count), _meta_pos(meta))

    def limit_customer(self, meta: Meta, children: list[Token]) -> tuple[str, ast.Number]:
        return ("customer", _whole(children[0]))

    def limit_total(self, meta: Meta, children: list[Token]) -> tuple[str, ast.Number]:
        return ("total", _whole(children[0]))

    # effects
    def _percent(self, token: Token) -> ast.Percent:
        written = str(token)[:-1]
        return ast.Percent(Decimal(written), written, _pos(token))

    def _items(self, children: list[Any]) -> Any:
        rest = [c for c in children if not isinstance(c, Token | ast.Amount | ast.Percent)]
        return rest[0] if rest else None

    def _effect(self, meta: Meta, kind: str, **fields: Any) -> ast.Statement:
        effect = ast.Effect(kind, _meta_pos(meta), **fields)
        return ast.Statement("effect", effect, _meta_pos(meta), meta.end_line)

    def percent_items(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._effect(meta, "percent_items", percent=self._percent(children[0]),
                            items=self._items(children))

    def percent_basket(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._effect(meta, "percent_basket", percent=self._percent(children[0]))

    def amount_basket(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._effect(meta, "amount_basket", amount=children[0])

    def amount_each(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._effect(meta, "amount_each", amount=children[0], items=self._items(children))

    def tier_percent(self, meta: Meta, children: list[Any]) -> ast.Tier:
        return ast.Tier(self._percent(children[0]), None, children[1], _meta_pos(meta))

    def tier_amount(self, meta: Meta, children: list[Any]) -> ast.Tier:
        return ast.Tier(None, children[0], children[1], _meta_pos(meta))

    def tiered(self, meta: Meta, children: list[Any]) -> ast.Statement:
        tiers = tuple(c for c in children if isinstance(c, ast.Tier))
        return self._effect(meta, "tiered", tiers=tiers)

    def buy_pay(self, meta: Meta, children: list[Any]) -> ast.Statement:
        buy, pay = children[0], children[1]
        return self._effect(meta, "buy_pay", first=_whole(buy), second=_whole(pay),
                            items=self._items(children))

    def bundle(self, meta: Meta, children: list[Any]) -> ast.Statement:
        size = children[0]
        return self._effect(meta, "bundle", first=_whole(size),
                            amount=children[1], items=self._items(children))

    def points(self, meta: Meta, children: list[Any]) -> ast.Statement:
        count = children[0]
        return self._effect(meta, "points", first=_whole(count),
                            amount=children[1], items=self._items(children))

    def price(self, meta: Meta, children: list[Any]) -> ast.Statement:
        amounts = [c for c in children if isinstance(c, ast.Amount)]
        return self._effect(meta, "price", amount=amounts[0], items=self._items(children))

    # statements
    def _statement(self, meta: Meta, keyword: str, value: object) -> ast.Statement:
        return ast.Statement(keyword, value, _meta_pos(meta), meta.end_line)

    def audience(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "audience", children[0])

    def channels(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "channels", children[0])

    def stores(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "stores", children[0])

    def rule_timezone(self, meta: Meta, children: list[Token]) -> ast.Statement:
        return self._statement(meta, "timezone", ast.Word(str(children[0]), _pos(children[0])))

    def valid(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "valid", children[0])

    def coupon(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "coupon", children[0])

    def limit(self, meta: Meta, children: list[Any]) -> ast.Statement:
        parts: dict[str, ast.Number] = {}
        for kind, number in children:
            if kind in parts:
                what = "per customer" if kind == "customer" else "total"
                raise _BadValue(number.pos, f"the limit {what} is given twice",
                                f"keep one (the first is {parts[kind].value} {what})")
            parts[kind] = number
        return self._statement(meta, "limit", (parts.get("customer"), parts.get("total")))

    def when(self, meta: Meta, children: list[Any]) -> ast.Statement:
        return self._statement(meta, "when", tuple(children))

    def stacking(self, meta: Meta, children: list[Token]) -> ast.Statement:
        return self._statement(meta, "stacking", ast.Word(str(children[0]), _pos(children[0])))

    def priority(self, meta: Meta, children: list[Token]) -> ast.Statement:
        token = children[0]
        return self._statement(meta, "priority", _whole(token))

    # file
    def currency(self, meta: Meta, children: list[Token]) -> tuple[str, ast.Word, int]:
        return ("currency", ast.Word(str(children[0]), _pos(children[0])), meta.line)

    def timezone(self, meta: Meta, children: list[Token]) -> tuple[str, ast.Word, int]:
        return ("timezone", ast.Word(str(children[0]), _pos(children[0])), meta.line)

    def block(self, meta: Meta, children: list[Any]) -> ast.Block:
        kind, name, title, *statements = children
        return ast.Block(str(kind), ast.Word(str(name), _pos(name)), _text(title),
                         tuple(statements), _meta_pos(meta), meta.end_line)

    def resume(self, meta: Meta, children: list[Any]) -> dict[str, Any]:
        return {"statements": [c for c in children if isinstance(c, ast.Statement)],
                "closed": "}" in children}

    def close(self, meta: Meta, children: list[Any]) -> str:
        return "}"

    def start(self, meta: Meta, children: list[Any]) -> dict[str, Any]:
        headers = [c for c in children if isinstance(c, tuple)]
        return {
            "headers": headers,
            "blocks": tuple(c for c in children if isinstance(c, ast.Block)),
        }


# --- errors ---------------------------------------------------------------------------------


def _expected_words(expected: set[str]) -> list[str]:
    keywords = _keywords()
    words = set()
    for name in expected:
        if name in keywords:
            words.add(f'"{keywords[name]}"')
        elif name in PLAIN_WORDS:
            words.add(PLAIN_WORDS[name])
    return sorted(words)


NEVER_CLOSED = "this block is never closed"
NEVER_CLOSED_HINT = 'end it with "}" after its last statement'


def _report_unexpected(reporter: Reporter, error: UnexpectedInput) -> None:
    line = error.line if isinstance(error.line, int) and error.line > 0 else 1
    column = error.column if isinstance(error.column, int) and error.column > 0 else 1
    text = reporter.lines[line - 1] if line <= len(reporter.lines) else ""
    at_end = isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END")
    before = [t for t in _TRAIL.tokens
              if at_end or ((t.end_line or 0), (t.end_column or 0)) <= (line, column)]
    previous = before[-1] if before else None
    if previous is not None and previous.type in _NUMBERS and previous.end_line == line \
            and previous.end_column == column:  # 10,5% or 10.5.0: a number in pieces?
        rest = re.match(r"[0-9A-Za-z.,_%]+", text[column - 1:])
        if rest and not re.fullmatch(r",", rest.group()):  # "2, then": a list, not 2,5
            raise _bad_number(previous, str(previous) + rest.group())
    if isinstance(error, UnexpectedCharacters):
        char = text[column - 1] if column <= len(text) else "?"
        pos = ast.Pos(line, column, column + 1)
        if char == '"':
            reporter.error(pos, "this text is never closed", unclosed_hint(text[column:]))
        elif char == "%" and re.search(r"[0-9]\s+$", text[:column - 1]):
            reporter.error(pos, "a space before %", "write the % right after the number: 10%")
        elif char == ":" and _zone_in_pieces(before, line, column):
            assert previous is not None
            written = str(previous) + re.match(r"\S*", text[column - 1:]).group()  # type: ignore[union-attr]
            start = previous.column or column
            reporter.error(ast.Pos(line, start, start + len(written)),
                           f'unknown time zone "{written}"',
                           offset_hint(written) or "use a name like Europe/Paris")
        elif char in CURRENCY_SIGNS:
            reporter.error(pos, f"unexpected character {char!r}",
                           f"write the currency's code: {CURRENCY_SIGNS[char]}")
        elif (stand_in := lookalike(char, text[column:column + 1])) is not None:
            reporter.error(pos, *stand_in)
        elif char in OPERATORS:
            reporter.error(pos, f"unexpected character {char!r}", f'write "{OPERATORS[char]}"')
        elif char.isalpha() and in_rule_id(before, line, column):
            word = text[(before[-1].column or 1) - 1:].split()[0]
            reporter.error(pos, "a rule id is written without accents",
                           f"write {without_accents(word)}")
        else:
            reporter.error(pos, f"unexpected character {char!r}", _expected_hint(_expected(error)))
        return
    expected = _expected(error)
    token = None if at_end else getattr(error, "token", None)
    if _TRAIL.braces and (at_end or (token is not None and token.type == "RULE")):
        brace = _TRAIL.braces[-1]
        reporter.error(_pos(brace), NEVER_CLOSED, NEVER_CLOSED_HINT)
        return
    incomplete = not expected & _endings()
    if previous is not None and incomplete and (
            at_end or (token is not None and (token.line or 0) > (previous.end_line or 0))):
        message, hint = _missing(before, expected)
        end = previous.end_column or 1
        reporter.error(ast.Pos(previous.end_line or 1, end, end + 1), message, hint)
        return
    if at_end or token is None:
        last = max(1, len(reporter.lines))
        end = len(reporter.lines[last - 1]) + 1 if reporter.lines else 1
        reporter.error(ast.Pos(last, end, end + 1), "the file ends too early",
                       _expected_hint(expected))
        return
    written = str(token)
    width = len(written) if "\n" not in written else 1
    pos = ast.Pos(line, column, column + width)
    misplaced = Misplaced(token, before, expected, text, _keyword_types())
    if (explained := explain(misplaced)) is not None:
        reporter.error(pos, *explained)
        return
    keywords = [_keywords()[n] for n in expected if n in _keywords()]
    if "FIELD" in expected:
        keywords += ["sku", "category", "brand"]
    unknown = token.type == "WORD" and written not in _keyword_types()
    suggestion = did_you_mean(written, keywords) if unknown else None
    what = "unknown word" if unknown else "unexpected"
    reporter.error(pos, f'{what} "{written}"', suggestion or _expected_hint(expected))


def _zone_in_pieces(before: list[Token], line: int, column: int) -> bool:
    """`timezone UTC+5:30`: the zone's name stops at the colon, which no name has."""
    return len(before) > 1 and str(before[-2]) == "timezone" \
        and before[-1].end_line == line and before[-1].end_column == column


def _expected(error: UnexpectedInput) -> set[str]:
    """The terminals the parser could take where the error is.

    The lexer's own list is no use: it always holds WORD, and no keyword.
    """
    state = getattr(error, "state", None)
    table = getattr(getattr(state, "parse_conf", None), "parse_table", None)
    if table is not None and getattr(state, "position", None) in table.states:
        return set(table.states[state.position])  # type: ignore[union-attr]
    return set(getattr(error, "expected", None) or getattr(error, "allowed", None) or ())


@cache
def _endings() -> frozenset[str]:
    """What may follow a complete header or statement: the start of the next, or an end."""
    types = _keyword_types()
    return frozenset({types[word] for word in STATEMENT_KEYWORDS} | {"RBRACE", "$END"})


def _missing(before: list[Token], expected: set[str]) -> tuple[str, str | None]:
    """The message for a line that ends before its value: what is missing."""
    previous = before[-1]
    word = str(previous)
    if previous.type == "INT" and len(before) > 1 and str(before[-2]) == "for":
        return "a unit (minutes, hours, days) is missing", f"write it like: for {word} minutes"
    if word == "currency":
        return "a currency code is missing", "write it like: currency EUR"
    if word == "timezone":
        return "a time zone is missing", "write it like: timezone Europe/Paris"
    if word == "stacking":
        return "the stacking is missing", "write exclusive, best or stackable"
    if [str(t) for t in before[-3:]] == ["discount", "on", "basket"]:
        return ("the tiers are missing",
                "list them below it, each discount first: 5% when subtotal >= 100.00 EUR; "
                "for a single discount write discount 10% on basket")
    start = after_from(before)
    if "TO" in expected and start:  # valid from 2026-11-27, and nothing more
        return ("the window has no end",
                f"write when it ends: from {start} to {start[:4]}-12-31 (a date without a "
                "time takes in the whole day)")
    return f'the line ends too early, after "{word}"', _expected_hint(expected)


def _expected_hint(expected: set[str]) -> str | None:
    words = _expected_words(expected)
    if not words:
        return None
    if len(words) > 8:
        return "expected " + ", ".join(words[:8]) + ", ..."
    return "expected " + (words[0] if len(words) == 1 else
                          ", ".join(words[:-1]) + " or " + words[-1])


# A text as grammar.lark's STRING reads it, written unrolled as there (a repeated
# alternation kept ~150 bytes of regex state per character of a long title).
_TEXT = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*'  # up to its closing quote, left out

# Where a broken file is cut for recovery: a block's first line (`rule ID
# "Title" {`, or a misspelt `rules ID "Title" {`; a `price 19.99 EUR` effect is
# not one), or a header at the margin outside any block (an indented
# `timezone`, or one inside a block's braces, is a rule's own).
_BLOCK_START = re.compile(r'[ \t]*(?:[A-Za-z_]\w*[ \t]+[^\s"{]+|rule|price)[ \t]+'
                          + _TEXT + r'"[ \t]*\{')  # with its id, or without
_HEADER_START = re.compile(r"(?:currency|timezone)\b")
_STRING = re.compile(_TEXT + r'"?')  # closed or not


def _pieces(source: str) -> list[tuple[int, str]]:
    """Cut a source into top-level pieces: (first line index, text)."""
    starts: list[tuple[int, int]] = [(0, 0)]  # (line index, offset)
    depth = offset = 0  # braces open, outside texts and comments
    for index, line in enumerate(source.split("\n")):
        if _BLOCK_START.match(line):
            depth = 0
            starts.append((index, offset))
        elif depth == 0 and _HEADER_START.match(line):
            starts.append((index, offset))
        code = _STRING.sub("", line[:_comment_start(line)])
        depth = max(0, depth + code.count("{") - code.count("}"))
        offset += len(line) + 1
    starts = sorted(set(starts))
    ends = [begin for _, begin in starts[1:]] + [len(source)]
    return [(line, source[begin:end]) for (line, begin), end in zip(starts, ends, strict=True)]


_NESTING = frozenset({"aud_or", "aud_negate", "item_or", "item_negate"})


def _check_nesting(tree: Tree[Token]) -> None:
    """Refuse more than MAX_NESTING parentheses and `not`s, without recursing.

    A condition is one `or` node, and each parenthesis or `not` adds one.
    """
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING:
            depth += 1
            if depth > MAX_NESTING + 1:
                meta = node.meta
                raise _BadValue(ast.Pos(meta.line, meta.column, meta.column + 1),
                                "this condition is nested too deeply",
                                f"use at most {MAX_NESTING} parentheses and `not`s inside "
                                "each other")
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


def _parse_tree(source: str, reporter: Reporter, start: str = "start") -> Any:
    try:
        tree = _parser().parse(source, start=start)
        _check_nesting(tree)
        return _ToAst().transform(tree)
    except UnexpectedInput as error:
        try:
            _report_unexpected(reporter, error)
        except _BadValue as number:  # a number written in pieces
            reporter.error(number.pos, number.message, number.hint)
    except Exception as error:  # a value the grammar accepts but a calendar does not
        refused = getattr(error, "orig_exc", error)
        if not isinstance(refused, _BadValue):
            raise
        reporter.error(refused.pos, refused.message, refused.hint)
    return None


def _recover(source: str, reporter: Reporter) -> dict[str, Any]:
    """Parse each top-level piece alone so that every broken one is reported.

    The pieces that do parse are kept (their positions shifted back to the
    whole file's), so the semantic checks still run on them. A broken block is
    read again statement by statement (``_recover_block``).
    """
    headers: list[Any] = []
    blocks: list[ast.Block] = []
    for first_line, text in _pieces(source):
        padded = "\n" * first_line + text  # keeps line numbers exact
        before = len(reporter.diagnostics)
        tree = _parse_tree(padded, reporter)
        if tree is not None:
            for kind, word, line in tree["headers"]:
                if blocks:  # a header read alone parses: say where it belongs
                    column = reporter.lines[line - 1].find(kind) + 1
                    first = next((w for k, w, _ in headers if k == kind), None)
                    reporter.error(ast.Pos(line, column, column + len(kind)),
                                   f"the {kind} line comes after a rule",
                                   "move it to the top of the file, before the first rule"
                                   if first is None else _twice_hint(kind, first, word))
                else:
                    headers.append((kind, word, line))
            blocks.extend(tree["blocks"])
        else:
            blocks.extend(_recover_block(first_line, text, reporter))
            _report_left_open(first_line, text, reporter, before)
    return {"headers": headers, "blocks": tuple(blocks)}


def _report_left_open(first_line: int, text: str, reporter: Reporter, before: int) -> None:
    """A block whose braces do not balance is never closed, even when the parser
    stopped at another mistake first: say so too, at its brace, once. Only the
    diagnostics of this piece (from index ``before``) can be at its brace: looking
    through all of them made a source of 60,000 unclosed blocks cost two minutes."""
    depth, brace = 0, None
    for index, line in enumerate(text.split("\n")):
        # texts blanked out, not removed: the brace keeps its column
        code = _STRING.sub(lambda found: " " * len(found.group()), line[:_comment_start(line)])
        for column, char in enumerate(code, start=1):
            if char == "{":
                depth, brace = depth + 1, brace or ast.Pos(first_line + index + 1, column,
                                                           column + 1)
            elif char == "}":
                depth = max(0, depth - 1)
    if depth and brace is not None and not any(
            d.message == NEVER_CLOSED and d.line == brace.line
            for d in reporter.diagnostics[before:]):
        reporter.error(brace, NEVER_CLOSED, NEVER_CLOSED_HINT)


# A line's first word, as the lexer reads a WORD.
_FIRST_WORD = re.compile(r"[ \t\f\r]*([A-Za-z_][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*)")
# A line that starts a block (`rule ...`, `price NAME ...`), not a `price 19.99` effect.
_BLOCK_LINE = re.compile(r'[ \t\f\r]*(?:rule(?![A-Za-z0-9_+\-/])|price[ \t]+[A-Za-z_"])')


# `price >= 40.00 EUR` wrapped onto its own line: an item condition, not a statement.
_PRICE_CONDITION = re.compile(r"[ \t\f\r]*price[ \t\f\r]*[<>=!]")


def _starts_statement(word: str) -> bool:
    """A statement keyword, or a misspelling of one that is no word of the language
    (`chanels pos`): cut there too, so that the statements after a misspelt one are
    still read. Words the language has (`where`, near `when`) continue a statement."""
    return word in STATEMENT_KEYWORDS or (
        word not in _keyword_types() and closest_word(word, STATEMENT_KEYWORDS) is not None)


def _statement_pieces(text: str) -> list[tuple[int, str]]:
    """Cut a piece at the lines a statement keyword starts, as the parser reads them
    (a keyword first on its line starts a statement): (line index in text, text).
    The first piece is the block's header line and what follows it up to the
    first statement line."""
    lines = text.split("\n")
    starts = [0] + [index for index, line in enumerate(lines) if index and (
        (word := _FIRST_WORD.match(line)) is not None and _starts_statement(word.group(1))
        and not _PRICE_CONDITION.match(line))]
    return [(begin, "\n".join(lines[begin:end]) + ("\n" if end < len(lines) else ""))
            for begin, end in zip(starts, [*starts[1:], len(lines)], strict=True)]


def _recover_block(first_line: int, text: str, reporter: Reporter) -> list[ast.Block]:
    """A piece that does not parse, read again statement by statement.

    Its first error is already reported. The other statements are parsed alone,
    so a second, independent mistake in the same block is reported too; the
    statement holding the first error is left out, so that error is never
    followed by bogus ones. The statements that parse make up the block again
    (``lost`` names the ones that did not), so the semantic checks run on them.
    """
    failed = reporter.diagnostics[-1].line
    if reporter.diagnostics[-1].message == NEVER_CLOSED:
        failed = 0  # the header is whole; only its end is missing
    pieces = _statement_pieces(text)
    blocks: list[ast.Block] = []
    header: ast.Block | None = None
    statements: list[ast.Statement] = []
    lost: list[str] = []
    for index, (begin, piece) in enumerate(pieces):
        line = first_line + begin + 1
        end = first_line + pieces[index + 1][0] if index + 1 < len(pieces) \
            else line + piece.count("\n")
        padded = "\n" * (first_line + begin) + piece
        first_word = _FIRST_WORD.match(piece)
        word = first_word.group(1) if first_word else ""
        holds_error = line <= failed <= end
        quiet = Reporter(reporter.filename, "")
        quiet.lines = reporter.lines  # its diagnostics may be kept
        if index == 0 or _BLOCK_LINE.match(piece):  # a block's first line, maybe broken
            if header is not None:
                blocks.append(_partial(header, statements, lost))
            header, statements, lost = None, [], []
            if holds_error:
                continue
            tree = _parse_tree(padded + "\n}", quiet)  # the header, closed here
            if tree is not None and len(tree["blocks"]) == 1:
                header = tree["blocks"][0]
            else:  # an error of its own, unless at the brace added here
                reporter.diagnostics.extend(d for d in quiet.diagnostics if d.line <= end)
            continue
        tree = _parse_tree(padded, quiet if holds_error else reporter, "resume")
        if holds_error or tree is None:
            lost.append(word)
        elif header is not None:
            statements.extend(tree["statements"])
            if tree["closed"]:  # what follows is outside the block
                blocks.append(_partial(header, statements, lost, closed=True))
                header = None
    if header is not None:
        blocks.append(_partial(header, statements, lost))
    return blocks


def _partial(header: ast.Block, statements: list[ast.Statement], lost: list[str],
             closed: bool = False) -> ast.Block:
    """A block put together again from the statements that parsed. ``lost`` names the
    ones that did not; a block whose end was not read lost something too ("")."""
    return ast.Block(header.kind, header.id, header.title, header.statements + tuple(statements),
                     header.pos, header.end_line,
                     tuple(lost) if closed else tuple(lost) or ("",))


def _comments(source: str) -> tuple[ast.Comment, ...]:
    found = []
    for number, line in enumerate(source_lines(source), start=1):
        index = _comment_start(line)
        if index is not None:
            found.append(ast.Comment(line[index:].rstrip(), number))
    return tuple(found)


def _comment_start(line: str) -> int | None:
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and in_string:
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            return index
    return None


def _twice_hint(kind: str, first: ast.Word | None, again: ast.Word) -> str:
    """Two currencies are two rule sets; two time zones, a zone per rule."""
    if first is None or first.text == again.text:
        return "keep one"
    if kind == "currency":
        return (f"a rule set prices in one currency, here {first.text} (line "
                f"{first.pos.line}): put the {again.text} rules in a rule set of their own")
    return (f"a file has one time zone, here {first.text} (line {first.pos.line}); a rule "
            f"in another says so inside its block: timezone {again.text}")


def parse_file(source: str, filename: str = "<string>") -> tuple[ast.File, Reporter]:
    """Parse; return the tree (empty when broken) and the reporter with the errors.

    A byte-order mark at the start (Windows Notepad writes one) is skipped.
    """
    source = source.removeprefix("\ufeff")
    reporter = Reporter(filename, source)
    tree = _parse_tree(source, reporter)
    if tree is None:
        whole = list(reporter.diagnostics)
        reporter.diagnostics.clear()
        tree = _recover(source, reporter)
        if not reporter.diagnostics:  # the pieces parse alone, the whole does not
            reporter.diagnostics.extend(whole)
    headers = tree["headers"]
    currency = next((word for kind, word, _ in headers if kind == "currency"), None)
    zone = next((word for kind, word, _ in headers if kind == "timezone"), None)
    for kind, word, _ in headers:
        first = currency if kind == "currency" else zone
        if word is not first:
            reporter.error(word.pos, f"{kind} is given twice", _twice_hint(kind, first, word))
    file = ast.File(filename, source, currency, zone, tree["blocks"], _comments(source),
                    tuple(line for _, _, line in headers))
    return file, reporter


def parse(source: str, filename: str = "<string>") -> ast.File:
    """Parse a rule file; raise ``DslError`` with every syntax error found."""
    file, reporter = parse_file(source, filename)
    if reporter.diagnostics:
        raise DslError(reporter.diagnostics)
    return file


__all__ = ["parse", "parse_file", "report_invisible"]
