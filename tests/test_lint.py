"""The tree stays ruff-clean (lint and format), so CI catches what an editor did not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", [("check", "."), ("format", "--check", ".")])
def test_ruff_is_clean(args):
    proc = ruff(*args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
