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

    def line(self) -> str:
        """The plain-output line (without the log tail, see `log_lines`)."""
        stamp = self.at.astimezone().strftime("%H:%M:%S")
        if self.kind == "deployment":
            text = f"{stamp}  deployment {self.deployment_id}  {self.status}"
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
        if self.error_code or self.message:
            text += f"  {self.error_code}: {self.message}".rstrip(": ")
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

    def __init__(self, deployment_id: str) -> None:
        self.deployment_id = deployment_id
        self.status: str | None = None
        self.targets: dict[str, TargetState] = {}

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
                        )
                    )
            state.events = new_events
            status = t.get("status", "Pending") or "Pending"
            if status != state.status:
                first = state.status == ""
                state.status = status
                if not (first and status == "Pending"):
                    events.append(FollowEvent("target", self.deployment_id, status, target_id=tid))
        return events

    def update_deployment(self, info: dict[str, Any]) -> list[FollowEvent]:
        """Events for a GetDeployment `deploymentInfo`."""
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
            )
        ]

    def pending_ids(self) -> list[str]:
        return [tid for tid, t in self.targets.items() if t.status not in TARGET_DONE]


def _target_body(raw: dict[str, Any]) -> dict[str, Any]:
    for key in ("instanceTarget", "ecsTarget", "lambdaTarget", "cloudFormationTarget"):
        if raw.get(key):
            return raw[key]
    return raw


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
) -> str:
    """Poll until the deployment ends; return its final status.

    Returns early with the last status seen (not in TERMINAL) when `stop` is set or `timeout`
    seconds pass. `on_event` and `on_targets` run on the calling thread.
    """
    cd = ctx.client("codedeploy", region)
    sandbox = bool(getattr(ctx, "sandbox", False))
    lo = interval if interval is not None else (0.2 if sandbox else 2.0)
    hi = max_interval if max_interval is not None else max(lo, 1.0 if sandbox else 10.0)
    deadline = time.monotonic() + timeout if timeout else None
    tracker = Tracker(deployment_id)
    delay = lo
    see_targets = True
    while True:
        info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
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
                    )
                )
        if changed and on_targets:
            on_targets(list(tracker.targets.values()))
        dep_events = tracker.update_deployment(info)
        for ev in dep_events:
            on_event(ev)
        status = tracker.status or ""
        if status in TERMINAL:
            return status
        if stop is not None and stop.is_set():
            return status
        if deadline is not None and time.monotonic() >= deadline:
            return status
        delay = lo if (changed or dep_events) else min(hi, delay * 1.5)
        if stop is not None:
            if stop.wait(delay):
                return status
        else:
            time.sleep(delay)


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
