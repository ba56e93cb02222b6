"""Every route needs the token: without it, or with a wrong one, 401 and nothing else."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from routilux.server.api import ENDPOINTS
from tests.server.conftest import TOKEN, Served

EVERY_ROUTE = [
    (e.method, e.path.format(flow="pipeline", job_id="j", bp_id="1")) for e in ENDPOINTS
] + [
    ("GET", "/"),
    ("GET", "/static/page.js"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/health"),
    ("GET", "/no/such/route"),
]


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", TOKEN[:-1]])
def test_every_route_refuses_a_missing_or_wrong_token(served: Served, token: str | None) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=served.url, headers=headers) as anonymous:
        for method, path in EVERY_ROUTE:
            response = anonymous.request(method, path, json={"data": 1})
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "missing or wrong token"}
            assert response.headers["www-authenticate"] == "Bearer"
    assert served.runtime.workers == []  # nothing was posted, nothing started


def test_the_token_may_come_as_a_query_parameter(served: Served) -> None:
    with httpx.Client(base_url=served.url) as browser:
        assert browser.get("/api/flows", params={"token": TOKEN}).status_code == 200
        assert browser.get("/api/flows", params={"token": "nope"}).status_code == 401


def test_a_websocket_without_the_token_is_refused_with_401(served: Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(served.ws_url, open_timeout=10)
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        connect(served.ws_url + "?token=wrong", open_timeout=10)
