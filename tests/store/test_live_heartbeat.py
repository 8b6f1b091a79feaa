"""A subscription to Redis that goes silent, without the connection being closed (a
firewall or load balancer dropping a flow it found idle: no RST, no FIN), is noticed
and made again, so publishes keep reaching the process within seconds."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from rules import RedisFanout, RuleStore
from rules.live import HEARTBEAT_SECONDS, PONG_TIMEOUT_SECONDS
from tests.conftest import require_program

from .processes import PrivateRedis, following_redis, wait_until
from .scenario import BOOTS_10, BOOTS_20, sources


class _Pipe:
    """One client connection through the proxy, and its connection to Redis."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.sockets = (client, upstream)
        self.muted = False

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.muted:  # swallowed: neither side hears of it
                    target.sendall(data)
        except OSError:
            pass


class SilentProxy:
    """A TCP proxy to a Redis port whose open connections can go silent, while new
    connections go through as before."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.pipes: list[_Pipe] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                pipe = _Pipe(client, upstream)
                self.pipes.append(pipe)
                for ends in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe.pump, args=ends, daemon=True).start()
        except OSError:
            pass  # closed

    def silence_open_connections(self) -> None:
        for pipe in self.pipes:
            pipe.muted = True

    def close(self) -> None:
        self.listener.close()
        for pipe in self.pipes:
            for end in pipe.sockets:
                end.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(require_program("redis-server"))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_subscription_gone_silent_is_made_again_and_caught_up(
    store: RuleStore, database_url: str, private_redis: PrivateRedis, redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a process subscribed to Redis through a middlebox, checking the database
    # only hourly
    publisher = RedisFanout(private_redis.url, prefix=redis_prefix)
    store.listeners.append(publisher.announce)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    proxy = SilentProxy(private_redis.port)
    try:
        with following_redis(database_url, proxy.url, redis_prefix) as cache, \
                caplog.at_level(logging.WARNING, logger="remise.live"):
            # when the middlebox drops the flow without a word, and a version is published
            proxy.silence_open_connections()
            store.publish("fr", sources(BOOTS_20), message="v2", author="ana")

            # then, within a heartbeat and a PONG's wait, the process notices, subscribes
            # again and catches up from the database
            wait_until(lambda: cache.get("fr").version == 2,  # type: ignore[union-attr]
                       HEARTBEAT_SECONDS + PONG_TIMEOUT_SECONDS + 5,
                       "the silent subscription went unnoticed")
        assert "did not answer a PING" in caplog.text
    finally:
        publisher.close()
        proxy.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_publish_after_a_quiet_spell_is_announced_at_once(
    store: RuleStore, database_url: str, private_redis: PrivateRedis, redis_prefix: str,
) -> None:
    # given a publishing process whose connection to Redis, through a middlebox, sat idle
    # in its pool since its last announcement, and a process following Redis directly
    proxy = SilentProxy(private_redis.port)
    publisher = RedisFanout(proxy.url, prefix=redis_prefix)
    store.listeners.append(publisher.announce)
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")
    try:
        with following_redis(database_url, private_redis.url, redis_prefix) as cache:
            # when the middlebox has dropped that idle flow without a word, and a version
            # is published
            proxy.silence_open_connections()
            store.publish("fr", sources(BOOTS_20), message="v2", author="ana")

            # then it is announced on a connection that works, and served at once
            wait_until(lambda: cache.get("fr").version == 2,  # type: ignore[union-attr]
                       2, "the publish was not announced")
    finally:
        publisher.close()
        proxy.close()
