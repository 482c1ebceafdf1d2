"""Auto Scaling: a launch template and an Auto Scaling group, or an existing group adopted as is.

`instances.auto_scaling: {min, max, desired}` makes

- a launch template: the AMI the public SSM parameter names (or the configured AMI id), the
  instance type, the instance profile, user data that installs the CodeDeploy agent for the region
  (the installer's `latest`, far past the 1.x versions that learned IMDSv2), IMDSv2 required
  (`HttpTokens: required`), and with a created load balancer the instances' security group. A
  changed setting (a newer AMI behind the alias too) becomes a new template version made default;
  running instances keep theirs until they are replaced;
- an inline policy on the service role, because CodeDeploy acts on a group launched from a
  template: "If you create your Auto Scaling group with a launch template, you must add the
  following permissions: ec2:RunInstances, ec2:CreateTags, iam:PassRole" (CodeDeploy user guide,
  "Step 2: Create a service role for CodeDeploy"; AWSCodeDeployRole has none of them). Scoped:
  RunInstances only from this launch template (condition `ec2:LaunchTemplate`, EC2 user guide,
  "Example policies to control the use of launch templates"), CreateTags only on a launch
  (`ec2:CreateAction`), PassRole only of the instance role and only to EC2
  (`iam:PassedToService`);
- the Auto Scaling group over the instances' subnets, from the template's `$Latest` version, with
  EC2 health checks (ELB health checks would replace an instance whose application is not deployed
  yet), the created target group attached so instances launched later enter it, and the ownership
  and Name tags propagated to its instances. Apply waits until the desired number are InService:
  the CodeDeploy lifecycle hook arrives with the deployment group, so instances still launching
  before it would come into service without the application.

`instances.auto_scaling: {name}` adopts a group: it must exist; the wizard changes nothing on it and
says when its instances' profile is not the one that may read the revisions.

`destroy` deletes the groups (with their instances) and the launch templates that carry the
ownership tag, after the deployment group (whose deletion removes CodeDeploy's lifecycle hook).
"""

from __future__ import annotations

import base64
from typing import Any

from wizard import TAG_KEY, naming, policies
from wizard.steps import instances, loadbalancer
from wizard.steps.base import (
    Change,
    ConflictError,
    StepContext,
    error_code,
    retry_fresh_iam,
    tag_dict,
    tag_hint,
)
from wizard.steps.loadbalancer import poll_until

NAME = "autoscaling"
CHECKS = ["asg.lifecycle-hook", "asg.suspended-processes", "iam.instance-profile", "agent.running"]
HEALTH_CHECK_GRACE = 300
IN_SERVICE_TIMEOUT = 900.0


def group_name(project: Any) -> str:
    """The group the deployment group targets: the adopted one, or the one the wizard creates."""
    asg = project.instances.auto_scaling
    return (
        asg.name if asg is not None and asg.name else naming.auto_scaling_group(project.application)
    )


# --------------------------------------------------------------------------- discovery
def get_group(sc: StepContext, name: str) -> dict | None:
    found = sc.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    return found[0] if found else None


def get_launch_template(sc: StepContext, name: str) -> dict | None:
    try:
        found = sc.client("ec2").describe_launch_templates(LaunchTemplateNames=[name])[
            "LaunchTemplates"
        ]
    except Exception as exc:
        if error_code(exc) in (
            "InvalidLaunchTemplateName.NotFoundException",
            "InvalidLaunchTemplateName.NotFound",
        ):
            return None
        raise
    return found[0] if found else None


def template_data(sc: StepContext, template_id: str, version: str = "$Default") -> dict:
    versions = sc.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=[version]
    )["LaunchTemplateVersions"]
    return versions[0].get("LaunchTemplateData", {}) if versions else {}


