"""The sandbox server answers "who am I" before the rest of the emulator is installed (issue 11.9:
the TUI shows the account fast), and no other request ever sees a half-installed emulator."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A fresh interpreter: this test process may have installed the extensions already.
FRESH = textwrap.dedent(
    """
    import concurrent.futures, json
    import boto3
    from wizard.sandbox import extensions
    from wizard.sandbox.server import SandboxServer

    server = SandboxServer(identity_first=True).start()
    session = boto3.Session("sandbox", "sandbox", region_name="us-east-1")
    sts = session.client("sts", endpoint_url=server.url)
    account = sts.get_caller_identity()["Account"]
    installed_at_identity = extensions._installed

    def ubuntu(_):
        ec2 = session.client("ec2", endpoint_url=server.url)
        images = ec2.describe_images(ImageIds=[extensions.UBUNTU_AMI_ID])["Images"]
        return [image["ImageId"] for image in images]

    def ssm(_):
        return session.client("ssm", endpoint_url=server.url).describe_instance_information()[
            "InstanceInformationList"]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # all at once, during the warm-up
        found = list(pool.map(ubuntu, range(3))) + list(pool.map(ssm, range(1)))
    server.stop()
    print(json.dumps({"account": account, "installed_at_identity": installed_at_identity,
                      "found": found}))
    """
)


def test_identity_answers_first_and_other_services_wait_for_the_whole_emulator() -> None:
    import json

    out = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["account"] == "123456789012"
    assert result["installed_at_identity"] is False  # STS did not wait for the warm-up
    ubuntu_id = "ami-0a0e5d9c7acc336f1"  # the sandbox's own image: there only once installed
    assert result["found"] == [[ubuntu_id]] * 3 + [[]]


def test_a_failed_warm_up_is_one_aws_error_not_a_hang(monkeypatch, aws_credentials) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from wizard.errors import UsageError
    from wizard.sandbox import extensions
    from wizard.sandbox.server import SandboxServer

    def broken() -> None:
        raise RuntimeError("moto is broken")

    monkeypatch.setattr(extensions, "install", broken)
    server = SandboxServer(identity_first=True).start()
    try:
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        session = boto3.Session("sandbox", "sandbox", region_name="us-east-1")
        sts = session.client("sts", endpoint_url=server.url, config=config)
        assert sts.get_caller_identity()["Account"] == "123456789012"
        codedeploy = session.client("codedeploy", endpoint_url=server.url, config=config)
        with pytest.raises(ClientError) as info:
            codedeploy.list_applications()
        assert info.value.response["Error"]["Code"] == "InternalFailure"
        assert "the sandbox failed to start: moto is broken" in str(info.value)
        for name, call in (("ec2", "describe_instances"), ("iam", "list_roles")):
            with pytest.raises(ClientError) as info:
                getattr(session.client(name, endpoint_url=server.url, config=config), call)()
            assert info.value.response["Error"]["Code"] == "InternalFailure"
        with pytest.raises(UsageError, match="moto is broken"):
            server.wait_ready()
    finally:
        server.stop()
