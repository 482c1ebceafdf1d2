"""`wizard apply [--yes]` (and `wizard setup --yes`): show the plan, confirm, carry it out, verify.

Asks before changing anything unless `--yes`; with no terminal to ask on and no `--yes` it exits 2.
A conflict stops it before any change. A failure stops it at that change, names what was done,
and exits 1 (AccessDenied names the action and the principal); running it again finishes the job.
After applying, the diagnose checks that prove the setup run in preflight mode; their verdict is
shown but does not change the exit code (a fresh instance needs a few minutes to install its agent).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wizard.commands.plan import load_project, render_plan
from wizard.errors import UsageError
from wizard.output import error_line, style

MARKS = {"done": ("[✓]", "green"), "failed": ("[✗]", "red")}


def confirm(question: str, args: argparse.Namespace, command: str) -> bool:
    """True with --yes; asks on a terminal; without a terminal refuses (UsageError, exit 2)."""
    from wizard.commands._context import is_tty

    if getattr(args, "yes", False):
        return True
    if not is_tty():
        raise UsageError(
            f"wizard {command}: no terminal to confirm on; pass --yes to {command} without asking"
        )
    from wizard.output import ask_yes_no

    return ask_yes_no(question)


def progress_printer(stream: Any = None) -> Any:
    """A progress callback printing one line per change as it finishes."""
    out = stream or sys.stdout

    tty = bool(getattr(out, "isatty", lambda: False)())

    def progress(change: Any, state: str, message: str) -> None:
        if change.action == "noop":
            return
        what = f"{change.action} {change.resource} {change.name}"
        if state == "start":
            if tty:  # a transient line while the change runs (launching can take minutes)
                print(f"[…] {what}", end="\r", file=out, flush=True)
            return
        mark, colour = MARKS.get(state, ("[ ]", "dim"))
        line = f"{style(mark, colour, stream=out)} {what}"
        if state == "failed":
            line += f": {message}"
        print(line + ("\x1b[K" if tty else ""), file=out, flush=True)

    return progress


def report_failure(result: Any, verb: str) -> int:
    """Stop message: the one-line error, what was already done, how to finish."""
    err = result.error
    error_line(err)
    if result.done:
        print("Already done before it stopped:", file=sys.stderr)
        for ch in result.done:
            print(f"  - {ch.action} {ch.resource} {ch.name}", file=sys.stderr)
    else:
        untouched = result.failed is None or result.failed.action == "conflict"
        print(
            "Nothing was changed." if untouched else "No change had completed before this one.",
            file=sys.stderr,
        )
    if result.failed is not None and result.failed.action != "conflict":
        print(
            f"Run `wizard {verb}` again to finish: it picks up where this stopped.", file=sys.stderr
        )
    return int(getattr(err, "exit_code", 1) or 1)


def verify(ctx: Any, project: Any, check_ids: list[str]) -> None:
    """Run the checks that prove the setup (preflight); print their verdict."""
    if not check_ids:
        return
    try:
        from checks import registry
        from checks.runner import diagnose
    except ImportError:
        print(f"\nVerify with: wizard diagnose --preflight --check {' --check '.join(check_ids)}")
        return
    known = {c.id for c in registry.all_checks()}
    ids = [c for c in check_ids if c in known]
    if not ids:
        return
    print("\nVerifying (diagnose --preflight):")
    try:
        report = diagnose(
            ctx,
            application=project.application,
            deployment_group=project.deployment_group,
            check_ids=ids,
            preflight=True,
        )
    except Exception as exc:  # verification must not turn a good apply into a crash
        print(f"  could not run the checks: {exc}")
        return
    try:
        from checks.reporters.text import render

        print(render(report, verbose=False, color=False))
    except ImportError:
        for res in report.results:
            print(f"  {res.status:<5} {res.id}: {res.summary}")


def next_steps(project: Any, result: Any) -> list[str]:
    steps = [
        "wizard files          write appspec.yml, hook scripts and the CI config",
        "wizard deploy --wait  bundle this folder, deploy it and follow it",
        "wizard diagnose       if a deployment fails: the root cause and the fix",
    ]
    if result.outputs.get("load_balancer_url"):
        steps.append(
            f"Load balancer: {result.outputs['load_balancer_url']} (it serves the instances that "
            "pass the health check)"
        )
    if project.ci.provider == "github" and result.outputs.get("deploy_role_arn"):
        steps.append(f"GitHub Actions role to assume: {result.outputs['deploy_role_arn']}")
    if project.ci.provider == "travis" and not result.outputs.get("access_key"):
        steps.append(
            "Travis CI needs an access key: `wizard apply --create-access-key` makes one "
            "(printed once, never saved)"
        )
    return steps


def print_access_key(result: Any) -> None:
    from wizard.steps.ci import travis_commands

    key = result.outputs.get("access_key")
    if not key:
        return
    user = result.outputs.get("ci_user", "the CI user")
    print(f"\nAccess key for {user}: shown once, saved nowhere. Store it in Travis CI now:")
    for line in travis_commands(key):
        print(f"  {line}")


def run(args: argparse.Namespace) -> int:
    from wizard.commands._context import aws_context
    from wizard.steps import engine

    project = load_project(args)
    create_key = bool(getattr(args, "create_access_key", False))
    with aws_context(args) as ctx:
        plan = engine.build_plan(ctx, project, create_access_key=create_key)
        print(render_plan(plan, engine.resolved(ctx, project)))
        if plan.conflicts:
            result = engine.apply_plan(ctx, project, plan)  # refuses: reports the conflict
            print()
            return report_failure(result, "apply")
        if plan.mutating:
            n = len(plan.mutating)
            if not confirm(f"\nApply these {n} change{'s' * (n != 1)}?", args, "apply"):
                print("Nothing changed.")
                return 1
            print()
            result = engine.apply_plan(
                ctx, project, plan, progress_printer(), create_access_key=create_key
            )
            if not result.ok:
                return report_failure(result, "apply")
            print(style(f"\nApplied {len(result.done)} change(s).", "bold"))
        else:
            result = engine.apply_plan(ctx, project, plan)
            print(style("\nNothing to do: everything is set up.", "bold"))
        print_access_key(result)
        verify(ctx, project, result.checks)
    print("\nNext steps:")
    for line in next_steps(project, result):
        print(f"  {line}")
    return 0
