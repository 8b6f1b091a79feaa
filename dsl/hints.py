"""Hints for what a marketer writes the way another tool would.

The parser reports where a source stops making sense; these name what was meant
and what to type instead: characters a word processor put in (curly quotes, an en
dash, a no-break space), and words or forms from elsewhere (`rule "Black Friday"
{` without an id, `==`, `segment students` without quotes, `buy 2 get 1 free`,
French keywords, days and units), never the keyword merely nearest in spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lark import Token

from engine.money import MINOR_UNITS

from .checks import ZONE_ABBREVIATIONS, known_zone
from .errors import closest_word, did_you_mean

Hint = tuple[str, str]  # (message, hint)


# Characters a word processor puts in place of the ones the language reads (a rule
# copied from Word or an e-mail): named, with the character to type instead.
CURLY_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"  # “ ” „ ‟ « » ″
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b\u2032"  # ' ‘ ’ ‚ ‛ ′
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"  # ‐ ‑ ‒ – — ― − ﹣ －
QUOTE_HINT = 'write texts between straight double quotes: "Soldes" (a word processor curls them)'


def lookalike(char: str, after: str) -> Hint | None:
    """(message, hint) for a character that stands in for one the language reads,
    or is invisible; None for any other. ``after`` is the character that follows."""
    code = f"U+{ord(char):04X}"
    if char in CURLY_QUOTES:
        return f'a curly quote {char} instead of "', QUOTE_HINT
    if char in SINGLE_QUOTES:
        return f'a single quote {char} instead of "', 'write texts between double quotes: "Soldes"'
    if char in DASHES:
        return (f"a dash {char} instead of -",
                "write a hyphen -, like 17:00-19:00 (a word processor lengthens it)")
    category = unicodedata.category(char)
    if category == "Zs":  # a no-break, thin or wide space
        name = unicodedata.name(char, "space").lower()
        if after == "%":  # French typography: "10 %"
            return (f"a {name} ({code}) before %", "write the % right after the number: 10%")
        return (f"a {name} ({code}) instead of a space",
                "replace it with an ordinary space (it comes with a copy and paste)")
    if category.startswith("C"):  # a control, a zero-width or a format character
        return (f"an invisible character ({code})",
                "delete it (it comes with a copy and paste)")
    return None


def unclosed_hint(rest: str) -> str:
    """A text opened with a straight quote and closed with a curly one."""
    curly = next((char for char in rest if char in CURLY_QUOTES), None)
    if curly is not None:
        return f'it ends with a curly quote {curly}: write a straight " there'
    return 'end it with " on the same line'


# Words a marketer starts a statement with, and the statement that says it: the
# nearest keyword in spelling is no help ("categories" is nearest to "stores").
_ITEMS = 'say which items after the effect: discount 15% on items where category = "rainwear"'
_WINDOW = "say when the rule is live with valid: valid from 2026-12-01 to 2026-12-24"
_DISCOUNT = "write discount: discount 15% on items, or discount 10.00 EUR on basket"
_AUDIENCE = 'say who with audience: audience segment "students", audience cardholder'
STATEMENT_WORDS = {
    **dict.fromkeys(("category", "categories", "brand", "brands", "sku", "skus", "product",
                     "products", "item", "items", "articles"), _ITEMS),
    **dict.fromkeys(("window", "dates", "date", "period", "start", "starts", "end", "ends",
                     "expires", "until", "during", "schedule"), _WINDOW),
    **dict.fromkeys(("reduction", "remise", "rabais", "off", "percent", "promo", "promotion",
                     "sale"), _DISCOUNT),
    **dict.fromkeys(("segment", "segments", "customer", "customers", "members", "tier",
                     "tiers", "cardholders", "who"), _AUDIENCE),
    **dict.fromkeys(("code", "codes", "voucher", "promocode"),
                    'write coupon: coupon "WELCOME10"'),
    **dict.fromkeys(("free", "gift", "offer"),
                    "write buy 3 pay 2 on items, or bundle 2 for 25.00 EUR on items"),
    **dict.fromkeys(("bonus", "loyalty", "fidelite"),
                    "write points: points 2 per 1.00 EUR on items"),
    **dict.fromkeys(("shop", "shops", "store", "magasin", "magasins"),
                    'write stores: stores "lyon-01", "lyon-02"'),
}


# Counts of up to 9 digits: the hint adds them up, and int() refuses 4,300 digits or more.
_BUY_GET = re.compile(r"\bbuy\s+(\d{1,9})\s+get\s+(\d{1,9})(?![\d.%])")

# What other languages write for and, or, not.
OPERATORS = {"&": "and", "|": "or", "!": "not"}


def without_accents(text: str) -> str:
    """"soldes_été" -> "soldes_ete": the letters of a text, their accents dropped."""
    letters = unicodedata.normalize("NFKD", text)
    return "".join(char for char in letters if not unicodedata.combining(char) and char.isascii())


def in_rule_id(before: list[Token], line: int, column: int) -> bool:
    """Is ``line:column`` inside a rule id (`rule soldes_été`)?"""
    return len(before) > 1 and before[-2].type in ("RULE", "PRICE") \
        and before[-1].type == "WORD" and before[-1].end_line == line \
        and before[-1].end_column == column


@dataclass(frozen=True, slots=True)
class Misplaced:
    """A token the parser could not take: what it is, what came before it (the last
    few tokens), the terminals it expected there, and the token's source line."""

    token: Token
    before: list[Token]
    expected: set[str]
    line: str
    keywords: Mapping[str, str]  # keyword -> its terminal's name

    @property
    def written(self) -> str:
        return str(self.token)

    @property
    def previous(self) -> Token | None:
        return self.before[-1] if self.before else None

    @property
    def from_here(self) -> str:
        """The source line from the token on."""
        return self.line[(self.token.column or 1) - 1:]

    @property
    def unknown_word(self) -> bool:
        return self.token.type == "WORD" and self.written not in self.keywords


