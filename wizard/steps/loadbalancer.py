"""Traffic control: the target group CodeDeploy deregisters and registers instances in, and (when
`load_balancer.create`) an internet-facing Application Load Balancer with an HTTP listener.

With `load_balancer.create: true` the wizard makes, on the instances' VPC:

- a security group for the load balancer (HTTP 80 from anywhere) and, when it also creates the Auto
  Scaling group, one for the instances that admits `load_balancer.port` only from the load
  balancer's group (the launch template uses it);
- a target group (HTTP on `port`, target type `instance`, the only type CodeDeploy's EC2 traffic
  control registers) whose health check asks `health_check_path` every 10 s and counts a target
  healthy after 2 answers of 200, and whose deregistration delay is 30 s instead of ELB's 300 s:
  BlockTraffic waits for the delay on every instance, so the default costs five minutes per batch
  (ELB user guide, "Deregistration delay"; CodeDeploy user guide, "Integrating CodeDeploy with
  Elastic Load Balancing"). These numbers are set at creation and left alone afterwards, so a
  tuned value survives `apply`; the health check path is managed;
- the load balancer on one subnet per Availability Zone (ALB needs at least two) and a listener on
  HTTP 80 that forwards to the target group.

With `load_balancer.target_group: NAME` the target group is adopted as it is: it must exist in the
region and take instances.

Everything created carries the ownership tag; `destroy` finds the load balancers, target groups and
security groups by that tag and removes them in dependency order (load balancer with its listeners,
target group, then the security groups, instances' first since its rule names the other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizard import TAG_KEY, naming
from wizard.errors import WizardError
from wizard.steps.base import Change, ConflictError, StepContext, error_code, tag_dict, tag_hint

NAME = "loadbalancer"
CHECKS = ["lb.deregistration-delay"]
LISTENER_PORT = 80
HEALTH_CHECK = {
    "HealthCheckProtocol": "HTTP",
    "HealthCheckPort": "traffic-port",
    "HealthCheckIntervalSeconds": 10,
    "HealthCheckTimeoutSeconds": 5,
    "HealthyThresholdCount": 2,
    "UnhealthyThresholdCount": 2,
    "Matcher": {"HttpCode": "200"},
}
DEREGISTRATION_DELAY = 30
TAG_BATCH = 20  # elbv2 DescribeTags takes at most 20 ARNs


def target_group_name(project: Any) -> str:
    """The target group traffic goes through: the adopted one (its name, also when given as an
    ARN), or the one the wizard creates."""
    given = project.load_balancer.target_group
    if not given:
        return naming.target_group(project.application)
    if given.startswith("arn:"):
        return given.rsplit(":targetgroup/", 1)[-1].split("/", 1)[0]
    return given


# --------------------------------------------------------------------------- network
def network(sc: StepContext) -> dict[str, Any]:
    """Where the fleet lives: {"vpc", "asg_subnets": [ids], "alb_subnets": [ids], "where"}.

    `instances.subnet` pins the instances to that subnet (and its VPC); otherwise the default
    VPC's default subnets in the Availability Zones that offer the instance type (us-east-1e, for
    one, has no t3). The load balancer takes one subnet per zone of the same VPC, the instances'
    zones included, since an ALB sends nothing to targets in a zone it is not enabled in.
    ConflictError when there is nowhere to go.
    """
    if "network" in sc.cache:
        return sc.cache["network"]
    ec2 = sc.client("ec2")
    subnet_id = sc.project.instances.subnet
    if subnet_id:
        try:
            found = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
        except Exception as exc:
            if error_code(exc) != "InvalidSubnetID.NotFound":
                raise
            found = []
        if not found:
            raise ConflictError(
                f"the subnet {subnet_id} does not exist in {sc.region}",
                fix="Set instances.subnet to a subnet of this region, or leave it empty for the "
                "default VPC.",
            )
        vpc = found[0]["VpcId"]
        asg_subnets = found
        where = f"subnet {subnet_id} of {vpc}"
    else:
        from wizard.steps.instances import default_vpc_subnets

        vpc, defaults = default_vpc_subnets(sc)
        zones = _zones_offering(sc, sc.project.instances.instance_type)
        asg_subnets = [s for s in defaults if zones is None or s["AvailabilityZone"] in zones]
        if not asg_subnets:
            raise ConflictError(
                f"no Availability Zone of {sc.region} offers {sc.project.instances.instance_type}",
                fix="Set instances.instance_type to a type the region offers, e.g. t3.micro.",
            )
        where = f"the default VPC {vpc}"
    all_subnets = [
        s
        for page in ec2.get_paginator("describe_subnets").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}]
        )
        for s in page["Subnets"]
    ]
    per_zone: dict[str, dict] = {}
    pinned = {s["SubnetId"] for s in asg_subnets}
    # one subnet per zone: the instances' own first, then the zone's default, then the lowest id
    for s in sorted(
        all_subnets,
        key=lambda s: (s["SubnetId"] not in pinned, not s.get("DefaultForAz"), s["SubnetId"]),
    ):
        per_zone.setdefault(s["AvailabilityZone"], s)
    sc.cache["network"] = {
        "vpc": vpc,
        "asg_subnets": [s["SubnetId"] for s in sorted(asg_subnets, key=_zone)],
        "alb_subnets": [per_zone[z]["SubnetId"] for z in sorted(per_zone)],
        "where": where,
    }
    return sc.cache["network"]


def _zone(subnet: dict) -> str:
    return subnet["AvailabilityZone"]


def _zones_offering(sc: StepContext, instance_type: str) -> set[str] | None:
    """Zones that offer the type (DescribeInstanceTypeOfferings); None when it cannot be read."""
    try:
        pages = (
            sc.client("ec2")
            .get_paginator("describe_instance_type_offerings")
            .paginate(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": [instance_type]}],
            )
        )
        return {o["Location"] for page in pages for o in page["InstanceTypeOfferings"]}
    except Exception as exc:
        if error_code(exc) in ("UnauthorizedOperation", "AccessDenied"):
            return None
        raise


# --------------------------------------------------------------------------- discovery
def get_target_group(sc: StepContext, name_or_arn: str) -> dict | None:
    elb = sc.client("elbv2")
    key = "TargetGroupArns" if name_or_arn.startswith("arn:") else "Names"
    try:
        found = elb.describe_target_groups(**{key: [name_or_arn]})["TargetGroups"]
    except Exception as exc:
        if error_code(exc) in ("TargetGroupNotFound", "ValidationError"):
            return None
        raise
    return found[0] if found else None


def get_load_balancer(sc: StepContext, name: str) -> dict | None:
    try:
        found = sc.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    except Exception as exc:
        if error_code(exc) == "LoadBalancerNotFound":
            return None
        raise
    return found[0] if found else None


def elb_tags(sc: StepContext, arns: list[str]) -> dict[str, dict[str, str]]:
    """Tags of ELB resources by ARN (DescribeTags, 20 ARNs a call)."""
    out: dict[str, dict[str, str]] = {}
    elb = sc.client("elbv2")
    for i in range(0, len(arns), TAG_BATCH):
        resp = elb.describe_tags(ResourceArns=arns[i : i + TAG_BATCH])
        for desc in resp.get("TagDescriptions", []):
            out[desc["ResourceArn"]] = tag_dict(desc.get("Tags"))
    return out


def _ours(sc: StepContext, arn: str) -> bool:
    return elb_tags(sc, [arn]).get(arn, {}).get(TAG_KEY) == sc.application


def get_security_group(sc: StepContext, vpc: str, name: str) -> dict | None:
    found = sc.client("ec2").describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": [name]},
        ]
    )["SecurityGroups"]
    return found[0] if found else None


def our_target_group_arn(sc: StepContext) -> str | None:
    """The ARN of the target group the deployment group uses (created or adopted), if it exists."""
    lb = sc.project.load_balancer
    if not lb.enabled:
        return None
    tg = get_target_group(sc, lb.target_group or target_group_name(sc.project))
    return tg["TargetGroupArn"] if tg else None


def instance_security_group_id(sc: StepContext) -> str | None:
    """The instances' security group (only with load_balancer.create), if it exists."""
    if not sc.project.load_balancer.create:
        return None
    net = network(sc)
    sg = get_security_group(sc, net["vpc"], naming.instance_security_group(sc.application))
    return sg["GroupId"] if sg else None


