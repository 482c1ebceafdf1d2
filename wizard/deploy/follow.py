"""Follow a deployment: poll it and its targets, report each state change once.

Polling: GetDeployment every tick; ListDeploymentTargets until every target the deployment
overview counts is known; BatchGetDeploymentTargets (25 ids per call, the API's limit) only for
targets not yet finished, so a fleet of thousands costs calls in proportion to what still moves.
The interval starts short and backs off by half while nothing changes (AWS: 2 s up to 10 s;
sandbox: 0.2 s up to 1 s), and snaps back on any change. botocore's standard retry mode absorbs
throttling.

Events: one `FollowEvent` per change: the deployment's status, a target's status, or one
lifecycle event of one target (Pending is the starting state and is not reported). On a failed
lifecycle event the event carries the agent's diagnostics (error code, script, message, log tail).

Traffic control: with `deploymentStyle` WITH_TRAFFIC_CONTROL a target's lifecycle includes
BlockTraffic (CodeDeploy deregisters the instance from the target groups and waits out their
deregistration delay) and AllowTraffic (it registers the instance again and waits until the target
is healthy); their events name the target groups (`loadBalancerInfo` of GetDeployment) and each
target's `traffic` says where it stands ("CodeDeploy user guide: Integrating CodeDeploy with
Elastic Load Balancing").

Rollbacks: when a deployment ends Failed (or Stopped) and automatic rollback is enabled for that
event, CodeDeploy redeploys the last successful revision in a new deployment (creator
`codeDeployRollback`) and names it in the original's `rollbackInfo.rollbackDeploymentId`. `follow`
waits a moment for it, reports "rolling back to <revision> in d-…", follows it like the original
(its events carry `rollback_of`) and ends with "rolled back to <revision> in d-…" or how the
rollback ended; it still returns the original's status.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from wizard.aws import AwsContext

TERMINAL = frozenset({"Succeeded", "Failed", "Stopped"})
TARGET_DONE = frozenset({"Succeeded", "Failed", "Skipped"})
BATCH = 25
TRAFFIC_EVENTS = ("BlockTraffic", "AllowTraffic")
# how long a failed deployment with automatic rollback may take to name its rollback deployment
ROLLBACK_GRACE = {"aws": 60.0, "sandbox": 3.0}
_ROLLBACK_EVENT = {"Failed": "DEPLOYMENT_FAILURE", "Stopped": "DEPLOYMENT_STOP_ON_REQUEST"}


@dataclass
class LifecycleState:
    name: str
    status: str = "Pending"
    error_code: str = ""
    script_name: str = ""
    message: str = ""
    log_tail: str = ""


@dataclass
class TargetState:
    """One instance (target) of the deployment as last seen."""

    target_id: str
    status: str = "Pending"
    events: list[LifecycleState] = field(default_factory=list)

    @property
    def current(self) -> LifecycleState | None:
        """The event that matters now: the one running, else the failed one, else the last done."""
        for wanted in ("InProgress", "Failed"):
            for ev in self.events:
                if ev.status == wanted:
                    return ev
        done = [ev for ev in self.events if ev.status == "Succeeded"]
        return done[-1] if done else None

    @property
    def failure(self) -> LifecycleState | None:
        return next((ev for ev in self.events if ev.status == "Failed"), None)

    @property
    def traffic(self) -> str:
        """Where the instance stands behind the load balancer ("" without traffic control):
        "in service", "draining", "out of service", "registering", or "<event> failed"."""
        states = {ev.name: ev.status for ev in self.events if ev.name in TRAFFIC_EVENTS}
        if not states:
            return ""
        block, allow = states.get("BlockTraffic", "Pending"), states.get("AllowTraffic", "Pending")
        if allow == "Succeeded":
            return "in service"
        if allow == "InProgress":
            return "registering"
        if allow == "Failed":
            return "AllowTraffic failed"
        if block == "InProgress":
            return "draining"
        if block == "Failed":
            return "BlockTraffic failed"
        if block in ("Succeeded", "Skipped"):
            return "out of service"
        return "in service"  # not yet taken out: it still serves the old revision


@dataclass(frozen=True)
class FollowEvent:
    """A state change: kind is "deployment", "target" or "lifecycle" ("notice": a remark)."""

    kind: str
    deployment_id: str
    status: str
    target_id: str | None = None
    lifecycle_event: str | None = None
    error_code: str = ""
    message: str = ""
    log_tail: str = ""
    overview: dict[str, int] | None = None
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    detail: str = ""  # what a traffic event did: "deregistered from web-tg"
    rollback_of: str | None = None  # set on the events of a rollback deployment
    rollback_id: str | None = None  # kind "rollback": the rollback deployment
    revision: str = ""  # kind "rollback": the revision it redeploys

    def line(self) -> str:
        """The plain-output line (without the log tail, see `log_lines`)."""
        stamp = self.at.astimezone().strftime("%H:%M:%S")
        if self.kind == "rollback":
            return f"{stamp}  deployment {self.deployment_id}  {self.rollback_text()}"
        if self.kind == "deployment":
            what = " (rollback)" if self.rollback_of else ""
            text = f"{stamp}  deployment {self.deployment_id}{what}  {self.status}"
            if self.overview and any(self.overview.values()):
                text += f"  ({overview_text(self.overview)})"
            if self.error_code or self.message:
                text += f"\n          {self.error_code}: {self.message}".rstrip(": ")
            return text
        if self.kind == "notice":
            return f"{stamp}  {self.message}"
        if self.kind == "target":
            return f"{stamp}  {self.target_id}  {'instance':<17} {self.status}"
        text = f"{stamp}  {self.target_id}  {self.lifecycle_event or '':<17} {self.status}"
        if self.detail:
            text += f"  {self.detail}"
        if self.error_code or self.message:
            text += f"  {self.error_code}: {self.message}".rstrip(": ")
        return text

    def rollback_text(self) -> str:
        """kind "rollback": 'rolling back to REV in d-…', 'rolled back to REV in d-…', or why
        there was no rollback."""
        rev = self.revision or "the last successful revision"
        if not self.rollback_id:
            return f"not rolled back: {self.message}" if self.message else "not rolled back"
        if self.status in ("Created", "Queued", "InProgress", "Ready", "Baking"):
            return f"rolling back to {rev} in {self.rollback_id}"
        if self.status == "Succeeded":
            return f"rolled back to {rev} in {self.rollback_id}"
        text = f"rollback to {rev} in {self.rollback_id} {self.status}"
        if self.error_code or self.message:
            text += f": {self.error_code}: {self.message}".replace(": : ", ": ").rstrip(": ")
        return text

    def log_lines(self, limit: int = 20) -> list[str]:
        tail = [ln for ln in self.log_tail.rstrip().splitlines() if ln.strip()]
        return tail[-limit:]


def overview_text(overview: dict[str, int]) -> str:
    total = sum(v for v in overview.values() if isinstance(v, int))
    parts = [f"{v} {k.lower()}" for k, v in overview.items() if isinstance(v, int) and v]
    return f"{', '.join(parts) or 'no instances yet'} of {total}"


class Tracker:
    """Turns successive API snapshots into change events. Pure: no AWS, easy to test."""

    def __init__(self, deployment_id: str, *, rollback_of: str | None = None) -> None:
        self.deployment_id = deployment_id
        self.rollback_of = rollback_of
        self.status: str | None = None
        self.targets: dict[str, TargetState] = {}
        self.target_groups: list[str] = []  # from the deployment's loadBalancerInfo

    def update_targets(self, raw_targets: Iterable[dict[str, Any]]) -> list[FollowEvent]:
        """Events for BatchGetDeploymentTargets `deploymentTargets` entries."""
        events: list[FollowEvent] = []
        for raw in raw_targets:
            t = _target_body(raw)
            tid = t.get("targetId") or t.get("targetArn") or "?"
            state = self.targets.setdefault(tid, TargetState(tid, status=""))
            old = {ev.name: ev.status for ev in state.events}
            new_events = []
            for ev in t.get("lifecycleEvents") or []:
                diag = ev.get("diagnostics") or {}
                ls = LifecycleState(
                    name=ev.get("lifecycleEventName", "?"),
                    status=ev.get("status", "Pending"),
                    error_code=diag.get("errorCode", "") or "",
                    script_name=diag.get("scriptName", "") or "",
                    message=diag.get("message", "") or "",
                    log_tail=diag.get("logTail", "") or "",
                )
                new_events.append(ls)
                if ls.status != old.get(ls.name, "Pending"):
                    failed = ls.status == "Failed"
                    events.append(
                        FollowEvent(
                            "lifecycle",
                            self.deployment_id,
                            ls.status,
                            target_id=tid,
                            lifecycle_event=ls.name,
                            error_code=ls.error_code if failed else "",
                            message=ls.message if failed else "",
                            log_tail=ls.log_tail if failed else "",
                            detail=self._traffic_detail(ls.name, ls.status),
                            rollback_of=self.rollback_of,
                        )
                    )
            state.events = new_events
            status = t.get("status", "Pending") or "Pending"
            if status != state.status:
                first = state.status == ""
                state.status = status
                if not (first and status == "Pending"):
                    events.append(
                        FollowEvent(
                            "target",
                            self.deployment_id,
                            status,
                            target_id=tid,
                            rollback_of=self.rollback_of,
                        )
                    )
        return events

    def _traffic_detail(self, event: str, status: str) -> str:
        """Words for a BlockTraffic / AllowTraffic change, naming the target groups."""
        if event not in TRAFFIC_EVENTS:
            return ""
        groups = ", ".join(self.target_groups) or "the target group"
        words = {
            ("BlockTraffic", "InProgress"): f"deregistering from {groups}, draining connections",
            ("BlockTraffic", "Succeeded"): f"out of {groups}",
            ("AllowTraffic", "InProgress"): f"registering with {groups}, waiting until healthy",
            ("AllowTraffic", "Succeeded"): f"healthy in {groups}",
        }
        return words.get((event, status), "")

    def update_deployment(self, info: dict[str, Any]) -> list[FollowEvent]:
        """Events for a GetDeployment `deploymentInfo`."""
        self.note_target_groups(info)
        status = info.get("status", "")
        if status == self.status:
            return []
        self.status = status
        err = info.get("errorInformation") or {}
        return [
            FollowEvent(
                "deployment",
                self.deployment_id,
                status,
                error_code=err.get("code", "") or "",
                message=err.get("message", "") or "",
                overview=dict(info.get("deploymentOverview") or {}) or None,
                rollback_of=self.rollback_of,
            )
        ]

    def note_target_groups(self, info: dict[str, Any]) -> None:
        """Remember the target groups a GetDeployment `deploymentInfo` names (loadBalancerInfo)."""
        groups = (info.get("loadBalancerInfo") or {}).get("targetGroupInfoList") or []
        if groups and not self.target_groups:
            self.target_groups = [g.get("name", "") for g in groups if g.get("name")]

    def pending_ids(self) -> list[str]:
        return [tid for tid, t in self.targets.items() if t.status not in TARGET_DONE]


def _target_body(raw: dict[str, Any]) -> dict[str, Any]:
    for key in ("instanceTarget", "ecsTarget", "lambdaTarget", "cloudFormationTarget"):
        if raw.get(key):
            return raw[key]
    return raw


def revision_text(revision: dict[str, Any] | None) -> str:
    """A revision in one short phrase: s3://bucket/key, or owner/repo@commit."""
    rev = revision or {}
    s3 = rev.get("s3Location") or {}
    if s3.get("bucket"):
        return f"s3://{s3['bucket']}/{s3.get('key', '')}"
    gh = rev.get("gitHubLocation") or {}
    if gh.get("repository"):
        return f"{gh['repository']}@{str(gh.get('commitId', ''))[:7]}"
    return "the last successful revision"


