"""Load balancer step against moto: security groups, target group, ALB and listener; adopting a
target group; conflicts; destroy by the ownership tag."""

from __future__ import annotations

import boto3
import pytest

from tests.steps_support import CallRecorder, make_project, moto_account, no_sleep, sc_for
from wizard import TAG_KEY
from wizard.steps import engine, loadbalancer

REGION = "us-east-1"


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _elb():
    return boto3.client("elbv2", region_name=REGION)


def _ec2():
    return boto3.client("ec2", region_name=REGION)


def _fleet(**lb):
    return make_project(
        "shop",
        instances={"auto_scaling": {"min": 1, "max": 2, "desired": 1}},
        load_balancer={"create": True, **lb},
    )


def _apply_step(aws, project):
    sc = sc_for(aws, project)
    changes = loadbalancer.plan(sc)
    for ch in changes:
        assert ch.action != "conflict", ch.description
        loadbalancer.apply(sc, ch)
    return sc, changes


def _sg(name):
    found = _ec2().describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    return found["SecurityGroups"][0]


def test_creates_an_alb_a_target_group_a_listener_and_two_security_groups(aws):
    project = _fleet(health_check_path="/health", port=8080)
    sc, changes = _apply_step(aws, project)
    assert [(c.resource, c.name, c.action) for c in changes] == [
        ("ec2:security-group", "shop-alb", "create"),
        ("ec2:security-group", "shop-instances", "create"),
        ("elbv2:target-group", "shop-tg", "create"),
        ("elbv2:load-balancer", "shop-alb", "create"),
        ("elbv2:listener", "shop-alb:80", "create"),
    ]
    tg = _elb().describe_target_groups(Names=["shop-tg"])["TargetGroups"][0]
    assert (tg["Protocol"], tg["Port"], tg["TargetType"]) == ("HTTP", 8080, "instance")
    assert tg["HealthCheckPath"] == "/health"
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthyThresholdCount"]) == (10, 2)
    attrs = {
        a["Key"]: a["Value"]
        for a in _elb().describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])[
            "Attributes"
        ]
    }
    assert attrs["deregistration_delay.timeout_seconds"] == "30"

    alb = _elb().describe_load_balancers(Names=["shop-alb"])["LoadBalancers"][0]
    assert alb["Scheme"] == "internet-facing" and alb["Type"] == "application"
    zones = {z["ZoneName"] for z in alb["AvailabilityZones"]}
    assert len(zones) >= 2
    alb_sg, inst_sg = _sg("shop-alb"), _sg("shop-instances")
    assert alb["SecurityGroups"] == [alb_sg["GroupId"]]
    assert [
        (p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in alb_sg["IpPermissions"]
    ] == [(80, ["0.0.0.0/0"])]
    # the instances admit the application's port from the load balancer only
    [perm] = inst_sg["IpPermissions"]
    assert perm["FromPort"] == 8080 and not perm.get("IpRanges")
    assert [p["GroupId"] for p in perm["UserIdGroupPairs"]] == [alb_sg["GroupId"]]

    [listener] = _elb().describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
    tags = _elb().describe_tags(ResourceArns=[tg["TargetGroupArn"], alb["LoadBalancerArn"]])
    for desc in tags["TagDescriptions"]:
        assert {"Key": TAG_KEY, "Value": "shop"} in desc["Tags"]
    assert sc.outputs["load_balancer_url"].startswith("http://")

    recorder = CallRecorder(aws)
    again = loadbalancer.plan(sc_for(aws, project))
    assert {c.action for c in again} == {"noop"}, [c.description for c in again]
    assert recorder.mutating() == []


def test_a_new_health_check_path_is_an_update_a_new_port_a_conflict(aws):
    _apply_step(aws, _fleet())
    changes = loadbalancer.plan(sc_for(aws, _fleet(health_check_path="/ready")))
    [tg] = [c for c in changes if c.resource == "elbv2:target-group"]
    assert tg.action == "update" and "/ → /ready" in tg.description
    loadbalancer.apply(sc_for(aws, _fleet(health_check_path="/ready")), tg)
    got = _elb().describe_target_groups(Names=["shop-tg"])["TargetGroups"][0]
    assert got["HealthCheckPath"] == "/ready"

    changes = loadbalancer.plan(sc_for(aws, _fleet(port=8080)))
    [tg] = [c for c in changes if c.resource == "elbv2:target-group"]
    assert tg.action == "conflict"
    assert "port 80" in tg.description and "load_balancer.port: 80" in tg.fix
    # the instances' group follows the port: a rule for 8080 is missing
    [inst] = [c for c in changes if c.name == "shop-instances"]
    assert inst.action == "update"


def test_resources_of_the_same_name_without_our_tag_are_conflicts(aws):
    vpc = _ec2().describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    _elb().create_target_group(Name="shop-tg", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"])
    _ec2().create_security_group(GroupName="shop-alb", Description="x", VpcId=vpc["VpcId"])
    changes = {c.resource + c.name: c for c in loadbalancer.plan(sc_for(aws, _fleet()))}
    tg = changes["elbv2:target-groupshop-tg"]
    assert tg.action == "conflict"
    assert "aws elbv2 add-tags" in tg.fix and "target_group: shop-tg" in tg.fix
    sg = changes["ec2:security-groupshop-alb"]
    assert sg.action == "conflict" and "aws ec2 create-tags" in sg.fix


def test_adopting_a_target_group_changes_nothing_and_checks_it_can_take_instances(aws):
    vpc = _ec2().describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    project = make_project("shop", load_balancer={"target_group": "web"})
    [missing] = loadbalancer.plan(sc_for(aws, project))
    assert missing.action == "conflict" and "no target group web" in missing.description

    _elb().create_target_group(
        Name="web-ip", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], TargetType="ip"
    )
    [ip] = loadbalancer.plan(
        sc_for(aws, make_project("shop", load_balancer={"target_group": "web-ip"}))
    )
    assert ip.action == "conflict" and "type instance" in ip.description

    arn = _elb().create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], HealthCheckPath="/up"
    )["TargetGroups"][0]["TargetGroupArn"]
    for given in ("web", arn):
        project = make_project("shop", load_balancer={"target_group": given})
        sc = sc_for(aws, project)
        recorder = CallRecorder(aws)
        [adopt] = loadbalancer.plan(sc)
        assert adopt.action == "noop" and adopt.name == "web"
        assert "/up" in adopt.description and "leaves it as it is" in adopt.description
        assert "no load balancer sends traffic" in adopt.warning
        loadbalancer.apply(sc, adopt)
        assert sc.outputs["target_group_arn"] == arn
        assert recorder.mutating() == []


