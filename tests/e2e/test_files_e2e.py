"""`wizard files` against the sandbox over HTTP: the account comes from STS, so the CI files name
the real bucket and deploy role, and everything written passes `wizard validate`."""

from __future__ import annotations

import json

import pytest
import yaml

from wizard.validate.yamlnodes import Yaml12Loader

pytestmark = pytest.mark.e2e


def test_files_with_aws_reachable_writes_account_values(
    run_wizard, sandbox_env, sandbox_ctx, tmp_path
):
    account = sandbox_ctx.account
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: renderer\nci:\n  provider: github\n  repository: acme/renderer\n"
        "  branch: main\n"
    )
    r = run_wizard("files", "--yes", "--project-dir", str(tmp_path), env=sandbox_env)
    assert r.returncode == 0, r.stderr
    wf = yaml.load(
        (tmp_path / ".github" / "workflows" / "deploy.yml").read_text(), Loader=Yaml12Loader
    )
    assert wf["env"]["BUCKET"] == f"renderer-codedeploy-{account}-us-east-1"
    creds = wf["jobs"]["deploy"]["steps"][1]["with"]
    assert creds["role-to-assume"] == f"arn:aws:iam::{account}:role/renderer-codedeploy-deploy"
    assert "repository variables" not in r.stderr

    r = run_wizard("validate", "--json", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    doc = json.loads(r.stdout)
    assert {f["kind"] for f in doc["files"]} == {"bundle", "workflow"}  # as `validate .` reads it
    assert all(f["findings"] == [] for f in doc["files"])


def test_files_travis_with_sandbox_account(run_wizard, sandbox_env, sandbox_ctx, tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: shop\n")
    r = run_wizard("files", "--project-dir", str(tmp_path), env=sandbox_env)
    assert r.returncode == 0, r.stderr
    data = yaml.load((tmp_path / ".travis.yml").read_text(), Loader=Yaml12Loader)
    bucket = f"shop-codedeploy-{sandbox_ctx.account}-us-east-1"
    assert [d["bucket"] for d in data["deploy"]] == [bucket, bucket]
    assert all(d["region"] == "us-east-1" for d in data["deploy"])
    # a running sandbox reached through AWS_ENDPOINT_URL: there is no --sandbox to drop
    assert "names the sandbox account" in r.stderr
    assert "without --sandbox" not in r.stderr


def test_generated_files_deploy_successfully(run_wizard, sandbox_env, tmp_path):
    """The proof that matters: apply, then `wizard files`, then a deployment of that bundle
    succeeds on the simulated fleet (every lifecycle event, our hook script included)."""
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: files-e2e-deploy\nregion: us-east-1\ninstances:\n  launch: 1\n"
        "bundle:\n  hooks: [ApplicationStart, ValidateService]\nci:\n  provider: none\n"
    )
    (tmp_path / "index.html").write_text("<h1>hello</h1>\n")
    r = run_wizard("apply", "--yes", "--project-dir", str(tmp_path), env=sandbox_env, timeout=300)
    assert r.returncode == 0, r.stderr
    r = run_wizard("files", "--project-dir", str(tmp_path), env=sandbox_env)
    assert r.returncode == 0, r.stderr
    assert "created scripts/validate_service.sh" in r.stdout
    r = run_wizard("deploy", "--wait", "--project-dir", str(tmp_path), env=sandbox_env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ValidateService   Succeeded" in r.stdout + r.stderr
