"""Checked syntax tree -> the engine's IR.

Runs only on files the checks passed, so it can assume every name, zone and
amount is valid. Wall-clock times become UTC instants here (absolute windows)
so that a device needs no time-zone database for them; recurring windows keep
their wall clock and zone because they move with daylight saving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from engine import ir

from . import ast
from .checks import (
    DEFAULT_TIMEZONE,
    UNITS,
    absolute_bounds,
    check_file,
    first_instant_at,
    local_to_utc,
)
from .errors import Diagnostic, DslError, Reporter, source_lines
from .parser import parse_file, report_invisible

DAY_NUMBERS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def _utc(moment: datetime, zone: str) -> datetime:
    instant = local_to_utc(moment.date(), moment.time(), zone)
    assert instant is not None, "checked: no skipped wall-clock time"
    return instant


def _duration(duration: ast.Duration) -> timedelta:
    return timedelta(seconds=duration.count.value * UNITS[duration.unit.text])


def _window(window: ast.Window, zone: str, publish_at: datetime) -> ir.Window:
    if isinstance(window, ast.RecurringWindow):
        days = (tuple(range(1, 8)) if [d.text for d in window.days] == ["day"]
                else tuple(sorted({DAY_NUMBERS[d.text] for d in window.days})))
        return ir.RecurringWindow(days=days, start=window.start, end=window.end, timezone=zone,
                                  from_date=window.from_date, until_date=window.until_date)
    if isinstance(window, ast.PublishWindow):
        start = publish_at.astimezone(UTC)
        return ir.AbsoluteWindow(start=start, end=start + _duration(window.duration),
                                 timezone=zone)
    if isinstance(window, ast.RelativeWindow):
        start = _utc(datetime.combine(window.start_date, window.start_time), zone)
        return ir.AbsoluteWindow(start=start, end=start + _duration(window.duration),
                                 timezone=zone)
    local_start, local_end = absolute_bounds(window)
    # A bound written as a date alone is the start of a day, which exists even where
    # daylight saving skips midnight (the day then starts when its clock does).
    start = (_utc(local_start, zone) if window.start_time is not None
             else first_instant_at(local_start.date(), local_start.time(), zone))
    end = (_utc(local_end, zone) if window.end_time is not None
           else first_instant_at(local_end.date(), local_end.time(), zone))
    return ir.AbsoluteWindow(start=start, end=end, timezone=zone)


def _audience(expr: ast.AudienceExpr) -> ir.Audience:
    if isinstance(expr, ast.AudienceFlag):
        return ir.AudienceFlag.model_validate({"flag": expr.flag})
    if isinstance(expr, ast.AudienceTier):
        return ir.AudienceTierIn(values=tuple(t.value for t in expr.values))
    if isinstance(expr, ast.AudienceSegment):
        return ir.AudienceSegment(value=expr.value.value)
    if isinstance(expr, ast.AudienceAttribute):
        return ir.AudienceAttributeIn(name=expr.name.value,
                                      values=tuple(t.value for t in expr.values))
    if isinstance(expr, ast.AudienceNot):
        return ir.AudienceNot(arg=_audience(expr.arg))
    args = tuple(_audience(arg) for arg in expr.args)
    return ir.AudienceAnd(args=args) if isinstance(expr, ast.AudienceAll) else ir.AudienceOr(
        args=args)


def _items(expr: ast.ItemExpr | None) -> ir.ItemPredicate | None:
    if expr is None:
        return None
    if isinstance(expr, ast.ItemField):
        values = tuple(t.value for t in expr.values)
        positive = ir.ItemFieldIn.model_validate({"field": expr.field.text, "values": values})
        return ir.ItemNot(arg=positive) if expr.op == "!=" else positive
    if isinstance(expr, ast.ItemAttribute):
        attribute = ir.ItemAttributeIn(name=expr.name.value,
                                       values=tuple(t.value for t in expr.values))
        return ir.ItemNot(arg=attribute) if expr.op == "!=" else attribute
    if isinstance(expr, ast.ItemPrice):
        return ir.ItemPriceCompare.model_validate({"op": expr.op, "amount": expr.amount.value})
    if isinstance(expr, ast.ItemNot):
        inner = _items(expr.arg)
        assert inner is not None
        return ir.ItemNot(arg=inner)
    args = tuple(arg for arg in map(_items, expr.args) if arg is not None)
    return ir.ItemAnd(args=args) if isinstance(expr, ast.ItemAll) else ir.ItemOr(args=args)


def _condition(condition: ast.Condition) -> ir.Condition:
    if isinstance(condition, ast.SubtotalCondition):
        return ir.SubtotalCondition.model_validate(
            {"op": condition.op, "amount": condition.amount.value})
    return ir.QuantityCondition.model_validate(
        {"items": _items(condition.items), "op": condition.op, "count": condition.count.value})


def _effect(effect: ast.Effect) -> ir.Effect:
    kind = effect.kind
    percent = effect.percent.value if effect.percent else None
    amount = effect.amount.value if effect.amount else None
    items = _items(effect.items)
    if kind == "percent_items":
        assert percent is not None
        return ir.PercentOff(percent=percent, target="items", items=items)
    if kind == "percent_basket":
        assert percent is not None
        return ir.PercentOff(percent=percent, target="basket")
    if kind == "amount_basket":
        assert amount is not None
        return ir.AmountOffBasket(amount=amount)
    if kind == "amount_each":
        assert amount is not None
        return ir.AmountOffEach(amount=amount, items=items)
    if kind == "price":
        assert amount is not None
        return ir.PriceOverride(amount=amount, items=items)
    assert effect.first is not None
    if kind == "buy_pay":
        assert effect.second is not None
        return ir.BuyPay(buy=effect.first.value, pay=effect.second.value, items=items)
    if kind == "bundle":
        assert amount is not None
        return ir.BundlePrice(size=effect.first.value, amount=amount, items=items)
    assert kind == "points" and amount is not None
    return ir.Points(points=effect.first.value, per=amount, items=items)


def _tiered(effect: ast.Effect) -> ir.Effect:
    return ir.TieredBasket(tiers=tuple(
        ir.Tier(threshold=tier.threshold.value,
                percent=tier.percent.value if tier.percent else None,
                amount=tier.amount.value if tier.amount else None)
        for tier in effect.tiers))


def _rule(block: ast.Block, file: ast.File, zone: str, publish_at: datetime) -> ir.Rule:
    found = {s.keyword: s.value for s in block.statements if s.keyword != "valid"}
    windows = tuple(_window(s.value, zone, publish_at)  # type: ignore[arg-type]
                    for s in block.statements if s.keyword == "valid")
    effect = found["effect"]
    assert isinstance(effect, ast.Effect)
    limits = found.get("limit")
    fields: dict[str, object] = {
        "id": block.id.text,
        "title": block.title.value,
        "effect": _tiered(effect) if effect.kind == "tiered" else _effect(effect),
        "windows": windows,
        "source": ir.SourceRef(file=file.filename, line=block.pos.line),
    }
    if "stacking" in found:
        fields["stacking"] = found["stacking"].text  # type: ignore[attr-defined]
    if "priority" in found:
        fields["priority"] = found["priority"].value  # type: ignore[attr-defined]
    if "channels" in found:
        fields["channels"] = tuple(sorted({w.text for w in found["channels"]}))  # type: ignore[attr-defined]
    if "stores" in found:
        fields["stores"] = tuple(sorted({t.value for t in found["stores"]}))  # type: ignore[attr-defined]
    if "audience" in found:
        fields["audience"] = _audience(found["audience"])  # type: ignore[arg-type]
    if "coupon" in found:
        fields["coupons"] = tuple(sorted({t.value.upper() for t in found["coupon"]}))  # type: ignore[attr-defined]
    if "when" in found:
        fields["conditions"] = tuple(_condition(c) for c in found["when"])  # type: ignore[attr-defined]
    if limits is not None:
        per_customer, total = cast(tuple[ast.Number | None, ast.Number | None], limits)
        fields["limits"] = ir.UsageLimits(
            per_customer=per_customer.value if per_customer else None,
            total=total.value if total else None)
    return ir.Rule.model_validate(fields)


def _rule_zone(block: ast.Block, file: ast.File) -> str:
    for statement in block.statements:
        if statement.keyword == "timezone":
            assert isinstance(statement.value, ast.Word)
            return statement.value.text
    return file.timezone.text if file.timezone else DEFAULT_TIMEZONE


def compile_file(file: ast.File, publish_at: datetime) -> list[ir.Rule]:
    """The IR rules of a checked file."""
    return [_rule(block, file, _rule_zone(block, file), publish_at) for block in file.blocks]


# --- public entry points ---------------------------------------------------------------


def read_source(path: Path) -> tuple[str | None, Diagnostic | None]:
    """A rule file's text, or a located diagnostic saying why it cannot be read.

    A byte that is not UTF-8 (a file saved as Latin-1, a binary file) is
    reported at its line and column, with the line as far as it can be read.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        return None, Diagnostic(str(path), 1, 1, 2, f"cannot read this file: {reason}", None, "")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line_end = data.find(b"\n", error.start)
        line_text = data[line_start:line_end if line_end >= 0 else len(data)]
        column = len(data[line_start:error.start].decode("utf-8")) + 1
        shown = line_text.decode("utf-8", errors="replace").rstrip("\r")
        if any(char < " " and char != "\t" for char in shown):
            shown = ""  # a binary file: its line would garble the terminal
        return None, Diagnostic(
            str(path), data.count(b"\n", 0, error.start) + 1, column, column + 1,
            f"cannot read this file: byte 0x{data[error.start]:02x} is not UTF-8 text",
            "save the file as UTF-8 (in most editors: Save as, Encoding: UTF-8)",
            shown)


