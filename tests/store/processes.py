"""Test helpers that run real processes: followers of the live cache, a private Redis."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from rules import LiveCache, RedisFanout, RuleStore, create_db_engine

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], object], timeout: float = 10,
               failing: str = "timed out") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failing
        time.sleep(0.02)


@contextmanager
def following_redis(database_url: str, redis_url: str, prefix: str) -> Iterator[LiveCache]:
    """A process's live cache following Redis at ``redis_url`` (its database checked
    only hourly, so what it serves came through Redis or a catch-up), subscribed before
    it is handed over; stopped and its connection closed after."""
    fanout = RedisFanout(redis_url, prefix=prefix)
    cache = LiveCache(RuleStore(create_db_engine(database_url)), fanout=fanout,
                      poll_seconds=3600)
    cache.start()
    try:
        wait_until(lambda: cache.redis_connected, failing="never subscribed")
        yield cache
    finally:
        cache.stop()
        fanout.close()


class Follower:
    """Another remise process following live versions (`remise rules watch`)."""

    def __init__(self, database_url: str, redis_url: str | None, prefix: str,
                 poll_seconds: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "REMISE_DATABASE_URL": database_url,
               "REMISE_REDIS_PREFIX": prefix, "REMISE_POLL_SECONDS": str(poll_seconds)}
        env.pop("REMISE_REDIS_URL", None)
        if redis_url:
            env["REMISE_REDIS_URL"] = redis_url
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "rules", "watch"], cwd=ROOT,
            stdout=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def wait_for(self, wanted: object, timeout: float) -> str:
        """The first line ever reported that is ``wanted``, waiting for it if need be."""
        for line in self.seen:
            if wanted(line):  # type: ignore[operator]
                return line
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the follower did not report in {timeout} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if wanted(line):  # type: ignore[operator]
                return line

    def wait_for_version(self, ruleset: str, version: int, timeout: float = 10) -> datetime:
        """Block until the follower serves ``version``; returns when it started to."""
        line = self.wait_for(lambda text: text.split()[1:4] == ["live", ruleset, str(version)],
                             timeout)
        return datetime.fromisoformat(line.split()[0])

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, which it can stop and start again."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
