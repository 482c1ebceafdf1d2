"""CodeDeploy application (Server platform) and its deployment group.

The group targets EC2 instances by one KEY_AND_VALUE tag filter, or with
`instances.auto_scaling` the Auto Scaling group (`autoScalingGroups`; CodeDeploy then installs its
lifecycle hook on the group so instances launched later get the last successful revision). With a
load balancer it deploys `IN_PLACE` `WITH_TRAFFIC_CONTROL` through the target group
(`loadBalancerInfo.targetGroupInfoList`), otherwise `WITHOUT_TRAFFIC_CONTROL`. Automatic rollback
(`autoRollbackConfiguration`) follows `rollback`: DEPLOYMENT_FAILURE by default. It uses the
configured deployment config and the service role. A group of ours whose settings differ is changed
only by a planned `update` (UpdateDeploymentGroup); settings we do not manage (alarms, triggers)
are left as they are.
"""

from __future__ import annotations

from typing import Any

from wizard import TAG_KEY
from wizard.steps import autoscaling, loadbalancer, roles
from wizard.steps.base import (
    Change,
    ConflictError,
    StepContext,
    error_code,
    error_message,
    retry_fresh_iam,
    tag_dict,
    tag_hint,
)

NAME = "application"
APP_CHECKS: list[str] = []
GROUP_CHECKS = ["iam.service-role", "group.instances-matched", "group.health"]


def app_arn(sc: StepContext) -> str:
    return f"arn:{sc.partition}:codedeploy:{sc.region}:{sc.account}:application:{sc.application}"


def group_arn(sc: StepContext) -> str:
    return (
        f"arn:{sc.partition}:codedeploy:{sc.region}:{sc.account}:deploymentgroup:"
        f"{sc.application}/{sc.project.deployment_group}"
    )


def _tags(sc: StepContext, arn: str) -> dict[str, str]:
    return tag_dict(sc.client("codedeploy").list_tags_for_resource(ResourceArn=arn).get("Tags"))


def get_app(sc: StepContext) -> dict | None:
    try:
        return sc.client("codedeploy").get_application(applicationName=sc.application)[
            "application"
        ]
    except Exception as exc:
        if error_code(exc) == "ApplicationDoesNotExistException":
            return None
        raise


def get_group(sc: StepContext) -> dict | None:
    try:
        return sc.client("codedeploy").get_deployment_group(
            applicationName=sc.application, deploymentGroupName=sc.project.deployment_group
        )["deploymentGroupInfo"]
    except Exception as exc:
        if error_code(exc) in (
            "ApplicationDoesNotExistException",
            "DeploymentGroupDoesNotExistException",
        ):
            return None
        raise


def service_role_arn(sc: StepContext) -> str:
    if sc.outputs.get("service_role_arn"):
        return sc.outputs["service_role_arn"]
    role = roles.get_role(sc.client("iam"), sc.project.roles.service_role)
    return role["Arn"] if role else sc.role_arn(sc.project.roles.service_role)


def desired_group(sc: StepContext) -> dict[str, Any]:
    """The managed settings, as CreateDeploymentGroup / UpdateDeploymentGroup arguments.

    Empty lists clear what another mode set: "To remove Auto Scaling groups, do not enter any Auto
    Scaling group names" (UpdateDeploymentGroup, CodeDeploy API reference), tags likewise.
    """
    p = sc.project
    tag = p.instances.tag
    fleet = p.instances.auto_scaling is not None
    lb = p.load_balancer
    events = p.rollback.events
    out: dict[str, Any] = {
        "deploymentConfigName": p.deployment_config,
        "ec2TagFilters": []
        if fleet
        else [{"Key": tag.key, "Value": tag.value, "Type": "KEY_AND_VALUE"}],
        "autoScalingGroups": [autoscaling.group_name(p)] if fleet else [],
        "serviceRoleArn": service_role_arn(sc),
        "deploymentStyle": {
            "deploymentType": "IN_PLACE",
            "deploymentOption": "WITH_TRAFFIC_CONTROL" if lb.enabled else "WITHOUT_TRAFFIC_CONTROL",
        },
        "autoRollbackConfiguration": {"enabled": bool(events), "events": events},
    }
    if lb.enabled:
        out["loadBalancerInfo"] = {
            "targetGroupInfoList": [{"name": loadbalancer.target_group_name(p)}]
        }
    return out


def _asg_names(groups: list | None) -> set[str]:
    """AWS returns [{name, hook, terminationHook}]; older emulators plain names."""
    return {g.get("name", "") if isinstance(g, dict) else str(g) for g in groups or []}


