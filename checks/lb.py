"""lb.*: the load balancer an in-place deployment runs through (BlockTraffic / AllowTraffic).

A deployment group with `deploymentStyle.deploymentOption = WITH_TRAFFIC_CONTROL` and a
`loadBalancerInfo.targetGroupInfoList` has CodeDeploy deregister each instance from its target
groups (BlockTraffic, waiting out the target group's deregistration delay) and register it again
once the new revision runs (AllowTraffic, waiting for the load balancer's health checks to pass).
Sources, all AWS documentation:

- CodeDeploy User Guide, "Integrating CodeDeploy with Elastic Load Balancing" (in-place: instances
  are deregistered, updated, and reregistered) and "Troubleshooting a failed AllowTraffic lifecycle
  event with no error reported in the deployment logs" (the cause is the target group's health
  checks, seen in Elastic Load Balancing, not in the deployment's logs);
- AWS Knowledge Center, "codedeploy-elb-deployments": BlockTraffic and AllowTraffic each take
  about (HealthyThresholdCount x HealthCheckIntervalSeconds) + one more interval;
- Elastic Load Balancing API Reference, `TargetHealth`: the states (initial, healthy, unhealthy,
  unused, draining, unavailable) and reason codes (`Target.ResponseCodeMismatch`,
  `Target.Timeout`, `Target.FailedHealthChecks`, `Target.NotInUse` …) DescribeTargetHealth returns;
- ELB User Guide, target group attributes: `deregistration_delay.timeout_seconds` (0-3600,
  default 300) is how long a deregistering target drains;
- the reference's error table: a lifecycle event that runs past its one-hour window fails.

The evidence (target groups, their attributes, target health, load balancers) is fetched once per
run through the shared Evidence cache (`ctx.ev.memo`), one call per target group, never per target.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from checks.evidence import Unavailable, chunks, error_code
from checks.interpret import count_phrase, id_list
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check

EVENT_WINDOW = 3600  # seconds a lifecycle event may run before CodeDeploy fails it (reference §2)
DEFAULT_DEREGISTRATION_DELAY = 300  # ELB's default for deregistration_delay.timeout_seconds
TRAFFIC_EVENTS = ("BlockTraffic", "AllowTraffic")
_CODES = re.compile(r"\[([^\]]*)\]")

# reason code -> what it means for the application (ELB API Reference, TargetHealth)
REASONS = {
    "Target.ResponseCodeMismatch": "the health check got an HTTP code it does not accept",
    "Target.Timeout": "the health check request timed out",
    "Target.FailedHealthChecks": (
        "the load balancer could not connect to the target, or its response was malformed"
    ),
    "Elb.InternalError": "the health checks failed on an internal Elastic Load Balancing error",
    "Target.NotInUse": (
        "the target group is not used by any load balancer (or the instance's Availability "
        "Zone is not enabled on it)"
    ),
    "Target.NotRegistered": "the instance is not registered with the target group",
    "Target.InvalidState": "the instance is stopped or terminated",
    "Target.DeregistrationInProgress": "the target is still draining",
    "Elb.InitialHealthChecking": "the first health checks are still running",
    "Elb.RegistrationInProgress": "the target is still being registered",
    "Target.HealthCheckDisabled": "health checks are disabled for the target group",
}


# ---- evidence (memoised on the run's Evidence) ------------------------------------------------


def traffic(ev: Any) -> dict[str, Any]:
    """The group's traffic settings: {"control": bool, "target_groups": [names], "elbs": [names]}.

    Raises Unavailable when the deployment group cannot be read.
    """
    group = ev.group()
    style = group.get("deploymentStyle") or {}
    lb = group.get("loadBalancerInfo") or {}
    names = [t.get("name") for t in lb.get("targetGroupInfoList") or [] if t.get("name")]
    elbs = [e.get("name") for e in lb.get("elbInfoList") or [] if e.get("name")]
    return {
        "control": style.get("deploymentOption") == "WITH_TRAFFIC_CONTROL",
        "type": style.get("deploymentType") or "IN_PLACE",
        "target_groups": names,
        "elbs": elbs,
    }


def target_groups(ev: Any) -> dict[str, dict[str, Any] | None]:
    """DescribeTargetGroups for the group's target group names: {name: TargetGroup or None}."""

    def load() -> dict[str, dict[str, Any] | None]:
        names = traffic(ev)["target_groups"]
        out: dict[str, dict[str, Any] | None] = dict.fromkeys(names)
        if not names:
            return out
        elbv2 = ev.client("elbv2")
        try:
            # Names takes at most 20 per call
            for part in chunks(names, 20):
                for tg in elbv2.describe_target_groups(Names=part).get("TargetGroups", []):
                    out[tg["TargetGroupName"]] = tg
        except Exception as exc:
            if error_code(exc) != "TargetGroupNotFound":
                raise
            # one missing name fails the whole call: ask one by one to tell which
            for name in names:
                try:
                    resp = elbv2.describe_target_groups(Names=[name])
                    out[name] = resp["TargetGroups"][0]
                except Exception as one:
                    if error_code(one) != "TargetGroupNotFound":
                        raise
        return out

    return ev.memo("lb-target-groups", load)


