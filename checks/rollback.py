"""rollback.*: this deployment was rolled back (or is a rollback): what, to which revision, and why.

With `autoRollbackConfiguration` enabled, CodeDeploy answers a failed (or stopped) deployment
with a new deployment of the last successful revision. GetDeployment links the two through
`rollbackInfo`: the failed deployment carries `rollbackDeploymentId`, the rollback carries
`rollbackTriggeringDeploymentId` (and `creator: codeDeployRollback`), and `rollbackMessage` says
why nothing was rolled back when that happens (CodeDeploy API Reference, `RollbackInfo` and
`DeploymentInfo.creator`; User Guide, "Redeploy and roll back a deployment with CodeDeploy").
A diagnosis of the rollback alone would read "Succeeded": this check follows the link into the
original deployment and names why it failed, from its own failed targets' lifecycle diagnostics.
"""

from __future__ import annotations

from typing import Any

from checks import interpret
from checks.evidence import BATCH_TARGETS, chunks
from checks.interpret import count_phrase, group_by
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check

ROLLBACK_CREATOR = "codeDeployRollback"


def get_deployment(ev: Any, deployment_id: str) -> dict[str, Any] | None:
    """GetDeployment of another deployment (memoised); None when it no longer exists."""
    return ev.deployment_info(deployment_id)


def failures_of(ev: Any, deployment_id: str) -> list[interpret.Failure]:
    """The first failure of every failed target of another deployment (25 targets a call)."""

    def load() -> list[interpret.Failure]:
        cd = ev.client("codedeploy")
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "deploymentId": deployment_id,
            "targetFilters": {"TargetStatus": ["Failed"]},
        }
        while True:
            resp = cd.list_deployment_targets(**kwargs)
            ids.extend(resp.get("targetIds", []))
            if not resp.get("nextToken"):
                break
            kwargs["nextToken"] = resp["nextToken"]

        def batch(part: list[str]) -> list[dict[str, Any]]:
            return cd.batch_get_deployment_targets(deploymentId=deployment_id, targetIds=part).get(
                "deploymentTargets", []
            )

        out = []
        for part in ev.fan_out(batch, chunks(ids, BATCH_TARGETS)):
            for target in part:
                f = interpret.first_failure(target)
                if f is not None:
                    out.append(f)
        return out

    return ev.memo(("other-failures", deployment_id), load)


def revision_text(rev: dict[str, Any] | None) -> str:
    """'s3://bucket/key (etag …)' or the revision type."""
    if not rev:
        return "(no revision)"
    loc = rev.get("s3Location")
    if rev.get("revisionType") == "S3" and loc:
        extra = loc.get("version") or (loc.get("eTag") or "").strip('"')
        return f"s3://{loc.get('bucket')}/{loc.get('key')}" + (f" ({extra[:12]})" if extra else "")
    gh = rev.get("gitHubLocation")
    if gh:
        return f"{gh.get('repository')}@{(gh.get('commitId') or '')[:12]}"
    return str(rev.get("revisionType") or "revision")


def why_failed(ev: Any, dep: dict[str, Any]) -> tuple[str, list[str], list[interpret.Failure]]:
    """One sentence on why `dep` failed, the check ids that confirm it, and its failures."""
    err = dep.get("errorInformation") or {}
    code = err.get("code")
    failures = failures_of(ev, dep["deploymentId"]) if dep.get("deploymentId") else []
    total = sum(int(v or 0) for v in (dep.get("deploymentOverview") or {}).values()) or None
    if failures:
        (label, event, script), items = group_by(
            failures, lambda f: (f.cause.label, f.event, f.script_name)
        )[0]
        where = f" at {event}" if event else ""
        what = f" ({script})" if script else ""
        first = items[0]
        detail = (first.message or "").strip().splitlines()
        # the script names the failure well enough; otherwise the message's first line
        tail = f": {detail[0][:120]}" if detail and detail[0] and not script else ""
        checks = list(first.cause.checks)
        return (
            f"{count_phrase(len(items), total)} failed{where} — {label}{what}{tail}",
            checks,
            failures,
        )
    explained = interpret.DEPLOYMENT_CODES.get(code or "", ((), ""))
    text = explained[1] or err.get("message") or "no detail from CodeDeploy"
    return (f"{code}: {text}" if code else text), list(explained[0]), failures


