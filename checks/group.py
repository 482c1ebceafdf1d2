"""group.*: does the deployment group select instances, and can its config be met by them?"""

from __future__ import annotations

import math
from typing import Any

from checks.evidence import Unavailable
from checks.model import Fix, Result, fail, info, passed
from checks.registry import check

MISSING_CODES = ("DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException")


def filters_text(sets: list[list[dict[str, Any]]]) -> str:
    def one(tf: dict[str, Any]) -> str:
        t = tf.get("Type", "KEY_AND_VALUE")
        if t == "KEY_ONLY":
            return f"{tf.get('Key')} (any value)"
        if t == "VALUE_ONLY":
            return f"(any key)={tf.get('Value')}"
        return f"{tf.get('Key')}={tf.get('Value')}"

    return " AND ".join(
        "(" + " OR ".join(one(tf) for tf in s) + ")" if len(s) > 1 else one(s[0]) for s in sets
    )


def _group_or_fail(ctx) -> tuple[dict[str, Any] | None, Result | None]:
    try:
        return ctx.ev.group(), None
    except Unavailable as u:
        if u.code in MISSING_CODES:
            return None, fail(
                u.reason,
                evidence={"error": u.code},
                fix=Fix(
                    "Create the application and deployment group (wizard apply), then deploy "
                    "again.",
                    ["wizard apply"],
                ),
            )
        raise


def _near_misses(ctx, sets: list[list[dict[str, Any]]]) -> list[str]:
    """Running instances whose tags differ from the filters only by case or spaces."""
    wanted = [(tf.get("Key", ""), tf.get("Value", "")) for s in sets for tf in s]
    hints: list[str] = []
    pages = ctx.ev.client("ec2").get_paginator("describe_instances")
    filters = [{"Name": "instance-state-name", "Values": ["running"]}]
    for page in pages.paginate(
        Filters=filters, PaginationConfig={"PageSize": 1000, "MaxItems": 5000}
    ):
        for res in page.get("Reservations", []):
            for inst in res.get("Instances", []):
                for tag in inst.get("Tags", []):
                    for key, value in wanted:
                        k, v = tag.get("Key", ""), tag.get("Value", "")
                        if (k, v) == (key, value):
                            continue
                        if (
                            k.strip().lower() == key.strip().lower()
                            and v.strip().lower() == value.strip().lower()
                        ):
                            hints.append(
                                f"{inst['InstanceId']} has {k}={v!r} (filter: {key}={value!r})"
                            )
                if len(hints) >= 5:
                    return hints
    return hints


