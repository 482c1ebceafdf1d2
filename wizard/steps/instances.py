"""EC2 instances: launch N with the agent installed by user data, or adopt the running tagged ones.

Instances the wizard launches carry the group's filter tag, the ownership tag and
`codedeploy-wizard:launched=true`; only those are ever terminated by `wizard destroy`. Running
instances that merely carry the filter tag are adopted: they get the instance profile when they
have none (AssociateIamInstanceProfile) and are reported as a conflict when they have another one.

A resumed apply never launches a second set, and neither do two applies at once (two terminals,
or two machines): every instance the wizard launches fills a numbered slot (tag
`codedeploy-wizard:slot=N`, 0 … launch-1), each slot is one RunInstances with MinCount=MaxCount=1
and a ClientToken derived only from the account, region, application and slot. Two applies that
race for slot 1 send the same token, and EC2 launches once and answers both with that instance
(EC2 API reference, "Ensuring idempotency in Amazon EC2 API requests"). A token is remembered for
at least 24 hours after its instance terminates, so a slot whose instance is gone is refilled with
the next generation of its token.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from wizard import TAG_KEY, policies
from wizard.errors import WizardError
from wizard.steps.base import (
    Change,
    ConflictError,
    StepContext,
    error_code,
    error_message,
    retry_fresh_iam,
    tag_dict,
)

NAME = "instances"
CHECKS = ["group.instances-matched", "iam.instance-profile", "agent.running"]
LAUNCHED_TAG = "codedeploy-wizard:launched"
SLOT_TAG = "codedeploy-wizard:slot"
MAX_GENERATIONS = 10  # tokens tried per slot whose earlier instances were terminated
LAUNCH_THREADS = 8
LIVE_STATES = ["pending", "running"]
SSM_AMI = {
    "al2023": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}",
    "ubuntu-24.04": (
        "/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
    ),
}
_ARCH_NAMES = {
    "al2023": {"x86_64": "x86_64", "arm64": "arm64"},
    "ubuntu-24.04": {"x86_64": "amd64", "arm64": "arm64"},
}
MAX_IDS_SHOWN = 5


# --------------------------------------------------------------------------- user data
def agent_installer_url(region: str, partition: str = "aws") -> str:
    """The regional CodeDeploy agent installer (reference §5); China regions use .com.cn."""
    suffix = policies.dns_suffix(partition)
    if region.startswith("cn-"):
        suffix = "amazonaws.com.cn"
    return f"https://aws-codedeploy-{region}.s3.{region}.{suffix}/latest/install"


_APT_WAIT = "-o DPkg::Lock::Timeout=600"


def user_data(ami: str, region: str, partition: str = "aws") -> str:
    """A boot script that installs and starts the CodeDeploy agent for the region.

    dnf (falling back to yum) on Amazon Linux 2023, apt on Ubuntu; for a custom AMI id the script
    finds the package manager itself.
    """
    if ami == "al2023":
        packages = (
            "if command -v dnf >/dev/null; then dnf install -y ruby wget\n"
            "else yum install -y ruby wget\n"
            "fi"
        )
    elif ami.startswith("ubuntu"):
        # at first boot apt-daily/unattended-upgrades may hold the dpkg lock: wait for it
        # instead of failing the whole script (set -e) and leaving the instance without an agent
        packages = (
            "export DEBIAN_FRONTEND=noninteractive\n"
            f"apt-get {_APT_WAIT} update -y\n"
            f"apt-get {_APT_WAIT} install -y ruby-full wget"
        )
    else:
        packages = (
            "if command -v dnf >/dev/null; then dnf install -y ruby wget\n"
            "elif command -v yum >/dev/null; then yum install -y ruby wget\n"
            "elif command -v apt-get >/dev/null; then\n"
            "  export DEBIAN_FRONTEND=noninteractive\n"
            f"  apt-get {_APT_WAIT} update -y && apt-get {_APT_WAIT} install -y ruby-full wget\n"
            "fi"
        )
    url = agent_installer_url(region, partition)
    return (
        "#!/bin/bash\n"
        f"# codedeploy-wizard: install and start the CodeDeploy agent for {region}\n"
        "set -euxo pipefail\n"
        f"{packages}\n"
        "cd /tmp\n"
        f"wget -q -O install {url}\n"
        "chmod +x ./install\n"
        "./install auto\n"
        "systemctl enable --now codedeploy-agent\n"
    )


# --------------------------------------------------------------------------- discover
def _profile_name(inst: dict) -> str | None:
    arn = (inst.get("IamInstanceProfile") or {}).get("Arn")
    return arn.rsplit("/", 1)[-1] if arn else None


def tagged_instances(sc: StepContext, states: list[str] | None = None) -> list[dict]:
    """Instances carrying the group's filter tag (live ones unless `states` says otherwise)."""
    tag = sc.project.instances.tag
    ec2 = sc.client("ec2")
    filters = [
        {"Name": f"tag:{tag.key}", "Values": [tag.value]},
        {"Name": "instance-state-name", "Values": states or LIVE_STATES},
    ]
    out = []
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for res in page["Reservations"]:
            out.extend(i for i in res["Instances"] if not in_our_auto_scaling_group(sc, i))
    return out


