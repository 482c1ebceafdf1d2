"""Build emulated worlds with ordinary boto3 calls (IAM, EC2, S3, CodeDeploy) against an endpoint.

Used by the scenarios (`wizard sandbox --scenario NAME`) and by the end-to-end tests. Nothing
here reaches into moto: a world built this way could be built on AWS with the same calls.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

AGENT_USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y ruby wget
cd /tmp
wget https://aws-codedeploy-{region}.s3.{region}.amazonaws.com/latest/install
chmod +x ./install
./install auto
systemctl enable --now codedeploy-agent
"""
UBUNTU_AGENT_USER_DATA = """#!/bin/bash
set -euo pipefail
apt-get update -y
apt-get install -y ruby-full wget
cd /tmp
wget https://aws-codedeploy-{region}.s3.{region}.amazonaws.com/latest/install
chmod +x ./install
./install auto{pin}
systemctl enable --now codedeploy-agent
"""
PLAIN_USER_DATA = "#!/bin/bash\necho hello > /tmp/hello\n"


def agent_user_data(region: str, ami: str = "al2023", version: str | None = None) -> str:
    """User data that installs the agent as AWS's install guide does for that OS; `version`
    pins a release (`./install auto -v releases/codedeploy-agent-1.1.2-1855.noarch.rpm`)."""
    ubuntu = ami.startswith("ubuntu")
    pin = ""
    if version:
        key = (
            f"releases/codedeploy-agent_{version}_all.deb"
            if ubuntu
            else f"releases/codedeploy-agent-{version}.noarch.rpm"
        )
        pin = f" -v {key}"
    if ubuntu:
        return UBUNTU_AGENT_USER_DATA.format(region=region, pin=pin)
    text = AGENT_USER_DATA.format(region=region)
    if ami == "al2":
        text = text.replace("dnf install", "yum install")
    return text.replace("./install auto\n", f"./install auto{pin}\n")


TAG_KEY = "codedeploy-wizard:application"
_CANONICAL = "/aws/service/canonical/ubuntu/server/{}/stable/current/amd64/hvm/{}/ami-id"
# the public SSM parameters that name the current AMIs (Amazon Linux and Canonical publish them)
AMI_PARAMETERS = {
    "al2": "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
    "al2023": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "ubuntu-20.04": _CANONICAL.format("20.04", "ebs-gp2"),
    "ubuntu-22.04": _CANONICAL.format("22.04", "ebs-gp2"),
    "ubuntu-24.04": _CANONICAL.format("24.04", "ebs-gp3"),
}
FINAL = ("Succeeded", "Failed", "Stopped")

START_SH = "#!/bin/bash\nset -euo pipefail\necho starting the app\n"
VALIDATE_SH = "#!/bin/bash\nset -euo pipefail\ncurl -fsS http://localhost/ >/dev/null\n"


def appspec(
    destination: str,
    hooks: dict[str, list[dict[str, Any]]] | None = None,
    *,
    extra: str = "",
    os_name: str = "linux",
) -> str:
    """An appspec.yml text (built by hand so tests can also write broken ones)."""
    lines = [
        "version: 0.0",
        f"os: {os_name}",
        "files:",
        "  - source: /",
        f"    destination: {destination}",
    ]
    if hooks:
        lines.append("hooks:")
        for event, scripts in hooks.items():
            lines.append(f"  {event}:")
            for s in scripts:
                lines.append(f"    - location: {s['location']}")
                for key in ("timeout", "runas"):
                    if key in s:
                        lines.append(f"      {key}: {s[key]}")
    return "\n".join(lines) + "\n" + extra


