"""Elastic Load Balancing (v2) as the sandbox serves it: target health that moves with the clock.

moto registers and deregisters targets and answers DescribeTargetHealth with `healthy` for every
registered instance. AWS does more, and this module adds it (installed on moto's elbv2 models, so
the server and `mock_aws` both serve it):

- a newly registered target is `initial` (Elb.RegistrationInProgress, then
  Elb.InitialHealthChecking) until the load balancer has seen HealthyThresholdCount checks, one
  every HealthCheckIntervalSeconds (ELB User Guide, "Health checks for your target groups");
- a deregistered target is `draining` (Target.DeregistrationInProgress) for the target group's
  `deregistration_delay.timeout_seconds` (default 300, 0-3600 inclusive: ELB User Guide, "Target
  group attributes"; moto rejects 3600), then `unused` (Target.NotRegistered); DescribeTargetHealth
  without `Targets` lists draining targets too;
- a target group that no load balancer uses answers `unused` / Target.NotInUse;
- a registered, checked target is `healthy` when its instance serves the application — the last
  deployment that reached it got through ApplicationStart and ValidateService — and `unhealthy`
  with `Target.FailedHealthChecks` ("Health checks failed": nothing answers on the port) when
  nothing was deployed there or the deployment stopped the old application without starting a new
  one. Reason codes and their descriptions are those of the ELB API Reference, `TargetHealth`.

Whether the health check reaches the instance at all is visible in what was built: the
instance's security groups must admit the load balancer's (an Application Load Balancer without
any uses its VPC's default group, whose one inbound rule admits itself), or a CIDR that holds the
load balancer's subnets, on the health check port; otherwise the check times out
(`Target.Timeout`, "Request timed out"). The VPC's default security group gets that self rule, as
on AWS (moto creates it without one).

What the application answers to the health check is not visible through AWS's APIs, so the
instance tag `sandbox:target-health` states it: `healthy`, or `unhealthy:REASON` with REASON one of
ELB's codes (`Target.ResponseCodeMismatch`, `Target.Timeout`, `Target.FailedHealthChecks`,
`Elb.InternalError`), optionally `unhealthy:Target.ResponseCodeMismatch:CODES` for the HTTP codes
the application answers (default 404). The tag wins over what was deployed.

Time is the sandbox's compressed clock: an AWS hour (the window of one lifecycle event) is
`CLOCK.slow_event` wall seconds, and every AWS duration here scales with it (`sandbox_seconds`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

TAG = "sandbox:target-health"
AWS_HOUR = 3600.0
UNHEALTHY_REASONS = {
    "Target.ResponseCodeMismatch": "Health checks failed with these codes: [{codes}]",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
    "Elb.InternalError": "Health checks failed due to an internal error",
}
DESCRIPTIONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.HealthCheckDisabled": "Health checks disabled",
}
DEFAULT_DEREGISTRATION_DELAY = 300


def _clock() -> Any:
    from wizard.sandbox import clock

    return clock.CLOCK


def _lock() -> Any:
    from wizard.sandbox import clock

    return clock.LOCK


def sandbox_seconds(aws_seconds: float) -> float:
    """Wall seconds in the sandbox for `aws_seconds` on AWS (one AWS hour = CLOCK.slow_event)."""
    return max(0.0, float(aws_seconds)) * _clock().slow_event / AWS_HOUR


@dataclass(frozen=True)
class Verdict:
    """What the load balancer's health checks find on one instance (its application)."""

    healthy: bool
    reason: str = ""
    description: str = ""


def parse_tag(value: str | None) -> Verdict | None:
    """`healthy` | `unhealthy:REASON[:CODES]` -> Verdict; None when absent or not understood."""
    if not value:
        return None
    value = value.strip()
    if value.lower() == "healthy":
        return Verdict(True)
    kind, _, rest = value.partition(":")
    if kind.lower() != "unhealthy":
        return None
    reason, _, detail = rest.partition(":")
    reason = reason.strip() or "Target.FailedHealthChecks"
    template = UNHEALTHY_REASONS.get(reason, "Health checks failed")
    codes = ",".join(c.strip() for c in detail.split(",") if c.strip()) or "404"
    return Verdict(False, reason, template.format(codes=codes))


def health_settings(tg: Any) -> dict[str, Any]:
    """A moto target group's health check timing and deregistration delay, in AWS seconds."""
    try:
        delay = int(tg.attributes.get("deregistration_delay.timeout_seconds", 300))
    except (TypeError, ValueError):
        delay = DEFAULT_DEREGISTRATION_DELAY
    return {
        "interval": int(tg.health_check_interval_seconds or 30),
        "healthy_threshold": int(tg.healthy_threshold_count or 5),
        "unhealthy_threshold": int(tg.unhealthy_threshold_count or 2),
        "deregistration_delay": delay,
        "enabled": bool(getattr(tg, "health_check_enabled", True)),
    }


