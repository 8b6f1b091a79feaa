"""Core benchmark: compile and evaluate at 1,000 / 10,000 / 100,000 rules.

    python -m bench.bench_core            # the full run (several minutes)
    python -m bench.bench_core --quick    # 1,000 and 10,000 rules only

Prints a Markdown table: compile time per 1,000 rules, evaluator build time,
memory, and the median and p99 time to price a 20-line basket, plus the same
rules matched through durable-rules in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import platform
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from queue import Empty
from typing import Any

import dsl
import engine
from engine import ir

from .generate import (
    BENCH_AT,
    RULE_SKEW,
    STRESS_SKEW,
    Catalogue,
    baskets,
    catalogue,
    rules_source,
)

EVALUATIONS = 2000
WARM_UP = 200


def percentile(samples: list[int], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] / 1e6  # ms


def time_calls(call: Callable[[Any], object], inputs: list[Any]) -> list[int]:
    for item in inputs[:WARM_UP]:
        call(item)
    samples = []
    for item in inputs:
        start = time.perf_counter_ns()
        call(item)
        samples.append(time.perf_counter_ns() - start)
    return samples


def measure_memory(ir_json: str) -> float:
    """MiB held by a loaded rule set and its evaluator (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    evaluator = engine.Evaluator(engine.load_ruleset(ir_json))
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del evaluator
    return current / 2**20


# --- the baseline: the same item matching through durable-rules --------------------------


def _durable_condition(rule: ir.Rule) -> Any:
    from durable.lang import m

    def predicate(node: Any) -> Any:
        if isinstance(node, ir.ItemFieldIn):
            expr = None
            for value in node.values:
                term = getattr(m, node.field) == value
                expr = term if expr is None else expr | term
            return expr
        if isinstance(node, ir.ItemPriceCompare):
            cents = int(node.amount * 100)  # durable-rules has no Decimal
            return m.cents >= cents if node.op == ">=" else m.cents < cents
        if isinstance(node, ir.ItemAnd):
            parts = [p for p in map(predicate, node.args) if p is not None]
            expr = parts[0]
            for part in parts[1:]:
                expr = expr & part
            return expr
        return None

    items = getattr(rule.effect, "items", None)
    condition = predicate(items) if items is not None else None
    if condition is None:
        condition = +m.sku  # a line of any kind
    if rule.channels:
        channels = None
        for channel in rule.channels:
            term = m.channel == channel
            channels = term if channels is None else channels | term
        condition = condition & channels
    return condition


def durable_baseline(ruleset: ir.RuleSet, requests: list[dict[str, Any]], name: str
                     ) -> tuple[list[int], float, int] | str:
    """Per-basket times (assert every line as a fact, then retract them), build time,
    matches. The rules only match items and channels: no windows, audiences or
    amounts, which durable-rules cannot express exactly (no Decimal)."""
    try:
        from durable.engine import MessageNotHandledException
        from durable.lang import assert_fact, retract_fact, when_all
        from durable.lang import ruleset as durable_ruleset
    except ImportError as error:  # e.g. Python 3.13, where it does not import
        return f"durable-rules unavailable: {error}"
    matches = [0]

    def action_for(index: int) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            matches[0] += 1
        action.__name__ = f"rule{index}"  # durable-rules names rules after their action
        return action

    start = time.perf_counter()
    with durable_ruleset(name):
        for index, rule in enumerate(ruleset.rules):
            when_all(_durable_condition(rule))(action_for(index))
    build = time.perf_counter() - start

    def facts(request: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"line": f"{n}", "sku": line["sku"], "category": line["category"],
                 "brand": line["brand"], "channel": request["channel"],
                 "cents": int(line["unit_price"].replace(".", ""))}
                for n, line in enumerate(request["lines"])]

    prepared = [facts(request) for request in requests]

    def one_basket(lines: list[dict[str, Any]]) -> None:
        for fact in lines:
            try:
                assert_fact(name, fact)
            except MessageNotHandledException:  # a line no rule matches
                continue
        for fact in lines:
            try:
                retract_fact(name, fact)
            except MessageNotHandledException:
                continue

    samples = time_calls(one_basket, prepared)
    return samples, build, matches[0]


# --- the run -----------------------------------------------------------------------------------


def _durable_child(size: int, skew: float, queue: Any) -> None:
    cat = catalogue()
    ruleset = dsl.compile_source(rules_source(size, cat=cat, skew=skew), "bench.rules",
                                 publish_at=BENCH_AT)
    queue.put(durable_baseline(ruleset, baskets(EVALUATIONS, cat=cat), f"bench_{size}"))


def durable_in_child(size: int, skew: float, timeout: float) -> tuple[list[int], float, int] | str:
    """Run the baseline in a child process: durable-rules may never return."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_durable_child, args=(size, skew, queue))
    child.start()
    try:
        return queue.get(timeout=timeout)  # type: ignore[no-any-return]
    except Empty:
        return f"durable-rules gave no answer within {timeout:.0f} s"
    finally:
        child.terminate()
        child.join()


def _freeze() -> None:
    """What a server does after loading a version and after each slice (api/heap.py):
    a full collection of a heap of 100,000 rules, which otherwise lands in whichever
    basket crosses the collector's threshold, takes over a second."""
    gc.collect(1)
    gc.freeze()


def _freeze_slice(channel: str, hour: datetime, ahead: bool) -> None:
    del channel, hour, ahead
    _freeze()