def _wants_instance_sg(sc: StepContext) -> bool:
    asg = sc.project.instances.auto_scaling
    return sc.project.load_balancer.create and asg is not None and not asg.name


# --------------------------------------------------------------------------- desired rules
def _sg_rules(sc: StepContext, which: str, alb_sg_id: str | None) -> list[dict]:
    if which == "alb":
        return [
            {
                "IpProtocol": "tcp",
                "FromPort": LISTENER_PORT,
                "ToPort": LISTENER_PORT,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}],
            }
        ]
    port = sc.project.load_balancer.port
    pair = {"GroupId": alb_sg_id or "sg-?", "Description": "from the load balancer"}
    return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [pair]}]


def _has_rule(sg: dict, rule: dict) -> bool:
    for perm in sg.get("IpPermissions") or []:
        if (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort")) != (
            rule["IpProtocol"],
            rule["FromPort"],
            rule["ToPort"],
        ):
            continue
        if "IpRanges" in rule:
            want = {r["CidrIp"] for r in rule["IpRanges"]}
            if want <= {r.get("CidrIp") for r in perm.get("IpRanges") or []}:
                return True
        else:
            want = {p["GroupId"] for p in rule["UserIdGroupPairs"]}
            if want <= {p.get("GroupId") for p in perm.get("UserIdGroupPairs") or []}:
                return True
    return False


