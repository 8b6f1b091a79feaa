"""Publish to live: how long after a publish every worker serves the new version.

Starts worker processes that follow live versions exactly as servers do
(`remise rules watch`: the live cache with Redis pub/sub, database polling
pushed back to one hour so only pub/sub counts), then publishes new versions
one after the other and reads when each worker installed each version.

Reported per rule-set size:

* publish: the `RuleStore.publish` call (compile the source, then one
  transaction) as a marketer waits for it;
* commit to live: from the commit (the moment the version is live in the
  database) to the moment the *last* worker serves it: announce on Redis,
  read the IR from the Redis cache, build the evaluator, swap;
* request to live: both together.

Usage (from the repository root, with PostgreSQL and Redis running)::

    python -m bench.bench_publish                         # 28, 1,000, 10,000 rules
    python -m bench.bench_publish --sizes 1000 --publishes 50 --workers 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from rules import RedisFanout, RuleStore, Version, create_db_engine, upgrade

from .generate import rules_source

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "rules"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _sources(size: int, round_number: int) -> dict[str, str]:
    """A rule set of ``size`` rules whose content differs every round (a new hash)."""
    extra = (f'\nrule bench_round "Round {round_number}" {{\n'
             f'    discount {round_number % 50 + 1}% on items where sku = "BENCH-{round_number}"\n'
             "}\n")
    if size == 0:
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted(DEMO.glob("*.rules"))}
        files["prices.rules"] += extra
        return files
    return {"generated.rules": rules_source(size) + extra}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Workers:
    def __init__(self, count: int, database_url: str, redis_url: str, prefix: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "REMISE_DATABASE_URL": database_url,
               "REMISE_REDIS_URL": redis_url, "REMISE_REDIS_PREFIX": prefix,
               "REMISE_POLL_SECONDS": "3600"}
        self.processes = [
            subprocess.Popen([sys.executable, "-m", "api.cli", "rules", "watch"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(count)]

    def wait_live(self, version: int, timeout: float = 600) -> list[float]:
        """When each worker started serving ``version`` (unix seconds)."""
        deadline = time.monotonic() + timeout
        stamps = []
        for process in self.processes:
            assert process.stdout is not None
            while True:
                if time.monotonic() > deadline:
                    raise SystemExit(f"a worker did not serve version {version} in {timeout}s")
                fields = process.stdout.readline().split()
                if len(fields) >= 4 and fields[3] == str(version):
                    stamps.append(datetime.fromisoformat(fields[0]).timestamp())
                    break
        return stamps

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait()


def run_size(size: int, publishes: int, workers: int, database_url: str,
             redis_url: str) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    db = create_db_engine(database_url)
    upgrade(db)
    store = RuleStore(db)
    committed: dict[int, float] = {}
    store.listeners.append(lambda v: committed.__setitem__(v.number, time.time()))
    fanout = RedisFanout(redis_url, prefix=prefix)
    store.listeners.append(fanout.announce)
    rounds = [_sources(size, n) for n in range(publishes + 1)]
    first: Version = store.publish("bench", rounds[0], message="start", author="bench")
    pool = Workers(workers, database_url, redis_url, prefix)
    try:
        pool.wait_live(first.number)
        publish_ms, commit_ms, request_ms = [], [], []
        for sources in rounds[1:]:
            started = time.time()
            version = store.publish("bench", sources, message="bench", author="bench")
            done = time.time()
            last_live = max(pool.wait_live(version.number))
            publish_ms.append((done - started) * 1000)
            commit_ms.append((last_live - committed[version.number]) * 1000)
            request_ms.append((last_live - started) * 1000)
    finally:
        pool.stop()
        fanout.client.delete(*fanout.client.keys(f"{prefix}:*") or ["-"])
        fanout.close()
        db.dispose()
    rules_count = first.rule_count
    return {"rules": rules_count,
            **{f"publish_{k}": v for k, v in _summary(publish_ms).items()},
            **{f"live_{k}": v for k, v in _summary(commit_ms).items()},
            **{f"total_{k}": v for k, v in _summary(request_ms).items()}}


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p99": _percentile(values, 0.99),
            "max": max(values)}


def _fresh_database(url: str) -> tuple[str, object]:
    """A private PostgreSQL schema (dropped afterwards) or a temporary SQLite file."""
    if not url.startswith("postgresql"):
        return url, None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{url}?options=-csearch_path%3D{schema}", (admin, schema)


def _drop(handle: object) -> None:
    if handle is None:
        return
    admin, schema = handle  # type: ignore[misc]
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sizes", default="0,1000,10000",
                        help="rule counts; 0 is the demo rule set")
    parser.add_argument("--publishes", type=int, default=0,
                        help="publishes per size (default: 100, 50, 20 by size)")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()},"
          f" {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{args.workers} workers, database {args.database.split('://')[0]}")
    print("| rules | publishes | publish p50 / p99 ms | commit to live on every worker "
          "p50 / p99 / max ms | publish request to live p50 / p99 ms |")
    print("|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        publishes = args.publishes or (100 if size <= 100 else 50 if size <= 1000 else 20)
        url, handle = _fresh_database(args.database)
        try:
            r = run_size(size, publishes, args.workers, url, args.redis)
        finally:
            _drop(handle)
        print(f"| {r['rules']:,.0f} | {publishes} | {r['publish_p50']:.1f} / "
              f"{r['publish_p99']:.1f} | {r['live_p50']:.1f} / {r['live_p99']:.1f} / "
              f"{r['live_max']:.1f} | {r['total_p50']:.1f} / {r['total_p99']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