def measure(size: int, skew: float, parsed: list[engine.BasketRequest],
            cat: Catalogue | None = None, basket_offers_of: int | None = None
            ) -> dict[str, float]:
    source = rules_source(size, cat=cat or catalogue(), skew=skew,
                          basket_offers_of=basket_offers_of)
    start = time.perf_counter()
    ruleset = dsl.compile_source(source, "bench.rules", publish_at=BENCH_AT)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    evaluator = engine.Evaluator(ruleset, on_slice_built=_freeze_slice)
    build_ms = (time.perf_counter() - start) * 1000
    _freeze()  # as a server does once a version is live (api/heap.py)
    try:
        # The first basket of each hour and channel builds that hour's index slice.
        start = time.perf_counter()
        evaluator.evaluate(parsed[0])
        first_ms = (time.perf_counter() - start) * 1000
        samples = time_calls(evaluator.evaluate, parsed)
    finally:
        gc.unfreeze()  # the next size's run may collect this one
    return {"compile_per_1000": compile_s / size * 1000, "build_ms": build_ms,
            "first_ms": first_ms,
            "memory": measure_memory(ruleset.to_json()),
            "p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}


def growing_catalogue(size: int) -> Catalogue:
    """The default catalogue at 10,000 rules, scaled with the rule count."""
    factor = max(1.0, size / 10_000)
    return catalogue(skus=int(50_000 * factor), categories=int(200 * factor),
                     brands=int(300 * factor))


def run_growing(sizes: list[int], few_basket_offers: bool = False) -> None:
    p50s: dict[int, float] = {}
    held_p50: float | None = None  # the diagnostic row's, at 100,000 rules
    for size in sizes:
        cat = growing_catalogue(size)
        parsed = [engine.parse_request(r) for r in baskets(EVALUATIONS, cat=cat)]
        row = measure(size, RULE_SKEW, parsed, cat)
        p50s[size] = row["p50"]
        _growing_row("growing catalogue", f"{size:,}", row)
        if few_basket_offers and size == 100_000:
            # A diagnostic, not a mix: the basket-wide offers a 10,000-rule set has.
            held = measure(size, RULE_SKEW, parsed, cat, basket_offers_of=10_000)
            held_p50 = held["p50"]
            _growing_row(HELD, f"{size:,}", held)
    if 100_000 in p50s:
        print(f"| growing catalogue | 100k / 10k | | | | | "
              f"x{p50s[100_000] / p50s[10_000]:.2f} | |")
    if held_p50 is not None:
        print(f"| {HELD} | 100k / 10k | | | | | x{held_p50 / p50s[10_000]:.2f} | |")


HELD = "growing catalogue, basket offers of 10,000 rules"


def _growing_row(label: str, size: str, row: dict[str, float]) -> None:
    print(f"| {label} | {size} | {row['compile_per_1000']:.2f} s | "
          f"{row['build_ms']:,.0f} ms | {row['first_ms']:,.1f} ms | "
          f"{row['memory']:,.1f} MiB | {row['p50']:.3f} ms | {row['p99']:.3f} ms |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 rules only")
    parser.add_argument("--baseline-rules", type=int, default=400,
                        help="rule count for the durable-rules comparison (it stops answering "
                             "somewhere above 400 rules of this mix)")
    parser.add_argument("--stress", action="store_true",
                        help="also run the stress mix (rules crowded on a few categories)")
    parser.add_argument("--growing", action="store_true",
                        help="also run the realistic mix on a catalogue that grows with the "
                             "rules (as many rules per category and SKU at every size)")
    parser.add_argument("--few-basket-offers", action="store_true",
                        help="with --growing, a diagnostic row too: 100,000 rules holding "
                             "only the basket-wide offers of a 10,000-rule set")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    print(f"remise core benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"Python {platform.python_version()}, {platform.machine()}, "
          f"engine build: {engine.BUILD}")
    print(f"{EVALUATIONS} baskets of 20 lines after {WARM_UP} warm-up; instant {BENCH_AT}\n")
    parsed = [engine.parse_request(r) for r in baskets(EVALUATIONS, cat=catalogue())]
    mixes = [("realistic", RULE_SKEW)] + ([("stress", STRESS_SKEW)] if args.stress else [])
    print("| mix | rules | compile / 1,000 rules | evaluator build | first basket of an hour "
          "| memory | p50 | p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for label, skew in mixes:
        p50s = {}
        for size in sizes:
            row = measure(size, skew, parsed)
            p50s[size] = row["p50"]
            print(f"| {label} | {size:,} | {row['compile_per_1000']:.2f} s | "
                  f"{row['build_ms']:,.0f} ms | {row['first_ms']:,.1f} ms | "
                  f"{row['memory']:,.1f} MiB | "
                  f"{row['p50']:.3f} ms | {row['p99']:.3f} ms |", flush=True)
        if 100_000 in p50s:
            print(f"| {label} | 100k / 10k | | | | | x{p50s[100_000] / p50s[10_000]:.2f} | |")
    if args.growing:
        run_growing(sizes, args.few_basket_offers)
    print(f"\nBaseline, same run, {args.baseline_rules} rules (realistic mix), per basket:\n")
    print("| engine | p50 | p99 | matches counted |")
    print("|---|---|---|---|")
    ours = measure(args.baseline_rules, RULE_SKEW, parsed)
    print(f"| remise (full pricing) | {ours['p50']:.3f} ms | {ours['p99']:.3f} ms | |")
    baseline = durable_in_child(args.baseline_rules, RULE_SKEW, timeout=600)
    if isinstance(baseline, str):
        print(f"| durable-rules | {baseline} | | |")
        return
    samples, build, matches = baseline
    d50, d99 = percentile(samples, 0.5), percentile(samples, 0.99)
    print(f"| durable-rules (item and channel matching only; build {build:.2f} s) | "
          f"{d50:.3f} ms | {d99:.3f} ms | {matches:,} |")
    print(f"\nremise is {d50 / ours['p50']:.1f}x faster at the median, "
          f"{d99 / ours['p99']:.1f}x at p99.")


if __name__ == "__main__":
    main()
