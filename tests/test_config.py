"""The project file: defaults derived from `application`, AWS naming rules, errors name the key."""

from __future__ import annotations

import pytest

from wizard import config
from wizard.errors import ConfigError


def errors_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.from_dict(data)
    return info.value.errors


def test_minimal_file_resolves_every_default():
    p = config.from_dict({"application": "renderer"})
    assert p.deployment_group == "renderer-group"
    assert p.deployment_config == "CodeDeployDefault.AllAtOnce"
    assert p.instances.tag.key == "codedeploy-wizard:application"
    assert p.instances.tag.value == "renderer"
    assert p.roles.instance_role == "renderer-codedeploy-ec2"
    assert p.roles.service_role == "renderer-codedeploy-service"
    assert p.roles.ssm is True
    assert p.bucket.prefix == "releases/"
    assert p.bundle.destination == "/var/www/renderer"
    assert p.bundle.hooks == ["ApplicationStart"]
    assert p.ci.provider == "travis"
    assert p.bucket_name("123456789012", "ap-northeast-2") == (
        "renderer-codedeploy-123456789012-ap-northeast-2"
    )


def test_design_example_is_valid():
    p = config.from_dict(
        {
            "application": "renderer",
            "region": "ap-northeast-2",
            "deployment_group": "renderer-prod",
            "instances": {"tag": {"key": "Name", "value": "renderer"}, "launch": 2},
            "bucket": {"name": None, "prefix": "releases"},
            "ci": {"provider": "github", "repository": "acme/renderer", "branch": "main"},
        }
    )
    assert p.region == "ap-northeast-2"
    assert p.instances.launch == 2
    assert p.bucket.prefix == "releases/"  # normalised to a folder
    assert p.ci.repository == "acme/renderer"


def test_bucket_name_default_is_always_a_valid_bucket_name():
    p = config.from_dict({"application": "My_App.Prod"})
    name = p.bucket_name("123456789012", "us-east-1")
    assert config.check_bucket_name(name) is None
    long = config.from_dict({"application": "a" * 100})
    assert config.check_bucket_name(long.bucket_name("123456789012", "ap-southeast-2")) is None


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({}, "application", "required"),
        ({"application": ""}, "application", "1-100"),
        ({"application": "has space"}, "application", "letters"),
        ({"application": "x", "region": "mars-1"}, "region", "not a region"),
        ({"application": "x", "bucket": {"name": "Bad_Bucket"}}, "bucket.name", "lowercase"),
        ({"application": "x", "bucket": {"name": "ab"}}, "bucket.name", "3-63"),
        ({"application": "x", "bucket": {"name": "192.168.1.1"}}, "bucket.name", "IP"),
        ({"application": "x", "bucket": {"name": "xn--abc"}}, "bucket.name", "xn--"),
        ({"application": "x", "roles": {"instance_role": "a" * 65}}, "roles.instance_role", "1-64"),
        ({"application": "x", "roles": {"service_role": "bad/name"}}, "roles.service_role", "1-64"),
        (
            {"application": "x", "roles": {"instance_role": "same", "service_role": "same"}},
            "roles.service_role",
            "must differ",
        ),
        ({"application": "x", "roles": {"ssm": "yes"}}, "roles.ssm", "true or false"),
        ({"application": "x", "instances": {"launch": "two"}}, "instances.launch", "integer"),
        ({"application": "x", "instances": {"launch": True}}, "instances.launch", "boolean"),
        ({"application": "x", "instances": {"launch": 500}}, "instances.launch", "between"),
        ({"application": "x", "instances": {"ami": "centos"}}, "instances.ami", "al2023"),
        ({"application": "x", "instances": {"subnet": "sn-1"}}, "instances.subnet", "subnet id"),
        (
            {"application": "x", "instances": {"tag": {"key": "aws:foo", "value": "v"}}},
            "instances.tag",
            "aws:",
        ),
        (
            {"application": "x", "instances": {"tag": {"key": "k" * 129}}},
            "instances.tag",
            "1-128",
        ),
        ({"application": "x", "bundle": {"destination": "var/www"}}, "bundle.destination", "abs"),
        (
            {"application": "x", "bundle": {"hooks": ["AfterInstal"]}},
            "bundle.hooks[0]",
            "AfterInstall",
        ),
        (
            {"application": "x", "bundle": {"hooks": ["Install"]}},
            "bundle.hooks[0]",
            "takes scripts",
        ),
        (
            {"application": "x", "bundle": {"file_exists_behavior": "REPLACE"}},
            "bundle.file_exists_behavior",
            "OVERWRITE",
        ),
        ({"application": "x", "ci": {"provider": "jenkins"}}, "ci.provider", "travis"),
        ({"application": "x", "ci": {"provider": "github"}}, "ci.repository", "required"),
        ({"application": "x", "ci": {"repository": "not-a-repo"}}, "ci.repository", "OWNER/NAME"),
        ({"application": "x", "aplication": "y"}, "aplication", "unknown key"),
        ({"application": "x", "bundle": {"destinaton": "/x"}}, "bundle.destinaton", "destination"),
        ({"application": "x", "instances": []}, "instances", "mapping"),
    ],
)
def test_invalid_values_name_the_key_and_the_rule(data, key, fragment):
    errors = errors_of(data)
    assert any(e.startswith(f"{key}:") and fragment in e for e in errors), errors


def test_every_problem_is_reported_at_once():
    errors = errors_of({"application": "x", "region": "nowhere", "ci": {"provider": "svn"}})
    assert len(errors) == 2


def test_load_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert info.value.exit_code == 2
    assert "no project file" in info.value.message


def test_load_reports_yaml_syntax_with_line(tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert "not valid YAML" in info.value.message
    assert "line" in info.value.message


def test_save_roundtrip_keeps_comments_and_writes_only_what_differs(tmp_path):
    path = tmp_path / ".codedeploy-wizard.yml"
    path.write_text("# our team's file\napplication: renderer  # the app\nregion: eu-west-1\n")
    p = config.load(tmp_path)
    p.instances.launch = 3
    config.save(p, tmp_path)
    text = path.read_text()
    assert "# our team's file" in text and "# the app" in text
    assert "launch: 3" in text
    assert "instance_role" not in text  # still the derived default: not written
    again = config.load(tmp_path)
    assert again.instances.launch == 3 and again.region == "eu-west-1"


def test_save_new_file_then_load_gives_the_same_project(tmp_path):
    p = config.from_dict(
        {"application": "shop", "ci": {"provider": "github", "repository": "acme/shop"}}
    )
    config.save(p, tmp_path)
    assert config.load(tmp_path) == p