def in_our_auto_scaling_group(sc: StepContext, inst: dict) -> bool:
    """Launched by an Auto Scaling group of ours: that group, not this step, looks after it.

    Such instances carry the ownership tag (the group propagates it), which is also the default
    filter tag, so without this they would look like tagged instances to adopt.
    """
    tags = tag_dict(inst.get("Tags"))
    return "aws:autoscaling:groupName" in tags and tags.get(TAG_KEY) == sc.application


def launched_by_us(sc: StepContext, inst: dict) -> bool:
    tags = tag_dict(inst.get("Tags"))
    return tags.get(TAG_KEY) == sc.application and tags.get(LAUNCHED_TAG) == "true"


def our_launched(sc: StepContext, states: list[str] | None = None) -> list[dict]:
    """Instances this application's apply launched (found by the ownership + launched tags)."""
    ec2 = sc.client("ec2")
    filters = [
        {"Name": f"tag:{TAG_KEY}", "Values": [sc.application]},
        {"Name": f"tag:{LAUNCHED_TAG}", "Values": ["true"]},
        {"Name": "instance-state-name", "Values": states or LIVE_STATES},
    ]
    out = []
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for res in page["Reservations"]:
            out.extend(res["Instances"])
    return out


def _arch(sc: StepContext) -> str:
    itype = sc.project.instances.instance_type
    try:
        info = sc.client("ec2").describe_instance_types(InstanceTypes=[itype])["InstanceTypes"]
        archs = info[0]["ProcessorInfo"]["SupportedArchitectures"] if info else []
        if archs:
            return "arm64" if "x86_64" not in archs and "arm64" in archs else "x86_64"
    except Exception as exc:
        if error_code(exc) == "InvalidInstanceType":
            raise ConflictError(
                f"the instance type {itype} does not exist in {sc.region}",
                fix="Set instances.instance_type to a type the region offers, e.g. t3.micro.",
            ) from None
        if error_code(exc) != "InvalidParameterValue":
            raise
    m = re.match(r"^([a-z]+)(\d+)([a-z-]*)\.", itype)
    return "arm64" if m and ("g" in m.group(3) or m.group(1) == "a") else "x86_64"


def resolve_ami(sc: StepContext) -> tuple[str, str]:
    """(AMI id, how it was found). ConflictError when the public parameter cannot be read."""
    ami = sc.project.instances.ami
    if ami not in SSM_AMI:
        return ami, f"AMI {ami}"
    if "ami" in sc.cache:
        return sc.cache["ami"]
    arch = _ARCH_NAMES[ami][_arch(sc)]
    param = SSM_AMI[ami].format(arch=arch)
    try:
        value = sc.client("ssm").get_parameter(Name=param)["Parameter"]["Value"]
    except Exception as exc:
        if error_code(exc) != "ParameterNotFound":
            raise
        raise ConflictError(
            f"cannot find the {ami} AMI for {arch} in {sc.region}: public parameter "
            f"{param} does not exist there",
            fix="Set instances.ami to an AMI id available in the region.",
        ) from None
    sc.cache["ami"] = (value, f"{ami} ({value}, from {param})")
    return sc.cache["ami"]