def allow_traffic_seconds(tg: Any) -> float:
    """AWS seconds AllowTraffic waits for a healthy target: (threshold x interval) + interval
    (AWS Knowledge Center, "codedeploy-elb-deployments")."""
    s = health_settings(tg)
    return s["healthy_threshold"] * s["interval"] + s["interval"]


def block_traffic_seconds(tg: Any) -> float:
    """AWS seconds BlockTraffic waits: the deregistration delay (draining) plus one interval
    (same Knowledge Center article: CodeDeploy adds one interval for the draining)."""
    s = health_settings(tg)
    return s["deregistration_delay"] + s["interval"]


# ---- per-target times (kept on moto's target group objects) --------------------------------------


def _times(tg: Any) -> dict[str, dict[str, float]]:
    if not hasattr(tg, "_sandbox_times"):
        tg._sandbox_times = {}
    return tg._sandbox_times


def mark_registered(tg: Any, target_id: str, at: float | None = None, checked: bool = False):
    """Record when a target was registered; `checked` = its initial health checks are done
    (CodeDeploy's AllowTraffic waited for them)."""
    now = time.monotonic() if at is None else at
    if checked:
        now -= sandbox_seconds(allow_traffic_seconds(tg)) + 1.0
    _times(tg)[target_id] = {"registered": now}


def mark_deregistered(tg: Any, target_id: str, at: float | None = None) -> None:
    """Record when a target's deregistration (and its draining) started."""
    entry = _times(tg).setdefault(target_id, {})
    entry["deregistered"] = time.monotonic() if at is None else at


# ---- what the health checks find -----------------------------------------------------------------


def _instance(ec2_backend: Any, instance_id: str) -> Any:
    try:
        return ec2_backend.get_instance_by_id(instance_id)
    except Exception:
        return None


def _tags(instance: Any) -> dict[str, str]:
    """An instance's tags, read straight from EC2's tag store (moto's get_tags scans every tag
    of every resource, quadratic over a fleet)."""
    try:
        return dict(instance.ec2_backend.tags.get(instance.id) or {})
    except Exception:
        return {}


def serving(account: str, region: str) -> dict[str, bool]:
    """{instance id: does it serve the application?} from the last finished deployment target of
    every instance: serving when that target got through ApplicationStart and ValidateService."""
    try:
        from moto.codedeploy.models import codedeploy_backends

        backend = codedeploy_backends[account][region]
    except Exception:
        return {}
    latest: dict[str, tuple[float, bool]] = {}
    for d in list(backend.deployments.values()):
        run = getattr(d, "_sandbox_run", None)
        if run is None or not run.planned:
            continue
        t = run.elapsed()
        for iid, target in run.targets.items():
            if t < target.end or target.status == "Skipped":
                continue
            events = {e.name: e.status for e in target.events}
            ok = events.get("ValidateService") == "Succeeded" and (
                events.get("ApplicationStart") == "Succeeded"
            )
            if target.status == "Succeeded":
                ok = True
            finished = run.created + target.end
            if iid not in latest or finished >= latest[iid][0]:
                latest[iid] = (finished, ok)
    return {iid: ok for iid, (_, ok) in latest.items()}


def _default_group(ec2: Any, vpc_id: str | None) -> Any:
    try:
        return ec2.get_security_group_from_name("default", vpc_id=vpc_id)
    except Exception:
        return None


def _cidr(value: str | None) -> Any:
    import ipaddress

    try:
        return ipaddress.ip_network(value or "", strict=False)
    except ValueError:
        return None


