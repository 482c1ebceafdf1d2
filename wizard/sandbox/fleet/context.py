"""What one deployment shares with every agent, and what a lifecycle event reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wizard.sandbox.fleet.agent import DEPLOY_ROOT

if TYPE_CHECKING:
    from wizard.sandbox.codedeploy.traffic import TrafficControl
    from wizard.sandbox.fleet.bundle import Bundle


@dataclass
class EventOutcome:
    name: str
    duration: float
    status: str  # Succeeded | Failed | Skipped
    diagnostics: dict[str, str] | None = None
    # callables applied when this event ends on the clock (e.g. a target leaves a load balancer)
    effects: list[Any] = field(default_factory=list)
    # callables applied when this event starts (e.g. a target starts draining)
    start_effects: list[Any] = field(default_factory=list)


@dataclass
class TargetOutcome:
    events: list[EventOutcome]
    status: str  # Succeeded | Failed
    effects: list[Any] = field(default_factory=list)  # callables applied when the target ends
    delay: float = 0.0  # seconds the first event waits for an agent that is still installing


def diag(code: str, message: str, script: str = "", log: str = "") -> dict[str, str]:
    """A lifecycle event's `diagnostics` as CodeDeploy returns them (logTail: the last 2 KB)."""
    return {"errorCode": code, "scriptName": script, "message": message, "logTail": log[-2048:]}


def ok(log: str = "") -> dict[str, str]:
    """The diagnostics of a successful event."""
    return diag("Success", "Succeeded", "", log)


@dataclass
class DeploymentContext:
    """Everything about one deployment the agents share (computed once per deployment)."""

    account: str
    region: str
    deployment_id: str
    group_id: str
    application: str
    group_name: str
    revision: dict[str, Any]
    file_exists_behavior: str | None
    ignore_stop_failures: bool
    started: datetime
    # CodeDeploy's BlockTraffic/AllowTraffic for this group (`codedeploy.traffic`), None without
    traffic: TrafficControl | None = None
    _bundle: Bundle | None = None
    _object: Any = None
    _object_error: str | None = None
    _decisions: dict[tuple[str, str, str], bool] = field(default_factory=dict)

    @property
    def root_dir(self) -> str:
        return f"{DEPLOY_ROOT}/{self.group_id}/{self.deployment_id}"
