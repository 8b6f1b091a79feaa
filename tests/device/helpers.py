"""Bundles for the device tests: real rules, real Ed25519 keys; a small HTTP server
answering the keys and the bundle as a test sets them; the command line."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from typer.testing import CliRunner

import dsl
import engine
from api.cli import app as cli
from rules.bundles import BundleIssuer, SigningKeys
from rules.store import content_hash

ISSUED = datetime(2026, 11, 27, 9, 20, tzinfo=UTC)  # bundles say 09:00, valid 72 h
SOURCE = """currency EUR
timezone Europe/Paris

rule boots "Bottes -10%" {
    discount 10% on items where category = "boots"
}

rule web_only "Web : chaussettes -50%" {
    channels web
    discount 50% on items where category = "socks"
}

rule lyon_only "Lyon : -5 EUR" {
    stores "lyon-01"
    discount 5.00 EUR on basket
}

rule web_coupon "Code WEB5 (web)" {
    channels web
    coupon "WEB5"
    discount 5.00 EUR on basket
}

rule flash "Flash 10:00-12:00" {
    valid 2026-11-27 10:00 for 2 hours
    discount 20% on items where category = "hats"
}
"""


def published(version: int = 3, source: str = SOURCE) -> engine.RuleSet:
    """The rules as the store would hold them for ``version``."""
    ruleset = dsl.compile_source(source, "promo.rules", publish_at=ISSUED)
    return ruleset.model_copy(update={"version": version,
                                      "content_hash": content_hash(ruleset.to_json())})


def issuer(folder: Path) -> BundleIssuer:
    return BundleIssuer(SigningKeys(folder), valid_hours=72)


def bundle_bytes(folder: Path, *, version: int = 3, channel: str = "pos",
                 store: str | None = "paris-01", ruleset: str = "fr",
                 now: datetime = ISSUED) -> bytes:
    return issuer(folder).issue(ruleset, published(version), channel, store, now)


def till_holding_a_bundle(folder: Path, keys: Path) -> Path:
    """A till's folder holding fr version 3 for pos in paris-01, issued now and signed by
    the key in ``keys``, which it trusts."""
    device = engine.DeviceFolder(folder)
    device.trust(SigningKeys(keys).public_keys())
    now = datetime.now(UTC)
    device.install(bundle_bytes(keys, now=now), now=now, ruleset="fr", channel="pos",
                   store="paris-01")
    return device.folder


def basket(at: str = "2026-11-27T11:00:00+01:00", **fields: object) -> dict[str, object]:
    """Boots 100.00, socks 10.00, a hat 30.00, at the till in Paris."""
    return {"channel": "pos", "store": "paris-01", "currency": "EUR", "at": at,
            "lines": [
                {"id": "1", "sku": "BOOT", "quantity": 1, "unit_price": "100.00",
                 "category": "boots"},
                {"id": "2", "sku": "SOCK", "quantity": 1, "unit_price": "10.00",
                 "category": "socks"},
                {"id": "3", "sku": "HAT", "quantity": 1, "unit_price": "30.00",
                 "category": "hats"}],
            **fields}


# --- a server answering as a test sets it, and the command line ---------------------------


class FakeServer(BaseHTTPRequestHandler):
    """Answers the keys and the bundle as a test sets them."""

    keys: tuple[int, dict[str, str], bytes] = (200, {}, b"")
    bundle: tuple[int, dict[str, str], bytes] = (200, {}, b"")
    drip = 0.0  # seconds between bytes of the bundle

    def do_GET(self) -> None:
        status, headers, body = self.keys if "/keys" in self.path else self.bundle
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        for start in range(0, len(body), 1 if self.drip else len(body) or 1):
            self.wfile.write(body[start:start + (1 if self.drip else len(body))])
            self.wfile.flush()
            time.sleep(self.drip)

    def log_message(self, *args: object) -> None:
        pass


def key_list(keys: Mapping[str, bytes]) -> tuple[int, dict[str, str], bytes]:
    """``GET /v1/bundles/keys``'s answer listing ``keys`` (by the id each is listed as)."""
    listed = {"keys": [{"key_id": key_id, "public_key": base64.b64encode(key).decode()}
                       for key_id, key in keys.items()]}
    return 200, {}, json.dumps(listed).encode()


@contextmanager
def fake_server(keys: Mapping[str, bytes], host: str = "127.0.0.1"
                ) -> Iterator[tuple[str, type[FakeServer]]]:
    """A server listing ``keys``, on ``host``; yields its address and its handler class,
    whose ``keys`` and ``bundle`` a test sets."""
    handler = type("Handler", (FakeServer,), {"keys": key_list(keys)})
    httpd = ThreadingHTTPServer((host, 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def remise(*args: str) -> tuple[int, str]:
    """Run the command line in this process: its exit code, and stdout then stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout + result.stderr


def one_line(output: str) -> str:
    """The one line an error is, or a failed test."""
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]
