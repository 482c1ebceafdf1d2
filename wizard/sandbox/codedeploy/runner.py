"""The lifecycle runner: the simulated life of one deployment on the compressed clock.

`DeploymentRun.plan()` decides, when the deployment starts, what happens to every target: it
picks the instances (`targeting`), cuts them into batches by the deployment configuration's
minimum healthy hosts, asks each instance's agent (`fleet.lifecycle.plan_target`) how every
lifecycle event goes, and lays the events out on the clock. Reads (`status`, `overview`,
`target_view`) show the deployment as it stands at time `t`; effects that finished targets leave
on their instances (installed files, the agent's record of the install) apply when their time
comes (`tick`). Time is lazy: every API read advances the world to "now", so statuses move
observably and deterministically without a background thread.

Traffic control (a load balancer in the deployment group) plugs in through
`codedeploy.traffic.control_for`: the runner hands what it returns to every agent's context, and
`fleet.lifecycle` then runs BeforeBlockTraffic/BlockTraffic/AfterBlockTraffic before
ApplicationStop and BeforeAllowTraffic/AllowTraffic/AfterAllowTraffic after ValidateService.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.core.utils import utcnow

from wizard.sandbox import clock
from wizard.sandbox.awserror import AwsError
from wizard.sandbox.codedeploy import traffic
from wizard.sandbox.codedeploy.configs import builtin_configs, get_config, min_healthy
from wizard.sandbox.codedeploy.targeting import check_service_role, matched_instances
from wizard.sandbox.fleet import lifecycle
from wizard.sandbox.fleet.context import DeploymentContext

MSG_HEALTH = (
    "The overall deployment failed because too many individual instances failed deployment, too "
    "few healthy instances are available for deployment, or some instances in your deployment "
    "group are experiencing problems."
)
MSG_NO_INSTANCES = (
    "The deployment failed because no instances were found for your deployment group. Check "
    "your deployment group settings to make sure the tags for your Amazon EC2 instances or Auto "
    "Scaling groups correctly identify the instances you want to deploy to, and then try again."
)
ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")


@dataclass
class EventRun:
    name: str
    start: float
    end: float
    status: str
    diagnostics: dict[str, str] | None


@dataclass
class TargetRun:
    instance_id: str
    arn: str
    start: float
    end: float
    status: str
    events: list[EventRun]


@dataclass
class DeploymentRun:
    """The simulated life of one deployment; offsets are seconds since creation."""

    backend: Any
    deployment: Any
    created: float = field(default_factory=time.monotonic)
    created_dt: datetime = field(default_factory=utcnow)
    # when it starts, on the clock it was created under (a later clock does not move it)
    start_delay: float = field(default_factory=lambda: clock.CLOCK.start_delay)
    planned: bool = False
    targets: dict[str, TargetRun] = field(default_factory=dict)
    final_status: str = "Succeeded"
    error: dict[str, str] | None = None
    end: float = 0.0
    effects: list[tuple[float, Any]] = field(default_factory=list)
    stopped: bool = False
    rollback_requested: bool = False  # StopDeployment with autoRollbackEnabled
    rollback_info: dict[str, str] | None = None  # RollbackInfo, once there is one
    settled: bool = False  # what follows the end (an automatic rollback) has been decided
    began: bool = False  # it reached InProgress (a deployment stopped while Created never does)

    # -- time --
    def elapsed(self) -> float:
        return time.monotonic() - self.created

    def at(self, offset: float) -> datetime:
        return self.created_dt + timedelta(seconds=offset)

    def tick(self, t: float | None = None) -> float:
        """Advance to `t` (default now): plan when started, apply due effects."""
        t = self.elapsed() if t is None else t
        if not self.planned and t >= self.start_delay:
            self.plan()
        if self.effects:
            due = [e for e in self.effects if e[0] <= t]
            self.effects = [e for e in self.effects if e[0] > t]
            for at, fn in sorted(due, key=lambda e: e[0]):
                # an effect that needs its own time (a load balancer's clock) gets the
                # monotonic time it was due, however late the read that applies it comes
                timed = getattr(fn, "at_time", None)
                if timed is not None:
                    timed(self.created + at)
                else:
                    fn()
        if not self.settled and self.finished(t):
            self.settled = True
            from wizard.sandbox.codedeploy import rollback

            rollback.after(self)
        return t

    def status(self, t: float) -> str:
        if self.stopped and t >= self.end:
            return self.final_status
        if not self.planned or t < self.start_delay:
            return "Created"
        if t >= self.end:
            return self.final_status
        return "InProgress"

    def finished(self, t: float) -> bool:
        return self.planned and t >= self.end and not self.effects

    # -- planning --
    def _fail(self, code: str, message: str) -> None:
        self.final_status = "Failed"
        self.error = {"code": code, "message": message}
        self.end = self.start_delay

    def plan(self) -> None:
        self.planned = True
        self.began = True
        d = self.deployment
        b = self.backend
        start = self.start_delay
        self.end = start
        group = d.deployment_group
        account, region = b.account_id, b.region_name
        problem = check_service_role(account, region, group, for_deployment=True)
        if problem is not None:
            self._fail(*problem)
            return
        instances = _instances_for(account, region, d, group)
        if not instances:
            self._fail("NO_INSTANCES", MSG_NO_INSTANCES)
            return
        try:
            config = get_config(b, str(d.deployment_config_name))
        except AwsError:
            config = builtin_configs()["CodeDeployDefault.OneAtATime"]
        n = len(instances)
        minimum, batch, one_at_a_time = min_healthy(config, n)
        arn = f"arn:aws:ec2:{region}:{account}:instance/"
        if not one_at_a_time and minimum >= n and not (minimum == 0 and n == 0):
            with_traffic = traffic.with_traffic_control(group)
            self._skip(instances, arn, start, lifecycle.events_for(with_traffic))
            self._fail(
                "HEALTH_CONSTRAINTS_INVALID",
                "The deployment failed because the minimum number of healthy instances "
                f"({minimum}) required by the deployment configuration {d.deployment_config_name} "
                f"cannot be met by the {n} instance(s) in the deployment group: CodeDeploy must "
                "be able to take at least one instance offline. Use a deployment configuration "
                "with a lower minimum, or add instances, and then try again.",
            )
            return
        ctx = DeploymentContext(
            account=account,
            region=region,
            deployment_id=d.deployment_id,
            group_id=group.deployment_group_id,
            application=d.application_name,
            group_name=d.deployment_group_name,
            revision=d.revision or {},
            file_exists_behavior=d.file_exists_behavior,
            ignore_stop_failures=bool(d.ignore_application_stop_failures),
            started=self.at(start),
            traffic=traffic.control_for(account, region, group),
        )
        names = lifecycle.events_for(ctx.traffic is not None)
        failed = succeeded = 0
        t = start
        stop_at: int | None = None
        for b_index in range(0, n, batch):
            chunk = instances[b_index : b_index + batch]
            batch_end = t
            for inst in chunk:
                ctx.started = self.at(t)
                target = self._schedule(arn + inst.id, inst.id, t, lifecycle.plan_target(ctx, inst))
                batch_end = max(batch_end, target.end)
                if target.status == "Succeeded":
                    succeeded += 1
                else:
                    failed += 1
            t = batch_end
            done = b_index + len(chunk)
            if done < n:
                if one_at_a_time and failed:
                    stop_at = done
                    break
                # taking the next batch offline must leave the minimum healthy
                following = min(batch, n - done)
                if not one_at_a_time and succeeded + (n - done) - following < minimum:
                    stop_at = done
                    break
        if stop_at is not None:
            self._skip(instances[stop_at:], arn, t, names)
        self.end = t
        if one_at_a_time:
            last = self.targets[instances[-1].id]
            ok = stop_at is None and (failed == 0 or (failed == 1 and last.status == "Failed"))
            ok = ok and (succeeded >= 1)
        else:
            ok = stop_at is None and succeeded >= max(minimum, 1)
        if ok:
            self.final_status = "Succeeded"
        else:
            self.final_status = "Failed"
            self.error = {"code": "HEALTH_CONSTRAINTS", "message": MSG_HEALTH}

    def _schedule(self, arn: str, instance_id: str, t: float, outcome: Any) -> TargetRun:
        """Lay one target's events (a `fleet.context.TargetOutcome`) on the clock from `t`."""
        events, cursor = [], t + getattr(outcome, "delay", 0.0)
        for ev in outcome.events:
            if ev.status == "Skipped":
                events.append(EventRun(ev.name, -1, -1, "Skipped", None))
                continue
            events.append(
                EventRun(ev.name, cursor, cursor + ev.duration, ev.status, ev.diagnostics)
            )
            for fn in ev.start_effects:
                self.effects.append((cursor, fn))
            cursor += ev.duration
            for fn in ev.effects:
                self.effects.append((cursor, fn))
        for ev_run in events:
            if ev_run.start < 0:
                ev_run.start = ev_run.end = cursor
        target = TargetRun(instance_id, arn, t, cursor, outcome.status, events)
        self.targets[instance_id] = target
        for fn in outcome.effects:
            self.effects.append((cursor, fn))
        return target

    def _skip(self, instances: list[Any], arn: str, t: float, names: tuple[str, ...]) -> None:
        """Targets CodeDeploy never deployed to: Skipped, every event Skipped, at time `t`."""
        for inst in instances:
            self.targets[inst.id] = TargetRun(
                inst.id,
                arn + inst.id,
                t,
                t,
                "Skipped",
                [EventRun(e, t, t, "Skipped", None) for e in names],
            )

    def stop(self, t: float, roll_back: bool = False) -> None:
        """StopDeployment at `t`: unfinished targets stop where they are; a deployment that has
        not started yet (Created) stops with no target (StopDeployment, API reference)."""
        self.rollback_requested = roll_back
        if self.planned or t >= self.start_delay:
            self.tick(t)  # what happened before the stop
        else:
            self.planned = True  # it never starts
        self.stopped = True
        self.final_status = "Stopped"
        self.error = {"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."}
        self.effects = [e for e in self.effects if e[0] <= t]
        for target in self.targets.values():
            if target.end > t:
                target.end = t
                target.status = "Skipped" if target.start >= t else "Failed"
                for ev in target.events:
                    if ev.end > t:
                        ev.start = ev.end = t
                        ev.status = "Skipped"
        self.end = t

    # -- views --
    def target_status(self, target: TargetRun, t: float) -> str:
        if t < target.start or not self.planned:
            return "Pending"
        if t < target.end:
            return "InProgress"
        return target.status

    def overview(self, t: float) -> dict[str, int]:
        counts = {
            k: 0 for k in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
        }
        for target in self.targets.values():
            counts[self.target_status(target, t)] += 1
        return counts

    def events_view(self, target: TargetRun, t: float) -> list[dict[str, Any]]:
        out = []
        for ev in target.events:
            item: dict[str, Any] = {"lifecycleEventName": ev.name}
            if t < ev.start or (ev.status == "Skipped" and t < ev.end):
                item["status"] = "Pending"
            elif t < ev.end:
                item["status"] = "InProgress"
                item["startTime"] = self.at(ev.start)
            else:
                item["status"] = ev.status
                if ev.status != "Skipped":
                    item["startTime"] = self.at(ev.start)
                    item["endTime"] = self.at(ev.end)
                    if ev.diagnostics:
                        item["diagnostics"] = dict(ev.diagnostics)
            out.append(item)
        return out

    def last_updated(self, target: TargetRun, t: float) -> datetime:
        marks = [0.0] + [p for ev in target.events for p in (ev.start, ev.end) if p <= t]
        return self.at(max(marks))

    def target_view(self, target: TargetRun, t: float) -> dict[str, Any]:
        return {
            "deploymentTargetType": "InstanceTarget",
            "instanceTarget": {
                "deploymentId": self.deployment.deployment_id,
                "targetId": target.instance_id,
                "targetArn": target.arn,
                "status": self.target_status(target, t),
                "lastUpdatedAt": self.last_updated(target, t),
                "lifecycleEvents": self.events_view(target, t),
            },
        }

    def instance_view(self, target: TargetRun, t: float) -> dict[str, Any]:
        return {
            "deploymentId": self.deployment.deployment_id,
            "instanceId": target.arn,
            "status": self.target_status(target, t),
            "lastUpdatedAt": self.last_updated(target, t),
            "lifecycleEvents": self.events_view(target, t),
        }