def attributes(ev: Any, arn: str) -> dict[str, str]:
    """DescribeTargetGroupAttributes as {key: value}."""

    def load() -> dict[str, str]:
        resp = ev.client("elbv2").describe_target_group_attributes(TargetGroupArn=arn)
        return {a["Key"]: a.get("Value", "") for a in resp.get("Attributes", [])}

    return ev.memo(("lb-attributes", arn), load)


def health(ev: Any, arn: str, ids: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """DescribeTargetHealth: {instance id: TargetHealth}, every registered target (one call).

    `ids` adds targets that may not be registered (their state is then `unused`), asked for in
    one more call.
    """

    def load() -> dict[str, dict[str, Any]]:
        elbv2 = ev.client("elbv2")
        out: dict[str, dict[str, Any]] = {}
        for d in elbv2.describe_target_health(TargetGroupArn=arn).get(
            "TargetHealthDescriptions", []
        ):
            out[d["Target"]["Id"]] = d.get("TargetHealth") or {}
        missing = [i for i in ids if i not in out]
        for part in chunks(missing, 200):
            resp = elbv2.describe_target_health(
                TargetGroupArn=arn, Targets=[{"Id": i} for i in part]
            )
            for d in resp.get("TargetHealthDescriptions", []):
                out[d["Target"]["Id"]] = d.get("TargetHealth") or {}
        return out

    return ev.memo(("lb-health", arn, ids), load)


def load_balancers(ev: Any, arns: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """DescribeLoadBalancers for `arns` (at most 20 per call): {arn: LoadBalancer}."""

    def load() -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for part in chunks(list(arns), 20):
            resp = ev.client("elbv2").describe_load_balancers(LoadBalancerArns=part)
            for lb in resp.get("LoadBalancers", []):
                out[lb["LoadBalancerArn"]] = lb
        return out

    if not arns:
        return {}
    return ev.memo(("lb-load-balancers", arns), load)


def settings(tg: dict[str, Any]) -> dict[str, Any]:
    """The health check settings of a TargetGroup, with the expected AllowTraffic wait."""
    interval = int(tg.get("HealthCheckIntervalSeconds") or 30)
    healthy = int(tg.get("HealthyThresholdCount") or 5)
    port = tg.get("HealthCheckPort") or "traffic-port"
    return {
        "protocol": tg.get("HealthCheckProtocol"),
        "port": port,
        "traffic_port": tg.get("Port"),
        "path": tg.get("HealthCheckPath"),
        "matcher": (tg.get("Matcher") or {}).get("HttpCode")
        or (tg.get("Matcher") or {}).get("GrpcCode"),
        "interval_seconds": interval,
        "timeout_seconds": tg.get("HealthCheckTimeoutSeconds"),
        "healthy_threshold": healthy,
        "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
        "enabled": tg.get("HealthCheckEnabled", True),
        # Knowledge Center "codedeploy-elb-deployments": (threshold x interval) + 1 interval
        "expected_allow_traffic_seconds": healthy * interval + interval,
    }


def check_port(tg: dict[str, Any]) -> str:
    port = tg.get("HealthCheckPort") or "traffic-port"
    return str(tg.get("Port") or 80) if port == "traffic-port" else str(port)


def describe_check(tg: dict[str, Any]) -> str:
    """'HTTP GET /health on port 8080 expecting 200' (what the load balancer asks)."""
    s = settings(tg)
    proto = s["protocol"] or "HTTP"
    if proto in ("HTTP", "HTTPS"):
        return (
            f"{proto} GET {s['path'] or '/'} on port {check_port(tg)} expecting "
            f"{s['matcher'] or '200'}"
        )
    return f"{proto} connect to port {check_port(tg)}"


def _seconds(start: Any, end: Any) -> float | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return round((end - start).total_seconds(), 3)
    return None


def traffic_failures(ctx: Any, event: str) -> list[Any]:
    """Failures whose first failed lifecycle event is `event` (BlockTraffic/AllowTraffic)."""
    return [f for f in ctx.ev.failures() if f.event == event]


def event_seconds(ctx: Any, instance_id: str, event: str) -> float | None:
    """How long the named lifecycle event ran on one failed target (from its start/end times)."""
    target = ctx.ev.failed_target_map().get(instance_id) or {}
    for ev in (target.get("instanceTarget") or {}).get("lifecycleEvents") or []:
        if ev.get("lifecycleEventName") == event:
            return _seconds(ev.get("startTime"), ev.get("endTime"))
    return None


def _applies(ctx: Any, *, control: bool = True) -> tuple[dict[str, Any] | None, Result | None]:
    """The group's traffic settings, or the Result that says these checks do not apply."""
    try:
        t = traffic(ctx.ev)
    except Unavailable as u:
        return None, skip(f"no deployment group to look at ({u.reason})")
    if t["type"] != "IN_PLACE" and t["type"]:
        return None, skip("a blue/green deployment group: these checks cover in-place traffic")
    if not t["target_groups"]:
        if t["elbs"]:
            return None, info(
                f"the group uses Classic Load Balancer(s) {', '.join(t['elbs'])}: not examined",
                evidence={"elb_info_list": t["elbs"]},
            )
        return None, skip("the deployment group has no target group (no load balancer)")
    if control and not t["control"]:
        return None, skip(
            "the deployment group names a target group but deploys WITHOUT_TRAFFIC_CONTROL: "
            "CodeDeploy does not block or allow traffic"
        )
    return t, None


# ---- checks -------------------------------------------------------------------------------------


def _health_fix(reason: str, description: str, tg: dict[str, Any], ctx: Any, ids: list[str]):
    """The fix for one unhealthy reason, with this target group's real names and values."""
    arn = tg.get("TargetGroupArn", "TARGET_GROUP_ARN")
    s = settings(tg)
    port = check_port(tg)
    path = s["path"] or "/"
    probe = (
        "aws ssm send-command --document-name AWS-RunShellScript --instance-ids "
        f"{ids[0] if ids else 'INSTANCE_ID'} --parameters "
        f"'commands=[\"curl -s -o /dev/null -w %{{http_code}} http://localhost:{port}{path}\"]'"
    )
    if reason == "Target.ResponseCodeMismatch":
        codes = (_CODES.search(description or "") or [None, ""])[1].replace(" ", "")
        first = codes.split(",")[0] if codes else ""
        other = "/" if path != "/" else "/health"
        if first == "404":
            why = (
                f"{path} does not exist in what you deployed: point the health check at a path "
                f"your application serves (such as {other}), or add {path} to the application"
            )
            cmd = (
                f"aws elbv2 modify-target-group --target-group-arn {arn} "
                f"--health-check-path {other}"
            )
        elif first.startswith("3"):
            why = (
                f"{path} redirects ({codes}), e.g. HTTP to HTTPS or to a login page: check a path "
                "that answers directly, or accept redirects"
            )
            cmd = (
                f"aws elbv2 modify-target-group --target-group-arn {arn} --matcher HttpCode=200-399"
            )
        elif first in ("401", "403"):
            why = (
                f"{path} needs authentication ({codes}): exempt the health check path from it, or "
                f"check an unauthenticated path (such as {other})"
            )
            cmd = (
                f"aws elbv2 modify-target-group --target-group-arn {arn} "
                f"--health-check-path {other}"
            )
        else:
            why = (
                f"the application answers {codes or 'another code'} at {path}: make it answer "
                f"{s['matcher'] or '200'} (read its log), or accept that code"
            )
            cmd = (
                f"aws elbv2 modify-target-group --target-group-arn {arn} "
                f"--matcher HttpCode={s['matcher'] or '200'}"
            )
        return Fix(
            f"The health check ({describe_check(tg)}) got {codes or 'an unexpected code'}: {why}. "
            "Then deploy again.",
            [probe, cmd, "wizard deploy"],
        )
    if reason == "Target.Timeout":
        sgs = _security_groups(ctx, tg, ids)
        inst_sg = sgs["instance"][0] if sgs["instance"] else "INSTANCE_SG"
        lb_sg = sgs["load_balancer"][0] if sgs["load_balancer"] else "LOAD_BALANCER_SG"
        return Fix(
            f"The health check to port {port} timed out after {s['timeout_seconds']} s: the "
            "instances' security group must let the load balancer's security group in on that "
            "port, and the application must answer within the timeout. Then deploy again.",
            [
                f"aws ec2 authorize-security-group-ingress --group-id {inst_sg} --protocol tcp "
                f"--port {port} --source-group {lb_sg}",
                probe,
                "wizard deploy",
            ],
        )
    if reason == "Target.FailedHealthChecks":
        return Fix(
            f"Nothing answered on port {port}: the application is not running after "
            "ApplicationStart, or listens on another port (the target group sends traffic to "
            f"port {tg.get('Port')}). Start it from an ApplicationStart hook, detached, "
            "then deploy again.",
            [
                "aws ssm send-command --document-name AWS-RunShellScript --instance-ids "
                f"{ids[0] if ids else 'INSTANCE_ID'} --parameters "
                f"'commands=[\"ss -ltnp | grep :{port} || echo nothing listens on {port}\"]'",
                "wizard deploy",
            ],
        )
    if reason == "Target.NotInUse":
        return Fix(
            "No listener of a load balancer forwards to this target group (or the instances' "
            "Availability Zone is not enabled on the load balancer): add a listener or rule "
            "that forwards to it.",
            [
                "aws elbv2 create-listener --load-balancer-arn LOAD_BALANCER_ARN --protocol HTTP "
                f"--port 80 --default-actions Type=forward,TargetGroupArn={arn}"
            ],
        )
    if reason == "Target.InvalidState":
        return Fix(
            "The instances are stopped: start them, then deploy again.",
            [f"aws ec2 start-instances --instance-ids {' '.join(ids[:10]) or 'INSTANCE_ID'}"],
        )
    if reason == "Target.HealthCheckDisabled":
        return Fix(
            "Health checks are disabled on the target group: enable them (CodeDeploy waits for "
            "a healthy target).",
            [f"aws elbv2 modify-target-group --target-group-arn {arn} --health-check-enabled"],
        )
    return Fix(
        f"Look at the target group's health ({reason or 'no reason given'}), then deploy again.",
        [f"aws elbv2 describe-target-health --target-group-arn {arn}", "wizard deploy"],
    )


def _security_groups(ctx: Any, tg: dict[str, Any], ids: list[str]) -> dict[str, list[str]]:
    """The instances' and the load balancers' security group ids (for a Timeout fix)."""
    out: dict[str, list[str]] = {"instance": [], "load_balancer": []}
    try:
        insts = ctx.ev.instances()
        for i in ids:
            for g in (insts.get(i) or {}).get("SecurityGroups") or []:
                if g["GroupId"] not in out["instance"]:
                    out["instance"].append(g["GroupId"])
        lbs = load_balancers(ctx.ev, tuple(tg.get("LoadBalancerArns") or ()))
        for lb in lbs.values():
            for g in lb.get("SecurityGroups") or []:
                if g not in out["load_balancer"]:
                    out["load_balancer"].append(g)
    except Exception:  # the names make the fix concrete; without them it still reads right
        pass
    return out


@check("lb.target-health", "Load balancer health checks (AllowTraffic/BlockTraffic)", priority=30)
def target_health(ctx) -> Result:
    """AllowTraffic/BlockTraffic failures: each target's health reason and the check settings."""
    t, not_applicable = _applies(ctx)
    if not_applicable:
        return not_applicable
    assert t is not None
    ev = ctx.ev
    dep = ev.deployment()
    tgs = target_groups(ev)
    missing = [n for n, tg in tgs.items() if tg is None]
    if missing:
        app, group = ev.application, ev.group_name
        return fail(
            f"target group {', '.join(missing)} named by the deployment group does not exist",
            evidence={"missing_target_groups": missing},
            fix=Fix(
                "Point the deployment group at an existing target group (or create it).",
                [
                    f"aws deploy update-deployment-group --application-name {app} "
                    f"--current-deployment-group-name {group} --load-balancer-info "
                    "targetGroupInfoList=[{name=TARGET_GROUP_NAME}]"
                ],
            ),
        )
    allow = traffic_failures(ctx, "AllowTraffic") if dep else []
    block = traffic_failures(ctx, "BlockTraffic") if dep else []
    checks_info = {name: settings(tg) for name, tg in tgs.items() if tg}
    evidence: dict[str, Any] = {"target_groups": checks_info}
    if not allow and not block:
        slow = {
            n: s["expected_allow_traffic_seconds"]
            for n, s in checks_info.items()
            if s["expected_allow_traffic_seconds"] >= 600
        }
        if slow:
            name, secs = next(iter(slow.items()))
            s = checks_info[name]
            return warn(
                f"AllowTraffic waits about {secs} s per instance on {name} "
                f"({s['healthy_threshold']} healthy checks x {s['interval_seconds']} s + one "
                "interval)",
                evidence=evidence,
                fix=Fix(
                    "Shorten the health check interval or the healthy threshold to make "
                    "deployments faster.",
                    [
                        f"aws elbv2 modify-target-group --target-group-arn "
                        f"{tgs[name]['TargetGroupArn']} --health-check-interval-seconds 10 "
                        "--healthy-threshold-count 3"
                    ],
                ),
            )
        return passed(
            "no instance failed at BlockTraffic or AllowTraffic"
            if dep
            else f"{len(tgs)} target group(s) with health checks: "
            + "; ".join(f"{n}: {describe_check(tg)}" for n, tg in tgs.items() if tg),
            evidence=evidence,
        )
    total = sum(int(v or 0) for v in ((dep or {}).get("deploymentOverview") or {}).values()) or None
    if not allow:
        # BlockTraffic only: the deregistration delay is the usual cause (lb.deregistration-delay)
        ids = [f.instance_id for f in block]
        return fail(
            f"{count_phrase(len(block), total)} failed at BlockTraffic: deregistering from "
            f"{', '.join(tgs)} did not finish within the event",
            evidence={**evidence, "block_traffic_failed": ids},
            instances=ids,
            fix=Fix(
                "See lb.deregistration-delay: a deregistration delay as long as the lifecycle "
                "event's window cannot finish; shorten it, then deploy again.",
                [
                    *[
                        f"aws elbv2 modify-target-group-attributes --target-group-arn "
                        f"{tg['TargetGroupArn']} --attributes "
                        "Key=deregistration_delay.timeout_seconds,Value=300"
                        for tg in tgs.values()
                        if tg
                    ][:1],
                    "wizard deploy",
                ],
            ),
        )
    ids = tuple(sorted({f.instance_id for f in allow}))
    rows = []
    for name, tg in tgs.items():
        if tg is None:
            continue
        states = health(ev, tg["TargetGroupArn"], ids)
        for iid in ids:
            h = states.get(iid) or {}
            rows.append(
                {
                    "target_group": name,
                    "instance": iid,
                    "state": h.get("State", "unknown"),
                    "reason": h.get("Reason") or "",
                    "description": h.get("Description") or "",
                }
            )
    bad = [r for r in rows if r["state"] != "healthy"]
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for r in bad or rows:
        key = (r["target_group"], r["state"], r["reason"], r["description"])
        groups.setdefault(key, []).append(r["instance"])
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    evidence["allow_traffic_failed"] = [
        {
            "target_group": k[0],
            "state": k[1],
            "reason": k[2],
            "description": k[3],
            "meaning": REASONS.get(k[2], ""),
            "count": len(v),
            "instances": v,
        }
        for k, v in ranked
    ]
    waited = event_seconds(ctx, ids[0], "AllowTraffic")
    evidence["allow_traffic_event_seconds"] = waited
    (tg_name, state, reason, description), first_ids = ranked[0]
    tg = tgs[tg_name] or {}
    s = settings(tg)
    if not bad:
        return fail(
            f"{count_phrase(len(allow), total)} failed at AllowTraffic, but the targets are "
            f"healthy in {tg_name} now: the health checks passed only after CodeDeploy gave up "
            f"(a healthy target needs about {s['expected_allow_traffic_seconds']} s: "
            f"{s['healthy_threshold']} checks x {s['interval_seconds']} s + one interval)",
            evidence=evidence,
            instances=list(ids),
            fix=Fix(
                "The application starts slower than the health checks allow: make "
                "ApplicationStart/ValidateService wait until it answers, then deploy again.",
                ["wizard deploy"],
            ),
        )
    what = REASONS.get(reason, reason or state)
    summary = (
        f"{count_phrase(len(first_ids), total)} failed at AllowTraffic: {state} in {tg_name}"
        + (f" — {reason}" if reason else "")
        + (f" ({description})" if description else "")
        + f"; health check {describe_check(tg)}"
    )
    if len(ranked) > 1:
        summary += f" (+{len(ranked) - 1} other kind{'s' if len(ranked) > 2 else ''})"
    evidence["explanation"] = what
    return fail(
        summary,
        evidence=evidence,
        instances=list(ids),
        fix=_health_fix(reason, description, tg, ctx, first_ids),
    )


@check("lb.deregistration-delay", "Deregistration delay fits the BlockTraffic event", priority=32)
def deregistration_delay(ctx) -> Result:
    """The target groups' deregistration delay (plus one health check interval) fits the
    lifecycle event's one-hour window; BlockTraffic waits it out on every instance."""
    _, not_applicable = _applies(ctx)
    if not_applicable:
        return not_applicable
    ev = ctx.ev
    tgs = {n: tg for n, tg in target_groups(ev).items() if tg}
    if not tgs:
        return skip("the deployment group's target groups do not exist (see lb.target-health)")
    rows = []
    for name, tg in tgs.items():
        attrs = attributes(ev, tg["TargetGroupArn"])
        try:
            delay = int(attrs.get("deregistration_delay.timeout_seconds", ""))
        except ValueError:
            delay = DEFAULT_DEREGISTRATION_DELAY
        interval = int(tg.get("HealthCheckIntervalSeconds") or 30)
        rows.append(
            {
                "target_group": name,
                "arn": tg["TargetGroupArn"],
                "deregistration_delay_seconds": delay,
                "interval_seconds": interval,
                # Knowledge Center: CodeDeploy waits the draining plus one more interval
                "expected_block_traffic_seconds": delay + interval,
            }
        )
    evidence: dict[str, Any] = {"target_groups": rows, "event_window_seconds": EVENT_WINDOW}
    dep = ev.deployment()
    block = traffic_failures(ctx, "BlockTraffic") if dep else []
    worst = max(rows, key=lambda r: r["expected_block_traffic_seconds"])
    too_long = worst["expected_block_traffic_seconds"] >= EVENT_WINDOW
    fix = Fix(
        f"Shorten the deregistration delay of {worst['target_group']} so that draining "
        f"({worst['deregistration_delay_seconds']} s) plus one health check interval "
        f"({worst['interval_seconds']} s) fits in the event: a few seconds longer than your "
        "longest request is enough. Then deploy again.",
        [
            f"aws elbv2 modify-target-group-attributes --target-group-arn {worst['arn']} "
            "--attributes Key=deregistration_delay.timeout_seconds,Value=60",
            "wizard deploy",
        ],
    )
    ids = [f.instance_id for f in block]
    total = sum(int(v or 0) for v in ((dep or {}).get("deploymentOverview") or {}).values()) or None
    if too_long:
        head = (
            f"{count_phrase(len(block), total)} failed at BlockTraffic: "
            if block
            else "BlockTraffic cannot finish: "
        )
        return fail(
            f"{head}{worst['target_group']} drains for {worst['deregistration_delay_seconds']} s "
            f"(+{worst['interval_seconds']} s interval), longer than the {EVENT_WINDOW} s a "
            "lifecycle event may take",
            evidence=evidence,
            instances=ids,
            fix=fix,
        )
    if block:
        return info(
            f"{worst['target_group']} drains for {worst['deregistration_delay_seconds']} s: that "
            "fits in the event, so it does not explain the BlockTraffic failure",
            evidence=evidence,
            instances=ids,
        )
    return passed(
        f"BlockTraffic waits about {worst['expected_block_traffic_seconds']} s per instance "
        f"({worst['target_group']}: deregistration delay {worst['deregistration_delay_seconds']} s "
        f"+ {worst['interval_seconds']} s interval)",
        evidence=evidence,
    )


@check("lb.targets-registered", "Target groups have registered targets", priority=34)
def targets_registered(ctx) -> Result:
    """Each target group of the deployment group has registered targets for its load balancer."""
    _, not_applicable = _applies(ctx, control=False)
    if not_applicable:
        return not_applicable
    ev = ctx.ev
    tgs = {n: tg for n, tg in target_groups(ev).items() if tg}
    if not tgs:
        return skip("the deployment group's target groups do not exist (see lb.target-health)")
    rows = []
    for name, tg in tgs.items():
        states = health(ev, tg["TargetGroupArn"])
        registered = {i: h for i, h in states.items() if h.get("State") != "unused"}
        by_state: dict[str, int] = {}
        for h in registered.values():
            by_state[h.get("State", "?")] = by_state.get(h.get("State", "?"), 0) + 1
        rows.append(
            {
                "target_group": name,
                "arn": tg["TargetGroupArn"],
                "registered": len(registered),
                "by_state": by_state,
                "load_balancers": list(tg.get("LoadBalancerArns") or []),
            }
        )
    evidence: dict[str, Any] = {"target_groups": rows}
    empty = [r for r in rows if not r["registered"]]
    unused = [r for r in rows if not r["load_balancers"]]
    if unused:
        r = unused[0]
        return fail(
            f"target group {r['target_group']} is not used by any load balancer: no listener "
            "forwards to it, so the deployed instances get no traffic",
            evidence=evidence,
            fix=Fix(
                "Add a listener (or a rule) that forwards to the target group.",
                [
                    "aws elbv2 create-listener --load-balancer-arn LOAD_BALANCER_ARN --protocol "
                    f"HTTP --port 80 --default-actions Type=forward,TargetGroupArn={r['arn']}"
                ],
            ),
        )
    if not empty:
        return passed(
            "; ".join(
                f"{r['target_group']}: {r['registered']} registered "
                f"({', '.join(f'{v} {k}' for k, v in sorted(r['by_state'].items()))})"
                for r in rows
            ),
            evidence=evidence,
        )
    r = empty[0]
    dep = ev.deployment()
    app, group = ev.application, ev.group_name
    asgs = [a.get("name") for a in (ev.group().get("autoScalingGroups") or []) if a.get("name")]
    evidence["auto_scaling_groups"] = asgs
    failed_after_block = [
        f
        for f in (ev.failures() if dep else [])
        if (f.events or {}).get("BlockTraffic") == "Succeeded"
        and (f.events or {}).get("AllowTraffic") in ("Skipped", "Pending", None)
    ]
    if failed_after_block:
        ids = [f.instance_id for f in failed_after_block]
        return warn(
            f"target group {r['target_group']} has no registered targets: CodeDeploy "
            f"deregistered {count_phrase(len(ids), None)} in BlockTraffic and the deployment "
            f"failed before AllowTraffic ({id_list(ids)}); the load balancer answers 503 until "
            "a deployment succeeds",
            evidence=evidence,
            instances=ids,
            fix=Fix(
                "Fix the deployment's failure (the other checks name it) and deploy again; "
                "with rollback enabled, CodeDeploy redeploys the last good revision.",
                ["wizard deploy"],
            ),
        )
    if asgs:
        cmds = [
            f"aws autoscaling attach-load-balancer-target-groups --auto-scaling-group-name {a} "
            f"--target-group-arns {r['arn']}"
            for a in asgs
        ]
        how = (
            f"Attach the target group to the Auto Scaling group ({', '.join(asgs)}) so that its "
            "instances are registered, then deploy."
        )
    else:
        cmds = [
            f"aws elbv2 register-targets --target-group-arn {r['arn']} --targets Id=INSTANCE_ID",
            "wizard deploy",
        ]
        how = (
            "Register the deployment group's instances with the target group (a successful "
            "deployment WITH_TRAFFIC_CONTROL registers them in AllowTraffic)."
        )
    return fail(
        f"target group {r['target_group']} has no registered targets: the load balancer has "
        f"nothing to send traffic to (503) for {app}/{group}",
        evidence=evidence,
        fix=Fix(how, cmds),
    )


__all__ = [
    "EVENT_WINDOW",
    "REASONS",
    "attributes",
    "describe_check",
    "health",
    "settings",
    "target_groups",
    "traffic",
]
