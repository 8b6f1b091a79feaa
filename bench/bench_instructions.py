"""Instructions per basket, counted by valgrind: a figure that does not drift.

On a shared machine, wall-clock time drifts within a run and even an
interleaved A/B of one build against itself can read x1.08 (bench/RESULTS.md).
The number of CPU instructions an evaluation executes does not: callgrind
counts the same total for the same program and inputs whatever else the
machine is doing. Object addresses still move from one process to the next,
and with them which rules meet in which sets: counting only the priced baskets
(below), two processes of the same copy read 0.08% apart at 100,000 rules
(2026-11-28 night; the 1.7% spread read before then most likely included the
loading's noise). It is not time (a cache miss costs more than an addition), so it says
whether a change removed work, and ``bench_core`` still says what a basket
costs in milliseconds.

A worker loads the rule set, warms up, then prices ``count`` baskets inside
one call of ``functools.reduce``; callgrind counts only inside that call
(``--collect-atstart=no --toggle-collect=functools_reduce``), so the total
divided by ``count`` is the cost of one basket (pricing and the response, plus
a lambda call of a few hundred instructions). The engine never calls
``reduce``. Workers load the rule set from IR JSON compiled once here, outside
valgrind, and freeze the heap as the server does after loading a version and
after building each index slice (api/heap.py).

Until 2026-11-28 night the bench subtracted a run pricing no basket from one
pricing ``count``. Loading 100,000 rules is ~14G instructions, and two
processes loading the same rules counted 72M apart (object addresses move, and
with them collisions in CPython's method cache and in sets): 240k per basket
of noise, which read as x1.13 between two copies whose pricing was x0.90
apart.

Needs valgrind (`apt-get install valgrind`) and a CPython with its symbols
(pyenv's builds keep them). Under valgrind a worker runs ~50x slower: ~1
minute at 10,000 rules, ~5 at 100,000.

Usage (from the repository root)::

    python -m bench.bench_instructions --rules 10000
    python -m bench.bench_instructions --rules 100000 --growing
    python -m bench.bench_instructions --rules 10000 --paths /tmp/old-build build/compiled
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dsl

from .bench_core import growing_catalogue
from .callgrind import MISSES, cache_options, summary
from .generate import BENCH_AT, baskets, catalogue, rules_source

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 50

WORKER = """
import functools, gc, json, sys
sys.path[:0] = [sys.argv[1], {root!r}]
import engine
evaluator = engine.Evaluator(engine.load_ruleset(open(sys.argv[2]).read()))
requests = [engine.parse_request(r) for r in json.load(open(sys.argv[3]))]
gc.collect()
gc.freeze()
count = int(sys.argv[4])
price = evaluator.evaluate
if sys.argv[5] == "text":
    # What a server sends; a copy older than evaluate_json: what its server did.
    import orjson
    price = getattr(evaluator, "evaluate_json", None) or (
        lambda request: orjson.dumps(evaluator.evaluate(request)))
for request in requests[:{warm_up}]:
    price(request)
# The index slices the warm-up built, frozen as a server freezes each one it builds
# (api/heap.py): otherwise a full collection walking them lands in one count or not.
gc.collect(1)
gc.freeze()
# callgrind counts inside this one call of reduce, nothing before or after it.
functools.reduce(lambda _, request: price(request), requests[{warm_up}:{warm_up} + count], None)
print(engine.BUILD)
"""


def _prepare(folder: Path, rules: int, growing: bool, count: int,
             basket_offers_of: int | None = None) -> tuple[Path, Path]:
    """The rule set as IR JSON and the baskets as JSON, written into ``folder``."""
    cat = growing_catalogue(rules) if growing else catalogue()
    source = rules_source(rules, cat=cat, basket_offers_of=basket_offers_of)
    ruleset = dsl.compile_source(source, "bench.rules", publish_at=BENCH_AT)
    ir_path, baskets_path = folder / "rules.json", folder / "baskets.json"
    ir_path.write_text(ruleset.to_json(), encoding="utf-8")
    baskets_path.write_text(json.dumps(baskets(WARM_UP + count, cat=cat)), encoding="utf-8")
    return ir_path, baskets_path


def _count(path: str, ir_path: Path, baskets_path: Path, count: int, answer: str,
           caches: list[str], dump: Path) -> tuple[str, dict[str, int]]:
    """(engine build, the events callgrind counted while the worker priced ``count``
    baskets: "Ir", and the caches' misses with ``caches``), the dump written to ``dump``."""
    code = WORKER.format(root=str(ROOT), warm_up=WARM_UP)
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict and set layouts
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}", *caches,
         "--collect-atstart=no", "--toggle-collect=functools_reduce",
         sys.executable, "-P", "-c", code, path, str(ir_path), str(baskets_path),
         str(count), answer], capture_output=True, text=True, env=env, check=False)
    counted = summary(dump.read_text(errors="replace")) if dump.exists() else {}
    if done.returncode != 0 or not counted:
        raise SystemExit(f"the worker failed:\n{done.stderr[-2000:]}")
    if counted["Ir"] == 0:
        raise SystemExit("callgrind counted nothing: this Python has no symbol for "
                         "functools_reduce (a stripped build?); use one with symbols")
    return done.stdout.strip(), counted


