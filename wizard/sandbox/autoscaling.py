"""Amazon EC2 Auto Scaling as the sandbox serves it: lifecycle hooks, suspended processes, launches.

moto keeps Auto Scaling groups, launches their instances and stores lifecycle hooks, but a launched
instance is InService at once, hooks never run, suspended processes change nothing and
CompleteLifecycleAction does not exist. AWS (Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto
Scaling lifecycle hooks", "Suspend and resume Amazon EC2 Auto Scaling processes") behaves like this,
and so does the sandbox after `install()`:

- an instance launched into a group with `autoscaling:EC2_INSTANCE_LAUNCHING` hooks waits in
  `Pending:Wait` until every hook is completed (CompleteLifecycleAction, or HeartbeatTimeout with
  the hook's DefaultResult); CONTINUE makes it `InService` (and only then is it registered with
  the group's target groups), ABANDON terminates it and the group launches a replacement after a
  back-off (the scaling activity says "Instance failed to complete user's Lifecycle Action:
  Lifecycle Action with token … was abandoned: …", as in the CodeDeploy User Guide's
  "Heartbeat Timeout" troubleshooting);
- `Launch` suspended: nothing is launched; `Terminate` suspended: a scale-in terminates nothing;
  `AddToLoadBalancer` suspended: new instances are not registered with the target groups;
- DescribeScalingActivities lists those launches.

CodeDeploy's own launch hook (installed on the group by Create/UpdateDeploymentGroup) is
completed by CodeDeploy when the deployment it starts for the new instance ends: a listener
registered with `on_codedeploy_hook` starts that deployment and tells how to poll it (see
`wizard.sandbox.scaleout`). Time is lazy, as everywhere in the sandbox: `advance()` runs before
every Auto Scaling, ELB and CodeDeploy read that can observe it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
CODEDEPLOY_HOOK_PREFIX = "CodeDeploy-managed-automatic-launch-deployment-hook-"
ACTIVE_STATES = ("InService", "Pending", "Pending:Wait", "Pending:Proceed")
MAX_BACKOFF = 86400.0  # AWS seconds; Auto Scaling backs off repeated failed launches


def _clock() -> Any:
    from wizard.sandbox import clock

    return clock.CLOCK


def _lock() -> Any:
    from wizard.sandbox import clock

    return clock.LOCK


def sandbox_seconds(aws_seconds: float) -> float:
    from wizard.sandbox.elb import sandbox_seconds as scale

    return scale(aws_seconds)


@dataclass
class LifecycleAction:
    """One instance waiting on one launch hook (Pending:Wait)."""

    account: str
    region: str
    group: str
    instance_id: str
    hook: str
    token: str
    started: float
    heartbeat: float  # AWS seconds
    default_result: str
    # set by the CodeDeploy listener: () -> "CONTINUE" | "ABANDON" | None (still running)
    poll: Callable[[], str | None] | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Activity:
    activity_id: str
    group: str
    description: str
    cause: str
    start: datetime
    end: datetime | None = None
    status: str = "InProgress"
    message: str = ""
    instance_id: str = ""

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ActivityId": self.activity_id,
            "AutoScalingGroupName": self.group,
            "Description": self.description,
            "Cause": self.cause,
            "StartTime": self.start,
            "StatusCode": self.status,
            "Progress": 100 if self.end else 50,
        }
        if self.end:
            out["EndTime"] = self.end
        if self.message:
            out["StatusMessage"] = self.message
        return out


ACTIONS: list[LifecycleAction] = []
ACTIVITIES: dict[tuple[str, str, str], list[Activity]] = {}
FAILURES: dict[tuple[str, str, str], int] = {}  # consecutive abandoned launches per group
NEXT_LAUNCH: dict[tuple[str, str, str], float] = {}  # when a group launches replacements again
_LISTENERS: list[Callable[[LifecycleAction, Any], bool]] = []


def on_codedeploy_hook(listener: Callable[[LifecycleAction, Any], bool]) -> None:
    """Register `listener(action, hook)`; it returns True when it took the action over (CodeDeploy
    started a deployment and set `action.poll`), False to leave it (then CONTINUE at once: the
    hook's group has nothing to deploy)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def _now_dt() -> datetime:
    return datetime.now(timezone.utc)


def _backends(account: str, region: str) -> tuple[Any, Any, Any]:
    from moto.autoscaling.models import autoscaling_backends
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import elbv2_backends

    return (
        autoscaling_backends[account][region],
        ec2_backends[account][region],
        elbv2_backends[account][region],
    )


def suspended(group: Any) -> set[str]:
    return {p["ProcessName"] for p in group.suspended_processes}


def launching_hooks(backend: Any, group_name: str) -> list[Any]:
    return [
        h
        for h in backend.lifecycle_hooks.values()
        if h.auto_scaling_group_name == group_name and h.lifecycle_transition == LAUNCHING
    ]


def _activities(account: str, region: str, group: str) -> list[Activity]:
    return ACTIVITIES.setdefault((account, region, group), [])


def _activity_for(action: LifecycleAction) -> Activity | None:
    for a in reversed(_activities(action.account, action.region, action.group)):
        if a.instance_id == action.instance_id:
            return a
    return None


def group_instances(account: str, region: str, names: list[str]) -> list[Any]:
    """The moto EC2 instances InService in the named Auto Scaling groups (what CodeDeploy deploys
    to: "CodeDeploy needs at least one instance to be in the InService state", User Guide)."""
    try:
        backend, _, _ = _backends(account, region)
    except Exception:
        return []
    advance()
    out = []
    for name in names:
        group = backend.autoscaling_groups.get(name)
        if group is None:
            continue
        for st in group.instance_states:
            if st.lifecycle_state == "InService" and st.instance.state == "running":
                out.append(st.instance)
    return out


# ---- launches and their hooks -----------------------------------------------------------------


def _started(group: Any, states: list[Any]) -> None:
    """New instances of `group`: put them in Pending:Wait behind its launch hooks."""
    backend = group.autoscaling_backend
    account, region = backend.account_id, backend.region_name
    hooks = launching_hooks(backend, group.name)
    for st in states:
        activity = Activity(
            str(uuid.uuid4()),
            group.name,
            f"Launching a new EC2 instance: {st.instance.id}",
            f"At {_now_dt():%Y-%m-%dT%H:%M:%SZ} an instance was started in response to a "
            "difference between desired and actual capacity, increasing the capacity to "
            f"{group.desired_capacity}.",
            _now_dt(),
            instance_id=st.instance.id,
        )
        _activities(account, region, group.name).append(activity)
        if not hooks:
            _in_service(account, region, group, st, activity)
            continue
        st.lifecycle_state = "Pending:Wait"
        for hook in hooks:
            action = LifecycleAction(
                account,
                region,
                group.name,
                st.instance.id,
                hook.name,
                str(uuid.uuid4()),
                time.monotonic(),
                float(hook.heartbeat_timeout or 3600),
                hook.default_result or "ABANDON",
            )
            ACTIONS.append(action)
            if hook.name.startswith(CODEDEPLOY_HOOK_PREFIX):
                taken = any(listener(action, hook) for listener in list(_LISTENERS))
                if not taken:
                    # no revision to deploy yet: CodeDeploy lets the launch continue
                    _complete(action, "CONTINUE")


def _in_service(account: str, region: str, group: Any, st: Any, activity: Activity | None) -> None:
    st.lifecycle_state = "InService"
    if activity is not None:
        activity.status, activity.end = "Successful", _now_dt()
    if "AddToLoadBalancer" not in suspended(group):
        _, _, elbv2 = _backends(account, region)
        for arn in group.target_group_arns:
            tg = elbv2.target_groups.get(arn)
            if tg is not None and st.instance.state == "running":
                tg.register([{"Id": st.instance.id, "Port": tg.port}])


def _complete(action: LifecycleAction, result: str, why: str = "") -> None:
    """Complete one lifecycle action; when the instance waits on no other, CONTINUE or ABANDON."""
    if action in ACTIONS:
        ACTIONS.remove(action)
    backend, ec2, elbv2 = _backends(action.account, action.region)
    group = backend.autoscaling_groups.get(action.group)
    if group is None:
        return
    st = next((s for s in group.instance_states if s.instance.id == action.instance_id), None)
    if st is None:
        return
    activity = _activity_for(action)
    if result == "ABANDON":
        for other in [a for a in ACTIONS if a.instance_id == action.instance_id]:
            ACTIONS.remove(other)
        group.instance_states = [s for s in group.instance_states if s is not st]
        if activity is not None:
            activity.status, activity.end = "Cancelled", _now_dt()
            why = why or "Lifecycle Action Completed with ABANDON Result"
            activity.message = (
                "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token "
                f"{action.token} was abandoned: {why}"
            )
        ec2.terminate_instances([action.instance_id])
        elbv2.notify_terminate_instances([action.instance_id])
        key = (action.account, action.region, action.group)
        FAILURES[key] = FAILURES.get(key, 0) + 1
        wait = min(60.0 * (2 ** (FAILURES[key] - 1)), MAX_BACKOFF)
        NEXT_LAUNCH[key] = time.monotonic() + sandbox_seconds(wait)
        return
    if any(a.instance_id == action.instance_id for a in ACTIONS):
        return  # other hooks still hold it
    FAILURES.pop((action.account, action.region, action.group), None)
    _in_service(action.account, action.region, group, st, activity)


def find_action(
    account: str, region: str, group: str, hook: str, token: str | None, instance: str | None
) -> LifecycleAction | None:
    for a in ACTIONS:
        if (a.account, a.region, a.group, a.hook) != (account, region, group, hook):
            continue
        if (token and a.token == token) or (instance and a.instance_id == instance):
            return a
    return None


def advance() -> None:
    """Bring every hook and back-off up to now (lazy time)."""
    if not ACTIONS and not NEXT_LAUNCH:
        return
    with _lock():
        now = time.monotonic()
        for action in list(ACTIONS):
            if action not in ACTIONS:
                continue
            try:
                if action.poll is not None:
                    result = action.poll()
                    if result:
                        _complete(action, result)
                    continue
                if now - action.started >= sandbox_seconds(action.heartbeat):
                    _complete(action, action.default_result, "Heartbeat Timeout")
            except Exception:  # a backend reset under mock_aws leaves stale actions behind
                if action in ACTIONS:
                    ACTIONS.remove(action)
        for key, at in list(NEXT_LAUNCH.items()):
            if now < at:
                continue
            NEXT_LAUNCH.pop(key, None)  # a new failure sets the next one
            account, region, name = key
            try:
                backend, _, _ = _backends(account, region)
            except Exception:
                continue
            group = backend.autoscaling_groups.get(name)
            if group is None:
                continue
            active = [s for s in group.instance_states if s.lifecycle_state in ACTIVE_STATES]
            if len(active) < int(group.desired_capacity or 0) and "Launch" not in suspended(group):
                group.set_desired_capacity(group.desired_capacity)


# ---- install ----------------------------------------------------------------------------------


def install() -> None:
    """Patch moto's autoscaling models and responses (idempotent)."""
    from moto.autoscaling import models as m
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import ActionResult, EmptyResult

    from wizard.sandbox.awserror import AwsError

    cls = m.FakeAutoScalingGroup
    if getattr(cls, "_sandbox_installed", False):
        return
    original_replace = cls.replace_autoscaling_group_instances
    original_set = cls.set_desired_capacity
    original_update_tgs = m.AutoScalingBackend.update_attached_target_groups

    def active_instances(self: Any) -> list[Any]:
        return [s for s in self.instance_states if s.lifecycle_state in ACTIVE_STATES]

    def replace_autoscaling_group_instances(
        self: Any, count_needed: int, propagated_tags: dict[str, str]
    ) -> None:
        if "Launch" in suspended(self):
            return
        from wizard.sandbox import launchtemplates

        # one lock with the deployments: they read the instances this changes (moto is not
        # thread-safe, and the server is threaded)
        with _lock():
            before = {s.instance.id for s in self.instance_states}
            # the version the group names ($Default, $Latest or a number), not the default
            version = getattr(self, "launch_template_version", None)
            token = launchtemplates.launching_version(version)
            try:
                original_replace(self, count_needed, propagated_tags)
            finally:
                launchtemplates.done(token)
            fresh = [s for s in self.instance_states if s.instance.id not in before]
            _started(self, fresh)

    def set_desired_capacity(self: Any, new_capacity: int | None) -> None:
        with _lock():
            if "Terminate" in suspended(self):
                target = self.min_size if new_capacity is None else new_capacity
                if int(target or 0) < len(active_instances(self)):
                    self.desired_capacity = target  # scale-in suspended: nothing terminates
                    return
            original_set(self, new_capacity)

    def update_attached_target_groups(self: Any, group_name: str) -> None:
        with _lock():
            _update_attached_target_groups(self, group_name)

    def _update_attached_target_groups(self: Any, group_name: str) -> None:
        group = self.autoscaling_groups[group_name]
        if "AddToLoadBalancer" in suspended(group) or not group.target_group_arns:
            return
        # Auto Scaling registers an instance once its launch hooks are done (InService)
        waiting = [s for s in group.instance_states if s.lifecycle_state != "InService"]
        kept = group.instance_states
        group.instance_states = [s for s in kept if s not in waiting]
        try:
            original_update_tgs(self, group_name)
        finally:
            group.instance_states = kept

    def complete_lifecycle_action(self: Any) -> Any:
        advance()
        name = self._get_param("AutoScalingGroupName")
        hook = self._get_param("LifecycleHookName")
        result = self._get_param("LifecycleActionResult")
        if result not in ("CONTINUE", "ABANDON"):
            raise AwsError("ValidationError", "LifecycleActionResult must be CONTINUE or ABANDON")
        token = self._get_param("LifecycleActionToken")
        instance = self._get_param("InstanceId")
        with _lock():
            action = find_action(self.current_account, self.region, name, hook, token, instance)
            if action is None:
                raise AwsError(
                    "ValidationError",
                    "No active Lifecycle Action found with "
                    + (f"token {token}" if token else f"instance ID {instance}"),
                )
            _complete(action, result)
        return EmptyResult()

    def record_lifecycle_action_heartbeat(self: Any) -> Any:
        advance()
        name = self._get_param("AutoScalingGroupName")
        hook = self._get_param("LifecycleHookName")
        token = self._get_param("LifecycleActionToken")
        instance = self._get_param("InstanceId")
        with _lock():
            action = find_action(self.current_account, self.region, name, hook, token, instance)
            if action is None:
                raise AwsError(
                    "ValidationError",
                    "No active Lifecycle Action found with "
                    + (f"token {token}" if token else f"instance ID {instance}"),
                )
            action.started = time.monotonic()
        return EmptyResult()

    def describe_scaling_activities(self: Any) -> Any:
        advance()
        name = self._get_param("AutoScalingGroupName")
        out = []
        for (account, region, group), acts in ACTIVITIES.items():
            if (account, region) != (self.current_account, self.region):
                continue
            if name and group != name:
                continue
            out.extend(a.view() for a in acts)
        out.sort(key=lambda a: a["StartTime"], reverse=True)
        return ActionResult({"Activities": out[:100]})

    def advancing(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any) -> Any:
            advance()
            return method(self)

        wrapper.__name__ = method.__name__
        return wrapper

    cls.active_instances = active_instances
    cls.replace_autoscaling_group_instances = replace_autoscaling_group_instances
    cls.set_desired_capacity = set_desired_capacity
    m.AutoScalingBackend.update_attached_target_groups = update_attached_target_groups
    AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action
    AutoScalingResponse.record_lifecycle_action_heartbeat = record_lifecycle_action_heartbeat
    AutoScalingResponse.describe_scaling_activities = describe_scaling_activities
    for name in ("describe_auto_scaling_groups", "describe_auto_scaling_instances"):
        setattr(AutoScalingResponse, name, advancing(getattr(AutoScalingResponse, name)))
    cls._sandbox_installed = True
