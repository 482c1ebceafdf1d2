"""asg.*: the Auto Scaling groups a deployment group targets (`autoScalingGroups`).

Sources (AWS documentation):

- CodeDeploy User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling": creating or
  updating a deployment group with an Auto Scaling group installs a lifecycle hook
  (autoscaling:EC2_INSTANCE_LAUNCHING) on it; a launched instance waits in Pending:Wait while
  CodeDeploy deploys the *last successful revision* to it in a deployment whose `creator` is
  `autoscaling`, then CONTINUE (InService) or ABANDON (terminated, and Auto Scaling launches again);
- CodeDeploy User Guide, "Troubleshoot Amazon EC2 Auto Scaling issues": deleting the hook stops
  deployments to scaled-out instances; the hook names in DescribeLifecycleHooks and
  GetDeploymentGroup's `autoScalingGroups[].hook` must match character for character, and the fix
  is update-deployment-group without, then with, the Auto Scaling group; leftover hooks cause
  "Heartbeat Timeout" on launch; "no instances were found" when no instance is InService, with the
  cancel-relaunch loop of a failing last successful revision (the deployment deadlock);
- Amazon EC2 Auto Scaling User Guide, "Suspend and resume processes": with `Launch` suspended the
  group launches nothing (no scale-out, no replacement); with `AddToLoadBalancer` suspended new
  instances are not registered with the group's target groups.
"""

from __future__ import annotations

from typing import Any

from checks.evidence import BATCH_DEPLOYMENTS, Unavailable, chunks
from checks.interpret import id_list
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check
from checks.rollback import revision_text, why_failed

HOOK_PREFIX = "CodeDeploy-managed-automatic-launch-deployment-hook-"
SCALE_OUT_CREATOR = "autoscaling"
# processes whose suspension stops CodeDeploy from reaching instances (Auto Scaling User Guide)
BLOCKING = {
    "Launch": "launches no instance: no scale-out, no replacement of an abandoned instance",
}
DEGRADING = {
    "AddToLoadBalancer": "does not register new instances with its target groups",
    "Terminate": "terminates nothing: abandoned scale-out instances are not replaced",
    "HealthCheck": "no longer marks instances unhealthy",
    "ReplaceUnhealthy": "no longer replaces unhealthy instances",
}


# ---- evidence ---------------------------------------------------------------------------------


def group_asgs(ev: Any) -> list[dict[str, Any]]:
    """GetDeploymentGroup's autoScalingGroups: [{name, hook, terminationHook}] (Unavailable if
    the group cannot be read)."""
    return [a for a in (ev.group().get("autoScalingGroups") or []) if a.get("name")]


def describe_asgs(ev: Any) -> dict[str, dict[str, Any] | None]:
    """DescribeAutoScalingGroups for the group's ASGs: {name: AutoScalingGroup or None}."""

    def load() -> dict[str, dict[str, Any] | None]:
        names = [a["name"] for a in group_asgs(ev)]
        out: dict[str, dict[str, Any] | None] = dict.fromkeys(names)
        client = ev.client("autoscaling")
        for part in chunks(names, 50):
            pages = client.get_paginator("describe_auto_scaling_groups")
            for page in pages.paginate(AutoScalingGroupNames=part):
                for g in page.get("AutoScalingGroups", []):
                    out[g["AutoScalingGroupName"]] = g
        return out

    return ev.memo("asg-groups", load)


def lifecycle_hooks(ev: Any, name: str) -> list[dict[str, Any]]:
    """DescribeLifecycleHooks of one Auto Scaling group."""

    def load() -> list[dict[str, Any]]:
        resp = ev.client("autoscaling").describe_lifecycle_hooks(AutoScalingGroupName=name)
        return resp.get("LifecycleHooks", [])

    return ev.memo(("asg-hooks", name), load)


