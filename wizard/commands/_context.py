"""Build the AwsContext for a command from the global flags, starting the sandbox if asked."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from wizard.aws import SANDBOX_DEFAULT_REGION, AwsContext
from wizard.errors import CredentialsError, UsageError, WizardError
from wizard.output import info, sandbox_banner


@contextlib.contextmanager
def aws_context(args: argparse.Namespace, *, banner: bool = True) -> Iterator[AwsContext]:
    """Yield the run's AwsContext; with --sandbox the emulator lives exactly as long as this.

    With --scenario the sandbox is seeded first; the seed's result (application, group,
    deployment id …) is available as `ctx.scenario`.
    """
    scenario = getattr(args, "scenario", None)
    if scenario and not getattr(args, "sandbox", False):
        raise UsageError("--scenario needs --sandbox")
    if getattr(args, "sandbox", False):
        from wizard.sandbox.server import SandboxServer

        server = SandboxServer()
        server.start()
        try:
            region = args.region or SANDBOX_DEFAULT_REGION
            ctx = sandbox_context(server, region, scenario)
            if banner:
                info(sandbox_banner(server.url, ctx.account, region))
            yield ctx
        finally:
            server.stop()
    else:
        ctx = AwsContext(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
        ctx.scenario = None  # type: ignore[attr-defined]
        _check_region(ctx)
        if ctx.endpoint_url:
            # a foreground `wizard sandbox` says so in its STS answer: learn it now, so every
            # report and document of this run is labelled (an endpoint that fails here would
            # fail the command's first call anyway, with the same one-line error)
            try:
                ctx.identity()
            except CredentialsError:
                raise
            except WizardError:
                pass  # an endpoint that does not serve STS: no label, the command goes on
            if ctx.sandbox and banner:
                info(sandbox_banner(ctx.endpoint_url, ctx.account, ctx.region))
        yield ctx


def sandbox_context(server: object, region: str, scenario: str | None) -> AwsContext:
    """The AwsContext of a started SandboxServer in `region` (its fixed sandbox keys), region
    checked, seeded with `scenario` when given (`ctx.scenario`: the seed's result, else None).
    UsageError for a region no partition has or an unknown scenario."""
    ctx = AwsContext(
        region=region,
        endpoint_url=server.url,  # type: ignore[attr-defined]
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )
    ctx.sandbox_server = server  # type: ignore[attr-defined]
    _check_region(ctx)
    ctx.scenario = server.seed(scenario, region=region) if scenario else None  # type: ignore[attr-defined]
    return ctx


def _check_region(ctx: AwsContext) -> None:
    """A region no AWS partition has (a typo: `us-east1`) is a usage error, not a crash later."""
    import botocore.exceptions

    try:
        ctx.partition  # noqa: B018 - resolving it is the check
    except botocore.exceptions.UnknownRegionError:
        raise UsageError(
            f"unknown AWS region {ctx.region!r}", hint="Use a name like us-east-1 or eu-west-2."
        ) from None


def embedded(ctx: object) -> bool:
    """True when this command started the sandbox itself (`--sandbox`): it ends with the command,
    and everything made in it is gone, so no later command can see it."""
    return bool(getattr(ctx, "sandbox", False) and getattr(ctx, "embedded", False))


# What to do instead of "run X later" when the embedded sandbox ends with the command: a
# `wizard sandbox` server in another terminal outlives commands (its exports point them at it).
KEEP_A_SANDBOX = (
    "The sandbox of this command ended with it: what it set up is gone, so `wizard --sandbox "
    "deploy` would meet an empty one. To keep a sandbox for several commands, run `wizard "
    "sandbox` in another terminal and paste its export lines here; then run, without --sandbox:"
)


def later(ctx: object, command: str) -> str:
    """`command`, quoted, to run after this one; with the embedded sandbox (gone when this command
    ends) how to run it against a sandbox that stays."""
    if not embedded(ctx):
        return f"`{command}`"
    return (
        f"`{command}` against a sandbox that stays (`wizard sandbox` in another terminal, its "
        "export lines pasted here: this command's sandbox ends with it)"
    )


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
