"""deployment.*: what the deployment itself says (errorInformation and every failed target)."""

from __future__ import annotations

from checks import interpret
from checks.interpret import count_phrase, group_by
from checks.model import Fix, Result, fail, info, passed, skip
from checks.registry import check

IN_FLIGHT = ("Created", "Queued", "InProgress", "Baking", "Ready")


def failure_groups(failures: list[interpret.Failure], total: int | None) -> list[dict]:
    """Failures that look the same, largest group first, as evidence rows."""
    rows = []
    for (cause, event, code, script), items in group_by(
        failures, lambda f: (f.cause.key, f.event, f.error_code, f.script_name)
    ):
        first = items[0]
        rows.append(
            {
                "cause": cause,
                "explanation": first.cause.label,
                "event": event,
                "error_code": code,
                "script": script,
                "count": len(items),
                "of": total,
                "message": first.message[:500],
                "log_tail": first.log_tail[-2000:],
                "instances": [f.instance_id for f in items],
                "checks": list(first.cause.checks),
            }
        )
    return rows


@check("deployment.status", "Deployment outcome", priority=90)
def status(ctx) -> Result:
    """The deployment's errorInformation and every target's lifecycle diagnostics, interpreted."""
    ev = ctx.ev
    dep = ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    st = dep.get("status", "Unknown")
    err = dep.get("errorInformation") or {}
    code, message = err.get("code"), err.get("message") or ""
    overview = {k: v for k, v in (dep.get("deploymentOverview") or {}).items() if v}
    total = sum(overview.values()) or None
    evidence = {
        "deployment_id": dep.get("deploymentId"),
        "status": st,
        "error_code": code,
        "error_message": message,
        "overview": overview,
        "revision": dep.get("revision"),
        "deployment_config": dep.get("deploymentConfigName"),
        "file_exists_behavior": dep.get("fileExistsBehavior"),
        "creator": dep.get("creator"),
    }
    if st == "Succeeded":
        return passed(
            f"{dep.get('deploymentId')} succeeded on {total or 0} instance(s)", evidence=evidence
        )
    if st in IN_FLIGHT:
        return info(f"{dep.get('deploymentId')} is still {st}: {overview}", evidence=evidence)
    failures = ev.failures()
    groups = failure_groups(failures, total)
    evidence["failures"] = groups
    evidence["failed_targets"] = len(failures)
    explained = interpret.DEPLOYMENT_CODES.get(code or "", ((), ""))[1]
    head = f"{st}" + (f" ({code})" if code else "")
    if groups:
        g = groups[0]
        where = f" at {g['event']}" if g["event"] else ""
        summary = f"{head}: {count_phrase(g['count'], total)} failed{where} — {g['explanation']}"
        if len(groups) > 1:
            summary += f" (+{len(groups) - 1} other failure kind{'s' if len(groups) > 2 else ''})"
    else:
        summary = f"{head}: {explained or message or 'no detail from CodeDeploy'}"
    ids = sorted({i for g in groups for i in g["instances"]})
    fix = _fix_for(code, groups)
    return fail(summary, evidence=evidence, instances=ids, fix=fix)


def _fix_for(code: str | None, groups: list[dict]) -> Fix:
    if code in ("THROTTLED", "INTERNAL_ERROR", "TIMEOUT"):
        return Fix("A transient failure: deploy again.", ["wizard deploy"])
    if code == "MANUAL_STOP":
        return Fix(
            "The deployment was stopped on purpose (StopDeployment); deploy again when ready."
        )
    if code == "ALARM_ACTIVE":
        return Fix(
            "A CloudWatch alarm of the group is in ALARM: fix what it watches, or deploy with "
            "--ignore-alarm-configuration.",
            ["aws cloudwatch describe-alarms --state-value ALARM"],
        )
    pointers = sorted({c for g in groups for c in g["checks"]})
    if pointers:
        return Fix(
            "Fix the cause named by the failing checks below, then deploy again: "
            + ", ".join(pointers)
        )
    return Fix("Read the failed targets' diagnostics, then deploy again.")