def resolve_subnet(sc: StepContext) -> tuple[str, str]:
    """(subnet id, description): the configured one or the default VPC's default subnet."""
    subnet_id = sc.project.instances.subnet
    if subnet_id:
        try:
            found = sc.client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
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
        return subnet_id, f"subnet {subnet_id} ({found[0]['AvailabilityZone']})"
    if "subnet" in sc.cache:
        return sc.cache["subnet"]
    _vpc, subnets = default_vpc_subnets(sc, " to launch instances into")
    subnet = sorted(subnets, key=lambda s: s["AvailabilityZone"])[0]
    sc.cache["subnet"] = (
        subnet["SubnetId"],
        f"default subnet {subnet['SubnetId']} ({subnet['AvailabilityZone']}) of the default VPC",
    )
    return sc.cache["subnet"]


def slot_token(sc: StepContext, slot: int, generation: int = 0) -> str:
    """The RunInstances ClientToken of an instance slot (max 64 ASCII characters).

    Derived from nothing but the account, region, application, slot and generation, so every
    apply of this application, on any machine, asks EC2 for slot N with the same token and EC2
    launches it once. Generation g+1 is used only when generation g's instance is gone.
    """
    raw = f"{sc.account}|{sc.region}|{sc.application}|slot {slot}|generation {generation}"
    return "cdw-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


GONE_STATES = ("shutting-down", "terminated")


def _slot_of(inst: dict) -> int | None:
    value = tag_dict(inst.get("Tags")).get(SLOT_TAG, "")
    return int(value) if value.isdigit() else None


def free_slots(launched: list[dict], need: int) -> list[int]:
    """The `need` lowest slots no live launched instance holds.

    Instances launched before slots existed (no slot tag) are counted as holding the lowest free
    slots, so an upgrade does not launch a second set.
    """
    taken = {s for s in (_slot_of(i) for i in launched) if s is not None}
    untagged = sum(1 for i in launched if _slot_of(i) is None)
    out: list[int] = []
    slot = 0
    while len(out) < need:
        if slot not in taken:
            if untagged:
                untagged -= 1
            else:
                out.append(slot)
        slot += 1
    return out


def _ids(insts: list[dict]) -> str:
    ids = [i["InstanceId"] for i in insts]
    shown = ", ".join(ids[:MAX_IDS_SHOWN])
    return shown + (f" and {len(ids) - MAX_IDS_SHOWN} more" if len(ids) > MAX_IDS_SHOWN else "")


def default_launch(sandbox: bool) -> int:
    """How many instances to launch when no running instance carries the group's tag.

    Two in the sandbox (a deployment config such as HalfAtATime then has something to do, and
    nothing is billed); one against a real account, where every instance costs money. The user
    can change it; adopting tagged instances stays possible.
    """
    return 2 if sandbox else 1


def default_vpc_subnets(sc: StepContext, purpose: str = "") -> tuple[str, list[dict[str, Any]]]:
    """The region's default VPC id and its default subnets (one per Availability Zone), as
    DescribeVpcs/DescribeSubnets return them. Raises ConflictError (with the fix: name a subnet)
    when the region has no default VPC or it has no default subnet; `purpose` ends the first
    message (" to launch instances into")."""
    ec2 = sc.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise ConflictError(
            f"there is no default VPC in {sc.region}{purpose}",
            fix="Set instances.subnet to a subnet id with a route to the internet.",
        )
    vpc = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "default-for-az", "Values": ["true"]},
        ]
    )["Subnets"]
    if not subnets:
        raise ConflictError(
            f"the default VPC {vpc} has no default subnet",
            fix="Set instances.subnet to a subnet id with a route to the internet.",
        )
    return vpc, subnets