def admits(tg: Any, instance: Any) -> bool:
    """Do the instance's security groups let the target group's load balancers reach the health
    check port? (VPC User Guide, "Security group rules"; ELB User Guide, "Security groups for
    your Application Load Balancer": targets must allow the load balancer on the health check
    port.) True when nothing is known to block (no load balancer, no instance)."""
    if instance is None or not getattr(tg, "load_balancer_arns", None):
        return True
    from moto.elbv2.models import elbv2_backends

    ec2 = instance.ec2_backend
    elbv2 = elbv2_backends[ec2.account_id][ec2.region_name]
    try:
        port = int(
            tg.health_check_port if tg.health_check_port not in (None, "traffic-port") else tg.port
        )
    except (TypeError, ValueError):
        port = int(tg.port or 80)
    source_groups: set[str] = set()
    source_nets = []
    for arn in tg.load_balancer_arns:
        lb = elbv2.load_balancers.get(arn)
        if lb is None:
            continue
        groups = list(lb.security_groups or [])
        if not groups and getattr(lb, "loadbalancer_type", "application") == "application":
            default = _default_group(ec2, lb.vpc_id)
            groups = [default.id] if default is not None else []
        source_groups.update(groups)
        for subnet in lb.subnets or []:
            net = _cidr(getattr(subnet, "cidr_block", None))
            if net is not None:
                source_nets.append(net)
    targets = list(getattr(instance, "security_groups", None) or [])
    if not targets:
        default = _default_group(ec2, getattr(instance, "vpc_id", None))
        targets = [default] if default is not None else []
    for group in targets:
        for rule in getattr(group, "ingress_rules", []):
            proto = str(rule.ip_protocol or "")
            if proto not in ("-1", "tcp"):
                continue
            if proto == "tcp" and not (int(rule.from_port) <= port <= int(rule.to_port)):
                continue
            if (rule.source_group or {}).get("GroupId") in source_groups:
                return True
            net = _cidr((rule.ip_range or {}).get("CidrIp"))
            if net is not None and any(
                src.subnet_of(net) for src in source_nets if src.version == net.version
            ):
                return True
    return False


TIMEOUT = Verdict(False, "Target.Timeout", UNHEALTHY_REASONS["Target.Timeout"])


def verdict(instance: Any, serves: bool | None, tg: Any = None) -> Verdict:
    """The health checks' verdict on one instance: a stated failure (the tag), then whether the
    check reaches it (security groups), then the tag's `healthy` or what was deployed there."""
    tagged = parse_tag(_tags(instance).get(TAG)) if instance is not None else None
    if tagged is not None and not tagged.healthy:
        return tagged
    if tg is not None and not admits(tg, instance):
        return TIMEOUT
    if tagged is not None or serves:
        return Verdict(True)
    return Verdict(
        False, "Target.FailedHealthChecks", UNHEALTHY_REASONS["Target.FailedHealthChecks"]
    )


def health_for(
    tg: Any,
    target: dict[str, Any],
    ec2_backend: Any,
    serves: dict[str, bool],
    instances: dict[str, Any] | None = None,
) -> Any:
    """moto's FakeHealthStatus for one target of `tg`, on the compressed clock (`instances`:
    an id -> moto instance map, to look many targets up in one pass)."""
    from moto.elbv2.models import FakeHealthStatus

    tid = target["Id"]
    registered = tg.targets.get(tid)
    port = (registered or {}).get("Port") or target.get("Port") or tg.port
    hc_port = tg.health_check_port
    now = time.monotonic()
    times = _times(tg).get(tid) or {}
    s = health_settings(tg)

    def status(state: str, reason: str | None = None, desc: str | None = None) -> Any:
        return FakeHealthStatus(tid, port, hc_port, state, reason, desc)

    if registered is None:
        gone = times.get("deregistered")
        delay = sandbox_seconds(s["deregistration_delay"])
        if tid in tg.deregistered_targets and gone is not None and now - gone < delay:
            return status(
                "draining",
                "Target.DeregistrationInProgress",
                DESCRIPTIONS["Target.DeregistrationInProgress"],
            )
        return status("unused", "Target.NotRegistered", DESCRIPTIONS["Target.NotRegistered"])
    if instances is not None:
        inst = instances.get(tid)
    else:
        inst = _instance(ec2_backend, tid) if str(tid).startswith("i-") else None
    if inst is not None and inst.state in ("stopped", "stopping", "terminated", "shutting-down"):
        return status("unused", "Target.InvalidState", f"Target is in the {inst.state} state")
    if not getattr(tg, "load_balancer_arns", None):
        return status("unused", "Target.NotInUse", DESCRIPTIONS["Target.NotInUse"])
    if not s["enabled"]:
        return status(
            "unavailable", "Target.HealthCheckDisabled", DESCRIPTIONS["Target.HealthCheckDisabled"]
        )
    since = now - times.get("registered", now - AWS_HOUR)
    first = sandbox_seconds(s["interval"])
    if since < first:
        return status(
            "initial", "Elb.RegistrationInProgress", DESCRIPTIONS["Elb.RegistrationInProgress"]
        )
    v = verdict(inst, serves.get(tid), tg)
    needed = s["healthy_threshold"] if v.healthy else s["unhealthy_threshold"]
    if since < first + sandbox_seconds(needed * s["interval"]):
        return status(
            "initial", "Elb.InitialHealthChecking", DESCRIPTIONS["Elb.InitialHealthChecking"]
        )
    if v.healthy:
        return status("healthy")
    return status("unhealthy", v.reason, v.description)