def test_the_load_balancer_spans_two_zones_including_the_instances_subnet(aws):
    ec2 = _ec2()
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")
    subnet = a["Subnet"]["SubnetId"]
    project = make_project(
        "shop",
        instances={"auto_scaling": {"min": 1}, "subnet": subnet},
        load_balancer={"create": True},
    )
    changes = loadbalancer.plan(sc_for(aws, project))
    [alb] = [c for c in changes if c.resource == "elbv2:load-balancer"]
    assert alb.action == "conflict" and "two Availability Zones" in alb.description
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24", AvailabilityZone="us-east-1b")
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.3.0/24", AvailabilityZone="us-east-1a")
    net = loadbalancer.network(sc_for(aws, project))
    assert net["vpc"] == vpc and net["asg_subnets"] == [subnet]
    assert net["alb_subnets"] == [subnet, b["Subnet"]["SubnetId"]]


def test_instances_go_only_to_zones_that_offer_the_instance_type(aws):
    offered = {
        o["Location"]
        for o in _ec2().describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}],
        )["InstanceTypeOfferings"]
    }
    net = loadbalancer.network(sc_for(aws, _fleet()))
    subnets = _ec2().describe_subnets(SubnetIds=net["asg_subnets"])["Subnets"]
    zones = {s["AvailabilityZone"] for s in subnets}
    assert zones and zones <= offered
    all_default = _ec2().describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ]
    assert len(net["alb_subnets"]) == len(all_default)  # the ALB may use every zone


def test_destroy_finds_ours_by_the_tag_in_dependency_order_and_leaves_the_rest(aws):
    project = _fleet()
    _apply_step(aws, project)
    vpc = _ec2().describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    _elb().create_target_group(Name="theirs", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"])
    sc = sc_for(aws, project)
    plan = loadbalancer.destroy_plan(sc)
    assert [(c.resource, c.name) for c in plan] == [
        ("elbv2:load-balancer", "shop-alb"),
        ("elbv2:target-group", "shop-tg"),
        ("ec2:security-group", "shop-instances"),  # its rule names shop-alb: it goes first
        ("ec2:security-group", "shop-alb"),
    ]
    for ch in plan:
        loadbalancer.destroy(sc, ch)
    assert [t["TargetGroupName"] for t in _elb().describe_target_groups()["TargetGroups"]] == [
        "theirs"
    ]
    assert _elb().describe_load_balancers()["LoadBalancers"] == []
    assert loadbalancer.destroy_plan(sc) == []
    for ch in plan:  # again: gone already is fine
        loadbalancer.destroy(sc, ch)


def test_security_group_deletion_waits_for_lingering_network_interfaces(aws, monkeypatch):
    from botocore.exceptions import ClientError

    project = _fleet()
    _apply_step(aws, project)
    sc = sc_for(aws, project)
    ec2 = sc.client("ec2")
    real = ec2.delete_security_group
    calls = []

    def flaky(**kw):
        calls.append(kw)
        if len(calls) < 3:
            raise ClientError(
                {
                    "Error": {
                        "Code": "DependencyViolation",
                        "Message": "resource has a dependent object",
                    }
                },
                "DeleteSecurityGroup",
            )
        return real(**kw)

    monkeypatch.setattr(ec2, "delete_security_group", flaky)
    slept = []
    sc.sleep = slept.append
    [alb, tg, inst, _] = loadbalancer.destroy_plan(sc)
    for ch in (alb, tg, inst):
        loadbalancer.destroy(sc, ch)
    assert len(calls) == 3 and slept == [2.0, 4.0]


def test_tagged_instances_behind_a_created_load_balancer_are_told_to_admit_it(aws):
    project = make_project("shop", load_balancer={"create": True, "port": 8080})
    changes = loadbalancer.plan(sc_for(aws, project))
    assert [c.name for c in changes if c.resource == "ec2:security-group"] == ["shop-alb"]
    assert "must admit TCP 8080 from the security group shop-alb" in changes[0].warning
    assert "authorize-security-group-ingress" in changes[0].warning


def test_engine_plans_nothing_for_the_load_balancer_by_default(aws):
    plan = engine.build_plan(aws, make_project("shop"))
    assert not [c for c in plan.changes if c.step == "loadbalancer"]
    result = engine.apply_plan(aws, make_project("shop"), plan, sleep=no_sleep)
    assert result.ok
