"""Regenerates screenshots/*.svg (shown in the README) from the real screens.

Runs `python -m wizard.screens.screenshots` in a fresh process (its own sandbox, so the
`renderer` application cannot collide with other tests' resources) and checks every picture
was written and shows what it should.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env

pytestmark = pytest.mark.e2e


def test_screenshots_regenerate(tmp_path: Path) -> None:
    out = REPO / "screenshots"
    proc = subprocess.run(
        [sys.executable, "-m", "wizard.screens.screenshots", "--out", str(out)],
        env=clean_env(XDG_STATE_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = [Path(line) for line in proc.stdout.split()]
    names = [p.stem for p in written]
    steps = [n for n in names if n.count("-") == 1]
    assert steps[:9] == [
        "01-credentials",
        "02-roles",
        "03-instances",
        "04-bucket",
        "05-application",
        "06-files",
        "07-review",
        "08-apply",
        "09-done",
    ]
    for path in written:
        svg = path.read_text()
        assert svg.startswith("<svg") and "SANDBOX" in svg
    assert "renderer-codedeploy-service" in (out / "07-review.svg").read_text()
    if (REPO / "wizard" / "screens" / "deploy.py").exists():
        assert "10-deploy" in names
    if (REPO / "wizard" / "screens" / "diagnose.py").exists():
        assert "11-diagnose" in names
    # the Instances step with an Auto Scaling group and a new load balancer chosen
    choice = (out / "03-instances-auto-scaling.svg").read_text()
    assert "Apply&#160;creates&#160;the&#160;group&#160;renderer-asg" in choice
    # a deployment through a target group: the Traffic column, every instance back in service
    traffic = (out / "12-deploy-traffic.svg").read_text()
    assert "Traffic" in traffic and traffic.count("in&#160;service") >= 2
