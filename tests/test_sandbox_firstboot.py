"""First boot: the user data runs, and what it leaves (users, files, the agent's user and state)
is what the deployment meets — the worlds that needed `sandbox:` tags, built from user data."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from wizard.sandbox import clock, extensions
from wizard.sandbox.world import World, agent_user_data


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    # booted at once: what the user data left is read, not how long cloud-init takes
    monkeypatch.setattr(
        clock,
        "CLOCK",
        clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05, boot=0.0, agent_install=0.0),
    )
    with mock_aws():
        extensions.install()
        yield World(None)


def boot(w: World, extra: str, *, agent: bool = True) -> str:
    """Launch one instance whose user data installs the agent, then runs `extra`."""
    data = (agent_user_data(w.region) if agent else "#!/bin/bash\n") + extra
    return w.launch(1, profile=w.instance_profile(), user_data=data)[0]


def run(w: World, iid: str, *lines: str) -> dict[str, Any]:
    w.wait_ssm([iid])
    ssm = w.client("ssm")
    cid = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": list(lines)}
    )["Command"]["CommandId"]
    return final_invocation(ssm, cid, iid)


def test_users_directories_files_and_the_agent_user(w: World) -> None:
    iid = boot(
        w,
        "useradd -m deploy\n"
        "mkdir -p /srv/app/releases\n"
        "chown -R deploy:deploy /srv/app\n"
        "chmod 750 /srv/app\n"
        "echo 'coming soon' > /srv/app/index.html\n"
        'sed -i \'s/CODEDEPLOY_USER=""/CODEDEPLOY_USER="deploy"/\' /etc/init.d/codedeploy-agent\n'
        "systemctl restart codedeploy-agent\n",
    )
    out = run(
        w,
        iid,
        "id -u deploy",
        "stat -c '%U:%G %a' /srv/app /srv/app/releases",
        "cat /srv/app/index.html",
        "ps -o user= -C ruby",
    )
    assert out["StandardOutputContent"].splitlines() == [
        "1001",
        "deploy:deploy 750",
        "deploy:deploy 755",
        "coming soon",
        "deploy",
    ]


def test_an_agent_stopped_by_the_user_data(w: World) -> None:
    iid = boot(w, "systemctl disable --now codedeploy-agent\n")
    out = run(w, iid, "systemctl is-active codedeploy-agent")
    assert out["StandardOutputContent"] == "inactive\n"


def test_set_e_stops_the_boot_at_the_first_failure(w: World) -> None:
    iid = boot(w, "set -e\nchown ghost /tmp\nuseradd later\n", agent=False)
    out = run(w, iid, "id -u later")
    assert out["ResponseCode"] == 1


def test_user_data_that_is_not_a_script_never_runs(w: World) -> None:
    data = agent_user_data(w.region).replace("#!/bin/bash\n", "", 1)
    iid = w.launch(1, profile=w.instance_profile(), user_data=data)[0]
    out = run(
        w,
        iid,
        "systemctl is-active codedeploy-agent",
        "grep -c Unhandled /var/log/cloud-init.log",
    )
    assert out["StandardOutputContent"].splitlines() == ["inactive", "1"]
