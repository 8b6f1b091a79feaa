"""HTTP: `/v1/evaluate` with 10,000 live rules against the bare `/v1/echo` of the same app.

Both endpoints go through the same server, middleware, key check, body
parsing and basket validation; `/v1/echo` then sends the basket back where
`/v1/evaluate` prices it. The ratio of their requests per second is what
evaluation costs over HTTP (target: evaluate >= 70% of echo).

The server is `remise serve` (uvicorn, httptools, uvloop) on the embedded
SQLite store in a temporary folder; the load generator is wrk over loopback,
cycling through 200 distinct generated 20-line baskets. Rounds alternate
echo / evaluate so that drift on the machine hits both alike.

Usage (from the repository root; needs wrk, e.g. `apt-get install wrk`)::

    python -m bench.bench_http                 # 10,000 rules, 1 worker
    python -m bench.bench_http --workers 2 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

import rules
from api.auth import KeyStore

from .generate import baskets, rules_source

ROOT = Path(__file__).resolve().parents[1]

LUA = """
local bodies = {%s}
local counter = 0
request = function()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer %s"}, body)
end
"""


def _prepare(folder: Path, rule_count: int) -> str:
    """A store with the generated rules live as `default`; returns a channel key."""
    settings = rules.Settings.from_env({"REMISE_DATA_DIR": str(folder)})
    store = rules.open_store(settings)
    store.publish("default", {"generated.rules": rules_source(rule_count)},
                  message="bench", author="bench")
    key = KeyStore(store).create("bench", "channel", created_by="bench")
    store.db.dispose()
    return key


def _script(folder: Path, key: str, count: int) -> Path:
    bodies = ",".join("[==[" + json.dumps(b, separators=(",", ":")) + "]==]"
                      for b in baskets(count))
    path = folder / "baskets.lua"
    path.write_text(LUA % (bodies, key), encoding="utf-8")
    return path


def _pinned(cpu: int | None) -> Callable[[], None] | None:
    """For Popen: run the child on ``cpu`` alone (None: wherever the kernel likes)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _serve(folder: Path, port: int, workers: int, cpu: int | None = None
           ) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMISE_")}
    env["REMISE_DATA_DIR"] = str(folder)
    # Under `python -P` (the compiled build first on PYTHONPATH, see
    # bench/README.md) the server must not put the source tree first either.
    safe_path = ["-P"] if sys.flags.safe_path else []
    server = subprocess.Popen(
        [sys.executable, *safe_path, "-m", "api.cli", "serve", "--no-demo", "--port", str(port),
         "--workers", str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, preexec_fn=_pinned(cpu))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not become ready")


def _wrk(url: str, script: Path, seconds: int, connections: int, cpu: int | None = None
         ) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         url], capture_output=True, text=True, check=True, preexec_fn=_pinned(cpu)).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"{url} answered errors:\n{output}")

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert match, output
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--pin", action="store_true",
                        help="server on CPU 0, wrk on CPU 1 (each keeps its own caches)")
    args = parser.parse_args()
    if args.pin and (os.cpu_count() or 1) < 2:
        raise SystemExit("--pin needs two CPUs")
    server_cpu, client_cpu = (0, 1) if args.pin else (None, None)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="remise-bench-http-") as tmp:
        folder = Path(tmp)
        key = _prepare(folder, args.rules)
        script = _script(folder, key, 200)
        server = _serve(folder, args.port, args.workers, server_cpu)
        try:
            base = f"http://127.0.0.1:{args.port}"
            build = httpx.get(base + "/healthz").json()["engine_build"]
            results: dict[str, list[dict[str, float]]] = {"/v1/echo": [], "/v1/evaluate": []}
            for path in results:  # warm-up: every basket's hour slice built, code paths hot
                _wrk(base + path, script, 3, args.connections, client_cpu)
            for _ in range(args.rounds):
                for path, runs in results.items():
                    runs.append(_wrk(base + path, script, args.seconds, args.connections,
                                     client_cpu))
            single = {path: _wrk(base + path, script, args.seconds, 1, client_cpu)
                      for path in results}
        finally:
            server.terminate()
            server.wait()
    _report(args, results, single, build)


def _report(args: argparse.Namespace, results: dict[str, list[dict[str, float]]],
            single: dict[str, dict[str, float]], build: str) -> None:
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} "
          f"CPUs, Python {platform.python_version()}; {args.rules:,} rules, {args.workers} "
          f"worker(s), wrk -t1 -c{args.connections}, {args.rounds} x {args.seconds} s per "
          f"endpoint, 200 distinct 20-line baskets; server engine build: {build}"
          + ("; server pinned to CPU 0, wrk to CPU 1" if args.pin else ""))
    print("| endpoint | req/s (median of rounds) | p50 ms | p99 ms | 1 connection: p50 / p99 ms |")
    print("|---|---:|---:|---:|---:|")
    medians = {}
    for path, runs in results.items():
        medians[path] = statistics.median(r["rps"] for r in runs)
        print(f"| `{path}` | {medians[path]:,.0f} | "
              f"{statistics.median(r['p50'] for r in runs):.2f} | "
              f"{statistics.median(r['p99'] for r in runs):.2f} | "
              f"{single[path]['p50']:.2f} / {single[path]['p99']:.2f} |")
    ratio = medians["/v1/evaluate"] / medians["/v1/echo"]
    # Each round times echo and then evaluate back to back: their ratio, round by round,
    # shows how far the machine moved during the run.
    pairs = [evaluate["rps"] / echo["rps"]
             for echo, evaluate in zip(results["/v1/echo"], results["/v1/evaluate"], strict=True)]
    print(f"\nevaluate / echo = {ratio:.0%} (target >= 70%); round by round: "
          + ", ".join(f"{pair:.0%}" for pair in pairs))


if __name__ == "__main__":
    main()
