"""TokenAuth: every HTTP request and WebSocket needs the server's token, or gets a bare 401."""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

__all__ = ["TokenAuth", "token_of"]

ASGIApp = Any

_DENIED = json.dumps({"error": "missing or wrong token"}).encode()


def token_of(scope: dict[str, Any]) -> str | None:
    """The token a request carries: ``Authorization: Bearer ...``, else ``?token=...``.

    The query form is for browsers, which cannot set headers on a page load or a WebSocket.
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return str(credentials).strip()
    query: bytes = scope.get("query_string", b"")
    values = parse_qs(query.decode("latin-1")).get("token")
    return values[0] if values else None


class TokenAuth:
    """ASGI middleware: requests without the right token get 401 and nothing else.

    Args:
        app: The application behind it.
        token: The token; compared in constant time.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the server needs a non-empty token")
        self.app = app
        self._token = token.encode()

    def _allowed(self, scope: dict[str, Any]) -> bool:
        given = token_of(scope)
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_DENIED)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]
        if kind == "http":
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": _DENIED})
        elif "websocket.http.response" in scope.get("extensions", {}):
            # Refuse the handshake with a real 401 (the ASGI denial-response extension).
            await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": _DENIED})
        else:
            await send({"type": "websocket.close", "code": 1008})
