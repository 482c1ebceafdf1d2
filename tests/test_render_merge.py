"""Merging into existing files: nothing of theirs is lost, our part is updated in place."""

from __future__ import annotations

import pytest
import yaml

from wizard.config import from_dict
from wizard.render.appspec import MergeError, merge_appspec, merge_appspec_notes
from wizard.render.files import FilesError, plan_files
from wizard.render.travis import TravisTarget, merge_travis
from wizard.validate.travis import validate_travis_text
from wizard.validate.yamlnodes import Yaml12Loader

T = TravisTarget(
    application="renderer",
    deployment_group="renderer-group",
    region="us-east-1",
    bucket="renderer-bucket",
    prefix="releases/",
    branch="main",
    source=".",
)

USER_TRAVIS = """\
# Build matrix for the renderer (keep this comment)
language: python
python:
  - "3.12"   # the one we ship
env:
  global:
    - secure: "abcdefgh=="
install: pip install -r requirements.txt
script:
  - pytest -q
after_success: echo done
"""


def load(text: str):
    return yaml.load(text, Loader=Yaml12Loader)


def test_comments_order_and_unrelated_keys_are_kept():
    out = merge_travis(USER_TRAVIS, T)
    assert out.startswith("# Build matrix for the renderer (keep this comment)\n")
    assert '  - "3.12"   # the one we ship\n' in out
    data = load(out)
    keys = list(data)
    assert keys[:6] == ["language", "python", "env", "install", "script", "after_success"]
    assert data["env"]["global"] == [{"secure": "abcdefgh=="}]
    assert [d["provider"] for d in data["deploy"]] == ["s3", "codedeploy"]
    assert "\non:\n" not in out and "true:" not in out
    assert validate_travis_text(out) == []


def test_merge_is_idempotent():
    once = merge_travis(USER_TRAVIS, T)
    assert merge_travis(once, T) == once


def test_existing_codedeploy_entry_is_updated_not_duplicated():
    old = """\
language: node_js
deploy:
  # our old v1 deploy
  provider: codedeploy
  access-key-id: AKIAABCDEFGHIJKLMNOP
  secret_access_key:
    secure: "kept-secret=="
  skip_cleanup: true
  bucket: old-bucket
  key: latest/app.zip
  application: renderer
  deployment_group: renderer-group
  on:
    branch: main
    tags: false
"""
    out = merge_travis(old, T)
    data = load(out)
    providers = [d["provider"] for d in data["deploy"]]
    assert providers == ["s3", "codedeploy"]
    cd = data["deploy"][1]
    assert cd["secret_access_key"] == {"secure": "kept-secret=="}  # encrypted value kept
    assert cd["access_key_id"] == "$AWS_ACCESS_KEY_ID"  # plaintext key replaced
    assert "access-key-id" not in cd and "skip_cleanup" not in cd
    assert cd["bucket"] == "renderer-bucket" and cd["key"] == "releases/renderer-$TRAVIS_COMMIT.zip"
    assert cd["on"] == {"branch": "main", "tags": False}  # the user's extra condition stays
    assert "AKIA" not in out
    assert "# our old v1 deploy" in out
    assert validate_travis_text(out) == []


def test_other_providers_untouched_and_s3_moved_before_codedeploy():
    old = """\
language: ruby
deploy:
  - provider: pages
    github_token: $GITHUB_TOKEN
    local_dir: site
  - provider: codedeploy
    application: renderer
    bucket: renderer-bucket
    key: releases/x.zip
  - provider: s3
    bucket: renderer-bucket
    local_dir: dpl_cd_upload
    acl: private
"""
    data = load(merge_travis(old, T))
    assert [d["provider"] for d in data["deploy"]] == ["pages", "s3", "codedeploy"]
    assert data["deploy"][0] == {
        "provider": "pages",
        "github_token": "$GITHUB_TOKEN",
        "local_dir": "site",
    }
    assert data["deploy"][1]["acl"] == "private"  # the user's s3 option stays


def test_before_deploy_string_kept_and_our_lines_replaced():
    old = "language: go\nbefore_deploy: make dist\n"
    once = merge_travis(old, T)
    changed = TravisTarget(**{**T.__dict__, "application": "renamed"})
    twice = load(merge_travis(once, changed))
    cmds = twice["before_deploy"]
    assert cmds[0] == "make dist"
    assert len([c for c in cmds if "dpl_cd_upload" in c]) == 2  # mkdir + one build line
    assert "renamed-$TRAVIS_COMMIT.zip" in cmds[-1] and "renderer-" not in cmds[-1]


