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


@pytest.mark.parametrize(
    ("event", "script", "line", "said"),
    [
        # the kind: a process left on the agent's pipes, at the event itself
        (
            "ApplicationStart",
            "#!/bin/bash\ncd /srv\nnode server.js &\n",
            3,
            "`node server.js &` keeps the agent's output pipe open after the script ends: "
            "ApplicationStart waits until its timeout (60 s)",
        ),
        # nohup alone redirects nothing when its output is a pipe
        ("ValidateService", "#!/bin/bash\nnohup java -jar app.jar &\n", 2, "ValidateService"),
        # a server in the foreground, not the last line: the script never ends
        (
            "ApplicationStart",
            "#!/bin/bash\nnpm start\necho started\n",
            2,
            "`npm start` runs a server in the foreground, so the script never ends",
        ),
        # ApplicationStop's copy in this revision runs at the next deployment
        (
            "ApplicationStop",
            "#!/bin/bash\nnohup ./drain.sh &\n",
            2,
            "the next deployment's ApplicationStop, which runs this revision's copy, waits",
        ),
    ],
)
def test_a_script_that_keeps_the_agent_waiting_is_a_warning_at_its_line(
    tmp_path, event, script, line, said
):
    appspec = APPSPEC.replace("ApplicationStart", event)
    make_folder(tmp_path, {"appspec.yml": appspec, "scripts/start.sh": script})
    f = rules(validate_bundle(tmp_path))["bundle.script-holds-agent"][0]
    assert (f.file, f.line, f.severity) == ("scripts/start.sh", line, "warning")
    assert said in f.message and "ScriptTimedOut" in f.message
    assert "> /dev/null 2>&1 < /dev/null &`" in f.message


@pytest.mark.parametrize(
    "script",
    [
        "#!/bin/bash\nnode server.js > /dev/null 2>&1 < /dev/null &\n",
        "#!/bin/bash\nsystemctl restart app\n",
        "#!/bin/bash\nnpm ci\nnpm test\n",
    ],
)
def test_a_script_that_lets_the_agent_go_says_nothing(tmp_path, script):
    make_folder(tmp_path, {"appspec.yml": APPSPEC, "scripts/start.sh": script})
    assert "bundle.script-holds-agent" not in rules(validate_bundle(tmp_path))


def test_the_generated_hook_scripts_let_the_agent_go():
    from wizard.config import HOOK_EVENTS
    from wizard.render.hooks import render_hook_script
    from wizard.validate.bundle import _holds_agent

    for event in HOOK_EVENTS:
        text = render_hook_script(event, "app", "/var/www/app", "linux")
        assert _holds_agent(text.encode(), event, None, "x.sh") is None, event


def test_appspec_findings_keep_their_position(tmp_path):
    make_folder(
        tmp_path,
        {
            "appspec.yml": APPSPEC.replace("ApplicationStart", "ApplicationStrat"),
            "scripts/start.sh": SCRIPT,
        },
    )
    f = rules(validate_bundle(tmp_path))["appspec.hook-unknown"][0]
    assert (f.line, f.column, f.file) == (7, 3, "appspec.yml")
    assert f.where(str(tmp_path)) == str(tmp_path / "appspec.yml")
    # findings about the appspec's content point at the entry, in the appspec
    make_folder(tmp_path, {"appspec.yml": APPSPEC.replace("scripts/start.sh", "scripts/go.sh")})
    f = rules(validate_bundle(tmp_path))["bundle.script-missing"][0]
    assert (f.file, f.line, f.column) == ("appspec.yml", 8, 17)
    (tmp_path / "scripts" / "start.sh").write_bytes(b"echo no shebang\r\n")
    make_folder(tmp_path, {"appspec.yml": APPSPEC})
    r = rules(validate_bundle(tmp_path))
    assert r["bundle.script-shebang"][0].file == "scripts/start.sh"
    assert r["bundle.script-crlf"][0].where(str(tmp_path)) == str(tmp_path / "scripts/start.sh")
    archive = make_zip(tmp_path / "b.zip", {"appspec.yml": APPSPEC.replace("Start", "Strat")})
    f = rules(validate_bundle(archive))["appspec.hook-unknown"][0]
    assert f.where(str(archive)) == f"{archive}!appspec.yml"


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


