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


# --------------------------------------------------------------------------- AWS's exact rules
def app(**sections) -> dict:
    return {"application": "x", **sections}


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        # a trailing newline passed `$`; a non-ASCII letter passed `\w`
        (app(roles={"instance_role": "role\n"}), "roles.instance_role", "U+000A"),
        (app(roles={"instance_role": "rôle-ünï"}), "roles.instance_role", "ASCII"),
        (app(roles={"service_role": "ß"}), "roles.service_role", "ASCII"),
        (app(ci={"repository": "o/r\n"}), "ci.repository", "U+000A"),
        (app(instances={"tag": {"value": "a\nb"}}), "instances.tag.value", "control"),
        (app(instances={"tag": {"value": "a\tb"}}), "instances.tag.value", "control"),
        (app(instances={"tag": {"value": "a;b"}}), "instances.tag", "_.:/=+-@"),
        (app(instances={"tag": {"key": "k\u200bey"}}), "instances.tag", "_.:/=+-@"),
        (app(bucket={"name": "abc\n"}), "bucket.name", "control"),
        (app(bucket={"name": "ab\u00e7"}), "bucket.name", "lowercase"),
        (app(instances={"instance_type": "t3.micro\n"}), "instances.instance_type", "control"),
        (app(instances={"ami": "ami-0123456789abcdef0 "}), "instances.ami", "AMI id"),
        (app(deployment_group="gr\u00fcp"), "deployment_group", "ASCII"),
        (app(bundle={"source": "a\0b"}), "bundle.source", "U+0000"),
        (app(region="us-east-1\n"), "region", "control"),
        # the application is also the value of the ownership tag, where a comma is refused
        ({"application": "a,b"}, "application", "','"),
        ({"application": "x" * 101}, "application", "1-100"),
        ({"application": 5}, "application", "string"),
        # GitHub repositories
        (app(ci={"repository": "-acme/shop"}), "ci.repository", "OWNER/NAME"),
        (app(ci={"repository": "acme/sh op"}), "ci.repository", "OWNER/NAME"),
        (app(ci={"repository": "a" * 40 + "/shop"}), "ci.repository", "1-39"),
        (app(ci={"repository": "acme/" + "s" * 101}), "ci.repository", "100"),
        (app(ci={"repository": "acme/.."}), "ci.repository", "'..'"),
        (app(ci={"repository": "acme/shop/extra"}), "ci.repository", "OWNER/NAME"),
        (app(ci={"repository": "acmé/shop"}), "ci.repository", "OWNER/NAME"),
        # paths and prefixes
        (app(bucket={"prefix": "../../etc/"}), "bucket.prefix", "'..'"),
        (app(bucket={"prefix": "a//b/"}), "bucket.prefix", "single '/'"),
        (app(bucket={"prefix": "rel*ases/"}), "bucket.prefix", "safe"),
        (app(bucket={"prefix": "/abs/"}), "bucket.prefix", "relative"),
        (app(bucket={"prefix": "p" * 513}), "bucket.prefix", "512"),
        (app(bundle={"destination": "/" + "a" * 5000}), "bundle.destination", "PATH_MAX"),
        (app(bundle={"destination": "/" + "a" * 256}), "bundle.destination", "NAME_MAX"),
        (app(bundle={"destination": "/var/www/../../etc"}), "bundle.destination", "'..'"),
        (app(bundle={"destination": "/var/www\napp"}), "bundle.destination", "control"),
        (app(bundle={"os": "windows", "destination": "C:\\" + "a" * 300}), "bundle.destination",
         "MAX_PATH"),
        (app(bundle={"os": "windows", "destination": "C:\\a|b"}), "bundle.destination", "|"),
        (app(bundle={"hooks": [["nested"]]}), "bundle.hooks[0]", "lifecycle"),
        (app(bundle={"hooks": ["x" * 10_000]}), "bundle.hooks[0]", "…"),
    ],
)  # fmt: skip
def test_names_follow_aws_rules_exactly(data, key, fragment):
    errors = errors_of(data)
    assert any(e.startswith(f"{key}:") and fragment in e for e in errors), errors
    assert all(len(e) < 300 for e in errors), errors  # user input is echoed shortened


@pytest.mark.parametrize(
    "branch",
    ["*", "release/*", "feat?", "a[1]", "a b", "a..b", "-x", "a.lock", "a/", "/a", ".a", "a/.b",
     "a@{1}", "@", "a~1", "a^", "a:b", "a\\b", "a\x7fb", "HEAD", "a//b", "a."],
)  # fmt: skip
def test_ci_branch_is_one_git_branch_name(branch):
    errors = errors_of({"application": "x", "ci": {"branch": branch}})
    assert any(e.startswith("ci.branch:") for e in errors), errors