def _instances_for(account: str, region: str, deployment: Any, group: Any) -> list[Any]:
    """The instances a deployment reaches: a scale-out deployment's new instance(s) (see
    `wizard.sandbox.scaleout`), else every instance the group matches."""
    from wizard.sandbox import scaleout

    wanted = scaleout.targets_of(deployment)
    if wanted is None:
        return matched_instances(account, region, group)
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    found = [ec2.get_instance_by_id(i) for i in wanted]
    return [i for i in found if i is not None and i.state == "running"]


ACTIVE: list[DeploymentRun] = []


def advance_all() -> None:
    """Bring every running deployment up to now (plans, filesystem effects)."""
    with clock.LOCK:
        done = set()
        for run in list(ACTIVE):  # a run that ends may start another (a rollback)
            try:
                t = run.tick()
            except Exception:  # a backend reset under mock_aws leaves stale runs behind
                done.add(id(run))
                continue
            if run.finished(t) and run.settled:
                done.add(id(run))
        ACTIVE[:] = [run for run in ACTIVE if id(run) not in done]


def run_of(deployment: Any, backend: Any) -> DeploymentRun:
    """The simulated run of a moto deployment (created on first sight, kept on the object)."""
    with clock.LOCK:
        run = getattr(deployment, "_sandbox_run", None)
        if run is None:
            run = DeploymentRun(backend, deployment)
            deployment._sandbox_run = run
            ACTIVE.append(run)
        return run
