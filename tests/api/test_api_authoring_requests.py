"""Bad requests to the rule-set and key endpoints: the key is checked before the body,
a body over its limit is refused before it is read in full, version numbers are
strict integers, and every problem names its field and stores nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from api.bodies import MAX_SMALL_BODY_BYTES, MAX_SOURCE_BODY_BYTES
from tests.store.scenario import BOOTS_10, HEADER

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MIB = 1024 * 1024
JSON = {"Content-Type": "application/json"}

# (path, role allowed, body limit) of every endpoint whose body api/bodies.py reads
BODY_ENDPOINTS = [
    ("/v1/rulesets/fr/validate", "marketer", MAX_SOURCE_BODY_BYTES),
    ("/v1/rulesets/fr/versions", "marketer", MAX_SOURCE_BODY_BYTES),
    ("/v1/rulesets/fr/rollback", "marketer", MAX_SMALL_BODY_BYTES),
    ("/v1/keys", "admin", MAX_SMALL_BODY_BYTES),
]
BODY_IDS = [path.rsplit("/", 1)[-1] for path, _, _ in BODY_ENDPOINTS]


@pytest.fixture
def published(fr_at_version_2: Api) -> Api:
    return fr_at_version_2


def _versions(api: Api, name: str = "fr") -> list[int]:
    response = api.call("finance", "GET", f"/v1/rulesets/{name}/versions")
    return [v["number"] for v in response.json()] if response.status_code == 200 else []


def _fields(response: Any) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def _post_raw(api: Api, role: str | None, path: str, body: bytes) -> Any:
    return api.call(role, "POST", path, content=body, headers=JSON)


async def _stream(app: Any, path: str, headers: dict[str, str], chunks: list[bytes]
                  ) -> tuple[int, dict[str, Any], int]:
    """POST ``chunks`` to the ASGI app one by one, as a slow client would: (status,
    JSON answer, how many chunks the app pulled). TestClient reads a body whole first."""
    pulled, sent = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled == len(chunks):
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("testclient", 50000),
             "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), pulled


# --- 1. bodies over the limit ------------------------------------------------------------


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_a_streamed_body_over_the_limit_is_413_once_the_limit_is_passed(
    api: Api, path: str, role: str, limit: int
) -> None:
    chunks = [b"x" * MIB] * 30 if limit >= MIB else [b"x" * 1024] * 30 * 1024

    status, problem, pulled = asyncio.run(_stream(
        api.client.app, path, {**api.as_role(role), **JSON}, chunks))

    assert (status, problem["type"]) == (413, "https://remise.dev/problems/body-too-large")
    assert pulled == limit // len(chunks[0]) + 1  # not the 30 MiB sent
    assert _versions(api) == []


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read(
    api: Api, path: str, role: str, limit: int
) -> None:
    headers = {**api.as_role(role), **JSON, "Content-Length": str(limit + 1)}

    status, problem, pulled = asyncio.run(_stream(api.client.app, path, headers,
                                                  [b"x" * (limit + 1)]))

    assert (status, problem["status"], pulled) == (413, 413, 0)


def test_a_source_of_a_million_characters_fits_even_written_as_escapes(api: Api) -> None:
    body = json.dumps({"source": "é" * 1_000_000}).encode()  # "\u00e9": 6 bytes each
    assert len(body) > 6_000_000

    response = _post_raw(api, "marketer", "/v1/rulesets/fr/validate", body)

    assert response.status_code == 200
    assert response.json()["valid"] is False  # read and compiled, not refused unread


# --- 2. version numbers are strict integers ------------------------------------------------


@pytest.mark.parametrize("parent", [True, "2", 2.0], ids=["true", "string", "float"])
def test_a_parent_that_is_not_an_integer_is_422_and_publishes_nothing(
    published: Api, parent: Any
) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + BOOTS_10, "message": "m", "parent": parent})

    assert response.status_code == 422
    assert _fields(response) == ["body.parent"]
    assert _versions(published) == [1, 2]


@pytest.mark.parametrize(("field", "value"), [
    ("to", True), ("to", "1"), ("to", 1.0), ("parent", True), ("parent", "2"), ("parent", 2.0)])
def test_a_rollback_version_that_is_not_an_integer_is_422_and_rolls_nothing_back(
    published: Api, field: str, value: Any
) -> None:
    body = {"to": 1, "message": "back", "parent": 2, field: value}

    response = published.call("marketer", "POST", "/v1/rulesets/fr/rollback", json=body)

    assert response.status_code == 422
    assert _fields(response) == [f"body.{field}"]
    assert _versions(published) == [1, 2]


@pytest.mark.parametrize("number", ["1.0", "+1", "%201", "1e0", "%C2%B9"])
def test_a_version_path_that_is_not_digits_is_422(published: Api, number: str) -> None:
    response = published.call("finance", "GET", f"/v1/rulesets/fr/versions/{number}")

    assert response.status_code == 422
    assert _fields(response) == ["path.number"]


@pytest.mark.parametrize(("query", "field"), [("from=1.0&to=2", "query.from"),
                                              ("from=1&to=2.0", "query.to")])
def test_a_diff_version_that_is_not_digits_is_422(published: Api, query: str,
                                                  field: str) -> None:
    response = published.call("finance", "GET", f"/v1/rulesets/fr/diff?{query}")

    assert response.status_code == 422
    assert _fields(response) == [field]


# --- 3. every problem names its field --------------------------------------------------------


def test_a_blank_publish_message_names_body_message_and_publishes_nothing(
    published: Api
) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + BOOTS_10, "message": "   ", "parent": 2})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body.message", "message": "a message is required: it is only spaces"}]
    assert _versions(published) == [1, 2]


def test_a_blank_rollback_message_names_body_message_and_rolls_nothing_back(
    published: Api
) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                              json={"to": 1, "message": "\t \n"})

    assert response.status_code == 422
    assert _fields(response) == ["body.message"]
    assert _versions(published) == [1, 2]


def test_publishing_to_the_reserved_name_keys_names_the_path(api: Api) -> None:
    response = api.call("marketer", "POST", "/v1/rulesets/keys/versions", json={
        "source": HEADER + BOOTS_10, "message": "m", "parent": 0})

    assert response.status_code == 422
    assert _fields(response) == ["path.name"]
    assert "'keys' is reserved" in response.json()["detail"]
    assert api.call("marketer", "GET", "/v1/rulesets").json() == []


def test_a_rollback_to_the_live_version_names_body_to_and_rolls_nothing_back(
    published: Api
) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                              json={"to": 2, "message": "back"})

    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "body.to", "message": "version 2 of 'fr' is already live: nothing to roll "
                                       "back"}]
    assert _versions(published) == [1, 2]


def test_a_key_with_a_taken_name_is_409_naming_body_name_and_keeps_the_key(api: Api) -> None:
    response = api.call("admin", "POST", "/v1/keys", json={"name": "mia", "role": "admin"})

    assert response.status_code == 409
    assert response.json()["type"] == "https://remise.dev/problems/key-exists"
    assert _fields(response) == ["body.name"]
    keys = {k["name"]: k["role"] for k in api.call("admin", "GET", "/v1/keys").json()}
    assert keys["mia"] == "marketer"


def test_a_key_may_be_named_keys_which_only_rule_sets_may_not(api: Api) -> None:
    response = api.call("admin", "POST", "/v1/keys", json={"name": "keys", "role": "device"})

    assert response.status_code == 201


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_malformed_json_names_body_with_line_and_column(
    published: Api, path: str, role: str, limit: int
) -> None:
    response = _post_raw(published, role, path, b'{\n  "to": 1,\n  bad}')

    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "body", "message": "not valid JSON at line 3, column 3: expecting property "
                                    "name enclosed in double quotes"}]
    assert _versions(published) == [1, 2]


def test_deeply_nested_valid_json_is_not_called_invalid(published: Api) -> None:
    body = b'{"to": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    response = _post_raw(published, "marketer", "/v1/rulesets/fr/rollback", body)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "arrays and objects are nested too deeply to read"}]


@pytest.mark.parametrize(("body", "field", "words"), [
    (b"", "body", "empty: expected a JSON object"),
    (b"[1]", "body", "expected a JSON object"),
    (b'{"to": "\xff"}', "body", "not UTF-8"),
    (b'{"to": 1, "to": 2}', "body.to", "given twice"),
    (b'{"to": ' + b"1" * 5000 + b"}", "body.to", "5000 digits"),
])
def test_other_unreadable_bodies_name_where(published: Api, body: bytes, field: str,
                                            words: str) -> None:
    response = _post_raw(published, "marketer", "/v1/rulesets/fr/rollback", body)

    assert response.status_code == 422
    assert _fields(response) == [field]
    assert words in response.json()["errors"][0]["message"]
    assert _versions(published) == [1, 2]


# --- 4. the key before the body --------------------------------------------------------------


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_malformed_json_without_a_key_is_401(api: Api, path: str, role: str,
                                             limit: int) -> None:
    response = _post_raw(api, None, path, b"{bad")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_malformed_json_from_a_role_that_may_not_is_403(api: Api, path: str, role: str,
                                                        limit: int) -> None:
    response = _post_raw(api, "finance", path, b"{bad")

    assert response.status_code == 403
    assert response.json()["type"] == "https://remise.dev/problems/forbidden"


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_a_body_over_the_limit_without_a_key_is_401(api: Api, path: str, role: str,
                                                    limit: int) -> None:
    response = _post_raw(api, None, path, b" " * (limit + 1))

    assert response.status_code == 401


@pytest.mark.parametrize(("path", "role", "limit"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_a_body_declared_as_another_media_type_is_415_as_for_evaluate(
    published: Api, path: str, role: str, limit: int
) -> None:
    # Given a body sent as a form would be (curl -d without a Content-Type)
    response = published.call(role, "POST", path, content=b'{"message": "m"}',
                              headers={"Content-Type": "application/x-www-form-urlencoded"})

    # Then it is refused as /v1/evaluate refuses it, and nothing is stored
    assert response.status_code == 415
    assert response.json()["type"] == "https://remise.dev/problems/unsupported-media-type"
    assert _versions(published) == [1, 2]


def test_revoking_a_key_twice_is_409_naming_path_name(api: Api) -> None:
    # Given a key revoked once
    assert api.call("admin", "DELETE", "/v1/keys/tab").status_code == 204

    # When it is revoked again
    response = api.call("admin", "DELETE", "/v1/keys/tab")

    # Then the conflict names the key in the path, and the audit log has one revocation
    assert response.status_code == 409
    assert response.json()["type"] == "https://remise.dev/problems/key-revoked"
    assert _fields(response) == ["path.name"]
    audit = api.call("admin", "GET", "/v1/audit?action=key_revoke").json()["entries"]
    assert len(audit) == 1


SOURCE = {"source": HEADER + BOOTS_10}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/rulesets/Soldes-FR/validate", SOURCE),
    ("POST", "/v1/rulesets/Soldes-FR/versions", {**SOURCE, "message": "m", "parent": 2}),
    ("POST", "/v1/rulesets/soldes%C3%A9t%C3%A9/rollback", {"to": 1, "message": "m"}),
    ("GET", "/v1/rulesets/Soldes-FR/versions", None),
])
def test_a_rule_set_name_that_cannot_be_one_is_explained_in_words(
        published: Api, method: str, path: str, body: dict[str, Any] | None) -> None:
    # when a marketer names a rule set with capitals, or an accent
    response = published.call("marketer", method, path, json=body)

    # then they are told what a name is, as the command line and a basket's ruleset tell
    # them, not shown a regular expression
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "path.name",
        "message": "a rule set name is 1 to 64 lower-case letters, digits, '-' or '_', "
                   "starting with a letter or digit (e.g. fr, be-web)"}]
    assert _versions(published) == [1, 2]
