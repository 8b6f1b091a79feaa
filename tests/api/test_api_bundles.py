"""GET /v1/bundles: the live version, signed, for a channel and store, with an ETag."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import engine
from rules.bundles import BUNDLES_KEPT, SigningKeys
from rules.store import _Content, content_hash
from tests.store.scenario import BOOTS_10, BOOTS_20, HEADER

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NOW = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_clock(api: Api) -> None:
    """Bundles are issued per hour: pin the hour so that two requests share it."""
    api.client.app.state.services.clock = lambda: NOW  # type: ignore[attr-defined]


def _publish(api: Api, source: str, parent: int) -> None:
    response = api.call("marketer", "POST", "/v1/rulesets/fr/versions",
                        json={"source": HEADER + source, "message": "m", "parent": parent})
    assert response.status_code == 201


def _trusted(api: Api) -> dict[str, bytes]:
    keys = api.call("device", "GET", "/v1/bundles/keys").json()["keys"]
    return {k["key_id"]: base64.b64decode(k["public_key"]) for k in keys}


def test_a_device_downloads_a_bundle_it_can_verify(api: Api) -> None:
    _publish(api, BOOTS_10, 0)

    response = api.call("device", "GET", "/v1/bundles/fr",
                        params={"channel": "pos", "store": "paris-01"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.remise.bundle"
    bundle = engine.read_bundle(response.content, _trusted(api), now=NOW)
    assert (bundle.header.version, bundle.header.channel, bundle.header.store) == (
        1, "pos", "paris-01")
    assert response.headers["etag"] == f'"{bundle.digest}"'


POS_PARIS = {"channel": "pos", "store": "paris-01"}


def _fetched_then_asked_again(api: Api) -> tuple[Any, Any]:
    """fr published, its bundle fetched, then asked for again with the ETag it had."""
    _publish(api, BOOTS_10, 0)
    first = api.call("device", "GET", "/v1/bundles/fr", params=POS_PARIS)
    again = api.call("device", "GET", "/v1/bundles/fr", params=POS_PARIS,
                     headers={"If-None-Match": first.headers["etag"]})
    return first, again


def test_the_key_list_gives_each_key_its_fingerprint_and_whether_it_signs(
        api: Api, tmp_path: Path) -> None:
    # given the server's signing key and a standby key added beside it
    keys = SigningKeys(tmp_path / "bundle-keys")
    active, _ = keys.active()
    standby = keys.generate(activate=False)

    # when a device lists the keys
    listed = api.call("device", "GET", "/v1/bundles/keys").json()["keys"]

    # then each has its whole SHA-256, and only the active one signs
    public = keys.public_keys()
    assert sorted((k["key_id"], k["active"], k["sha256"]) for k in listed) == sorted([
        (active, True, hashlib.sha256(public[active]).hexdigest()),
        (standby, False, hashlib.sha256(public[standby]).hexdigest())])


def test_an_unchanged_bundle_costs_a_304_and_a_new_version_a_new_etag(api: Api) -> None:
    first, again = _fetched_then_asked_again(api)
    _publish(api, BOOTS_20, 1)
    after_publish = api.call("device", "GET", "/v1/bundles/fr", params=POS_PARIS,
                             headers={"If-None-Match": first.headers["etag"]})

    assert (again.status_code, again.content) == (304, b"")
    assert after_publish.status_code == 200
    assert after_publish.headers["x-remise-version"] == "2"
    assert after_publish.headers["etag"] != first.headers["etag"]


def test_a_chain_of_stores_syncing_again_gets_304s_without_new_bundles_built(
        api: Api) -> None:
    # given more stores than bundles are kept in memory, each with its bundle
    _publish(api, BOOTS_10, 0)
    stores = [f"store-{number:03d}" for number in range(BUNDLES_KEPT + 6)]
    etags = {store: api.call("device", "GET", "/v1/bundles/fr",
                             params={"channel": "pos", "store": store}).headers["etag"]
             for store in stores}

    # when every store syncs again with the ETag it holds
    again = [api.call("device", "GET", "/v1/bundles/fr",
                      params={"channel": "pos", "store": store},
                      headers={"If-None-Match": etags[store]}) for store in stores]

    # then each gets a 304 with its ETag, and no bundle was built a second time
    assert {(r.status_code, r.headers["etag"]) for r in again} == {
        (304, etag) for etag in etags.values()}
    metrics = api.client.get("/metrics").text
    assert f'remise_bundles_built_total{{ruleset="fr"}} {len(stores)}.0' in metrics


def test_once_another_key_signs_a_device_gets_the_bundle_it_signs(
        api: Api, tmp_path: Path) -> None:
    # given a device holding the bundle of the hour, then a new key activated
    first = _fetched_then_asked_again(api)[0]
    new_key = SigningKeys(tmp_path / "bundle-keys").generate()

    # when the device syncs with the ETag it holds
    response = api.call("device", "GET", "/v1/bundles/fr", params=POS_PARIS,
                        headers={"If-None-Match": first.headers["etag"]})

    # then it gets the same version, signed by the new key
    assert response.status_code == 200
    bundle = engine.read_bundle(response.content, _trusted(api), now=NOW)
    assert (bundle.key_id, bundle.header.version) == (new_key, 1)


def test_a_weak_etag_in_if_none_match_still_costs_a_304(api: Api) -> None:
    _publish(api, BOOTS_10, 0)
    params = {"channel": "pos", "store": "paris-01"}
    etag = api.call("device", "GET", "/v1/bundles/fr", params=params).headers["etag"]

    again = api.call("device", "GET", "/v1/bundles/fr", params=params,
                     headers={"If-None-Match": f'"other", W/{etag}'})

    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag


def test_a_304_varies_on_accept_encoding_as_the_200_does(api: Api) -> None:
    # A cache that stored the gzip answer must not serve it to a client without gzip
    first, again = _fetched_then_asked_again(api)

    assert again.status_code == 304
    assert again.headers["vary"] == first.headers["vary"] == "Accept-Encoding"


def test_an_if_none_match_naming_other_tags_gets_the_bundle(api: Api) -> None:
    _publish(api, BOOTS_10, 0)

    response = api.call("device", "GET", "/v1/bundles/fr", params={"channel": "pos"},
                        headers={"If-None-Match": 'W/"other", "another"'})

    assert response.status_code == 200


def test_a_client_that_accepts_gzip_gets_the_bundle_compressed(api: Api) -> None:
    _publish(api, BOOTS_10, 0)
    params = {"channel": "pos"}

    plain = api.call("device", "GET", "/v1/bundles/fr", params=params,
                     headers={"Accept-Encoding": "identity"})
    packed = api.call("device", "GET", "/v1/bundles/fr", params=params,
                      headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx decodes it
    assert packed.headers["etag"] == plain.headers["etag"]


@pytest.mark.parametrize("accept_encoding", ["gzip;q=0", "identity, gzip;q=0", "*, gzip;q=0",
                                             "br"])
def test_a_client_that_refuses_gzip_gets_the_bundle_uncompressed(
    api: Api, accept_encoding: str
) -> None:
    _publish(api, BOOTS_10, 0)

    response = api.call("device", "GET", "/v1/bundles/fr", params={"channel": "pos"},
                        headers={"Accept-Encoding": accept_encoding})

    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content.startswith(b'{"format":"remise.bundle/')


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/v1/bundles/be", {"channel": "pos"}, 404),
    ("/v1/bundles/fr", {"channel": "till"}, 422),
    ("/v1/bundles/fr", {}, 422),
])
def test_bad_bundle_requests_are_problems(api: Api, path: str, params: dict[str, str],
                                          status: int) -> None:
    _publish(api, BOOTS_10, 0)

    response = api.call("device", "GET", path, params=params)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


# --- a damaged signing keys' folder ----------------------------------------------------


def _damage_active_key(api: Api, tmp_path: Path) -> Path:
    """fr published; the key that signs cut short in the server's keys' folder."""
    _publish(api, BOOTS_10, 0)
    keys = SigningKeys(tmp_path / "bundle-keys")
    path = keys.folder / f"{keys.active()[0]}.pem"
    path.write_bytes(path.read_bytes()[:40])
    return path


@pytest.mark.parametrize(("path", "params"), [("/v1/bundles/fr", POS_PARIS),
                                              ("/v1/bundles/keys", {})])
def test_a_damaged_signing_key_is_a_503_naming_the_setting_and_logging_the_file(
        api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture, path: str,
        params: dict[str, str]) -> None:
    damaged = _damage_active_key(api, tmp_path)

    response = api.call("device", "GET", path, params=params)

    # then the device (which keeps its last bundle) is told it is the server's to mend,
    # and the server's log says which file and why
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "this server cannot use its bundle signing keys; its operator must mend the keys' "
        "folder (REMISE_BUNDLE_KEYS_DIR): the reason is in its log")
    assert (f"cannot sign device bundles: {damaged} is not an unencrypted private key in "
            "PEM") in caplog.text


def test_a_live_version_this_server_cannot_load_is_a_503_to_a_syncing_device(
        api: Api) -> None:
    # given fr's live version 1, which this remise cannot read (an older release stored it)
    ir_json = '{"not": "an IR"}'
    api.store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                      message="unreadable", author="an older release", parent=None,
                      address=None, rollback_of=None)

    # when a till syncs its bundle
    response = api.call("device", "GET", "/v1/bundles/fr", params=POS_PARIS)

    # then, as for a basket, it is the server's failing (the till keeps its last bundle)
    assert response.status_code == 503
    assert response.json()["type"] == "https://remise.dev/problems/live-version-unreadable"
    assert response.json()["detail"].startswith(
        "version 1 of 'fr' cannot be read by this remise: not a valid remise.ir/1 rule set")
