"""Traffic control: where an in-place deployment behind a load balancer plugs into the runner.

A deployment group whose `deploymentStyle.deploymentOption` is `WITH_TRAFFIC_CONTROL` and whose
`loadBalancerInfo` names a target group (or a Classic Load Balancer) has CodeDeploy itself take
each instance out of the load balancer before ApplicationStop (BlockTraffic) and put it back after
ValidateService (AllowTraffic) — the CodeDeploy service does this, not the agent ("Integrating
CodeDeploy with Elastic Load Balancing", User Guide). The hook events around them run on the
agent: BeforeBlockTraffic and AfterBlockTraffic with the last successful revision's scripts,
BeforeAllowTraffic and AfterAllowTraffic with the new revision's (AppSpec "hooks" section).

`control_for(account, region, group)` returns the `TrafficControl` of a group, or None when the
deployment runs without traffic control. `fleet.lifecycle.plan_target` calls its `block` and
`allow` at the BlockTraffic and AllowTraffic events; each returns the event's outcome, whose
`effects` (e.g. deregistering or registering the target) apply when that event ends on the
compressed clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wizard.sandbox.fleet.context import DeploymentContext, EventOutcome


class TrafficControl(Protocol):
    """What CodeDeploy does to one instance's traffic during an in-place deployment."""

    def block(self, ctx: DeploymentContext, instance: Any) -> EventOutcome:
        """BlockTraffic: take `instance` (a moto EC2 instance) out of service."""
        ...

    def allow(self, ctx: DeploymentContext, instance: Any) -> EventOutcome:
        """AllowTraffic: put `instance` back in service once it is healthy."""
        ...


def with_traffic_control(group: Any) -> bool:
    """Does the group deploy in place WITH_TRAFFIC_CONTROL behind a load balancer?"""
    style = getattr(group, "deployment_style", None) or {}
    info = getattr(group, "load_balancer_info", None) or {}
    has_lb = bool(
        info.get("targetGroupInfoList")
        or info.get("elbInfoList")
        or info.get("targetGroupPairInfoList")
    )
    return style.get("deploymentOption") == "WITH_TRAFFIC_CONTROL" and has_lb


def control_for(account: str, region: str, group: Any) -> TrafficControl | None:
    """The group's traffic control, or None when its deployments run without it.

    Target groups (Application/Network Load Balancers) are emulated by
    `wizard.sandbox.elb.TargetGroupTraffic`; a group naming only Classic Load Balancers runs
    without traffic events.
    """
    if not with_traffic_control(group):
        return None
    info = getattr(group, "load_balancer_info", None) or {}
    names = [t.get("name") for t in info.get("targetGroupInfoList") or [] if t.get("name")]
    if not names:
        return None
    from wizard.sandbox.elb import TargetGroupTraffic

    return TargetGroupTraffic(account, region, names)
