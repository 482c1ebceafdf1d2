"""`wizard diagnose [DEPLOYMENT_ID]`: the root cause of a failed deployment, and its fix.

Which deployment: the id given; else the latest deployment of `--application`/`--deployment-group`;
else of the scenario seeded with `--sandbox --scenario NAME`; else of the group in the project file.
A group that never deployed gets the preflight checks. Output: the TUI screen on a terminal, plain
text with `--plain` or when piped, one JSON document with `--json`. `--fix` shows the safe automatic
fixes as a plan, asks (or `--yes`), applies them and runs the affected checks again.
Exit: 0 nothing wrong, 1 a failed deployment or a failing check, 2 usage/credentials.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from wizard.commands._context import aws_context, is_tty
from wizard.errors import EXIT_USAGE, ConfigError, UsageError
from wizard.output import ask_yes_no, info, print_json, use_color

_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")


def list_checks(as_json: bool) -> int:
    from checks import registry

    checks = registry.all_checks()
    if as_json:
        print_json(
            {
                "checks": [
                    {"id": c.id, "title": c.title, "requires": list(c.requires), "doc": c.doc}
                    for c in checks
                ]
            }
        )
        return 0
    width = max(len(c.id) for c in checks)
    for c in checks:
        req = f"  (after {', '.join(c.requires)})" if c.requires else ""
        print(f"{c.id:<{width}}  {c.doc or c.title}{req}")
    return 0


def _target(args: argparse.Namespace, ctx: Any) -> dict[str, Any]:
    """deployment_id / application / deployment_group from the flags, scenario or project file."""
    target = {
        "deployment_id": args.deployment_id,
        "application": args.application,
        "deployment_group": args.deployment_group,
    }
    scenario = getattr(ctx, "scenario", None)
    if scenario and not (target["deployment_id"] or target["application"]):
        target["application"] = scenario.get("application")
        target["deployment_group"] = scenario.get("deployment_group")
        if not args.preflight:
            target["deployment_id"] = scenario.get("deployment_id")
    if target["deployment_id"] or (target["application"] and target["deployment_group"]):
        return target
    project = _project(args)
    if project is None:
        raise UsageError(
            "which deployment? Give a DEPLOYMENT_ID, --application and --deployment-group, "
            "or run in a project directory (.codedeploy-wizard.yml)"
        )
    target["application"] = target["application"] or project.application
    target["deployment_group"] = target["deployment_group"] or project.deployment_group
    return target


def _project(args: argparse.Namespace) -> Any:
    from wizard import config

    try:
        return config.load(args.project_dir)
    except ConfigError as exc:
        if "no project file" in exc.message:
            return None
        raise


def _validate(args: argparse.Namespace) -> None:
    if args.deployment_id and not _DEPLOYMENT_ID.match(args.deployment_id):
        raise UsageError(
            f"{args.deployment_id!r} is not a deployment id (they look like d-ABCDEF123)"
        )
    if args.deployment_id and args.preflight:
        raise UsageError("--preflight checks a group before any deployment: drop DEPLOYMENT_ID")
    if args.fix and args.json and not args.yes:
        raise UsageError("--fix with --json cannot ask for confirmation: add --yes")
    if args.check:
        from checks import registry

        try:
            registry.select(args.check)
        except KeyError as exc:
            raise UsageError(
                f"no check matches {exc.args[0]!r} (see `wizard diagnose --list-checks`)"
            ) from None


def run(args: argparse.Namespace) -> int:
    if args.list_checks:
        return list_checks(args.json)
    _validate(args)
    if args.region is None and not args.sandbox:
        project = None
        try:
            project = _project(args)
        except ConfigError:
            project = None
        if project is not None and project.region:
            args.region = project.region
    # --fix asks on the terminal in plain text; the TUI has its own Fix button
    tui = is_tty() and not args.json and not args.plain and not args.fix
    with aws_context(args, banner=not args.json) as ctx:
        target = _target(args, ctx)
        if tui:
            return _run_tui(ctx, args, target)
        return _run_plain(ctx, args, target)


def _progress(result: Any) -> None:
    from checks.reporters.text import row

    print(row(result, color=use_color(sys.stderr))[0], file=sys.stderr)


def _run_plain(ctx: Any, args: argparse.Namespace, target: dict[str, Any]) -> int:
    from checks import fixes as fixes_mod
    from checks.reporters import text
    from checks.runner import diagnose

    live = not args.json and sys.stderr.isatty() and not sys.stdout.isatty()
    report = diagnose(
        ctx,
        deployment_id=target["deployment_id"],
        application=target["application"],
        deployment_group=target["deployment_group"],
        check_ids=args.check,
        preflight=args.preflight,
        local=args.local,
        on_result=_progress if live else None,
    )
    applied: list[Any] = []
    if args.fix:
        report, applied, code = _fix(ctx, args, report, fixes_mod)
        if code is not None:
            return code
    if args.json:
        doc = report.to_json()
        if args.fix:
            doc["fixes"] = [{**o.fix.to_json(), "ok": o.ok, "message": o.message} for o in applied]
        print_json(doc)
    else:
        print(text.render(report, verbose=bool(args.verbose), color=use_color()))
    return report.exit_code


def _fix(ctx: Any, args: argparse.Namespace, report: Any, fixes_mod: Any) -> tuple:
    plan = fixes_mod.plan_fixes(report)
    out = sys.stderr if args.json else sys.stdout
    if not plan:
        print("No automatic fix applies; the fixes above are for you to run.", file=out)
        return report, [], None
    print("Automatic fixes (nothing is deleted or detached):", file=out)
    for i, f in enumerate(plan, 1):
        print(f"  {i}. [{f.check_id}] {f.description}  ({', '.join(f.calls)})", file=out)
    if not args.yes:
        if not is_tty():
            info("error: --fix needs confirmation: run on a terminal or add --yes")
            return report, [], EXIT_USAGE
        if not ask_yes_no("Apply these fixes?"):
            print("Nothing changed.", file=out)
            return report, [], None
    outcomes = fixes_mod.apply_fixes(ctx, plan)
    for o in outcomes:
        mark = "✓" if o.ok else "✗"
        print(f"  {mark} {o.fix.description}: {o.message}", file=out)
    done = [o.fix for o in outcomes if o.ok]
    if done:
        print("Running the affected checks again…", file=out)
        report = fixes_mod.rerun(ctx, report, done, outcomes=outcomes)
    return report, outcomes, None


def _run_tui(ctx: Any, args: argparse.Namespace, target: dict[str, Any]) -> int:
    from wizard.screens.diagnose import DiagnoseApp

    app = DiagnoseApp(
        ctx,
        deployment_id=target["deployment_id"],
        application=target["application"],
        deployment_group=target["deployment_group"],
        check_ids=args.check,
        preflight=args.preflight,
        local=args.local,
    )
    app.run()
    report = app.report
    if report is None:
        return 130 if app.return_code is None else int(app.return_code)
    from checks.reporters import text

    if app.redeployed is not None:  # Deploy again, after the fixes: what was fixed, and how
        dep, status = app.redeployed  # the new deployment went (the old report is history)
        for line in text.root_cause_lines(report, color=use_color()):
            if not line.startswith("Next:"):
                print(line)
        if status in ("Succeeded", "Failed", "Stopped"):
            print(f"Deployed again: {dep} {status}.")
        else:  # the user left the screen while it ran: the deployment goes on
            print(f"Deployed again: {dep} is still running; `wizard diagnose {dep}` once it ends.")
        return 0 if status == "Succeeded" else 1
    print(text.render(report, color=use_color()))
    return report.exit_code