# --------------------------------------------------------------------------- plan
def plan(sc: StepContext) -> list[Change]:
    p = sc.project
    if p.instances.auto_scaling is not None:  # the autoscaling step provides the instances
        return []
    tag = p.instances.tag
    profile = p.roles.instance_role
    label = f"{tag.key}={tag.value}"
    base = {"step": NAME, "resource": "ec2:instance", "name": label, "checks": list(CHECKS)}
    out: list[Change] = []
    tagged = tagged_instances(sc)
    launched = [i for i in tagged if launched_by_us(sc, i)]
    others = [i for i in tagged if not launched_by_us(sc, i)]

    if p.instances.launch > 0:
        need = p.instances.launch - len(launched)
        if need > 0 and p.bundle.os == "windows":
            out.append(
                Change(
                    **base,
                    action="conflict",
                    description=(
                        "the wizard launches Linux instances only (its user data installs the "
                        "Linux agent), but bundle.os is windows"
                    ),
                    fix=(
                        "Set instances.launch: 0 and tag your Windows instances with "
                        f"{label} so the wizard adopts them."
                    ),
                )
            )
        elif need > 0:
            try:
                _, ami_desc = resolve_ami(sc)
                _, subnet_desc = resolve_subnet(sc)
            except ConflictError as exc:
                out.append(Change(**base, action="conflict", description=exc.message, fix=exc.fix))
            else:
                have = f" ({len(launched)} already running)" if launched else ""
                out.append(
                    Change(
                        **base,
                        action="create",
                        description=(
                            f"launch {need} {p.instances.instance_type} instance"
                            f"{'s' * (need != 1)}{have} from {ami_desc} in {subnet_desc}, "
                            f"with the instance profile {profile}, tagged {label}, and user data "
                            f"that installs the CodeDeploy agent for {sc.region}"
                        ),
                        calls=["ssm:GetParameter", "ec2:RunInstances"],
                        data={"count": need},
                    )
                )
        else:
            extra = len(launched) - p.instances.launch
            out.append(
                Change(
                    **base,
                    action="noop",
                    description=(
                        f"{len(launched)} instance{'s' * (len(launched) != 1)} launched by the "
                        f"wizard running ({_ids(launched)})"
                    ),
                    warning=(
                        f"{extra} more than instances.launch ({p.instances.launch}); the wizard "
                        "never terminates running instances on apply"
                    )
                    if extra > 0
                    else None,
                )
            )

    # launched ones too: an apply interrupted after RunInstances may have left one without it
    bare = [i for i in tagged if not _profile_name(i)]
    same = [i for i in others if _profile_name(i) == profile]
    foreign = [i for i in tagged if _profile_name(i) not in (None, profile)]
    if bare:
        out.append(
            Change(
                **base,
                action="adopt",
                description=(
                    f"attach the instance profile {profile} to {len(bare)} running instance"
                    f"{'s' * (len(bare) != 1)} tagged {label} that have none ({_ids(bare)})"
                ),
                calls=["ec2:AssociateIamInstanceProfile"],
                data={"instance_ids": [i["InstanceId"] for i in bare]},
            )
        )
    if same:
        out.append(
            Change(
                **base,
                action="noop",
                description=(
                    f"{len(same)} running instance{'s' * (len(same) != 1)} tagged {label} "
                    f"already use the instance profile {profile} ({_ids(same)})"
                ),
            )
        )
    if foreign:
        first = foreign[0]
        out.append(
            Change(
                **base,
                action="conflict",
                description=(
                    f"{len(foreign)} running instance{'s' * (len(foreign) != 1)} tagged {label} "
                    f"have another instance profile ({first['InstanceId']} has "
                    f"{_profile_name(first)}); the wizard does not replace it"
                ),
                fix=(
                    "Either give that profile's role read access to the revision bucket, or "
                    "replace the profile: aws ec2 describe-iam-instance-profile-associations "
                    f"--filters Name=instance-id,Values={first['InstanceId']} then aws ec2 "
                    "replace-iam-instance-profile-association --association-id ASSOC "
                    f"--iam-instance-profile Name={profile}"
                ),
                data={"instance_ids": [i["InstanceId"] for i in foreign]},
            )
        )
    if p.instances.launch == 0 and not others and p.instances.auto_scaling is None:
        # CreateDeployment on a group whose tag filters match no instance fails with
        # NO_INSTANCES ("The deployment failed because no instances were found for your
        # deployment group", CodeDeploy API reference, ErrorInformation)
        out.append(
            Change(
                **base,
                action="noop",
                description=f"no running instances carry the tag {label}",
                warning=(
                    f"the deployment group will have no targets, so a deployment fails with "
                    f"NO_INSTANCES: set instances.launch to launch "
                    f"{default_launch(bool(getattr(sc.ctx, 'sandbox', False)))}, or tag "
                    f"running instances with {label} (aws ec2 create-tags --resources i-… "
                    f"--tags Key={tag.key},Value={tag.value})"
                ),
                blocks_deploy=True,
            )
        )
    return out


