"""Instances step against moto: launch with agent user data, adopt, conflicts, IAM retries."""

from __future__ import annotations

import base64

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY
from wizard.steps import instances, roles
from wizard.steps.instances import LAUNCHED_TAG, agent_installer_url, user_data


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _with_profile(aws, project):
    sc = sc_for(aws, project)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    return sc


def _run(ec2, tags, profile=None):
    kw = {}
    if profile:
        kw["IamInstanceProfile"] = {"Name": profile}
    ami = boto3.client("ssm", region_name="us-east-1").get_parameter(
        Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    )["Parameter"]["Value"]
    return ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
        **kw,
    )["Instances"][0]["InstanceId"]


def test_user_data_installs_the_agent_for_the_region_with_the_right_package_manager():
    al = user_data("al2023", "ap-northeast-2")
    assert al.startswith("#!/bin/bash\n")
    assert "dnf install -y ruby wget" in al
    assert "apt-get" not in al
    assert (
        "https://aws-codedeploy-ap-northeast-2.s3.ap-northeast-2.amazonaws.com/latest/install" in al
    )
    assert "./install auto" in al and "systemctl enable --now codedeploy-agent" in al
    ub = user_data("ubuntu-24.04", "eu-west-1")
    assert "install -y ruby-full wget" in ub and "dnf" not in ub
    # first boot: apt-daily may hold the dpkg lock; every apt-get waits for it instead of failing
    apt_lines = [line for line in ub.splitlines() if "apt-get" in line]
    assert len(apt_lines) == 2 and all("-o DPkg::Lock::Timeout=600" in x for x in apt_lines)
    assert agent_installer_url("cn-north-1", "aws-cn") == (
        "https://aws-codedeploy-cn-north-1.s3.cn-north-1.amazonaws.com.cn/latest/install"
    )


def test_launch_n_instances_with_profile_tags_user_data_and_no_second_set(aws):
    project = make_project("shop", instances={"launch": 2, "tag": {"key": "Name", "value": "shop"}})
    sc = _with_profile(aws, project)
    (change,) = instances.plan(sc)
    assert change.action == "create"
    assert "launch 2 t3.micro instances" in change.description
    assert "ec2:RunInstances" in change.calls
    instances.apply(sc, change)

    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = [
        i
        for r in ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["shop"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    ]
    assert len(found) == 2
    for inst in found:
        tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
        assert tags["Name"] == "shop"
        assert tags[TAG_KEY] == "shop"
        assert tags[LAUNCHED_TAG] == "true"
        assert inst["IamInstanceProfile"]["Arn"].endswith("/shop-codedeploy-ec2")
        assert inst["InstanceType"] == "t3.micro"
        ud = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
        script = base64.b64decode(ud["UserData"]["Value"]).decode()
        assert "aws-codedeploy-us-east-1" in script and "dnf install" in script
    # a resumed apply (same change again) launches nothing more
    instances.apply(sc, change)
    again = instances.plan(sc)
    assert [c.action for c in again] == ["noop"]
    assert "2 instances launched by the wizard running" in again[0].description
    assert (
        sum(
            len(r["Instances"])
            for r in ec2.describe_instances(
                Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
            )["Reservations"]
        )
        == 2
    )


def test_the_client_token_depends_on_the_application_and_slot_only(aws):
    sc = sc_for(aws, make_project("shop", instances={"launch": 2}))
    other_settings = sc_for(
        aws, make_project("shop", instances={"launch": 5, "instance_type": "t3.large"})
    )
    a = instances.slot_token(sc, 0)
    assert a == instances.slot_token(other_settings, 0)  # the same on any machine
    assert len({a, instances.slot_token(sc, 1), instances.slot_token(sc, 0, 1)}) == 3
    assert a != instances.slot_token(sc_for(aws, make_project("shop2")), 0)
    assert len(a) <= 64 and a.isascii()


def test_adopt_associates_profile_where_none_and_reports_other_profiles(aws):
    project = make_project("shop", instances={"tag": {"key": "role", "value": "web"}})
    sc = _with_profile(aws, project)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    iam = boto3.client("iam")
    iam.create_instance_profile(InstanceProfileName="legacy")
    bare = _run(ec2, {"role": "web"})
    other = _run(ec2, {"role": "web"}, profile="legacy")
    _run(ec2, {"role": "db"})
    plan = instances.plan(sc)
    by_action = {c.action: c for c in plan}
    assert set(by_action) == {"adopt", "conflict"}
    assert by_action["adopt"].data["instance_ids"] == [bare]
    assert other in by_action["conflict"].description
    assert "legacy" in by_action["conflict"].description
    assert "replace-iam-instance-profile-association" in by_action["conflict"].fix
    instances.apply(sc, by_action["adopt"])
    assocs = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [bare]}]
    )["IamInstanceProfileAssociations"]
    assert [a["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1] for a in assocs] == [
        "shop-codedeploy-ec2"
    ]
    after = {c.action for c in instances.plan(sc)}
    assert "adopt" not in after
    # the adopted instance is not the wizard's: destroy detaches the profile, never terminates it
    dplan = instances.destroy_plan(sc)
    assert [c.resource for c in dplan] == ["ec2:instance-profile-association"]


def test_zero_matching_instances_is_reported_clearly(aws):
    sc = sc_for(aws, make_project("shop"))
    (change,) = instances.plan(sc)
    assert change.action == "noop"
    assert "no running instances carry the tag" in change.description
    assert "no targets" in change.warning and "NO_INSTANCES" in change.warning
    assert change.blocks_deploy and change.to_json()["problem"] is True


def test_run_instances_is_retried_while_a_fresh_profile_is_not_yet_visible(aws, monkeypatch):
    project = make_project("shop", instances={"launch": 1})
    sc = _with_profile(aws, project)
    ec2 = sc.client("ec2")
    real = ec2.run_instances
    failures = {"left": 2}
    slept = []
    sc.sleep = slept.append

    def flaky(**kw):
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidParameterValue",
                        "Message": "Value (shop-codedeploy-ec2) for parameter "
                        "iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
                    }
                },
                "RunInstances",
            )
        return real(**kw)

    monkeypatch.setattr(ec2, "run_instances", flaky)
    ids = instances.launch(sc)
    assert len(ids) == 1
    assert slept == [2.0, 4.0]


