"""Test helpers for the diagnose unit tests: a CodeDeploy world built through boto3 in moto.

moto (in-process) covers IAM, EC2, S3 and the CodeDeploy basics; what it lacks for deployment
outcomes (targets, lifecycle diagnostics, deployment configs, SSM instance info, Run Command output,
policy simulation) is supplied by `FakeEvidence`, which overrides exactly those fetchers with the
shapes the AWS API documents. Everything else the checks read comes from moto over boto3.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from checks.evidence import Evidence, InstanceLook, Probe, Unavailable

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
CD_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "codedeploy.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
APPSPEC = """version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""
BUILTIN_CONFIGS = {
    "CodeDeployDefault.AllAtOnce": {"type": "HOST_COUNT", "value": 0},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    "CodeDeployDefault.OneAtATime": {"type": "FLEET_PERCENT", "value": 99},
}


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@dataclass
class World:
    ctx: Any
    app: str
    group: str
    bucket: str
    key: str
    etag: str
    instance_ids: list[str]
    instance_role: str
    service_role: str
    profile: str
    deployment_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def build(
    ctx: Any,
    *,
    name: str | None = None,
    n: int = 3,
    profile_on: int | None = None,
    instance_trust: dict | None = None,
    service_trust: dict | None = None,
    attach_service_policy: bool = True,
    s3_read: bool = True,
    bundle: dict[str, str] | None = None,
    tag_value: str | None = None,
    filter_value: str | None = None,
    bucket_region: str | None = None,
    deployment_config: str = "CodeDeployDefault.AllAtOnce",
    http_tokens: str | None = None,
    user_data: str | None = None,
) -> World:
    """Roles, profile, bucket + bundle, `n` tagged instances, application, group, a deployment."""
    name = name or getattr(ctx, "test_name", None) or "app"
    iam, ec2, s3, cd = (ctx.client(s) for s in ("iam", "ec2", "s3", "codedeploy"))
    inst_role, svc_role, profile = f"{name}-ec2", f"{name}-service", f"{name}-ec2"
    bucket, key = f"{name}-bundles", "releases/bundle.zip"
    iam.create_role(
        RoleName=inst_role, AssumeRolePolicyDocument=json.dumps(instance_trust or EC2_TRUST)
    )
    if s3_read:
        iam.put_role_policy(
            RoleName=inst_role,
            PolicyName="read",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{bucket}/*",
                        }
                    ],
                }
            ),
        )
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=inst_role)
    svc = iam.create_role(
        RoleName=svc_role, AssumeRolePolicyDocument=json.dumps(service_trust or CD_TRUST)
    )["Role"]
    if attach_service_policy:
        arn = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
        try:
            iam.get_policy(PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:  # plain moto lacks it: same name and path
            arn = f"arn:aws:iam::{ctx.account}:policy/service-role/AWSCodeDeployRole"
            try:
                iam.get_policy(PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                iam.create_policy(
                    PolicyName="AWSCodeDeployRole",
                    Path="/service-role/",
                    PolicyDocument=json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
                            ],
                        }
                    ),
                )
        iam.attach_role_policy(RoleName=svc_role, PolicyArn=arn)
    region = bucket_region or ctx.region
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    data = make_zip(
        bundle
        if bundle is not None
        else {
            "appspec.yml": APPSPEC,
            "scripts/start.sh": "#!/bin/bash\necho hi\n",
            "index.html": "hi",
        }
    )
    etag = s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"].strip('"')
    image = "ami-03cf127a"  # one of moto's default AMIs
    value = tag_value or name
    extra: dict[str, Any] = {}
    if http_tokens:
        extra["MetadataOptions"] = {"HttpTokens": http_tokens, "HttpEndpoint": "enabled"}
    if user_data is not None:
        extra["UserData"] = user_data
    resp = ec2.run_instances(
        ImageId=image,
        MinCount=n,
        MaxCount=n,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": value}]}],
        **extra,
    )
    ids = sorted(i["InstanceId"] for i in resp["Instances"])
    with_profile = ids if profile_on is None else ids[:profile_on]
    for iid in with_profile:
        ec2.associate_iam_instance_profile(IamInstanceProfile={"Name": profile}, InstanceId=iid)
    cd.create_application(applicationName=name, computePlatform="Server")
    group = f"{name}-group"
    cd.create_deployment_group(
        applicationName=name,
        deploymentGroupName=group,
        serviceRoleArn=svc["Arn"],
        deploymentConfigName=deployment_config,
        ec2TagFilters=[{"Key": "Name", "Value": filter_value or name, "Type": "KEY_AND_VALUE"}],
    )
    dep = cd.create_deployment(
        applicationName=name,
        deploymentGroupName=group,
        revision={
            "revisionType": "S3",
            "s3Location": {"bucket": bucket, "key": key, "bundleType": "zip", "eTag": etag},
        },
    )
    return World(
        ctx, name, group, bucket, key, etag, ids, inst_role, svc_role, profile, dep["deploymentId"]
    )


def event(
    name: str,
    status: str,
    code: str | None = None,
    message: str = "",
    script: str = "",
    log: str = "",
) -> dict:
    ev: dict[str, Any] = {"lifecycleEventName": name, "status": status}
    if status == "Failed":
        ev["diagnostics"] = {
            "errorCode": code or "UnknownError",
            "scriptName": script,
            "message": message,
            "logTail": log,
        }
    return ev


EVENTS = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)


def target(
    instance_id: str,
    failed_at: str | None,
    *,
    code: str | None = None,
    message: str = "",
    script: str = "",
    log: str = "",
    status: str | None = None,
) -> dict:
    """A BatchGetDeploymentTargets `deploymentTarget` for an EC2 instance."""
    events = []
    state = "Succeeded"
    for name in EVENTS:
        if failed_at is None:
            events.append(event(name, "Succeeded"))
        elif state == "Succeeded" and name == failed_at:
            events.append(event(name, "Failed", code, message, script, log))
            state = "Skipped"
        else:
            events.append(event(name, state))
    return {
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "deploymentId": "d-TEST00000",
            "targetId": instance_id,
            "targetArn": f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}",
            "status": status or ("Succeeded" if failed_at is None else "Failed"),
            "lifecycleEvents": events,
        },
    }


class FakeEvidence(Evidence):
    """Evidence with the deployment outcome, SSM and simulation supplied by the test."""

    def __init__(
        self,
        ctx: Any,
        world: World,
        *,
        status: str = "Failed",
        error: dict | None = None,
        targets: list[dict] | None = None,
        ssm: dict[str, str] | None = None,
        probes: dict[str, str] | None = None,
        simulate: Any = None,
        preflight: bool = False,
        config: str | None = None,
        platform: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(
            ctx,
            deployment_id=None if preflight else world.deployment_id,
            application=world.app,
            deployment_group=world.group,
            preflight=preflight,
        )
        self.world = world
        self._status = status
        self._error = error
        self._targets = targets or []
        self._ssm = ssm or {}
        self._probes = probes or {}
        self._simulate = simulate
        self._config = config
        self._platform = platform

    def _resolve(self) -> dict | None:
        if self.preflight:
            return None
        info = super()._resolve()
        assert info is not None
        counts: dict[str, int] = {}
        for t in self._targets:
            st = t["instanceTarget"]["status"]
            counts[st] = counts.get(st, 0) + 1
        info = dict(info)
        info["status"] = self._status
        info["deploymentOverview"] = {
            k: counts.get(k, 0)
            for k in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
        }
        if self._error:
            info["errorInformation"] = self._error
        return info

    def _list_targets(self, status: str | None) -> list[str]:
        return [
            t["instanceTarget"]["targetId"]
            for t in self._targets
            if status is None or t["instanceTarget"]["status"] == status
        ]

    def failed_targets(self) -> list[dict]:
        return [t for t in self._targets if t["instanceTarget"]["status"] == "Failed"]

    def deployment_config(self) -> dict:
        name = self._config or self.group().get("deploymentConfigName")
        return {"deploymentConfigName": name, "minimumHealthyHosts": BUILTIN_CONFIGS[name]}

    def ssm_status(self) -> dict[str, str]:
        return {i: self._ssm.get(i, "") for i in self.instance_ids()}

    def ssm_info(self) -> dict[str, dict]:
        """DescribeInstanceInformation as SSM reports it (PlatformName/PlatformVersion)."""
        out = {}
        for i, ping in self._ssm.items():
            out[i] = {"InstanceId": i, "PingStatus": ping}
            if self._platform:
                out[i].update(PlatformName=self._platform[0], PlatformVersion=self._platform[1])
        return out

    def look_inside(self, ids: list[str], script: list[str]) -> dict[str, InstanceLook]:
        self.script = script
        out = {}
        for i in ids:
            if self._ssm.get(i) != "Online":
                # as Evidence.look_inside says it
                out[i] = InstanceLook(
                    i, "offline", detail=f"SSM PingStatus {self._ssm.get(i) or 'unknown'}"
                )
                continue
            text = self._probes.get(i, self._probes.get("*", ""))
            from checks.evidence import parse_probes

            out[i] = InstanceLook(i, "Success", parse_probes(text))
        return out

    def simulate(
        self,
        role_arn: str,
        actions: list[str],
        resources: list[str],
        resource_policy: str | None = None,
    ) -> dict:
        if self._simulate is None:
            raise Unavailable("SimulatePrincipalPolicy is not available here")
        return self._simulate(role_arn, actions, resources, resource_policy)


def probes(named: dict[str, tuple[str, int]] | None = None, **kw: tuple[str, int]) -> str:
    """Run Command stdout for bracketed probes: probes(agent=("active", 0))."""
    lines = []
    items = {**(named or {}), **{k.replace("_", "-"): v for k, v in kw.items()}}
    for name, (out, rc) in items.items():
        lines.append(f"@@probe {name}")
        if out:
            lines.append(out)
        lines.append(f"@@rc={rc}")
    return "\n".join(lines)


__all__ = ["Probe", "build", "target"]
