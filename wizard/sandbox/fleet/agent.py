"""The CodeDeploy agent on one instance: is it installed, its files, and what it logs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from wizard.sandbox.fleet.filesystem import Node, ensure_dirs

if TYPE_CHECKING:
    from wizard.sandbox.fleet.context import DeploymentContext, EventOutcome
    from wizard.sandbox.fleet.instance import Facts, InstanceState


AGENT_LOG = "/var/log/aws/codedeploy-agent/codedeploy-agent.log"
DEPLOYMENTS_LOG = (
    "/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log"
)
DEPLOY_ROOT = "/opt/codedeploy-agent/deployment-root"
AGENT_VERSION_FILE = "/opt/codedeploy-agent/.version"

MSG_AGENT = (
    "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy agent "
    "logs on your host and make sure the agent is running and can connect to the CodeDeploy "
    "server."
)
MSG_NO_CREDENTIALS = (
    "Missing credentials - please check if this instance was started with an IAM instance profile"
)


def installs_agent(user_data: str) -> bool:
    """Does this user data install the CodeDeploy agent (install script or SSM package)?"""
    text = user_data.lower()
    return any(
        marker in text for marker in ("aws-codedeploy-", "codedeploy-agent", "awscodedeployagent")
    )


def install_agent_files(st: InstanceState, facts: Facts) -> None:
    if facts.agent == "absent":
        return
    ensure_dirs(st.fs, DEPLOY_ROOT, "root", "root", "755", "agent")
    ensure_dirs(st.fs, "/etc/codedeploy-agent/conf", "root", "root", "755", "agent")
    if AGENT_VERSION_FILE not in st.fs:
        kind = "deb" if facts.default_user == "ubuntu" else "rpm"
        st.fs[AGENT_VERSION_FILE] = Node(
            "file", "root", "root", "644", "agent", f"OFFICIAL_1.7.1-110_{kind}"
        )
    if AGENT_LOG not in st.logs:
        st.log(
            AGENT_LOG,
            f"{ts(datetime.now(timezone.utc))} INFO  [codedeploy-agent(1)]: "
            "master 1: Spawned child 1/1",
        )


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def write_agent_log(st: InstanceState, ctx: DeploymentContext, events: list[EventOutcome]) -> None:
    """What the agent writes to its own log and the deployments log while it works."""
    offset = 0.0
    prefix = "InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller"
    for ev in events:
        if ev.status == "Skipped":
            continue
        stamp = ts(ctx.started + timedelta(seconds=offset))
        offset += ev.duration
        st.log(
            DEPLOYMENTS_LOG,
            f"[{stamp}] [{ctx.deployment_id}] LifecycleEvent - {ev.name}: {ev.status}",
        )
        st.log(
            AGENT_LOG,
            f"{stamp} INFO  [codedeploy-agent(1)]: {prefix}: Calling "
            f'PutHostCommandComplete: "{"Failed" if ev.status == "Failed" else "Succeeded"}"',
        )
        if ev.status == "Failed" and ev.diagnostics:
            st.log(
                AGENT_LOG,
                f"{stamp} ERROR [codedeploy-agent(1)]: {prefix}: Error during perform: "
                f"{ev.diagnostics['errorCode']} - {ev.diagnostics['message']}",
            )
