"""What `wizard deploy` leaves out of the bundle: secrets by default, `.codedeployignore` rules with
gitignore semantics (pathspec), bad ignore files refused in one line; plus the sandbox banner and
the project lock, which need no AWS."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from wizard.deploy.bundle import IGNORE_FILE, BundleError, build_bundle, describe_left_out

APPSPEC = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/app\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "appspec.yml").write_text(APPSPEC)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _names(info) -> set[str]:
    with zipfile.ZipFile(info.path) as zf:
        return {n for n in zf.namelist() if not n.endswith("/")}


@pytest.mark.parametrize(
    ("path", "left_out"),
    [
        (".env", True),
        ("web/.env", True),
        (".env.local", True),
        (".env.production.local", True),
        (".env.production", False),  # dotenv: committed, shared settings
        (".env.example", False),
        ("certs/server.pem", True),
        ("id_rsa", True),
        ("id_rsa.pub", True),
        ("deploy/id_deploy", True),
        ("lib/id_utils.py", False),  # code that happens to start with id_
        ("id_maps/index.json", False),  # a folder of that name is not a key
        (".ssh/config", True),
        (".aws/credentials", True),
        (".netrc", True),
        ("client.p12", True),
        (".gitignore", True),
        (".github/workflows/deploy.yml", True),
        (".gitattributes", True),
        ("src/main.py", False),
        ("node_modules/x/index.js", False),
    ],
)
def test_default_rules(tmp_path, path, left_out):
    src = _tree(tmp_path / "src", {path: "x\n"})
    info = build_bundle(src, tmp_path / "out.zip", check=False)
    assert (path in _names(info)) is not left_out
    if left_out:
        assert any(path == p or path.startswith(p) for p in info.left_out), info.left_out


def test_codedeployignore_adds_rules_and_can_bring_a_default_back(tmp_path):
    src = _tree(
        tmp_path / "src",
        {
            "logs/a.log": "x",
            "build/tmp/x.o": "x",
            "keep.log": "x",
            "other.log": "x",
            ".env": "SHARED=1",
            "docs/build/index.html": "x",
        },
    )
    (src / IGNORE_FILE).write_text("# comments are fine\nlogs/\n*.log\n!keep.log\n/build/\n!.env\n")
    info = build_bundle(src, tmp_path / "out.zip", check=False)
    names = _names(info)
    assert {"keep.log", ".env", "docs/build/index.html", "appspec.yml"} <= names
    assert not {"logs/a.log", "build/tmp/x.o", "other.log", IGNORE_FILE} & names
    assert info.left_out == sorted(info.left_out)
    assert "logs/" in info.left_out and "build/" in info.left_out  # a folder once, not its files
    assert "logs/a.log" not in info.left_out


def test_the_same_tree_gives_the_same_bytes_with_rules(tmp_path):
    src = _tree(tmp_path / "src", {".env": "x", "a.txt": "a"})
    (src / IGNORE_FILE).write_text("*.tmp\n")
    a = build_bundle(src, tmp_path / "a.zip", check=False)
    b = build_bundle(src, tmp_path / "b.zip", check=False)
    assert a.sha256 == b.sha256


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.mkdir(), "not a regular file"),
        (lambda p: p.write_bytes(b"\xff\xfelogs/\n"), "not UTF-8"),
        (lambda p: p.write_bytes(b"#" * (1024 * 1024 + 1)), "larger than 1 MiB"),
        (lambda p: os.symlink("/etc/passwd", p), "not a regular file"),
    ],
)
def test_a_bad_ignore_file_is_one_clear_refusal_and_no_archive(tmp_path, make, needle):
    src = _tree(tmp_path / "src", {"a.txt": "a"})
    make(src / IGNORE_FILE)
    out = tmp_path / "out.zip"
    with pytest.raises(BundleError) as exc:
        build_bundle(src, out, check=False)
    assert needle in exc.value.one_line() and "\n" not in exc.value.one_line()
    assert exc.value.exit_code == 1 and not out.exists()


def test_what_was_left_out_is_one_short_line():
    paths = [f"f{i}" for i in range(15)]
    assert describe_left_out(paths[:2]) == "f0, f1"
    assert describe_left_out(paths).endswith("f11 and 3 more")


def test_the_sandbox_banner_sends_the_exports_to_another_terminal_in_one_block():
    from wizard.commands.sandbox import banner

    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_REGION": "us-east-1"}
    text = banner("http://127.0.0.1:5000", env, "healthy", {"application": "sbx-healthy"})
    lines = text.splitlines()
    assert "ANOTHER terminal" in text and "This terminal now runs the sandbox" in text
    exports = [i for i, ln in enumerate(lines) if ln.startswith("export ")]
    assert [lines[i] for i in exports] == [f"export {k}={v}" for k, v in env.items()]
    assert exports == list(range(exports[0], exports[0] + len(env)))  # contiguous
    assert lines[exports[0] - 1] == "" and lines[exports[-1] + 1] == ""  # set apart
    assert all(ln.startswith("#") or ln.startswith("export ") or not ln for ln in lines)


def test_the_project_lock_admits_one_holder_at_a_time(tmp_path):
    import subprocess
    import sys

    from wizard.projectlock import ProjectBusy, project_lock

    with project_lock(tmp_path, "apply"):
        # another process (flock is per open file description, so a thread would share it)
        code = (
            "import sys; from wizard.projectlock import project_lock, ProjectBusy\n"
            "try:\n"
            f"    with project_lock({str(tmp_path)!r}, 'apply'): sys.exit(0)\n"
            "except ProjectBusy as e:\n"
            "    print(e.one_line()); sys.exit(e.exit_code)\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 1
        assert "another wizard apply, setup or destroy is running" in proc.stdout
    with project_lock(tmp_path, "apply"):  # released: taken again
        pass
    assert issubclass(ProjectBusy, Exception)
    assert list(tmp_path.iterdir()) == []  # no lock file left in the user's folder