def _rollback(conf: dict | None) -> tuple[bool, frozenset]:
    conf = conf or {}
    enabled = bool(conf.get("enabled"))
    return enabled, frozenset(conf.get("events") or []) if enabled else frozenset()


def _traffic(group: dict) -> tuple[str, frozenset]:
    style = group.get("deploymentStyle") or {}
    option = style.get("deploymentOption") or "WITHOUT_TRAFFIC_CONTROL"
    if option != "WITH_TRAFFIC_CONTROL":
        return option, frozenset()
    info = group.get("loadBalancerInfo") or {}
    return option, frozenset(t.get("name") for t in info.get("targetGroupInfoList") or [])


def group_drift(current: dict, desired: dict) -> list[str]:
    """Names of the managed settings that differ."""

    def filters(fs: list[dict] | None) -> set[tuple]:
        return {(f.get("Key"), f.get("Value"), f.get("Type")) for f in fs or []}

    out = []
    if current.get("deploymentConfigName") != desired["deploymentConfigName"]:
        out.append("deploymentConfigName")
    if filters(current.get("ec2TagFilters")) != filters(desired["ec2TagFilters"]):
        out.append("ec2TagFilters")
    if _asg_names(current.get("autoScalingGroups")) != _asg_names(desired["autoScalingGroups"]):
        out.append("autoScalingGroups")
    if current.get("serviceRoleArn") != desired["serviceRoleArn"]:
        out.append("serviceRoleArn")
    if _traffic(current) != _traffic(desired):
        out.append("deploymentStyle")
    if _rollback(current.get("autoRollbackConfiguration")) != _rollback(
        desired["autoRollbackConfiguration"]
    ):
        out.append("autoRollbackConfiguration")
    return out


def missing_launch_hooks(sc: StepContext, group: dict) -> list[str]:
    """The group's Auto Scaling groups from which CodeDeploy's launch hook (the `hook` that
    GetDeploymentGroup names) is gone: instances launched there go InService without the
    application. CodeDeploy reinstalls it only when the group leaves the deployment group and
    joins it again ("Amazon EC2 Auto Scaling lifecycle hooks", CodeDeploy User Guide:
    integrating CodeDeploy with Amazon EC2 Auto Scaling). [] when nothing is missing or the
    hooks cannot be read (a missing permission is not a drift)."""
    missing = []
    client = sc.client("autoscaling")
    for entry in group.get("autoScalingGroups") or []:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("hook"):
            continue
        try:
            hooks = client.describe_lifecycle_hooks(AutoScalingGroupName=entry["name"])
        except Exception:
            continue
        names = {h.get("LifecycleHookName") for h in hooks.get("LifecycleHooks") or []}
        if entry["hook"] not in names:
            missing.append(entry["name"])
    return missing


def describe_settings(sc: StepContext) -> str:
    """The group's settings in words, for the plan."""
    p = sc.project
    if p.instances.auto_scaling is not None:
        targets = f"the Auto Scaling group {autoscaling.group_name(p)}"
    else:
        targets = f"instances tagged {p.instances.tag.key}={p.instances.tag.value}"
    traffic = (
        f"traffic control through the target group {loadbalancer.target_group_name(p)}"
        if p.load_balancer.enabled
        else "no traffic control"
    )
    events = p.rollback.events
    rollback = (
        "roll back on "
        + " and ".join(
            {"DEPLOYMENT_FAILURE": "failure", "DEPLOYMENT_STOP_ON_REQUEST": "stop"}[e]
            for e in events
        )
        if events
        else "no automatic rollback"
    )
    return (
        f"{targets}, {p.deployment_config}, in place with {traffic}, {rollback}, "
        f"service role {p.roles.service_role}"
    )


def _was(group: dict, drift: list[str]) -> list[str]:
    """What the drifted settings are now, in words."""
    was = []
    if "deploymentConfigName" in drift:
        was.append(f"deployment config {group.get('deploymentConfigName')}")
    if "ec2TagFilters" in drift:
        now = ", ".join(
            f"{f.get('Key')}={f.get('Value')}" for f in group.get("ec2TagFilters") or []
        )
        was.append(f"tag filter {now or '(none)'}")
    if "autoScalingGroups" in drift:
        names = ", ".join(sorted(_asg_names(group.get("autoScalingGroups"))))
        was.append(f"Auto Scaling groups {names or '(none)'}")
    if "serviceRoleArn" in drift:
        was.append(f"service role {group.get('serviceRoleArn')}")
    if "deploymentStyle" in drift:
        option, tgs = _traffic(group)
        was.append(option + (f" through {', '.join(sorted(tgs))}" if tgs else ""))
    if "autoRollbackConfiguration" in drift:
        enabled, events = _rollback(group.get("autoRollbackConfiguration"))
        was.append("rollback on " + ", ".join(sorted(events)) if enabled else "no rollback")
    if "launchHook" in drift:
        was.append("CodeDeploy's launch hook is missing from the Auto Scaling group")
    return was


