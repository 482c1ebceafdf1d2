"""CodeDeploy as the sandbox serves it: moto's backend plus deployments that actually run.

Adds the actions moto lacks (targets, instances, configs, revisions, UpdateDeploymentGroup,
StopDeployment, deletes) and replaces the ones whose answers must move with the simulated clock
(GetDeployment, BatchGetDeployments, CreateDeployment, Create/GetDeploymentGroup). Everything is
installed as methods on `moto.codedeploy.responses.CodeDeployResponse`, so moto's server and
`mock_aws` both serve it; state lives on moto's backend objects.

Time is lazy: every read advances the world to "now" (planning a deployment when it starts,
applying what finished targets left on their instances), so statuses move observably and
deterministically without a background thread.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.codedeploy import responses as cd_responses
from moto.codedeploy.models import codedeploy_backends
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

from wizard.sandbox import fleet, iam_sim
from wizard.sandbox.awserror import AwsError

TARGET_PAGE = 100
BATCH_TARGETS_MAX = 25
BATCH_INSTANCES_MAX = 100
SERVER_CONFIGS = {
    "CodeDeployDefault.AllAtOnce": {"type": "FLEET_PERCENT", "value": 0},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    # what GetDeploymentConfig really returns for OneAtATime (not in botocore's enum)
    "CodeDeployDefault.OneAtATime": {"type": "MOST_CONCURRENCY", "value": 1},
}
LAMBDA_CONFIGS = {
    "CodeDeployDefault.LambdaAllAtOnce": {"type": "AllAtOnce"},
    **{
        f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": {
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": m},
        }
        for m in (5, 10, 15, 30)
    },
    **{
        f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}": {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 10, "linearInterval": m},
        }
        for m in (1, 2, 3, 10)
    },
}
ECS_CONFIGS = {
    "CodeDeployDefault.ECSAllAtOnce": {"type": "AllAtOnce"},
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1},
    },
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3},
    },
    "CodeDeployDefault.ECSCanary10Percent5Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    },
    "CodeDeployDefault.ECSCanary10Percent15Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    },
}
BUILTIN_CREATED = datetime(2014, 11, 12)

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


def err(code: str, message: str) -> AwsError:
    return AwsError(code, message)


# ---- deployment configs -----------------------------------------------------------------


def _config_info(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "deploymentConfigName": name,
        "createTime": spec.get("createTime", BUILTIN_CREATED),
        "computePlatform": spec.get("computePlatform", "Server"),
    }
    if "minimumHealthyHosts" in spec:
        info["minimumHealthyHosts"] = spec["minimumHealthyHosts"]
    if "trafficRoutingConfig" in spec:
        info["trafficRoutingConfig"] = spec["trafficRoutingConfig"]
    if spec.get("zonalConfig"):
        info["zonalConfig"] = spec["zonalConfig"]
    return info


def builtin_configs() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, mhh in SERVER_CONFIGS.items():
        out[name] = {"computePlatform": "Server", "minimumHealthyHosts": mhh}
    for name, trc in LAMBDA_CONFIGS.items():
        out[name] = {"computePlatform": "Lambda", "trafficRoutingConfig": trc}
    for name, trc in ECS_CONFIGS.items():
        out[name] = {"computePlatform": "ECS", "trafficRoutingConfig": trc}
    return out


def _custom_configs(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "_sandbox_configs"):
        backend._sandbox_configs = {}
    return backend._sandbox_configs


def all_configs(backend: Any) -> dict[str, dict[str, Any]]:
    return {**builtin_configs(), **_custom_configs(backend)}


def get_config(backend: Any, name: str | None) -> dict[str, Any]:
    if not name:
        raise err("DeploymentConfigNameRequiredException", "Deployment config name is required.")
    config = all_configs(backend).get(str(name))
    if config is None:
        raise err(
            "DeploymentConfigDoesNotExistException",
            f"The deployment configuration {name} does not exist with the user or AWS account.",
        )
    return config


def min_healthy(config: dict[str, Any], n: int) -> tuple[int, int, bool]:
    """(minimum healthy hosts, batch size, one-at-a-time rule) for a fleet of n instances."""
    mhh = config.get("minimumHealthyHosts") or {"type": "FLEET_PERCENT", "value": 0}
    kind, value = mhh.get("type"), int(mhh.get("value", 0))
    if kind == "MOST_CONCURRENCY":
        return max(n - value, 0), max(value, 1), True
    minimum = value if kind == "HOST_COUNT" else math.ceil(n * value / 100)
    return minimum, max(n - minimum, 1), False


# ---- the run of one deployment ------------------------------------------------------------


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
    planned: bool = False
    targets: dict[str, TargetRun] = field(default_factory=dict)
    final_status: str = "Succeeded"
    error: dict[str, str] | None = None
    end: float = 0.0
    effects: list[tuple[float, Any]] = field(default_factory=list)
    stopped: bool = False

    # -- time --
    def elapsed(self) -> float:
        return time.monotonic() - self.created

    def at(self, offset: float) -> datetime:
        return self.created_dt + timedelta(seconds=offset)

    def tick(self, t: float | None = None) -> float:
        """Advance to `t` (default now): plan when started, apply due effects."""
        t = self.elapsed() if t is None else t
        if not self.planned and t >= fleet.CLOCK.start_delay:
            self.plan()
        if self.effects:
            due = [e for e in self.effects if e[0] <= t]
            self.effects = [e for e in self.effects if e[0] > t]
            for _, fn in sorted(due, key=lambda e: e[0]):
                fn()
        return t

    def status(self, t: float) -> str:
        if not self.planned or t < fleet.CLOCK.start_delay:
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
        self.end = fleet.CLOCK.start_delay

    def plan(self) -> None:
        self.planned = True
        d = self.deployment
        b = self.backend
        start = fleet.CLOCK.start_delay
        self.end = start
        group = d.deployment_group
        account, region = b.account_id, b.region_name
        problem = check_service_role(account, region, group, for_deployment=True)
        if problem is not None:
            self._fail(*problem)
            return
        instances = matched_instances(account, region, group)
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
            for inst in instances:
                self.targets[inst.id] = TargetRun(
                    inst.id,
                    arn + inst.id,
                    start,
                    start,
                    "Skipped",
                    [EventRun(e, start, start, "Skipped", None) for e in fleet.EVENTS],
                )
            self._fail(
                "HEALTH_CONSTRAINTS_INVALID",
                "The deployment failed because the minimum number of healthy instances "
                f"({minimum}) required by the deployment configuration {d.deployment_config_name} "
                f"cannot be met by the {n} instance(s) in the deployment group: CodeDeploy must "
                "be able to take at least one instance offline. Use a deployment configuration "
                "with a lower minimum, or add instances, and then try again.",
            )
            return
        ctx = fleet.DeploymentContext(
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
        )
        failed = succeeded = 0
        t = start
        stop_at: int | None = None
        for b_index in range(0, n, batch):
            chunk = instances[b_index : b_index + batch]
            batch_end = t
            for inst in chunk:
                ctx.started = self.at(t)
                outcome = fleet.plan_target(ctx, inst)
                events, cursor = [], t
                for ev in outcome.events:
                    if ev.status == "Skipped":
                        events.append(EventRun(ev.name, -1, -1, "Skipped", None))
                        continue
                    events.append(
                        EventRun(ev.name, cursor, cursor + ev.duration, ev.status, ev.diagnostics)
                    )
                    cursor += ev.duration
                for ev_run in events:
                    if ev_run.start < 0:
                        ev_run.start = ev_run.end = cursor
                self.targets[inst.id] = TargetRun(
                    inst.id, arn + inst.id, t, cursor, outcome.status, events
                )
                for fn in outcome.effects:
                    self.effects.append((cursor, fn))
                batch_end = max(batch_end, cursor)
                if outcome.status == "Succeeded":
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
            for inst in instances[stop_at:]:
                self.targets[inst.id] = TargetRun(
                    inst.id,
                    arn + inst.id,
                    t,
                    t,
                    "Skipped",
                    [EventRun(e, t, t, "Skipped", None) for e in fleet.EVENTS],
                )
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

    def stop(self, t: float) -> None:
        self.tick(t)
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


ACTIVE: list[DeploymentRun] = []


def advance_all() -> None:
    """Bring every running deployment up to now (plans, filesystem effects)."""
    with fleet.LOCK:
        keep = []
        for run in ACTIVE:
            try:
                t = run.tick()
            except Exception:  # a backend reset under mock_aws leaves stale runs behind
                continue
            if not run.finished(t):
                keep.append(run)
        ACTIVE[:] = keep


def run_of(deployment: Any, backend: Any) -> DeploymentRun:
    """The simulated run of a moto deployment (created on first sight, kept on the object)."""
    with fleet.LOCK:
        run = getattr(deployment, "_sandbox_run", None)
        if run is None:
            run = DeploymentRun(backend, deployment)
            deployment._sandbox_run = run
            ACTIVE.append(run)
        return run


# ---- service role and instance matching ---------------------------------------------------


def check_service_role(
    account: str, region: str, group: Any, *, for_deployment: bool
) -> tuple[str, str] | None:
    """(error code, message) when CodeDeploy could not use the group's service role."""
    role_arn = group.service_role_arn if not isinstance(group, str) else group
    app = group.application.application_name if not isinstance(group, str) else "*"
    name = group.deployment_group_name if not isinstance(group, str) else "*"
    return _role_problem(account, region, role_arn, app, name, for_deployment=for_deployment)


