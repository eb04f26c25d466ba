"""One HTTP POST to a checked webhook target: the only code here that leaves the process.

It connects to an address the SSRF guard checked (never resolving the host again), sends the Host
header and TLS server name of the URL, follows no redirect (a 3xx is a failed attempt), and reads
at most a short snippet of the answer.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from .ssrf import Target

SNIPPET_BYTES = 500


@dataclass(frozen=True)
class Result:
    status_code: int | None
    latency_ms: int
    error: str
    snippet: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a given address, verifying the certificate against the URL's host name."""

    def __init__(self, address: str, port: int, *, server_hostname: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Result:
    address = target.addresses[0]
    if target.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            address, target.port, server_hostname=target.host, timeout=timeout
        )
    else:
        connection = http.client.HTTPConnection(address, target.port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(
            "POST", target.path, body=body, headers={**headers, "Host": _host_header(target), "Connection": "close"}
        )
        response = connection.getresponse()
        snippet = response.read(SNIPPET_BYTES).decode("utf-8", errors="replace")
        latency = int((time.monotonic() - started) * 1000)
        error = ""
        if 300 <= response.status < 400:
            error = f"Redirect to {response.getheader('Location', '')[:200]!r} not followed."
        elif not 200 <= response.status < 300:
            error = f"HTTP {response.status}"
        return Result(response.status, latency, error, snippet)
    except (OSError, http.client.HTTPException) as exc:
        latency = int((time.monotonic() - started) * 1000)
        kind = "Timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__
        return Result(None, latency, f"{kind}: {exc}"[:500], "")
    finally:
        connection.close()