def group_template(group: dict) -> tuple[str | None, str]:
    """(launch template id, version) a group launches from; (None, "") for a launch config."""
    spec = group.get("LaunchTemplate") or (
        ((group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
            "LaunchTemplateSpecification"
        )
        or {}
    )
    return spec.get("LaunchTemplateId"), spec.get("Version") or "$Default"


# --------------------------------------------------------------------------- desired state
def _encoded_user_data(sc: StepContext) -> str:
    p = sc.project
    script = instances.user_data(p.instances.ami, sc.region, sc.partition)
    return base64.b64encode(script.encode()).decode()


def desired_template(sc: StepContext, ami_id: str, sg_id: str | None) -> dict[str, Any]:
    """LaunchTemplateData for CreateLaunchTemplate(Version)."""
    p = sc.project
    data: dict[str, Any] = {
        "ImageId": ami_id,
        "InstanceType": p.instances.instance_type,
        "IamInstanceProfile": {"Name": p.roles.instance_role},
        "UserData": _encoded_user_data(sc),
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        "TagSpecifications": [{"ResourceType": "volume", "Tags": sc.tag_list()}],
    }
    if sg_id:
        data["SecurityGroupIds"] = [sg_id]
    return data


def template_drift(current: dict, desired: dict) -> list[str]:
    """Human names of the launch template settings that differ."""
    out = []
    if current.get("ImageId") != desired["ImageId"]:
        out.append(f"AMI {current.get('ImageId')} → {desired['ImageId']}")
    if current.get("InstanceType") != desired["InstanceType"]:
        out.append(f"instance type {current.get('InstanceType')} → {desired['InstanceType']}")
    have_profile = (current.get("IamInstanceProfile") or {}).get("Name") or (
        (current.get("IamInstanceProfile") or {}).get("Arn", "").rsplit("/", 1)[-1]
    )
    if have_profile != desired["IamInstanceProfile"]["Name"]:
        out.append(
            f"instance profile {have_profile or '(none)'} → {desired['IamInstanceProfile']['Name']}"
        )
    if current.get("UserData") != desired["UserData"]:
        out.append("user data (the agent installer)")
    if (current.get("MetadataOptions") or {}).get("HttpTokens") != "required":
        out.append("IMDSv2 required")
    if sorted(current.get("SecurityGroupIds") or []) != sorted(
        desired.get("SecurityGroupIds") or []
    ) and desired.get("SecurityGroupIds"):
        out.append("security group")
    return out


def launch_template_policy(
    sc: StepContext, template_arn: str, role_arns: list[str]
) -> dict[str, Any]:
    """What CodeDeploy's service role needs for a group launched from a template, scoped."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "LaunchFromTheTemplate",
            "Effect": "Allow",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {"ArnLike": {"ec2:LaunchTemplate": template_arn}},
        },
        {
            "Sid": "TagAtLaunch",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": "*",
            "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}},
        },
    ]
    if role_arns:
        statements.append(
            {
                "Sid": "PassTheInstanceRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": sorted(role_arns) if len(role_arns) > 1 else role_arns[0],
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            }
        )
    return {"Version": policies.POLICY_VERSION, "Statement": statements}


def template_arn(sc: StepContext, template_id: str) -> str:
    return f"arn:{sc.partition}:ec2:{sc.region}:{sc.account}:launch-template/{template_id}"


def _profile_roles(sc: StepContext, data: dict) -> tuple[str | None, list[str]]:
    """(profile name, role ARNs) of a launch template's instance profile."""
    from wizard.steps import roles

    prof = data.get("IamInstanceProfile") or {}
    name = prof.get("Name") or (prof.get("Arn") or "").rsplit("/", 1)[-1] or None
    if not name:
        return None, []
    found = roles.get_profile(sc.client("iam"), name)
    return name, [r["Arn"] for r in (found or {}).get("Roles", [])]


def _current_policy(sc: StepContext) -> dict | None:
    try:
        return sc.client("iam").get_role_policy(
            RoleName=sc.project.roles.service_role, PolicyName=naming.LAUNCH_TEMPLATE_POLICY
        )["PolicyDocument"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


# --------------------------------------------------------------------------- plan
def plan(sc: StepContext) -> list[Change]:
    asg = sc.project.instances.auto_scaling
    if asg is None:
        return _plan_unused(sc)
    if asg.name:
        return _plan_adopted(sc, asg.name)
    out: list[Change] = []
    lt_change, lt = _plan_template(sc)
    out.append(lt_change)
    if lt_change.action != "conflict":
        out.append(_plan_policy(sc, lt, [sc.role_arn(sc.project.roles.instance_role)]))
    out.append(_plan_group(sc, lt))
    return out


def _plan_unused(sc: StepContext) -> list[Change]:
    """Groups the wizard made that the project no longer uses keep their instances running:
    say so (apply never deletes; `wizard destroy` does). A principal that may not describe Auto
    Scaling groups has made none with the wizard, so AccessDenied is nothing to report."""
    try:
        groups = our_groups(sc)
    except Exception as exc:
        if error_code(exc) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return []
        raise
    out = []
    for group in groups:
        name = group["AutoScalingGroupName"]
        n = len(group.get("Instances") or [])
        out.append(
            Change(
                step=NAME,
                resource="autoscaling:group",
                name=name,
                action="noop",
                description=f"leave the Auto Scaling group {name} ({n} instance"
                f"{'s' * (n != 1)}) alone: the wizard made it, the project no longer uses it",
                warning=f"its instances keep running (and costing): remove it with `wizard "
                f"destroy`, or aws autoscaling delete-auto-scaling-group --auto-scaling-group-name "
                f"{name} --force-delete",
            )
        )
    return out


def _plan_template(sc: StepContext) -> tuple[Change, dict | None]:
    p = sc.project
    name = naming.launch_template(p.application)
    base = {"step": NAME, "resource": "ec2:launch-template", "name": name, "checks": []}
    try:
        ami_id, ami_desc = instances.resolve_ami(sc)
        net = loadbalancer.network(sc)
    except ConflictError as exc:
        return Change(**base, action="conflict", description=exc.message, fix=exc.fix), None
    sg_note = (
        f", the security group {naming.instance_security_group(p.application)}"
        if p.load_balancer.create
        else ""
    )
    what = (
        f"{p.instances.instance_type} from {ami_desc}, the instance profile "
        f"{p.roles.instance_role}, user data that installs the CodeDeploy agent for {sc.region}, "
        f"IMDSv2 required{sg_note}"
    )
    lt = get_launch_template(sc, name)
    if lt is None:
        return (
            Change(
                **base,
                action="create",
                description=f"create the launch template {name}: {what}",
                calls=["ssm:GetParameter", "ec2:CreateLaunchTemplate"],
                data={"vpc": net["vpc"]},
            ),
            None,
        )
    if tag_dict(lt.get("Tags")).get(TAG_KEY) != p.application:
        return (
            Change(
                **base,
                action="conflict",
                description=f"the launch template {name} exists and was not created by the wizard",
                fix=tag_hint(
                    f"aws ec2 create-tags --resources {lt['LaunchTemplateId']} "
                    f"--tags Key={TAG_KEY},Value={p.application}"
                ),
            ),
            lt,
        )
    sg_id = loadbalancer.instance_security_group_id(sc) if p.load_balancer.create else None
    desired = desired_template(sc, ami_id, sg_id)
    if p.load_balancer.create and sg_id is None:
        desired["SecurityGroupIds"] = ["(to be created)"]
    drift = template_drift(template_data(sc, lt["LaunchTemplateId"]), desired)
    if not drift:
        return (
            Change(
                **base,
                action="noop",
                description=f"the launch template {name} is up to date: {what}",
            ),
            lt,
        )
    return (
        Change(
            **base,
            action="update",
            description=f"add a version to the launch template {name} and make it the default: "
            + "; ".join(drift),
            calls=["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
            warning="running instances keep the version they were launched from until they are "
            f"replaced (aws autoscaling start-instance-refresh --auto-scaling-group-name "
            f"{group_name(p)})",
        ),
        lt,
    )


def _plan_policy(sc: StepContext, lt: dict | None, role_arns: list[str]) -> Change:
    p = sc.project
    base = {
        "step": NAME,
        "resource": "iam:role-policy",
        "name": f"{p.roles.service_role}/{naming.LAUNCH_TEMPLATE_POLICY}",
        "checks": ["iam.service-role"],
    }
    template = lt["LaunchTemplateName"] if lt else naming.launch_template(p.application)
    passed = ", ".join(r.rsplit("/", 1)[-1] for r in role_arns)
    what = (
        f"launch from the launch template {template}"
        + (f" and pass the role {passed} to EC2" if passed else "")
        + " (ec2:RunInstances, ec2:CreateTags"
        + (", iam:PassRole" if passed else "")
        + "), as CodeDeploy needs for a group launched from a template"
    )
    who = f"the service role {p.roles.service_role}"
    current = _current_policy(sc)
    desired = (
        launch_template_policy(sc, template_arn(sc, lt["LaunchTemplateId"]), role_arns)
        if lt
        else None
    )
    data = {"role_arns": role_arns, "template_id": lt["LaunchTemplateId"] if lt else None}
    if current is None:
        return Change(
            **base,
            action="create",
            description=f"let {who} {what}",
            calls=["iam:PutRolePolicy"],
            data=data,
        )
    if desired is not None and policies.same_policy(current, desired):
        return Change(**base, action="noop", description=f"{who} may {what}", data=data)
    return Change(
        **base,
        action="update",
        description=f"rewrite the inline policy {naming.LAUNCH_TEMPLATE_POLICY} so that "
        f"{who} may {what}",
        calls=["iam:PutRolePolicy"],
        data=data,
    )


def _plan_group(sc: StepContext, lt: dict | None) -> Change:
    p = sc.project
    asg = p.instances.auto_scaling
    assert asg is not None
    name = group_name(p)
    # the group registers its instances with the target group it is attached to
    checks = CHECKS + ["lb.targets-registered"] * p.load_balancer.enabled
    base = {"step": NAME, "resource": "autoscaling:group", "name": name, "checks": checks}
    tg_note = (
        f", attached to the target group {loadbalancer.target_group_name(p)}"
        if p.load_balancer.enabled
        else ""
    )
    try:
        net = loadbalancer.network(sc)
    except ConflictError as exc:
        return Change(**base, action="conflict", description=exc.message, fix=exc.fix)
    sizes = f"min {asg.min}, desired {asg.desired}, max {asg.max}"
    what = (
        f"{sizes}, from the launch template {naming.launch_template(p.application)} on "
        f"{len(net['asg_subnets'])} subnet{'s' * (len(net['asg_subnets']) != 1)} of "
        f"{net['where']}{tg_note}"
    )
    group = get_group(sc, name)
    if group is None:
        return Change(
            **base,
            action="create",
            description=f"create the Auto Scaling group {name}: {what}, and wait until "
            f"{asg.desired} instance{'s' * (asg.desired != 1)} are in service",
            calls=["autoscaling:CreateAutoScalingGroup"],
        )
    if tag_dict(group.get("Tags")).get(TAG_KEY) != p.application:
        return Change(
            **base,
            action="conflict",
            description=f"the Auto Scaling group {name} exists and was not created by the wizard",
            fix=f"Adopt it as it is with instances.auto_scaling: {{name: {name}}}, or hand it to "
            "the wizard: aws autoscaling create-or-update-tags --tags "
            f"ResourceId={name},ResourceType=auto-scaling-group,Key={TAG_KEY},"
            f"Value={p.application},PropagateAtLaunch=true",
        )
    drift = _group_drift(sc, group, lt)
    if not drift:
        return Change(
            **base,
            action="noop",
            description=f"the Auto Scaling group {name} is set up: {what} "
            f"({len(group.get('Instances') or [])} instances)",
        )
    calls = ["autoscaling:UpdateAutoScalingGroup"]
    if any(d.startswith("attach") for d in drift):
        calls.append("autoscaling:AttachLoadBalancerTargetGroups")
    return Change(
        **base,
        action="update",
        description=f"update the Auto Scaling group {name}: " + "; ".join(drift),
        calls=calls,
    )


def _group_drift(sc: StepContext, group: dict, lt: dict | None) -> list[str]:
    asg = sc.project.instances.auto_scaling
    assert asg is not None
    out = []
    for key, want in (("MinSize", asg.min), ("MaxSize", asg.max), ("DesiredCapacity", asg.desired)):
        if group.get(key) != want:
            label = {"MinSize": "min", "MaxSize": "max", "DesiredCapacity": "desired"}[key]
            out.append(f"{label} {group.get(key)} → {want}")
    tid, _ = group_template(group)
    if lt is not None and tid != lt["LaunchTemplateId"]:
        out.append(f"launch template → {lt['LaunchTemplateName']}")
    tg_arn = loadbalancer.our_target_group_arn(sc)
    if tg_arn and tg_arn not in (group.get("TargetGroupARNs") or []):
        out.append(f"attach the target group {loadbalancer.target_group_name(sc.project)}")
    return out


def _plan_adopted(sc: StepContext, name: str) -> list[Change]:
    p = sc.project
    base = {"step": NAME, "resource": "autoscaling:group", "name": name, "checks": list(CHECKS)}
    group = get_group(sc, name)
    if group is None:
        return [
            Change(
                **base,
                action="conflict",
                description=f"there is no Auto Scaling group {name} in {sc.region}",
                fix="Set instances.auto_scaling.name to a group of this region (aws autoscaling "
                "describe-auto-scaling-groups), or give min/max/desired to let the wizard make "
                "one.",
            )
        ]
    tid, version = group_template(group)
    count = len(group.get("Instances") or [])
    source = "a launch configuration"
    data: dict = {}
    if tid:
        data = template_data(sc, tid, version)
        source = f"the launch template {tid} ({version})"
    elif group.get("LaunchConfigurationName"):
        lc = sc.client("autoscaling").describe_launch_configurations(
            LaunchConfigurationNames=[group["LaunchConfigurationName"]]
        )["LaunchConfigurations"]
        source = f"the launch configuration {group['LaunchConfigurationName']}"
        data = {"IamInstanceProfile": {"Name": (lc[0].get("IamInstanceProfile") if lc else "")}}
    profile, role_arns = _profile_roles(sc, data)
    warning = None
    bucket = f"s3://{sc.bucket}/{p.bucket.prefix}"
    if not profile:
        warning = (
            f"{source} gives its instances no instance profile: the agent cannot reach "
            f"CodeDeploy or read {bucket}. Give it the profile {p.roles.instance_role} (a new "
            "template version) and replace the instances"
        )
    elif profile != p.roles.instance_role:
        warning = (
            f"its instances use the instance profile {profile}, which the wizard does not "
            f"manage: its role must be allowed to read {bucket} (s3:GetObject), or give the "
            f"template the profile {p.roles.instance_role}"
        )
    out = [
        Change(
            **base,
            action="noop",
            description=f"deploy to the existing Auto Scaling group {name} ({count} instance"
            f"{'s' * (count != 1)}, min {group.get('MinSize')}, max {group.get('MaxSize')}, "
            f"from {source}); the wizard leaves it as it is",
            warning=warning,
        )
    ]
    if tid:
        lts = sc.client("ec2").describe_launch_templates(LaunchTemplateIds=[tid])
        lt_name = (lts.get("LaunchTemplates") or [{}])[0].get("LaunchTemplateName", tid)
        lt = {"LaunchTemplateId": tid, "LaunchTemplateName": lt_name}
        out.insert(0, _plan_policy(sc, lt, role_arns))
    return out


# --------------------------------------------------------------------------- apply
def apply(sc: StepContext, change: Change) -> None:
    if change.resource == "ec2:launch-template":
        ensure_launch_template(sc)
    elif change.resource == "iam:role-policy":
        ensure_policy(sc, change)
    elif change.resource == "autoscaling:group":
        if sc.project.instances.auto_scaling.name:
            sc.outputs["auto_scaling_group"] = change.name
            return
        ensure_group(sc)


def ensure_launch_template(sc: StepContext) -> dict:
    """Create the template, or add a default version when its settings differ; returns it."""
    p = sc.project
    name = naming.launch_template(p.application)
    ec2 = sc.client("ec2")
    ami_id, _ = instances.resolve_ami(sc)
    sg_id = loadbalancer.ensure_security_group(sc, "instances") if p.load_balancer.create else None
    desired = desired_template(sc, ami_id, sg_id)
    lt = get_launch_template(sc, name)
    if lt is None:
        try:
            lt = ec2.create_launch_template(
                LaunchTemplateName=name,
                VersionDescription="codedeploy-wizard",
                LaunchTemplateData=desired,
                TagSpecifications=[{"ResourceType": "launch-template", "Tags": sc.tag_list()}],
            )["LaunchTemplate"]
        except Exception as exc:
            if error_code(exc) != "InvalidLaunchTemplateName.AlreadyExistsException":
                raise
            lt = get_launch_template(sc, name)
            assert lt is not None
    if tag_dict(lt.get("Tags")).get(TAG_KEY) != p.application:
        raise ConflictError(f"the launch template {name} exists and was not created by the wizard")
    if template_drift(template_data(sc, lt["LaunchTemplateId"]), desired):
        version = ec2.create_launch_template_version(
            LaunchTemplateId=lt["LaunchTemplateId"],
            VersionDescription="codedeploy-wizard",
            LaunchTemplateData=desired,
        )["LaunchTemplateVersion"]["VersionNumber"]
        ec2.modify_launch_template(
            LaunchTemplateId=lt["LaunchTemplateId"], DefaultVersion=str(version)
        )
    sc.cache["launch_template"] = lt
    sc.outputs["launch_template_id"] = lt["LaunchTemplateId"]
    return lt


def ensure_policy(sc: StepContext, change: Change) -> None:
    """Put the scoped launch-template policy on the service role (no call when it is current)."""
    template_id = change.data.get("template_id")
    if not template_id:
        lt = sc.cache.get("launch_template") or ensure_launch_template(sc)
        template_id = lt["LaunchTemplateId"]
    doc = launch_template_policy(sc, template_arn(sc, template_id), change.data["role_arns"])
    if policies.same_policy(_current_policy(sc), doc):
        return
    sc.client("iam").put_role_policy(
        RoleName=sc.project.roles.service_role,
        PolicyName=naming.LAUNCH_TEMPLATE_POLICY,
        PolicyDocument=policies.dumps(doc),
    )


def _invalid_profile(exc: BaseException) -> bool:
    """A launch template naming a profile IAM has not propagated yet fails validation."""
    from wizard.steps.base import error_message

    msg = error_message(exc).lower()
    return error_code(exc) == "ValidationError" and "instance profile" in msg


def ensure_group(sc: StepContext) -> None:
    """Create or converge our Auto Scaling group, then wait for its desired capacity."""
    p = sc.project
    asg = p.instances.auto_scaling
    assert asg is not None
    name = group_name(p)
    client = sc.client("autoscaling")
    lt = sc.cache.get("launch_template") or get_launch_template(
        sc, naming.launch_template(p.application)
    )
    if lt is None:
        lt = ensure_launch_template(sc)
    spec = {"LaunchTemplateId": lt["LaunchTemplateId"], "Version": "$Latest"}
    tg_arn = loadbalancer.our_target_group_arn(sc)
    subnets = ",".join(loadbalancer.network(sc)["asg_subnets"])
    group = get_group(sc, name)
    if group is None:
        tags = [
            {
                "ResourceId": name,
                "ResourceType": "auto-scaling-group",
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": True,
            }
            for k, v in {**sc.tags, "Name": p.application}.items()
        ]
        kwargs: dict[str, Any] = {
            "AutoScalingGroupName": name,
            "LaunchTemplate": spec,
            "MinSize": asg.min,
            "MaxSize": asg.max,
            "DesiredCapacity": asg.desired,
            "VPCZoneIdentifier": subnets,
            "HealthCheckType": "EC2",
            "HealthCheckGracePeriod": HEALTH_CHECK_GRACE,
            "Tags": tags,
        }
        if tg_arn:
            kwargs["TargetGroupARNs"] = [tg_arn]
        try:
            retry_fresh_iam(
                sc, lambda: client.create_auto_scaling_group(**kwargs), retry_if=_invalid_profile
            )
        except Exception as exc:
            if error_code(exc) != "AlreadyExists":
                raise
            group = get_group(sc, name)
    if group is not None:
        if tag_dict(group.get("Tags")).get(TAG_KEY) != p.application:
            raise ConflictError(
                f"the Auto Scaling group {name} exists and was not created by the wizard"
            )
        tid, _ = group_template(group)
        sizes = (group.get("MinSize"), group.get("MaxSize"), group.get("DesiredCapacity"))
        if sizes != (asg.min, asg.max, asg.desired) or tid != lt["LaunchTemplateId"]:
            client.update_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate=spec,
                MinSize=asg.min,
                MaxSize=asg.max,
                DesiredCapacity=asg.desired,
            )
        if tg_arn and tg_arn not in (group.get("TargetGroupARNs") or []):
            client.attach_load_balancer_target_groups(
                AutoScalingGroupName=name, TargetGroupARNs=[tg_arn]
            )
    wait_in_service(sc, name, asg.desired)
    sc.outputs["auto_scaling_group"] = name


def wait_in_service(sc: StepContext, name: str, count: int) -> None:
    """Poll until `count` instances of the group are InService (sleep injectable)."""

    def ready() -> bool:
        group = get_group(sc, name)
        members = (group or {}).get("Instances") or []
        return sum(1 for i in members if i.get("LifecycleState") == "InService") >= count

    poll_until(
        sc, ready, f"{count} instances of {name} to be in service", timeout=IN_SERVICE_TIMEOUT
    )


# --------------------------------------------------------------------------- destroy
def our_groups(sc: StepContext) -> list[dict]:
    pages = (
        sc.client("autoscaling")
        .get_paginator("describe_auto_scaling_groups")
        .paginate(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [sc.application]}])
    )
    return [g for page in pages for g in page["AutoScalingGroups"]]