def test_other_launch_errors_are_not_retried(aws, monkeypatch):
    sc = _with_profile(aws, make_project("shop", instances={"launch": 1}))
    ec2 = sc.client("ec2")

    def broken(**kw):
        raise ClientError(
            {"Error": {"Code": "InsufficientInstanceCapacity", "Message": "no capacity"}},
            "RunInstances",
        )

    monkeypatch.setattr(ec2, "run_instances", broken)
    sc.sleep = lambda s: pytest.fail("slept on a non-IAM error")
    with pytest.raises(ClientError):
        instances.launch(sc)


def test_destroy_terminates_only_instances_the_wizard_launched(aws):
    project = make_project("shop", instances={"launch": 1})
    sc = _with_profile(aws, project)
    for ch in instances.plan(sc):
        instances.apply(sc, ch)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    keep = _run(ec2, {TAG_KEY: "shop"})  # carries the filter tag, but the wizard did not launch it
    plan = instances.destroy_plan(sc)
    (term,) = [c for c in plan if c.resource == "ec2:instance"]
    assert keep not in term.data["instance_ids"] and len(term.data["instance_ids"]) == 1
    instances.destroy(sc, term)
    state = ec2.describe_instances(InstanceIds=[keep])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "running"
    assert not [c for c in instances.destroy_plan(sc) if c.resource == "ec2:instance"]


def test_ubuntu_resolves_through_the_canonical_parameter_and_uses_apt(aws):
    from wizard.sandbox import extensions

    extensions.install()  # registers the Ubuntu parameter moto lacks
    sc = _with_profile(aws, make_project("shop", instances={"launch": 1, "ami": "ubuntu-24.04"}))
    ssm = boto3.client("ssm", region_name="us-east-1")
    name = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
    try:
        expected = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError:
        pytest.skip("the emulator has no Ubuntu 24.04 parameter yet")
    (change,) = instances.plan(sc)
    assert change.action == "create" and expected in change.description
    (iid,) = instances.launch(sc)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["ImageId"] == expected
    ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
    assert (
        "apt-get -o DPkg::Lock::Timeout=600 install -y ruby-full wget"
        in base64.b64decode(ud["UserData"]["Value"]).decode()
    )


def test_a_missing_public_ami_parameter_is_a_conflict_with_a_fix(aws, monkeypatch):
    sc = _with_profile(aws, make_project("shop", instances={"launch": 1, "ami": "ubuntu-24.04"}))
    ssm = sc.client("ssm")

    def missing(**kw):
        raise ClientError(
            {"Error": {"Code": "ParameterNotFound", "Message": "not found"}}, "GetParameter"
        )

    monkeypatch.setattr(ssm, "get_parameter", missing)
    (change,) = instances.plan(sc)
    assert change.action == "conflict"
    assert "instances.ami" in change.fix


def test_a_token_replaying_a_terminated_launch_launches_anew(aws, monkeypatch):
    """AWS answers a reused ClientToken with the old reservation, even if it was terminated."""
    sc = _with_profile(aws, make_project("shop", instances={"launch": 1}))
    (first,) = instances.launch(sc)
    ec2 = sc.client("ec2")
    ec2.terminate_instances(InstanceIds=[first])
    real = ec2.run_instances
    tokens = []

    def replaying(**kw):
        tokens.append(kw["ClientToken"])
        if len(tokens) == 1:  # what AWS does with a token it has seen
            return {"Instances": [{"InstanceId": first, "State": {"Name": "terminated"}}]}
        return real(**kw)

    monkeypatch.setattr(ec2, "run_instances", replaying)
    (second,) = instances.launch(sc)
    assert second != first
    assert len(set(tokens)) == 2


def test_launching_for_a_windows_bundle_is_refused_with_the_adopt_fix(aws):
    project = make_project(
        "shop",
        instances={"launch": 1},
        bundle={"os": "windows", "destination": "C:\\shop"},
    )
    (change,) = instances.plan(sc_for(aws, project))
    assert change.action == "conflict"
    assert "instances.launch: 0" in change.fix


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"subnet": "subnet-0123456789abcdef0"}, "instances.subnet"),
        ({"instance_type": "zz9.mega"}, "instances.instance_type"),
    ],
)
def test_a_missing_subnet_or_unknown_type_is_a_conflict_not_a_failed_launch(aws, section, needle):
    project = make_project("shop", instances={"launch": 1, **section})
    (change,) = instances.plan(sc_for(aws, project))
    assert change.action == "conflict"
    assert needle in change.fix
