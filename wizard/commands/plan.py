"""`wizard plan [--json]`: what apply would create, update, adopt or leave alone. Changes nothing.

Exit 0 when the plan can be applied, 1 when it has conflicts (apply would refuse), 2 for project
file or credential errors.
"""

from __future__ import annotations

import argparse
from typing import Any

from wizard.output import print_json, style

SYMBOLS = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "adopt": (">", "blue"),
    "noop": ("=", "dim"),
    "conflict": ("!", "red"),
    "delete": ("-", "red"),
}


def load_project(args: argparse.Namespace) -> Any:
    """The project file: --config FILE when given (setup --yes), else the project directory's."""
    from wizard import config

    path = getattr(args, "config", None)
    project = config.load(args.project_dir, path=path) if path else config.load(args.project_dir)
    # the project's region wins over the session's unless --region says otherwise, so that every
    # client (and the verify checks) look where the resources are
    if project.region and not getattr(args, "region", None):
        args.region = project.region
    return project


def render_change(change: Any) -> list[str]:
    sym, colour = SYMBOLS.get(change.action, ("?", "bold"))
    head = f"{style(sym, colour)} {change.action:<8} {change.resource} {change.name}"
    lines = [head, f"    {change.description}"]
    if change.calls:
        lines.append(f"    calls: {', '.join(dict.fromkeys(change.calls))}")
    if change.warning and getattr(change, "blocks_deploy", False):
        lines.append(f"    {style('problem:', 'red', 'bold')} {change.warning}")
    elif change.warning:
        lines.append(f"    {style('warning:', 'yellow')} {change.warning}")
    if change.fix:
        lines.append(f"    {style('fix:', 'bold')} {change.fix}")
    return lines


def render_plan(plan: Any, resolved: dict[str, Any] | None = None, *, title: str = "Plan") -> str:
    """The human plan: resolved names, one block per change, a summary line."""
    lines = [f"{style(title, 'bold')} for account {plan.account} in {plan.region}"]
    if resolved:
        width = max(len(k) for k in resolved)
        lines += [f"  {k.replace('_', ' '):<{width}}  {v}" for k, v in resolved.items()]
    lines.append("")
    for change in plan.changes:
        lines += render_change(change)
    counts = plan.counts()
    parts = [
        f"{counts[a]} to {a}" for a in ("create", "update", "adopt", "delete") if counts.get(a)
    ]
    parts.append(f"{counts['noop']} unchanged")
    if counts["conflict"]:
        parts.append(style(f"{counts['conflict']} conflict(s)", "red", "bold"))
    problems = getattr(plan, "problems", [])
    if problems:
        parts.append(style(f"{len(problems)} problem(s): nothing could deploy", "red", "bold"))
    lines += ["", "Summary: " + ", ".join(parts)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from wizard.commands._context import aws_context
    from wizard.steps import engine

    project = load_project(args)
    with aws_context(args, banner=not args.json) as ctx:
        plan = engine.build_plan(ctx, project)
        if args.json:
            print_json(plan.to_json())
        else:
            print(render_plan(plan, engine.resolved(ctx, project)))
            if plan.conflicts:
                print("\nApply would stop at the conflicts above; resolve them first.")
            elif plan.problems:
                print(
                    "\nApply would set this up, but the first deployment would fail: see the "
                    "problem above."
                )
            elif plan.mutating:
                print("\nRun `wizard apply` to carry this out.")
            else:
                print("\nNothing to do: everything is set up.")
    return 1 if plan.conflicts else 0