def per_basket(path: str, ir_path: Path, baskets_path: Path, count: int, answer: str,
               caches: list[str] | None = None, dump: Path | None = None
               ) -> tuple[str, dict[str, float]]:
    """(engine build, each event counted per basket); the dump is kept at ``dump``."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        build, counted = _count(path, ir_path, baskets_path, count, answer, caches or [],
                                dump or Path(tmp) / "callgrind.out")
    return build, {event: total / count for event, total in counted.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--baskets", type=int, default=300)
    parser.add_argument("--growing", action="store_true",
                        help="the catalogue grows with the rules (bench_core's third mix)")
    parser.add_argument("--paths", nargs="+", default=["."], metavar="PATH",
                        help="installed copies to count (e.g. build/compiled); default: "
                             "the source tree")
    parser.add_argument("--answer", choices=("data", "text"), default="data",
                        help="data: Evaluator.evaluate (the response as data, as bench_core "
                             "times it); text: the JSON text a server sends (evaluate_json)")
    parser.add_argument("--basket-offers-of", type=int, metavar="RULES",
                        help="a diagnostic: keep only the basket-wide offers a rule set of "
                             "RULES rules has (generate.rules_source)")
    parser.add_argument("--cache-sim", type=int, metavar="BYTES", dest="last_level",
                        help="also simulate the caches, with a last level of BYTES "
                             "(33554432: a 32 MiB L3), and count misses per basket")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each copy's callgrind dump in DIR (callgrind.out.1, "
                             ".2, ... in the order of --paths), for bench.callgrind")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        # The rule set is compiled here: with string hashing seeded at random, the
        # same rules could come out in another order and cost a worker other work.
        os.execve(sys.executable, [sys.executable, "-m", "bench.bench_instructions",
                                   *sys.argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    mix = "growing catalogue" if args.growing else "realistic mix"
    if args.basket_offers_of:
        mix += f", basket-wide offers of {args.basket_offers_of:,} rules"
    print(f"{args.rules:,} rules ({mix}), {args.baskets} baskets after {WARM_UP} warm-up, "
          f"answer as {args.answer}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    caches = cache_options(args.last_level)
    with tempfile.TemporaryDirectory(prefix="remise-instructions-") as tmp:
        ir_path, baskets_path = _prepare(Path(tmp), args.rules, args.growing, args.baskets,
                                         args.basket_offers_of)
        counted = [(path, *per_basket(path, ir_path, baskets_path, args.baskets, args.answer,
                                      caches, args.keep / f"callgrind.out.{number}"
                                      if args.keep else None))
                   for number, path in enumerate(args.paths, start=1)]
    for path, build, events in counted:
        print(f"{path} ({build}): {events['Ir']:,.0f} instructions per basket")
        for measure, (read, write) in MISSES.items():
            if read in events:
                print(f"    {measure}: {events[read] + events[write]:,.0f} per basket "
                      f"({events[read]:,.0f} reads, {events[write]:,.0f} writes)")
    if len(counted) == 2:
        print(f"second / first: x{counted[1][2]['Ir'] / counted[0][2]['Ir']:.3f}")


if __name__ == "__main__":
    main()
