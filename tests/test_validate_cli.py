"""`wizard validate` and `wizard files` as a user runs them: output lines, JSON, exit codes,
diffs, confirmation, backups and kept modes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import clean_env

BAD_APPSPEC = "version: 0.0\nos: linux\nhooks:\n  ApplicatiionStart:\n    - location: a.sh\n"
GOOD_APPSPEC = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/a\n"


def offline_env() -> dict[str, str]:
    return clean_env(AWS_EC2_METADATA_DISABLED="true")


def test_validate_lines_and_exit_codes(run_wizard, tmp_path):
    good = tmp_path / "good" / "appspec.yml"
    good.parent.mkdir()
    good.write_text(GOOD_APPSPEC)
    bad = tmp_path / "appspec.yml"
    bad.write_text(BAD_APPSPEC)

    r = run_wizard("validate", str(good))
    assert r.returncode == 0 and r.stdout == ""
    r = run_wizard("validate", str(good), str(bad))
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        f"{bad}:4:3: error appspec.hook-unknown unknown lifecycle event 'ApplicatiionStart': the "
        "agent accepts the file but never runs its scripts (did you mean 'ApplicationStart'?)"
    ]
    assert "Traceback" not in r.stderr
    r = run_wizard("validate", str(good), str(tmp_path / "missing.yml"))
    assert r.returncode == 2 and "no such file" in r.stdout


def test_validate_json_document(run_wizard, tmp_path):
    bad = tmp_path / "appspec.yml"
    bad.write_text(BAD_APPSPEC)
    r = run_wizard("validate", "--json", str(bad))
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc == {
        "files": [
            {
                "path": str(bad),
                "kind": "appspec",
                "kind_reason": "by name: appspec.yml",
                "findings": [
                    {
                        "line": 4,
                        "column": 3,
                        "severity": "error",
                        "rule": "appspec.hook-unknown",
                        "message": doc["files"][0]["findings"][0]["message"],
                        "agent": "accepts",
                    }
                ],
            }
        ]
    }


def test_validate_defaults_to_the_project_files(run_wizard, tmp_path):
    r = run_wizard("validate", "--project-dir", str(tmp_path))
    assert r.returncode == 2 and "nothing to validate" in r.stderr
    (tmp_path / "appspec.yml").write_text(GOOD_APPSPEC)
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: ls\n"
    )
    r = run_wizard("validate", "--json", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    kinds = {f["path"]: f["kind"] for f in json.loads(r.stdout)["files"]}
    # the project folder is read as the bundle it is, as `wizard validate .` reads it
    assert kinds == {".": "bundle", str(Path(".github/workflows/ci.yml")): "workflow"}


def test_validate_with_no_path_says_what_validate_dot_says(run_wizard, tmp_path):
    """A hook script the appspec names but the folder lacks: both spellings report it."""
    (tmp_path / "appspec.yml").write_text(
        "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: scripts/start.sh\n"
    )
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: demo\n")
    bare = run_wizard("validate", cwd=tmp_path)
    dot = run_wizard("validate", ".", cwd=tmp_path)
    assert bare.returncode == dot.returncode == 1
    assert "appspec.yml:5:17: error bundle.script-missing" in bare.stdout
    assert bare.stdout == dot.stdout
    # a broken .travis.yml beside it: both report it (a folder is checked with its CI files)
    (tmp_path / ".travis.yml").write_text("language: python\ndeploy: [\n")
    bare = run_wizard("validate", cwd=tmp_path)
    dot = run_wizard("validate", ".", cwd=tmp_path)
    assert ".travis.yml:" in dot.stdout and "2 file(s) checked" in dot.stderr, dot.stdout
    assert bare.stdout == dot.stdout
    (tmp_path / ".travis.yml").unlink()
    # and with the bundle in a folder of its own (bundle.source), that folder is the bundle
    (tmp_path / "app").mkdir()
    (tmp_path / "appspec.yml").rename(tmp_path / "app" / "appspec.yml")
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: demo\nbundle:\n  source: app\n")
    bare = run_wizard("validate", cwd=tmp_path)
    assert bare.returncode == 1
    assert "app/appspec.yml:5:17: error bundle.script-missing" in bare.stdout


@pytest.mark.parametrize(
    "text,kind,reason",
    [
        ("language: python\ndeploy:\n  provider: codedeploy\n", "travis", "the key deploy"),
        ("version: 0.0\nos: linux\nFiles:\n  - source: /\n", "appspec", "`version: 0.0`"),
        ("os: linux\nhooks:\n  AfterInstall: []\n", "appspec", "the key hooks"),
        ("version: 0.0\nos: linux\n", "appspec", "`version: 0.0`"),
        ('{\n\t"version": 0.0,\n\t"os": "linux"\n}\n', "appspec", "`version: 0.0`"),
        ("version 0.0\nos: linux\nfiles:\n  - source: /\n", "appspec", "unreadable YAML"),
        ("on: push\njobs:\n  a:\n    runs-on: x\n", "workflow", "`on` and `jobs`"),
        (
            "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n",
            "workflow",
            "`on` and `jobs`",
        ),
        ("language: r\nos: linux\n", "travis", "the keys language and os"),
        ("name: x\nlanguage: en\n", "unknown", "no key"),
        ("applicationName: a\nrevision: {}\n", "appspec", "create-deployment input"),
    ],
)
def test_validate_detects_kind_by_content(tmp_path, text, kind, reason):
    from wizard.validate import validate_paths

    odd = tmp_path / "081.yml"  # a name that tells nothing
    odd.write_text(text)
    (report,) = validate_paths([odd])
    assert (report.kind, report.kind_reason.startswith("by content")) == (kind, True)
    assert reason in report.kind_reason


def test_validate_says_which_rule_decided(run_wizard, tmp_path):
    odd = tmp_path / "081.yml"
    odd.write_text("version: 0.0\nos: linux\nFiles:\n  - source: /\n")
    r = run_wizard("validate", str(odd))
    assert r.returncode == 1
    assert f"{odd}: read as an appspec (by content: `version: 0.0`)" in r.stderr
    assert "appspec.unknown-key" in r.stdout and "travis" not in r.stdout


def test_validate_a_folder_names_the_file(run_wizard, tmp_path):
    """`wizard validate .` reports `appspec.yml:7:3: …` so editors can jump to the line."""
    (tmp_path / "appspec.yml").write_text(
        "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv\nhooks:\n"
        "  AfterInstal:\n    - location: go.sh\n"
    )
    (tmp_path / "go.sh").write_text("echo hi\n")
    r = run_wizard("validate", ".", cwd=tmp_path)
    lines = r.stdout.splitlines()
    assert r.returncode == 1
    assert lines[0].startswith("appspec.yml:7:3: error appspec.hook-unknown ")
    assert any(line.startswith("go.sh:1:1: error bundle.script-shebang ") for line in lines)
    assert not any(line.startswith(".:") for line in lines)


@pytest.mark.parametrize("special", ["fifo", "dev-zero", "huge"])
def test_validate_special_files_are_one_line(run_wizard, tmp_path, special):
    if special == "fifo":
        path = tmp_path / "appspec.yml"
        os.mkfifo(path)
    elif special == "dev-zero":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "appspec.yml"
        with open(path, "wb") as fh:
            fh.write(b"version: 0.0\n" + b"#" * (2 * 1024 * 1024))
    r = run_wizard("validate", str(path), timeout=30)
    assert "Traceback" not in r.stderr
    out = (r.stdout + r.stderr).strip().splitlines()
    assert len(out) <= 2, out
    assert r.returncode == (1 if special == "huge" else 2)


# ----------------------------------------------------------------------------- wizard files
def project(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: renderer\nregion: us-east-1\n" + extra
    )
    return tmp_path


def test_files_creates_everything_offline(run_wizard, tmp_path):
    project(tmp_path)
    r = run_wizard("files", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 0, r.stderr
    assert "created appspec.yml" in r.stdout and "created .travis.yml" in r.stdout
    assert "repository variables" in r.stderr
    script = tmp_path / "scripts" / "application_start.sh"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert "$CODEDEPLOY_BUCKET" in (tmp_path / ".travis.yml").read_text()
    r = run_wizard("validate", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    r = run_wizard("validate", str(tmp_path))  # the folder as a bundle
    assert r.returncode == 0, r.stdout


def test_files_existing_file_needs_yes_without_a_terminal(run_wizard, tmp_path):
    project(tmp_path)
    old = "# our CI\nlanguage: python\nscript: pytest\n"
    travis = tmp_path / ".travis.yml"
    travis.write_text(old)
    os.chmod(travis, 0o600)
    r = run_wizard("files", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 2
    assert "+  - provider: codedeploy" in r.stdout and "--- a/.travis.yml" in r.stdout
    assert "--yes" in r.stderr and "Nothing was written" in r.stderr
    assert travis.read_text() == old
    assert not (tmp_path / "appspec.yml").exists()  # nothing at all was written

    r = run_wizard("files", "--yes", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 0, r.stderr
    new = travis.read_text()
    assert new.startswith("# our CI\nlanguage: python\nscript: pytest\n")
    assert stat.S_IMODE(travis.stat().st_mode) == 0o600
    backups = list(tmp_path.glob(".travis.yml.bak.*"))
    assert len(backups) == 1 and backups[0].read_text() == old
    assert "backup: .travis.yml.bak." in r.stdout

    r = run_wizard("files", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 0 and "updated" not in r.stdout  # nothing left to change


def test_files_invalid_existing_file_is_one_clear_line(run_wizard, tmp_path):
    project(tmp_path)
    (tmp_path / ".travis.yml").write_text("deploy: [\n")
    r = run_wizard("files", "--yes", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 1
    assert ".travis.yml exists but cannot be merged" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "appspec.yml").exists()


def test_files_without_project_file(run_wizard, tmp_path):
    r = run_wizard("files", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 2 and "no project file" in r.stderr


def test_files_github_offline_uses_repository_variables(run_wizard, tmp_path):
    project(tmp_path, "ci:\n  provider: github\n  repository: acme/renderer\n")
    r = run_wizard("files", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 0, r.stderr
    wf = (tmp_path / ".github" / "workflows" / "deploy.yml").read_text()
    assert "${{ vars.AWS_ACCOUNT_ID }}" in wf and "AWS_ACCOUNT_ID and CODEDEPLOY_BUCKET" in r.stderr


def test_files_keeps_a_users_own_deploy_workflow(tmp_path):
    from wizard.config import from_dict
    from wizard.render.files import plan_files

    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "deploy.yml").write_text("on: push\njobs: {}\n")
    p = from_dict(
        {"application": "r", "ci": {"provider": "github", "repository": "a/b"}},
        check_region_known=False,
    )
    changes = plan_files(p, tmp_path, region="us-east-1")
    ci = next(c for c in changes if c.kind == "workflow")
    assert ci.path.name == "codedeploy.yml" and not ci.exists


@pytest.mark.parametrize("answer,written", [("y\n", True), ("n\n", False)])
def test_files_asks_on_a_terminal(tmp_path, monkeypatch, capsys, answer, written):
    """With a terminal the diff is shown and the question asked per existing file."""
    import io

    from wizard.cli import main

    project(tmp_path)
    (tmp_path / ".travis.yml").write_text("language: c\n")
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty(answer))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    rc = main(["files", "--project-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Write .travis.yml? [y/N]" in out
    assert ("codedeploy" in (tmp_path / ".travis.yml").read_text()) is written


def test_a_path_that_does_not_exist_is_one_line_on_stderr_exit_2(run_wizard, tmp_path):
    r = run_wizard("validate", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope'}: no such file or folder"]


def test_files_keeps_a_valid_travis_file_with_aliased_keys(run_wizard, tmp_path):
    project(tmp_path)
    (tmp_path / ".travis.yml").write_text(
        "language: ruby\ndeploy:\n  - provider: pages\n    github_token: $GITHUB_TOKEN\n"
        "    local_dir: _site\n"
    )
    r = run_wizard("files", "--yes", "--project-dir", str(tmp_path), env=offline_env())
    assert r.returncode == 0, r.stderr
    assert "unknown key" not in r.stderr
    assert "github_token: $GITHUB_TOKEN" in (tmp_path / ".travis.yml").read_text()


# ------------------------------------------- a path that cannot be read: one verdict, any name
def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def _device(path: Path) -> None:
    os.symlink("/dev/null", path)


def _loop(path: Path) -> None:
    os.symlink(path.name, path)


def _dangling(path: Path) -> None:
    os.symlink("gone", path)


SPECIALS = {
    "fifo": (_fifo, "cannot read: a FIFO (named pipe), not a regular file"),
    "socket": (_socket, "cannot read: a socket, not a regular file"),
    "device": (_device, "cannot read: a character device, not a regular file"),
    "symlink-loop": (_loop, "cannot read: a loop of symbolic links"),
    "dangling-symlink": (_dangling, "cannot read: a symbolic link to 'gone', which does not exist"),
    "missing": (lambda path: None, "no such file or folder"),
}


def _validate(argv: list[str], capsys) -> tuple[int, str, str]:
    from wizard.cli import main

    code = main(["validate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("special", sorted(SPECIALS))
def test_a_path_that_cannot_be_read_is_exit_2_in_one_line_whatever_its_name(
    tmp_path, monkeypatch, capsys, special
):
    """`fifo.zip` used to be a lint finding (exit 1) while `fifo.yml` was a usage error (exit 2):
    the name must not decide how an unreadable path is reported."""
    make, says = SPECIALS[special]
    monkeypatch.chdir(tmp_path)
    seen = set()
    for name in ("x.zip", "x.tar.gz", "appspec.yml", ".travis.yml", "x"):
        make(tmp_path / name)
        code, out, err = _validate([name], capsys)
        assert (code, out, err.splitlines()) == (2, "", [f"error: {name}: {says}"]), name
        code, out, _ = _validate(["--json", name], capsys)
        (report,) = json.loads(out)["files"]
        assert code == 2 and [f["rule"] for f in report["findings"]] == ["validate.unreadable"]
        seen.add(report["findings"][0]["message"])
    assert seen == {says}


@pytest.mark.parametrize("name", ["x.zip", "appspec.yml"])
def test_a_file_without_read_permission_is_exit_2_whatever_its_name(
    tmp_path, monkeypatch, capsys, name
):
    # the suite may run as root, which reads a mode-000 file: the refusal is simulated at open
    import errno

    (tmp_path / name).write_text(GOOD_APPSPEC)
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith(name):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    code, out, err = _validate([str(tmp_path / name)], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {tmp_path / name}: cannot read: permission denied"]


def test_a_mix_of_readable_and_unreadable_paths_lists_both_and_exits_2(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.zip")
    (tmp_path / "appspec.yml").write_text(BAD_APPSPEC)
    code, out, _ = _validate([str(tmp_path / "pipe.zip"), str(tmp_path / "appspec.yml")], capsys)
    assert code == 2  # something could not be checked at all: a usage error wins over findings
    assert f"{tmp_path / 'pipe.zip'}:1:1: error validate.unreadable cannot read: a FIFO" in out
    assert "appspec.hook-unknown" in out


def test_a_folder_named_like_an_archive_is_read_as_a_folder_and_says_so(tmp_path, capsys):
    folder = tmp_path / "site.zip"
    folder.mkdir()
    (folder / "appspec.yml").write_text(GOOD_APPSPEC)
    code, out, err = _validate([str(folder)], capsys)
    assert (code, out) == (0, "")
    assert f"{folder}: read as a bundle (a folder named like a file" in err
    (folder / "appspec.yml").unlink()
    code, out, _ = _validate([str(folder)], capsys)
    assert code == 1 and "bundle.appspec-missing" in out  # a folder without an appspec


def test_a_folder_without_read_permission_is_exit_2(tmp_path, monkeypatch, capsys):
    import errno

    folder = tmp_path / "bundle"
    folder.mkdir()
    real_scandir = os.scandir

    def refuse(path="."):
        if str(path) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    code, out, err = _validate([str(folder)], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {folder}: cannot read the folder: permission denied"]


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path, capsys):
    """PATH:LINE:COL is one line per finding, whatever the name holds (editors parse it)."""
    from wizard.cli import main

    name = tmp_path / "new\nline.yml"
    name.write_text("version: 0.0\nos: linux\nfoo: 1\n")
    assert main(["validate", str(name)]) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert line.startswith(f"{tmp_path}/new\\nline.yml:3:1: warning appspec.unknown-key")
    assert all("\n" not in part for part in err.splitlines())
    assert "new\\nline.yml: read as an appspec" in err
