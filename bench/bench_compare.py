"""Interleaved A/B of the evaluator: two versions take turns on the same baskets.

Separate runs cannot be compared on a machine whose speed drifts during a run
(bench/RESULTS.md). Here two versions of the engine price basket i one right
after the other, in alternating order, so drift hits both alike; the figure to
read is the median of the per-basket time ratios (new / old).

Usage (from the repository root)::

    # the engine at a git revision against the working tree, in one process
    python -m bench.bench_compare --rules 10000 --ref HEAD~3

    # two installed copies (e.g. two compiled builds, see bench/README.md), each in
    # its own worker process: compiled modules of two versions cannot share one
    python -m bench.bench_compare --rules 10000 --paths /tmp/old-build build/compiled

The first form loads the old ``engine/`` (read from git, never checked out) as the
package ``engine_at_ref``: it works because the engine imports itself only
relatively. Both versions must give the same bytes for every basket, or the
comparison stops.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .generate import BENCH_AT, baskets, catalogue, rules_source

ROOT = Path(__file__).resolve().parents[1]
BASKETS = 500

# A worker: prices basket N (read from stdin) and writes the nanoseconds it took.
WORKER = """
import hashlib, sys, time
sys.path[:0] = [sys.argv[1], {root!r}]
import dsl, engine
from bench.generate import BENCH_AT, baskets, catalogue, rules_source
cat = catalogue()
source = rules_source(int(sys.argv[2]), cat=cat)
evaluator = engine.Evaluator(dsl.compile_source(source, "bench.rules", publish_at=BENCH_AT))
requests = [engine.parse_request(r) for r in baskets({baskets}, cat=cat)]
answers = "\\n".join(engine.dumps(evaluator.evaluate(r)) for r in requests)
print(engine.BUILD, hashlib.sha256(answers.encode()).hexdigest(), flush=True)
for line in sys.stdin:
    request = requests[int(line)]
    start = time.perf_counter_ns()
    evaluator.evaluate(request)
    print(time.perf_counter_ns() - start, flush=True)
"""


def _engine_at(ref: str, folder: Path) -> ModuleType:
    """The engine package as it was at git ``ref``, imported as ``engine_at_ref``."""
    package = folder / "engine_at_ref"
    package.mkdir()
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", ref, "engine/"],
                           capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        content = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{name}"],
                                 capture_output=True, check=True).stdout
        (package / Path(name).name).write_bytes(content)
    sys.path.insert(0, str(folder))
    return importlib.import_module("engine_at_ref")


def _in_process(ref: str, rules: int, rounds: int) -> dict[str, list[int]]:
    import dsl
    import engine

    with tempfile.TemporaryDirectory(prefix="remise-compare-") as tmp:
        old_engine = _engine_at(ref, Path(tmp))
        cat = catalogue()
        ruleset_json = dsl.compile_source(rules_source(rules, cat=cat), "bench.rules",
                                          publish_at=BENCH_AT).to_json()
        raw = baskets(BASKETS, cat=cat)
        priced: dict[str, Callable[[int], Any]] = {}
        for name, module in (("old", old_engine), ("new", engine)):
            evaluator = module.Evaluator(module.load_ruleset(ruleset_json))
            requests = [module.parse_request(r) for r in raw]
            priced[name] = lambda i, e=evaluator, r=requests: e.evaluate(r[i])
        for i in range(BASKETS):
            if old_engine.dumps(priced["old"](i)) != engine.dumps(priced["new"](i)):
                raise SystemExit(f"basket {i}: the two versions answer differently")
        print(f"old: engine at {ref} ({old_engine.BUILD}); new: working tree ({engine.BUILD})")
        return _take_turns(lambda name, i: _timed(priced[name], i), rounds)


def _timed(price: Callable[[int], Any], index: int) -> int:
    start = time.perf_counter_ns()
    price(index)
    return time.perf_counter_ns() - start


def _in_workers(paths: list[str], rules: int, rounds: int) -> dict[str, list[int]]:
    code = WORKER.format(root=str(ROOT), baskets=BASKETS)
    workers = {name: subprocess.Popen([sys.executable, "-P", "-c", code, path, str(rules)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1)
               for name, path in zip(("old", "new"), paths, strict=True)}
    ready = {name: worker.stdout.readline().split()  # type: ignore[union-attr]
             for name, worker in workers.items()}
    if any(len(words) != 2 for words in ready.values()):
        raise SystemExit("a worker did not start (its error is above)")
    if ready["old"][1] != ready["new"][1]:
        raise SystemExit("the two versions answer differently")
    print(f"old: {paths[0]} ({ready['old'][0]}); new: {paths[1]} ({ready['new'][0]})")

    def ask(name: str, index: int) -> int:
        worker = workers[name]
        worker.stdin.write(f"{index}\n")  # type: ignore[union-attr]
        return int(worker.stdout.readline())  # type: ignore[union-attr]

    try:
        return _take_turns(ask, rounds)
    finally:
        for worker in workers.values():
            worker.stdin.close()  # type: ignore[union-attr]
            worker.wait()


def _take_turns(time_one: Callable[[str, int], int], rounds: int) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {"old": [], "new": []}
    for round_number in range(rounds):
        for index in range(BASKETS):
            order = ("old", "new") if (index + round_number) % 2 == 0 else ("new", "old")
            for name in order:
                samples[name].append(time_one(name, index))
    return samples


def _report(samples: dict[str, list[int]]) -> None:
    for name in ("old", "new"):
        ordered = sorted(samples[name])
        p50 = ordered[len(ordered) // 2] / 1e6
        p99 = ordered[int(len(ordered) * 0.99)] / 1e6
        print(f"{name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    ratios = sorted(new / old for new, old in zip(samples["new"], samples["old"], strict=True))
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"new / old, per basket: median x{statistics.median(ratios):.3f} "
          f"(quartiles x{quartiles[0]:.3f} - x{quartiles[2]:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help=f"passes over {BASKETS} baskets")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--ref", help="git revision of the old engine (vs the working tree)")
    which.add_argument("--paths", nargs=2, metavar=("OLD", "NEW"),
                       help="two folders holding installed copies of the packages")
    args = parser.parse_args()
    print(f"{args.rules:,} rules (realistic mix), {BASKETS} baskets x {args.rounds} rounds, "
          f"taking turns")
    if args.ref:
        samples = _in_process(args.ref, args.rules, args.rounds)
    else:
        samples = _in_workers(args.paths, args.rules, args.rounds)
    _report(samples)


if __name__ == "__main__":
    main()
