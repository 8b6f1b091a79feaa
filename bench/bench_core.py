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
import platform
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dsl
import engine
from engine import ir

from .generate import BENCH_AT, RULE_SKEW, STRESS_SKEW, baskets, catalogue, rules_source

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
            assert_fact(name, fact)
        for fact in lines:
            retract_fact(name, fact)

    samples = time_calls(one_basket, prepared)
    return samples, build, matches[0]


# --- the run -----------------------------------------------------------------------------------


def run(sizes: list[int], durable_max: int, skew: float, label: str) -> list[str]:
    cat = catalogue()
    requests = baskets(EVALUATIONS, cat=cat)
    parsed = [engine.parse_request(request) for request in requests]
    rows = []
    p50s: dict[int, float] = {}
    for size in sizes:
        source = rules_source(size, cat=cat, skew=skew)
        start = time.perf_counter()
        ruleset = dsl.compile_source(source, "bench.rules", publish_at=BENCH_AT)
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        evaluator = engine.Evaluator(ruleset)
        build_ms = (time.perf_counter() - start) * 1000
        memory = measure_memory(ruleset.to_json())
        samples = time_calls(evaluator.evaluate, parsed)
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        p50s[size] = p50
        row = (f"| {label} | {size:,} | {compile_s / size * 1000:.2f} s | {build_ms:,.0f} ms | "
               f"{memory:,.1f} MiB | {p50:.3f} ms | {p99:.3f} ms |")
        if size <= durable_max:
            baseline = durable_baseline(ruleset, requests, f"bench_{label}_{size}")
            if isinstance(baseline, str):
                row += f" {baseline} |"
            else:
                durable_samples, durable_build, _ = baseline
                d50 = percentile(durable_samples, 0.5)
                row += (f" {d50:.3f} ms / {percentile(durable_samples, 0.99):.3f} ms "
                        f"(build {durable_build:.1f} s); remise {d50 / p50:.1f}x faster |")
        else:
            row += " not run (above --durable-max) |"
        rows.append(row)
        print(row, flush=True)
    if 10_000 in p50s and 100_000 in p50s:
        rows.append(f"\n{label}: 100,000 vs 10,000 rules: median x"
                    f"{p50s[100_000] / p50s[10_000]:.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 rules only")
    parser.add_argument("--durable-max", type=int, default=10_000,
                        help="largest rule count also run through durable-rules")
    parser.add_argument("--stress", action="store_true",
                        help="also run the stress mix (rules crowded on a few categories)")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    print(f"remise core benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"Python {platform.python_version()}, {platform.machine()}")
    print(f"{EVALUATIONS} baskets of 20 lines, {WARM_UP} warm-up; instant {BENCH_AT}\n")
    print("| mix | rules | compile / 1,000 rules | evaluator build | memory | p50 | p99 "
          "| durable-rules p50 / p99 (same run) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = run(sizes, args.durable_max, RULE_SKEW, "realistic")
    if args.stress:
        rows += run(sizes, args.durable_max, STRESS_SKEW, "stress")
    print("\n".join(row for row in rows if row.startswith("\n")))


if __name__ == "__main__":
    main()
