"""A tiny HTTP proxy between the wizard and the sandbox that can hold a chosen AWS call.

Fault tests need the wizard stopped at a known point: "RunInstances has been sent and not yet
answered" is where a Ctrl-C or a second apply must be tested, and no sleep can promise it. The
wizard talks to `proxy.url` as to any endpoint; the proxy forwards every request to the sandbox
unchanged, except that requests for which a `Gate`'s predicate is true wait until the test calls
`gate.release()` (or the gate's timeout passes).
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class Gate:
    """Holds matching requests; `arrived` counts them, `release()` lets them (and later ones) go."""

    def __init__(self, predicate: Callable[[str, bytes], bool], timeout: float = 120.0) -> None:
        self.predicate = predicate
        self.timeout = timeout
        self.open = threading.Event()
        self._lock = threading.Lock()
        self._arrived = 0
        self._changed = threading.Condition(self._lock)

    @property
    def arrived(self) -> int:
        with self._lock:
            return self._arrived

    def wait_for(self, n: int, timeout: float = 120.0) -> bool:
        """Until `n` matching requests are being held (True), or the timeout (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._arrived >= n, timeout)

    def hold(self) -> None:
        with self._changed:
            self._arrived += 1
            self._changed.notify_all()
        self.open.wait(self.timeout)

    def release(self) -> None:
        self.open.set()


def action_is(name: str) -> Callable[[str, bytes], bool]:
    """A predicate for query-protocol calls (EC2, IAM, STS …): `Action=<name>` in the body."""
    return lambda path, body: f"Action={name}&".encode() in body + b"&"


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.gates: list[Gate] = []
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests += 1
                for gate in list(proxy.gates):
                    if gate.predicate(self.path, body):
                        gate.hold()
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status, resp.reason)
                    for key, value in resp.getheaders():
                        if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (it was interrupted): nothing to answer
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def gate(self, predicate: Callable[[str, bytes], bool]) -> Gate:
        g = Gate(predicate)
        self.gates.append(g)
        return g

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for g in self.gates:
            g.release()
        self.server.shutdown()
        self.server.server_close()