def zip_bundle(files: dict[str, str | bytes], *, wrap: str | None = None) -> bytes:
    """A real zip archive, in memory; `wrap` puts everything under one top-level folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            path = f"{wrap}/{name}" if wrap else name
            info = zipfile.ZipInfo(path)
            info.external_attr = (0o755 if name.endswith(".sh") else 0o644) << 16
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def trust(service: str, conditions: dict[str, Any] | None = None) -> str:
    stmt: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        stmt["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


@dataclass
class World:
    """One emulated world under a unique name prefix (parallel-safe on a shared server)."""

    endpoint_url: str | None
    region: str = "us-east-1"
    name: str = ""
    account: str = ""
    credentials: tuple[str, str] = ("sandbox", "sandbox")  # (access key id, secret)
    _clients: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = "w-" + uuid.uuid4().hex[:8]
        if not self.account:
            self.account = self.client("sts").get_caller_identity()["Account"]

    def client(self, service: str, region: str | None = None) -> Any:
        key = f"{service}:{region or self.region}"
        if key not in self._clients:
            import boto3
            from botocore.config import Config

            cfg = Config(
                retries={"mode": "standard", "max_attempts": 3},
                s3={"addressing_style": "path"},
            )
            self._clients[key] = boto3.client(
                service,
                region_name=region or self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.credentials[0],
                aws_secret_access_key=self.credentials[1],
                config=cfg,
            )
        return self._clients[key]

    # -- IAM --
    def service_role(
        self, name: str | None = None, *, service: str = "codedeploy.amazonaws.com"
    ) -> str:
        """The CodeDeploy service role, with the confused-deputy conditions of reference §6."""
        name = name or f"{self.name}-cd-service"
        iam = self.client("iam")
        conditions = {
            "StringEquals": {"aws:SourceAccount": self.account},
            "ArnLike": {
                "aws:SourceArn": f"arn:aws:codedeploy:{self.region}:{self.account}:"
                "deploymentgroup:*"
            },
        }
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service, conditions))[
            "Role"
        ]["Arn"]
        iam.attach_role_policy(
            RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
        )
        return arn

    def instance_profile(
        self,
        name: str | None = None,
        *,
        bucket: str | None = None,
        service: str = "ec2.amazonaws.com",
        s3_read: bool = True,
        ssm: bool = True,
    ) -> str:
        """Instance role + profile of the same name; least-privilege read on `bucket`."""
        name = name or f"{self.name}-ec2"
        iam = self.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))
        if s3_read and bucket:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": f"arn:aws:s3:::{bucket}",
                    },
                ],
            }
            iam.put_role_policy(
                RoleName=name, PolicyName="revision-read", PolicyDocument=json.dumps(policy)
            )
        if ssm:
            iam.attach_role_policy(
                RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
            )
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    # -- S3 --
    def bucket(self, name: str | None = None, *, region: str | None = None) -> str:
        name = name or f"{self.name}-bundles"
        region = region or self.region
        s3 = self.client("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        return name

    def put_bundle(self, bucket: str, key: str, data: bytes, *, region: str | None = None) -> str:
        resp = self.client("s3", region).put_object(Bucket=bucket, Key=key, Body=data)
        return resp["ETag"]

    # -- EC2 --
    def ami(self, which: str = "al2023") -> str:
        return self.client("ssm").get_parameter(Name=AMI_PARAMETERS[which])["Parameter"]["Value"]

    def launch(
        self,
        count: int = 1,
        *,
        tags: dict[str, str] | None = None,
        profile: str | None = None,
        agent: bool = True,
        ami: str = "al2023",
        instance_type: str = "t3.micro",
        user_data: str | None = None,
        metadata_options: dict[str, Any] | None = None,
    ) -> list[str]:
        """Launch `count` tagged instances; the user data installs the agent unless `agent` is
        False (`user_data` replaces it); `ami` is a key of AMI_PARAMETERS or an AMI id."""
        all_tags = {TAG_KEY: self.name, "Name": self.name, **(tags or {})}
        if user_data is None:
            user_data = agent_user_data(self.region, ami) if agent else PLAIN_USER_DATA
        kwargs: dict[str, Any] = {
            "ImageId": self.ami(ami) if ami in AMI_PARAMETERS else ami,
            "MinCount": count,
            "MaxCount": count,
            "InstanceType": instance_type,
            "UserData": user_data,
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
                }
            ],
        }
        if profile:
            kwargs["IamInstanceProfile"] = {"Name": profile}
        if metadata_options:
            kwargs["MetadataOptions"] = metadata_options
        resp = self.client("ec2").run_instances(**kwargs)
        return [i["InstanceId"] for i in resp["Instances"]]

    def wait_ssm(self, instance_ids: list[str], timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll DescribeInstanceInformation until every instance's SSM agent is Online, as one
        must before SendCommand (an instance registers with Systems Manager only once booted:
        SendCommand answers InvalidInstanceId before that, per the SSM API reference).
        Returns the InstanceInformationList entries; AssertionError after `timeout` seconds."""
        ssm = self.client("ssm")
        deadline = time.monotonic() + timeout
        while True:
            infos = ssm.describe_instance_information(
                Filters=[{"Key": "InstanceIds", "Values": list(instance_ids)}]
            )["InstanceInformationList"]
            online = [i for i in infos if i.get("PingStatus") == "Online"]
            if len(online) == len(set(instance_ids)):
                return online
            assert time.monotonic() < deadline, f"SSM never registered {instance_ids}"
            time.sleep(0.02)

    # -- CodeDeploy --
    def application(
        self,
        service_role_arn: str,
        *,
        config: str = "CodeDeployDefault.AllAtOnce",
        tag_value: str | None = None,
        group: str | None = None,
    ) -> tuple[str, str]:
        cd = self.client("codedeploy")
        app = self.name
        group = group or f"{self.name}-group"
        cd.create_application(applicationName=app, computePlatform="Server")
        cd.create_deployment_group(
            applicationName=app,
            deploymentGroupName=group,
            deploymentConfigName=config,
            serviceRoleArn=service_role_arn,
            ec2TagFilters=[
                {"Key": TAG_KEY, "Value": tag_value or self.name, "Type": "KEY_AND_VALUE"}
            ],
        )
        return app, group

    def deploy(
        self,
        group: str,
        bucket: str,
        key: str,
        *,
        etag: str | None = None,
        file_exists_behavior: str | None = None,
        config: str | None = None,
        bundle_type: str = "zip",
    ) -> str:
        location: dict[str, Any] = {"bucket": bucket, "key": key, "bundleType": bundle_type}
        if etag:
            location["eTag"] = etag
        kwargs: dict[str, Any] = {
            "applicationName": self.name,
            "deploymentGroupName": group,
            "revision": {"revisionType": "S3", "s3Location": location},
        }
        if file_exists_behavior:
            kwargs["fileExistsBehavior"] = file_exists_behavior
        if config:
            kwargs["deploymentConfigName"] = config
        return self.client("codedeploy").create_deployment(**kwargs)["deploymentId"]

    def wait(self, deployment_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll GetDeployment until the deployment is final; its deploymentInfo."""
        cd = self.client("codedeploy")
        deadline = time.monotonic() + timeout
        while True:
            info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            if info["status"] in FINAL or time.monotonic() > deadline:
                return info
            time.sleep(0.05)

    def targets(self, deployment_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """Every target's instanceTarget (paginated list, batches of 25)."""
        cd = self.client("codedeploy")
        kwargs: dict[str, Any] = {"deploymentId": deployment_id}
        if status:
            kwargs["targetFilters"] = {"TargetStatus": [status]}
        ids: list[str] = []
        for page in cd.get_paginator("list_deployment_targets").paginate(**kwargs):
            ids += page["targetIds"]
        out = []
        for i in range(0, len(ids), 25):
            resp = cd.batch_get_deployment_targets(
                deploymentId=deployment_id, targetIds=ids[i : i + 25]
            )
            out += [t["instanceTarget"] for t in resp["deploymentTargets"]]
        return out


def first_failure(target: dict[str, Any]) -> dict[str, Any] | None:
    """The first Failed lifecycle event of a target, if any."""
    for event in target.get("lifecycleEvents", []):
        if event["status"] == "Failed":
            return event
    return None