# --------------------------------------------------------------------------- plan
def plan(sc: StepContext) -> list[Change]:
    lb = sc.project.load_balancer
    if not lb.enabled:
        return []
    if lb.target_group:
        return [_plan_adopted_target_group(sc)]
    try:
        net = network(sc)
    except ConflictError as exc:
        return [
            Change(
                step=NAME,
                resource="elbv2:load-balancer",
                name=naming.load_balancer(sc.application),
                action="conflict",
                description=exc.message,
                fix=exc.fix,
            )
        ]
    out = [_plan_sg(sc, net, "alb")]
    if _wants_instance_sg(sc):
        out.append(_plan_sg(sc, net, "instances"))
    else:  # tagged instances or an adopted group: their security groups are not the wizard's
        port = sc.project.load_balancer.port
        out[0].warning = (
            f"the instances must admit TCP {port} from the security group "
            f"{out[0].name} for the health checks and traffic to reach them: aws ec2 "
            f"authorize-security-group-ingress --group-id INSTANCE_SG --protocol tcp --port {port} "
            f"--source-group {out[0].data.get('id') or out[0].name}"
        )
    out.append(_plan_target_group(sc, net))
    out.extend(_plan_load_balancer(sc, net))
    return out


def _plan_sg(sc: StepContext, net: dict, which: str) -> Change:
    p = sc.project
    name = (
        naming.alb_security_group(p.application)
        if which == "alb"
        else naming.instance_security_group(p.application)
    )
    base = {
        "step": NAME,
        "resource": "ec2:security-group",
        "name": name,
        "data": {"which": which},
    }
    what = (
        f"HTTP {LISTENER_PORT} from anywhere"
        if which == "alb"
        else f"TCP {p.load_balancer.port} only from {naming.alb_security_group(p.application)}"
    )
    sg = get_security_group(sc, net["vpc"], name)
    if sg is not None:
        base["data"]["id"] = sg["GroupId"]
    if sg is None:
        return Change(
            **base,
            action="create",
            description=f"create the security group {name} in {net['vpc']}: {what}",
            calls=["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress"],
        )
    if tag_dict(sg.get("Tags")).get(TAG_KEY) != p.application:
        return Change(
            **base,
            action="conflict",
            description=f"the security group {name} ({sg['GroupId']}) exists and was not "
            "created by the wizard",
            fix=tag_hint(
                f"aws ec2 create-tags --resources {sg['GroupId']} "
                f"--tags Key={TAG_KEY},Value={p.application}"
            ),
        )
    alb_sg = None
    if which == "instances":
        found = get_security_group(sc, net["vpc"], naming.alb_security_group(p.application))
        alb_sg = found["GroupId"] if found else None
    if alb_sg is not None or which == "alb":
        missing = [r for r in _sg_rules(sc, which, alb_sg) if not _has_rule(sg, r)]
    else:
        missing = [None]
    if not missing:
        return Change(**base, action="noop", description=f"the security group {name} admits {what}")
    return Change(
        **base,
        action="update",
        description=f"let the security group {name} admit {what}",
        calls=["ec2:AuthorizeSecurityGroupIngress"],
    )