@pytest.mark.parametrize("branch", ["main", "release/1.2", "feature/JIRA-12_x", "v1@2", "日本"])
def test_real_branch_names_are_accepted(branch):
    assert config.from_dict({"application": "x", "ci": {"branch": branch}}).ci.branch == branch


@pytest.mark.parametrize("branch", ["a+b", "!main", "a${user}", "日本"])
def test_branch_names_github_cannot_filter_or_trust_are_refused_for_github(branch):
    data = {"application": "x", "ci": {"provider": "github", "repository": "acme/shop"}}
    data["ci"]["branch"] = branch
    errors = errors_of(data)
    assert any(e.startswith("ci.branch:") and "GitHub" in e for e in errors), errors


def test_a_wildcard_branch_never_reaches_a_string_equals_trust():
    """The trust names exactly one branch; a wildcard is refused before it could land there."""
    from wizard import policies

    p = config.from_dict(
        {"application": "x", "ci": {"provider": "github", "repository": "acme/shop"}}
    )
    trust = policies.github_trust("aws", "123456789012", p.ci.repository, p.ci.branch)
    cond = trust["Statement"][0]["Condition"]
    assert set(cond) == {"StringEquals"}
    assert cond["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:acme/shop:ref:refs/heads/master"
    )
    with pytest.raises(ConfigError, match="wildcards are not supported"):
        config.from_dict(
            {"application": "x", "ci": {"provider": "github", "repository": "a/b", "branch": "*"}}
        )


@pytest.mark.parametrize(
    "repo", ["acme/shop", "a/b", "my-org/my.repo_2", "a" * 39 + "/x", "old--name/x"]
)
def test_real_repositories_are_accepted(repo):
    assert config.from_dict({"application": "x", "ci": {"repository": repo}}).ci.repository == repo


@pytest.mark.parametrize("app", ["has space", "ünï", "a/b", "x" * 101, "a,b", "app\n"])
def test_a_bad_application_is_reported_once_under_application(app):
    """Derived names (group, roles, tag value, destination) must not repeat its error."""
    errors = errors_of({"application": app})
    assert len(errors) == 1 and errors[0].startswith("application:"), errors


# --------------------------------------------------------------------------- the file itself
def write(tmp_path, content: bytes):
    (tmp_path / ".codedeploy-wizard.yml").write_bytes(content)


def load_error(tmp_path) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert info.value.exit_code == 2
    line = info.value.one_line()
    assert "\n" not in line
    return line


def test_not_utf8_names_the_file_line_and_byte(tmp_path):
    write(tmp_path, b"# ok\napplication: d\xe9mo\n")
    line = load_error(tmp_path)
    assert ".codedeploy-wizard.yml: line 2 column 15: not UTF-8" in line and "0xe9" in line


def test_utf8_with_a_bom_is_fine(tmp_path):
    write(tmp_path, "\ufeffapplication: shop\n".encode())
    assert config.load(tmp_path).application == "shop"


@pytest.mark.parametrize(
    "doc",
    [b"[" * 5000 + b"]" * 5000, b"".join(b" " * i + b"k%d:\n" % i for i in range(200))],
    ids=["flow-5000", "block-200"],
)
def test_deep_nesting_is_refused_without_recursion(tmp_path, doc):
    write(tmp_path, doc)
    assert "nested deeper than" in load_error(tmp_path)


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        (b"application: a\napplication: b\n", "'application'"),
        (b"application: a\ninstances:\n  tag: {key: a, key: b}\n", "'instances.tag.key'"),
        (b"application: a\nci:\n  branch: x\n  branch: y\n", "'ci.branch'"),
    ],
)
def test_duplicate_keys_are_refused_naming_the_key(tmp_path, doc, key):
    write(tmp_path, doc)
    line = load_error(tmp_path)
    assert f"duplicate key {key}" in line and ".codedeploy-wizard.yml: line" in line


def test_merge_keys_may_be_overridden(tmp_path):
    write(
        tmp_path,
        b"application: a\nx: &d {key: k, value: v}\ninstances:\n  tag: {<<: *d, value: w}\n",
    )
    # the merge itself is fine; the only error is the unknown top-level key `x`
    assert "x: unknown key" in load_error(tmp_path)


def test_aliases_are_not_expanded_exponentially(tmp_path):
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 12)
    ]
    write(tmp_path, b"\n".join(lines) + b"\napplication: x\n")
    assert "unknown key" in load_error(tmp_path)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_before_it_is_read(special):
    with pytest.raises(ConfigError, match="character device, not a regular file"):
        config.load(path=special)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="FIFO"):
        config.load(path=str(fifo))


def test_a_huge_file_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.yml"
    with open(big, "wb") as fh:
        fh.truncate(50 << 20)  # sparse: 50 MiB without writing them
    with pytest.raises(ConfigError, match=r"more than the 1\.0 MiB limit"):
        config.load(path=str(big))


def test_a_directory_is_refused(tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").mkdir()
    assert "is a directory" in load_error(tmp_path)