def group_deployments(ev: Any, statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The deployment group's deployments (newest first, first page of ListDeployments: the
    100 most recent), as BatchGetDeployments infos."""

    def load() -> list[dict[str, Any]]:
        cd = ev.client("codedeploy")
        kwargs: dict[str, Any] = {
            "applicationName": ev.application,
            "deploymentGroupName": ev.group_name,
        }
        if statuses:
            kwargs["includeOnlyStatuses"] = list(statuses)
        ids = cd.list_deployments(**kwargs).get("deployments", [])

        def batch(part: list[str]) -> list[dict[str, Any]]:
            return cd.batch_get_deployments(deploymentIds=part).get("deploymentsInfo", [])

        infos = [i for part in ev.fan_out(batch, chunks(ids, BATCH_DEPLOYMENTS)) for i in part]
        infos.sort(key=lambda d: str(d.get("createTime") or ""), reverse=True)
        return infos

    return ev.memo(("group-deployments", statuses), load)


def _asgs_or_result(ctx: Any) -> tuple[list[dict[str, Any]], Result | None]:
    try:
        asgs = group_asgs(ctx.ev)
    except Unavailable as u:
        return [], skip(f"no deployment group to look at ({u.reason})")
    if not asgs:
        return [], skip("the deployment group has no Auto Scaling group")
    return asgs, None


def in_service(g: dict[str, Any]) -> list[str]:
    return [
        i["InstanceId"] for i in g.get("Instances") or [] if i.get("LifecycleState") == "InService"
    ]


def _update_dg(ev: Any, asgs: str = "") -> str:
    return (
        f"aws deploy update-deployment-group --application-name {ev.application} "
        f"--current-deployment-group-name {ev.group_name} --auto-scaling-groups"
        + (f" {asgs}" if asgs else "")
    )


def _launch_drift(ev: Any, failed: list[str], working: list[str]) -> dict[str, Any]:
    """Launch template version and AMI of the failed scale-out instances vs the InService ones
    (from the `aws:ec2launchtemplate:*` tags EC2 puts on instances launched from a template)."""
    ids = list(dict.fromkeys([*failed[:20], *working[:20]]))
    if not failed or not ids:
        return {}

    def load() -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        pages = ev.client("ec2").get_paginator("describe_instances")
        for page in pages.paginate(Filters=[{"Name": "instance-id", "Values": ids}]):
            for res in page.get("Reservations", []):
                for inst in res.get("Instances", []):
                    tags = {t["Key"]: t["Value"] for t in inst.get("Tags") or []}
                    out[inst["InstanceId"]] = {
                        "template": tags.get("aws:ec2launchtemplate:id", ""),
                        "version": tags.get("aws:ec2launchtemplate:version", ""),
                        "image": inst.get("ImageId", ""),
                    }
        return out

    seen = ev.memo(("asg-launch", tuple(ids)), load)
    new = next((seen[i] for i in failed if i in seen), None)
    old = next((seen[i] for i in working if i in seen), None)
    if not new or not old:
        return {"new": new, "working": old}
    differs = (new["template"], new["version"], new["image"]) != (
        old["template"],
        old["version"],
        old["image"],
    )
    return {"new": new, "working": old, "differs": differs}


# ---- checks -----------------------------------------------------------------------------------


@check("asg.lifecycle-hook", "CodeDeploy's lifecycle hook on the Auto Scaling group", priority=20)
def lifecycle_hook(ctx) -> Result:
    """The launch hook CodeDeploy installed is on every Auto Scaling group (and no leftovers)."""
    asgs, not_applicable = _asgs_or_result(ctx)
    if not_applicable:
        return not_applicable
    ev = ctx.ev
    found = describe_asgs(ev)
    gone = [a["name"] for a in asgs if found.get(a["name"]) is None]
    evidence: dict[str, Any] = {"auto_scaling_groups": asgs}
    if gone:
        return fail(
            f"Auto Scaling group {', '.join(gone)} named by the deployment group does not exist",
            evidence=evidence,
            fix=Fix(
                "Point the deployment group at the Auto Scaling group that runs the application.",
                [_update_dg(ev, "ASG_NAME")],
            ),
        )
    rows = []
    group_id = ev.group().get("deploymentGroupId")
    for a in asgs:
        hooks = lifecycle_hooks(ev, a["name"])
        names = [h.get("LifecycleHookName") for h in hooks]
        ours = [n for n in names if str(n).startswith(HOOK_PREFIX)]
        leftovers = [
            h.get("LifecycleHookName")
            for h in hooks
            if str(h.get("LifecycleHookName")).startswith(HOOK_PREFIX)
            and h.get("LifecycleHookName") != a.get("hook")
            # a hook of another deployment group on the same ASG is not a leftover of ours
            and (not h.get("NotificationMetadata") or h.get("NotificationMetadata") == group_id)
        ]
        rows.append(
            {
                "auto_scaling_group": a["name"],
                "expected_hook": a.get("hook"),
                "hooks": names,
                "codedeploy_hooks": ours,
                "missing": not a.get("hook") or a.get("hook") not in names,
                "leftovers": leftovers,
                "instances": len((found.get(a["name"]) or {}).get("Instances") or []),
            }
        )
    evidence["hooks"] = rows
    missing = [r for r in rows if r["missing"]]
    if missing:
        r = missing[0]
        names = " ".join(x["auto_scaling_group"] for x in missing)
        what = (
            f"CodeDeploy's launch hook {r['expected_hook']} is missing from "
            f"{r['auto_scaling_group']}"
            if r["expected_hook"]
            else f"CodeDeploy recorded no launch hook for {r['auto_scaling_group']}"
        )
        return fail(
            f"{what}: instances it launches get no deployment and go InService without the "
            "application",
            evidence=evidence,
            fix=Fix(
                "Let CodeDeploy reinstall its hook: update the deployment group without the Auto "
                "Scaling group, then with it again (a hook added by hand is not recognised). "
                "Instances launched meanwhile need a deployment: deploy again.",
                [_update_dg(ev), _update_dg(ev, names), "wizard deploy"],
            ),
        )
    left = [r for r in rows if r["leftovers"]]
    if left:
        r = left[0]
        return warn(
            f"{r['auto_scaling_group']} has leftover CodeDeploy hook(s) "
            f"{', '.join(r['leftovers'])}: launches wait on them until 'Heartbeat Timeout' and are "
            "abandoned",
            evidence=evidence,
            fix=Fix(
                "Delete the hooks CodeDeploy no longer tracks.",
                [
                    "aws autoscaling delete-lifecycle-hook --auto-scaling-group-name "
                    f"{r['auto_scaling_group']} --lifecycle-hook-name {h}"
                    for h in r["leftovers"]
                ],
            ),
        )
    return passed(
        "; ".join(f"{r['auto_scaling_group']}: {r['expected_hook']}" for r in rows),
        evidence=evidence,
    )


@check("asg.suspended-processes", "Auto Scaling processes not suspended", priority=15)
def suspended_processes(ctx) -> Result:
    """No suspended Auto Scaling process keeps CodeDeploy from the group's instances."""
    _, not_applicable = _asgs_or_result(ctx)
    if not_applicable:
        return not_applicable
    ev = ctx.ev
    found = {n: g for n, g in describe_asgs(ev).items() if g}
    if not found:
        return skip("the deployment group's Auto Scaling groups do not exist (asg.lifecycle-hook)")
    code = ctx.deployment_code()
    rows = []
    for name, g in found.items():
        suspended = sorted(p["ProcessName"] for p in g.get("SuspendedProcesses") or [])
        rows.append(
            {
                "auto_scaling_group": name,
                "suspended": suspended,
                "reasons": {
                    p.get("ProcessName"): p.get("SuspensionReason")
                    for p in g.get("SuspendedProcesses") or []
                },
                "desired": g.get("DesiredCapacity"),
                "in_service": len(in_service(g)),
                "target_groups": list(g.get("TargetGroupARNs") or []),
            }
        )
    evidence: dict[str, Any] = {"auto_scaling_groups": rows}
    for r in rows:
        if "Launch" in r["suspended"]:
            short = r["in_service"] < int(r["desired"] or 0)
            fix = Fix(
                f"Resume the Launch process of {r['auto_scaling_group']}, then deploy again.",
                [
                    "aws autoscaling resume-processes --auto-scaling-group-name "
                    f"{r['auto_scaling_group']} --scaling-processes Launch",
                    "wizard deploy",
                ],
            )
            head = (
                f"Launch is suspended on {r['auto_scaling_group']}: it "
                f"{BLOCKING['Launch']} ({r['in_service']} InService, desired {r['desired']})"
            )
            if short or code == "NO_INSTANCES" or not r["in_service"]:
                tail = ": CodeDeploy found no instance to deploy to" if not r["in_service"] else ""
                return fail(head + tail, evidence=evidence, fix=fix)
            return warn(head, evidence=evidence, fix=fix)
    degraded = [(r, p) for r in rows for p in r["suspended"] if p in DEGRADING]
    if degraded:
        r, p = degraded[0]
        return warn(
            f"{p} is suspended on {r['auto_scaling_group']}: it {DEGRADING[p]}",
            evidence=evidence,
            fix=Fix(
                "Resume the process unless you suspended it on purpose.",
                [
                    "aws autoscaling resume-processes --auto-scaling-group-name "
                    f"{r['auto_scaling_group']} --scaling-processes {p}"
                ],
            ),
        )
    others = [(r["auto_scaling_group"], p) for r in rows for p in r["suspended"]]
    if others:
        return info(
            "suspended (no effect on CodeDeploy): " + ", ".join(f"{p} on {n}" for n, p in others),
            evidence=evidence,
        )
    return passed(
        "no process suspended on " + ", ".join(r["auto_scaling_group"] for r in rows),
        evidence=evidence,
    )


