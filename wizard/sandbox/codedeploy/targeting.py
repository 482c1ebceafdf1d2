"""Which instances a deployment group reaches, and whether CodeDeploy may use its service role."""

from __future__ import annotations

from typing import Any

from wizard.sandbox import iam_sim
from wizard.sandbox.fleet.instance import instance_tags


def check_service_role(
    account: str, region: str, group: Any, *, for_deployment: bool
) -> tuple[str, str] | None:
    """(error code, message) when CodeDeploy could not use the group's service role."""
    role_arn = group.service_role_arn if not isinstance(group, str) else group
    app = group.application.application_name if not isinstance(group, str) else "*"
    name = group.deployment_group_name if not isinstance(group, str) else "*"
    return role_problem(account, region, role_arn, app, name, for_deployment=for_deployment)


def role_problem(
    account: str, region: str, role_arn: str | None, app: str, group: str, *, for_deployment: bool
) -> tuple[str, str] | None:
    iam = iam_sim.iam_backend(account)
    role = None
    if role_arn:
        try:
            role = iam.get_role_by_arn(role_arn)
        except Exception:
            role = None
    if role is None:
        if for_deployment:
            return (
                "IAM_ROLE_MISSING",
                f"The IAM role {role_arn} does not exist. Make sure the service role exists "
                "and try again.",
            )
        return ("InvalidRoleException", _cannot_assume(role_arn))
    context = {
        "aws:SourceAccount": account,
        "aws:SourceArn": f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{app}/{group}",
    }
    if not iam_sim.trusts(
        role.assume_role_policy_document,
        "codedeploy.amazonaws.com",
        iam_sim.normalise_context(context),
    ):
        if for_deployment:
            return ("IAM_ROLE_PERMISSIONS", _cannot_assume(role_arn))
        return ("InvalidRoleException", _cannot_assume(role_arn))
    if for_deployment:
        decision = iam_sim.role_allows(account, role.arn, "ec2:DescribeInstances", "*")
        if not decision.allowed:
            return (
                "IAM_ROLE_PERMISSIONS",
                f"The IAM role {role_arn} does not give you permission to perform operations in "
                "the following AWS service: AmazonEC2. Contact your AWS administrator if you "
                "need help. If you are an AWS administrator, you can grant permissions to your "
                "users or groups by creating IAM policies.",
            )
    return None


def _cannot_assume(role_arn: str | None) -> str:
    return f"AWS CodeDeploy does not have the permissions required to assume the role {role_arn}."


def _tag_match(f: dict[str, Any], tags: dict[str, str]) -> bool:
    kind = f.get("Type") or "KEY_AND_VALUE"
    key, value = f.get("Key"), f.get("Value")
    if kind == "KEY_ONLY":
        return key in tags
    if kind == "VALUE_ONLY":
        return value in tags.values()
    return key in tags and tags[key] == value


def matched_instances(account: str, region: str, group: Any) -> list[Any]:
    """Running instances the group's tag filters select, plus the InService instances of its
    Auto Scaling groups (`scaleout.group_targets`), in a stable order."""
    from moto.ec2.models import ec2_backends

    from wizard.sandbox import scaleout

    in_asgs = scaleout.group_targets(account, region, group)
    filters = group.ec2_tag_filters or []
    tag_set = (group.ec2_tag_set or {}).get("ec2TagSetList") or []
    if not filters and not tag_set:
        return sorted(in_asgs, key=lambda i: i.id)
    out = list(in_asgs)
    seen = {i.id for i in out}
    for inst in ec2_backends[account][region].all_instances():
        if inst.state != "running":
            continue
        tags = instance_tags(inst)
        if filters and not any(_tag_match(f, tags) for f in filters):
            continue
        if tag_set and not all(any(_tag_match(f, tags) for f in grp) for grp in tag_set if grp):
            continue
        if inst.id not in seen:
            out.append(inst)
    out.sort(key=lambda i: i.id)
    return out
