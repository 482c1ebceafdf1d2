"""`wizard destroy [--yes]`: remove what the wizard created for this application.

Finds resources by the tag `codedeploy-wizard:application=<name>` (and, for instances, the tag the
wizard puts on instances it launched), shows the plan, asks unless --yes, and deletes in dependency
order. Resources of the configured names that lack the tag are listed and left alone. Running it
again after everything is gone changes nothing.
"""

from __future__ import annotations

import argparse

from wizard.commands.apply import confirm, progress_printer, report_failure
from wizard.commands.plan import load_project, render_plan
from wizard.output import style


def run(args: argparse.Namespace) -> int:
    from wizard.commands._context import aws_context
    from wizard.projectlock import project_lock
    from wizard.steps import engine

    project = load_project(args)
    with project_lock(args.project_dir, "destroy"), aws_context(args) as ctx:
        plan = engine.build_destroy_plan(ctx, project)
        if not plan.mutating:
            if plan.changes:
                print(render_plan(plan, title="Destroy plan"))
                print(f"Nothing to remove for {project.application} in {plan.region}.")
            else:
                print(
                    f"Nothing to remove: no resources of {project.application} carry the "
                    "wizard's tag."
                )
            return 0
        print(render_plan(plan, title="Destroy plan"))
        n = len(plan.mutating)
        question = f"\nDelete these {n} resource{'s' * (n != 1)}? This cannot be undone."
        if not confirm(question, args, "destroy"):
            print("Nothing deleted.")
            return 1
        print()
        result = engine.apply_destroy(ctx, project, plan, progress_printer())
        if not result.ok:
            return report_failure(result, "destroy", ctx)
    print(style(f"\nRemoved {len(result.done)} resource(s) of {project.application}.", "bold"))
    return 0