@check("group.instances-matched", "Deployment group matches running instances", priority=10)
def instances_matched(ctx) -> Result:
    """The group's tag filters match running instances in its region."""
    group, failed = _group_or_fail(ctx)
    if failed:
        return failed
    assert group is not None
    app, name = group.get("applicationName"), group.get("deploymentGroupName")
    evidence: dict[str, Any] = {
        "application": app,
        "deployment_group": name,
        "region": ctx.ev.region,
        "ec2_tag_filters": group.get("ec2TagFilters") or [],
        "ec2_tag_set": (group.get("ec2TagSet") or {}).get("ec2TagSetList") or [],
        "auto_scaling_groups": [a.get("name") for a in group.get("autoScalingGroups") or []],
        "deployment_config": group.get("deploymentConfigName"),
    }
    platform = group.get("computePlatform") or "Server"
    if platform != "Server":
        return info(f"a {platform} deployment group: the EC2 instance checks do not apply")
    sets = ctx.ev._tag_filter_sets()
    if not sets:
        if evidence["auto_scaling_groups"]:
            return info("the group targets Auto Scaling groups only", evidence=evidence)
        return fail(
            "the group has no EC2 tag filters and no Auto Scaling group",
            evidence=evidence,
            fix=Fix(
                "Give the group a tag filter for your instances.",
                [
                    f"aws deploy update-deployment-group --application-name {app} "
                    f"--current-deployment-group-name {name} "
                    "--ec2-tag-filters Key=KEY,Value=VALUE,Type=KEY_AND_VALUE"
                ],
            ),
        )
    tagged = ctx.ev.tagged_instances()["instances"]
    running = ctx.ev.matched_instances()
    text = filters_text(sets)
    evidence["filters"] = text
    evidence["matched_running"] = len(running)
    states: dict[str, int] = {}
    for inst in tagged.values():
        st = inst.get("State", {}).get("Name", "?")
        states[st] = states.get(st, 0) + 1
    evidence["matched_by_state"] = states
    if running:
        ids = sorted(i["InstanceId"] for i in running)
        return passed(
            f"{len(running)} running instance(s) match {text}", evidence=evidence, instances=ids
        )
    not_running = {k: v for k, v in states.items() if k != "running"}
    if not_running:
        detail = ", ".join(f"{v} {k}" for k, v in not_running.items())
        summary = f"no running instance matches {text} ({detail} instance(s) do)"
        fix = Fix(
            "Start the matching instances, then deploy again.",
            [f"aws ec2 start-instances --instance-ids {' '.join(sorted(tagged)[:10])}"],
        )
    else:
        hints = _near_misses(ctx, sets)
        evidence["near_misses"] = hints
        summary = f"no instance in {ctx.ev.region} matches {text}"
        if hints:
            summary += f" (near miss: {hints[0]})"
        tf = sets[0][0]
        fix = Fix(
            "Tag the instances exactly as the filter says (keys and values are case-sensitive), "
            "or change the group's filter; check the region too.",
            [
                f"aws ec2 create-tags --resources INSTANCE_ID --tags "
                f"Key={tf.get('Key')},Value={tf.get('Value')}",
                f"aws deploy update-deployment-group --application-name {app} "
                f"--current-deployment-group-name {name} "
                f"--ec2-tag-filters Key={tf.get('Key')},Value={tf.get('Value')},Type=KEY_AND_VALUE",
            ],
        )
    return fail(summary, evidence=evidence, fix=fix)


def required_healthy(config: dict[str, Any], n: int) -> int:
    mhh = config.get("minimumHealthyHosts") or {}
    value = int(mhh.get("value") or 0)
    if mhh.get("type") == "FLEET_PERCENT":
        return math.ceil(n * value / 100)
    return value


@check(
    "group.health",
    "Deployment config can be met by the fleet",
    requires=("group.instances-matched",),
    priority=12,
)
def health(ctx) -> Result:
    """The deployment config's minimum healthy hosts can be met by the number of instances."""
    config = ctx.ev.deployment_config()
    dep = ctx.ev.deployment()
    n = len(ctx.ev.target_ids()) if dep and ctx.ev.target_ids() else len(ctx.ev.matched_instances())
    name = config.get("deploymentConfigName")
    mhh = config.get("minimumHealthyHosts") or {}
    need = required_healthy(config, n)
    evidence = {
        "deployment_config": name,
        "minimum_healthy_hosts": mhh,
        "instances": n,
        "required_healthy": need,
    }
    code = ctx.deployment_code()
    possible = need < n or (name == "CodeDeployDefault.OneAtATime" and n >= 1) or n == 0
    app, group = ctx.ev.application, ctx.ev.group_name
    fix = Fix(
        "Use a deployment config this fleet can satisfy (AllAtOnce for one instance), or add "
        "instances.",
        [
            f"aws deploy update-deployment-group --application-name {app} "
            f"--current-deployment-group-name {group} "
            "--deployment-config-name CodeDeployDefault.AllAtOnce"
        ],
    )
    if code == "HEALTH_CONSTRAINTS_INVALID" or not possible:
        return fail(
            f"{name} needs {need} healthy instance(s) during the deployment but the fleet has {n}",
            evidence=evidence,
            fix=fix,
        )
    return passed(f"{name} can be met by {n} instance(s) (keeps {need} healthy)", evidence=evidence)