# --------------------------------------------------------------------------- apply
def wait_for_state(sc: StepContext, ids: list[str], state: str, timeout: float = 600.0) -> None:
    """Poll until every instance is in `state` (1 s, 2 s, 4 s, then every 5 s; sleep injectable).

    A botocore waiter would do, but its fixed delay makes every emulated run wait 5 s.
    """
    ec2 = sc.client("ec2")
    waited, delay = 0.0, 1.0
    bad = {"running": {"shutting-down", "terminated", "stopping", "stopped"}, "terminated": set()}
    while True:
        states = {
            i["InstanceId"]: i["State"]["Name"]
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
            for r in page["Reservations"]
            for i in r["Instances"]
        }
        if all(states.get(i) == state for i in ids):
            return
        broken = [i for i, st in states.items() if st in bad.get(state, set())]
        if broken:
            raise WizardError(
                f"instance {broken[0]} is {states[broken[0]]} instead of {state}",
                hint="Check its console output and status checks in the EC2 console.",
            )
        if waited >= timeout:
            raise WizardError(f"instances did not become {state} within {int(timeout)} s")
        sc.sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)


def _invalid_profile(exc: BaseException) -> bool:
    msg = error_message(exc).lower()
    return error_code(exc) in ("InvalidParameterValue", "InvalidParameterCombination") and (
        "instance profile" in msg or "iaminstanceprofile" in msg
    )


def launch(sc: StepContext) -> list[str]:
    """Launch the instances still missing, one slot each; returns the new instance ids.

    Slots are launched concurrently (a few at a time); each RunInstances is retried while a
    fresh instance profile is not yet visible to EC2 (IAM is eventually consistent).
    """
    p = sc.project
    existing = our_launched(sc)
    need = p.instances.launch - len(existing)
    if need <= 0:
        sc.outputs["instance_ids"] = [i["InstanceId"] for i in existing]
        return []
    ami_id, _ = resolve_ami(sc)
    subnet, _ = resolve_subnet(sc)
    tags = [
        {"Key": p.instances.tag.key, "Value": p.instances.tag.value},
        *sc.tag_list(),
        {"Key": LAUNCHED_TAG, "Value": "true"},
    ]
    if not any(t["Key"] == "Name" for t in tags):
        tags.append({"Key": "Name", "Value": p.application})
    dedup: dict[str, str] = {}
    for t in tags:
        dedup.setdefault(t["Key"], t["Value"])
    base = {
        "ImageId": ami_id,
        "InstanceType": p.instances.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": subnet,
        "IamInstanceProfile": {"Name": p.roles.instance_role},
        "UserData": user_data(p.instances.ami, sc.region, sc.partition),
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
    }
    ec2 = sc.client("ec2")
    slots = free_slots(existing, need)

    def one(slot: int) -> list[str]:
        instance_tags = [{"Key": k, "Value": v} for k, v in dedup.items()]
        instance_tags.append({"Key": SLOT_TAG, "Value": str(slot)})
        kwargs = {
            **base,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": instance_tags},
                {"ResourceType": "volume", "Tags": sc.tag_list()},
            ],
        }
        return launch_slot(sc, ec2, slot, kwargs)

    if len(slots) == 1:
        new_ids = one(slots[0])
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(LAUNCH_THREADS, len(slots))) as pool:
            futures = [pool.submit(one, slot) for slot in slots]
            new_ids = [iid for f in futures for iid in f.result()]
    new_ids = [i for i in dict.fromkeys(new_ids) if i not in {e["InstanceId"] for e in existing}]
    if new_ids:
        wait_for_state(sc, new_ids, "running")
        # every new instance must carry the profile; attach it where the launch did not
        described = [
            i
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=new_ids)
            for r in page["Reservations"]
            for i in r["Instances"]
        ]
        missing = [i["InstanceId"] for i in described if not _profile_name(i)]
        if missing:
            associate(sc, missing)
    sc.outputs["instance_ids"] = [i["InstanceId"] for i in existing] + new_ids
    return new_ids


