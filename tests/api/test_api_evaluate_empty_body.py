"""A basket endpoint given no basket at all says the body is empty (docs/api.md, Errors),
not 'expecting value at line 1, column 1'."""

from __future__ import annotations

import pytest

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
@pytest.mark.parametrize("body", [b"", b"\n", b"\xef\xbb\xbf  "], ids=["nothing", "newline",
                                                                     "byte order mark"])
def test_an_empty_body_is_422_saying_it_is_empty(api: Api, path: str, body: bytes) -> None:
    # Given a web shop whose request went out without its basket
    headers = {"Content-Type": "application/json"}

    # When it is posted
    response = api.call("channel", "POST", path, content=body, headers=headers)

    # Then the problem says the body is empty, on `body`
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body",
                                          "message": "empty: expected a JSON object"}]
