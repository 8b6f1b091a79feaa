"""Pricing with warm and with cold CPU caches: how much of a basket's time is memory.

bench_core prices baskets back to back, so each finds most of what the last one
touched (index entries, compiled rules, cached amounts) still in the CPU caches.
A server does not: between two baskets it parses HTTP, runs middleware and
writes responses, and the load generator shares the machine. This benchmark
prices the same baskets (as the JSON text a server sends, ``evaluate_json``)
back to back and with ``--flush-mib`` of other memory written between each two,
alternating, and reports both medians: their ratio is what cache misses cost a
basket that finds the caches cold.

Usage (from the repository root)::

    python -m bench.bench_cold_caches
    PYTHONPATH=build/compiled:. python -P -m bench.bench_cold_caches   # compiled
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import dsl
import engine

from .generate import BENCH_AT, baskets, catalogue, rules_source

LINE = 64  # bytes in a cache line


def _flusher(mib: int) -> Callable[[], None]:
    """A function that writes one byte in every cache line of ``mib`` MiB."""
    blocks = [bytearray(64 * 1024) for _ in range(mib * 16)]
    zeros = bytes(64 * 1024 // LINE)

    def flush() -> None:
        for block in blocks:
            block[::LINE] = zeros

    return flush


def _median_us(evaluator: engine.Evaluator, requests: list[engine.BasketRequest],
               between: Callable[[], None] | None) -> float:
    times = []
    for request in requests:
        if between is not None:
            between()
        started = time.perf_counter_ns()
        evaluator.evaluate_json(request)
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--baskets", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="of each, alternating")
    parser.add_argument("--flush-mib", type=int, default=16,
                        help="memory written between two baskets (more than the L3 cache)")
    args = parser.parse_args()
    cat = catalogue()
    evaluator = engine.Evaluator(dsl.compile_source(rules_source(args.rules, cat=cat),
                                                    "bench.rules", publish_at=BENCH_AT))
    requests = [engine.parse_request(data) for data in baskets(args.baskets, cat=cat)]
    for request in requests:  # every channel's index slice, and the amounts' cache
        evaluator.evaluate_json(request)
    gc.collect()
    gc.freeze()  # as a server does (api/heap.py)
    flush = _flusher(args.flush_mib)
    warm: list[float] = []
    cold: list[float] = []
    for _ in range(args.rounds):
        warm.append(_median_us(evaluator, requests, None))
        cold.append(_median_us(evaluator, requests, flush))
    print(f"engine build: {engine.BUILD}; {args.rules:,} rules, {args.baskets} baskets of 20 "
          f"lines, {args.rounds} rounds of each, {args.flush_mib} MiB written between baskets")
    print("| caches | median per basket (rounds) |")
    print("|---|---|")
    print(f"| warm (back to back) | {', '.join(f'{t:.1f}' for t in warm)} us |")
    print(f"| cold (flushed between) | {', '.join(f'{t:.1f}' for t in cold)} us |")
    print(f"cold / warm: x{statistics.median(cold) / statistics.median(warm):.2f}")


if __name__ == "__main__":
    main()