def plan(sc: StepContext) -> list[Change]:
    p = sc.project
    out: list[Change] = []
    app = get_app(sc)
    base_app = {
        "step": NAME,
        "resource": "codedeploy:application",
        "name": p.application,
        "checks": list(APP_CHECKS),
    }
    app_ours = True
    if app is None:
        out.append(
            Change(
                **base_app,
                action="create",
                description=f"create the CodeDeploy application {p.application} (EC2/on-premises)",
                calls=["codedeploy:CreateApplication"],
            )
        )
    elif app.get("computePlatform", "Server") != "Server":
        app_ours = False
        out.append(
            Change(
                **base_app,
                action="conflict",
                description=(
                    f"the application {p.application} exists for the "
                    f"{app['computePlatform']} platform, not EC2/on-premises (Server)"
                ),
                fix="Set application to another name in the project file.",
            )
        )
    elif _tags(sc, app_arn(sc)).get(TAG_KEY) != p.application:
        app_ours = False
        out.append(
            Change(
                **base_app,
                action="conflict",
                description=(
                    f"the application {p.application} exists and was not created by the wizard"
                ),
                fix=tag_hint(
                    f"aws deploy tag-resource --resource-arn {app_arn(sc)} "
                    f"--tags Key={TAG_KEY},Value={p.application}"
                ),
            )
        )
    else:
        out.append(
            Change(
                **base_app,
                action="noop",
                description=f"the CodeDeploy application {p.application} exists",
            )
        )

    config_conflict = _check_config(sc)
    if config_conflict:
        out.append(config_conflict)
    base_grp = {
        "step": NAME,
        "resource": "codedeploy:deployment-group",
        "name": p.deployment_group,
        "checks": list(GROUP_CHECKS),
    }
    desired = desired_group(sc)
    settings = describe_settings(sc)
    group = get_group(sc) if app is not None else None
    if group is None:
        out.append(
            Change(
                **base_grp,
                action="create",
                description=f"create the deployment group {p.deployment_group}: {settings}",
                calls=["codedeploy:CreateDeploymentGroup"],
            )
        )
        return out
    if not app_ours or _tags(sc, group_arn(sc)).get(TAG_KEY) != p.application:
        out.append(
            Change(
                **base_grp,
                action="conflict",
                description=(
                    f"the deployment group {p.deployment_group} exists and was not created by "
                    "the wizard"
                ),
                fix=tag_hint(
                    f"aws deploy tag-resource --resource-arn {group_arn(sc)} "
                    f"--tags Key={TAG_KEY},Value={p.application}"
                ),
            )
        )
        return out
    drift = group_drift(group, desired)
    if "autoScalingGroups" not in drift and missing_launch_hooks(sc, group):
        drift.append("launchHook")
    if not drift:
        out.append(
            Change(
                **base_grp,
                action="noop",
                description=f"the deployment group {p.deployment_group} is set up: {settings}",
            )
        )
        return out
    was = _was(group, drift)
    what = f"update the deployment group {p.deployment_group} to {settings}"
    if drift == ["launchHook"]:
        what = (
            f"let CodeDeploy reinstall its launch hook on {autoscaling.group_name(p)}: update "
            f"the deployment group {p.deployment_group} without the Auto Scaling group, then "
            "with it again"
        )
    out.append(
        Change(
            **base_grp,
            action="update",
            description=f"{what} (now: {'; '.join(was)})",
            calls=["codedeploy:UpdateDeploymentGroup"],
            data={"drift": drift},
        )
    )
    return out


def _check_config(sc: StepContext) -> Change | None:
    """A custom deployment config must exist; the CodeDeployDefault ones always do."""
    name = sc.project.deployment_config
    if name.startswith("CodeDeployDefault."):
        return None
    try:
        sc.client("codedeploy").get_deployment_config(deploymentConfigName=name)
        return None
    except Exception as exc:
        if error_code(exc) != "DeploymentConfigDoesNotExistException":
            raise
    return Change(
        step=NAME,
        resource="codedeploy:deployment-config",
        name=name,
        action="conflict",
        description=f"the deployment config {name} does not exist in {sc.region}",
        fix=(
            "Set deployment_config to CodeDeployDefault.AllAtOnce, HalfAtATime or OneAtATime, "
            f"or create it: aws deploy create-deployment-config --deployment-config-name {name} "
            "--minimum-healthy-hosts type=HOST_COUNT,value=1"
        ),
    )


