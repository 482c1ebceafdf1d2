"""`wizard` / `wizard setup`: the TUI, or with --yes what the TUI does without questions: apply the
plan, write the files (appspec, hook scripts, CI config; `--no-files` skips them), verify."""

from __future__ import annotations

import argparse
import gc
import importlib.util

from wizard.errors import UsageError


def run(args: argparse.Namespace) -> int:
    if getattr(args, "yes", False):
        if importlib.util.find_spec("wizard.commands.apply") is None:
            raise UsageError("wizard setup --yes: not available yet")
        from wizard.commands import apply

        return apply.run(args, command="setup")
    # Starting Textual allocates a few hundred thousand objects (imports, CSS rules, the DOM,
    # strips); the cyclic collector ran again and again over them before the first frame, about a
    # fifth of the time to it (bench/tui_start.py). Paused here, the app resumes it once its first
    # frame is on screen (WizardApp.on_mount); the `finally` covers an app that never got that
    # far.
    gc.disable()
    try:
        return _run_tui(args)
    finally:
        gc.enable()


def _run_tui(args: argparse.Namespace) -> int:
    from wizard.app import create_app

    if not getattr(args, "sandbox", False):
        # The TUI builds the AwsContext in a worker after its first frame (boto3 is slow to
        # import), and shows a bad profile / region / endpoint there with a Retry.
        def make_context():
            from wizard.aws import AwsContext

            ctx = AwsContext(
                profile=args.profile, region=args.region, endpoint_url=args.endpoint_url
            )
            ctx.scenario = None  # type: ignore[attr-defined]
            return ctx

        app = create_app(
            make_context,
            project_dir=args.project_dir,
            profile=args.profile,
            region=args.region,
            endpoint_url=args.endpoint_url,
        )
        app.run()
        return app.return_code or 0

    # --sandbox: the emulator starts in the app's worker after the first frame too (importing
    # moto and starting its server took longer than everything else before the first paint);
    # it lives until the app exits.
    servers: list = []

    def make_sandbox():
        from wizard.commands._context import sandbox_context
        from wizard.sandbox.server import SandboxServer

        while servers:  # a Retry after a failed start: the first server goes
            servers.pop().stop()
        server = SandboxServer(identity_first=True)  # the header's account before the rest
        server.start()
        servers.append(server)
        region = args.region or SANDBOX_DEFAULT_REGION
        return sandbox_context(server, region, getattr(args, "scenario", None))

    from wizard.aws import SANDBOX_DEFAULT_REGION  # light: boto3 is imported when used

    app = create_app(
        make_sandbox,
        project_dir=args.project_dir,
        region=args.region or SANDBOX_DEFAULT_REGION,
        sandbox=True,
    )
    try:
        app.run()
    finally:
        while servers:
            servers.pop().stop()
    return app.return_code or 0