@check("rollback.rolled-back", "Rollback (what was rolled back, to what, and why)", priority=85)
def rolled_back(ctx) -> Result:
    """This deployment was rolled back, or is a rollback: to which revision, and why the
    original failed (followed into the original deployment)."""
    ev = ctx.ev
    dep = ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    rb = dep.get("rollbackInfo") or {}
    triggering = rb.get("rollbackTriggeringDeploymentId")
    rollback_id = rb.get("rollbackDeploymentId")
    evidence: dict[str, Any] = {
        "deployment_id": dep.get("deploymentId"),
        "creator": dep.get("creator"),
        "rollback_info": rb,
        "auto_rollback": dep.get("autoRollbackConfiguration"),
    }
    if triggering or dep.get("creator") == ROLLBACK_CREATOR:
        # this deployment IS the rollback: follow into the deployment that failed
        if not triggering:
            return info("a rollback, but CodeDeploy names no original", evidence=evidence)
        original = get_deployment(ev, triggering)
        if original is None:
            return warn(
                f"this deployment rolled back {triggering}, which no longer exists",
                evidence=evidence,
            )
        why, checks, failures = why_failed(ev, original)
        evidence.update(
            {
                "original": {
                    "deployment_id": triggering,
                    "status": original.get("status"),
                    "error": original.get("errorInformation"),
                    "revision": original.get("revision"),
                    "why": why,
                    "checks": checks,
                },
                "restored_revision": dep.get("revision"),
            }
        )
        state = dep.get("status")
        outcome = {
            "Succeeded": "restored",
            "Failed": "FAILED to restore",
            "Stopped": "was stopped restoring",
        }.get(state or "", f"is {state} restoring")
        summary = (
            f"this is CodeDeploy's automatic rollback of {triggering} ({outcome} "
            f"{revision_text(dep.get('revision'))}); {triggering} failed: {why}"
        )
        hint = f" ({', '.join(checks)})" if checks else ""
        return fail(
            summary,
            evidence=evidence,
            instances=sorted({f.instance_id for f in failures})[:50],
            fix=Fix(
                f"The rollback only put the last good revision back; the failure is in "
                f"{triggering}{hint}: diagnose it, fix it, then deploy again.",
                [f"wizard diagnose {triggering}", "wizard deploy"],
            ),
        )
    if rollback_id:
        rollback = get_deployment(ev, rollback_id)
        evidence["rollback"] = {
            "deployment_id": rollback_id,
            "status": (rollback or {}).get("status"),
            "revision": (rollback or {}).get("revision"),
            "error": (rollback or {}).get("errorInformation"),
        }
        rev = revision_text((rollback or {}).get("revision"))
        status = (rollback or {}).get("status", "unknown")
        if status == "Failed":
            why, _checks, _ = why_failed(ev, rollback or {})
            return fail(
                f"{dep.get('deploymentId')} was rolled back to {rev} in {rollback_id}, and the "
                f"rollback failed too: {why} — the fleet may be split between revisions",
                evidence=evidence,
                fix=Fix(
                    "Diagnose the rollback as well; fix what both share (often the instances, "
                    "not the revision), then deploy again.",
                    [f"wizard diagnose {rollback_id}", "wizard deploy"],
                ),
            )
        return info(
            f"{dep.get('deploymentId')} was rolled back: CodeDeploy redeployed {rev} in "
            f"{rollback_id} ({status})",
            evidence=evidence,
        )
    if rb.get("rollbackMessage"):
        return info(f"not rolled back: {rb['rollbackMessage']}", evidence=evidence)
    auto = dep.get("autoRollbackConfiguration") or {}
    if dep.get("status") == "Failed" and not auto.get("enabled"):
        app, group = dep.get("applicationName"), dep.get("deploymentGroupName")
        return info(
            "automatic rollback is off: the fleet stays on whatever each instance reached",
            evidence=evidence,
            fix=Fix(
                "Let CodeDeploy redeploy the last good revision when a deployment fails.",
                [
                    f"aws deploy update-deployment-group --application-name {app} "
                    f"--current-deployment-group-name {group} --auto-rollback-configuration "
                    "enabled=true,events=DEPLOYMENT_FAILURE"
                ],
            ),
        )
    return passed("not a rollback, and not rolled back", evidence=evidence)