def _invalid_role(exc: BaseException) -> bool:
    return error_code(exc) == "InvalidRoleException" or (
        "assume the role" in error_message(exc).lower()
    )


def apply(sc: StepContext, change: Change) -> None:
    cd = sc.client("codedeploy")
    p = sc.project
    if change.resource == "codedeploy:application":
        app = get_app(sc)
        if app is None:
            try:
                cd.create_application(
                    applicationName=p.application,
                    computePlatform="Server",
                    tags=sc.tag_list(),
                )
            except Exception as exc:
                if error_code(exc) != "ApplicationAlreadyExistsException":
                    raise
                app = get_app(sc)
        if app is not None and _tags(sc, app_arn(sc)).get(TAG_KEY) != p.application:
            raise ConflictError(
                f"the application {p.application} exists and was not created by the wizard"
            )
        sc.outputs["application"] = p.application
        return

    desired = desired_group(sc)
    group = get_group(sc)
    if group is None:

        def create() -> Any:
            return cd.create_deployment_group(
                applicationName=p.application,
                deploymentGroupName=p.deployment_group,
                tags=sc.tag_list(),
                **desired,
            )

        try:
            retry_fresh_iam(sc, create, retry_if=_invalid_role)
        except Exception as exc:
            if error_code(exc) != "DeploymentGroupAlreadyExistsException":
                raise
            group = get_group(sc)
    if group is not None:
        if _tags(sc, group_arn(sc)).get(TAG_KEY) != p.application:
            raise ConflictError(
                f"the deployment group {p.deployment_group} exists and was not created by the "
                "wizard"
            )
        drift = group_drift(group, desired)
        rehook = "autoScalingGroups" not in drift and missing_launch_hooks(sc, group)
        if drift or rehook:

            def update(**override: Any) -> Any:
                return cd.update_deployment_group(
                    applicationName=p.application,
                    currentDeploymentGroupName=p.deployment_group,
                    **{**desired, **override},
                )

            if rehook:  # out and in again: CodeDeploy installs a new hook when a group joins
                retry_fresh_iam(sc, lambda: update(autoScalingGroups=[]), retry_if=_invalid_role)
            retry_fresh_iam(sc, update, retry_if=_invalid_role)
    sc.outputs["deployment_group"] = p.deployment_group


# --------------------------------------------------------------------------- destroy
def destroy_plan(sc: StepContext) -> list[Change]:
    p = sc.project
    out: list[Change] = []
    app = get_app(sc)
    if app is None:
        return out
    app_ours = _tags(sc, app_arn(sc)).get(TAG_KEY) == p.application
    group = get_group(sc)
    if group is not None:
        ours = _tags(sc, group_arn(sc)).get(TAG_KEY) == p.application
        out.append(
            Change(
                step=NAME,
                resource="codedeploy:deployment-group",
                name=p.deployment_group,
                action="delete" if ours else "noop",
                description=(
                    f"delete the deployment group {p.deployment_group}"
                    if ours
                    else f"leave the deployment group {p.deployment_group} alone: not the wizard's"
                ),
                calls=["codedeploy:DeleteDeploymentGroup"] if ours else [],
            )
        )
    others = [
        g
        for page in sc.client("codedeploy")
        .get_paginator("list_deployment_groups")
        .paginate(applicationName=p.application)
        for g in page.get("deploymentGroups", [])
        if g != p.deployment_group
    ]
    if not app_ours:
        out.append(
            Change(
                step=NAME,
                resource="codedeploy:application",
                name=p.application,
                action="noop",
                description=f"leave the application {p.application} alone: not the wizard's",
            )
        )
    elif others:
        out.append(
            Change(
                step=NAME,
                resource="codedeploy:application",
                name=p.application,
                action="noop",
                description=(
                    f"keep the application {p.application}: it holds other deployment groups "
                    f"({', '.join(others)})"
                ),
            )
        )
    else:
        out.append(
            Change(
                step=NAME,
                resource="codedeploy:application",
                name=p.application,
                action="delete",
                description=f"delete the CodeDeploy application {p.application}",
                calls=["codedeploy:DeleteApplication"],
            )
        )
    return out


def destroy(sc: StepContext, change: Change) -> None:
    cd = sc.client("codedeploy")
    try:
        if change.resource == "codedeploy:deployment-group":
            cd.delete_deployment_group(
                applicationName=sc.application, deploymentGroupName=change.name
            )
        else:
            cd.delete_application(applicationName=change.name)
    except Exception as exc:
        if error_code(exc) not in (
            "ApplicationDoesNotExistException",
            "DeploymentGroupDoesNotExistException",
        ):
            raise
