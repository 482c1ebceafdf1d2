"""Plain text in the style of `flutter doctor`: one row per check, the fix under each failing row.

```
Diagnosis of d-ABCDEF123 (renderer / renderer-prod, us-east-1): Failed (HEALTH_CONSTRAINTS)
  instances: 37 Failed, 3 Succeeded

[✓] Deployment group matches running instances: 40 running instance(s) match Name=renderer
[✗] Instance profile: 37 of 40 instances: no instance profile
    → Attach the instance profile renderer-codedeploy-ec2 …   (automatic: wizard diagnose --fix)
      $ aws ec2 associate-iam-instance-profile …
[-] Instance roles can read the revision: skipped: iam.instance-profile failed

Root cause: Instance profile (iam.instance-profile) — 37 of 40 instances: no instance prof…
Fix: Attach the instance profile renderer-codedeploy-ec2 to …
  $ aws ec2 associate-iam-instance-profile …
✗ Deployment Failed: 1 problem, 1 warning (17 checks in 2.1 s). 1 automatic fix: wizard diag…
```
The deployment's own row is the symptom: when a check explains it, that row points at the cause
and is not counted as a second problem.
`verbose` adds the evidence under every row and the instance ids.
"""

from __future__ import annotations

import json
from typing import Any

from checks.model import Result, Status
from checks.runner import Report

_COLORS = {
    Status.PASS: "32",
    Status.INFO: "34",
    Status.WARN: "33",
    Status.SKIP: "2",
    Status.FAIL: "31",
    Status.ERROR: "31;1",
}


def _c(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _evidence_lines(evidence: dict[str, Any], indent: str) -> list[str]:
    out = []
    for key, value in evidence.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, (dict, list)):
            text = json.dumps(value, default=str, sort_keys=False)
            if len(text) > 300:
                text = text[:297] + "…"
        else:
            text = str(value)
        for i, line in enumerate(text.splitlines() or [""]):
            out.append(f"{indent}{key + ':' if i == 0 else ' ' * (len(key) + 1)} {line}")
    return out


def row(
    result: Result,
    *,
    verbose: bool = False,
    color: bool = False,
    cause_titles: dict[str, str] | None = None,
) -> list[str]:
    """The lines for one result (`cause_titles`: check id -> title, to name a symptom's cause)."""
    sym = _c(f"[{result.status.symbol}]", _COLORS[result.status], color)
    lines = [f"{sym} {result.title or result.id}: {result.summary}"]
    if verbose:
        lines[0] += _c(f"  ({result.id}, {result.seconds:.2f} s)", "2", color)
    cause = result.evidence.get("explained_by") if result.status is Status.FAIL else None
    if cause and cause_titles and cause in cause_titles:
        lines.append(f"    → caused by: {cause_titles[cause]} (below)")
    elif result.status in (Status.FAIL, Status.WARN, Status.ERROR) and result.fix:
        auto = (
            _c("  (automatic: wizard diagnose --fix)", "2", color) if result.fix.automatic else ""
        )
        lines.append(f"    → {result.fix.summary}{auto}")
        for cmd in result.fix.commands[: 6 if verbose else 3]:
            lines.append(f"      $ {cmd}")
    if verbose:
        if result.instances:
            shown = ", ".join(result.instances[:20])
            more = f" (+{len(result.instances) - 20})" if len(result.instances) > 20 else ""
            lines.append(f"    instances: {shown}{more}")
        lines.extend(_evidence_lines(result.evidence, "    · "))
    return lines


def header(report: Report) -> list[str]:
    dep = report.deployment
    where = " / ".join(x for x in (report.application, report.deployment_group) if x)
    region = f", {report.region}" if report.region else ""
    sandbox = " [SANDBOX]" if report.sandbox else ""
    if dep:
        code = f" ({dep['error_code']})" if dep.get("error_code") else ""
        lines = [f"Diagnosis of {dep['id']} ({where}{region}){sandbox}: {dep['status']}{code}"]
        if dep.get("instances"):
            lines.append(
                "  instances: " + ", ".join(f"{v} {k}" for k, v in dep["instances"].items())
            )
    else:
        lines = [f"Preflight of {where or 'the deployment group'}{region}{sandbox}"]
    lines.extend(f"  note: {n}" for n in report.notes)
    return lines


def summary_line(
    report: Report, color: bool = False, fix_hint: str = "wizard diagnose --fix"
) -> str:
    """'✗ Deployment Failed: 1 problem, 1 warning (17 checks in 2.1 s). …' — the deployment's
    outcome is said once, not counted as another problem. `fix_hint`: how this front end
    applies the automatic fixes (the TUI: 'press f')."""
    problems = len(report.problems)
    warnings = sum(1 for r in report.results if r.status is Status.WARN)
    parts = []
    if problems:
        parts.append(f"{problems} problem{'s' if problems != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    text = ", ".join(parts) if parts else "no issues found"
    dep = report.deployment or {}
    if dep.get("status") and dep.get("status") not in ("Succeeded", "Ready"):
        text = f"Deployment {dep['status']}: {text}"
    text += f" ({len(report.results)} checks in {report.seconds:.1f} s)."
    autos = report.automatic_fixes()
    if autos:
        text += f" {len(autos)} automatic fix{'es' if len(autos) != 1 else ''}: {fix_hint}"
    mark = "✗" if report.exit_code else "✓"
    return _c(f"{mark} {text}", "31" if report.exit_code else "32", color)


def root_cause_lines(
    report: Report,
    color: bool = False,
    fix_hint: str = "wizard diagnose --fix",
    deploy_hint: str = "wizard deploy",
) -> list[str]:
    """The closing paragraph in plain words: the root cause, what to do, what else fails.

    ```
    Root cause: CodeDeploy agent running (agent.running) — all 2 instances: agent installed but…
    Fix: Start the CodeDeploy agent …
      $ aws ssm send-command …
    Also failing: Instance profile
    ```
    After `--fix`, when nothing fails any more: "Fixed: … Next: deploy again: wizard deploy".
    `fix_hint` and `deploy_hint` say how this front end does each (the TUI: 'press f', 'press d').
    """
    label = _c("Root cause", "1", color)
    first = report.root_cause
    lines: list[str] = []
    if first is not None:
        # the id too: it is what `--check` takes and scripts select on
        lines.append(f"{label}: {first.title or first.id} ({first.id}) — {first.summary}")
        fix = first.fix
        if fix is not None:
            auto = f" (automatic: {fix_hint})" if first.has_automatic_fix else ""
            lines.append(f"Fix: {fix.summary}{auto}")
            lines.extend(f"  $ {cmd}" for cmd in fix.commands[:1])
        rest = [report.result(c) for c in report.root_causes[1:]]
        titles = [r.title or r.id for r in rest if r is not None]
        if titles:
            lines.append("Also failing: " + "; ".join(titles))
    elif report.applied and report.ready_to_redeploy:
        lines.append(_c("Fixed:", "1", color) + " " + "; ".join(report.applied))
        lines.append(f"Next: deploy again to see the fixes work: {deploy_hint}")
    return lines


def render(report: Report, verbose: bool = False, color: bool = False) -> str:
    """The whole plain-text report (no trailing newline)."""
    lines = header(report)
    lines.append("")
    titles = {r.id: r.title or r.id for r in report.results}
    for r in report.results:
        lines.extend(row(r, verbose=verbose, color=color, cause_titles=titles))
    lines.append("")
    lines.extend(root_cause_lines(report, color))
    lines.append(summary_line(report, color))
    return "\n".join(lines)
