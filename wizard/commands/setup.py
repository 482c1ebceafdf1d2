"""`wizard` / `wizard setup`: the TUI, or with --yes the non-interactive apply."""

from __future__ import annotations

import argparse
import importlib.util

from wizard.errors import UsageError


def run(args: argparse.Namespace) -> int:
    if getattr(args, "yes", False):
        if importlib.util.find_spec("wizard.commands.apply") is None:
            raise UsageError("wizard setup --yes: not available yet")
        from wizard.commands import apply

        return apply.run(args)
    from wizard.commands._context import aws_context

    with aws_context(args, banner=False) as ctx:
        from wizard.app import create_app

        app = create_app(ctx, project_dir=args.project_dir)
        app.run()
        return app.return_code or 0
