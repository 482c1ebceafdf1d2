"""Every write the wizard does, refused by the system: one line naming the path and the OS's
reason, exit 2 (a configuration-class error, README "Exit codes"), nothing written half way,
never "unexpected error". The TUI side is tests/tui/test_tui_not_writable.py; the table rows
(a parent that is a file) are in tests/test_bad_inputs.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env
from wizard.fileio import NotWritable, atomic_write, require_writable, writable_reason


def test_atomic_write_names_the_file_and_the_parent_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "scripts"
    blocker.write_text("a file where a folder should be\n")
    with pytest.raises(NotWritable) as caught:
        atomic_write(blocker / "start.sh", "#!/bin/sh\n")
    err = caught.value
    assert err.exit_code == 2 and err.path == blocker / "start.sh"
    assert err.one_line() == f"cannot write {blocker}/start.sh: {blocker} is a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scripts"]  # no temporary file left


def test_writable_reason_tries_for_real_and_creates_nothing(tmp_path: Path) -> None:
    assert writable_reason(tmp_path) is None
    assert writable_reason(tmp_path / "new" / "deeper") is None  # judged by its parent
    (tmp_path / "f").write_text("")
    assert writable_reason(tmp_path / "f" / "x") == f"{tmp_path / 'f'} is a file, not a folder"
    with pytest.raises(NotWritable, match=r"cannot write files in .*/f/x: .* is a file"):
        require_writable(tmp_path / "f" / "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def _read_only_mount_works() -> bool:
    """A user namespace with a mount namespace of its own (no root needed on most Linux)."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /tmp && mount -o remount,ro /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_mount_works(), reason="no user/mount namespaces here")
def test_the_cli_in_a_read_only_folder_says_so_in_one_line(tmp_path: Path) -> None:
    """The newcomer's case exactly: a project folder on a read-only file system (EROFS)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    wizard = f"{sys.executable} -m wizard"
    script = f"""
set -u
mount -t tmpfs none {folder}
printf 'application: ro\\nci:\\n  provider: none\\n' > {folder}/.codedeploy-wizard.yml
mount -o remount,ro {folder}
cd {folder}
{wizard} --sandbox setup --yes --no-wait; echo "rc=$?"
{wizard} files --yes; echo "rc=$?"
"""
    root = Path(__file__).resolve().parent.parent
    env = clean_env(PYTHONPATH=str(root))
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.stdout.split() == ["rc=2", "rc=2"], proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert lines == [
        f"error: cannot write files in {folder}: Read-only file system. Nothing was changed. "
        "Run it in a folder you can write, or add --no-files.",
        f"error: cannot write files in {folder}: Read-only file system. Nothing was written.",
    ], proc.stderr