def _role_problem(
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
    """Running instances the group's tag filters select, in a stable order."""
    from moto.ec2.models import ec2_backends

    filters = group.ec2_tag_filters or []
    tag_set = (group.ec2_tag_set or {}).get("ec2TagSetList") or []
    if not filters and not tag_set:
        return []
    out = []
    for inst in ec2_backends[account][region].all_instances():
        if inst.state != "running":
            continue
        tags = fleet.instance_tags(inst)
        if filters and not any(_tag_match(f, tags) for f in filters):
            continue
        if tag_set and not all(any(_tag_match(f, tags) for f in grp) for grp in tag_set if grp):
            continue
        out.append(inst)
    out.sort(key=lambda i: i.id)
    return out


# ---- revisions ----------------------------------------------------------------------------


@dataclass
class RevisionRecord:
    revision: dict[str, Any]
    description: str = ""
    register_time: datetime = field(default_factory=utcnow)
    first_used: datetime | None = None
    last_used: datetime | None = None
    groups: list[str] = field(default_factory=list)


def _revisions(backend: Any, app: str) -> dict[str, RevisionRecord]:
    if not hasattr(backend, "_sandbox_revisions"):
        backend._sandbox_revisions = {}
    return backend._sandbox_revisions.setdefault(app, {})


def _rev_key(revision: dict[str, Any]) -> str:
    kind = revision.get("revisionType") or "S3"
    if kind == "S3":
        loc = revision.get("s3Location") or {}
        return json.dumps(
            [
                "S3",
                loc.get("bucket"),
                loc.get("key"),
                loc.get("bundleType"),
                loc.get("version"),
                (loc.get("eTag") or "").strip('"') or None,
            ]
        )
    if kind == "GitHub":
        loc = revision.get("gitHubLocation") or {}
        return json.dumps(["GitHub", loc.get("repository"), loc.get("commitId")])
    return json.dumps([kind, json.dumps(revision, sort_keys=True, default=str)])


def _validate_revision(revision: Any) -> dict[str, Any]:
    if not revision:
        raise err("RevisionRequiredException", "The revision ID was not specified.")
    kind = revision.get("revisionType")
    if kind not in ("S3", "GitHub", "String", "AppSpecContent"):
        raise err("InvalidRevisionException", "The revision was specified in an invalid format.")
    if kind == "S3":
        loc = revision.get("s3Location") or {}
        if not loc.get("bucket") or not loc.get("key"):
            raise err(
                "InvalidRevisionException",
                "The revision was specified in an invalid format: the S3 location needs a "
                "bucket and a key.",
            )
        if loc.get("bundleType") and loc["bundleType"] not in ("tar", "tgz", "zip", "YAML", "JSON"):
            raise err("InvalidRevisionException", f"Invalid bundle type: {loc['bundleType']}")
    return revision


def register_revision(
    backend: Any, app: str, revision: dict[str, Any], description: str = "", group: str = ""
) -> RevisionRecord:
    store = _revisions(backend, app)
    key = _rev_key(revision)
    rec = store.get(key)
    if rec is None:
        rec = RevisionRecord(revision=revision, description=description or "")
        store[key] = rec
    elif description:
        rec.description = description
    if group:
        now = utcnow()
        rec.first_used = rec.first_used or now
        rec.last_used = now
        if group not in rec.groups:
            rec.groups.append(group)
    return rec


def _find_revision(backend: Any, app: str, revision: dict[str, Any]) -> RevisionRecord | None:
    store = _revisions(backend, app)
    rec = store.get(_rev_key(revision))
    if rec is not None:
        return rec
    if (revision.get("revisionType") or "S3") == "S3":
        want = revision.get("s3Location") or {}
        for candidate in store.values():
            loc = candidate.revision.get("s3Location") or {}
            if (loc.get("bucket"), loc.get("key")) != (want.get("bucket"), want.get("key")):
                continue
            if want.get("version") and want["version"] != loc.get("version"):
                continue
            if want.get("eTag") and (want["eTag"].strip('"') != (loc.get("eTag") or "").strip('"')):
                continue
            return candidate
    return None


def _revision_info(rec: RevisionRecord) -> dict[str, Any]:
    info: dict[str, Any] = {
        "description": rec.description,
        "deploymentGroups": list(rec.groups),
        "registerTime": rec.register_time,
    }
    if rec.first_used:
        info["firstUsedTime"] = rec.first_used
        info["lastUsedTime"] = rec.last_used
    return info


# ---- helpers for the handlers ---------------------------------------------------------------


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
    with fleet.LOCK:
        t = run.tick()
    return d, run, t


def deployment_info(d: Any, backend: Any) -> dict[str, Any]:
    """moto's DeploymentInfo shape, with the simulated status filled in."""
    run = run_of(d, backend)
    with fleet.LOCK:
        t = run.tick()
        info = cd_responses._deployment_info(d)
        status = run.status(t)
        info["status"] = status
        info["deploymentOverview"] = run.overview(t)
        info["fileExistsBehavior"] = d.file_exists_behavior or "DISALLOW"
        info["createTime"] = run.created_dt
        if status != "Created":
            info["startTime"] = run.at(fleet.CLOCK.start_delay)
        if status in ("Succeeded", "Failed", "Stopped"):
            info["completeTime"] = run.at(run.end)
            if run.error:
                info["errorInformation"] = dict(run.error)
        if getattr(d, "_sandbox_previous", None):
            info["previousRevision"] = d._sandbox_previous
        for key in ("errorInformation", "previousRevision", "rollbackInfo", "relatedDeployments"):
            if not info.get(key):
                info.pop(key, None)
        if not info.get("deploymentStatusMessages"):
            info.pop("deploymentStatusMessages", None)
        info["instanceTerminationWaitTimeStarted"] = False
        return info


def _paginate(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise err(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            ) from None
        if start < 0 or start > len(items):
            raise err(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            )
    page = items[start : start + size]
    nxt = str(start + size) if start + size < len(items) else None
    return page, nxt


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
        with fleet.LOCK:
            status = run.status(run.tick())
        if statuses and status not in statuses:
            continue
        out.append((run.created, i))
    # newest first, as the real service lists them
    out.sort(reverse=True)
    page, nxt = _paginate([i for _, i in out], self._get_param("nextToken"), 100)
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
    previous = _last_good_revision(backend, group)
    revision = _validate_revision(self._get_param("revision") or previous)
    config_name = self._get_param("deploymentConfigName")
    if config_name:
        get_config(backend, config_name)
    feb = self._get_param("fileExistsBehavior")
    if feb and feb not in ("DISALLOW", "OVERWRITE", "RETAIN"):
        raise err("InvalidFileExistsBehaviorException", f"Invalid fileExistsBehavior: {feb}")
    description = self._get_param("description")
    if description and len(description) > 1024:
        raise err("DescriptionTooLongException", "The description is too long.")
    with fleet.LOCK:
        for other in backend.deployments.values():
            if other.deployment_group is group:
                run = run_of(other, backend)
                if run.status(run.tick()) in ACTIVE_STATUSES:
                    raise err(
                        "DeploymentLimitExceededException",
                        f"The deployment group {group_name} already has an active deployment "
                        f"{other.deployment_id}.",
                    )
        original = backend.create_deployment(
            application_name=app,
            deployment_group_name=group_name,
            revision=revision,
            deployment_config_name=config_name,
            description=description,
            ignore_application_stop_failures=self._get_bool_param("ignoreApplicationStopFailures"),
            target_instances=self._get_param("targetInstances"),
            auto_rollback_configuration=self._get_param("autoRollbackConfiguration"),
            update_outdated_instances_only=self._get_bool_param("updateOutdatedInstancesOnly"),
            file_exists_behavior=feb,
            override_alarm_configuration=self._get_param("overrideAlarmConfiguration"),
        )
        d = backend.deployments.pop(original)
        d.deployment_id = _new_deployment_id(backend)
        d.creator = "user"
        d._sandbox_previous = previous
        backend.deployments[d.deployment_id] = d
        run_of(d, backend)
        register_revision(backend, app, revision, group=group_name)
        group._sandbox_last_attempted = d.deployment_id
    return ActionResult({"deploymentId": d.deployment_id})


def _last_good_revision(backend: Any, group: Any) -> dict[str, Any] | None:
    """Without a revision, CodeDeploy redeploys the group's target (last successful) revision."""
    best = None
    for d in backend.deployments.values():
        if d.deployment_group is not group:
            continue
        run = run_of(d, backend)
        with fleet.LOCK:
            if run.status(run.tick()) == "Succeeded" and (best is None or run.created > best[0]):
                best = (run.created, d.revision)
    return best[1] if best else None


def stop_deployment(self: Any) -> ActionResult:
    d, run, t = _deployment(self)
    with fleet.LOCK:
        if run.status(t) not in ACTIVE_STATUSES:
            raise err(
                "DeploymentAlreadyCompletedException",
                f"The deployment {d.deployment_id} has already completed.",
            )
        run.stop(t)
    return ActionResult({"status": "Succeeded", "statusMessage": "Deployment stopped"})


def _target_ids_page(
    self: Any, run: DeploymentRun, t: float, wanted: list[str], skip: bool, key: str
) -> ActionResult:
    """One page of the deployment's target ids with one of `wanted` statuses (all when empty)."""
    ids: list[str] = []
    if not skip:
        with fleet.LOCK:
            ids = [
                tid
                for tid, target in run.targets.items()
                if not wanted or run.target_status(target, t) in wanted
            ]
    page, nxt = _paginate(ids, self._get_param("nextToken"), TARGET_PAGE)
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
    with fleet.LOCK:
        out = [run.target_view(_lookup_target(run, i), t) for i in ids]
    return ActionResult({"deploymentTargets": out})


def get_deployment_target(self: Any) -> ActionResult:
    target_id = self._get_param("targetId")
    if not target_id:
        raise err("DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
    _, run, t = _deployment(self)
    with fleet.LOCK:
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
    with fleet.LOCK:
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
    with fleet.LOCK:
        target = run.targets.get(instance_id)
        if target is None:
            raise err(
                "InstanceDoesNotExistException",
                f"The instance {instance_id} is not part of the deployment.",
            )
        view = run.instance_view(target, t)
    return ActionResult({"instanceSummary": view})


def list_deployment_configs(self: Any) -> ActionResult:
    names = sorted(all_configs(self.codedeploy_backend))
    page, nxt = _paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"deploymentConfigsList": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def get_deployment_config(self: Any) -> ActionResult:
    name = self._get_param("deploymentConfigName")
    config = get_config(self.codedeploy_backend, name)
    return ActionResult({"deploymentConfigInfo": _config_info(name, config)})


def create_deployment_config(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    name = self._get_param("deploymentConfigName")
    if not name:
        raise err(
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name was not specified.",
        )
    if name.startswith("CodeDeployDefault.") or name in all_configs(backend):
        if name in all_configs(backend):
            raise err(
                "DeploymentConfigAlreadyExistsException",
                f"A deployment configuration with the name {name} already exists.",
            )
        raise err(
            "InvalidDeploymentConfigNameException",
            f"The deployment configuration name {name} is reserved.",
        )
    platform = self._get_param("computePlatform") or "Server"
    mhh = self._get_param("minimumHealthyHosts")
    spec: dict[str, Any] = {"computePlatform": platform, "createTime": utcnow()}
    if platform == "Server":
        if not mhh or mhh.get("type") not in ("HOST_COUNT", "FLEET_PERCENT"):
            raise err(
                "InvalidMinimumHealthyHostValueException",
                "The minimum healthy instance value was specified in an invalid format.",
            )
        value = int(mhh.get("value", 0))
        if value < 0 or (mhh["type"] == "FLEET_PERCENT" and value > 99):
            raise err(
                "InvalidMinimumHealthyHostValueException",
                "The minimum healthy instance value was specified in an invalid format.",
            )
        spec["minimumHealthyHosts"] = {"type": mhh["type"], "value": value}
    else:
        spec["trafficRoutingConfig"] = self._get_param("trafficRoutingConfig") or {
            "type": "AllAtOnce"
        }
    if self._get_param("zonalConfig"):
        spec["zonalConfig"] = self._get_param("zonalConfig")
    _custom_configs(backend)[name] = spec
    return ActionResult({"deploymentConfigId": _config_info(name, spec)["deploymentConfigId"]})


def delete_deployment_config(self: Any) -> EmptyResult:
    backend = self.codedeploy_backend
    name = self._get_param("deploymentConfigName")
    if not name:
        raise err(
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name was not specified.",
        )
    if name in builtin_configs():
        raise err(
            "InvalidOperationException", "A predefined deployment configuration cannot be deleted."
        )
    for groups in backend.deployment_groups.values():
        for g in groups.values():
            if str(g.deployment_config_name) == name:
                raise err(
                    "DeploymentConfigInUseException",
                    f"The deployment configuration {name} is in use.",
                )
    _custom_configs(backend).pop(name, None)
    return EmptyResult()


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
        with fleet.LOCK:
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
            with fleet.LOCK:
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
        problem = _role_problem(
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


def _app_required(self: Any) -> str:
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
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
    return app


def register_application_revision(self: Any) -> EmptyResult:
    app = _app_required(self)
    revision = _validate_revision(self._get_param("revision"))
    description = self._get_param("description") or ""
    if len(description) > 1024:
        raise err("DescriptionTooLongException", "The description is too long.")
    register_revision(self.codedeploy_backend, app, revision, description)
    return EmptyResult()


def get_application_revision(self: Any) -> ActionResult:
    app = _app_required(self)
    revision = _validate_revision(self._get_param("revision"))
    rec = _find_revision(self.codedeploy_backend, app, revision)
    if rec is None:
        raise err(
            "RevisionDoesNotExistException",
            "The named revision does not exist with the user or AWS account.",
        )
    return ActionResult(
        {"applicationName": app, "revision": rec.revision, "revisionInfo": _revision_info(rec)}
    )


def batch_get_application_revisions(self: Any) -> ActionResult:
    app = _app_required(self)
    revisions = self._get_param("revisions") or []
    if not revisions:
        raise err("RevisionRequiredException", "The revision ID was not specified.")
    if len(revisions) > 25:
        raise err(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (25) was exceeded.",
        )
    out, missing = [], 0
    for revision in revisions:
        rec = _find_revision(self.codedeploy_backend, app, revision)
        if rec is None:
            missing += 1
        else:
            out.append(
                {"revisionLocation": rec.revision, "genericRevisionInfo": _revision_info(rec)}
            )
    result: dict[str, Any] = {"applicationName": app, "revisions": out}
    if missing:
        result["errorMessage"] = f"{missing} revision(s) not found"
    return ActionResult(result)


def list_application_revisions(self: Any) -> ActionResult:
    app = _app_required(self)
    bucket = self._get_param("s3Bucket")
    prefix = self._get_param("s3KeyPrefix")
    deployed = self._get_param("deployed") or "ignore"
    sort_by = self._get_param("sortBy")
    order = self._get_param("sortOrder") or "ascending"
    if prefix and not bucket:
        raise err(
            "BucketNameFilterRequiredException",
            "A bucket name is required if a key prefix is specified.",
        )
    recs = list(_revisions(self.codedeploy_backend, app).values())
    if bucket:
        recs = [r for r in recs if (r.revision.get("s3Location") or {}).get("bucket") == bucket]
    if prefix:
        recs = [
            r
            for r in recs
            if ((r.revision.get("s3Location") or {}).get("key") or "").startswith(prefix)
        ]
    if deployed == "include":
        recs = [r for r in recs if r.groups]
    elif deployed == "exclude":
        recs = [r for r in recs if not r.groups]
    if sort_by:
        attr = {
            "registerTime": "register_time",
            "firstUsedTime": "first_used",
            "lastUsedTime": "last_used",
        }.get(sort_by, "register_time")
        recs.sort(key=lambda r: getattr(r, attr) or datetime.min, reverse=order == "descending")
    page, nxt = _paginate([r.revision for r in recs], self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"revisions": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


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
    page, nxt = _paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"applications": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def list_deployment_groups(self: Any) -> ActionResult:
    app = _app_required(self)
    names = sorted(self.codedeploy_backend.deployment_groups.get(app, {}))
    page, nxt = _paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"applicationName": app, "deploymentGroups": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


HANDLERS = {
    "create_application": create_application,
    "list_applications": list_applications,
    "list_deployment_groups": list_deployment_groups,
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
    "list_deployment_configs": list_deployment_configs,
    "get_deployment_config": get_deployment_config,
    "create_deployment_config": create_deployment_config,
    "delete_deployment_config": delete_deployment_config,
    "get_deployment_group": get_deployment_group,
    "batch_get_deployment_groups": batch_get_deployment_groups,
    "create_deployment_group": create_deployment_group,
    "update_deployment_group": update_deployment_group,
    "delete_deployment_group": delete_deployment_group,
    "delete_application": delete_application,
    "register_application_revision": register_application_revision,
    "get_application_revision": get_application_revision,
    "batch_get_application_revisions": batch_get_application_revisions,
    "list_application_revisions": list_application_revisions,
}


def install() -> None:
    """Put the handlers on moto's CodeDeployResponse (idempotent)."""
    cls = cd_responses.CodeDeployResponse
    for name, fn in HANDLERS.items():
        setattr(cls, name, fn)


def backends_for(account: str, region: str) -> Any:
    return codedeploy_backends[account][region]
