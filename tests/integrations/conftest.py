"""Webhook fixtures: a real HTTP receiver on 127.0.0.1 (in a thread) and endpoints pointing at it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from apps.integrations import services


class Receiver:
    """Records every request; answers with the next scripted status (the last one repeats)."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(SimpleNamespace(path=self.path, headers=self.headers, body=body))
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                status = receiver.statuses[index]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, *statuses: int) -> Receiver:
        self.statuses = list(statuses)
        return self


@pytest.fixture
def receiver():
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def make_endpoint(receiver):
    """Register an endpoint (through the service) of ``organization``; returns (endpoint, secret)."""

    def make(actor, organization, event_types=("*",), url=None, **kwargs):
        return services.endpoint_create(
            actor=actor, organization=organization, url=url or receiver.url, event_types=list(event_types), **kwargs
        )

    return make
