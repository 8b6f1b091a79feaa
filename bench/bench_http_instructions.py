"""Instructions per HTTP request of the server, `/v1/echo` against `/v1/evaluate`.

`bench_http` times both endpoints with wrk; their ratio moves by several points
from one run to the next on a shared machine. This counts instead: the server
(`remise serve`, 10,000 generated rules, as `bench_http` sets it up) runs under
valgrind's callgrind, a client sends the same baskets to each endpoint in turn,
and the counters are zeroed before and dumped after each batch
(`callgrind_control`), so each dump holds exactly one batch of requests: the
whole request inside the server (HTTP parsing, routing, key check, reading the
basket, pricing, encoding), not the client nor the kernel. Two rounds show that
the counts repeat.

Instructions are not time (a cache miss costs more than an addition): the
instruction ratio of echo to evaluate reads higher than `bench_http`'s ratio of
requests per second. Use it to see where a request's work goes and whether a
change removed some: `--functions N` lists the functions whose own cost grows
most from echo to evaluate (bench/callgrind.py reads the dumps; the exclusive
view of `callgrind_annotate` misreads them, its `--inclusive=yes` view does not:
use that on a kept dump, `--keep DIR`, for costs with their callees).

Usage (from the repository root; needs valgrind; ~2 minutes)::

    python -m bench.bench_http_instructions
    PYTHONPATH=build/compiled:. python -P -m bench.bench_http_instructions --keep /tmp/dumps
    PYTHONPATH=build/compiled:. python -P -m bench.bench_http_instructions \
        --cache-sim 1048576 --functions 15
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench_http import ROOT, _prepare
from .callgrind import MISSES, cache_options, difference_table, summary
from .generate import baskets

ENDPOINTS = ("/v1/echo", "/v1/evaluate")
WARM_UP = 250  # per endpoint: every basket's hour slice built, code paths taken once


def _serve(folder: Path, out: Path, port: int, caches: list[str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMISE_")}
    env.update(REMISE_DATA_DIR=str(folder), PYTHONHASHSEED="0")
    safe_path = ["-P"] if sys.flags.safe_path else []
    return subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out",
         *caches, sys.executable, *safe_path, "-m", "api.cli", "serve", "--no-demo", "--port",
         str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _connect(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection, once the server (slow under valgrind) is ready."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            connection.request("GET", "/readyz")
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                return connection
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit("the server did not become ready under valgrind")


def _send(connection: http.client.HTTPConnection, path: str, bodies: list[bytes], key: str,
          count: int) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    for index in range(count):
        connection.request("POST", path, bodies[index % len(bodies)], headers)
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise SystemExit(f"{path} answered {answer.status}: {body[:300]!r}")


def _control(*arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments], check=True, capture_output=True)


def _dumps(out: Path) -> dict[str, Path]:
    """Dump description ("/v1/echo 1") -> its file."""
    found = {}
    for dump in out.glob("callgrind.out.*"):
        with dump.open(errors="replace") as text:
            for line in text:
                if line.startswith("desc: Trigger: dump "):
                    found[line.removeprefix("desc: Trigger: dump ").strip()] = dump
                    break
                if line.startswith("fn="):  # past the header: not one of ours
                    break
    return found


def _totals(dumps: dict[str, Path]) -> dict[str, dict[str, int]]:
    """Dump description -> event ("Ir", "D1mr", ...) -> count, from the dump files."""
    read = {description: summary(dump.read_text(errors="replace"))
            for description, dump in dumps.items()}
    return {description: counts for description, counts in read.items() if counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--keep", type=Path, help="keep the callgrind dumps in this folder")
    parser.add_argument("--cache-sim", type=int, metavar="BYTES", dest="last_level",
                        help="also simulate the caches, with a last level of BYTES "
                             "(2097152: a 2 MiB L2), and count misses per request")
    parser.add_argument("--functions", type=int, default=0, metavar="N",
                        help="also list the N functions whose own cost grows most from "
                             "echo to evaluate (the last round; by last-level data read "
                             "misses with --cache-sim, else by instructions)")
    args = parser.parse_args()
    for program in ("valgrind", "callgrind_control"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is not installed (apt-get install valgrind)")
    bodies = [json.dumps(b, separators=(",", ":")).encode() for b in baskets(200)]
    with tempfile.TemporaryDirectory(prefix="remise-bench-http-ic-") as tmp:
        folder = Path(tmp)
        out = args.keep or folder / "dumps"
        out.mkdir(parents=True, exist_ok=True)
        key = _prepare(folder, args.rules)
        server = _serve(folder, out, args.port, cache_options(args.last_level))
        try:
            connection = _connect(args.port)
            for path in ENDPOINTS:
                _send(connection, path, bodies, key, WARM_UP)
            for round_number in range(1, args.rounds + 1):
                for path in ENDPOINTS:
                    _control("--zero", str(server.pid))
                    _send(connection, path, bodies, key, args.requests)
                    _control(f"--dump={path} {round_number}", str(server.pid))
        finally:
            server.terminate()
            server.wait()
        dumps = _dumps(out)
        totals = _totals(dumps)
        _report(args, totals)
        if args.functions:
            _report_functions(args, dumps)


def _report(args: argparse.Namespace, totals: dict[str, dict[str, int]]) -> None:
    print(f"{args.rules:,} rules, {args.requests} requests per endpoint and round "
          f"(200 distinct 20-line baskets), after {WARM_UP} per endpoint")
    measures = {"instructions": ("Ir",)}
    if args.last_level is not None:
        measures.update(MISSES)
    for measure, events in measures.items():
        per_request: dict[str, list[float]] = {path: [] for path in ENDPOINTS}
        for round_number in range(1, args.rounds + 1):
            for path in ENDPOINTS:
                counts = totals[f"{path} {round_number}"]
                count = sum(counts[event] for event in events) / args.requests
                per_request[path].append(count)
                print(f"round {round_number} {path}: {count:,.0f} {measure} per request")
        echo, evaluate = (min(per_request[path]) for path in ENDPOINTS)
        print(f"{measure}, evaluate - echo: {evaluate - echo:,.0f} per request; "
              f"echo / evaluate: {echo / evaluate:.1%}")


def _report_functions(args: argparse.Namespace, dumps: dict[str, Path]) -> None:
    """Where evaluate's extra cost falls, function by function (their own cost, not
    what they call), per request."""
    echo, evaluate = (dumps[f"{path} {args.rounds}"] for path in ENDPOINTS)
    by, lines = difference_table(echo, evaluate, args.functions, args.requests)
    print(f"\nevaluate - echo per request, each function's own cost (round {args.rounds}), "
          f"the {args.functions} that grow most in {by}:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