def rule_files(paths: Sequence[str | Path]) -> list[Path]:
    """The ``.rules`` files named: files as given, and every ``.rules`` file under a
    folder (subfolders included), sorted by path."""
    files: list[Path] = []
    for entry in map(Path, paths):
        files.extend(sorted(entry.rglob("*.rules")) if entry.is_dir() else [entry])
    return files


class _RuleSetBuilder:
    """Gathers checked files into one rule set; reports conflicts between files."""

    def __init__(self, publish_at: datetime | None) -> None:
        self.publish_at = publish_at or datetime.now(UTC)
        self.diagnostics: list[Diagnostic] = []
        self.parsed: list[tuple[ast.File, Reporter]] = []
        self.files: list[ast.File] = []

    def add(self, source: str, filename: str) -> None:
        file, reporter = parse_file(source, filename)
        report_invisible(reporter)
        self.parsed.append((file, reporter))

    def _check_files(self) -> None:
        """Check every parsed file; a file without a currency line takes the rule set's
        (the one the other files agree on), so its amounts are checked too."""
        declared = {file.currency.text for file, _ in self.parsed if file.currency}
        shared = next(iter(declared)) if len(declared) == 1 else None
        for file, reporter in self.parsed:
            check_file(file, reporter, shared)
            self.diagnostics.extend(reporter.diagnostics)
            if not reporter.diagnostics:
                self.files.append(file)

    def _cross_file_checks(self) -> str | None:
        currencies = {f.currency.text for f in self.files if f.currency}
        seen: dict[str, tuple[ast.File, ast.Block]] = {}
        for file in self.files:
            reporter = Reporter(file.filename, file.source)
            if file.currency and len(currencies) > 1:
                reporter.error(file.currency.pos,
                               f"this file prices in {file.currency.text}, another in "
                               f"{', '.join(sorted(currencies - {file.currency.text}))}",
                               "a rule set prices in one currency")
            for block in file.blocks:
                owner, original = seen.setdefault(block.id.text, (file, block))
                if owner is not file:
                    reporter.error(block.id.pos, f'rule id "{block.id.text}" is used twice',
                                   f"also in {owner.filename}:{original.id.pos.line}")
            self.diagnostics.extend(reporter.diagnostics)
        if not currencies and self.files and not self.diagnostics:
            self.diagnostics.append(Diagnostic(
                self.files[0].filename, 1, 1, 2, "no currency for these rules",
                "add `currency EUR` (or another code) at the top", ""))
        return next(iter(currencies)) if len(currencies) == 1 else None

    def build(self) -> ir.RuleSet:
        self._check_files()
        currency = self._cross_file_checks()
        if self.diagnostics:
            raise DslError(self.diagnostics)
        assert currency is not None
        rules = [rule for file in self.files for rule in compile_file(file, self.publish_at)]
        zone = next((f.timezone.text for f in self.files if f.timezone), DEFAULT_TIMEZONE)
        return ir.RuleSet(currency=currency, timezone=zone,
                          rules=tuple(sorted(rules, key=lambda r: r.id)))


