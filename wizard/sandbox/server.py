"""Run moto's server on loopback for the life of a command (or in the foreground).

Every response carries the header `x-codedeploy-wizard-sandbox: 1`, so a client that reached the
sandbox through `--endpoint-url` can tell, without an extra call, that it is not talking to AWS.

The server answers STS as soon as it listens: "who am I" is what the wizard asks first (the TUI's
header, every command's banner), and it needs only moto's IAM. The rest of the sandbox's patches
(`extensions.install()`: CodeDeploy, EC2, SSM, ELB, Auto Scaling …, over a second of imports) is
installed by a warm-up thread meanwhile; a request for any other service waits for the warm-up
to finish, so no client ever sees a half-installed emulator.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from wizard.errors import UsageError

SANDBOX_HEADER = "x-codedeploy-wizard-sandbox"
SANDBOX_ACCOUNT = "123456789012"
# the service a SigV4 request is signed for: Credential=KEY/DATE/REGION/SERVICE/aws4_request
_SIGNED_SERVICE = re.compile(r"Credential=[^/,]*/[^/,]*/[^/,]*/([^/,]+)/aws4_request")
# services answered before the warm-up ends: they touch only what `install_identity` installs
_EARLY_SERVICES = frozenset({"sts"})


def _import_moto() -> Any:
    try:
        import werkzeug.serving  # noqa: F401 - moto[server] brings it; plain moto does not
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
    except ImportError:
        raise UsageError(
            "the sandbox needs the emulator: pip install 'codedeploy-wizard[sandbox]'"
        ) from None
    return DomainDispatcherApplication, MotoRequestHandler, create_backend_app


class SandboxServer:
    """moto's WSGI app, extended in-process, served by werkzeug on 127.0.0.1."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        scenario: str | None = None,
        region: str = "us-east-1",
        enforce_iam: bool = False,
        identity_first: bool = False,
    ):
        """`enforce_iam`: check every caller's IAM policies as AWS does (`sandbox.access`);
        the server then serves one administrator, whose key `env()` gives (the whole emulator
        is then installed before `start()` returns).

        `identity_first`: the warm-up waits until the first STS answer has been sent (or a
        request for another service arrives), so that answer does not share the CPU with it
        (the TUI shows the account from it); otherwise the warm-up starts with the server."""
        self.host = host
        self.enforce_iam = enforce_iam
        self.credentials = ("sandbox", "sandbox")
        self.region = region
        self.port = port
        self.scenario = scenario
        self.identity_first = identity_first
        self.seeded: dict[str, Any] | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._warm_error: BaseException | None = None
        self._warm_thread: threading.Thread | None = None
        self._warm_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        import logging

        # moto first: without the [sandbox] extra this is the one-line "install it" error
        dispatcher_cls, handler_cls, create_backend_app = _import_moto()
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from wizard.sandbox import extensions

        extensions.install_identity()
        # imported here, not in a request thread racing the warm-up
        import moto.sts.urls  # noqa: F401

        if self.enforce_iam:  # access.enable evaluates policies from every service: all first
            self._warm_up()
        elif not self.identity_first:
            self._begin_warm_up()
        app = dispatcher_cls(create_backend_app)

        def wsgi(environ: dict, start_response: Any) -> Any:
            def start(status: str, headers: list, exc_info: Any = None) -> Any:
                headers = [*list(headers), (SANDBOX_HEADER, "1")]
                return start_response(status, headers, exc_info)

            if not self._ready.is_set() or self._warm_error is not None:
                if _signed_service(environ) in _EARLY_SERVICES:
                    return _Then(app(environ, start), self._begin_warm_up)
                self._begin_warm_up()
                try:
                    self.wait_ready()
                except UsageError as exc:
                    return _failure(str(exc), environ, start)
            return app(environ, start)

        if self.port:
            self._check_port_free()
        try:
            self._server = make_server(
                self.host, self.port, wsgi, threaded=True, request_handler=handler_cls
            )
        except OSError as exc:
            where = f"{self.host}:{self.port}"
            raise UsageError(f"cannot start the sandbox on {where}: {exc}") from None
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-server", daemon=True
        )
        self._thread.start()
        if self.enforce_iam:
            from wizard.sandbox import access

            self.credentials = access.enable(SANDBOX_ACCOUNT)
        if self.scenario:
            try:
                self.seed(self.scenario, region=self.region)
            except BaseException:
                self.stop()
                raise
        return self

    def _begin_warm_up(self) -> None:
        with self._warm_lock:
            if self._warm_thread is None and not self._ready.is_set():
                self._warm_thread = threading.Thread(
                    target=self._warm_up, name="sandbox-warm-up", daemon=True
                )
                self._warm_thread.start()

    def _warm_up(self) -> None:
        from wizard.sandbox import extensions

        try:
            extensions.install()
        except BaseException as exc:  # said to every waiting request, and to wait_ready()
            self._warm_error = exc
        finally:
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the whole emulator is installed (STS answers before that).

        Raises UsageError if the warm-up failed (the error named) or `timeout` seconds passed.
        """
        if not self._ready.wait(timeout):
            raise UsageError("the sandbox did not finish starting in time")
        if self._warm_error is not None:
            raise UsageError(f"the sandbox failed to start: {self._warm_error}")

    def _check_port_free(self) -> None:
        """werkzeug exits the process on a busy port; find out first and say it in one line."""
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                where = f"{self.host}:{self.port}"
                raise UsageError(f"cannot start the sandbox on {where}: {exc.strerror}") from None

    def seed(self, scenario: str, region: str = "us-east-1") -> Any:
        """Build a ready-made world (see `wizard sandbox --list-scenarios`)."""
        try:
            from wizard.sandbox import scenarios
        except ImportError:
            raise UsageError("sandbox scenarios are not available yet") from None
        self.seeded = scenarios.seed(
            scenario, self.url, region=region, credentials=self.credentials
        )
        return self.seeded

    def stop(self) -> None:
        if self.enforce_iam:
            from wizard.sandbox import access

            access.disable()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._warm_thread is not None:  # nothing patches moto after the server is gone
            self._warm_thread.join(timeout=60)
            self._warm_thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment for the aws CLI or boto3 to use this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.credentials[0],
            "AWS_SECRET_ACCESS_KEY": self.credentials[1],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }


class _Then:
    """A WSGI response body that calls `then()` once the server has sent it (PEP 3333: the
    server calls `close()` after the last byte)."""

    def __init__(self, body: Any, then: Any) -> None:
        self.body, self.then = body, then

    def __iter__(self) -> Any:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.then()


def _signed_service(environ: dict) -> str | None:
    """The AWS service a request is signed for (SigV4 Authorization header), or None."""
    found = _SIGNED_SERVICE.search(environ.get("HTTP_AUTHORIZATION") or "")
    return found.group(1) if found else None


def _failure(message: str, environ: dict, start_response: Any) -> list[bytes]:
    """An AWS-shaped 500 InternalFailure ("Common Errors" in the API references), in the shape
    the request's protocol parses: JSON for the JSON services (CodeDeploy, SSM), EC2's
    `Response/Errors/Error`, and the query/REST-XML `ErrorResponse/Error` otherwise."""
    import json
    from xml.sax.saxutils import escape

    content_type = "text/xml"
    error = f"<Error><Code>InternalFailure</Code><Message>{escape(message)}</Message></Error>"
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in (environ.get("CONTENT_TYPE") or ""):
        content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": "InternalFailure", "message": message}).encode()
    elif _signed_service(environ) == "ec2":
        body = f"<Response><Errors>{error}</Errors></Response>".encode()
    else:
        body = f"<ErrorResponse>{error}</ErrorResponse>".encode()
    start_response(
        "500 Internal Server Error",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]
