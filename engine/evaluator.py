"""The evaluator: applies a compiled rule set to a basket (docs/semantics.md).

Cost follows the rules relevant to the basket, not the size of the rule set:
rules are indexed per channel and per hour of time (``_ChannelSlice``), and
within that by the SKU, category and brand their items require. The basket's
lines look up their own keys; only those rules, plus the few that cannot be
keyed, are examined. Work that does not depend on the line (store, time,
audience, coupon) is done once per rule, not once per line. Unless the basket
asks to explain, the `best` line rules and the price rules are not all priced:
each line walks them in rank order and stops once no later one can win
(docs/semantics.md §9). Money is counted in whole minor units (int) and turned
back into strings only in the response.
"""

from __future__ import annotations

import functools
import math
import operator
import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .basket import BasketRequest, Customer, Line
from .compiled import CompiledRule, compile_rule, percent_of
from .errors import BasketError
from .instants import epoch_of
from .ir import (
    AmountOffEach,
    BundlePrice,
    BuyPay,
    ItemPredicate,
    PercentOff,
    Points,
    PriceOverride,
    RuleSet,
)
from .money import allocate_units, from_minor
from .predicates import ItemView, describe_audience_miss, describe_items
from .response import build_response, dumps, response_opening, write_response
from .windows import coverage, not_live_reason

HOUR = 3600
MAX_CACHED_SLICES = 64
# Told of each index slice built: its channel, the start of its hour, and whether
# ``Evaluator.prepare`` built it ahead (True) or a basket needed it (False).
SliceBuilt = Callable[[str, datetime, bool], None]


class Item:
    """A basket line while it is being priced (amounts in minor units).

    A plain class, not a dataclass: the compiled build (setup.py) turns its
    ``__init__`` into native code, where a dataclass keeps a generated Python one.
    """

    __slots__ = (
        "adjustments",
        "attributes",
        "brand",
        "category",
        "discount",
        "entries",
        "line",
        "list_unit",
        "locked",
        "matched",
        "multi_counted",
        "multi_discounted",
        "price_rule",
        "quantity",
        "reach",
        "sku",
        "subtotal",
        "unit",
    )

    def __init__(self, line: Line, unit: int) -> None:
        self.line = line
        self.sku: str = line.sku
        self.category: str | None = line.category
        self.brand: str | None = line.brand
        self.attributes: Mapping[str, str] = line.attributes
        self.quantity: int = line.quantity
        self.list_unit = unit
        self.unit = unit
        # What the index holds under the line's SKU, category and brand (those it
        # has and the index knows); set by Evaluator._start.
        self.entries: list[KeyEntry] = []
        self.subtotal = 0
        self.discount = 0
        self.price_rule: CompiledRule | None = None
        self.adjustments: list[tuple[CompiledRule, int]] = []
        self.locked: CompiledRule | None = None  # the exclusive rule that applies alone
        self.multi_counted = 0  # units counted in a multi-unit group
        self.multi_discounted = 0  # units a multi-unit rule discounted
        # The eligible item rules that may match this line (its index keys plus the
        # unkeyed ones): every stage looks only here.
        self.reach: list[CompiledRule] = []
        # The rules of ``reach`` whose items match this line at its final unit
        # price, highest priority first; set once prices are known.
        self.matched: list[CompiledRule] = []

    def matching(self, rules: set[CompiledRule]) -> list[CompiledRule]:
        """The rules of ``rules`` that match this line, highest priority first."""
        return [rule for rule in self.matched if rule in rules]

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    def give(self, rule: CompiledRule, amount: int) -> int:
        """Apply a discount, capped so the line never goes below zero."""
        left = self.subtotal - self.discount
        if amount > left:
            amount = left
        if amount > 0:
            self.discount += amount
            self.adjustments.append((rule, amount))
        return amount


Rules = tuple[CompiledRule, ...]
# What _build_slice gathers under an index key: (rule, checked, family) where checked
# says the rule needs the basket-wide checks and family is _family's.
Gathered = list[tuple[CompiledRule, bool, str | None]]


class KeyEntry:
    """The rules of a slice under one index key: a SKU, a category or a brand.

    One object per key, found with one lookup per line and key and kept on the
    line (Item.entries) for every stage, instead of a table per stage each looked
    up again. Each part is a tuple in the order its stage takes it (the plain parts
    highest priority first, the ranked ones as ``_rank`` sorts them), built once: a
    tuple holds its rules in the object itself and an empty part is the one shared
    empty tuple, so a slice takes about half the memory of a list per part (four
    slices at 10,000 rules: 1.79 MiB against 3.18).
    """

    __slots__ = ("amounts", "checked", "free", "percents", "prices", "ranked_checked",
                 "ranked_free")

    def __init__(self, gathered: Gathered) -> None:
        plain = [(rule, checked) for rule, checked, family in gathered if family is None]
        ranked = [(rule, checked) for rule, checked, family in gathered if family is not None]
        # The rules open to every basket all the hour (CompiledRule.open, live the whole
        # hour), which need no check, and the others, checked once per basket; without
        # the ranked rules (see _family): what a basket that needs no reasons gathers.
        self.free = _by_priority_order([rule for rule, checked in plain if not checked])
        self.checked = _by_priority_order([rule for rule, checked in plain if checked])
        # The ranked rules, in the same two parts: gathered too when a basket asks to
        # explain, walked by their stage otherwise.
        self.ranked_free = _by_priority_order([rule for rule, checked in ranked if not checked])
        self.ranked_checked = _by_priority_order([rule for rule, checked in ranked if checked])
        # The ranked rules by family, for the walks of the price and best stages.
        self.prices = _ranked("price", gathered)
        self.percents = _ranked("percent", gathered)
        self.amounts = _ranked("amount", gathered)


def _by_priority_order(rules: list[CompiledRule]) -> Rules:
    rules.sort(key=_by_priority)
    return tuple(rules)


def _ranked(family: str, gathered: Gathered) -> Rules:
    rules = [rule for rule, _, of in gathered if of == family]
    if rules:
        _rank(family, rules)
    return tuple(rules)


@dataclass(slots=True)
class _ChannelSlice:
    """The rules of one channel that can be live during one hour of time."""

    # The index: the line's SKU, category and brand, each looked up in its own table
    # with the line's own string (no key to build per line).
    skus: dict[str, KeyEntry]
    categories: dict[str, KeyEntry]
    brands: dict[str, KeyEntry]
    # The rules no item key indexes (basket-wide offers, mostly), highest priority
    # first, in two parts as a KeyEntry has them: ``always_free`` need no check per
    # basket (no store, audience or coupon, live the whole hour), ``always_checked``
    # are checked once per basket. At 100,000 rules a slice holds ~80 of them, ~50 free.
    always_free: list[CompiledRule]
    always_checked: list[CompiledRule]
    # Rules that no item key indexes but that need a coupon: found by the code,
    # so a basket without that code never looks at them.
    by_coupon: dict[str, list[CompiledRule]]
    # Rules live during only part of the hour: their window is checked exactly
    # per basket. Every other rule of the slice is live for the whole hour.
    partly_live: set[CompiledRule]


