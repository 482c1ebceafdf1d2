"""`wizard sandbox --list-scenarios`, `wizard sandbox --scenario NAME` and the global
`--sandbox --scenario NAME`, run as a user would (subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest

from tests.conftest import clean_env
from wizard.sandbox import scenarios

pytestmark = pytest.mark.e2e


def test_list_scenarios_names_every_case(run_wizard) -> None:
    proc = run_wizard("sandbox", "--list-scenarios")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == [name for name, _ in scenarios.catalogue()]
    assert {"healthy", "hook-failed", "file-exists", "health-constraints-invalid"} <= set(names)
    assert all(len(line.split(None, 1)) == 2 for line in proc.stdout.splitlines())


def test_unknown_scenario_is_a_usage_error(run_wizard) -> None:
    proc = run_wizard("sandbox", "--scenario", "nope")
    assert proc.returncode == 2
    assert "unknown sandbox scenario 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_foreground_sandbox_seeds_a_scenario_the_aws_api_can_see() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard", "sandbox", "--scenario", "hook-failed"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: dict[str, str] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            if line.startswith("export "):
                key, value = line[len("export ") :].strip().split("=", 1)
                lines[key] = value
            if "deployment_id:" in line:
                lines["deployment_id"] = line.split(":", 1)[1].strip()
            if line.startswith("# Press Ctrl-C"):
                break
        assert "AWS_ENDPOINT_URL" in lines and "deployment_id" in lines, lines
        cd = boto3.client(
            "codedeploy",
            endpoint_url=lines["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )
        info = cd.get_deployment(deploymentId=lines["deployment_id"])["deploymentInfo"]
        assert info["status"] == "Failed"
        assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_global_sandbox_flag_with_a_scenario(run_wizard) -> None:
    proc = run_wizard("whoami", "--json", "--sandbox", "--scenario", "healthy")
    assert proc.returncode == 0, proc.stderr
    assert '"sandbox": true' in proc.stdout
