"""CodeDeploy application (Server platform) and its deployment group.

The group targets EC2 instances by one KEY_AND_VALUE tag filter, uses the configured deployment
config and the service role. A group of ours whose settings differ is changed only by a planned
`update` (UpdateDeploymentGroup); settings we do not manage (alarms, rollback, triggers) are left
as they are.
"""

from __future__ import annotations

from typing import Any

from wizard import TAG_KEY
from wizard.steps import roles
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
    tag = sc.project.instances.tag
    return {
        "deploymentConfigName": sc.project.deployment_config,
        "ec2TagFilters": [{"Key": tag.key, "Value": tag.value, "Type": "KEY_AND_VALUE"}],
        "serviceRoleArn": service_role_arn(sc),
    }


def group_drift(current: dict, desired: dict) -> list[str]:
    """Names of the managed settings that differ."""

    def filters(fs: list[dict] | None) -> set[tuple]:
        return {(f.get("Key"), f.get("Value"), f.get("Type")) for f in fs or []}

    out = []
    if current.get("deploymentConfigName") != desired["deploymentConfigName"]:
        out.append("deploymentConfigName")
    if filters(current.get("ec2TagFilters")) != filters(desired["ec2TagFilters"]):
        out.append("ec2TagFilters")
    if current.get("serviceRoleArn") != desired["serviceRoleArn"]:
        out.append("serviceRoleArn")
    return out


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
    tag = p.instances.tag
    settings = (
        f"instances tagged {tag.key}={tag.value}, {p.deployment_config}, "
        f"service role {p.roles.service_role}"
    )
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
    if not drift:
        out.append(
            Change(
                **base_grp,
                action="noop",
                description=f"the deployment group {p.deployment_group} is set up: {settings}",
            )
        )
        return out
    was = []
    if "deploymentConfigName" in drift:
        was.append(f"deployment config {group.get('deploymentConfigName')}")
    if "ec2TagFilters" in drift:
        now = ", ".join(
            f"{f.get('Key')}={f.get('Value')}" for f in group.get("ec2TagFilters") or []
        )
        was.append(f"tag filter {now or '(none)'}")
    if "serviceRoleArn" in drift:
        was.append(f"service role {group.get('serviceRoleArn')}")
    out.append(
        Change(
            **base_grp,
            action="update",
            description=(
                f"update the deployment group {p.deployment_group} to {settings} "
                f"(now: {'; '.join(was)})"
            ),
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
        if group_drift(group, desired):

            def update() -> Any:
                return cd.update_deployment_group(
                    applicationName=p.application,
                    currentDeploymentGroupName=p.deployment_group,
                    **desired,
                )

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
