"""Shared fixtures: an in-process sandbox server over HTTP, and a way to run the real CLI.

`sandbox_server` is one SandboxServer per test session (moto's state is global per process, so tests
use their own resource names). `run_wizard(*args)` runs `python -m wizard` as a subprocess against
it, exactly as a user would, and returns the CompletedProcess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
# The design folder beside the clone (public corpus, schemas), an extra that some tests use when
# it is present; WIZARD_SHARED points elsewhere. A user's clone has none: the repo's own fixtures
# cover every rule.
SHARED = Path(os.environ.get("WIZARD_SHARED") or REPO.parent / "shared")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell would have, minus anything AWS that could leak in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "BOTO_")) and k not in ("NO_COLOR", "FORCE_COLOR")
    }
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[object]:
    from wizard.sandbox.server import SandboxServer

    server = SandboxServer()
    server.start()
    server.wait_ready()  # in-process tests use moto directly too: all of it installed first
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox_url(sandbox_server) -> str:
    return sandbox_server.url


@pytest.fixture(scope="session")
def sandbox_ctx(sandbox_server):
    from wizard.aws import AwsContext

    return AwsContext(
        region="us-east-1",
        endpoint_url=sandbox_server.url,
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )


@pytest.fixture(scope="session")
def sandbox_env(sandbox_server) -> dict[str, str]:
    """Environment for subprocesses that talk to the session's sandbox server."""
    return clean_env(**sandbox_server.env("us-east-1"))


@pytest.fixture
def run_wizard() -> Callable[..., subprocess.CompletedProcess]:
    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "wizard", *args],
            env=env if env is not None else clean_env(),
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for moto.mock_aws tests, so nothing can reach a real account."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def popen_interruptible(*args: Any, **kwargs: Any) -> subprocess.Popen:
    """subprocess.Popen whose child gets Ctrl-C as a terminal's foreground job does.

    A SIGINT disposition of SIG_IGN survives exec, and a Python started with SIGINT ignored
    never raises KeyboardInterrupt (CPython installs its handler only over SIG_DFL). Whatever in
    this test process left SIGINT ignored, a test that sends SIGINT must start its child with
    the default: for the fork, SIGINT holds a Python handler (reset to SIG_DFL by exec).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return subprocess.Popen(*args, **kwargs)
    old = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(*args, **kwargs)
    finally:
        signal.signal(signal.SIGINT, old if old is not None else signal.SIG_DFL)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Drop hypothesis' garbage-collector timing callback once the tests are over.

    An xdist worker whose teardown outlasts execnet's 5 s grace gets a SIGINT from execnet
    (gateway_base._terminate_execution); landing inside that gc callback, the KeyboardInterrupt
    cannot propagate and pytest prints it as a PytestUnraisableExceptionWarning after [100%]
    (issue 11.10). After the session nothing needs hypothesis' gc timing.
    """
    import gc

    gc.callbacks[:] = [
        cb
        for cb in gc.callbacks
        if getattr(cb, "__qualname__", "") != "gc_cumulative_time.<locals>.gc_callback"
    ]
