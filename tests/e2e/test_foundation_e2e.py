"""The sandbox as a user meets it: `--sandbox` for one command, `wizard sandbox` in front."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.e2e


def test_whoami_json_in_the_sandbox(run_wizard):
    proc = run_wizard("whoami", "--json", "--sandbox")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # --json: exactly one document on stdout
    assert doc["sandbox"] is True
    assert doc["account"] == "123456789012"
    assert doc["region"] == "us-east-1"
    assert doc["endpoint"].startswith("http://127.0.0.1:")


def test_sandbox_region_follows_the_flag_and_plain_output_says_sandbox(run_wizard):
    proc = run_wizard("--sandbox", "--region", "eu-central-1", "whoami")
    assert proc.returncode == 0, proc.stderr
    assert "region    eu-central-1" in proc.stdout
    assert "sandbox" in proc.stdout.lower()
    assert "SANDBOX" in proc.stderr


def test_foreground_sandbox_serves_other_tools_and_stops_cleanly(run_wizard):
    server = subprocess.Popen(
        [sys.executable, "-m", "wizard", "sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        exports = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            if line.startswith("export "):
                key, _, value = line[len("export ") :].strip().partition("=")
                exports[key] = value
            if line.startswith("# Press Ctrl-C"):
                break
        assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(exports)
        url = exports["AWS_ENDPOINT_URL"]

        proc = run_wizard(
            "whoami",
            "--json",
            "--endpoint-url",
            url,
            env=clean_env(
                AWS_ACCESS_KEY_ID=exports["AWS_ACCESS_KEY_ID"],
                AWS_SECRET_ACCESS_KEY=exports["AWS_SECRET_ACCESS_KEY"],
                AWS_REGION="us-east-1",
            ),
        )
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["endpoint"] == url
        assert doc["sandbox"] is True  # recognised from the server's responses, not the flag

        # the exported variables alone are enough, as for the aws CLI
        proc = run_wizard("whoami", "--json", env=clean_env(**exports))
        assert proc.returncode == 0 and json.loads(proc.stdout)["endpoint"] == url
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "sandbox stopped" in err
    assert "Traceback" not in err


def test_busy_port_is_a_one_line_error(run_wizard, sandbox_server):
    proc = run_wizard("sandbox", "--port", str(sandbox_server.port))
    assert proc.returncode == 2
    assert "cannot start the sandbox" in proc.stderr and "Traceback" not in proc.stderr


def test_foreground_sandbox_reached_by_endpoint_is_labelled(run_wizard, sandbox_env, tmp_path):
    """`wizard sandbox` + its export lines: plan says SANDBOX, diagnose --json says sandbox."""
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: labelled\n")
    plan = run_wizard("plan", env=sandbox_env, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr.startswith("SANDBOX: emulated AWS account")
    doc = run_wizard("diagnose", "--preflight", "--json", env=sandbox_env, cwd=tmp_path)
    assert json.loads(doc.stdout)["sandbox"] is True, doc.stderr
    assert "SANDBOX" not in doc.stderr  # --json: no banner