class Evaluation:
    """Everything decided while pricing one basket; the response is read from it.

    A plain class for the same reason as ``Item``.
    """

    __slots__ = (
        "_canonical",
        "basket_subtotal",
        "candidates",
        "epoch",
        "given",
        "item_subtotal",
        "items",
        "lines_of",
        "list_subtotal",
        "notes",
        "partly_live",
        "points",
        "prices_set",
        "ranked",
        "request",
        "track",
        "verdicts",
    )

    def __init__(self, request: BasketRequest, epoch: float, items: list[Item], track: bool,
                 partly_live: set[CompiledRule], ranked: bool) -> None:
        self.request = request
        self.epoch = epoch  # request.at as a POSIX timestamp
        self.items = items
        self.candidates: list[CompiledRule] = []  # set by Evaluator._start
        self.track = track  # keep the reasons why rules did not apply (explain, coupons)
        # The basket-wide checks (eligible), memoised: rule -> verdict.
        self.verdicts: dict[CompiledRule, bool] = {}
        self.partly_live = partly_live  # the rules whose window is checked exactly
        # The ranked rules are walked by their stage from the lines' entries (False:
        # they are candidates like the others, for an explained basket).
        self.ranked = ranked
        self.list_subtotal = 0
        self.item_subtotal = 0  # after prices, before discounts
        self.basket_subtotal = 0  # after line discounts
        self.given: dict[str, int] = {}  # rule id -> amount
        self.points: dict[str, int] = {}  # rule id -> points
        self.prices_set: dict[str, list[str]] = {}  # rule id -> line ids
        self.notes: dict[str, str] = {}  # rule id -> why it gave nothing
        self._canonical: list[Item] | None = None
        # multi-unit rule -> the lines it matches at their final prices (filled with prices)
        self.lines_of: dict[CompiledRule, list[Item]] = {}

    def canonical_items(self) -> list[Item]:
        """The lines in an order that does not depend on the request's: by id (a basket's
        line ids are unique, engine/basket.py).

        Every stage walks the lines in this order, so that what it notes (the
        first reason a rule lost) never depends on how the request was sorted.
        """
        if self._canonical is None:
            self._canonical = sorted(self.items, key=_line_id)
        return self._canonical

    def eligible(self, rule: CompiledRule) -> bool:
        """Whether the basket-wide checks let ``rule`` apply (checked once per basket).

        A method rather than a closure made by ``_start``: in the compiled build the
        closure and its environment referred to each other, a reference cycle per
        basket that kept the basket alive until the cyclic collector came by.
        """
        verdict = self.verdicts.get(rule)
        if verdict is None:
            verdict = self.verdicts[rule] = _eligible(rule, self.request, self.epoch,
                                                      rule in self.partly_live)
        return verdict

    def note(self, rule: CompiledRule, reason: str, *args: object) -> None:
        """Keep why ``rule`` gave nothing (``reason.format(*args)``), when anyone asks.

        Formatting waits until it is needed: the hot path mostly does not track.
        """
        if self.track and rule.id not in self.given and rule.id not in self.notes:
            self.notes[rule.id] = reason.format(*args) if args else reason

    def add(self, rule: CompiledRule, amount: int) -> None:
        if amount > 0:
            self.given[rule.id] = self.given.get(rule.id, 0) + amount
            if self.track:  # otherwise ``note`` kept nothing to take back
                self.notes.pop(rule.id, None)