def follow(
    ctx: AwsContext,
    deployment_id: str,
    on_event: Callable[[FollowEvent], None],
    *,
    region: str | None = None,
    on_targets: Callable[[list[TargetState]], None] | None = None,
    stop: threading.Event | None = None,
    interval: float | None = None,
    max_interval: float | None = None,
    timeout: float | None = None,
    rollback: bool = True,
) -> str:
    """Poll until the deployment ends; return its final status.

    Then, with `rollback` and when CodeDeploy rolls the failed (or stopped) deployment back,
    follow the rollback deployment too (events of kind "rollback" and events with `rollback_of`),
    still returning the original's status. Returns early with the last status seen (not in
    TERMINAL) when `stop` is set or `timeout` seconds pass. `on_event` and `on_targets` run on
    the calling thread.
    """
    cd = ctx.client("codedeploy", region)
    sandbox = bool(getattr(ctx, "sandbox", False))
    lo = interval if interval is not None else (0.2 if sandbox else 2.0)
    hi = max_interval if max_interval is not None else max(lo, 1.0 if sandbox else 10.0)
    deadline = time.monotonic() + timeout if timeout else None
    pace = _Pace(lo, hi, stop, deadline)
    status, info = _follow_one(cd, Tracker(deployment_id), on_event, on_targets, pace)
    if not rollback or status not in _ROLLBACK_EVENT or pace.over():
        return status
    grace = ROLLBACK_GRACE["sandbox" if sandbox else "aws"]
    if interval is not None:
        grace = min(grace, interval * 50)
    found = _await_rollback(cd, info, status, grace, pace)
    if found is None:
        return status
    rb_id, message = found
    if not rb_id:
        on_event(FollowEvent("rollback", deployment_id, status, message=message))
        return status
    rb_info = cd.get_deployment(deploymentId=rb_id)["deploymentInfo"]
    rev = revision_text(rb_info.get("revision"))
    on_event(
        FollowEvent(
            "rollback",
            deployment_id,
            "InProgress",
            rollback_id=rb_id,
            revision=rev,
            message=message,
        )
    )
    tracker = Tracker(rb_id, rollback_of=deployment_id)
    rb_status, rb_info = _follow_one(cd, tracker, on_event, on_targets, pace)
    if rb_status in TERMINAL:
        err = rb_info.get("errorInformation") or {}
        on_event(
            FollowEvent(
                "rollback",
                deployment_id,
                rb_status,
                rollback_id=rb_id,
                revision=rev,
                error_code=err.get("code", "") or "",
                message=err.get("message", "") or "",
            )
        )
    return status