# ---- install -------------------------------------------------------------------------------------


def install() -> None:
    """Patch moto's elbv2 models and responses (idempotent; called by `extensions.install`)."""
    from moto.elbv2 import models as m
    from moto.elbv2.exceptions import TargetGroupNotFoundError, ValidationError

    tg_cls = m.FakeTargetGroup
    if getattr(tg_cls, "_sandbox_installed", False):
        return
    original_register = tg_cls.register
    original_deregister = tg_cls.deregister
    original_terminated = tg_cls.deregister_terminated_instances

    # target changes and reads hold the sandbox's one lock: deployments change targets from
    # other request threads (moto itself is not thread-safe)
    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        with _lock():
            fresh = [t["Id"] for t in targets if t["Id"] not in self.targets]
            original_register(self, targets)
            for tid in fresh:
                mark_registered(self, tid)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        with _lock():
            original_deregister(self, targets)
            for t in targets:
                mark_deregistered(self, t["Id"])

    def deregister_terminated_instances(self: Any, instance_ids: list[str]) -> None:
        with _lock():
            original_terminated(self, instance_ids)
            for tid in instance_ids:
                mark_deregistered(self, tid)

    def describe_target_health(
        self: Any, target_group_arn: str, targets: list[dict[str, Any]]
    ) -> list[Any]:
        tg = self.target_groups.get(target_group_arn)
        if tg is None:
            raise TargetGroupNotFoundError()
        _advance()
        with _lock():
            return _describe(self, tg, targets)

    def _describe(self: Any, tg: Any, targets: list[dict[str, Any]]) -> list[Any]:
        if not targets:
            # registered targets and those still draining (AWS lists both)
            now = time.monotonic()
            delay = sandbox_seconds(health_settings(tg)["deregistration_delay"])
            draining = [
                dict(t)
                for tid, t in tg.deregistered_targets.items()
                if tid not in tg.targets
                and now - (_times(tg).get(tid) or {}).get("deregistered", -AWS_HOUR) < delay
            ]
            targets = list(tg.targets.values()) + draining
        serves = serving(self.account_id, self.region_name)
        # one pass over EC2's instances (moto looks an id up by scanning them all)
        instances = {i.id: i for i in self.ec2_backend.all_instances()}
        return [health_for(tg, t, self.ec2_backend, serves, instances) for t in targets]

    def modify_target_group_attributes(self: Any, arn: str, attributes: dict[str, Any]) -> None:
        key = "deregistration_delay.timeout_seconds"
        value = attributes.get(key)
        if value is not None and str(value) != "":
            try:
                delay = int(value)
            except ValueError:
                delay = -1
            if not 0 <= delay <= 3600:
                raise ValidationError(f"'{key}' value '{value}' must be between '0-3600' inclusive")
            rest = {k: v for k, v in attributes.items() if k != key}
            original_modify(self, arn, rest)
            self.target_groups[arn].attributes[key] = delay
            return
        original_modify(self, arn, attributes)

    original_modify = m.ELBv2Backend.modify_target_group_attributes
    _install_default_groups()
    tg_cls.register = register
    tg_cls.deregister = deregister
    tg_cls.deregister_terminated_instances = deregister_terminated_instances
    m.ELBv2Backend.describe_target_health = describe_target_health
    m.ELBv2Backend.modify_target_group_attributes = modify_target_group_attributes
    tg_cls._sandbox_installed = True


def _advance() -> None:
    """Bring deployments (and what they do to targets) up to now before answering."""
    try:
        from wizard.sandbox.codedeploy.runner import advance_all

        advance_all()
    except Exception:  # a backend reset under mock_aws; health is still answered
        pass


# ---- CodeDeploy's BlockTraffic / AllowTraffic ------------------------------------------------