def test_existing_slack_notification_is_left_alone():
    old = "language: c\nnotifications:\n  slack:\n    secure: mine==\n  email: false\n"
    out = load(merge_travis(old, TravisTarget(**{**T.__dict__, "slack": True})))
    assert out["notifications"] == {"slack": {"secure": "mine=="}, "email": False}


def test_invalid_existing_travis_refuses(tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: renderer\n")
    (tmp_path / ".travis.yml").write_text("language: [unclosed\n")
    project = from_dict({"application": "renderer"}, check_region_known=False)
    with pytest.raises(FilesError) as exc:
        plan_files(project, tmp_path, region="us-east-1")
    assert exc.value.path.name == ".travis.yml"


APPSPEC = """\
# my appspec
version: 0.0
os: linux
files:
  - source: build      # compiled output
    destination: /srv/renderer
hooks:
  ApplicationStart:
    - location: bin/start.sh
      timeout: 60
      runas: web
"""


def test_appspec_merge_keeps_user_hooks_and_adds_missing():
    project = from_dict(
        {
            "application": "renderer",
            "bundle": {
                "destination": "/srv/renderer",
                "hooks": ["ApplicationStart", "ValidateService"],
                "file_exists_behavior": "OVERWRITE",
            },
        },
        check_region_known=False,
    )
    out = merge_appspec(APPSPEC, project)
    assert out.startswith("# my appspec\n")
    assert "  - source: build      # compiled output\n" in out
    data = yaml.safe_load(out)
    assert data["files"] == [{"source": "build", "destination": "/srv/renderer"}]
    assert data["hooks"]["ApplicationStart"] == [
        {"location": "bin/start.sh", "timeout": 60, "runas": "web"}
    ]
    assert data["hooks"]["ValidateService"][0]["location"] == "scripts/validate_service.sh"
    assert data["file_exists_behavior"] == "OVERWRITE"
    assert merge_appspec(out, project) == out


def test_appspec_merge_creates_only_scripts_it_references(tmp_path):
    (tmp_path / "appspec.yml").write_text(APPSPEC)
    project = from_dict(
        {
            "application": "renderer",
            "bundle": {"hooks": ["ApplicationStart", "AfterInstall"]},
            "ci": {"provider": "none"},
        },
        check_region_known=False,
    )
    changes = plan_files(project, tmp_path)
    hooks = sorted(str(c.path.relative_to(tmp_path)) for c in changes if c.kind == "hook")
    assert hooks == ["scripts/after_install.sh"]  # ApplicationStart is the user's bin/start.sh


def test_appspec_merge_refuses_ecs_and_non_mapping():
    project = from_dict({"application": "renderer"}, check_region_known=False)
    with pytest.raises(MergeError):
        merge_appspec("version: 0.0\nResources:\n  - TargetService: {}\n", project)
    with pytest.raises(MergeError):
        merge_appspec("- a\n- b\n", project)


def test_old_upload_to_the_previous_bucket_is_updated_not_doubled():
    old = """\
language: java
deploy:
  - provider: s3
    bucket: legacy-bucket
    local_dir: build/out
  - provider: codedeploy
    bucket: legacy-bucket
    key: app.zip
    application: old-name
"""
    data = load(merge_travis(old, T))
    assert [d["provider"] for d in data["deploy"]] == ["s3", "codedeploy"]
    assert {d["bucket"] for d in data["deploy"]} == {"renderer-bucket"}
    assert data["deploy"][1]["application"] == "renderer"


def test_another_applications_entries_are_not_taken_over():
    old = """\
language: java
deploy:
  - provider: codedeploy
    application: api
    bucket: b
    key: api.zip
  - provider: codedeploy
    application: worker
    bucket: b
    key: worker.zip
"""
    data = load(merge_travis(old, T))
    apps = [d.get("application") for d in data["deploy"] if d["provider"] == "codedeploy"]
    assert apps == ["api", "worker", "renderer"]
    assert data["deploy"][0] == {
        "provider": "codedeploy",
        "application": "api",
        "bucket": "b",
        "key": "api.zip",
    }


def test_deploy_in_a_stage_is_updated_there():
    old = """\
language: python
jobs:
  include:
    - stage: test
      script: pytest
    - stage: deploy
      script: skip
      deploy:
        - provider: codedeploy
          application: renderer
          bucket: b
          key: k.zip
"""
    data = load(merge_travis(old, T))
    assert "deploy" not in data and "before_deploy" not in data
    stage = data["jobs"]["include"][1]
    assert [d["provider"] for d in stage["deploy"]] == ["s3", "codedeploy"]
    assert "dpl_cd_upload" in stage["before_deploy"][-1]
    assert data["jobs"]["include"][0] == {"stage": "test", "script": "pytest"}


def _ci_file(project, tmp_path, kind):
    (change,) = [c for c in plan_files(project, tmp_path, account="111122223333") if c.kind == kind]
    return change.new_text


@pytest.mark.parametrize("behavior", ["OVERWRITE", "RETAIN"])
def test_ci_deployments_use_the_projects_file_exists_behavior(tmp_path, behavior):
    """`wizard deploy` passes bundle.file_exists_behavior; CI deployments must do the same."""
    bundle = {"file_exists_behavior": behavior}
    travis = from_dict({"application": "shop", "region": "us-east-1", "bundle": bundle})
    text = _ci_file(travis, tmp_path, "travis")
    (cd,) = [e for e in load(text)["deploy"] if e["provider"] == "codedeploy"]
    assert cd["file_exists_behavior"] == behavior.lower()  # dpl's enum: disallow|overwrite|retain
    assert not [f for f in validate_travis_text(text) if f.severity == "error"]
    github = from_dict(
        {
            "application": "shop",
            "region": "us-east-1",
            "bundle": bundle,
            "ci": {"provider": "github", "repository": "acme/shop"},
        }
    )
    run = load(_ci_file(github, tmp_path, "workflow"))["jobs"]["deploy"]["steps"][4]["run"]
    assert f"--file-exists-behavior {behavior} \\\n" in run


def test_disallow_is_codedeploys_default_and_not_written(tmp_path):
    project = from_dict({"application": "shop", "region": "us-east-1"})
    assert "file_exists_behavior" not in _ci_file(project, tmp_path, "travis")


def test_an_existing_files_section_is_kept_and_a_different_wish_reported(tmp_path):
    """Merging never adds a second files entry that would deploy the bundle somewhere else."""
    (tmp_path / "appspec.yml").write_text(APPSPEC)
    project = from_dict(
        {"application": "renderer", "bundle": {"destination": "/var/www/renderer"}},
        check_region_known=False,
    )
    (change,) = [
        c for c in plan_files(project, tmp_path, region="us-east-1") if c.kind == "appspec"
    ]
    data = yaml.safe_load(change.new_text)
    assert data["files"] == [{"source": "build", "destination": "/srv/renderer"}]
    (note,) = change.notes
    assert "/srv/renderer" in note and "/var/www/renderer" in note and "kept as it is" in note
    # the same destination: nothing to say
    same = from_dict(
        {"application": "renderer", "bundle": {"destination": "/srv/renderer/"}},
        check_region_known=False,
    )
    (change,) = [c for c in plan_files(same, tmp_path, region="us-east-1") if c.kind == "appspec"]
    assert change.notes == []


@pytest.mark.parametrize("files", ["files: []\n", "files:\n", ""])
def test_an_empty_files_section_gets_the_projects_entry(files):
    project = from_dict(
        {"application": "renderer", "bundle": {"destination": "/srv/r"}}, check_region_known=False
    )
    out, notes = merge_appspec_notes("version: 0.0\nos: linux\n" + files, project)
    assert yaml.safe_load(out)["files"] == [{"source": "/", "destination": "/srv/r"}]
    assert notes == []


def test_a_files_section_that_is_not_a_list_is_left_alone():
    project = from_dict({"application": "renderer"}, check_region_known=False)
    text = "version: 0.0\nos: linux\nfiles:\n  source: /\n  destination: /x\n"
    out, notes = merge_appspec_notes(text, project)
    assert yaml.safe_load(out)["files"] == {"source": "/", "destination": "/x"}
    assert notes and "kept as it is" in notes[0]


def test_the_users_os_is_kept_and_reported():
    project = from_dict({"application": "renderer"}, check_region_known=False)
    out, notes = merge_appspec_notes(APPSPEC.replace("os: linux", "os: windows"), project)
    assert yaml.safe_load(out)["os"] == "windows"
    assert any("bundle.os: linux" in n for n in notes)
    fixed, _ = merge_appspec_notes(APPSPEC.replace("os: linux", "os: ubuntu"), project)
    assert yaml.safe_load(fixed)["os"] == "linux"  # not a valid value: corrected (diff shown)
