"""Plain text in the style of `flutter doctor`: one row per check, the fix under each failing row.

```
Diagnosis of d-ABCDEF123 (renderer / renderer-prod, us-east-1): Failed (HEALTH_CONSTRAINTS)
  instances: 37 Failed, 3 Succeeded

[✓] Deployment group matches running instances: 40 running instance(s) match Name=renderer
[✗] Instance profile: 37 of 40 instances: no instance profile
    → Attach the instance profile renderer-codedeploy-ec2 …   (automatic: wizard diagnose --fix)
      $ aws ec2 associate-iam-instance-profile …
[-] Instance roles can read the revision: skipped: iam.instance-profile failed

Root cause: iam.instance-profile — 37 of 40 instances: no instance profile
✗ 1 problem, 1 warning (17 checks in 2.1 s). 1 automatic fix: wizard diagnose --fix
```
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


def row(result: Result, *, verbose: bool = False, color: bool = False) -> list[str]:
    """The lines for one result."""
    sym = _c(f"[{result.status.symbol}]", _COLORS[result.status], color)
    lines = [f"{sym} {result.title or result.id}: {result.summary}"]
    if verbose:
        lines[0] += _c(f"  ({result.id}, {result.seconds:.2f} s)", "2", color)
    if result.status in (Status.FAIL, Status.WARN, Status.ERROR) and result.fix:
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


def summary_line(report: Report, color: bool = False) -> str:
    c = report.counts()
    problems = c["fail"] + c["error"]
    parts = []
    if problems:
        parts.append(f"{problems} problem{'s' if problems != 1 else ''}")
    if c["warn"]:
        parts.append(f"{c['warn']} warning{'s' if c['warn'] != 1 else ''}")
    text = ", ".join(parts) if parts else "no issues found"
    text += f" ({len(report.results)} checks in {report.seconds:.1f} s)."
    autos = report.automatic_fixes()
    if autos:
        text += (
            f" {len(autos)} automatic fix{'es' if len(autos) != 1 else ''}: wizard diagnose --fix"
        )
    mark = "✗" if report.exit_code else "✓"
    return _c(f"{mark} {text}", "31" if report.exit_code else "32", color)


def render(report: Report, verbose: bool = False, color: bool = False) -> str:
    """The whole plain-text report (no trailing newline)."""
    lines = header(report)
    lines.append("")
    for r in report.results:
        lines.extend(row(r, verbose=verbose, color=color))
    lines.append("")
    if report.root_causes:
        first = report.result(report.root_causes[0])
        label = _c("Root cause:", "1", color)
        lines.append(
            f"{label} {first.id} — {first.summary}" if first else f"{label} {report.root_causes[0]}"
        )
        if len(report.root_causes) > 1:
            lines.append("  then: " + ", ".join(report.root_causes[1:]))
    lines.append(summary_line(report, color))
    return "\n".join(lines)
