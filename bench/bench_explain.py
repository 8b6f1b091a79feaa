"""Explained baskets: what `"explain": true` costs a worker and how large its answer is.

Explain is not the path the targets time (bench_core times plain baskets), but any
channel key may ask for it, so its cost and size are worth knowing: before
2026-11-29 an explained 20-line basket at 10,000 rules listed every rule of its
channel and weighed 1 MB. Prices ``--baskets`` baskets of each size with reasons,
from one rule set compiled once, and prints the median and slowest time and the
median size of the answer as a server sends it (`Evaluator.evaluate_json`).

Usage (from the repository root)::

    python -m bench.bench_explain                       # 10,000 rules, 20 and 500 lines
    python -m bench.bench_explain --rules 1000 --lines 20 --baskets 50
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import dsl
import engine

from .generate import BENCH_AT, basket, catalogue, rules_source


def measure(evaluator: engine.Evaluator, requests: list[engine.BasketRequest]
            ) -> tuple[float, float, float]:
    """Median and slowest seconds, and median answer size in bytes."""
    evaluator.evaluate_json(requests[0], explain=True)  # the index slice, built once
    seconds, sizes = [], []
    for request in requests:
        start = time.perf_counter()
        answer = evaluator.evaluate_json(request, explain=True)
        seconds.append(time.perf_counter() - start)
        sizes.append(len(answer.encode()))
    return statistics.median(seconds), max(seconds), statistics.median(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--lines", type=int, nargs="+", default=[20, 500])
    parser.add_argument("--baskets", type=int, default=30)
    options = parser.parse_args()
    cat = catalogue()
    ruleset = dsl.compile_source(rules_source(options.rules, cat=cat), "bench.rules",
                                 publish_at=BENCH_AT)
    evaluator = engine.Evaluator(ruleset)
    rng = random.Random(5)
    print(f"engine build: {engine.BUILD}; {options.rules:,} rules, {options.baskets} "
          "explained baskets per size\n")
    print("| lines | p50 | slowest | answer (median) |\n|---:|---:|---:|---:|")
    for lines in options.lines:
        requests = [engine.parse_request(basket(rng, cat, lines=lines))
                    for _ in range(options.baskets)]
        median, slowest, size = measure(evaluator, requests)
        print(f"| {lines} | {median * 1000:.1f} ms | {slowest * 1000:.1f} ms | "
              f"{size / 1024:,.0f} KiB |")


if __name__ == "__main__":
    main()