def _plan_target_group(sc: StepContext, net: dict) -> Change:
    p = sc.project
    name = target_group_name(p)
    lb = p.load_balancer
    base = {"step": NAME, "resource": "elbv2:target-group", "name": name, "checks": list(CHECKS)}
    what = (
        f"HTTP port {lb.port} in {net['vpc']}, health check {lb.health_check_path} every "
        f"{HEALTH_CHECK['HealthCheckIntervalSeconds']} s, deregistration delay "
        f"{DEREGISTRATION_DELAY} s"
    )
    tg = get_target_group(sc, name)
    if tg is None:
        return Change(
            **base,
            action="create",
            description=f"create the target group {name}: {what}",
            calls=[
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
            ],
        )
    arn = tg["TargetGroupArn"]
    if not _ours(sc, arn):
        return Change(
            **base,
            action="conflict",
            description=f"the target group {name} exists and was not created by the wizard",
            fix=tag_hint(
                f"aws elbv2 add-tags --resource-arns {arn} --tags Key={TAG_KEY},"
                f"Value={p.application}"
            )
            + f" Or adopt it as it is: load_balancer: {{target_group: {name}}}.",
        )
    if tg.get("Port") != lb.port or tg.get("VpcId") != net["vpc"]:
        was = f"port {tg.get('Port')} in {tg.get('VpcId')}"
        return Change(
            **base,
            action="conflict",
            description=f"the target group {name} serves {was}, the project wants port "
            f"{lb.port} in {net['vpc']}; a target group's port and VPC cannot change",
            fix="Run `wizard destroy` and `wizard apply` to rebuild the load balancer, or set "
            f"load_balancer.port: {tg.get('Port')}.",
        )
    if tg.get("HealthCheckPath") != lb.health_check_path:
        return Change(
            **base,
            action="update",
            description=f"update the target group {name}: health check path "
            f"{tg.get('HealthCheckPath')} → {lb.health_check_path}",
            calls=["elasticloadbalancing:ModifyTargetGroup"],
        )
    return Change(**base, action="noop", description=f"the target group {name} is set up: {what}")


def _plan_load_balancer(sc: StepContext, net: dict) -> list[Change]:
    p = sc.project
    name = naming.load_balancer(p.application)
    tg_name = target_group_name(p)
    base = {"step": NAME, "resource": "elbv2:load-balancer", "name": name}
    if len(net["alb_subnets"]) < 2:
        return [
            Change(
                **base,
                action="conflict",
                description=f"an Application Load Balancer needs subnets in two Availability "
                f"Zones; {net['vpc']} has subnets in one",
                fix=f"Add a subnet in another zone to {net['vpc']}, or adopt an existing target "
                "group: load_balancer: {target_group: NAME}.",
            )
        ]
    lsn = {"step": NAME, "resource": "elbv2:listener", "name": f"{name}:{LISTENER_PORT}"}
    listener_new = Change(
        **lsn,
        action="create",
        description=f"create an HTTP listener on port {LISTENER_PORT} of {name} that forwards "
        f"to {tg_name}",
        calls=["elasticloadbalancing:CreateListener"],
    )
    alb = get_load_balancer(sc, name)
    if alb is None:
        return [
            Change(
                **base,
                action="create",
                description=f"create the internet-facing Application Load Balancer {name} on "
                f"{len(net['alb_subnets'])} subnets of {net['vpc']} (one per Availability "
                f"Zone) with the security group {naming.alb_security_group(p.application)}",
                calls=["elasticloadbalancing:CreateLoadBalancer"],
            ),
            listener_new,
        ]
    if not _ours(sc, alb["LoadBalancerArn"]):
        return [
            Change(
                **base,
                action="conflict",
                description=f"the load balancer {name} exists and was not created by the wizard",
                fix=tag_hint(
                    f"aws elbv2 add-tags --resource-arns {alb['LoadBalancerArn']} "
                    f"--tags Key={TAG_KEY},Value={p.application}"
                )
                + " Or adopt its target group: load_balancer: {target_group: NAME}.",
            )
        ]
    out = [
        Change(
            **base,
            action="noop",
            description=f"the load balancer {name} exists (http://{alb.get('DNSName', '')}/)",
        )
    ]
    listener = _listener(sc, alb["LoadBalancerArn"])
    if listener is None:
        out.append(listener_new)
        return out
    tg = get_target_group(sc, tg_name)
    if tg is not None and _forwards_to(listener, tg["TargetGroupArn"]):
        out.append(
            Change(
                **lsn,
                action="noop",
                description=f"the listener on port {LISTENER_PORT} forwards to {tg_name}",
            )
        )
    else:
        out.append(
            Change(
                **lsn,
                action="update",
                description=f"make the listener on port {LISTENER_PORT} of {name} forward to "
                f"{tg_name}",
                calls=["elasticloadbalancing:ModifyListener"],
            )
        )
    return out


