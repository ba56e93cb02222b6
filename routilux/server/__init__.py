"""HTTP API, WebSocket event stream, live page, metrics and health (the ``server`` extra).

>>> from routilux import Flow, Runtime
>>> from routilux.server import create_app
>>> with Runtime() as runtime:
...     app = create_app(runtime, [], token="secret")
"""

from routilux.server.app import create_app, serve_flows
from routilux.server.checks import ApiError
from routilux.server.events import EventHub
from routilux.server.service import FlowService

__all__ = ["ApiError", "EventHub", "FlowService", "create_app", "serve_flows"]
