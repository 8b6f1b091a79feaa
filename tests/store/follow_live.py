"""Child process of the propagation tests: a process that serves live versions.

Prints ``ready`` once started, then ``live <ruleset> <version> <unix time>`` each
time its live cache installs a version. Arguments: database URL, Redis URL (or
``-``), Redis prefix, poll seconds.
"""

from __future__ import annotations

import sys
import time

from rules import LiveCache, LiveRuleSet, RedisFanout, RuleStore, create_db_engine


def main(database_url: str, redis_url: str, prefix: str, poll_seconds: str) -> None:
    store = RuleStore(create_db_engine(database_url))
    fanout = RedisFanout(redis_url, prefix=prefix) if redis_url != "-" else None
    cache = LiveCache(store, fanout=fanout, poll_seconds=float(poll_seconds))

    def report(entry: LiveRuleSet) -> None:
        print(f"live {entry.name} {entry.version} {time.time():.6f}", flush=True)

    cache.on_reload.append(report)
    cache.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    cache.stop()


if __name__ == "__main__":
    main(*sys.argv[1:5])
