"""Application and deployment group handlers."""

from __future__ import annotations

from typing import Any

from moto.codedeploy import responses as cd_responses
from moto.core.responses import ActionResult, EmptyResult

from wizard.sandbox import clock
from wizard.sandbox.codedeploy.common import err, paginate, require_application
from wizard.sandbox.codedeploy.configs import get_config
from wizard.sandbox.codedeploy.deployments import DEFAULT_STYLE
from wizard.sandbox.codedeploy.runner import advance_all, run_of
from wizard.sandbox.codedeploy.targeting import role_problem


def _group_info(backend: Any, group: Any) -> dict[str, Any]:
    info = cd_responses._deployment_group_info(group)
    for key in (
        "targetRevision",
        "alarmConfiguration",
        "lastSuccessfulDeployment",
        "lastAttemptedDeployment",
    ):
        info.pop(key, None)
    if getattr(group, "_sandbox_alarms", None):
        info["alarmConfiguration"] = group._sandbox_alarms
    advance_all()
    mine = [d for d in backend.deployments.values() if d.deployment_group is group]
    if mine:
        runs = sorted(((run_of(d, backend), d) for d in mine), key=lambda p: p[0].created)
        run, d = runs[-1]
        with clock.LOCK:
            t = run.tick()
            status = run.status(t)
        last: dict[str, Any] = {
            "deploymentId": d.deployment_id,
            "status": status,
            "createTime": run.created_dt,
        }
        if status in ("Succeeded", "Failed", "Stopped"):
            last["endTime"] = run.at(run.end)
        info["lastAttemptedDeployment"] = last
        for run, d in reversed(runs):
            with clock.LOCK:
                t = run.tick()
                if run.status(t) == "Succeeded":
                    info["lastSuccessfulDeployment"] = {
                        "deploymentId": d.deployment_id,
                        "status": "Succeeded",
                        "endTime": run.at(run.end),
                        "createTime": run.created_dt,
                    }
                    info["targetRevision"] = d.revision
                    break
    if not info.get("ec2TagSet"):
        info.pop("ec2TagSet", None)
    if not info.get("onPremisesTagSet"):
        info.pop("onPremisesTagSet", None)
    info["deploymentConfigName"] = str(group.deployment_config_name)
    # what GetDeploymentGroup shows for settings left at their defaults (API reference)
    info["deploymentStyle"] = dict(info.get("deploymentStyle") or DEFAULT_STYLE)
    info["autoRollbackConfiguration"] = info.get("autoRollbackConfiguration") or {"enabled": False}
    info["outdatedInstancesStrategy"] = info.get("outdatedInstancesStrategy") or "UPDATE"
    info["terminationHookEnabled"] = bool(info.get("terminationHookEnabled"))
    return info


