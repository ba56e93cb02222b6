"""The OpenAPI 3.1 document of the server, built from the endpoint table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from routilux.server.api import Endpoint

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string", "description": "What was wrong."}},
    "required": ["error"],
}
_EXTRA_PATHS: dict[str, Any] = {
    "/health": {
        "get": {
            "summary": "Engine and store health (503 when a check fails)",
            "tags": ["operations"],
            "responses": {"200": {"description": "Healthy"}, "503": {"description": "Not"}},
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics, computed on scrape",
            "tags": ["operations"],
            "responses": {"200": {"description": "Text format", "content": {"text/plain": {}}}},
        }
    },
    "/api/events": {
        "get": {
            "summary": "WebSocket stream of events",
            "description": (
                "Upgrade to a WebSocket. Each message is a JSON object "
                '{"events": [...], "dropped": N}: activation_started, emitted, '
                "activation_finished, job_finished and control events (paused, resumed, "
                "stepped, breakpoints), in order; N counts events this client lost by "
                "reading too slowly. Browsers pass the token as ?token=."
            ),
            "tags": ["events"],
            "responses": {"101": {"description": "Switching protocols"}},
        }
    },
    "/": {
        "get": {
            "summary": "The live page (open /?token=TOKEN in a browser)",
            "tags": ["operations"],
            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
        }
    },
}


def openapi_document(endpoints: Iterable[Endpoint], version: str) -> dict[str, Any]:
    """The document: every endpoint, the token scheme, and the error shape."""
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": endpoint.handler.__name__,
            "tags": list(endpoint.tags),
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)}", endpoint.path)
            ]
            + [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in endpoint.query
            ],
            "responses": {
                str(endpoint.status): {
                    "description": "Success",
                    **({"content": {endpoint.response: {}}} if endpoint.status != 204 else {}),
                },
                "4XX": {
                    "description": "Bad request, unknown name, wrong state or body too large",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if endpoint.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": endpoint.body}},
            }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    paths.update(_EXTRA_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "routilux",
            "version": version,
            "description": "Run, watch and debug routilux flows.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
        "security": [{"token": []}, {"query": []}],
    }
