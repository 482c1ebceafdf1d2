"""What the sandbox adds to moto, installed in-process (server and `moto.mock_aws` alike).

`install()` is idempotent; the first call costs about a second (most of it importing moto.ec2),
so the server runs it in the background after `install_identity()` (what STS needs). It:

- puts the CodeDeploy actions moto lacks on `CodeDeployResponse` and makes deployments run on
  the simulated fleet (`wizard.sandbox.codedeploy`, `wizard.sandbox.fleet`);
- adds SSM DescribeInstanceInformation and a Run Command that executes on the simulated
  instances (`wizard.sandbox.ssm`);
- gives Elastic Load Balancing targets a health that moves with the clock (`wizard.sandbox.elb`)
  and Auto Scaling groups lifecycle hooks and suspended processes (`wizard.sandbox.autoscaling`);
  CodeDeploy installs its launch hook on them and deploys to scaled-out instances
  (`wizard.sandbox.scaleout`); launch templates give instances their profile and metadata
  options (`wizard.sandbox.launchtemplates`);
- adds IAM SimulatePrincipalPolicy / SimulateCustomPolicy (`wizard.sandbox.iam_sim`);
- makes the AWS managed policies the app attaches exist even when moto does not load its full
  catalogue (AWSCodeDeployRole, AmazonSSMManagedInstanceCore, AmazonEC2RoleforAWSCodeDeploy …);
- registers an Ubuntu 24.04 AMI and the public SSM parameter that names it, next to moto's
  Amazon Linux 2023 ones, so `ami: ubuntu-24.04` resolves to an image that exists.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

_installed = False
_lock = threading.Lock()

MANAGED_POLICY_NAMES = (
    "AWSCodeDeployRole",
    "AmazonSSMManagedInstanceCore",
    "AmazonEC2RoleforAWSCodeDeploy",
    "AmazonEC2RoleforAWSCodeDeployLimited",
    "AWSCodeDeployFullAccess",
    "AWSCodeDeployDeployerAccess",
    "AWSCodeDeployReadOnlyAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonEC2RoleforSSM",
    "CloudWatchAgentServerPolicy",
    "AdministratorAccess",
    "IAMReadOnlyAccess",
)
CANONICAL_OWNER = "099720109477"
_CANONICAL = (
    "/aws/service/canonical/ubuntu/server/{version}/stable/current/{arch}/hvm/{disk}/ami-id"
)
# Canonical's images and the public SSM parameters that name them ("Find Ubuntu images on AWS",
# Canonical): 20.04 focal on gp2, 22.04 jammy on gp2 and gp3, 24.04 noble on gp3; amd64 and arm64.
_UBUNTU = (
    ("20.04", "focal", "ebs-gp2", "hvm-ssd", "0e1d0f33b1a2c4f51", "0e1d0f33b1a2c4f52"),
    ("22.04", "jammy", "ebs-gp2", "hvm-ssd", "0c7217cdde317cfe1", "0c7217cdde317cfe2"),
    ("22.04", "jammy", "ebs-gp3", "hvm-ssd-gp3", "0c7217cdde317cfe3", "0c7217cdde317cfe4"),
    ("24.04", "noble", "ebs-gp3", "hvm-ssd-gp3", "0a0e5d9c7acc336f1", "0b1f3c6e2a7d9e4c5"),
)
# (AMI id, name, architecture, public SSM parameter)
UBUNTU_AMIS = tuple(
    (
        f"ami-{amd if arch == 'amd64' else arm}",
        f"ubuntu/images/{store}/ubuntu-{code}-{version}-{arch}-server-20250115",
        "x86_64" if arch == "amd64" else "arm64",
        _CANONICAL.format(version=version, arch=arch, disk=disk),
    )
    for version, code, disk, store, amd, arm in _UBUNTU
    for arch in ("amd64", "arm64")
)
UBUNTU_AMI_ID = "ami-0a0e5d9c7acc336f1"  # 24.04 amd64, the wizard's `ami: ubuntu-24.04`
UBUNTU_PARAMETER = _CANONICAL.format(version="24.04", arch="amd64", disk="ebs-gp3")


def install() -> None:
    """Patch moto in-process with the sandbox's extra actions and data. Idempotent.

    Another thread calling it while the first install runs waits for it to finish, so no caller
    ever sees a half-installed emulator.
    """
    global _installed
    with _lock:
        if _installed:
            return
        _install_identity_locked()
        with _one_region_list():
            from wizard.sandbox import autoscaling, codedeploy, elb, launchtemplates, scaleout, ssm

        codedeploy.install()
        scaleout.install()
        ssm.install()
        elb.install()
        autoscaling.install()
        launchtemplates.install()
        _install_amis()
        _install_run_instances()
        _install_create_bucket_tags()
        _installed = True


def install_identity() -> None:
    """Install only what STS and IAM answer with (IAM's extra actions, the managed policies).

    STS GetCallerIdentity reads moto's IAM backend, so this is what the server needs before it
    answers "who am I"; the rest of `install()` (CodeDeploy, EC2, SSM, ELB …: over a second of
    imports, most of it moto.ec2) can then run in the background. Idempotent.
    """
    with _lock:
        _install_identity_locked()


_identity_installed = False


def _install_identity_locked() -> None:
    global _identity_installed
    if not _identity_installed:
        _install_iam()
        _install_managed_policies()
        _identity_installed = True


@contextmanager
def _one_region_list() -> Iterator[None]:
    """Let moto.ec2's import list the regions from one botocore session instead of three.

    At import moto.ec2 builds `boto3.Session()` three times to call `get_available_regions`
    (aws, aws-us-gov, aws-cn); each new session parses botocore's endpoints.json and the EC2
    service model again (about 0.4 s of the sandbox's start). The answer is the same from one
    session, so the three calls share one while the import runs.
    """
    import sys

    if "moto.ec2.models.availability_zones_and_regions" in sys.modules:
        yield
        return
    import boto3.session

    original = boto3.session.Session.get_available_regions
    shared: list[Any] = []

    def get_available_regions(self: Any, *args: Any, **kwargs: Any) -> list[str]:
        if not shared:
            shared.append(boto3.session.Session())
        return original(shared[0], *args, **kwargs)

    boto3.session.Session.get_available_regions = get_available_regions  # type: ignore[method-assign]
    try:
        yield
    finally:
        boto3.session.Session.get_available_regions = original  # type: ignore[method-assign]


# ---- IAM -------------------------------------------------------------------------------------


def _install_iam() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.iam.responses import IamResponse

    from wizard.sandbox import iam_sim
    from wizard.sandbox.awserror import AwsError

    def _params(self: Any) -> dict[str, Any]:
        names = (
            "PolicySourceArn",
            "PolicyInputList",
            "PermissionsBoundaryPolicyInputList",
            "PolicyExclusionList",
            "ActionNames",
            "ResourceArns",
            "ResourcePolicy",
            "ResourceOwner",
            "CallerArn",
            "ContextEntries",
            "MaxItems",
            "Marker",
        )
        return {n: self._get_param(n) for n in names}

    def simulate_principal_policy(self: Any) -> ActionResult:
        params = _params(self)
        if not params.get("ActionNames"):
            raise AwsError("InvalidInput", "ActionNames must not be empty.")
        try:
            result = iam_sim.simulate_principal_policy(self.current_account, params)
        except iam_sim.NoSuchEntity as exc:
            raise AwsError("NoSuchEntity", str(exc)) from None
        except ValueError as exc:
            raise AwsError("MalformedPolicyDocument", f"Invalid policy: {exc}") from None
        return ActionResult(result)

    def simulate_custom_policy(self: Any) -> ActionResult:
        params = _params(self)
        if not params.get("ActionNames") or not params.get("PolicyInputList"):
            raise AwsError("InvalidInput", "ActionNames and PolicyInputList must not be empty.")
        try:
            result = iam_sim.simulate_custom_policy(self.current_account, params)
        except ValueError as exc:
            raise AwsError("MalformedPolicyDocument", f"Invalid policy: {exc}") from None
        return ActionResult(result)

    def add_client_id_to_open_id_connect_provider(self: Any) -> Any:
        provider = self.backend.get_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn")
        )
        client_id = self._get_param("ClientID") or ""
        if not 1 <= len(client_id) <= 255:
            raise AwsError("InvalidInput", "ClientID must be 1-255 characters.")
        if client_id not in provider.client_id_list:  # adding a present id is a no-op on AWS
            if len(provider.client_id_list) >= 100:
                raise AwsError(
                    "LimitExceeded",
                    "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100",
                )
            provider.client_id_list.append(client_id)
        return EmptyResult()

    def remove_client_id_from_open_id_connect_provider(self: Any) -> Any:
        provider = self.backend.get_open_id_connect_provider(
            self._get_param("OpenIDConnectProviderArn")
        )
        client_id = self._get_param("ClientID") or ""
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)
        return EmptyResult()

    IamResponse.simulate_principal_policy = simulate_principal_policy
    IamResponse.simulate_custom_policy = simulate_custom_policy
    IamResponse.add_client_id_to_open_id_connect_provider = (
        add_client_id_to_open_id_connect_provider
    )
    IamResponse.remove_client_id_from_open_id_connect_provider = (
        remove_client_id_from_open_id_connect_provider
    )


@cache
def _managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in MANAGED_POLICY_NAMES if name in data}


def _add_policies(backend: Any) -> None:
    from moto.iam.models import AWSManagedPolicy

    for name, d in _managed_policy_data().items():
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, d)
        if policy.arn not in backend.managed_policies:
            backend.managed_policies[policy.arn] = policy
            backend.aws_managed_policies.append(policy)


def _install_managed_policies() -> None:
    from moto.iam import models as iam_models

    original = iam_models.IAMBackend._init_managed_policies

    def _init_managed_policies(self: Any) -> dict[str, Any]:
        out = original(self)
        if not out:
            self.aws_managed_policies = list(self.aws_managed_policies)
            self.managed_policies = out
            _add_policies(self)
            return self.managed_policies
        return out

    iam_models.IAMBackend._init_managed_policies = _init_managed_policies
    # backends that already exist (created before install)
    for account in list(iam_models.iam_backends.keys()):
        for backend in list(iam_models.iam_backends[account].values()):
            _add_policies(backend)


# ---- AMIs and their public parameters ---------------------------------------------------------


def _mark_imds_v2(ec2_backend: Any) -> None:
    """Amazon Linux 2023 AMIs are registered with ImdsSupport v2.0 (AL2023 User Guide, "IMDSv2")."""
    for ami in list(ec2_backend.amis.values()):
        if (ami.name or "").startswith("al2023-ami") and not getattr(ami, "imds_support", None):
            ami.imds_support = "v2.0"


def _add_ubuntu_ami(ec2_backend: Any) -> None:
    from datetime import datetime

    from moto.ec2.models.amis import Ami

    for ami_id, name, arch, _param in UBUNTU_AMIS:
        if ami_id in ec2_backend.amis:
            continue
        version, code = name.split("-")[-4], name.split("-")[-5]
        ec2_backend.amis[ami_id] = Ami(
            ec2_backend,
            ami_id=ami_id,
            name=name,
            description=f"Canonical, Ubuntu, {version} LTS, {name.split('-')[-3]} {code} image",
            owner_id=CANONICAL_OWNER,
            public=True,
            virtualization_type="hvm",
            architecture=arch,
            state="available",
            creation_date=datetime(2025, 1, 15),
            root_device_type="ebs",
            root_device_name="/dev/sda1",
            boot_mode="uefi-preferred",
        )


def _install_amis() -> None:
    from moto.ec2.models import amis as ami_models
    from moto.ec2.models import ec2_backends
    from moto.ssm import models as ssm_models

    original_load = ami_models.AmiBackend._load_amis

    def _load_amis(self: Any) -> None:
        original_load(self)
        _add_ubuntu_ami(self)
        _mark_imds_v2(self)

    ami_models.AmiBackend._load_amis = _load_amis
    for account in list(ec2_backends.keys()):
        for backend in list(ec2_backends[account].values()):
            _add_ubuntu_ami(backend)
            _mark_imds_v2(backend)

    original_check = ssm_models.ParameterDict._check_loading_status

    def _check_loading_status(self: Any, key: str) -> None:
        original_check(self, key)
        if str(key or "").startswith("/aws/service/canonical") and not getattr(
            self, "_sandbox_canonical", False
        ):
            self._sandbox_canonical = True
            for ami_id, _name, _arch, param in UBUNTU_AMIS:
                _add_parameter(self, param, ami_id)

    ssm_models.ParameterDict._check_loading_status = _check_loading_status


def _add_parameter(params: Any, name: str, value: str) -> None:
    """Add a public AMI parameter to moto's SSM store, as AWS publishes it."""
    from moto.ssm import models as ssm_models

    defaultdict.__getitem__(params, name).append(
        ssm_models.Parameter(
            account_id=params.account_id,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=1736899200.0,
            version=1,
            data_type="aws:ec2:image",
        )
    )


_RUN_LOCK = threading.Lock()


def _install_run_instances() -> None:
    """RunInstances as AWS does it, where moto differs.

    - The instance profile goes to every instance of a launch (moto: the first one only).
    - An instance launched from an AMI registered with ImdsSupport v2.0 requires IMDSv2 unless
      the launch sets HttpTokens itself (EC2 User Guide, "Configure the instance metadata
      options for new instances": the AMI's ImdsSupport sets HttpTokens to required).
    - `ClientToken` makes the call idempotent (moto ignores it). EC2 API reference, "Ensuring
      idempotency in Amazon EC2 API requests": a repeat with the same token and the same
      parameters launches nothing and answers with the original reservation, its instances in
      their current state; the same token with other parameters (the Region aside) fails with
      IdempotentParameterMismatch; a token is valid for at least 24 hours after the instances
      terminate (here: for the life of the sandbox). Concurrent requests with one token launch
      once. `DescribeInstances` gains the `client-token` filter that AWS documents.
    """
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.models.instances import Instance
    from moto.ec2.responses.instances import InstanceResponse

    from wizard.sandbox.awserror import AwsError

    ec2_utils.filter_dict_attribute_mapping.setdefault("client-token", "client_token")

    original_init = Instance.__init__

    def __init__(self: Any, ec2_backend: Any, image_id: str, *args: Any, **kwargs: Any) -> None:
        original_init(self, ec2_backend, image_id, *args, **kwargs)
        if "HttpTokens" in (kwargs.get("metadata_options") or {}):
            return
        ami = getattr(ec2_backend, "amis", {}).get(image_id)
        if getattr(ami, "imds_support", None) == "v2.0":
            self.metadata_options.http_tokens = "required"

    Instance.__init__ = __init__

    original = InstanceResponse.run_instances

    def run_instances(self: Any) -> Any:
        token = self._get_param("ClientToken")
        if not token:
            return _launch(self)
        request = tuple(
            sorted(
                (k, tuple(v) if isinstance(v, list) else v)
                for k, v in self.querystring.items()
                if k not in ("ClientToken", "Action", "Version")
            )
        )
        with _RUN_LOCK:
            # kept on the region's backend, so a reset of moto's state forgets the tokens too
            answers = self.ec2_backend.__dict__.setdefault("_sandbox_client_tokens", {})
            seen = answers.get(token)
            if seen is not None:
                if seen[0] != request:
                    raise AwsError(
                        "IdempotentParameterMismatch",
                        "Arguments on this idempotent request are inconsistent with arguments "
                        "used in previous request(s).",
                    )
                from moto.core.responses import ActionResult

                # the instances as they are now (moto's answer says "pending" for a new launch)
                self.RESPONSE_KEY_PATH_TO_TRANSFORMER = {
                    k: v
                    for k, v in type(self).RESPONSE_KEY_PATH_TO_TRANSFORMER.items()
                    if k != "RunInstances.Reservation.Instances.Instance.State"
                }
                return ActionResult(seen[1])
            result = _launch(self)
            reservation = getattr(result, "result", None)
            if reservation is not None:
                answers[token] = (request, reservation)
            return result

    def _launch(self: Any) -> Any:
        result = original(self)
        name = self._get_param("IamInstanceProfile.Name")
        arn = self._get_param("IamInstanceProfile.Arn")
        reservation = getattr(result, "result", None)
        for instance in list(getattr(reservation, "instances", []))[1:]:
            if name:
                self.ec2_backend.associate_iam_instance_profile(
                    instance_id=instance.id, iam_instance_profile_name=name
                )
            elif arn:
                self.ec2_backend.associate_iam_instance_profile(
                    instance_id=instance.id, iam_instance_profile_arn=arn
                )
        return result

    InstanceResponse.run_instances = run_instances


def _install_create_bucket_tags() -> None:
    """CreateBucket with `CreateBucketConfiguration.Tags` creates the bucket tagged (moto drops
    them). S3 API reference, CreateBucket: "An array of tags that you can apply to the bucket that
    you're creating"; the tags are the bucket's tag set, as GetBucketTagging then shows."""
    import xmltodict
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_put

    def bucket_response_put(self: Any, request: Any, bucket_name: str, querystring: Any) -> Any:
        tags: dict[str, str] = {}
        if not querystring and self.body:
            try:
                config = xmltodict.parse(self.body).get("CreateBucketConfiguration") or {}
                found = (config.get("Tags") or {}).get("Tag") or []
                found = found if isinstance(found, list) else [found]
                tags = {t["Key"]: t.get("Value") or "" for t in found if t.get("Key")}
            except Exception:
                tags = {}
        existed = bucket_name in self.backend.buckets
        result = original(self, request, bucket_name, querystring)
        if tags and not existed and bucket_name in self.backend.buckets:
            self.backend.put_bucket_tagging(bucket_name, tags)
        return result

    S3Response._bucket_response_put = bucket_response_put
