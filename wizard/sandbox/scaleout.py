"""CodeDeploy and Auto Scaling: the launch hook CodeDeploy installs, and scale-out deployments.

What AWS does (CodeDeploy User Guide, "Integrating CodeDeploy with Amazon EC2 Auto Scaling" and
"Troubleshoot Amazon EC2 Auto Scaling issues"; the hook's shape as DescribeLifecycleHooks shows it
on AWS: name `CodeDeploy-managed-automatic-launch-deployment-hook-<group>-<uuid>`, transition
`autoscaling:EC2_INSTANCE_LAUNCHING`, HeartbeatTimeout 600, DefaultResult ABANDON,
NotificationMetadata = the deployment group's id, a notification queue owned by CodeDeploy):

- Create/UpdateDeploymentGroup with `autoScalingGroups` installs that hook on each named group
  (an unknown group is InvalidAutoScalingGroupException); removing a group from the list, or
  deleting the deployment group, removes its hook. GetDeploymentGroup shows `{name, hook}`.
- When the Auto Scaling group launches an instance, the hook holds it in Pending:Wait and CodeDeploy
  deploys the group's *last successful revision* to it in a deployment whose `creator` is
  `autoscaling`, then completes the hook: CONTINUE on success, ABANDON on failure (the instance is
  terminated and relaunched). With no successful revision yet there is nothing to deploy and the
  launch continues at once.
- A hook that is gone (deleted by hand) is never notified: the instance goes InService without
  the application. A hook whose deployment group is gone is never completed: the launch waits for
  the heartbeat timeout and is abandoned ("Heartbeat Timeout").
- Deployments to the group reach its InService instances (`group_targets`).

Wired in by `install()` (after `codedeploy.install()`): wrappers around the deployment group
handlers, and a listener on `wizard.sandbox.autoscaling`.
"""

from __future__ import annotations

import uuid
from typing import Any

from wizard.sandbox import autoscaling
from wizard.sandbox.awserror import AwsError

HOOK_PREFIX = autoscaling.CODEDEPLOY_HOOK_PREFIX
HEARTBEAT_TIMEOUT = 600
CREATOR = "autoscaling"
# scale-out deployments reach one new instance each: judged as one instance at a time
SCALE_OUT_CONFIG = "CodeDeployDefault.OneAtATime"


def _asg_backend(account: str, region: str) -> Any:
    from moto.autoscaling.models import autoscaling_backends

    return autoscaling_backends[account][region]


def hooks_of(group: Any) -> dict[str, str]:
    """{Auto Scaling group name: the launch hook CodeDeploy installed on it} for a moto group."""
    if not hasattr(group, "_sandbox_asg_hooks"):
        group._sandbox_asg_hooks = {}
    return group._sandbox_asg_hooks


def asg_names(group: Any) -> list[str]:
    out = []
    for a in getattr(group, "auto_scaling_groups", None) or []:
        name = a.get("name") if isinstance(a, dict) else a
        if name:
            out.append(str(name))
    return out


def check_asgs_exist(account: str, region: str, names: list[str]) -> None:
    backend = _asg_backend(account, region)
    for name in names:
        if name not in backend.autoscaling_groups:
            raise AwsError(
                "InvalidAutoScalingGroupException",
                f"The Auto Scaling group {name} was specified in an invalid format or does not "
                "exist.",
            )


def install_hook(account: str, region: str, group: Any, asg: str) -> str:
    """Put CodeDeploy's launch hook on `asg` for the moto deployment group `group`."""
    backend = _asg_backend(account, region)
    name = f"{HOOK_PREFIX}{group.deployment_group_name}-{uuid.uuid4()}"
    hook = backend.create_lifecycle_hook(
        name, asg, autoscaling.LAUNCHING, HEARTBEAT_TIMEOUT, "ABANDON"
    )
    hook.notification_metadata = group.deployment_group_id
    hook.notification_target_arn = (
        f"arn:aws:sqs:{region}:{account}:razorbill-{region}-prod-default-autoscaling-lifecycle-hook"
    )
    hooks_of(group)[asg] = name
    return name


def remove_hook(account: str, region: str, group: Any, asg: str) -> None:
    name = hooks_of(group).pop(asg, None)
    if name:
        try:
            _asg_backend(account, region).delete_lifecycle_hook(asg, name)
        except Exception:  # the group is gone: nothing left to clean
            pass


def group_targets(account: str, region: str, group: Any) -> list[Any]:
    """InService instances of the deployment group's Auto Scaling groups (moto instances)."""
    names = asg_names(group)
    return autoscaling.group_instances(account, region, names) if names else []


def targets_of(deployment: Any) -> list[str] | None:
    """The instances a scale-out deployment is for (None for any other deployment)."""
    return getattr(deployment, "_sandbox_targets", None)


# ---- scale-out deployments ----


def _owner(account: str, region: str, asg: str, hook: str) -> Any:
    """The moto deployment group whose launch hook on `asg` is `hook` (None: a leftover)."""
    from moto.codedeploy.models import codedeploy_backends

    backend = codedeploy_backends[account][region]
    for groups in backend.deployment_groups.values():
        for g in groups.values():
            if hooks_of(g).get(asg) == hook:
                return g
    return None