class Timed:
    """A runner effect that wants the monotonic time it was due (`at_time(when)`), so that the
    load balancer's timeline does not depend on when a read happens to apply it."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def at_time(self, when: float) -> None:
        self.fn(when)

    def __call__(self) -> None:
        self.fn(time.monotonic())


class TargetGroupTraffic:
    """CodeDeploy's traffic control for an in-place deployment through ELB target groups.

    BlockTraffic deregisters the instance from every target group of the deployment group it is
    registered with and waits out the draining: the deregistration delay plus one health check
    interval (AWS Knowledge Center, "codedeploy-elb-deployments"). A wait that does not fit in the
    one hour a lifecycle event may take fails the event. AllowTraffic registers the instance with
    every target group and waits for the health checks: (HealthyThresholdCount x interval) + one
    interval for a healthy target; an unhealthy target (or one no load balancer uses) never gets
    there and the event fails when its hour is up — CodeDeploy reports no cause in the deployment
    ("Troubleshooting a failed AllowTraffic lifecycle event with no error reported in the
    deployment logs", CodeDeploy User Guide), so the diagnostics carry none: the cause is in
    DescribeTargetHealth. BlockTraffic and AllowTraffic are CodeDeploy's, not the agent's, so the
    agent's state does not matter to them.
    """

    def __init__(self, account: str, region: str, target_groups: list[str]) -> None:
        self.account = account
        self.region = region
        self.names = list(target_groups)

    def _groups(self) -> list[Any]:
        from moto.elbv2.models import elbv2_backends

        backend = elbv2_backends[self.account][self.region]
        return [tg for tg in backend.target_groups.values() if tg.name in self.names]

    def block(self, ctx: Any, instance: Any) -> Any:
        from wizard.sandbox.fleet.context import EventOutcome, diag, ok

        groups = [tg for tg in self._groups() if instance.id in tg.targets]
        if not groups:  # nothing to take out of service
            return EventOutcome("BlockTraffic", _clock().event, "Succeeded", ok())
        wait = max(block_traffic_seconds(tg) for tg in groups)

        def deregister(when: float) -> None:  # BlockTraffic starts: the target drains meanwhile
            for tg in groups:
                if instance.id in tg.targets:
                    tg.deregister([{"Id": instance.id}])
                    mark_deregistered(tg, instance.id, when)

        if wait >= AWS_HOUR:
            return EventOutcome(
                "BlockTraffic",
                _clock().slow_event,
                "Failed",
                diag("UnknownError", ""),
                start_effects=[Timed(deregister)],
            )
        return EventOutcome(
            "BlockTraffic",
            sandbox_seconds(wait),
            "Succeeded",
            ok(),
            start_effects=[Timed(deregister)],
        )

    def allow(self, ctx: Any, instance: Any) -> Any:
        from wizard.sandbox.fleet.context import EventOutcome, diag, ok

        groups = self._groups()
        if not groups:
            return EventOutcome("AllowTraffic", _clock().event, "Succeeded", ok())
        # the new revision got through ApplicationStart and ValidateService: it serves
        healthy = all(
            getattr(tg, "load_balancer_arns", None)
            and health_settings(tg)["enabled"]
            and verdict(instance, True, tg).healthy
            for tg in groups
        )

        def register(when: float) -> None:  # AllowTraffic starts: the health checks begin
            for tg in groups:
                if instance.state == "running":
                    tg.register([{"Id": instance.id, "Port": tg.port}])
                    mark_registered(tg, instance.id, when)

        def checked() -> None:  # CodeDeploy waited until the checks passed
            for tg in groups:
                if instance.id in tg.targets:
                    mark_registered(tg, instance.id, checked=True)

        if healthy:
            wait = max(allow_traffic_seconds(tg) for tg in groups)
            return EventOutcome(
                "AllowTraffic",
                sandbox_seconds(wait),
                "Succeeded",
                ok(),
                effects=[checked],
                start_effects=[Timed(register)],
            )
        return EventOutcome(
            "AllowTraffic",
            _clock().slow_event,
            "Failed",
            diag("UnknownError", ""),
            start_effects=[Timed(register)],
        )


def _self_rule(group: Any) -> None:
    """AWS's default security group admits all traffic from itself (VPC User Guide, "Default
    security groups for your VPCs"); moto's has no inbound rule."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    if group.ingress_rules:
        return
    group.ingress_rules.append(
        SecurityGroupRule(
            group.ec2_backend,
            "-1",
            group.id,
            None,
            None,
            None,
            source_group={"GroupId": group.id, "UserId": group.owner_id},
            is_egress=False,
        )
    )


def _install_default_groups() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ec2.models import security_groups as sgm

    original = sgm.SecurityGroupBackend.create_security_group

    def create_security_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        group = original(self, *args, **kwargs)
        if kwargs.get("is_default"):
            _self_rule(group)
        return group

    sgm.SecurityGroupBackend.create_security_group = create_security_group
    for account in list(ec2_backends.keys()):
        for backend in list(ec2_backends[account].values()):
            for groups in list(backend.groups.values()):
                for group in list(groups.values()):
                    if group.is_default:
                        _self_rule(group)