def explain(misplaced: Misplaced) -> Hint | None:
    """(message, hint) for a token out of place that a marketer writes naturally, or
    None: the parser's own message stands."""
    for explainer in EXPLAINERS:
        found = explainer(misplaced)
        if found is not None:
            return found
    return None


def _rule_id(m: Misplaced) -> Hint | None:
    """`rule "Black Friday" {`, `rule 2for1 ...`, `rule black friday "..."`."""
    previous = m.previous
    if previous is not None and previous.type in ("RULE", "PRICE") and m.expected == {"WORD"}:
        return _missing_id(str(previous), m.token, m.line)
    if m.expected == {"STRING"} and previous is not None and len(m.before) > 1 \
            and m.before[-2].type in ("RULE", "PRICE"):
        if m.written == "{":  # `rule summer_sale {`: the id is whole, the title missing
            title = str(previous).replace("_", " ").capitalize()
            return ("the rule has no title", f'write it in double quotes after the id: '
                                             f'{m.before[-2]} {previous} "{title}" {{')
        words = m.line[(previous.column or 1) - 1:].split('"', 1)[0].split()
        return "a rule id is one word", f"join the words with _: {'_'.join(words)}"
    return None


def _other_word(m: Misplaced) -> Hint | None:
    """A statement by another name, a French keyword, an audience in other words."""
    lower = m.written.lower()
    if "DISCOUNT" in m.expected and (meant := STATEMENT_WORDS.get(lower)) is not None:
        what = "unexpected" if m.written in m.keywords else "unknown word"
        return f'{what} "{m.written}"', meant
    english = KEYWORDS_IN_FRENCH.get(lower)
    if english is not None and m.keywords.get(english) in m.expected:
        return f'unknown word "{m.written}"', f'the language is written in English: "{english}"'
    if "CARDHOLDER" in m.expected and m.unknown_word:
        return f'unknown word "{m.written}"', _audience_hint(m.written, m.from_here)
    return None


def _values(m: Misplaced) -> Hint | None:
    """Several values as a spreadsheet lists them, a value without quotes, `==`."""
    if (listed := _list_hint(m.token, m.before, m.expected)) is not None:
        return f'unexpected "{m.written}"', listed
    if "STRING" in m.expected and m.unknown_word:
        return f'unknown word "{m.written}"', f'put it in double quotes: "{m.written}"'
    previous = m.previous
    if m.written == "=" and previous is not None and str(previous) == "=" \
            and previous.end_line == m.token.line and previous.end_column == m.token.column:
        return 'one "=" is enough', 'compare with a single "=": category = "rainwear"'
    return None


