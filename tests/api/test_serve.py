"""The README's first command: `remise serve` on a fresh data folder starts with the
demo rules and an admin key, and prices a basket."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis

from tests.store.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


def _serve(data: Path, port: int, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMISE_")}
    env["REMISE_DATA_DIR"] = str(data)
    env.update(settings)
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("remise serve did not become ready in 30 s")


def _stop(server: subprocess.Popen[str]) -> str:
    server.terminate()
    output, _ = server.communicate(timeout=15)
    return output


def test_first_start_publishes_the_demo_and_prints_an_admin_key(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path / "data", port)
    try:
        _wait_ready(port)
        basket = json.loads((ROOT / "examples/baskets/pos-rain-flash-cardholder.json")
                            .read_text(encoding="utf-8"))
        assert server.stdout is not None
        first_output = server.stdout.readline() + server.stdout.readline()
        key = re.search(r"admin key \(shown once, keep it\): (rk_\S+)", first_output)
        assert key is not None, first_output
        priced = httpx.post(f"http://127.0.0.1:{port}/v1/evaluate", json=basket,
                            headers={"Authorization": f"Bearer {key.group(1)}"})
    finally:
        _stop(server)

    assert "published the demo rules (28 rules) as rule set 'default', version 1" in first_output
    assert priced.status_code == 200
    jacket = priced.json()["lines"][0]
    # the rain flash (-15% for cardholders, 14:00-14:30 Paris on 2026-11-23) on 89.90
    assert (priced.json()["version"], jacket["sku"], jacket["adjustments"]) == (
        1, "RAIN-JKT-01", [{"rule": "rain_flash", "amount": "13.49",
                            "title": "Averse : -15% sur les vêtements de pluie"}])
    assert (tmp_path / "data" / "remise.db").is_file()


def test_the_demo_published_on_first_start_is_announced_on_redis(
        tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    # given servers listening on Redis for new live versions
    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe(f"{redis_prefix}:live")
    listener.get_message(timeout=5)  # the subscription's confirmation

    # when a first server starts on an empty store with Redis configured
    port = free_port()
    server = _serve(tmp_path / "data", port, REMISE_REDIS_URL=redis_url,
                    REMISE_REDIS_PREFIX=redis_prefix)
    try:
        _wait_ready(port)
        message = listener.get_message(timeout=10)
    finally:
        _stop(server)
        listener.close()

    # then the demo's publish was announced to them, as any publish is
    assert message is not None and message["type"] == "message"
    announced = json.loads(message["data"])
    assert (announced["ruleset"], announced["version"]) == ("default", 1)


def test_a_second_start_keeps_the_store_as_it_is(tmp_path: Path) -> None:
    for _ in range(2):
        port = free_port()
        server = _serve(tmp_path / "data", port)
        try:
            _wait_ready(port)
        finally:
            output = _stop(server)

    assert "published the demo" not in output
    assert "admin key: already created" in output


def test_with_several_workers_metrics_add_up_whichever_worker_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REMISE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env["REMISE_DATA_DIR"] = str(tmp_path / "data")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_ready(port)
        assert server.stdout is not None
        output = server.stdout.readline() + server.stdout.readline()
        key = re.search(r"admin key \(shown once, keep it\): (rk_\S+)", output)
        assert key is not None, output
        basket = json.loads((ROOT / "examples/baskets/web-t100-price-anonymous.json")
                            .read_text(encoding="utf-8"))
        for _ in range(20):  # new connections: both workers get some of them
            assert httpx.post(f"http://127.0.0.1:{port}/v1/evaluate", json=basket,
                              headers={"Authorization": f"Bearer {key.group(1)}"}
                              ).status_code == 200
        scrapes = [httpx.get(f"http://127.0.0.1:{port}/metrics").text for _ in range(4)]
    finally:
        _stop(server)

    wanted = 'remise_evaluate_seconds_count{ruleset="default"} 20.0'
    assert all(wanted in scrape for scrape in scrapes)
