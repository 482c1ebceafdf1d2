"""Run moto's server on loopback for the life of a command (or in the foreground).

Every response carries the header `x-codedeploy-wizard-sandbox: 1`, so a client that reached the
sandbox through `--endpoint-url` can tell, without an extra call, that it is not talking to AWS.
"""

from __future__ import annotations

import threading
from typing import Any

from wizard.errors import UsageError

SANDBOX_HEADER = "x-codedeploy-wizard-sandbox"
SANDBOX_ACCOUNT = "123456789012"


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
    ):
        """`enforce_iam`: check every caller's IAM policies as AWS does (`sandbox.access`);
        the server then serves one administrator, whose key `env()` gives."""
        self.host = host
        self.enforce_iam = enforce_iam
        self.credentials = ("sandbox", "sandbox")
        self.region = region
        self.port = port
        self.scenario = scenario
        self.seeded: dict[str, Any] | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

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

        extensions.install()
        app = dispatcher_cls(create_backend_app)

        def wsgi(environ: dict, start_response: Any) -> Any:
            def start(status: str, headers: list, exc_info: Any = None) -> Any:
                headers = [*list(headers), (SANDBOX_HEADER, "1")]
                return start_response(status, headers, exc_info)

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