def _conditions(m: Misplaced) -> Hint | None:
    """`when` conditions joined with a comma or `or`."""
    if m.written == "," and "AND" in m.expected and m.line.lstrip().startswith("when "):
        return 'unexpected ","', 'join the conditions of "when" with "and"'
    if m.written == "or" and "AND" in m.expected and "OR" not in m.expected:
        return ('"or" between basket conditions',
                'every condition of "when" must hold: write "and", or make two rules')
    if m.token.type in ("PERCENT", "NUMBER") and m.line.lstrip().startswith("when subtotal"):
        threshold = m.line[:(m.token.column or 1) - 1].strip().removeprefix("when").strip()
        return ("a tier starts with its discount",
                f"write it: {m.from_here.strip()} when {threshold}")
    return None


def _windows(m: Misplaced) -> Hint | None:
    """`from D T for 3 days`, `D for 3 days`, `until D`, a zone after the times."""
    start = after_from(m.before)
    if m.written == "for" and m.expected == {"TO"} and start:
        return ('a window for a duration starts without "from"',
                f"write: valid {start} {m.from_here.strip()}")
    if m.written == "for" and m.expected == {"TIME"} and m.previous is not None:
        return ("the start has no time",
                f"write the time it starts: valid {m.previous} 00:00 {m.from_here.strip()}")
    if m.written in ("until", "till", "through", "thru") and "FROM" in m.expected:
        end = m.from_here[len(m.written):].strip()
        return (f'unknown word "{m.written}"',
                f"a window has a start and an end: valid from YYYY-MM-DD to {end}")
    if m.previous is not None and m.previous.type in ("TIME", "DATE") \
            and m.token.type == "WORD" \
            and (known_zone(m.written) or m.written.upper() in ZONE_ABBREVIATIONS):
        zone = ZONE_ABBREVIATIONS.get(m.written.upper(), m.written)  # EST: New York's
        return ("a time zone in a window",
                f"give the rule its zone on a line of its own: timezone {zone}")
    return None


def _effects(m: Misplaced) -> Hint | None:
    """An amount off items without `each`, `buy 2 get 1 free`, `except`."""
    if m.written == "items" and m.expected == {"BASKET"} and "each" not in m.line:
        return ("an amount off items is an amount off each unit",
                'write "each": discount 5.00 EUR each on items, or "on basket" for the basket')
    if m.written == "get" and "PAY" in m.expected and (free := _BUY_GET.search(m.line)):
        bought, given = int(free.group(1)), int(free.group(2))
        cheapest = "cheapest is" if given == 1 else f"{given} cheapest are"
        return ('unknown word "get"', f"write buy {bought + given} pay {bought}: in each "
                                      f"group of {bought + given} units, the {cheapest} free")
    if m.written in ("except", "excluding", "but") and "WHERE" in m.expected:
        return (f'unknown word "{m.written}"',
                'to leave items out write "where not": items where not category = "clearance"')
    return None


def _amounts(m: Misplaced) -> Hint | None:
    """`points x2`, `per EUR`, an item detail that is not sku, category or brand."""
    if re.fullmatch(r"[xX]\d+", m.written) and m.expected == {"INT"}:
        return (f'unknown word "{m.written}"',
                f"points are earned per amount: points {m.written[1:]} per 1.00 EUR on items")
    if m.written in MINOR_UNITS and "NUMBER" in m.expected:
        digits = MINOR_UNITS[m.written]
        one = "1." + "0" * digits if digits else "1"
        return f'"{m.written}" without an amount', f"write the amount first: {one} {m.written}"
    if m.unknown_word and "FIELD" in m.expected \
            and closest_word(m.written, ("sku", "category", "brand", "attribute")) is None:
        return (f'unknown word "{m.written}"',
                "items have a sku, category and brand; for another of their details write "
                f'attribute "{m.written}"')
    return None


def _ranks(m: Misplaced) -> Hint | None:
    """`tier >= "gold"` (gold and above), `priority high`: tiers are names, priorities
    numbers."""
    previous = str(m.previous) if m.previous is not None else ""
    if previous == "tier" and m.written in (">=", ">", "<=", "<"):
        return (f'unexpected "{m.written}"', 'tiers are names, not ranks: list them, '
                                             'tier in ("gold", "platinum")')
    if previous == "priority" and m.unknown_word:
        return (f'unknown word "{m.written}"',
                "a priority is a whole number, the higher wins: priority 10")
    return None


EXPLAINERS: tuple[Callable[[Misplaced], Hint | None], ...] = (
    _rule_id, _other_word, _values, _conditions, _windows, _effects, _amounts, _ranks)


