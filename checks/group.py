"""group.*: does the deployment group select instances, and can its config be met by them?"""

from __future__ import annotations

import difflib
import math
import shlex
from typing import Any

from checks.evidence import Unavailable
from checks.model import Fix, Result, fail, info, passed, skip
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


WIZARD_TAG = "codedeploy-wizard:application"


def _running(ctx) -> list[dict[str, Any]]:
    """Running instances of the region (at most 5,000), fetched once."""

    def load() -> list[dict[str, Any]]:
        pages = ctx.ev.client("ec2").get_paginator("describe_instances")
        filters = [{"Name": "instance-state-name", "Values": ["running"]}]
        out: list[dict[str, Any]] = []
        for page in pages.paginate(
            Filters=filters, PaginationConfig={"PageSize": 1000, "MaxItems": 5000}
        ):
            for res in page.get("Reservations", []):
                out.extend(res.get("Instances", []))
        return out

    return ctx.ev.memo("running-instances", load)


def _near_misses(ctx, sets: list[list[dict[str, Any]]]) -> list[str]:
    """Running instances whose tags differ from the filters only by case or spaces."""
    return [h for h, _ in _candidates(ctx, sets, app=None) if "(filter:" in h][:5]


def _candidates(
    ctx, sets: list[list[dict[str, Any]]], app: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Running instances that were probably meant: (why, instance), best first.

    A tag that differs only by case or spaces; the filter's key with a value one typo away, or
    its value under another key (another application's value is not a candidate); `Name` (or
    any tag value) equal to the application; an instance profile named after it.
    """
    wanted = [(tf.get("Key", ""), tf.get("Value", "")) for s in sets for tf in s]
    out: list[tuple[int, str, dict[str, Any]]] = []
    norm = str.lower
    for inst in _running(ctx):
        tags = {t.get("Key", ""): t.get("Value", "") for t in inst.get("Tags", [])}
        iid = inst["InstanceId"]
        best: tuple[int, str] | None = None
        for key, value in wanted:
            for k, v in tags.items():
                if (k, v) == (key, value):
                    best = None
                    break
                if norm(k.strip()) == norm(key.strip()) and norm(v.strip()) == norm(value.strip()):
                    best = min(
                        best or (9, ""), (0, f"{iid} has {k}={v!r} (filter: {key}={value!r})")
                    )
                elif value and (
                    v == value  # the value under another key (Name=app for app=app)
                    or (k == key and difflib.SequenceMatcher(None, v, value).ratio() >= 0.85)
                ):
                    best = min(best or (9, ""), (2, f"{iid} has {k}={v!r}"))
        if app:
            for k, v in tags.items():
                if v == app or (k == "Name" and app.lower() in v.lower()):
                    best = min(best or (9, ""), (1, f"{iid} has {k}={v!r}"))
            prof = (inst.get("IamInstanceProfile") or {}).get("Arn", "").rsplit("/", 1)[-1]
            if prof and app.lower() in prof.lower():
                best = min(best or (9, ""), (3, f"{iid} uses the instance profile {prof}"))
        if best:
            out.append((best[0], best[1], inst))
    out.sort(key=lambda t: (t[0], t[2]["InstanceId"]))
    return [(why, inst) for _, why, inst in out[:50]]


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
        summary, fix = _no_match(ctx, sets, app, name, text, evidence)
    return fail(summary, evidence=evidence, fix=fix)


def _no_match(
    ctx, sets: list[list[dict[str, Any]]], app: str, name: str, text: str, ev: dict[str, Any]
) -> tuple[str, Fix]:
    """No instance carries the filter: name the instances that were meant, or say none exist.

    Never suggests the filter the group already has: the fix tags the instances meant (real
    ids), points the group at the tag they do carry when it differs only by case, or, for a
    setup the wizard made (its tag `codedeploy-wizard:application`), launches instances.
    """
    cands = _candidates(ctx, sets, app)
    ev["near_misses"] = [why for why, _ in cands if "(filter:" in why][:5]
    ev["candidates"] = [why for why, _ in cands][:10]
    tf = sets[0][0]
    key, value = tf.get("Key", ""), tf.get("Value", "")
    summary = f"no instance in {ctx.ev.region} matches {text}"
    tag_cmd = "aws ec2 create-tags --resources {ids} --tags " + shlex.quote(
        f"Key={key},Value={value}"
    )
    if cands:
        ids = sorted(inst["InstanceId"] for _, inst in cands)[:20]
        label = "near miss" if "(filter:" in cands[0][0] else "probably meant"
        more = f", +{len(cands) - 1} more" if len(cands) > 1 else ""
        summary += f" ({label}: {cands[0][0]}{more})"
        commands = [tag_cmd.format(ids=" ".join(ids))]
        near = [(why, inst) for why, inst in cands if "(filter:" in why]
        carried = ""
        if near and len(sets) == 1 and len(sets[0]) == 1:
            k, v = next(
                (t["Key"], t["Value"])
                for t in near[0][1].get("Tags", [])
                if t["Key"].strip().lower() == key.strip().lower()
            )
            carried = f"{k}={v}"
            commands.append(
                f"aws deploy update-deployment-group --application-name {app} "
                f"--current-deployment-group-name {name} --ec2-tag-filters "
                + shlex.quote(f"Key={k},Value={v},Type=KEY_AND_VALUE")
                + "   # or: point the group at the tag they carry"
            )
        commands.append("wizard deploy")
        shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
        if carried:
            # tag filters compare keys and values exactly (case included): either side may be
            # the one to change, so both are offered
            return summary, Fix(
                f"Tag the instances meant for {app} ({shown}) with {key}={value}, or point the "
                f"group's tag filter at the tag they carry ({carried}; filters are "
                "case-sensitive), then deploy again.",
                commands,
            )
        return summary, Fix(
            f"Tag the instances meant for {app} ({shown}) with {key}={value}, then deploy again.",
            commands,
        )
    wizard_made = key == WIZARD_TAG
    if wizard_made:
        return (
            summary + " and no running instance carries it: none was launched for this setup",
            Fix(
                f"Launch instances for {app}: in the wizard's Instances step choose Launch (or set "
                "`instances: {launch: 2}` in .codedeploy-wizard.yml and run `wizard apply`), then "
                "deploy again.",
                ["wizard", "wizard apply", "wizard deploy"],
            ),
        )
    return summary + " and no running instance looks meant for it", Fix(
        f"Tag the instances this group should deploy to with {key}={value} (keys and values are "
        f"case-sensitive), or check the region ({ctx.ev.region}); then deploy again.",
        [tag_cmd.format(ids="INSTANCE_ID"), "wizard deploy"],
    )


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
    n = len(ctx.ev.target_ids()) if dep and ctx.ev.target_ids() else len(ctx.ev.fleet_ids())
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
    if n == 0 and code != "HEALTH_CONSTRAINTS_INVALID":
        return skip("nothing to look at: no instances to count", evidence=evidence)
    possible = need < n or (name == "CodeDeployDefault.OneAtATime" and n >= 1)
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
            f"{name} must keep {need} of the {n} instance(s) healthy at all times, so CodeDeploy "
            "cannot take any instance offline to deploy to it",
            evidence=evidence,
            fix=fix,
        )
    return passed(f"{name} can be met by {n} instance(s) (keeps {need} healthy)", evidence=evidence)
