"""Project file keys for fleets that scale: instances.auto_scaling, load_balancer, rollback."""

from __future__ import annotations

import pytest

from wizard import config
from wizard.errors import ConfigError


def errors_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.from_dict(data)
    return info.value.errors


def test_tagged_instances_stay_the_default_and_rollback_on_failure_is_on():
    p = config.from_dict({"application": "shop"})
    assert p.instances.auto_scaling is None
    assert not p.load_balancer.enabled
    assert p.rollback.on_failure is True and p.rollback.on_stop is False
    assert p.rollback.events == ["DEPLOYMENT_FAILURE"]
    assert p.to_dict(minimal=True) == {"application": "shop"}


def test_design_example_for_a_scaling_fleet():
    p = config.from_dict(
        {
            "application": "shop",
            "instances": {"auto_scaling": {"min": 2, "max": 4, "desired": 2}},
            "load_balancer": {"create": True, "health_check_path": "/health"},
            "rollback": {"on_failure": True, "on_stop": True},
        }
    )
    asg = p.instances.auto_scaling
    assert (asg.name, asg.min, asg.desired, asg.max) == (None, 2, 2, 4)
    assert p.load_balancer.create and p.load_balancer.health_check_path == "/health"
    assert p.load_balancer.port == 80
    assert p.rollback.events == ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]
    # round trip: the minimal form reloads to the same project
    again = config.from_dict(p.to_dict(minimal=True))
    assert again == p
    assert p.to_dict(minimal=True)["instances"] == {
        "auto_scaling": {"min": 2, "max": 4, "desired": 2}
    }


def test_sizes_default_from_min():
    asg = config.from_dict({"application": "a", "instances": {"auto_scaling": {"min": 3}}})
    assert (asg.instances.auto_scaling.desired, asg.instances.auto_scaling.max) == (3, 3)


def test_adopting_a_group_by_name_and_a_target_group():
    p = config.from_dict(
        {
            "application": "a",
            "instances": {"auto_scaling": {"name": "web-asg"}},
            "load_balancer": {"target_group": "web-tg"},
        }
    )
    assert p.instances.auto_scaling.name == "web-asg"
    assert p.load_balancer.target_group == "web-tg" and not p.load_balancer.create
    assert p.to_dict(minimal=True)["instances"] == {"auto_scaling": {"name": "web-asg"}}
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/6d0ecf831eec9f09"
    assert config.from_dict({"application": "a", "load_balancer": {"target_group": arn}})


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"instances": {"auto_scaling": {"min": 3, "max": 2}}}, "instances.auto_scaling", "min"),
        ({"instances": {"auto_scaling": {"min": -1}}}, "instances.auto_scaling", "0 <= min"),
        ({"instances": {"auto_scaling": {"max": 0}}}, "instances.auto_scaling", "<= max"),
        (
            {"instances": {"auto_scaling": {"desird": 2}}},
            "instances.auto_scaling.desird",
            "desired",
        ),
        ({"instances": {"auto_scaling": {"min": "2"}}}, "instances.auto_scaling.min", "integer"),
        ({"instances": {"auto_scaling": {"min": True}}}, "instances.auto_scaling.min", "boolean"),
        ({"instances": {"auto_scaling": {"max": 20000}}}, "instances.auto_scaling.max", "10000"),
        ({"instances": {"auto_scaling": 3}}, "instances.auto_scaling", "mapping"),
        ({"instances": {"auto_scaling": {}}}, "instances.auto_scaling", "name to adopt"),
        ({"instances": {"auto_scaling": {"name": "a:b"}}}, "instances.auto_scaling.name", "':'"),
        (
            {"instances": {"auto_scaling": {"name": "web", "min": 2}}},
            "instances.auto_scaling",
            "only size a new one",
        ),
        (
            {"instances": {"auto_scaling": {"name": "web"}, "ami": "al2023"}},
            "instances.ami",
            "not used when adopting",
        ),
        (
            {"instances": {"auto_scaling": {"min": 1}, "tag": {"key": "Name", "value": "x"}}},
            "instances.tag",
            "not used with instances.auto_scaling",
        ),
        (
            {"instances": {"auto_scaling": {"min": 1}, "launch": 2}},
            "instances.launch",
            "must be 0",
        ),
        (
            {"instances": {"auto_scaling": {"min": 1}}, "bundle": {"os": "windows"}},
            "instances.auto_scaling",
            "Linux agent",
        ),
        ({"load_balancer": {"create": True, "target_group": "tg"}}, "load_balancer", "choose"),
        ({"load_balancer": {"target_group": "-tg"}}, "load_balancer.target_group", "hyphen"),
        ({"load_balancer": {"target_group": "t" * 33}}, "load_balancer.target_group", "1-32"),
        ({"load_balancer": {"health_check_path": "/x"}}, "load_balancer", "create: true"),
        (
            {"load_balancer": {"create": True, "health_check_path": "health"}},
            "load_balancer.health_check_path",
            "starting with /",
        ),
        (
            {"load_balancer": {"target_group": "tg", "health_check_path": "/h"}},
            "load_balancer.health_check_path",
            "applies only",
        ),
        ({"load_balancer": {"create": True, "port": 70000}}, "load_balancer.port", "65535"),
        ({"load_balancer": {"create": "yes"}}, "load_balancer.create", "true or false"),
        ({"load_balancer": {"crate": True}}, "load_balancer.crate", "create"),
        ({"load_balancer": ["create"]}, "load_balancer", "mapping"),
        ({"rollback": {"on_failure": "no"}}, "rollback.on_failure", "true or false"),
        ({"rollback": {"on_fail": False}}, "rollback.on_fail", "on_failure"),
        ({"rolback": {}}, "rolback", "rollback"),
    ],
)
def test_bad_fleet_keys_name_the_key_and_the_rule(data, key, words):
    errors = errors_of({"application": "shop", **data})
    hits = [e for e in errors if e.startswith(f"{key}: ")]
    assert hits, errors
    assert any(words in e for e in hits), hits


def test_create_false_alone_means_no_load_balancer():
    p = config.from_dict({"application": "a", "load_balancer": {"create": False}})
    assert not p.load_balancer.enabled
