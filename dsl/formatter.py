"""The canonical form of a rule file (``remise fmt``).

Statements in a fixed order (who and where, then when, then what, then how it
stacks), four-space indent, one blank line between blocks, amounts with their
currency, the fewest parentheses that keep the meaning. Comments stay with
the line they were above or beside. ``format_source`` is stable: formatting
formatted text changes nothing, and the result compiles to the same IR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from . import ast
from .errors import DslError, source_lines
from .parser import parse

ORDER = ("coupon", "limit", "channels", "stores", "audience", "timezone", "valid", "when",
         "effect", "stacking", "priority")
INDENT = "    "
T = TypeVar("T")


def _quote(text: ast.Text) -> str:
    return '"' + text.value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Binding strength, loosest first: parentheses are printed only where needed.
OR_LEVEL, AND_LEVEL, NOT_LEVEL = 1, 2, 3


def _connect(args: tuple[T, ...], render: Callable[[T, int], str], conjunction: bool,
             parent: int) -> str:
    """``a and b`` / ``a or b``, in parentheses when the parent binds tighter."""
    level, word = (AND_LEVEL, " and ") if conjunction else (OR_LEVEL, " or ")
    text = word.join(render(arg, level) for arg in args)
    return f"({text})" if parent > level else text


def _tuple(values: tuple[ast.Text, ...]) -> str:
    return "(" + ", ".join(map(_quote, values)) + ")"


class _Printer:
    def __init__(self, file: ast.File) -> None:
        self.file = file
        self.currency = file.currency.text if file.currency else None
        lines = source_lines(file.source)
        self.full_line = {c.line for c in file.comments
                          if lines[c.line - 1].lstrip().startswith("#")}
        self.pending = sorted(file.comments, key=lambda c: c.line)
        self.out: list[str] = []

    # --- comments ---------------------------------------------------------------------

    def _leading(self, before_line: int, indent: str) -> None:
        while self.pending and self.pending[0].line < before_line:
            comment = self.pending.pop(0)
            self.out.append(indent + comment.text)

    def _trailing(self, line: int) -> str:
        if self.pending and self.pending[0].line == line and line not in self.full_line:
            return "  " + self.pending.pop(0).text
        return ""

    # --- values -----------------------------------------------------------------------

    def amount(self, amount: ast.Amount) -> str:
        currency = amount.currency.text if amount.currency else self.currency
        return f"{amount.written} {currency}" if currency else amount.written

    def audience(self, expr: ast.AudienceExpr, parent: int = 0) -> str:
        if isinstance(expr, ast.AudienceFlag):
            return expr.flag
        if isinstance(expr, ast.AudienceTier):
            return f"tier in {_tuple(expr.values)}" if expr.listed else \
                f"tier = {_quote(expr.values[0])}"
        if isinstance(expr, ast.AudienceSegment):
            return f"segment {_quote(expr.value)}"
        if isinstance(expr, ast.AudienceAttribute):
            value = f"in {_tuple(expr.values)}" if expr.listed else f"= {_quote(expr.values[0])}"
            return f"attribute {_quote(expr.name)} {value}"
        if isinstance(expr, ast.AudienceNot):
            return "not " + self.audience(expr.arg, NOT_LEVEL)
        return _connect(expr.args, self.audience, isinstance(expr, ast.AudienceAll), parent)

    def items(self, expr: ast.ItemExpr, parent: int = 0) -> str:
        if isinstance(expr, ast.ItemField):
            value = _tuple(expr.values) if expr.op == "in" else _quote(expr.values[0])
            return f"{expr.field.text} {expr.op} {value}"
        if isinstance(expr, ast.ItemAttribute):
            value = _tuple(expr.values) if expr.op == "in" else _quote(expr.values[0])
            return f"attribute {_quote(expr.name)} {expr.op} {value}"
        if isinstance(expr, ast.ItemPrice):
            return f"price {expr.op} {self.amount(expr.amount)}"
        if isinstance(expr, ast.ItemNot):
            return "not " + self.items(expr.arg, NOT_LEVEL)
        return _connect(expr.args, self.items, isinstance(expr, ast.ItemAll), parent)

    def where(self, expr: ast.ItemExpr | None) -> str:
        return f" where {self.items(expr)}" if expr is not None else ""

    def window(self, window: ast.Window) -> str:
        if isinstance(window, ast.RelativeWindow):
            duration = window.duration
            return (f"{window.start_date} {window.start_time:%H:%M} for "
                    f"{duration.count.value} {duration.unit.text}")
        if isinstance(window, ast.PublishWindow):
            duration = window.duration
            return f"for {duration.count.value} {duration.unit.text} from publish"
        if isinstance(window, ast.AbsoluteWindow):
            start = f"{window.start_date}" + (
                f" {window.start_time:%H:%M}" if window.start_time else "")
            end = f"{window.end_date}" + (f" {window.end_time:%H:%M}" if window.end_time else "")
            return f"from {start} to {end}"
        days = ", ".join(day.text for day in window.days)
        text = f"every {days} {window.start:%H:%M}-{window.end:%H:%M}"
        if window.from_date and window.until_date:
            text += f" from {window.from_date} to {window.until_date}"
        return text

    def condition(self, condition: ast.Condition) -> str:
        if isinstance(condition, ast.SubtotalCondition):
            return f"subtotal {condition.op} {self.amount(condition.amount)}"
        of = f" of items{self.where(condition.items)}" if condition.written_of_items else ""
        return f"quantity{of} {condition.op} {condition.count.value}"

    def effect(self, effect: ast.Effect) -> list[str]:
        kind = effect.kind
        where = self.where(effect.items)
        if kind == "percent_items":
            assert effect.percent is not None
            return [f"discount {effect.percent.written}% on items{where}"]
        if kind == "percent_basket":
            assert effect.percent is not None
            return [f"discount {effect.percent.written}% on basket"]
        if kind == "tiered":
            return ["discount on basket", *(INDENT + self.tier(t) for t in effect.tiers)]
        assert effect.amount is not None or effect.first is not None
        if kind == "amount_basket":
            return [f"discount {self.amount(effect.amount)} on basket"]  # type: ignore[arg-type]
        if kind == "amount_each":
            return [f"discount {self.amount(effect.amount)} each on items{where}"]  # type: ignore[arg-type]
        if kind == "price":
            return [f"price {self.amount(effect.amount)} on items{where}"]  # type: ignore[arg-type]
        assert effect.first is not None
        if kind == "buy_pay":
            assert effect.second is not None
            return [f"buy {effect.first.value} pay {effect.second.value} on items{where}"]
        if kind == "bundle":
            return [f"bundle {effect.first.value} for {self.amount(effect.amount)} on items{where}"]  # type: ignore[arg-type]
        return [f"points {effect.first.value} per {self.amount(effect.amount)} on items{where}"]  # type: ignore[arg-type]

    def tier(self, tier: ast.Tier) -> str:
        value = f"{tier.percent.written}%" if tier.percent else self.amount(tier.amount)  # type: ignore[arg-type]
        return f"{value} when subtotal >= {self.amount(tier.threshold)}"

    def statement(self, statement: ast.Statement) -> list[str]:
        keyword, value = statement.keyword, statement.value
        if keyword == "effect":
            return self.effect(cast(ast.Effect, value))
        if keyword == "audience":
            return [f"audience {self.audience(cast(ast.AudienceExpr, value))}"]
        if keyword == "channels":
            return ["channels " + ", ".join(w.text for w in cast(tuple[ast.Word, ...], value))]
        if keyword in ("stores", "coupon"):
            return [f"{keyword} " + ", ".join(map(_quote, cast(tuple[ast.Text, ...], value)))]
        if keyword == "valid":
            return [f"valid {self.window(cast(ast.Window, value))}"]
        if keyword == "when":
            conditions = cast(tuple[ast.Condition, ...], value)
            return ["when " + " and ".join(map(self.condition, conditions))]
        if keyword == "limit":
            per_customer, total = cast(tuple[ast.Number | None, ast.Number | None], value)
            parts = ([f"{per_customer.value} per customer"] if per_customer else []) + (
                [f"{total.value} total"] if total else [])
            return ["limit " + ", ".join(parts)]
        if keyword in ("stacking", "timezone"):
            return [f"{keyword} {cast(ast.Word, value).text}"]
        return [f"priority {cast(ast.Number, value).value}"]

    # --- file -----------------------------------------------------------------------------

    def block(self, block: ast.Block) -> None:
        self._leading(block.pos.line, "")
        self.out.append(f"{block.kind} {block.id.text} {_quote(block.title)} {{"
                        + self._trailing(block.pos.line))
        # Comments travel with their statement when the statements are reordered:
        # the ones above it (or inside it, for a statement over several lines)
        # stay above it, the one at the end of its last line stays there.
        above: dict[int, list[str]] = {}
        beside: dict[int, str] = {}
        for statement in block.statements:  # in source order
            comments = above.setdefault(id(statement), [])
            while self.pending and self.pending[0].line <= statement.end_line:
                comment = self.pending.pop(0)
                if comment.line == statement.end_line and comment.line not in self.full_line:
                    beside[id(statement)] = "  " + comment.text
                else:
                    comments.append(comment.text)
        ordered = sorted(block.statements, key=lambda s: ORDER.index(s.keyword))
        for statement in ordered:
            self.out.extend(INDENT + text for text in above[id(statement)])
            lines = self.statement(statement)
            lines[-1] += beside.get(id(statement), "")
            self.out.extend(INDENT + line for line in lines)
        self._leading(block.end_line, INDENT)
        self.out.append("}" + self._trailing(block.end_line))

    def header(self) -> None:
        for word, keyword in ((self.file.currency, "currency"),
                              (self.file.timezone, "timezone")):
            if word is not None:
                self._leading(word.pos.line, "")
                self.out.append(f"{keyword} {word.text}" + self._trailing(word.pos.line))

    def run(self) -> str:
        self.header()
        for block in self.file.blocks:
            if self.out:
                self.out.append("")
            self.block(block)
        if self.pending:
            if self.out:
                self.out.append("")
            self.out.extend(c.text for c in self.pending)
        return "\n".join(self.out) + "\n"


def format_file(file: ast.File) -> str:
    return _Printer(file).run()


def format_source(source: str, filename: str = "<string>") -> str:
    """The canonical text of a rule file; raises ``DslError`` when it does not parse."""
    return format_file(parse(source, filename))


__all__ = ["DslError", "format_file", "format_source"]
