"""`wizard` / `wizard setup`: the TUI, or with --yes what the TUI does without questions: apply the
plan, write the files (appspec, hook scripts, CI config; `--no-files` skips them), verify."""

from __future__ import annotations

import argparse
import importlib.util

from wizard.errors import UsageError


def run(args: argparse.Namespace) -> int:
    if getattr(args, "yes", False):
        if importlib.util.find_spec("wizard.commands.apply") is None:
            raise UsageError("wizard setup --yes: not available yet")
        from wizard.commands import apply

        return apply.run(args, command="setup")
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

    from wizard.commands._context import aws_context

    with aws_context(args, banner=False) as ctx:
        app = create_app(ctx, project_dir=args.project_dir)
        app.run()
        return app.return_code or 0