def compile_source(
    source: str, filename: str = "<string>", *, publish_at: datetime | None = None
) -> ir.RuleSet:
    """Compile one source text. ``publish_at`` starts `from publish` windows (default: now)."""
    builder = _RuleSetBuilder(publish_at)
    builder.add(source, filename)
    return builder.build()


def compile_paths(
    paths: Sequence[str | Path], *, publish_at: datetime | None = None
) -> ir.RuleSet:
    """Compile `.rules` files and folders of them into one rule set."""
    builder = _RuleSetBuilder(publish_at)
    files = rule_files(paths)
    if not files:
        raise DslError([Diagnostic(", ".join(map(str, paths)), 1, 1, 2,
                                   "no .rules file found here", None, "")])
    for path in files:
        source, problem = read_source(path)
        if problem is not None:
            builder.diagnostics.append(problem)
        else:
            assert source is not None
            builder.add(source, str(path))
    return builder.build()


def compile_sources(
    sources: Mapping[str, str], *, publish_at: datetime | None = None
) -> ir.RuleSet:
    """Compile a rule set held as texts by file name (how the rule store keeps it)."""
    if not sources:
        raise DslError([Diagnostic("<source>", 1, 1, 2, "no rules given", None, "")])
    builder = _RuleSetBuilder(publish_at)
    for filename in sorted(sources):
        builder.add(sources[filename], filename)
    return builder.build()


def rule_sources(sources: Mapping[str, str]) -> dict[str, str]:
    """The source text of every rule and price block, by rule id (for diffs).

    A block's text runs from its first to its last line, comments inside
    included. Files that do not parse give no blocks.
    """
    texts: dict[str, str] = {}
    for filename in sorted(sources):
        file, reporter = parse_file(sources[filename], filename)
        if reporter.diagnostics:
            continue
        lines = source_lines(file.source)
        for block in file.blocks:
            texts[block.id.text] = "\n".join(lines[block.pos.line - 1:block.end_line]) + "\n"
    return texts


def check_paths(paths: Sequence[str | Path]) -> list[Diagnostic]:
    """Every diagnostic of these files (empty when they compile)."""
    try:
        compile_paths(paths)
    except DslError as error:
        return error.diagnostics
    return []


__all__ = [
    "check_paths",
    "compile_file",
    "compile_paths",
    "compile_source",
    "compile_sources",
    "read_source",
    "rule_files",
    "rule_sources",
]