class Evaluator:
    """A rule set compiled and indexed once; ``evaluate`` is pure and thread-safe."""

    def __init__(self, ruleset: RuleSet, *, reuse: Evaluator | None = None,
                 on_slice_built: SliceBuilt | None = None) -> None:
        """``reuse``: the evaluator of the previous version, whose compiled rules are
        taken over for every rule object both versions share (see RuleSetReader).
        ``on_slice_built``: told of each index slice built (a server counts them); it
        runs in the thread that built the slice, a basket's among them, so it must be
        quick and must not raise."""
        self.ruleset = ruleset
        self.currency = ruleset.currency
        known = ({id(c.rule): c for c in reuse.rules}
                 if reuse is not None and reuse.currency == ruleset.currency else {})
        self.rules: list[CompiledRule] = [
            known.get(id(rule)) or compile_rule(rule, ruleset.currency) for rule in ruleset.rules]
        self.by_coupon: dict[str, list[CompiledRule]] = {}
        for rule in sorted(self.rules, key=lambda r: r.id):
            for code in rule.coupons:
                self.by_coupon.setdefault(code, []).append(rule)
        # rule id -> title: what the response names the rules that gave something.
        self.titles = {rule.id: rule.title for rule in self.rules}
        # What evaluate_json writes without building the response: see response.py.
        self.by_id = {rule.id: rule for rule in self.rules}
        self.opening = response_opening(ruleset)
        self.on_slice_built = on_slice_built
        # (channel, hour since the epoch) -> its slice, oldest cached first
        self._slices: dict[tuple[str, int], _ChannelSlice] = {}
        self._lock = threading.Lock()
        self._explain_keys: tuple[dict[tuple[str, str | None], list[CompiledRule]],
                                  list[CompiledRule]] | None = None

    # --- the index -----------------------------------------------------------------

    def prepare(self, at: datetime, channels: Iterable[str] | None = None) -> int:
        """Build the index slices of the hour containing ``at`` that are not cached yet,
        before any basket needs them; returns how many it built.

        A server calls it shortly before each hour turns, so that the first basket of
        the hour finds its slice ready instead of building it while it and the baskets
        behind it wait. ``channels``: by default those of the slices already cached
        (the channels baskets came from). A prepared slice is the very one a basket
        would have built, so the answers are the same.

        Preparing never evicts a slice of the hour before ``at``'s (the hour in
        progress, whose baskets are still arriving) nor of ``at``'s own: when the
        cache is full of those, it builds no more.
        """
        if at.tzinfo is None:
            raise ValueError("prepare needs an instant with a time zone")
        hour = int(epoch_of(at) // HOUR)
        with self._lock:
            cached = {channel for channel, _ in self._slices}
        wanted = sorted(cached) if channels is None else list(dict.fromkeys(channels))
        built = 0
        for channel in wanted:
            key = (channel, hour)
            if key in self._slices:
                continue
            # Built outside the lock: a basket that needs some other slice meanwhile
            # (a replay, say) need not wait for this one.
            index = self._build_slice(channel, hour * HOUR)
            outcome = self._cache_prepared(key, index, protected=(hour - 1, hour))
            if outcome == "full":
                break
            if outcome == "cached":
                built += 1
                self._built(key, ahead=True)
        return built

    def _cache_prepared(self, key: tuple[str, int], index: _ChannelSlice,
                        protected: Container[int]) -> str:
        """Cache a prepared slice: "cached", "there" (a basket needed it meanwhile and
        built it) or "full" (only protected slices to make room with). A function of
        its own because the compiled build cannot leave a loop from inside ``with``."""
        with self._lock:
            if key in self._slices:
                return "there"
            return "cached" if self._cache(key, index, protected) else "full"

    def cached_slices(self) -> list[tuple[str, datetime]]:
        """The index slices cached, as (channel, start of their hour in UTC), sorted."""
        with self._lock:
            keys = list(self._slices)
        return sorted((channel, datetime.fromtimestamp(hour * HOUR, UTC))
                      for channel, hour in keys)

    def _slice(self, channel: str, epoch: float) -> _ChannelSlice:
        key = (channel, int(epoch // HOUR))
        found = self._slices.get(key)
        if found is None:
            found = self._build_on_demand(key)
        return found

    def _build_on_demand(self, key: tuple[str, int]) -> _ChannelSlice:
        """The slice a basket needs and nobody built yet. Built under the lock, so that
        the baskets arriving together at the turn of an hour wait for one build instead
        of each making its own."""
        with self._lock:
            found = self._slices.get(key)
            if found is not None:  # built while this basket waited for the lock
                return found
            found = self._build_slice(key[0], key[1] * HOUR)
            self._cache(key, found, protected=())
        self._built(key, ahead=False)
        return found

    def _cache(self, key: tuple[str, int], index: _ChannelSlice,
               protected: Container[int]) -> bool:
        """Cache a new slice (under the lock). When the cache is full, the oldest slice
        whose hour is not ``protected`` makes room; if there is none, the new slice is
        not cached (False)."""
        if len(self._slices) >= MAX_CACHED_SLICES:
            victim = next((cached for cached in self._slices if cached[1] not in protected),
                          None)
            if victim is None:
                return False
            del self._slices[victim]
        self._slices[key] = index
        return True

    def _built(self, key: tuple[str, int], *, ahead: bool) -> None:
        if self.on_slice_built is not None:
            self.on_slice_built(key[0], datetime.fromtimestamp(key[1] * HOUR, UTC), ahead)

    def _build_slice(self, channel: str, hour_start: int) -> _ChannelSlice:
        tables: dict[str, dict[str, Gathered]] = {"sku": {}, "category": {}, "brand": {}}
        # The rules no item key indexes, in the two parts of a KeyEntry (_ChannelSlice).
        always_free: list[CompiledRule] = []
        always_checked: list[CompiledRule] = []
        by_coupon: dict[str, list[CompiledRule]] = {}
        partly_live: set[CompiledRule] = set()
        for rule in self.rules:
            low, high = rule.envelope
            if high <= hour_start or low >= hour_start + HOUR:
                continue
            if rule.channels is not None and channel not in rule.channels:
                continue
            covered = coverage(rule.rule.windows, hour_start, hour_start + HOUR)
            if covered == "none":
                continue
            if covered == "partial":
                partly_live.add(rule)
            if rule.keys is None and rule.coupons:
                for code in rule.coupons:
                    by_coupon.setdefault(code, []).append(rule)
                continue
            checked = covered == "partial" or not rule.open
            if rule.keys is None:
                (always_checked if checked else always_free).append(rule)
                continue
            family = _family(rule)
            for field, value in rule.keys:
                tables[field].setdefault(value, []).append((rule, checked, family))
        skus, categories, brands = (
            {value: KeyEntry(gathered) for value, gathered in tables[field].items()}
            for field in ("sku", "category", "brand"))
        # Stages take rules highest priority first and sort what a basket gathers;
        # gathered from lists already in that order, the sort finds sorted runs to
        # merge instead of comparing every pair (a basket's basket rules come from
        # the two parts of ``always``, two runs, unless it brings a coupon).
        always_free.sort(key=_by_priority)
        always_checked.sort(key=_by_priority)
        return _ChannelSlice(skus, categories, brands, always_free, always_checked, by_coupon,
                             partly_live)

    def _start(self, request: BasketRequest, items: list[Item], explain: bool) -> Evaluation:
        """The evaluation with its candidate rules; fills each line's ``reach``.

        Each rule is checked for eligibility at most once per basket, however
        many lines look it up. Unless the basket asks to ``explain``, the ranked
        rules stay out of the candidates: their stages walk them in order and
        stop early (none of them needs a coupon, so the coupon report is whole).
        """
        epoch = epoch_of(request.at)
        index = self._slice(request.channel, epoch)
        partly_live = index.partly_live
        evaluation = Evaluation(request, epoch, items, explain or bool(request.coupons),
                                partly_live, not explain)
        found: dict[CompiledRule, None] = {}
        unindexed = index.always_checked
        if request.coupons and index.by_coupon:
            with_coupon = (index.by_coupon.get(code, ()) for code in request.coupons)
            unindexed = [*unindexed, *dict.fromkeys(r for rules in with_coupon for r in rules)]
        always = [*index.always_free, *[rule for rule in unindexed if evaluation.eligible(rule)]]
        found.update(dict.fromkeys(always))
        unkeyed = [rule for rule in always if rule.level != "basket"]
        skus, categories, brands = index.skus, index.categories, index.brands
        for item in items:
            entries = item.entries
            entry = skus.get(item.sku)
            if entry is not None:
                entries.append(entry)
            if item.category is not None:
                entry = categories.get(item.category)
                if entry is not None:
                    entries.append(entry)
            if item.brand is not None:
                entry = brands.get(item.brand)
                if entry is not None:
                    entries.append(entry)
            # A list, not a dict: most lines gather a rule or none, and only a line
            # with two entries can hold a rule twice (found under its SKU and its
            # category, say).
            reach: list[CompiledRule] = []
            for entry in entries:
                _gather(evaluation, reach, entry.free, entry.checked)
                if explain:
                    _gather(evaluation, reach, entry.ranked_free, entry.ranked_checked)
            if reach:
                if len(reach) > 1 and len(entries) > 1:
                    reach = list(dict.fromkeys(reach))
                for rule in reach:
                    found[rule] = None
                item.reach = reach + unkeyed if unkeyed else reach
            else:
                item.reach = unkeyed
        evaluation.candidates = list(found)
        return evaluation

    # --- evaluation ------------------------------------------------------------------

    def evaluate(self, request: BasketRequest, *, explain: bool = False) -> dict[str, Any]:
        """The response of the evaluation contract, as data."""
        evaluation = self._priced(request, explain)
        explained = self._explain(evaluation) if explain else None
        return build_response(
            self.ruleset, self.titles, evaluation, self._coupon_report(evaluation), explained)

    def evaluate_json(self, request: BasketRequest, *, explain: bool = False) -> str:
        """``dumps(self.evaluate(request, explain=explain))``, the same text, written
        straight from the evaluation (response.write_response): what a server sends.
        ``explain`` answers are built as data first; they are not the hot path."""
        if explain:
            return dumps(self.evaluate(request, explain=True))
        evaluation = self._priced(request, False)
        return write_response(self.opening, self.by_id, evaluation,
                              self._coupon_report(evaluation))

    def _priced(self, request: BasketRequest, explain: bool) -> Evaluation:
        """Every stage of pricing run over ``request``; the response is read from it."""
        if request.currency != self.currency:
            raise BasketError(
                "currency", f"the rules price in {self.currency}, the basket is in "
                            f"{request.currency}")
        items = [self._item(line) for line in request.lines]
        evaluation = self._start(request, items, explain)
        by_level: dict[str, list[CompiledRule]] = {}
        for rule in evaluation.candidates:
            by_level.setdefault(rule.level, []).append(rule)
        # Only these two stages take rules one after another, highest priority
        # first; the others choose per line (lines keep their rules in order).
        multi = sorted(by_level.get("multi", []), key=_by_priority)
        basket = sorted(by_level.get("basket", []), key=_by_priority)
        _apply_prices(evaluation, by_level.get("price", []))
        _apply_line_discounts(evaluation, by_level.get("item", []), multi)
        _apply_basket_discounts(evaluation, basket)
        _apply_points(evaluation, by_level.get("points", []))
        return evaluation

    def _item(self, line: Line) -> Item:
        # In the rule set's minor units: evaluate() checked the currencies match.
        return Item(line, line.unit_minor)

    # --- why (explain and coupons) -------------------------------------------------

    def why_not(self, rule: CompiledRule, evaluation: Evaluation) -> str:
        """The first reason, in the order of docs/semantics.md §1, a rule gave nothing."""
        return _why_not(rule, evaluation, _stopped_at(rule, evaluation))

    def _explain(self, evaluation: Evaluation) -> list[dict[str, str]]:
        """Why each rule that can matter to the basket applied or not (_spoken_of)."""
        explained = []
        for rule in self._spoken_of(evaluation.request):
            applied = _applied_reason(rule, evaluation, self.currency)
            explained.append({
                "rule": rule.id, "title": rule.title,
                "status": "applied" if applied else "not_applied",
                "reason": applied or self.why_not(rule, evaluation),
            })
        return explained

    def _spoken_of(self, request: BasketRequest) -> list[CompiledRule]:
        """The rules ``explain`` speaks of, by id: those of the basket's channel and store
        (_explained) that a line of the basket has an index key of, or that no key
        indexes (basket-wide offers, items named by attribute or price alone), and those
        behind the codes it presents.

        A rule on boots says nothing to a basket without boots: with 10,000 rules,
        listing every rule of the channel made an explained 20-line basket a 1 MB answer
        that took a worker 0.2 s, nearly all of it rules on other items.
        """
        by_key, unkeyed = self._explain_index()
        found: dict[CompiledRule, None] = dict.fromkeys(unkeyed)
        for line in request.lines:
            for key in (("sku", line.sku), ("category", line.category),
                        ("brand", line.brand)):
                found.update(dict.fromkeys(by_key.get(key, ())))
        for code in request.coupons:
            found.update(dict.fromkeys(self.by_coupon.get(code, ())))
        return sorted((rule for rule in found if _explained(rule, request)),
                      key=lambda rule: rule.id)

    def _explain_index(self) -> tuple[dict[tuple[str, str | None], list[CompiledRule]],
                                      list[CompiledRule]]:
        """Every rule under each index key it has (CompiledRule.keys: a line that matches
        it has one of them), whatever its channel or window, and the rules with none.
        Built by the first basket that asks to explain: a server that is never asked
        does not keep it. Two baskets building it at once build the same."""
        if self._explain_keys is None:
            by_key: dict[tuple[str, str | None], list[CompiledRule]] = {}
            unkeyed: list[CompiledRule] = []
            for rule in self.rules:
                if rule.keys is None:
                    unkeyed.append(rule)
                for key in rule.keys or ():
                    by_key.setdefault(key, []).append(rule)
            self._explain_keys = (by_key, unkeyed)
        return self._explain_keys

    def _coupon_report(self, evaluation: Evaluation) -> list[dict[str, str]]:
        report = []
        for code in dict.fromkeys(evaluation.request.coupons):
            rules = self.by_coupon.get(code, [])
            if any(_applied_reason(rule, evaluation, self.currency) for rule in rules):
                report.append({"code": code, "status": "applied"})
            elif rules:
                # Of the rules behind the code, the one that got furthest says why (a
                # till's basket is told its subtotal is short, not that a web-only
                # rule sharing the code is for the web); ties: the smallest id.
                stopped = [_stopped_at(rule, evaluation) for rule in rules]
                furthest = stopped.index(max(stopped))
                reason = _why_not(rules[furthest], evaluation, stopped[furthest])
                report.append({"code": code, "status": "rejected", "reason": reason})
            else:
                report.append({"code": code, "status": "rejected", "reason": "unknown coupon"})
        return report


# The checks a rule goes through, in the order of docs/semantics.md §1; the first that
# fails says why the rule gave nothing.
CHANNEL, STORE, TIME, AUDIENCE, COUPON, CONDITION, ITEMS, STAGES = range(8)


def _stopped_at(rule: CompiledRule, evaluation: Evaluation) -> int:
    """The first check ``rule`` failed (STAGES: none, its stage decided)."""
    request = evaluation.request
    if rule.channels is not None and request.channel not in rule.channels:
        return CHANNEL
    if rule.stores is not None and request.store not in rule.stores:
        return STORE
    if rule.live is not None and not rule.live(request.at, evaluation.epoch):
        return TIME
    if rule.rule.audience is not None and not rule.audience(request.customer):
        return AUDIENCE
    if rule.coupons and rule.coupons.isdisjoint(request.coupons):
        return COUPON
    if rule.conditions and _failed_condition(rule, evaluation):
        return CONDITION
    if not any(_items_match(rule, item) for item in evaluation.items):
        return ITEMS
    return STAGES


def _explained(rule: CompiledRule, request: BasketRequest) -> bool:
    """Whether ``explain`` speaks of ``rule``: a rule of the basket's channel and store,
    or one behind a code the basket presents (its channel or store is then the reason).

    A store device's bundle holds the rules of its channel and store and every coupon
    rule (rules/bundles.py, ``applies_to``): listing another channel's or store's
    offers here would make the server's answer differ from the device's (DESIGN §7),
    and would tell a till about the web's promotions.
    """
    if rule.coupons and not rule.coupons.isdisjoint(request.coupons):
        return True
    if rule.channels is not None and request.channel not in rule.channels:
        return False
    return rule.stores is None or request.store in rule.stores


def _why_not(rule: CompiledRule, evaluation: Evaluation, stopped: int) -> str:
    """Why ``rule`` gave nothing, said as a cashier reads it, given where it stopped."""
    request = evaluation.request
    if stopped == CHANNEL:
        return f"channel: only {', '.join(sorted(rule.channels or ()))}"
    if stopped == STORE:
        return f"store: only {', '.join(sorted(rule.stores or ()))}"
    if stopped == TIME:
        return not_live_reason(rule.rule.windows, request.at)
    if stopped == AUDIENCE:
        return "audience: " + _audience_reason(rule, request.customer)
    if stopped == COUPON:
        # Never the code: an explained answer reaches any channel key (a web front, an
        # app), and a staff or influencer code must not leak through it.
        return "needs a coupon code"
    if stopped == CONDITION:
        return _failed_condition(rule, evaluation)
    if stopped == ITEMS:
        return _no_item_reason(rule, request.currency)
    noted = evaluation.notes.get(rule.id)
    if noted is not None:
        return noted
    if rule.level == "multi" and rule.rule.effect.kind == "bundle":
        # Its groups were counted (too few units, or lines held, are noted) and not one
        # saved anything: each costs no more than the bundle price already.
        return (f"a group of {rule.group} matching units costs no more than the bundle "
                f"price, {from_minor(rule.amount, request.currency)} {request.currency}")
    if rule.level == "multi":
        # Its groups were counted and the units they make free, the cheapest of each
        # group, are free already (a gift line at 0.00): the lines still have money left.
        return (f"the units it makes free cost {from_minor(0, request.currency)} "
                f"{request.currency}")
    return "nothing left to discount on the lines it matches"


def _no_item_reason(rule: CompiledRule, currency: str) -> str:
    """Why a rule found no line to work on, naming the items it wants in the rule's own
    words, so the cashier can tell the customer what would qualify."""
    items = _effect_items(rule)
    if items is None:  # every line matches: said for completeness
        return "no item in the basket matches"
    return f"needs items where {describe_items(items, currency)}, basket has none"


def _effect_items(rule: CompiledRule) -> ItemPredicate | None:
    """The items a rule's effect works on (None: every line, or a basket effect)."""
    effect = rule.rule.effect
    if isinstance(effect, PercentOff | AmountOffEach | PriceOverride | BuyPay | BundlePrice
                  | Points):
        return effect.items
    return None


def _items_match(rule: CompiledRule, item: Item) -> bool:
    """Whether the rule's items take this line: a price rule reads it as sent (§4)."""
    if rule.level == "basket":
        return True
    if rule.level == "price":
        return rule.items(_AsSent(item))
    return rule.items(item)


class _AsSent:
    """A line at the unit price the channel sent: what a price rule's items read."""

    __slots__ = ("attributes", "brand", "category", "quantity", "sku", "unit")

    def __init__(self, item: Item) -> None:
        self.sku, self.category, self.brand = item.sku, item.category, item.brand
        self.attributes, self.quantity, self.unit = item.attributes, item.quantity, item.list_unit


def _gather(evaluation: Evaluation, reach: list[CompiledRule], free: Rules,
            checked: Rules) -> None:
    """Add to a line's ``reach`` the rules of one of its entries that the basket-wide
    checks let apply: ``free`` ones need no check, ``checked`` ones are checked once
    per basket."""
    reach.extend(free)
    verdicts = evaluation.verdicts
    for rule in checked:
        verdict = verdicts.get(rule)  # evaluation.eligible, inlined: the hottest loop
        if verdict is None:
            verdict = verdicts[rule] = _eligible(rule, evaluation.request, evaluation.epoch,
                                                 rule in evaluation.partly_live)
        if verdict:
            reach.append(rule)


# Highest priority first, then the smallest id (CompiledRule.sort_key); attrgetter
# sorts without a Python call per rule.
_by_priority = operator.attrgetter("sort_key")
# The canonical order of lines, whatever the request's: by id (unique in a basket; one
# string per line compares faster than an (id, SKU) tuple). An attrgetter for the same
# reason (a lambda cost ~1,000 instructions a line, compiled).
_line_id = operator.attrgetter("line.id")


def _family(rule: CompiledRule) -> str | None:
    """The family of a keyed rule whose stage can rank it without pricing the others.

    On one line, a larger percentage never gives less ("percent"), nor does a
    larger amount off each unit ("amount"); a price rule wins by priority,
    revision and id alone ("price"). Other rules are not ranked (None), nor
    are rules behind a coupon: a basket that brings the code is told why the
    rule did not apply, so such a rule is always priced.
    """
    if rule.keys is None or rule.coupons:
        return None
    if rule.level == "price":
        return "price"
    if rule.level != "item" or rule.stacking != "best":
        return None
    return "percent" if rule.percent is not None else "amount"


def _price_rank(rule: CompiledRule) -> tuple[int, int, str]:
    """Which price rule sets a line's price: highest priority, then the most recently
    changed rule, then the smallest id."""
    return (-rule.priority, -rule.rule.revision, rule.id)


def _rank(family: str, rules: list[CompiledRule]) -> None:
    """Sort one index key's rules of a family in the order their stage compares them:
    the larger percentage or amount first, then the best stage's own tie-breaks;
    price rules by _price_rank."""
    if family == "price":
        rules.sort(key=_price_rank)
    elif family == "amount":
        rules.sort(key=lambda rule: (-rule.amount, -rule.priority, rule.id))
    else:
        # Exact ratios scaled to one denominator sort as plain integers (sorting
        # by Fraction cost a live reload of 10,000 rules ~0.1 s).
        scale = math.lcm(*(_percent(rule)[1] for rule in rules))
        # A partial, not a closure: the compiled build makes a closure and its
        # environment refer to each other, a garbage cycle per sort.
        rules.sort(key=functools.partial(_percent_order, scale))


def _percent_order(scale: int, rule: CompiledRule) -> tuple[int, int, str]:
    """A percent rule's place: the larger percentage first (ratios scaled to ``scale``,
    a common denominator), then the best stage's tie-breaks."""
    numerator, denominator = _percent(rule)
    return (-numerator * (scale // denominator), -rule.priority, rule.id)


def _percent(rule: CompiledRule) -> tuple[int, int]:
    assert rule.percent is not None  # a "percent" family rule
    return rule.percent


def _eligible(rule: CompiledRule, request: BasketRequest, epoch: float, check_time: bool
              ) -> bool:
    """The checks that do not depend on amounts: store, time, audience, coupon."""
    if rule.stores is not None and request.store not in rule.stores:
        return False
    if check_time and rule.live is not None and not rule.live(request.at, epoch):
        return False
    if not rule.audience(request.customer):
        return False
    return not rule.coupons or not rule.coupons.isdisjoint(request.coupons)


def _audience_reason(rule: CompiledRule, customer: Customer | None) -> str:
    audience = rule.rule.audience
    assert audience is not None
    return describe_audience_miss(audience, customer)


def _applied_reason(rule: CompiledRule, evaluation: Evaluation, currency: str) -> str:
    if rule.id in evaluation.given:
        amount = from_minor(evaluation.given[rule.id], currency)
        return f"applied: {amount} {currency} off"
    if evaluation.points.get(rule.id):
        return f"applied: {evaluation.points[rule.id]} points"
    if rule.id in evaluation.prices_set:
        return "applied: price set on line " + ", ".join(evaluation.prices_set[rule.id])
    return ""


def _stage_subtotal(rule: CompiledRule, evaluation: Evaluation) -> int:
    if rule.level == "price":
        return evaluation.list_subtotal
    if rule.level == "basket":
        return evaluation.basket_subtotal
    return evaluation.item_subtotal


def _stage_items(rule: CompiledRule, evaluation: Evaluation) -> Sequence[ItemView]:
    """The lines as a rule's conditions read them: a price rule's at the prices sent (its
    conditions are weighed before any price is set, _apply_prices), the others' at the
    prices set."""
    if rule.level == "price":
        return [_AsSent(item) for item in evaluation.items]
    return evaluation.items


def _failed_condition(rule: CompiledRule, evaluation: Evaluation) -> str:
    """The first basket condition that does not hold, said as the cashier reads it."""
    subtotal = _stage_subtotal(rule, evaluation)
    currency = evaluation.request.currency
    items = _stage_items(rule, evaluation)
    for condition in rule.conditions:
        value = condition.value(subtotal, items)
        if not condition.holds(value):
            if condition.kind == "subtotal":
                return f"needs {condition.text}, basket is {from_minor(value, currency)} {currency}"
            return f"needs {condition.text}, basket has {value}"
    return ""


def _conditions_hold(rule: CompiledRule, subtotal: int, items: Sequence[Item]) -> bool:
    """Whether the rule's basket conditions all hold at its stage's ``subtotal``."""
    return not rule.conditions or all(
        c.holds(c.value(subtotal, items)) for c in rule.conditions)


def _holding(rules: list[CompiledRule], subtotal: int, items: Sequence[Item]
             ) -> list[CompiledRule]:
    """The rules whose basket conditions all hold at this stage's subtotal."""
    return [rule for rule in rules if _conditions_hold(rule, subtotal, items)]


# --- 1. prices -----------------------------------------------------------------------


def _apply_prices(evaluation: Evaluation, rules: list[CompiledRule]) -> None:
    items = evaluation.items
    evaluation.list_subtotal = sum(item.list_unit * item.quantity for item in items)
    live = set(_holding(rules, evaluation.list_subtotal, items))
    lines = evaluation.canonical_items()
    # Every line's price rule is chosen before any price is set: a price rule's
    # conditions and items read the basket at the prices the channel sent (§4), so a
    # line priced first must not change what decides the next one. (Ranked rules'
    # conditions are checked as the walk meets them; they read list prices too.)
    for item in lines:
        item.price_rule = _price_rule_of(evaluation, item, live)
    for item in lines:
        price_rule = item.price_rule
        if price_rule is not None:
            item.unit = price_rule.amount
            evaluation.prices_set.setdefault(price_rule.id, []).append(item.line.id)
        item.subtotal = item.unit * item.quantity
        # A keyed rule in reach was found under one of the line's keys: when those
        # keys decide its items (exact), the predicate need not run.
        matched = [rule for rule in item.reach
                   if rule.level != "price" and (rule.exact or rule.items(item))]
        if len(matched) > 1:
            matched.sort(key=_by_priority)
        item.matched = matched
        for rule in matched:
            if rule.level == "multi":
                evaluation.lines_of.setdefault(rule, []).append(item)
    evaluation.item_subtotal = sum(item.subtotal for item in items)


def _price_rule_of(evaluation: Evaluation, item: Item, live: set[CompiledRule]
                   ) -> CompiledRule | None:
    """The price rule that sets this line's price, if any (``live``: the candidates whose
    conditions hold; the ranked ones are walked under the line's keys)."""
    matching = [r for r in item.reach if r in live and r.items(item)] if live else None
    if evaluation.ranked:
        for entry in item.entries:
            listed = entry.prices
            first = _first_price_rule(evaluation, item, listed) if listed else None
            if first is not None:
                if matching is None:
                    matching = []
                matching.append(first)
    if not matching:
        return None
    if len(matching) == 1:
        return matching[0]
    winner = min(matching, key=_price_rank)
    if evaluation.track:
        for rule in matching:
            if rule is not winner:
                evaluation.note(rule, "another price rule set the price of line {}: {}",
                                item.line.id, winner.id)
    return winner


# --- 2. line discounts ---------------------------------------------------------------


def _apply_line_discounts(
    evaluation: Evaluation, item_rules: list[CompiledRule], multi_rules: list[CompiledRule]
) -> None:
    items = evaluation.items
    subtotal = evaluation.item_subtotal
    item_rules = _holding(item_rules, subtotal, items)
    multi_rules = _holding(multi_rules, subtotal, items)
    exclusive = {r for r in item_rules if r.stacking == "exclusive"}
    if any(rule.stacking == "exclusive" for rule in multi_rules):
        multi_rules = _apply_exclusive_levels(evaluation, exclusive, multi_rules)
    else:
        _apply_exclusive(evaluation, exclusive)
    for rule in multi_rules:
        _apply_multi_unit(evaluation, rule)
    _apply_best(evaluation, {r for r in item_rules if r.stacking == "best"})
    _apply_stackable(evaluation, {r for r in item_rules if r.stacking == "stackable"})
    evaluation.basket_subtotal = sum(item.total for item in items)


def _apply_exclusive_levels(evaluation: Evaluation, item_rules: set[CompiledRule],
                            multi_rules: list[CompiledRule]) -> list[CompiledRule]:
    """Exclusive item and multi-unit rules together, highest priority first, so that the
    highest-priority exclusive rule is the one that applies alone (DESIGN §2); at one
    priority the multi-unit rules first, as their groups span lines. Returns the
    multi-unit rules left for the next step."""
    exclusive_multi = [rule for rule in multi_rules if rule.stacking == "exclusive"]
    levels = sorted({rule.priority for rule in exclusive_multi}
                    | {rule.priority for rule in item_rules}, reverse=True)
    for level in levels:
        for rule in exclusive_multi:  # highest priority first, then the smallest id
            if rule.priority == level:
                _apply_multi_unit(evaluation, rule)
        _apply_exclusive(evaluation, {rule for rule in item_rules if rule.priority == level})
    return [rule for rule in multi_rules if rule.stacking != "exclusive"]


def _apply_exclusive(evaluation: Evaluation, rules: set[CompiledRule]) -> None:
    if not rules:
        return
    for item in evaluation.canonical_items():
        if not item.matched:
            continue
        if item.locked is not None:  # by a rule of higher priority (_apply_exclusive_levels)
            if evaluation.track:
                for rule in item.matching(rules):
                    _note_locked(evaluation, rule, item, "an exclusive rule applied on line {}: {}")
            continue
        offers = [(rule, rule.item_discount(item, item.quantity))
                  for rule in item.matching(rules)]
        if not offers:
            continue
        # Highest priority; ties: the larger discount, then the smaller id.
        winner, amount = min(offers, key=lambda o: (-o[0].priority, -o[1], o[0].id))
        item.locked = winner
        given = item.give(winner, amount)
        if given:
            evaluation.add(winner, given)
        elif evaluation.track:
            _note_nothing(evaluation, winner, item)
        if evaluation.track:
            for rule, _ in offers:
                if rule is not winner:
                    _note_locked(evaluation, rule, item, "an exclusive rule applied on line {}: {}")


def _unit_runs(evaluation: Evaluation, rule: CompiledRule) -> list[tuple[Item, int]]:
    """The units a multi-unit rule may count: most expensive first (ties: SKU, line id)."""
    runs = []
    lines = evaluation.lines_of.get(rule, [])
    for item in sorted(lines, key=lambda i: (-i.unit, i.sku, i.line.id)):
        available = item.quantity - item.multi_counted
        if item.locked is not None:
            if evaluation.track:
                _note_locked(evaluation, rule, item, "an exclusive rule applied on line {}: {}")
        elif available > 0:
            runs.append((item, available))
    return runs


def _note_too_few_units(evaluation: Evaluation, rule: CompiledRule, pool: int) -> None:
    """Why a multi-unit rule counted no group: ``pool`` units, fewer than its group,
    perhaps because another multi-unit rule counted the others first."""
    wanted = _units_wanted(rule, evaluation.request.currency)
    if any(item.multi_counted for item in evaluation.lines_of.get(rule, [])):
        evaluation.note(rule, "needs {}, basket has {} not already counted by another "
                              "multi-unit rule", wanted, pool)
    else:
        evaluation.note(rule, "needs {}, basket has {}", wanted, pool)


def _units_wanted(rule: CompiledRule, currency: str) -> str:
    """"3 units of items where category = "socks"": which units a group is made of, in
    the rule's own words (a cashier sees which items would complete it)."""
    items = _effect_items(rule)
    which = f" of items where {describe_items(items, currency)}" if items is not None else ""
    return f"{rule.group} units{which}"


def _free_positions(end: int, group: int, pay: int) -> int:
    """How many of the positions 0..end-1 are free in groups of ``group`` paying ``pay``."""
    return (end // group) * (group - pay) + max(0, end % group - pay)


def _apply_multi_unit(evaluation: Evaluation, rule: CompiledRule) -> None:
    runs = _unit_runs(evaluation, rule)
    pool = sum(count for _, count in runs)
    counted = (pool // rule.group) * rule.group
    if counted == 0:
        if evaluation.track and (runs or any(
                item.multi_counted for item in evaluation.lines_of.get(rule, []))):
            # with no run left, every unit was counted by an earlier multi-unit rule
            _note_too_few_units(evaluation, rule, pool)
        return
    if rule.rule.effect.kind == "buy_pay":
        discounts = _buy_pay_discounts(runs, rule, counted)
    else:
        discounts = _bundle_discounts(runs, rule, counted)
    position = 0
    for item, count in runs:
        in_groups = max(0, min(count, counted - position))
        position += count
        item.multi_counted += in_groups
        amount, discounted_units = discounts.get(item, (0, 0))
        item.multi_discounted += discounted_units
        given = item.give(rule, amount)
        evaluation.add(rule, given)
        if given and rule.stacking == "exclusive":
            item.locked = rule


def _buy_pay_discounts(
    runs: list[tuple[Item, int]], rule: CompiledRule, counted: int
) -> dict[Item, tuple[int, int]]:
    discounts: dict[Item, tuple[int, int]] = {}
    start = 0
    for item, count in runs:
        end = min(start + count, counted)
        if end > start:
            free = (_free_positions(end, rule.group, rule.pay)
                    - _free_positions(start, rule.group, rule.pay))
            discounts[item] = (free * item.unit, free)
        start += count
    return discounts


def _bundle_discounts(
    runs: list[tuple[Item, int]], rule: CompiledRule, counted: int
) -> dict[Item, tuple[int, int]]:
    """Each group of N units costs the bundle price; its discount is split over the
    group's lines in proportion to their prices, largest remainder."""
    discounts: dict[Item, tuple[int, int]] = {}
    for cut, repeat in _expand_groups(runs, counted, rule.group):
        price = sum(item.unit * n for item, n in cut)
        saving = max(0, price - rule.amount)
        if saving == 0:
            continue
        # By line id, as every allocation: equal remainders go to the id that sorts
        # first (§5), not to the line the price order happened to put first.
        group = sorted(cut, key=_part_line_id)
        shares = allocate_units(saving, [item.unit * n for item, n in group])
        # An index, not zip(..., strict=True): the compiled build calls zip with its
        # keyword through the interpreter, a dict per call.
        for index in range(len(group)):
            (item, n), share = group[index], shares[index]
            amount, discounted = discounts.get(item, (0, 0))
            # a unit whose share rounds to nothing was not discounted: it may take a
            # best discount still (DESIGN §2). A line's share of ``share`` minor units
            # over its ``n`` units of the group leaves n - share of them nothing when
            # share < n (0.01 of a saving over 3 candles of one line discounts one).
            discounts[item] = (amount + share * repeat, discounted + min(n, share) * repeat)
    return discounts


def _part_line_id(part: tuple[Item, int]) -> str:
    return part[0].line.id


def _expand_groups(
    runs: list[tuple[Item, int]], counted: int, size: int
) -> Iterable[tuple[list[tuple[Item, int]], int]]:
    """Cut the sorted units into groups of ``size``, each as (line, units) parts, with
    how many times it repeats: the whole groups within one line are alike, given once
    (a line of 10,000 units is not 5,000 groups to price one by one)."""
    group: list[tuple[Item, int]] = []
    filled = 0
    remaining = counted
    for item, count in runs:
        count = min(count, remaining)
        remaining -= count
        while count:
            if filled == 0 and count >= size:
                repeat = count // size
                yield [(item, size)], repeat
                count -= repeat * size
                continue
            take = min(count, size - filled)
            group.append((item, take))
            filled += take
            count -= take
            if filled == size:
                yield group, 1
                group, filled = [], 0


def _first_price_rule(evaluation: Evaluation, item: Item, ranked: Rules
                      ) -> CompiledRule | None:
    """The first of one key's ranked price rules that applies to the line."""
    verdicts = evaluation.verdicts
    for rule in ranked:
        verdict = verdicts.get(rule)  # evaluation.eligible, inlined: a hot loop
        if verdict is None:
            verdict = evaluation.eligible(rule)
        if (verdict
                and (not rule.conditions
                     or _conditions_hold(rule, evaluation.list_subtotal, evaluation.items))
                and (rule.exact or rule.items(item))):
            return rule
    return None


BEATEN = "a better discount applied on line {}: {}"
# A loser that gave as much was not beaten: the tie went to the other's priority or id.
TIED = "an equal discount applied on line {}: {} (ties go to the higher priority, then " \
       "the smaller id)"
BASKET_TIED = "an equal basket discount applied: {} (ties go to the higher priority, then " \
              "the smaller id)"


def _apply_best(evaluation: Evaluation, rules: set[CompiledRule]) -> None:
    ranked = evaluation.ranked
    if not rules and not ranked:
        return
    for item in evaluation.canonical_items():
        if not item.matched and not ranked:
            continue
        units = item.quantity - item.multi_discounted
        matching = item.matching(rules) if rules else []
        if item.locked is not None or units <= 0:
            if evaluation.track:
                for rule in matching:
                    _note_held(evaluation, rule, item)
            continue
        offers = [(rule, min(rule.item_discount(item, units), item.total)) for rule in matching]
        walked = _walk_ranked(evaluation, item, units) if ranked else None
        if walked is not None:
            offers.append(walked)
        if not offers:
            continue
        # The most for the customer; ties: higher priority, then smaller id.
        winner, amount = (offers[0] if len(offers) == 1 else
                          min(offers, key=lambda o: (-o[1], -o[0].priority, o[0].id)))
        given = item.give(winner, amount)
        if given:
            evaluation.add(winner, given)
        if evaluation.track:
            for rule, offered in offers:
                if not given:  # the most any of them gives: nothing beat the others
                    _note_nothing(evaluation, rule, item)
                elif rule is not winner and (walked is None or rule is not walked[0]):
                    evaluation.note(rule, TIED if offered == amount else BEATEN,
                                    item.line.id, winner.id)


def _walk_ranked(evaluation: Evaluation, item: Item, units: int
                 ) -> tuple[CompiledRule, int] | None:
    """The ranked `best` rule that wins this line among those walked, with what it gives.

    Under each of the line's keys, a family lists its rules from the largest
    percentage (or amount) down, so a walk stops at the first rule that would
    give less than the best found so far: every later one gives no more. A
    rule that gives as much is checked only if it would win the tie (higher
    priority, then smaller id), the order the best stage breaks ties in.
    """
    total, unit = item.total, item.unit
    base = unit * units
    verdicts = evaluation.verdicts
    subtotal, items = evaluation.item_subtotal, evaluation.items
    winner: CompiledRule | None = None
    best = -1
    for entry in item.entries:
        for ranked in (entry.percents, entry.amounts):
            for rule in ranked:
                # item_discount, inlined: a hot loop (and min() spelled out: a call
                # of the builtin costs the pure-Python build more than the comparison)
                ratio = rule.percent
                if ratio is not None:
                    offer = percent_of(base, ratio)
                else:
                    each = rule.amount
                    offer = (each if each < unit else unit) * units
                amount = offer if offer < total else total
                if amount < best:
                    break
                if amount == best and winner is not None and not _wins_tie(rule, winner):
                    continue
                verdict = verdicts.get(rule)  # evaluation.eligible, inlined
                if verdict is None:
                    # called on the evaluation, not kept as a bound method: the
                    # compiled build calls a bound method like any Python callable
                    verdict = evaluation.eligible(rule)
                if verdict and (not rule.conditions or _conditions_hold(rule, subtotal, items)) \
                        and (rule.exact or rule.items(item)):
                    winner, best = rule, amount
    return None if winner is None else (winner, best)


def _wins_tie(rule: CompiledRule, holder: CompiledRule) -> bool:
    """Whether ``rule`` beats ``holder`` when both give as much: higher priority, then
    the smaller id (the same rule, found under a second key, does not)."""
    if rule.priority != holder.priority:
        return rule.priority > holder.priority
    return rule.id < holder.id


def _apply_stackable(evaluation: Evaluation, rules: set[CompiledRule]) -> None:
    if not rules:
        return
    for item in evaluation.canonical_items():
        if not item.matched:
            continue
        if item.locked is not None:
            if evaluation.track:
                for rule in item.matching(rules):
                    _note_locked(evaluation, rule, item, TAKES_NO_OTHER)
            continue
        for rule in item.matching(rules):  # highest priority first
            if rule.percent is not None:
                amount = percent_of(item.total, rule.percent)
            else:  # per unit, on the units no multi-unit rule made cheaper
                amount = rule.item_discount(item, item.quantity - item.multi_discounted)
            given = item.give(rule, amount)
            if given:
                evaluation.add(rule, given)
            elif evaluation.track:
                _note_nothing(evaluation, rule, item)


def _note_held(evaluation: Evaluation, rule: CompiledRule, item: Item) -> None:
    """Why a `best` rule takes nothing on a line: an exclusive rule holds it, or
    multi-unit rules discounted every unit (DESIGN §2)."""
    if item.locked is not None:
        _note_locked(evaluation, rule, item, TAKES_NO_OTHER)
    else:
        _note_all_units_taken(evaluation, rule, item)


# Names the holder: the cashier tells the customer which discount left no room for this one.
TAKES_NO_OTHER = "line {} already has a discount that takes no other: {}"


def _note_locked(evaluation: Evaluation, rule: CompiledRule, item: Item, reason: str) -> None:
    """Why ``rule`` takes nothing on a line an exclusive rule holds: ``reason`` (formatted
    with the line's id and the holder's), unless the holder took nothing off the line (a
    percentage that rounds to nothing): the line has no discount to speak of then."""
    holder = item.locked
    assert holder is not None
    if any(held is holder for held, _ in item.adjustments):
        evaluation.note(rule, reason, item.line.id, holder.id)
    else:
        evaluation.note(rule, "an exclusive rule holds line {}, though it takes nothing off "
                              "it: {}", item.line.id, holder.id)


def _note_all_units_taken(evaluation: Evaluation, rule: CompiledRule, item: Item) -> None:
    multi = dict.fromkeys(held.id for held, _ in item.adjustments if held.level == "multi")
    evaluation.note(rule, "the units of line {} are all discounted by a multi-unit rule: {}",
                    item.line.id, ", ".join(sorted(multi)))


def _note_nothing(evaluation: Evaluation, rule: CompiledRule, item: Item) -> None:
    """Why an item rule that reached a line took nothing off it (explain, coupons): a
    per-unit amount with every unit discounted by multi-unit rules, or a percentage
    that rounds to nothing; a line with nothing left is the reason's default."""
    if rule.percent is None:
        if item.multi_discounted >= item.quantity:
            _note_all_units_taken(evaluation, rule, item)
    elif item.total > 0:
        currency = evaluation.request.currency
        evaluation.note(rule, "its discount on line {} rounds to {} {}", item.line.id,
                        from_minor(0, currency), currency)


# --- 3. basket discounts ---------------------------------------------------------------


def _basket_amount(rule: CompiledRule, subtotal: int, left: int) -> int:
    if rule.tiers:
        reached = [tier for tier in rule.tiers if subtotal >= tier.threshold]
        if not reached:
            return 0
        tier = reached[-1]
        amount = percent_of(left, tier.percent) if tier.percent else tier.amount
    elif rule.percent is not None:
        amount = percent_of(left, rule.percent)
    else:
        amount = rule.amount
    return min(amount, left)


def _apply_basket_discounts(evaluation: Evaluation, rules: list[CompiledRule]) -> None:
    subtotal = evaluation.basket_subtotal
    rules = _holding(rules, subtotal, evaluation.items)
    exclusive = [r for r in rules if r.stacking == "exclusive"]
    if exclusive:
        # Only an exclusive rule that gives something applies: a tiered one whose
        # first tier the basket does not reach must not block the others.
        offers = [(r, _basket_amount(r, subtotal, subtotal)) for r in exclusive]
        giving = [offer for offer in offers if offer[1] > 0]
        if giving:
            winner, amount = min(giving, key=lambda o: (-o[0].priority, -o[1], o[0].id))
            _allocate_basket(evaluation, winner, amount)
            if evaluation.track:
                for rule in rules:
                    if rule is not winner:
                        evaluation.note(rule, _tier_missed(evaluation, rule)
                                        or "an exclusive basket discount applied: {}",
                                        winner.id)
            return
        for rule in exclusive:
            _allocate_basket(evaluation, rule, 0)  # noted: no tier reached
        rules = [r for r in rules if r.stacking != "exclusive"]
    # What is left on the basket: each allocation takes exactly its amount off the
    # lines (no share is ever capped), so it need not be summed again line by line.
    left = subtotal
    best = _best_basket_offer(evaluation, rules, subtotal)
    if best is not None:
        left -= _allocate_basket(evaluation, *best)
    for rule in rules:
        if rule.stacking == "stackable":
            left -= _allocate_basket(evaluation, rule, _basket_amount(rule, subtotal, left))


def _best_basket_offer(evaluation: Evaluation, rules: list[CompiledRule], subtotal: int
                       ) -> tuple[CompiledRule, int] | None:
    """The `best` basket rule that gives the most (ties: higher priority, then smaller
    id), with its amount; the others are noted as beaten by it."""
    winner: CompiledRule | None = None
    most = 0
    for rule in rules:  # highest priority first, then the smallest id (_by_priority)
        if rule.stacking == "best":
            amount = _basket_amount(rule, subtotal, subtotal)
            if winner is None or amount > most:  # an equal amount keeps the earlier rule
                winner, most = rule, amount
    if winner is None:
        return None
    if evaluation.track:
        for rule in rules:
            if rule.stacking == "best" and rule is not winner:
                if most:
                    tied = _basket_amount(rule, subtotal, subtotal) == most
                    evaluation.note(rule, _tier_missed(evaluation, rule) or (
                        BASKET_TIED if tied else "a better basket discount applied: {}"),
                        winner.id)
                else:  # the most any of them gives: nothing beat the others
                    evaluation.note(rule, _basket_nothing(evaluation, rule))
    return winner, most


def _allocate_basket(evaluation: Evaluation, rule: CompiledRule, amount: int) -> int:
    """Share a basket discount over the lines in proportion to their totals, exactly;
    returns the amount given."""
    if amount <= 0:
        if evaluation.track:
            evaluation.note(rule, _basket_nothing(evaluation, rule))
        return 0
    lines = evaluation.canonical_items()
    shares = allocate_units(amount, [item.total for item in lines])
    # A share never exceeds its line's total (amount <= the sum of totals), so
    # no cap is needed line by line.
    for index, item in enumerate(lines):
        share = shares[index]
        if share:
            item.discount += share
            item.adjustments.append((rule, share))
    evaluation.add(rule, amount)
    return amount


def _tier_missed(evaluation: Evaluation, rule: CompiledRule) -> str:
    """A tiered rule reaching no tier: what its first tier needs, as a condition says
    it (it applies to nothing, §5, whatever else applied); otherwise ""."""
    if not rule.tiers or evaluation.basket_subtotal >= rule.tiers[0].threshold:
        return ""
    currency = evaluation.request.currency
    return (f"needs subtotal >= {from_minor(rule.tiers[0].threshold, currency)} {currency}, "
            f"basket is {from_minor(evaluation.basket_subtotal, currency)} {currency}")


def _basket_nothing(evaluation: Evaluation, rule: CompiledRule) -> str:
    """Why a basket rule gives nothing: no tier reached, nothing left on the basket, or a
    percentage that rounds to nothing."""
    missed = _tier_missed(evaluation, rule)
    if missed:
        return missed
    if not any(item.total for item in evaluation.items):
        return "nothing left to discount"
    currency = evaluation.request.currency
    return f"its discount on the basket rounds to {from_minor(0, currency)} {currency}"


# --- 4. points -----------------------------------------------------------------------------


def _apply_points(evaluation: Evaluation, rules: list[CompiledRule]) -> None:
    live = set(_holding(rules, evaluation.item_subtotal, evaluation.items))
    if not live:
        return
    earned_on: dict[CompiledRule, int] = {}
    # (loser, winner, line) of each line, when reasons are kept: told once the winners'
    # points are known, as a winner may earn nothing once its lines are summed
    beaten: list[tuple[CompiledRule, CompiledRule, Item]] | None = (
        [] if evaluation.track else None)
    summed = _NetsSummed(evaluation, live)
    for item in evaluation.canonical_items():
        matching = item.matching(live) if item.matched else None
        if not matching:
            continue
        for rule in _points_winners(item, matching, beaten, summed):
            earned_on[rule] = earned_on.get(rule, 0) + item.total
    nothing = []
    for rule, net in sorted(earned_on.items(), key=lambda pair: pair[0].id):
        points = (net // rule.per) * rule.points
        if points:
            evaluation.points[rule.id] = points
        else:
            nothing.append(rule)
    if evaluation.track:  # reasons, and the sums a tie reads, only for someone who reads them
        if beaten:
            _note_points_beaten(evaluation, beaten, summed)
        for rule in nothing:
            _note_below_step(evaluation, rule, "its lines pay", earned_on[rule])


class _NetsSummed:
    """The nets of the lines each points rule may earn on, summed: how a tie on one
    line is broken (§6), since a rule earns on its lines summed, not line by line. A
    line an exclusive rule holds counts for the exclusive rules only. Summed when a tie
    first asks (most baskets have none: summing every basket cost 1.6% of its work)."""

    def __init__(self, evaluation: Evaluation, live: set[CompiledRule]) -> None:
        self.evaluation = evaluation
        self.live = live
        self.sums: dict[CompiledRule, int] | None = None

    def of(self, rule: CompiledRule) -> int:
        if self.sums is None:
            self.sums = {}
            for item in self.evaluation.canonical_items():
                matching = item.matching(self.live) if item.matched else []
                held = any(other.stacking == "exclusive" for other in matching)
                for other in matching:
                    if not held or other.stacking == "exclusive":
                        self.sums[other] = self.sums.get(other, 0) + item.total
        return self.sums.get(rule, 0)


POINTS_TIED = "an equal points rule applied: {} (ties go to the higher rate, then the " \
              "higher priority, then the smaller id)"


def _note_points_beaten(evaluation: Evaluation,
                        beaten: list[tuple[CompiledRule, CompiledRule, Item]],
                        summed: _NetsSummed) -> None:
    """Why each points rule that lost a line earned nothing: the rule that won it, unless
    that one earned nothing either (then a `best` loser earned no more on the line, and
    an exclusive winner held the line all the same). A `best` loser that would have
    earned as much, on the line and on its lines summed, is told it was a tie."""
    for rule, winner, item in beaten:
        exclusive = winner.stacking == "exclusive"
        if winner.id in evaluation.points:
            if exclusive:
                reason = "an exclusive points rule applied: {}"
            elif _earns_as_much(rule, winner, item.total, summed):
                reason = POINTS_TIED
            else:
                reason = "a better points rule applied: {}"
            evaluation.note(rule, reason, winner.id)
        elif exclusive:
            evaluation.note(rule, "an exclusive points rule holds line {}, though it earns "
                                  "nothing: {}", item.line.id, winner.id)
        else:  # the winner earned nothing on the line: this rule earned no more on it
            _note_below_step(evaluation, rule, f"line {item.line.id} pays", item.total)


def _note_below_step(evaluation: Evaluation, rule: CompiledRule, paying: str, net: int
                     ) -> None:
    """Why a points rule earned nothing: what it pays for and what ``paying`` (its lines,
    or the line it lost) pays, so a cashier can tell the customer how far off a point is
    ("earns 15 points per 10.00 EUR paid, line 1 pays 0.50 EUR")."""
    currency = evaluation.request.currency
    evaluation.note(rule, "earns {} {} per {} {} paid, {} {} {}", rule.points,
                    "point" if rule.points == 1 else "points",
                    from_minor(rule.per, currency), currency, paying,
                    from_minor(net, currency), currency)


def _points_winners(
    item: Item, rules: list[CompiledRule],
    beaten: list[tuple[CompiledRule, CompiledRule, Item]] | None,
    summed: _NetsSummed,
) -> list[CompiledRule]:
    """Which points rules earn on this line: exclusive alone, else the best plus stackables.
    The losers go to ``beaten`` (when reasons are kept) with the rule that beat them."""
    exclusive = [r for r in rules if r.stacking == "exclusive"]
    if exclusive:
        winner = exclusive[0]
        for rule in exclusive[1:]:  # highest priority, then the most points, then the id
            if rule.priority != winner.priority:
                if rule.priority > winner.priority:
                    winner = rule
            elif _earns_more(rule, winner, item.total, summed, by_priority=False):
                winner = rule
        if beaten is not None:
            beaten.extend((rule, winner, item) for rule in rules if rule is not winner)
        return [winner]
    best = [r for r in rules if r.stacking == "best"]
    winners = [r for r in rules if r.stacking == "stackable"]
    if best:
        top = best[0]
        for rule in best[1:]:  # the most points, then the rate, priority and id
            if _earns_more(rule, top, item.total, summed, by_priority=True):
                top = rule
        winners.append(top)
        if beaten is not None:
            beaten.extend((rule, top, item) for rule in best if rule is not top)
    return winners


def _earns_more(rule: CompiledRule, holder: CompiledRule, net: int,
                summed: _NetsSummed, *, by_priority: bool) -> bool:
    """Whether ``rule`` beats ``holder`` on a line of ``net``: more points on that line
    (the rate alone chose a 15-per-10.00 rule that earns nothing on 9.00 over 1 per
    1.00, which earns 9); ties: more points on the nets of the lines each may earn on,
    summed (``summed``; the rate alone gave twenty 0.90 lines, 0 points each, to 50 per
    20.00, which earns nothing on 18.00, over 1 per 1.00, which earns 18), then the
    higher rate, then (``by_priority``) the higher priority, then the smaller id."""
    difference = (net // rule.per) * rule.points - (net // holder.per) * holder.points
    if difference:
        return difference > 0
    difference = (summed.of(rule) // rule.per) * rule.points \
        - (summed.of(holder) // holder.per) * holder.points
    if difference:
        return difference > 0
    order = _rate_order(rule, holder)
    if order:
        return order > 0
    return _wins_tie(rule, holder) if by_priority else rule.id < holder.id


def _earns_as_much(rule: CompiledRule, holder: CompiledRule, net: int,
                   summed: _NetsSummed) -> bool:
    """Whether ``rule`` earns as many points as ``holder`` on a line of ``net`` and on
    the nets summed (the tie-breaks of _earns_more that give the customer more)."""
    return ((net // rule.per) * rule.points == (net // holder.per) * holder.points
            and (summed.of(rule) // rule.per) * rule.points
            == (summed.of(holder) // holder.per) * holder.points)


def _rate_order(rule: CompiledRule, other: CompiledRule) -> int:
    """The sign of rate(rule) - rate(other): points per minor unit, compared exactly
    by cross-multiplying (a Fraction per comparison costs far more on this path)."""
    difference = rule.points * other.per - other.points * rule.per
    return (difference > 0) - (difference < 0)


__all__ = ["Evaluation", "Evaluator", "Item"]
