"""/metrics answers anyone: what a request can write into its labels stays bounded."""

from __future__ import annotations

from .conftest import Api


def test_a_made_up_http_method_is_counted_as_other(api: Api) -> None:
    # Given requests with methods no endpoint has, sent with no key (HTTP allows any token)
    for n in range(3):
        assert api.client.request(f"MADEUP{n}", "/v1/evaluate").status_code == 405

    # When the platform reads the metrics
    metrics = api.client.get("/metrics").text

    # Then they are one series, not one per method a stranger invents (each new series is
    # kept for the life of the process: memory, and a /metrics no scraper can read)
    assert "MADEUP" not in metrics
    assert ('remise_http_requests_total{endpoint="/v1/evaluate",method="other",status="405"} '
            "3.0") in metrics
