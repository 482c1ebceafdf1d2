"""Bundles as the agent unpacks them: folders and zip/tar/tar.gz archives."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from wizard.validate.bundle import validate_bundle

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
SCRIPT = "#!/bin/bash\nset -euo pipefail\necho start\n"


def make_folder(root: Path, files: dict[str, str | bytes], modes: dict[str, int] | None = None):
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        p.write_bytes(content)
        os.chmod(p, (modes or {}).get(rel, 0o755 if rel.endswith(".sh") else 0o644))
    return root


def make_zip(path: Path, files: dict[str, str], modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for rel, content in files.items():
            info = zipfile.ZipInfo(rel)
            info.create_system = 3
            info.external_attr = (
                (modes or {}).get(rel, 0o100755 if rel.endswith(".sh") else 0o100644)
            ) << 16
            zf.writestr(info, content)
    return path


def make_tar(path: Path, files: dict[str, str], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for rel, content in files.items():
            data = content.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o755 if rel.endswith(".sh") else 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def rules(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.rule, []).append(f)
    return out


def test_good_folder(tmp_path):
    make_folder(tmp_path, {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT, "index.html": "x"})
    report = validate_bundle(tmp_path)
    assert report.kind == "bundle" and report.findings == [] and report.ok


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz", ".tgz", ".tar"])
def test_good_archives(tmp_path, suffix):
    files = {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT}
    path = tmp_path / f"bundle{suffix}"
    if suffix == ".zip":
        make_zip(path, files)
    else:
        make_tar(path, files, "w" if suffix == ".tar" else "w:gz")
    assert validate_bundle(path).findings == []


def test_missing_script_and_source(tmp_path):
    appspec = APPSPEC.replace("source: /", "source: build")
    make_folder(tmp_path, {"appspec.yml": appspec})
    r = rules(validate_bundle(tmp_path))
    assert "'build'" in r["bundle.files-source"][0].message
    assert "ScriptMissing" in r["bundle.script-missing"][0].message


def test_script_problems(tmp_path):
    make_folder(
        tmp_path,
        {"appspec.yml": APPSPEC, "scripts/start.sh": "echo no shebang\r\nexit 0\r\n"},
        {"scripts/start.sh": 0o644},
    )
    r = rules(validate_bundle(tmp_path))
    assert "bundle.script-shebang" in r
    assert r["bundle.script-crlf"][0].line == 1
    assert r["bundle.script-not-executable"][0].severity == "warning"


def test_appspec_findings_keep_their_position(tmp_path):
    make_folder(
        tmp_path,
        {
            "appspec.yml": APPSPEC.replace("ApplicationStart", "ApplicationStrat"),
            "scripts/start.sh": SCRIPT,
        },
    )
    f = rules(validate_bundle(tmp_path))["appspec.hook-unknown"][0]
    assert (f.line, f.column) == (7, 3) and f.message.startswith("appspec.yml: ")


def test_zipped_parent_folder_explained(tmp_path):
    path = make_zip(
        tmp_path / "b.zip", {"app/appspec.yml": APPSPEC, "app/scripts/start.sh": SCRIPT}
    )
    report = validate_bundle(path)
    f = rules(report)["bundle.top-level-folder"][0]
    assert f.severity == "warning" and "'app/'" in f.message
    assert report.ok  # the agent strips that one folder: it works
    two = make_zip(
        tmp_path / "c.zip",
        {"app/appspec.yml": APPSPEC, "app/scripts/start.sh": SCRIPT, "README": "x"},
    )
    f = rules(validate_bundle(two))["bundle.appspec-missing"][0]
    assert "app/appspec.yml" in f.message
    nested = make_folder(tmp_path / "repo", {"app/appspec.yml": APPSPEC})
    f = rules(validate_bundle(nested))["bundle.appspec-missing"][0]
    assert "point at that folder" in f.message


def test_two_files_to_one_path(tmp_path):
    appspec = APPSPEC.replace(
        "    destination: /var/www/app\n",
        "    destination: /var/www/app\n  - source: conf/app.conf\n    destination: /var/www/app\n",
    )
    make_folder(
        tmp_path,
        {"appspec.yml": appspec, "scripts/start.sh": SCRIPT, "conf/app.conf": "", "app.conf": ""},
    )
    assert "bundle.files-duplicate" in rules(validate_bundle(tmp_path))


def test_bad_archives(tmp_path):
    junk = tmp_path / "x.zip"
    junk.write_bytes(b"not an archive at all")
    assert "bundle.archive" in rules(validate_bundle(junk))
    wrong = make_tar(tmp_path / "y.zip", {"appspec.yml": APPSPEC})
    assert "the content is gzip" in rules(validate_bundle(wrong))["bundle.archive"][0].message
    truncated = tmp_path / "z.zip"
    truncated.write_bytes(make_zip(tmp_path / "ok.zip", {"appspec.yml": APPSPEC}).read_bytes()[:40])
    assert not validate_bundle(truncated).ok


def test_missing_path_is_unreadable(tmp_path):
    report = validate_bundle(tmp_path / "nope.zip")
    assert report.unreadable and not report.ok


def test_permissions_on_a_single_file(tmp_path):
    appspec = APPSPEC + (
        "permissions:\n  - object: /var/www/app/index.html\n    pattern: '*.html'\n"
        "    acls: ['d:u:web:rwx']\n  - object: /var/www/app\n    pattern: '*.html'\n"
    )
    make_folder(tmp_path, {"appspec.yml": appspec, "scripts/start.sh": SCRIPT, "index.html": "x"})
    (f,) = rules(validate_bundle(tmp_path))["bundle.permissions-file"]
    assert "index.html" in f.message and "pattern" in f.message and "d:" in f.message