def _listener(sc: StepContext, alb_arn: str) -> dict | None:
    pages = sc.client("elbv2").get_paginator("describe_listeners").paginate(LoadBalancerArn=alb_arn)
    for page in pages:
        for lsn in page.get("Listeners", []):
            if lsn.get("Port") == LISTENER_PORT:
                return lsn
    return None


def _forwards_to(listener: dict, tg_arn: str) -> bool:
    for action in listener.get("DefaultActions") or []:
        if action.get("TargetGroupArn") == tg_arn:
            return True
        groups = ((action.get("ForwardConfig") or {}).get("TargetGroups")) or []
        if any(g.get("TargetGroupArn") == tg_arn for g in groups):
            return True
    return False


def _plan_adopted_target_group(sc: StepContext) -> Change:
    p = sc.project
    given = p.load_balancer.target_group or ""
    name = target_group_name(p)
    base = {"step": NAME, "resource": "elbv2:target-group", "name": name, "checks": list(CHECKS)}
    tg = get_target_group(sc, given)
    if tg is None:
        return Change(
            **base,
            action="conflict",
            description=f"there is no target group {given} in {sc.region}",
            fix="Set load_balancer.target_group to a target group of this region "
            "(aws elbv2 describe-target-groups), or load_balancer.create: true to make one.",
        )
    if tg.get("TargetType", "instance") != "instance":
        return Change(
            **base,
            action="conflict",
            description=f"the target group {name} takes targets of type {tg.get('TargetType')}; "
            "CodeDeploy registers EC2 instances, so it needs type instance",
            fix="Create a target group with --target-type instance and set "
            "load_balancer.target_group to it.",
        )
    warning = None
    if not tg.get("LoadBalancerArns"):
        warning = (
            f"no load balancer sends traffic to {name}: attach it to a listener, or the "
            "deployment's traffic control has nothing to shift"
        )
    return Change(
        **base,
        action="noop",
        description=f"use the existing target group {name} ({tg.get('Protocol')} port "
        f"{tg.get('Port')}, health check {tg.get('HealthCheckPath') or 'TCP'}) for traffic "
        "control; the wizard leaves it as it is",
        warning=warning,
        data={"arn": tg["TargetGroupArn"]},
    )


# --------------------------------------------------------------------------- apply
def apply(sc: StepContext, change: Change) -> None:
    if change.resource == "ec2:security-group":
        ensure_security_group(sc, change.data["which"])
    elif change.resource == "elbv2:target-group":
        if sc.project.load_balancer.target_group:
            sc.outputs["target_group_arn"] = change.data.get("arn")
            return
        ensure_target_group(sc)
    elif change.resource == "elbv2:load-balancer":
        ensure_load_balancer(sc)
    elif change.resource == "elbv2:listener":
        ensure_listener(sc)


def ensure_security_group(sc: StepContext, which: str) -> str:
    """Create or complete one of our security groups; returns its id."""
    p = sc.project
    net = network(sc)
    ec2 = sc.client("ec2")
    if which == "alb":
        name = naming.alb_security_group(p.application)
        desc = f"codedeploy-wizard: HTTP to the {p.application} load balancer"
        alb_sg = None
    else:
        name = naming.instance_security_group(p.application)
        desc = f"codedeploy-wizard: {p.application} instances, from its load balancer only"
        alb_sg = ensure_security_group(sc, "alb")
    sg = get_security_group(sc, net["vpc"], name)
    if sg is None:
        try:
            gid = ec2.create_security_group(
                GroupName=name,
                Description=desc[:255],
                VpcId=net["vpc"],
                TagSpecifications=[{"ResourceType": "security-group", "Tags": sc.tag_list()}],
            )["GroupId"]
        except Exception as exc:
            if error_code(exc) != "InvalidGroup.Duplicate":
                raise
            sg = get_security_group(sc, net["vpc"], name)
            assert sg is not None
        else:
            sg = {"GroupId": gid, "IpPermissions": [], "Tags": sc.tag_list()}
    if tag_dict(sg.get("Tags")).get(TAG_KEY) != p.application:
        raise ConflictError(f"the security group {name} exists and was not created by the wizard")
    missing = [r for r in _sg_rules(sc, which, alb_sg) if not _has_rule(sg, r)]
    if missing:
        try:
            ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=missing)
        except Exception as exc:
            if error_code(exc) != "InvalidPermission.Duplicate":
                raise
    sc.cache[f"sg:{which}"] = sg["GroupId"]
    return sg["GroupId"]