@check("asg.scale-out", "Scale-out deployments", priority=40)
def scale_out(ctx) -> Result:
    """Deployments CodeDeploy started for scaled-out instances (creator autoscaling) that failed
    since the group's last success, with why (followed into the newest one)."""
    asgs, not_applicable = _asgs_or_result(ctx)
    if not_applicable:
        return not_applicable
    ev = ctx.ev
    deployments = group_deployments(ev)
    last_good = next((d for d in deployments if d.get("status") == "Succeeded"), None)
    since = str((last_good or {}).get("createTime") or "")
    failed = [
        d
        for d in deployments
        if d.get("creator") == SCALE_OUT_CREATOR
        and d.get("status") == "Failed"
        and str(d.get("createTime") or "") > since
    ]
    scaled = [d for d in deployments if d.get("creator") == SCALE_OUT_CREATOR]
    evidence: dict[str, Any] = {
        "scale_out_deployments": len(scaled),
        "failed_since_last_success": [d["deploymentId"] for d in failed],
        "last_successful_deployment": (last_good or {}).get("deploymentId"),
    }
    if not failed:
        if scaled:
            return passed(
                f"{len(scaled)} scale-out deployment(s), none failing since the last success",
                evidence=evidence,
            )
        return passed("no scale-out deployment yet", evidence=evidence)
    newest = failed[0]
    why, checks, failures = why_failed(ev, newest)
    rev = revision_text(newest.get("revision"))
    instances = sorted({f.instance_id for f in failures})
    found = {n: g for n, g in describe_asgs(ev).items() if g}
    none_in_service = found and all(not in_service(g) for g in found.values())
    evidence.update(
        {
            "newest_failed": newest["deploymentId"],
            "revision": newest.get("revision"),
            "why": why,
            "checks": checks,
            "no_instance_in_service": bool(none_in_service),
        }
    )
    working = [i for g in found.values() for i in in_service(g)]
    if not working and last_good:
        # nothing InService (the deadlock): compare with where the last success ran
        working = (
            ev.client("codedeploy")
            .list_deployment_targets(
                deploymentId=last_good["deploymentId"],
                targetFilters={"TargetStatus": ["Succeeded"]},
            )
            .get("targetIds", [])[:20]
        )
    drift = _launch_drift(ev, instances, working)
    evidence["launch_templates"] = drift
    me = (ev.deployment() or {}).get("deploymentId")
    which = "this scale-out deployment" if me == newest["deploymentId"] else newest["deploymentId"]
    summary = (
        f"{len(failed)} scale-out deployment(s) failed since the last success: {which} "
        f"(last successful revision {rev} on {id_list(instances) or 'a new instance'}) failed: "
        f"{why}; Auto Scaling abandons (terminates) such instances and launches again"
    )
    asg_names = " ".join(a["name"] for a in asgs)
    cmds = [f"wizard diagnose {newest['deploymentId']}", "wizard deploy"]
    how = (
        "New instances get the last successful revision, and it fails on them: fix the cause "
        f"({', '.join(checks) or 'see the diagnosis'}) and deploy a revision that works."
    )
    if drift.get("differs"):
        new, old_ = drift["new"], drift["working"]
        summary += (
            f"; the new instances launch from {new['template']} version {new['version']}"
            f" (AMI {new['image']}), the working ones came from version {old_['version']}"
            f" (AMI {old_['image']})"
        )
        how = (
            f"The new instances differ from the working ones: {new['template']} version "
            f"{new['version']} is what changed. Go back to version {old_['version']} (or fix the "
            "new version: agent in the user data, instance profile, AMI), then scale out again."
        )
        cmds = [
            f"aws autoscaling update-auto-scaling-group --auto-scaling-group-name {a['name']} "
            f"--launch-template LaunchTemplateId={new['template']},Version={old_['version']}"
            for a in asgs
        ] + [f"wizard diagnose {newest['deploymentId']}"]
    if none_in_service:
        summary += "; no instance is InService (a deployment deadlock)"
    if none_in_service and not drift.get("differs"):
        how += (
            " With no instance InService, break the deadlock as the CodeDeploy guide says: "
            "detach the Auto Scaling group from the deployment group (this removes the hook), "
            "wait for an instance to be InService, attach it again, then deploy a good revision."
        )
        cmds = [
            f"wizard diagnose {newest['deploymentId']}",
            _update_dg(ev),
            f"aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names {asg_names} "
            "--query 'AutoScalingGroups[].Instances[].LifecycleState'",
            _update_dg(ev, asg_names),
            "wizard deploy",
        ]
    return fail(summary, evidence=evidence, instances=instances, fix=Fix(how, cmds))
