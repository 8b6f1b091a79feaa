"""Conformance: for every demo basket at several instants, the server's HTTP answer
and the device runtime's offline answer are byte-identical, and both equal the
committed vectors (``vectors/``), which another implementation can be checked
against. Regenerate after a deliberate change with REMISE_REGENERATE_VECTORS=1.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

import engine
import rules
from api.app import create_app
from api.cli import DEMO_PUBLISH_AT
from rules.bundles import BundleIssuer, SigningKeys
from tests.api.conftest import settings_for

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).with_name("vectors")
REGENERATE = os.environ.get("REMISE_REGENERATE_VECTORS") == "1"
ISSUED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
VALID_HOURS = 30 * 24  # one bundle per channel and store covers every instant below
SHIFTS = {"at": timedelta(0), "2h-later": timedelta(hours=2), "next-day": timedelta(days=1)}


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted((ROOT / "examples" / "baskets").glob("*.json")):
        basket = json.loads(path.read_text(encoding="utf-8"))
        for label, shift in SHIFTS.items():
            at = datetime.fromisoformat(basket["at"]) + shift
            scope = f"{basket['channel']}-{basket.get('store') or 'any'}"
            cases.append({"case": f"{path.stem}@{label}", "bundle": f"bundles/{scope}.rbundle",
                          "basket": {**basket, "at": at.isoformat()},
                          "channel": basket["channel"], "store": basket.get("store")})
    return cases


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The demo published as version 1 at the demo's instant, served over HTTP."""
    folder = tmp_path_factory.mktemp("conformance")
    db = rules.create_db_engine(f"sqlite:///{(folder / 'remise.db').as_posix()}")
    rules.upgrade(db)
    store = rules.RuleStore(db)
    sources = {p.name: p.read_text(encoding="utf-8")
               for p in sorted((ROOT / "examples" / "rules").glob("*.rules"))}
    with freeze_time(DEMO_PUBLISH_AT):
        store.publish("default", sources, message="demo", author="conformance")
    app = create_app(settings_for(store, folder), store=store)
    with TestClient(app) as client:
        key = app.state.services.keys.create("till", "channel", created_by="test")
        yield client, key


@pytest.fixture(scope="module")
def bundles(server: tuple[TestClient, str], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, bytes]:
    """One bundle per channel and store, signed with the committed test key."""
    client, _ = server
    live = client.app.state.services.live.get("default")  # type: ignore[attr-defined]
    keys = tmp_path_factory.mktemp("keys")
    shutil.copytree(VECTORS / "signing-key", keys, dirs_exist_ok=True)
    issuer = BundleIssuer(SigningKeys(keys), valid_hours=VALID_HOURS)
    return {case["bundle"]: issuer.issue("default", live.ruleset, case["channel"],
                                         case["store"], ISSUED_AT)
            for case in _cases()}


def _device_answer(case: dict[str, Any], bundle: bytes, folder: Path) -> str:
    device = engine.DeviceFolder(folder)
    trusted = json.loads((VECTORS / "trusted-keys.json").read_text(encoding="utf-8"))
    device.trust({key_id: base64.b64decode(key) for key_id, key in trusted.items()})
    device.install(bundle, now=ISSUED_AT, ruleset="default", channel=case["channel"],
                   store=case["store"])
    at = datetime.fromisoformat(case["basket"]["at"])
    return engine.dumps(device.evaluate(case["basket"], now=at))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case["case"])
def test_server_and_device_give_the_same_bytes(
    case: dict[str, Any], server: tuple[TestClient, str], bundles: dict[str, bytes],
    tmp_path: Path,
) -> None:
    client, key = server
    http = client.post("/v1/evaluate", json=case["basket"],
                       headers={"Authorization": f"Bearer {key}"})
    assert http.status_code == 200, http.text

    offline = _device_answer(case, bundles[case["bundle"]], tmp_path / "device")

    assert offline == http.text
    expected = VECTORS / "cases" / f"{case['case']}.expected.json"
    if REGENERATE:
        _write(VECTORS / case["bundle"], bundles[case["bundle"]])
        _write(VECTORS / "cases" / f"{case['case']}.basket.json",
               json.dumps(case["basket"], indent=2, ensure_ascii=False).encode() + b"\n")
        _write(expected, http.text.encode("utf-8"))
    assert (VECTORS / case["bundle"]).read_bytes() == bundles[case["bundle"]]
    assert expected.read_text(encoding="utf-8") == http.text


def test_the_manifest_lists_every_case() -> None:
    manifest = [{"case": c["case"], "bundle": c["bundle"],
                 "basket": f"cases/{c['case']}.basket.json", "at": c["basket"]["at"],
                 "expected": f"cases/{c['case']}.expected.json"} for c in _cases()]
    path = VECTORS / "manifest.json"
    text = json.dumps(manifest, indent=2) + "\n"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case["case"])
def test_server_and_device_explain_in_the_same_bytes(
    case: dict[str, Any], server: tuple[TestClient, str], bundles: dict[str, bytes],
    tmp_path: Path,
) -> None:
    # Given a demo basket asking why each rule applied or not
    client, key = server
    basket = {**case["basket"], "explain": True}

    # When the server and a device holding its channel's and store's bundle price it
    http = client.post("/v1/evaluate", json=basket, headers={"Authorization": f"Bearer {key}"})
    assert http.status_code == 200, http.text
    offline = _device_answer({**case, "basket": basket}, bundles[case["bundle"]],
                             tmp_path / "device")

    # Then both say the same, rule for rule: the device's bundle leaves out the rules of
    # other channels and stores, so the server's explain does not list them either
    assert offline == http.text