def ensure_target_group(sc: StepContext) -> str:
    p = sc.project
    lb = p.load_balancer
    name = target_group_name(p)
    elb = sc.client("elbv2")
    tg = get_target_group(sc, name)
    if tg is None:
        # CreateTargetGroup is idempotent for the same settings: a retried call returns the group
        tg = elb.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=lb.port,
            VpcId=network(sc)["vpc"],
            TargetType="instance",
            HealthCheckEnabled=True,
            HealthCheckPath=lb.health_check_path,
            Tags=sc.tag_list(),
            **HEALTH_CHECK,
        )["TargetGroups"][0]
        elb.modify_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"],
            Attributes=[
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(DEREGISTRATION_DELAY)}
            ],
        )
    elif not _ours(sc, tg["TargetGroupArn"]):
        raise ConflictError(f"the target group {name} exists and was not created by the wizard")
    elif tg.get("HealthCheckPath") != lb.health_check_path:
        elb.modify_target_group(
            TargetGroupArn=tg["TargetGroupArn"], HealthCheckPath=lb.health_check_path
        )
    sc.outputs["target_group_arn"] = tg["TargetGroupArn"]
    return tg["TargetGroupArn"]


def ensure_load_balancer(sc: StepContext) -> dict:
    p = sc.project
    name = naming.load_balancer(p.application)
    alb = get_load_balancer(sc, name)
    if alb is None:
        sg = sc.cache.get("sg:alb") or ensure_security_group(sc, "alb")
        alb = sc.client("elbv2").create_load_balancer(
            Name=name,
            Subnets=network(sc)["alb_subnets"],
            SecurityGroups=[sg],
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
            Tags=sc.tag_list(),
        )["LoadBalancers"][0]
    elif not _ours(sc, alb["LoadBalancerArn"]):
        raise ConflictError(f"the load balancer {name} exists and was not created by the wizard")
    sc.outputs["load_balancer_url"] = f"http://{alb.get('DNSName', '')}/"
    return alb


def ensure_listener(sc: StepContext) -> None:
    alb = ensure_load_balancer(sc)
    tg_arn = ensure_target_group(sc)
    elb = sc.client("elbv2")
    forward = [{"Type": "forward", "TargetGroupArn": tg_arn}]
    listener = _listener(sc, alb["LoadBalancerArn"])
    if listener is None:
        elb.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=LISTENER_PORT,
            DefaultActions=forward,
            Tags=sc.tag_list(),
        )
    elif not _forwards_to(listener, tg_arn):
        elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=forward)


# --------------------------------------------------------------------------- destroy
def _our_elb(sc: StepContext, kind: str) -> list[dict]:
    """Our load balancers or target groups in the region, found by the ownership tag."""
    elb = sc.client("elbv2")
    if kind == "load-balancer":
        items = [
            x
            for page in elb.get_paginator("describe_load_balancers").paginate()
            for x in page["LoadBalancers"]
        ]
        arn_key = "LoadBalancerArn"
    else:
        items = [
            x
            for page in elb.get_paginator("describe_target_groups").paginate()
            for x in page["TargetGroups"]
        ]
        arn_key = "TargetGroupArn"
    tags = elb_tags(sc, [x[arn_key] for x in items])
    return [x for x in items if tags.get(x[arn_key], {}).get(TAG_KEY) == sc.application]


def our_security_groups(sc: StepContext) -> list[dict]:
    return sc.client("ec2").describe_security_groups(
        Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [sc.application]}]
    )["SecurityGroups"]


