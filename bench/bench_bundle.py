"""Device bundles: size (raw and gzip) and the time a device takes to load and verify one.

Builds the generated rule set (the core benchmark's realistic mix), publishes it
in a temporary store, issues signed bundles for one channel and store, and
times `engine.read_bundle` (parse the envelope, verify Ed25519 over the
payload, check the IR's SHA-256, validate the rules) and the evaluator build
a device does after it.

Usage (from the repository root)::

    python -m bench.bench_bundle                  # 1,000 and 10,000 rules
    python -m bench.bench_bundle --sizes 10000 --repeat 20
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import engine
import rules
from rules.bundles import BundleIssuer, SigningKeys

from .generate import BENCH_AT, rules_source


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(size: int, repeat: int, folder: Path) -> dict[str, float]:
    store = rules.open_store(rules.Settings.from_env({"REMISE_DATA_DIR": str(folder)}))
    version = store.publish(f"bench{size}", {"generated.rules": rules_source(size)},
                            message="bench", author="bench")
    keys = SigningKeys(folder / "keys")
    trusted = keys.public_keys()
    issuer = BundleIssuer(keys)
    started = time.perf_counter()
    data = issuer.issue(version.ruleset, version.ruleset_ir(), "pos", "store-001", BENCH_AT)
    issue_ms = (time.perf_counter() - started) * 1000
    verify, build = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        bundle = engine.read_bundle(data, trusted, now=BENCH_AT)
        verified = time.perf_counter()
        engine.Evaluator(bundle.ruleset)
        verify.append((verified - started) * 1000)
        build.append((time.perf_counter() - verified) * 1000)
    store.db.dispose()
    return {"rules": version.rule_count, "kept": bundle.header.rules, "raw": len(data),
            "gzip": len(gzip.compress(data, 6)), "issue": issue_ms,
            "verify_p50": statistics.median(verify), "verify_p99": _percentile(verify, 0.99),
            "build_p50": statistics.median(build)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} "
          f"CPUs, Python {platform.python_version()}; bundle for channel pos, one store; "
          f"{args.repeat} loads each")
    print("| rules in version | rules in bundle | raw | gzip | issue (first, ms) | "
          "load + verify p50 / p99 ms | evaluator build p50 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="remise-bench-bundle-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            r = measure(size, args.repeat, Path(tmp))
            print(f"| {r['rules']:,.0f} | {r['kept']:,.0f} | {r['raw'] / 1024:,.0f} KiB | "
                  f"{r['gzip'] / 1024:,.0f} KiB | {r['issue']:.0f} | {r['verify_p50']:.0f} / "
                  f"{r['verify_p99']:.0f} | {r['build_p50']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