def our_templates(sc: StepContext) -> list[dict]:
    pages = (
        sc.client("ec2")
        .get_paginator("describe_launch_templates")
        .paginate(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [sc.application]}])
    )
    return [t for page in pages for t in page["LaunchTemplates"]]


def destroy_plan(sc: StepContext) -> list[Change]:
    out: list[Change] = []
    for group in our_groups(sc):
        n = len(group.get("Instances") or [])
        out.append(
            Change(
                step=NAME,
                resource="autoscaling:group",
                name=group["AutoScalingGroupName"],
                action="delete",
                description=f"delete the Auto Scaling group {group['AutoScalingGroupName']}, "
                f"terminate its {n} instance{'s' * (n != 1)} and wait until they are gone",
                calls=["autoscaling:DeleteAutoScalingGroup"],
            )
        )
    for lt in our_templates(sc):
        out.append(
            Change(
                step=NAME,
                resource="ec2:launch-template",
                name=lt["LaunchTemplateName"],
                action="delete",
                description=f"delete the launch template {lt['LaunchTemplateName']} "
                f"({lt['LaunchTemplateId']})",
                calls=["ec2:DeleteLaunchTemplate"],
                data={"id": lt["LaunchTemplateId"]},
            )
        )
    return out


def destroy(sc: StepContext, change: Change) -> None:
    if change.resource == "autoscaling:group":
        try:
            sc.client("autoscaling").delete_auto_scaling_group(
                AutoScalingGroupName=change.name, ForceDelete=True
            )
        except Exception as exc:
            msg = str(exc)
            if not (error_code(exc) == "ValidationError" and "not found" in msg.lower()):
                raise
        poll_until(
            sc,
            lambda: get_group(sc, change.name) is None,
            f"the Auto Scaling group {change.name} and its instances to be deleted",
        )
    elif change.resource == "ec2:launch-template":
        try:
            sc.client("ec2").delete_launch_template(LaunchTemplateId=change.data["id"])
        except Exception as exc:
            if not error_code(exc).startswith("InvalidLaunchTemplateId"):
                raise
