"""The revision archive: appspec at the root, exclusions, executable bits, same bytes every time."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from wizard.config import from_dict
from wizard.deploy.bundle import BundleError, build_bundle, make_bundle
from wizard.errors import ConfigError

APPSPEC = """\
version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""


def make_app(root: Path) -> Path:
    (root / "scripts").mkdir(parents=True)
    (root / "appspec.yml").write_text(APPSPEC)
    start = root / "scripts" / "start.sh"
    start.write_text("#!/bin/bash\nset -euo pipefail\necho started\n")
    start.chmod(0o755)
    (root / "index.html").write_text("<h1>hello</h1>\n")
    (root / "index.html").chmod(0o600)
    return root


def names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def mode(path: Path, name: str) -> int:
    with zipfile.ZipFile(path) as zf:
        return zf.getinfo(name).external_attr >> 16


def test_same_tree_gives_same_bytes_even_after_touching_files(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    a = build_bundle(src, tmp_path / "a.zip")
    for p in src.rglob("*"):
        os.utime(p, (1_700_000_000, 1_700_000_000))
    b = build_bundle(src, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert a.sha256 == b.sha256 and a.size == b.size == (tmp_path / "a.zip").stat().st_size
    assert names(a.path) == sorted(names(a.path))


def test_appspec_at_root_and_executable_bits_kept(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    info = build_bundle(src, tmp_path / "out.zip")
    assert names(info.path) == ["appspec.yml", "index.html", "scripts/start.sh"]
    assert info.files == 3 and info.appspec == "appspec.yml"
    assert stat.S_IMODE(mode(info.path, "scripts/start.sh")) == 0o755
    assert stat.S_ISREG(mode(info.path, "scripts/start.sh"))
    # not executable: normalised to 644 whatever this machine's umask made it
    assert stat.S_IMODE(mode(info.path, "index.html")) == 0o644
    with zipfile.ZipFile(info.path) as zf:
        assert zf.read("scripts/start.sh").startswith(b"#!/bin/bash\n")
        assert zf.testzip() is None


def test_vcs_caches_and_wizard_state_are_left_out_but_node_modules_kept(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    for d in (".git/objects", "__pycache__", ".venv/bin", "lib/__pycache__", ".svn", ".hg"):
        (src / d).mkdir(parents=True, exist_ok=True)
        (src / d / "junk").write_text("x")
    (src / "node_modules" / "left-pad").mkdir(parents=True)
    (src / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
    (src / "lib" / "app.py").write_text("print(1)\n")
    (src / "vendor").mkdir()
    (src / "vendor" / ".git").write_text("gitdir: ../.git/modules/vendor\n")  # a submodule
    (src / ".codedeploy-wizard.yml").write_text("application: app\n")
    (src / "appspec.yml.bak.20261126-045201").write_text("old\n")
    (src / ".DS_Store").write_bytes(b"\0")
    info = build_bundle(src, tmp_path / "out.zip")
    got = names(info.path)
    assert "node_modules/left-pad/index.js" in got
    assert "lib/app.py" in got
    assert "vendor/" in got  # emptied by the exclusion, kept as a folder
    excluded = (".git", "__pycache__", ".venv", ".svn", ".hg", ".codedeploy-wizard", ".bak.", "DS_")
    for bad in excluded:
        assert not any(bad in n for n in got), (bad, got)


def test_empty_folders_and_symlinks_are_kept_as_such(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    (src / "logs").mkdir()
    (src / "current").symlink_to("scripts")
    (src / "start").symlink_to("scripts/start.sh")
    info = build_bundle(src, tmp_path / "out.zip")
    got = names(info.path)
    assert "logs/" in got
    assert stat.S_ISLNK(mode(info.path, "current")) and stat.S_ISLNK(mode(info.path, "start"))
    with zipfile.ZipFile(info.path) as zf:
        assert zf.read("start") == b"scripts/start.sh"


def test_missing_appspec_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    src = tmp_path / "app"
    src.mkdir()
    (src / "index.html").write_text("hi\n")
    out = tmp_path / "out.zip"
    with pytest.raises(BundleError, match=r"no appspec\.yml at the root") as err:
        build_bundle(src, out)
    assert err.value.exit_code == 1
    assert "wizard files" in (err.value.hint or "")
    assert not out.exists()


def test_one_top_level_folder_mistake_is_refused_with_the_source_that_works(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "build"
    make_app(outer / "myapp")
    with pytest.raises(BundleError, match=r"sub-folder myapp/.*one folder too deep") as err:
        build_bundle(outer, tmp_path / "out.zip", display="build")
    assert "source: build/myapp" in (err.value.hint or "")


def test_wrong_case_appspec_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "app"
    src.mkdir()
    (src / "AppSpec.yml").write_text(APPSPEC)
    with pytest.raises(BundleError, match=r"only looks for 'appspec\.yml'"):
        build_bundle(src, tmp_path / "out.zip")


def test_appspec_yaml_is_accepted(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    (src / "appspec.yml").rename(src / "appspec.yaml")
    info = build_bundle(src, tmp_path / "out.zip")
    assert info.appspec == "appspec.yaml" and "appspec.yaml" in names(info.path)


def test_invalid_appspec_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    src = make_app(tmp_path / "app")
    (src / "appspec.yml").write_text("version: 0.0\nos: linux\nhooks: [unclosed\n")
    out = tmp_path / "out.zip"
    with pytest.raises(BundleError, match="not valid") as err:
        build_bundle(src, out)
    assert err.value.problems and "appspec.yml" in err.value.problems[0]
    assert not out.exists()


def test_make_bundle_uses_the_project_source_and_a_temp_file(tmp_path: Path) -> None:
    make_app(tmp_path / "site")
    project = from_dict({"application": "app", "bundle": {"source": "site"}})
    info = make_bundle(project, tmp_path)
    try:
        assert info.path.is_file() and info.path.suffix == ".zip"
        assert info.source == (tmp_path / "site").resolve()
        assert "appspec.yml" in names(info.path)
    finally:
        info.cleanup()
    assert not info.path.exists()


def test_make_bundle_with_a_missing_source_is_a_configuration_error(tmp_path: Path) -> None:
    project = from_dict({"application": "app", "bundle": {"source": "nope"}})
    with pytest.raises(ConfigError, match=r"bundle\.source: 'nope' is not a folder") as err:
        make_bundle(project, tmp_path)
    assert err.value.exit_code == 2


def test_source_date_epoch_sets_the_entry_times(tmp_path: Path, monkeypatch) -> None:
    src = make_app(tmp_path / "app")
    info = build_bundle(src, tmp_path / "a.zip")
    with zipfile.ZipFile(info.path) as zf:
        assert zf.getinfo("index.html").date_time == (1980, 1, 1, 0, 0, 0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764134400")  # 2025-11-26 05:20:00 UTC
    info = build_bundle(src, tmp_path / "b.zip")
    with zipfile.ZipFile(info.path) as zf:
        assert zf.getinfo("index.html").date_time == (2025, 11, 26, 5, 20, 0)


def test_an_ecs_appspec_is_refused_for_an_ec2_deployment(tmp_path: Path) -> None:
    pytest.importorskip("wizard.validate.appspec", reason="appspec validator not in this tree")
    src = tmp_path / "app"
    src.mkdir()
    (src / "appspec.yml").write_text(
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n"
        "      Properties:\n        TaskDefinition: arn:aws:ecs:us-east-1:1:task-definition/t:1\n"
        "        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 80\n"
    )
    with pytest.raises(BundleError, match="ECS appspec"):
        build_bundle(src, tmp_path / "out.zip")


def test_a_hook_script_missing_from_the_archive_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("wizard.validate.bundle", reason="bundle validator not in this tree")
    src = make_app(tmp_path / "app")
    (src / "scripts" / "start.sh").unlink()
    out = tmp_path / "out.zip"
    with pytest.raises(BundleError, match=r"scripts/start\.sh") as err:
        build_bundle(src, out)
    assert not out.exists()
    assert "nothing was uploaded" in (err.value.hint or "")


def test_the_archive_is_what_gets_checked_so_an_excluded_script_is_caught(tmp_path: Path) -> None:
    pytest.importorskip("wizard.validate.bundle", reason="bundle validator not in this tree")
    src = make_app(tmp_path / "app")
    (src / ".venv" / "bin").mkdir(parents=True)
    (src / ".venv" / "bin" / "start.sh").write_text("#!/bin/bash\n")
    (src / "appspec.yml").write_text(APPSPEC.replace("scripts/start.sh", ".venv/bin/start.sh"))
    with pytest.raises(BundleError, match=r"\.venv/bin/start\.sh"):
        build_bundle(src, tmp_path / "out.zip")