# Keywords a French marketer writes in French, where the English one is expected.
KEYWORDS_IN_FRENCH = {"et": "and", "ou": "or", "non": "not", "pas": "not", "sur": "on",
                      "panier": "basket", "articles": "items", "produits": "items",
                      "quand": "when", "chaque": "each", "pour": "for", "de": "from",
                      "du": "from", "au": "to", "tous": "every", "achetez": "buy",
                      "payez": "pay", "dans": "in"}
AUDIENCE_KEYWORDS = ("cardholder", "known", "anonymous", "segment", "tier", "attribute", "not")
# Words for whole audiences, and the language's.
AUDIENCE_WORDS = {"guest": "anonymous", "guests": "anonymous", "unknown": "anonymous",
                  "unidentified": "anonymous", "identified": "known",
                  "registered": "known", "logged_in": "known", "signed_in": "known"}


def _audience_hint(written: str, from_here: str) -> str:
    """`not_cardholder` is nearest to "cardholder", the opposite; `students` is a
    segment, `gold` a tier, `everyone` no audience at all."""
    lower = written.lower()
    negated = re.match(r"(?:not|non|no)[_-](.+)", lower)
    if negated:
        meant = AUDIENCE_WORDS.get(negated.group(1), negated.group(1))
        return f'write "not" and a space: not {meant}'
    if lower == "card" and re.match(r"card\s+holders?\b", from_here):
        return "write cardholder, in one word"
    if lower in AUDIENCE_WORDS:
        return f'did you mean "{AUDIENCE_WORDS[lower]}"?'
    if (typo := did_you_mean(written, AUDIENCE_KEYWORDS)) is not None:
        return typo
    if lower in ("all", "everyone", "everybody", "anyone"):
        return "leave out audience: a rule without one is for every customer"
    return (f'a group of customers is a segment: segment "{written}"; a loyalty tier: '
            f'tier = "{written}"')


def _list_hint(token: Token, before: list[Token], expected: set[str]) -> str | None:
    """Several values written as another language would: `= "a", "b"`, `= ("a", "b")`,
    `in "a", "b"`, `= "a" or "b"`, `segment in (...)`, `stores ("a", "b")`."""
    written = str(token)
    words = [str(t) for t in before]
    if written == "," and len(words) > 2 and words[-2] in ("=", "!=") \
            and before[-1].type == "STRING":
        return f'for several values write "in": {words[-3]} in ({words[-1]}, ...)'
    if written == "(" and words[-1:] == ["="]:
        return 'for several values write "in": category in ("a", "b")'
    if written == "(" and words[-1:] in (["stores"], ["coupon"]):
        return f'write the values without parentheses: {words[-1]} "a", "b"'
    if token.type == "STRING" and "LPAR" in expected and words[-1:] == ["in"]:
        return f'put the values in parentheses: in ({written}, ...)'
    if token.type == "STRING" and words[-1:] in (["or"], ["and"]):
        example = ('segment "students" or segment "teachers"' if "SEGMENT" in expected
                   else 'category = "a" or category = "b", or category in ("a", "b")')
        return f'each side of "{words[-1]}" is a whole condition: {example}'
    if written == "in" and words[-1:] == ["segment"]:
        return 'one segment per condition: segment "students" or segment "teachers"'
    return None


def _missing_id(kind: str, token: Token, line: str) -> Hint:
    """`rule "Black Friday" {` or `rule 2for1 ...`: the id is missing or not a name."""
    if token.type == "STRING":
        title = without_accents(str(token)[1:-1]).lower()
        suggested = "_".join(re.findall(r"[a-z0-9]+", title)) or "my_rule"
        if suggested[0].isdigit():
            suggested = f"promo_{suggested}"
        return ("the rule has no id",
                f"write a one-word id before the title: {kind} {suggested} {token} {{")
    word = line[(token.column or 1) - 1:].split()[0]
    return (f'"{word}" cannot be a rule id',
            f"an id starts with a letter: promo_{word}")



def after_from(before: list[Token]) -> str:
    """What follows the last `from` among the tokens read: a window's start."""
    words = [str(t) for t in before]
    if "from" not in words:
        return ""
    return " ".join(words[len(words) - words[::-1].index("from"):])


__all__ = ["OPERATORS", "Misplaced", "after_from", "explain", "in_rule_id", "lookalike",
           "unclosed_hint", "without_accents"]