def launch_slot(sc: StepContext, ec2: Any, slot: int, kwargs: dict[str, Any]) -> list[str]:
    """RunInstances for one slot with its ClientToken; the ids of the slot's live instance.

    The same token answers with the launch it made before (EC2 keeps a token for at least 24
    hours after its instance terminates): a live instance there is the slot's instance (another
    apply launched it a moment ago), a terminated one means the slot is free again, so the next
    generation's token is asked. IdempotentParameterMismatch (the token was used with other
    settings: another apply with another instance type, or an AMI that has been updated since)
    is the same question, answered by DescribeInstances' client-token filter.
    """
    for generation in range(MAX_GENERATIONS):
        token = slot_token(sc, slot, generation)
        try:
            resp = retry_fresh_iam(
                sc,
                lambda token=token: ec2.run_instances(**kwargs, ClientToken=token),
                retry_if=_invalid_profile,
            )
            found = resp["Instances"]
        except Exception as exc:
            if error_code(exc) != "IdempotentParameterMismatch":
                raise
            found = [
                i
                for page in ec2.get_paginator("describe_instances").paginate(
                    Filters=[{"Name": "client-token", "Values": [token]}]
                )
                for r in page["Reservations"]
                for i in r["Instances"]
            ]
        live = [i["InstanceId"] for i in found if i["State"]["Name"] not in GONE_STATES]
        if live:
            return live
    raise WizardError(
        f"could not launch the instance for slot {slot}: its last {MAX_GENERATIONS} launches "
        "were all terminated",
        hint="Stop whatever terminates the wizard's instances, then run `wizard apply` again.",
    )


def associate(sc: StepContext, instance_ids: list[str]) -> None:
    """Attach our profile to tagged instances that still have none (re-checked, idempotent)."""
    ec2 = sc.client("ec2")
    profile = sc.project.roles.instance_role
    current = {i["InstanceId"]: i for i in tagged_instances(sc) if i["InstanceId"] in instance_ids}
    for iid in instance_ids:
        inst = current.get(iid)
        if inst is None or _profile_name(inst) == profile:
            continue
        if _profile_name(inst):
            raise ConflictError(
                f"instance {iid} has another instance profile ({_profile_name(inst)})"
            )

        def call(iid: str = iid) -> Any:
            return ec2.associate_iam_instance_profile(
                IamInstanceProfile={"Name": profile}, InstanceId=iid
            )

        try:
            retry_fresh_iam(sc, call, retry_if=_invalid_profile)
        except Exception as exc:
            if error_code(exc) != "IncorrectState":
                raise


def apply(sc: StepContext, change: Change) -> None:
    if change.action == "create":
        launch(sc)
    elif change.action == "adopt":
        associate(sc, change.data["instance_ids"])


# --------------------------------------------------------------------------- destroy
def destroy_plan(sc: StepContext) -> list[Change]:
    out: list[Change] = []
    states = ["pending", "running", "stopping", "stopped"]
    ours = our_launched(sc, states)
    if ours:
        out.append(
            Change(
                step=NAME,
                resource="ec2:instance",
                name=f"{TAG_KEY}={sc.application}",
                action="delete",
                description=(
                    f"terminate the {len(ours)} instance{'s' * (len(ours) != 1)} the wizard "
                    f"launched ({_ids(ours)}) and wait until they are gone"
                ),
                calls=["ec2:TerminateInstances"],
                data={"instance_ids": [i["InstanceId"] for i in ours]},
            )
        )
    profile = sc.project.roles.instance_role
    adopted = [
        i
        for i in tagged_instances(sc, states)
        if not launched_by_us(sc, i) and _profile_name(i) == profile
    ]
    if adopted:
        out.append(
            Change(
                step=NAME,
                resource="ec2:instance-profile-association",
                name=profile,
                action="delete",
                description=(
                    f"detach the instance profile {profile} from {len(adopted)} instance"
                    f"{'s' * (len(adopted) != 1)} the wizard did not launch ({_ids(adopted)}); "
                    "they keep running"
                ),
                calls=[
                    "ec2:DescribeIamInstanceProfileAssociations",
                    "ec2:DisassociateIamInstanceProfile",
                ],
                data={"instance_ids": [i["InstanceId"] for i in adopted]},
            )
        )
    return out


def destroy(sc: StepContext, change: Change) -> None:
    ec2 = sc.client("ec2")
    ids = change.data["instance_ids"]
    if change.resource == "ec2:instance":
        ec2.terminate_instances(InstanceIds=ids)
        wait_for_state(sc, ids, "terminated")
        return
    resp = ec2.describe_iam_instance_profile_associations(
        Filters=[
            {"Name": "instance-id", "Values": ids},
            {"Name": "state", "Values": ["associated"]},
        ]
    )
    for assoc in resp.get("IamInstanceProfileAssociations", []):
        if assoc["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1] == change.name:
            ec2.disassociate_iam_instance_profile(AssociationId=assoc["AssociationId"])