def _create(backend: Any, group: Any, revision: dict[str, Any], instance_id: str) -> Any:
    """A deployment CodeDeploy creates itself (creator autoscaling) for one new instance."""
    from wizard.sandbox.codedeploy.deployments import _new_deployment_id
    from wizard.sandbox.codedeploy.revisions import register_revision
    from wizard.sandbox.codedeploy.runner import run_of

    app = group.application.application_name
    original = backend.create_deployment(
        application_name=app,
        deployment_group_name=group.deployment_group_name,
        revision=revision,
        deployment_config_name=SCALE_OUT_CONFIG,
        description=None,
        ignore_application_stop_failures=False,
        target_instances=None,
        # the instance is abandoned (and relaunched) instead: a rollback would only redeploy
        # the same last successful revision to the whole group
        auto_rollback_configuration={"enabled": False},
        update_outdated_instances_only=False,
        file_exists_behavior=None,
        override_alarm_configuration=None,
    )
    d = backend.deployments.pop(original)
    d.deployment_id = _new_deployment_id(backend)
    d.creator = CREATOR
    d._sandbox_targets = [instance_id]
    backend.deployments[d.deployment_id] = d
    run_of(d, backend)
    register_revision(backend, app, revision, group=group.deployment_group_name)
    return d


def on_launch(action: autoscaling.LifecycleAction, hook: Any) -> bool:
    """The Auto Scaling listener: start the scale-out deployment for `action` (see module doc)."""
    from moto.codedeploy.models import codedeploy_backends

    from wizard.sandbox.codedeploy.rollback import last_good_revision
    from wizard.sandbox.codedeploy.runner import run_of

    group = _owner(action.account, action.region, action.group, action.hook)
    if group is None:
        return True  # nobody completes a leftover hook: the heartbeat times out
    backend = codedeploy_backends[action.account][action.region]
    revision = last_good_revision(backend, group)
    if not revision:
        return False  # nothing deployed yet: CodeDeploy lets the launch continue
    d = _create(backend, group, revision, action.instance_id)
    action.detail["deployment_id"] = d.deployment_id

    def poll() -> str | None:
        run = run_of(d, backend)
        status = run.status(run.tick())
        if status == "Succeeded":
            return "CONTINUE"
        if status in ("Failed", "Stopped"):
            return "ABANDON"
        return None

    action.poll = poll
    return True


# ---- deployment group handlers ----


def _group_info_hooks(info: dict[str, Any], group: Any) -> None:
    hooks = hooks_of(group)
    info["autoScalingGroups"] = [
        {"name": n, **({"hook": hooks[n]} if n in hooks else {})} for n in asg_names(group)
    ]


def install() -> None:
    """Wrap the deployment group handlers and listen to Auto Scaling launches (idempotent)."""
    from moto.codedeploy import responses as cd_responses

    cls = cd_responses.CodeDeployResponse
    if getattr(cls, "_sandbox_scaleout", False):
        return
    create, update, delete = (
        cls.create_deployment_group,
        cls.update_deployment_group,
        cls.delete_deployment_group,
    )
    get_one, get_many = cls.get_deployment_group, cls.batch_get_deployment_groups

    def names_param(self: Any) -> list[str] | None:
        value = self._get_param("autoScalingGroups")
        return None if value is None else [str(v) for v in value]

    def create_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        wanted = names_param(self) or []
        check_asgs_exist(backend.account_id, backend.region_name, wanted)
        result = create(self)
        group = backend.deployment_groups[self._get_param("applicationName")][
            self._get_param("deploymentGroupName")
        ]
        group.auto_scaling_groups = list(wanted)
        for asg in wanted:
            install_hook(backend.account_id, backend.region_name, group, asg)
        return result

    def update_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        app = self._get_param("applicationName")
        current = self._get_param("currentDeploymentGroupName")
        wanted = names_param(self)
        group = backend.get_deployment_group(app, current)
        before = asg_names(group)
        if wanted is not None:
            check_asgs_exist(backend.account_id, backend.region_name, wanted)
        result = update(self)
        if wanted is not None:
            group.auto_scaling_groups = list(wanted)
            for asg in before:
                if asg not in wanted:
                    remove_hook(backend.account_id, backend.region_name, group, asg)
            for asg in wanted:
                if asg not in before or asg not in hooks_of(group):
                    install_hook(backend.account_id, backend.region_name, group, asg)
        return result

    def delete_deployment_group(self: Any) -> Any:
        backend = self.codedeploy_backend
        group = backend.deployment_groups.get(self._get_param("applicationName"), {}).get(
            self._get_param("deploymentGroupName")
        )
        if group is not None:
            for asg in list(hooks_of(group)):
                remove_hook(backend.account_id, backend.region_name, group, asg)
        return delete(self)

    def get_deployment_group(self: Any) -> Any:
        result = get_one(self)
        info = result.result.get("deploymentGroupInfo") or {}
        group = self.codedeploy_backend.get_deployment_group(
            info.get("applicationName"), info.get("deploymentGroupName")
        )
        _group_info_hooks(info, group)
        return result

    def batch_get_deployment_groups(self: Any) -> Any:
        result = get_many(self)
        for info in result.result.get("deploymentGroupsInfo") or []:
            group = self.codedeploy_backend.get_deployment_group(
                info.get("applicationName"), info.get("deploymentGroupName")
            )
            _group_info_hooks(info, group)
        return result

    for name, fn in (
        ("create_deployment_group", create_deployment_group),
        ("update_deployment_group", update_deployment_group),
        ("delete_deployment_group", delete_deployment_group),
        ("get_deployment_group", get_deployment_group),
        ("batch_get_deployment_groups", batch_get_deployment_groups),
    ):
        setattr(cls, name, fn)
    autoscaling.on_codedeploy_hook(on_launch)
    cls._sandbox_scaleout = True