# --------------------------------------------------------------------- archives are untrusted input
def _zip_entries(path: Path, entries: list[tuple[str, int, bytes]]) -> Path:
    """A zip with raw entries: (name, unix mode with file type, content)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, mode, data in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def _tar_entries(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for m in members:
            data = b"#!/bin/sh\n" if m.isfile() else b""
            if m.isfile():
                m.size = len(data)
            tf.addfile(m, io.BytesIO(data) if m.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type = kind
    m.linkname = link
    m.mode = 0o755
    return m


GOOD_ZIP = [
    ("appspec.yml", 0o100644, APPSPEC.encode()),
    ("scripts/start.sh", 0o100755, b"#!/bin/sh\n"),
]


@pytest.mark.parametrize(
    "extra,rule,words",
    [
        (("../evil.sh", 0o100644, b"x"), "bundle.unsafe-path", "'..'"),
        (("scripts/../../evil", 0o100644, b"x"), "bundle.unsafe-path", "'..'"),
        (("/etc/cron.d/x", 0o100644, b"x"), "bundle.unsafe-path", "absolute"),
        (("C:/Windows/x", 0o100644, b"x"), "bundle.unsafe-path", "absolute"),
        (("link", 0o120777, b"../../etc/passwd"), "bundle.symlink-outside", "outside the bundle"),
        (("scripts/up", 0o120777, b"../.."), "bundle.symlink-outside", "scripts/up"),
        (("abs", 0o120777, b"/etc/shadow"), "bundle.symlink-outside", "absolute path /etc/shadow"),
        (("dev", 0o020644, b""), "bundle.special-file", "a device"),
        (("fifo", 0o010644, b""), "bundle.special-file", "FIFO"),
        (("appspec.yml", 0o100644, b"version: 0.0\n"), "bundle.duplicate-entry", "twice"),
    ],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_dangerous_zip_entries_are_errors(tmp_path, extra, rule, words):
    report = validate_bundle(_zip_entries(tmp_path / "b.zip", [*GOOD_ZIP, extra]))
    hits = rules(report).get(rule)
    assert hits and hits[0].severity == "error" and words in hits[0].message, report.findings
    assert not report.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip"]  # nothing extracted


def test_links_inside_the_zip_are_fine(tmp_path):
    entries = [*GOOD_ZIP, ("current", 0o120777, b"scripts"), ("scripts/s", 0o120777, b"start.sh")]
    report = validate_bundle(_zip_entries(tmp_path / "b.zip", entries))
    assert report.ok and report.findings == []


@pytest.mark.parametrize(
    "member,rule,words",
    [
        (_member("../x"), "bundle.unsafe-path", "'..'"),
        (_member("/abs"), "bundle.unsafe-path", "absolute"),
        (_member("l", tarfile.SYMTYPE, "../../etc"), "bundle.symlink-outside", "outside"),
        (_member("h", tarfile.LNKTYPE, "/etc/passwd"), "bundle.symlink-outside", "hard link"),
        (_member("c", tarfile.CHRTYPE), "bundle.special-file", "device"),
        (_member("b", tarfile.BLKTYPE), "bundle.special-file", "device"),
        (_member("p", tarfile.FIFOTYPE), "bundle.special-file", "FIFO"),
        (_member("scripts/start.sh"), "bundle.duplicate-entry", "twice"),
    ],
)
def test_dangerous_tar_entries_are_errors(tmp_path, member, rule, words):
    appspec = _member("appspec.yml")
    body = APPSPEC.encode()
    with tarfile.open(tmp_path / "b.tgz", "w:gz") as tf:
        appspec.size = len(body)
        tf.addfile(appspec, io.BytesIO(body))
        script = _member("scripts/start.sh")
        script.size = 10
        tf.addfile(script, io.BytesIO(b"#!/bin/sh\n"))
        if member.isfile():
            member.size = 10
            tf.addfile(member, io.BytesIO(b"#!/bin/sh\n"))
        else:
            tf.addfile(member)
    report = validate_bundle(tmp_path / "b.tgz")
    hits = rules(report).get(rule)
    assert hits and words in hits[0].message, report.findings
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tgz"]


def test_folder_links_outside_are_refused_with_the_path(tmp_path):
    make_folder(tmp_path, {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT})
    os.symlink("../../etc", tmp_path / "scripts" / "etc")
    os.symlink("/etc/passwd", tmp_path / "pw")
    os.symlink("scripts/start.sh", tmp_path / "start")  # inside: fine
    found = rules(validate_bundle(tmp_path))["bundle.symlink-outside"]
    assert sorted(f.message.split(" ")[0] for f in found) == ["pw", "scripts/etc"]


def test_folder_fifo_is_refused_and_never_opened(tmp_path):
    make_folder(tmp_path, {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT})
    os.mkfifo(tmp_path / "pipe")
    os.remove(tmp_path / "scripts" / "start.sh")
    os.mkfifo(tmp_path / "scripts" / "start.sh")  # a hook script that is a FIFO must not block
    r = rules(validate_bundle(tmp_path))
    assert {f.message.split(" ")[0] for f in r["bundle.special-file"]} == {
        "pipe",
        "scripts/start.sh",
    }


def test_folder_check_leaves_out_what_deploy_leaves_out(tmp_path):
    make_folder(tmp_path, {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT})
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.symlink("/usr/bin/python3", tmp_path / ".venv" / "bin" / "python")
    assert validate_bundle(tmp_path).findings == []


def test_encrypted_zip_is_one_clear_error(tmp_path):
    path = tmp_path / "enc.zip"
    make_zip(path, {"appspec.yml": APPSPEC})
    data = bytearray(path.read_bytes())
    # set the "encrypted" flag bit in the local and the central header
    data[6] |= 1
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 1
    path.write_bytes(bytes(data))
    f = rules(validate_bundle(path))["bundle.archive"][0]
    assert "encrypted" in f.message and "ZipInfo" not in f.message


def test_deploy_refuses_a_folder_with_a_link_outside(tmp_path):
    from wizard.deploy.bundle import BundleError, build_bundle

    make_folder(tmp_path / "src", {"appspec.yml": APPSPEC, "scripts/start.sh": SCRIPT})
    os.symlink("/etc", tmp_path / "src" / "etc")
    with pytest.raises(BundleError) as err:
        build_bundle(tmp_path / "src", tmp_path / "out.zip")
    assert "etc is a symbolic link" in err.value.message
    assert not (tmp_path / "out.zip").exists()
    (tmp_path / "src" / "etc").unlink()
    os.mkfifo(tmp_path / "src" / "pipe")
    with pytest.raises(BundleError) as err:
        build_bundle(tmp_path / "src", tmp_path / "out.zip")
    assert "pipe" in err.value.message and "FIFO" in err.value.message
