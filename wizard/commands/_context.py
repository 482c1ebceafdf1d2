"""Build the AwsContext for a command from the global flags, starting the sandbox if asked."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from wizard.aws import SANDBOX_DEFAULT_REGION, AwsContext
from wizard.output import info, sandbox_banner


@contextlib.contextmanager
def aws_context(
    args: argparse.Namespace, *, banner: bool = True, scenario: str | None = None
) -> Iterator[AwsContext]:
    """Yield the run's AwsContext; with --sandbox the emulator lives exactly as long as this."""
    if getattr(args, "sandbox", False):
        from wizard.sandbox.server import SandboxServer

        server = SandboxServer(scenario=scenario)
        server.start()
        try:
            region = args.region or SANDBOX_DEFAULT_REGION
            ctx = AwsContext(
                region=region,
                endpoint_url=server.url,
                sandbox=True,
                access_key="sandbox",
                secret_key="sandbox",
            )
            ctx.sandbox_server = server  # type: ignore[attr-defined]
            if banner:
                info(sandbox_banner(server.url, ctx.account, region))
            yield ctx
        finally:
            server.stop()
    else:
        ctx = AwsContext(
            profile=args.profile, region=args.region, endpoint_url=args.endpoint_url
        )
        yield ctx


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
