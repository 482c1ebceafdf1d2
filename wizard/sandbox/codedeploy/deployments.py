"""Deployment handlers: create, read, list and stop deployments, and read their targets."""

from __future__ import annotations

import random
import re
import string
from typing import Any

from moto.codedeploy import responses as cd_responses
from moto.core.responses import ActionResult

from wizard.sandbox import clock
from wizard.sandbox.codedeploy.common import err, paginate
from wizard.sandbox.codedeploy.configs import get_config
from wizard.sandbox.codedeploy.revisions import (
    find_revision,
    register_revision,
    validate_revision,
)
from wizard.sandbox.codedeploy.rollback import effective_rollback_config, last_good_revision
from wizard.sandbox.codedeploy.runner import (
    ACTIVE_STATUSES,
    DeploymentRun,
    TargetRun,
    advance_all,
    run_of,
)

TARGET_PAGE = 100
DEFAULT_STYLE = {"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}
# how CodeDeploy describes a revision it registered for a deployment
REGISTERED_BY = "Application revision registered by Deployment ID: {}"
BATCH_TARGETS_MAX = 25
BATCH_INSTANCES_MAX = 100
# ---- helpers -----------------------------------------------------------------------------------


def _new_deployment_id(backend: Any) -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        candidate = "d-" + "".join(random.choices(alphabet, k=9))
        if candidate not in backend.deployments:
            return candidate


def _deployment(self: Any) -> tuple[Any, DeploymentRun, float]:
    deployment_id = self._get_param("deploymentId")
    if not deployment_id:
        raise err("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
    backend = self.codedeploy_backend
    if deployment_id not in backend.deployments:
        if not re.fullmatch(r"d-[A-Z0-9]{9}", str(deployment_id)):
            raise err(
                "InvalidDeploymentIdException",
                f"The deployment ID {deployment_id} was specified in an invalid format.",
            )
        raise err(
            "DeploymentDoesNotExistException",
            f"The deployment {deployment_id} could not be found.",
        )
    d = backend.deployments[deployment_id]
    advance_all()
    run = run_of(d, backend)
    with clock.LOCK:
        t = run.tick()
    return d, run, t


def deployment_info(d: Any, backend: Any) -> dict[str, Any]:
    """moto's DeploymentInfo shape, with the simulated status filled in."""
    run = run_of(d, backend)
    with clock.LOCK:
        t = run.tick()
        info = cd_responses._deployment_info(d)
        status = run.status(t)
        info["status"] = status
        info["deploymentOverview"] = run.overview(t)
        info["fileExistsBehavior"] = d.file_exists_behavior or "DISALLOW"
        info["createTime"] = run.created_dt
        if status != "Created" and run.began:
            info["startTime"] = run.at(run.start_delay)
        if status in ("Succeeded", "Failed", "Stopped"):
            info["completeTime"] = run.at(run.end)
            if run.error:
                info["errorInformation"] = dict(run.error)
        if getattr(d, "_sandbox_previous", None):
            info["previousRevision"] = d._sandbox_previous
        if run.rollback_info:
            info["rollbackInfo"] = dict(run.rollback_info)
        # what GetDeployment always shows (DeploymentInfo, API reference)
        info["deploymentStyle"] = dict(getattr(d, "_sandbox_style", None) or DEFAULT_STYLE)
        info["autoRollbackConfiguration"] = effective_rollback_config(d)
        info["ignoreApplicationStopFailures"] = bool(d.ignore_application_stop_failures)
        info["updateOutdatedInstancesOnly"] = bool(d.update_outdated_instances_only)
        info["creator"] = d.creator or "user"
        for key in ("errorInformation", "previousRevision", "rollbackInfo", "relatedDeployments"):
            if not info.get(key):
                info.pop(key, None)
        if not info.get("deploymentStatusMessages"):
            info.pop("deploymentStatusMessages", None)
        info["instanceTerminationWaitTimeStarted"] = False
        return info


# ---- handlers: installed as CodeDeployResponse methods --------------------------------------


def get_deployment(self: Any) -> ActionResult:
    d, _, _ = _deployment(self)
    return ActionResult({"deploymentInfo": deployment_info(d, self.codedeploy_backend)})


def batch_get_deployments(self: Any) -> ActionResult:
    ids = self._get_param("deploymentIds") or []
    if len(ids) > 25:
        raise err(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (25) was exceeded.",
        )
    backend = self.codedeploy_backend
    advance_all()
    infos = [
        deployment_info(backend.deployments[i], backend) for i in ids if i in backend.deployments
    ]
    return ActionResult({"deploymentsInfo": infos})


def list_deployments(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    advance_all()
    app = self._get_param("applicationName")
    group = self._get_param("deploymentGroupName")
    statuses = self._get_param("includeOnlyStatuses") or []
    time_range = self._get_param("createTimeRange") or {}
    if app and app not in backend.applications:
        raise err(
            "ApplicationDoesNotExistException",
            f"The application {app} does not exist with the user or AWS account.",
        )
    if app and group and group not in backend.deployment_groups.get(app, {}):
        raise err(
            "DeploymentGroupDoesNotExistException",
            f"The deployment group {group} does not exist with the user or AWS account.",
        )
    ids = backend.list_deployments(app, group, self._get_param("externalId"), [], time_range)
    out = []
    for i in ids:
        d = backend.deployments[i]
        run = run_of(d, backend)
        with clock.LOCK:
            status = run.status(run.tick())
        if statuses and status not in statuses:
            continue
        out.append((run.created, i))
    # newest first, as the real service lists them
    out.sort(reverse=True)
    page, nxt = paginate([i for _, i in out], self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"deployments": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def create_deployment(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    advance_all()
    app = self._get_param("applicationName")
    group_name = self._get_param("deploymentGroupName")
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
    if not group_name:
        raise err(
            "DeploymentGroupNameRequiredException", "The deployment group name was not specified."
        )
    group = backend.deployment_groups.get(app, {}).get(group_name)
    if group is None:
        raise err(
            "DeploymentGroupDoesNotExistException",
            f"The deployment group {group_name} does not exist with the user or AWS account.",
        )
    previous = last_good_revision(backend, group)
    revision = validate_revision(self._get_param("revision") or previous)
    config_name = self._get_param("deploymentConfigName")
    if config_name:
        get_config(backend, config_name)
    feb = self._get_param("fileExistsBehavior")
    if feb and feb not in ("DISALLOW", "OVERWRITE", "RETAIN"):
        raise err("InvalidFileExistsBehaviorException", f"Invalid fileExistsBehavior: {feb}")
    description = self._get_param("description")
    if description and len(description) > 1024:
        raise err("DescriptionTooLongException", "The description is too long.")
    with clock.LOCK:
        for other in backend.deployments.values():
            if other.deployment_group is group:
                run = run_of(other, backend)
                if run.status(run.tick()) in ACTIVE_STATUSES:
                    raise err(
                        "DeploymentLimitExceededException",
                        f"The deployment group {group_name} already has an active deployment "
                        f"{other.deployment_id}.",
                    )
        d, _ = new_deployment(
            backend,
            group,
            revision,
            creator="user",
            config_name=config_name,
            description=description,
            ignore_stop_failures=self._get_bool_param("ignoreApplicationStopFailures"),
            target_instances=self._get_param("targetInstances"),
            auto_rollback=self._get_param("autoRollbackConfiguration"),
            update_outdated=self._get_bool_param("updateOutdatedInstancesOnly"),
            file_exists_behavior=feb,
            override_alarms=self._get_param("overrideAlarmConfiguration"),
        )
    return ActionResult({"deploymentId": d.deployment_id})


def new_deployment(
    backend: Any,
    group: Any,
    revision: dict[str, Any],
    *,
    creator: str,
    config_name: str | None = None,
    description: str | None = None,
    ignore_stop_failures: bool | None = False,
    target_instances: dict[str, Any] | None = None,
    auto_rollback: dict[str, Any] | None = None,
    update_outdated: bool | None = False,
    file_exists_behavior: str | None = None,
    override_alarms: dict[str, Any] | None = None,
    created: tuple[float, Any] | None = None,
) -> tuple[Any, DeploymentRun]:
    """Create a deployment of `revision` to `group` as CodeDeploy does: a new `d-` id, the
    revision registered (described as registered by this deployment when it is new), and its
    run on the clock from `created` ((monotonic, datetime); default now). Caller holds the lock.

    `creator` is one of DeploymentInfo.creator's values (API reference): `user`, `autoscaling`
    (a scale-out), `codeDeployRollback` (an automatic rollback).
    """
    app = group.application.application_name
    previous = last_good_revision(backend, group)
    original = backend.create_deployment(
        application_name=app,
        deployment_group_name=group.deployment_group_name,
        revision=revision,
        deployment_config_name=config_name,
        description=description,
        ignore_application_stop_failures=ignore_stop_failures,
        target_instances=target_instances,
        auto_rollback_configuration=auto_rollback,
        update_outdated_instances_only=update_outdated,
        file_exists_behavior=file_exists_behavior,
        override_alarm_configuration=override_alarms,
    )
    d = backend.deployments.pop(original)
    d.deployment_id = _new_deployment_id(backend)
    d.creator = creator
    d._sandbox_previous = previous
    # what the deployment ran with, as the group was when it was created
    d._sandbox_style = dict(group.deployment_style or {}) or dict(DEFAULT_STYLE)
    backend.deployments[d.deployment_id] = d
    run = run_of(d, backend)
    if created is not None:
        run.created, run.created_dt = created
    known = find_revision(backend, app, revision) is not None
    register_revision(
        backend,
        app,
        revision,
        description="" if known else REGISTERED_BY.format(d.deployment_id),
        group=group.deployment_group_name,
    )
    group._sandbox_last_attempted = d.deployment_id
    return d, run


def stop_deployment(self: Any) -> ActionResult:
    d, run, t = _deployment(self)
    with clock.LOCK:
        if run.status(t) not in ACTIVE_STATUSES:
            raise err(
                "DeploymentAlreadyCompletedException",
                f"The deployment {d.deployment_id} has already completed.",
            )
        run.stop(t, roll_back=bool(self._get_bool_param("autoRollbackEnabled")))
    return ActionResult({"status": "Succeeded", "statusMessage": "Deployment stopped"})


def _target_ids_page(
    self: Any, run: DeploymentRun, t: float, wanted: list[str], skip: bool, key: str
) -> ActionResult:
    """One page of the deployment's target ids with one of `wanted` statuses (all when empty)."""
    ids: list[str] = []
    if not skip:
        with clock.LOCK:
            ids = [
                tid
                for tid, target in run.targets.items()
                if not wanted or run.target_status(target, t) in wanted
            ]
    page, nxt = paginate(ids, self._get_param("nextToken"), TARGET_PAGE)
    result: dict[str, Any] = {key: page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def list_deployment_targets(self: Any) -> ActionResult:
    _, run, t = _deployment(self)
    filters = self._get_param("targetFilters") or {}
    for name in filters:
        if name not in ("TargetStatus", "ServerInstanceLabel"):
            raise err(
                "InvalidTargetFilterNameException", f"The target filter name {name} is invalid."
            )
    wanted = filters.get("TargetStatus") or []
    valid = {"Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown", "Ready"}
    for status in wanted:
        if status not in valid:
            raise err(
                "InvalidInstanceStatusException",
                f"The specified instance status {status} does not exist.",
            )
    # no on-premises instances in the sandbox: a ServerInstanceLabel filter matches nothing
    return _target_ids_page(
        self, run, t, wanted, bool(filters.get("ServerInstanceLabel")), "targetIds"
    )


def _lookup_target(run: DeploymentRun, target_id: str) -> TargetRun:
    target = run.targets.get(target_id)
    if target is None and target_id.startswith("arn:"):
        target = run.targets.get(target_id.rsplit("/", 1)[-1])
    if target is None:
        raise err(
            "DeploymentTargetDoesNotExistException",
            f"The provided target ID {target_id} does not belong to the deployment "
            f"{run.deployment.deployment_id}.",
        )
    return target


def batch_get_deployment_targets(self: Any) -> ActionResult:
    ids = self._get_param("targetIds") or []
    if not ids:
        raise err("DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
    if len(ids) > BATCH_TARGETS_MAX:
        raise err(
            "DeploymentTargetListSizeExceededException",
            f"The maximum number of targets that can be requested is {BATCH_TARGETS_MAX}; "
            f"{len(ids)} were given.",
        )
    _, run, t = _deployment(self)
    with clock.LOCK:
        out = [run.target_view(_lookup_target(run, i), t) for i in ids]
    return ActionResult({"deploymentTargets": out})


def get_deployment_target(self: Any) -> ActionResult:
    target_id = self._get_param("targetId")
    if not target_id:
        raise err("DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
    _, run, t = _deployment(self)
    with clock.LOCK:
        view = run.target_view(_lookup_target(run, target_id), t)
    return ActionResult({"deploymentTarget": view})


def list_deployment_instances(self: Any) -> ActionResult:
    _, run, t = _deployment(self)
    wanted = self._get_param("instanceStatusFilter") or []
    # no blue/green in the sandbox: an instanceTypeFilter matches nothing
    return _target_ids_page(
        self, run, t, wanted, bool(self._get_param("instanceTypeFilter")), "instancesList"
    )


def batch_get_deployment_instances(self: Any) -> ActionResult:
    ids = self._get_param("instanceIds") or []
    if not ids:
        raise err("InstanceIdRequiredException", "The instance ID was not specified.")
    if len(ids) > BATCH_INSTANCES_MAX:
        raise err(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (100) was exceeded.",
        )
    _, run, t = _deployment(self)
    out, missing = [], []
    with clock.LOCK:
        for i in ids:
            target = run.targets.get(i)
            if target is None:
                missing.append(i)
            else:
                out.append(run.instance_view(target, t))
    result: dict[str, Any] = {"instancesSummary": out}
    if missing:
        result["errorMessage"] = "Instances not found in the deployment: " + ", ".join(missing)
    return ActionResult(result)


def get_deployment_instance(self: Any) -> ActionResult:
    instance_id = self._get_param("instanceId")
    if not instance_id:
        raise err("InstanceIdRequiredException", "The instance ID was not specified.")
    _, run, t = _deployment(self)
    with clock.LOCK:
        target = run.targets.get(instance_id)
        if target is None:
            raise err(
                "InstanceDoesNotExistException",
                f"The instance {instance_id} is not part of the deployment.",
            )
        view = run.instance_view(target, t)
    return ActionResult({"instanceSummary": view})


HANDLERS = {
    "get_deployment": get_deployment,
    "batch_get_deployments": batch_get_deployments,
    "list_deployments": list_deployments,
    "create_deployment": create_deployment,
    "stop_deployment": stop_deployment,
    "list_deployment_targets": list_deployment_targets,
    "batch_get_deployment_targets": batch_get_deployment_targets,
    "get_deployment_target": get_deployment_target,
    "list_deployment_instances": list_deployment_instances,
    "batch_get_deployment_instances": batch_get_deployment_instances,
    "get_deployment_instance": get_deployment_instance,
}