def destroy_plan(sc: StepContext) -> list[Change]:
    out: list[Change] = []
    for alb in _our_elb(sc, "load-balancer"):
        out.append(
            Change(
                step=NAME,
                resource="elbv2:load-balancer",
                name=alb["LoadBalancerName"],
                action="delete",
                description=f"delete the load balancer {alb['LoadBalancerName']} with its "
                "listeners and wait until it is gone",
                calls=["elasticloadbalancing:DeleteLoadBalancer"],
                data={"arn": alb["LoadBalancerArn"]},
            )
        )
    for tg in _our_elb(sc, "target-group"):
        out.append(
            Change(
                step=NAME,
                resource="elbv2:target-group",
                name=tg["TargetGroupName"],
                action="delete",
                description=f"delete the target group {tg['TargetGroupName']}",
                calls=["elasticloadbalancing:DeleteTargetGroup"],
                data={"arn": tg["TargetGroupArn"]},
            )
        )
    groups = our_security_groups(sc)
    ids = {g["GroupId"] for g in groups}
    # a group another of ours refers to goes last (DeleteSecurityGroup: DependencyViolation)
    referenced = {
        pair.get("GroupId")
        for g in groups
        for perm in g.get("IpPermissions") or []
        for pair in perm.get("UserIdGroupPairs") or []
    } & ids
    for g in sorted(groups, key=lambda g: (g["GroupId"] in referenced, g["GroupName"])):
        out.append(
            Change(
                step=NAME,
                resource="ec2:security-group",
                name=g["GroupName"],
                action="delete",
                description=f"delete the security group {g['GroupName']} ({g['GroupId']})",
                calls=["ec2:DeleteSecurityGroup"],
                data={"id": g["GroupId"]},
            )
        )
    return out


def destroy(sc: StepContext, change: Change) -> None:
    elb = sc.client("elbv2")
    if change.resource == "elbv2:load-balancer":
        arn = change.data["arn"]
        try:
            elb.delete_load_balancer(LoadBalancerArn=arn)
        except Exception as exc:
            if error_code(exc) != "LoadBalancerNotFound":
                raise

        def gone() -> bool:
            try:
                return not elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
            except Exception as exc:
                if error_code(exc) == "LoadBalancerNotFound":
                    return True
                raise

        poll_until(sc, gone, f"the load balancer {change.name} to be deleted")
    elif change.resource == "elbv2:target-group":
        # a listener of a load balancer still shutting down keeps it in use for a moment
        retry_while(
            sc,
            lambda: _ignore(
                lambda: elb.delete_target_group(TargetGroupArn=change.data["arn"]),
                "TargetGroupNotFound",
            ),
            "ResourceInUse",
        )
    elif change.resource == "ec2:security-group":
        ec2 = sc.client("ec2")
        # the network interfaces of a deleted load balancer or of terminated instances linger
        retry_while(
            sc,
            lambda: _ignore(
                lambda: ec2.delete_security_group(GroupId=change.data["id"]),
                "InvalidGroup.NotFound",
            ),
            "DependencyViolation",
        )


def _ignore(fn: Callable[[], Any], code: str) -> Any:
    try:
        return fn()
    except Exception as exc:
        if error_code(exc) != code:
            raise
        return None


def poll_until(
    sc: StepContext, done: Callable[[], bool], what: str, timeout: float = 900.0
) -> None:
    """Poll `done` (1 s, 2 s, 4 s, then every 10 s; sleep injectable) until it is true.

    WizardError after `timeout` seconds of waiting.
    """
    waited, delay = 0.0, 1.0
    while not done():
        if waited >= timeout:
            raise WizardError(f"gave up waiting for {what} after {int(timeout)} s")
        sc.sleep(delay)
        waited += delay
        delay = min(delay * 2, 10.0)


def retry_while(sc: StepContext, fn: Callable[[], Any], code: str, timeout: float = 600.0) -> Any:
    """Call `fn` again while it fails with the error `code` (backoff as `poll_until`)."""
    waited, delay = 0.0, 2.0
    while True:
        try:
            return fn()
        except Exception as exc:
            if error_code(exc) != code or waited >= timeout:
                raise
        sc.sleep(delay)
        waited += delay
        delay = min(delay * 2, 15.0)