@dataclass
class _Pace:
    """Polling rhythm shared by a deployment and its rollback: back off while nothing moves."""

    lo: float
    hi: float
    stop: threading.Event | None
    deadline: float | None
    delay: float = 0.0

    def over(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    def wait(self, changed: bool) -> bool:
        """Sleep for the next interval; True when following must end (stop set)."""
        self.delay = self.lo if (changed or not self.delay) else min(self.hi, self.delay * 1.5)
        if self.stop is not None:
            return self.stop.wait(self.delay)
        time.sleep(self.delay)
        return False


def _follow_one(
    cd: Any,
    tracker: Tracker,
    on_event: Callable[[FollowEvent], None],
    on_targets: Callable[[list[TargetState]], None] | None,
    pace: _Pace,
) -> tuple[str, dict[str, Any]]:
    """Follow one deployment until it ends (or stop/timeout); (status, last deploymentInfo)."""
    deployment_id = tracker.deployment_id
    see_targets = True
    pace.delay = 0.0
    while True:
        info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        tracker.note_target_groups(info)  # before the targets: their traffic events name them
        changed = False
        if see_targets:
            try:
                changed = _poll_targets(cd, tracker, info, on_event)
            except Exception as exc:
                if not _denied(exc):
                    raise
                see_targets = False
                on_event(
                    FollowEvent(
                        "notice",
                        deployment_id,
                        "",
                        message="cannot read the instances (access denied for "
                        f"codedeploy:{getattr(exc, 'operation_name', 'ListDeploymentTargets')}); "
                        "following the deployment status only",
                        rollback_of=tracker.rollback_of,
                    )
                )
        if changed and on_targets:
            on_targets(list(tracker.targets.values()))
        dep_events = tracker.update_deployment(info)
        for ev in dep_events:
            on_event(ev)
        status = tracker.status or ""
        if status in TERMINAL or pace.over():
            return status, info
        if pace.wait(changed or bool(dep_events)):
            return status, info


def _await_rollback(
    cd: Any, info: dict[str, Any], status: str, grace: float, pace: _Pace
) -> tuple[str, str] | None:
    """(rollback deployment id or "", rollbackMessage) once the failed deployment names one.

    None when automatic rollback is off for this ending, or nothing appears within `grace`
    seconds. The deployment's own autoRollbackConfiguration decides (GetDeployment returns the
    group's unless CreateDeployment overrode it); when it is missing, the group's.
    """
    conf = info.get("autoRollbackConfiguration")
    if conf is None:
        try:
            conf = cd.get_deployment_group(
                applicationName=info.get("applicationName", ""),
                deploymentGroupName=info.get("deploymentGroupName", ""),
            )["deploymentGroupInfo"].get("autoRollbackConfiguration")
        except Exception:  # a CI principal may not read the group: wait only if named below
            conf = None
    enabled = bool(
        conf and conf.get("enabled") and _ROLLBACK_EVENT[status] in conf.get("events", [])
    )
    waited = 0.0
    while True:
        rb = info.get("rollbackInfo") or {}
        if rb.get("rollbackDeploymentId"):
            return rb["rollbackDeploymentId"], rb.get("rollbackMessage", "") or ""
        if rb.get("rollbackMessage") and enabled:
            return "", rb["rollbackMessage"]
        if not enabled or waited >= grace or pace.over():
            return None
        step = pace.lo
        if pace.stop is not None:
            if pace.stop.wait(step):
                return None
        else:
            time.sleep(step)
        waited += step
        info = cd.get_deployment(deploymentId=info.get("deploymentId", ""))["deploymentInfo"]


def _denied(exc: BaseException) -> bool:
    from wizard.aws import explain
    from wizard.errors import AccessDeniedError

    return isinstance(explain(exc), AccessDeniedError)


def _poll_targets(
    cd: Any, tracker: Tracker, info: dict[str, Any], on_event: Callable[[FollowEvent], None]
) -> bool:
    """List new targets (until all are known), describe unfinished ones; True if anything moved."""
    dep_id = tracker.deployment_id
    expected = sum(v for v in (info.get("deploymentOverview") or {}).values() if isinstance(v, int))
    if not tracker.targets or len(tracker.targets) < expected:
        ids: list[str] = []
        for page in cd.get_paginator("list_deployment_targets").paginate(deploymentId=dep_id):
            ids.extend(page.get("targetIds") or [])
        changed = any(tid not in tracker.targets for tid in ids)
        for tid in ids:
            tracker.targets.setdefault(tid, TargetState(tid, status=""))
    else:
        changed = False
    todo = [tid for tid, t in tracker.targets.items() if t.status not in TARGET_DONE]
    for i in range(0, len(todo), BATCH):
        resp = cd.batch_get_deployment_targets(deploymentId=dep_id, targetIds=todo[i : i + BATCH])
        events = tracker.update_targets(resp.get("deploymentTargets") or [])
        for ev in events:
            on_event(ev)
        changed = changed or bool(events)
    return changed