def get_deployment_group(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    group = backend.get_deployment_group(
        self._get_param("applicationName"), self._get_param("deploymentGroupName")
    )
    return ActionResult({"deploymentGroupInfo": _group_info(backend, group)})


def batch_get_deployment_groups(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    names = self._get_param("deploymentGroupNames") or []
    if not app:
        raise err(
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    if app not in backend.applications:
        raise err(
            "ApplicationDoesNotExistException",
            f"The application {app} does not exist with the user or AWS account.",
        )
    if len(names) > 100:
        raise err(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (100) was exceeded.",
        )
    infos, missing = [], []
    for name in names:
        group = backend.deployment_groups.get(app, {}).get(name)
        if group is None:
            missing.append(name)
        else:
            infos.append(_group_info(backend, group))
    result: dict[str, Any] = {"deploymentGroupsInfo": infos}
    if missing:
        result["errorMessage"] = "Deployment groups not found: " + ", ".join(missing)
    return ActionResult(result)


def _check_group_inputs(
    self: Any, backend: Any, app: str, group_name: str, role_arn: str | None
) -> None:
    config_name = self._get_param("deploymentConfigName")
    if config_name:
        get_config(backend, config_name)
    # Over HTTP (the sandbox) CodeDeploy checks it can assume the role, as AWS does. Under
    # `mock_aws` unit tests may build a group on a broken role directly (moto's leniency); its
    # deployments still fail with IAM_ROLE_PERMISSIONS.
    if role_arn is not None and getattr(self, "is_werkzeug_request", False):
        problem = role_problem(
            backend.account_id, backend.region_name, role_arn, app, group_name, for_deployment=False
        )
        if problem is not None:
            raise err(*problem)
    tag_set = (self._get_param("ec2TagSet") or {}).get("ec2TagSetList") or []
    if tag_set and self._get_param("ec2TagFilters"):
        raise err(
            "InvalidEC2TagCombinationException",
            "The EC2 tags and the EC2 tag set cannot both be specified.",
        )
    if len(tag_set) > 3:
        raise err(
            "TagSetListLimitExceededException",
            "The number of tag groups included in the tag set list exceeded the maximum "
            "allowed limit of 3.",
        )


_original_create_group = cd_responses.CodeDeployResponse.create_deployment_group


def create_deployment_group(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    name = self._get_param("deploymentGroupName")
    if not self._get_param("serviceRoleArn"):
        raise err("RoleRequiredException", "The role ID was not specified.")
    if app and app not in backend.applications:
        raise err(
            "ApplicationDoesNotExistException",
            f"The application {app} does not exist with the user or AWS account.",
        )
    _check_group_inputs(self, backend, app, name, self._get_param("serviceRoleArn"))
    result = _original_create_group(self)
    group = backend.deployment_groups[app][name]
    group._sandbox_alarms = self._get_param("alarmConfiguration") or None
    return result


def update_deployment_group(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    current = self._get_param("currentDeploymentGroupName")
    group = backend.get_deployment_group(app, current)
    new_name = self._get_param("newDeploymentGroupName")
    role_arn = self._get_param("serviceRoleArn")
    _check_group_inputs(self, backend, app, new_name or current, role_arn)
    if new_name and new_name != current:
        if new_name in backend.deployment_groups.get(app, {}):
            raise err(
                "DeploymentGroupAlreadyExistsException",
                f"Deployment group {new_name} already exists.",
            )
        groups = backend.deployment_groups[app]
        groups[new_name] = groups.pop(current)
        group.deployment_group_name = new_name
        for d in backend.deployments.values():
            if d.deployment_group is group:
                d.deployment_group_name = new_name
    simple = {
        "deploymentConfigName": "deployment_config_name",
        "ec2TagFilters": "ec2_tag_filters",
        "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
        "autoScalingGroups": "auto_scaling_groups",
        "serviceRoleArn": "service_role_arn",
        "triggerConfigurations": "trigger_configurations",
        "autoRollbackConfiguration": "auto_rollback_configuration",
        "outdatedInstancesStrategy": "outdated_instances_strategy",
        "deploymentStyle": "deployment_style",
        "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
        "loadBalancerInfo": "load_balancer_info",
        "ec2TagSet": "ec2_tag_set",
        "ecsServices": "ecs_services",
        "onPremisesTagSet": "on_premises_tag_set",
    }
    for param, attr in simple.items():
        value = self._get_param(param)
        if value is not None:
            setattr(group, attr, value)
    if self._get_param("ec2TagFilters") is not None and self._get_param("ec2TagSet") is None:
        group.ec2_tag_set = {}
    if self._get_param("ec2TagSet") is not None and self._get_param("ec2TagFilters") is None:
        group.ec2_tag_filters = []
    if self._get_param("alarmConfiguration") is not None:
        group._sandbox_alarms = self._get_param("alarmConfiguration")
    hook = self._get_param("terminationHookEnabled")
    if hook is not None:
        group.termination_hook_enabled = bool(hook)
    return ActionResult({"hooksNotCleanedUp": []})


def delete_deployment_group(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    name = self._get_param("deploymentGroupName")
    if not app:
        raise err(
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    if not name:
        raise err(
            "DeploymentGroupNameRequiredException", "The deployment group name was not specified."
        )
    groups = backend.deployment_groups.get(app, {})
    group = groups.pop(name, None)
    if group is not None:
        arn = backend._deployment_group_arn(app, name)
        backend.tagger.delete_all_tags_for_resource(arn)
    return ActionResult({"hooksNotCleanedUp": []})


def delete_application(self: Any) -> EmptyResult:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    if not app:
        raise err(
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    if app in backend.applications:
        for name in list(backend.deployment_groups.get(app, {})):
            backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(app, name))
        backend.deployment_groups.pop(app, None)
        backend.applications.pop(app, None)
        backend.tagger.delete_all_tags_for_resource(backend._application_arn(app))
        getattr(backend, "_sandbox_revisions", {}).pop(app, None)
    return EmptyResult()


def create_application(self: Any) -> ActionResult:
    """As moto's, with AWS's default compute platform (Server) and name checks."""
    name = self._get_param("applicationName")
    if not name:
        raise err(
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    if len(name) > 100:
        raise err(
            "InvalidApplicationNameException",
            "The application name was specified in an invalid format.",
        )
    platform = self._get_param("computePlatform") or "Server"
    if platform not in ("Server", "Lambda", "ECS"):
        raise err("InvalidComputePlatformException", f"The computePlatform {platform} is invalid.")
    app_id = self.codedeploy_backend.create_application(
        application_name=name, compute_platform=platform, tags=self._get_param("tags")
    )
    return ActionResult({"applicationId": app_id})


def list_applications(self: Any) -> ActionResult:
    names = sorted(self.codedeploy_backend.applications)
    page, nxt = paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"applications": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def list_deployment_groups(self: Any) -> ActionResult:
    app = require_application(self)
    names = sorted(self.codedeploy_backend.deployment_groups.get(app, {}))
    page, nxt = paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"applicationName": app, "deploymentGroups": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


HANDLERS = {
    "create_application": create_application,
    "list_applications": list_applications,
    "delete_application": delete_application,
    "list_deployment_groups": list_deployment_groups,
    "get_deployment_group": get_deployment_group,
    "batch_get_deployment_groups": batch_get_deployment_groups,
    "create_deployment_group": create_deployment_group,
    "update_deployment_group": update_deployment_group,
    "delete_deployment_group": delete_deployment_group,
}
