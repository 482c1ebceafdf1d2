"""Step 3: which EC2 instances receive deployments: adopt tagged ones or launch new ones."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, RadioButton, RadioSet, Static

from wizard.screens.steps.base import PreviewMixin, StepPane, step_context
from wizard.tui_support import aws_call
from wizard.widgets.field import Field
from wizard.widgets.plan_table import PlanSummary
from wizard.widgets.toggles import MarkedRadioButton
from wizard.widgets.wrap_table import WrapTable


def _status(row: dict[str, Any]) -> str:
    """What a row's last column says: state and type, SSM, the agent (wraps)."""
    return f"{row['state']} {row['type']} · SSM {row['ssm']} · agent {row['agent']}"


def _count(value: Any) -> Any:
    return int(value) if value not in (None, "") else 0


class Pane(PreviewMixin, StepPane):
    STEP_ID = "instances"
    STEP_MODULE = "instances"
    TITLE = "Instances"
    INTRO = (
        "A deployment group finds its instances by tag; on each one the CodeDeploy agent (a "
        "small service) downloads and installs your revision. Adopt running instances that "
        "carry the tag, or let the wizard launch new ones (Amazon Linux 2023, agent installed "
        "at boot)."
    )
    OWNS = ("instances",)
    looked = False  # the first lookup of tagged instances has answered
    defaulted = False  # launching was chosen for the user (nothing carried the tag)
    _auto_choice = False  # the next RadioSet.Changed is that choice, not the user's

    def compose_body(self) -> ComposeResult:
        inst = self.state.project.instances
        with RadioSet(id="mode"):
            yield MarkedRadioButton(
                "Adopt running instances with the tag", value=inst.launch == 0, id="mode-adopt"
            )
            yield MarkedRadioButton("Launch new instances", value=inst.launch > 0, id="mode-launch")
        with Horizontal(classes="row"):
            yield Field("Tag key", "instances.tag.key", Input(inst.tag.key, id="tag-key"))
            yield Field("Tag value", "instances.tag.value", Input(inst.tag.value, id="tag-value"))
        with Horizontal(classes="row", id="launch-row"):
            yield Field(
                "How many",
                "instances.launch",
                Input(str(inst.launch or 1), id="launch", type="integer"),
                convert=_count,
            )
            yield Field(
                "Instance type",
                "instances.instance_type",
                Input(inst.instance_type, id="instance-type"),
            )
            yield Field("AMI", "instances.ami", Input(inst.ami, id="ami"))
        with Horizontal(classes="buttons"):
            yield Button("Refresh", id="refresh-instances", compact=True)
            yield Static("", id="instances-status", classes="note")
        table = WrapTable(
            wrap="status", min_wrap=16, id="instances-table", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Static("", id="step-plan-note", classes="note")
        yield PlanSummary(id="step-plan")

    def on_mount(self) -> None:
        table = self.query_one("#instances-table", DataTable)
        # the id and the profile whole; state, SSM and agent as one sentence that wraps
        table.add_column("Instance", key="id")
        table.add_column("Profile", key="profile")
        table.add_column("State · SSM · agent", key="status")
        self.rows: dict[str, dict[str, Any]] = {}
        self._sync_mode()

    def _launching(self) -> bool:
        return self.query_one("#mode-launch", RadioButton).value

    def _sync_mode(self) -> None:
        self.query_one("#launch-row").display = self._launching()

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self._sync_mode()
        if self._auto_choice:  # made by `_default_to_launch`, which re-plans itself
            self._auto_choice = False
            return
        if self.state.identity is None:
            return
        project = self.validate()  # the plan and the status follow the choice, nothing saved
        if project is not None:
            self.refresh_instances(project)
            self.preview_plan(project)

    def collect(self) -> dict[str, Any]:
        data = super().collect()
        if not self._launching():
            inst = data.setdefault("instances", {})
            inst["launch"] = 0
            for key in ("instance_type", "ami"):
                inst[key] = getattr(self.state.project.instances, key)
        return data

    def shown(self) -> None:
        self.context_changed()

    def waiting_for(self) -> str | None:
        if self.state.identity is not None and not self.looked:
            return "looking for tagged instances…"
        return None

    def _default_to_launch(self, project: Any) -> None:
        """Nothing carries the tag and the answers adopt: launch instead (the default count for
        this account), so that the defaults end in a group that can deploy. Editable."""
        from wizard.steps.instances import default_launch

        count = default_launch(self.state.sandbox)
        self.defaulted = True
        self._auto_choice = True
        self.query_one("#launch", Input).value = str(count)
        self.query_one("#mode-launch", RadioButton).value = True
        self._sync_mode()
        tag = project.instances.tag
        self.query_one("#instances-status", Static).update(
            f"No running instance carries the tag {tag.key}={tag.value}, so apply launches "
            f"{count} (change How many, or choose Adopt and tag your own)."
        )
        chosen = self.validate()
        if chosen is not None:
            self.preview_plan(chosen)
        self.mark_clean()  # the wizard's choice, not an edit the user could lose

    def context_changed(self) -> None:
        if self.state.identity:
            self.refresh_instances()
            self.preview_plan()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "refresh-instances":
            event.stop()
            project = self.validate()
            if project is not None:
                self.refresh_instances(project)
                self.preview_plan(project)

    def refresh_instances(self, project: Any = None) -> None:
        """DescribeInstances by tag, then SSM DescribeInstanceInformation, in a worker."""
        state = self.state
        project = project or state.project
        status = self.query_one("#instances-status", Static)
        tag = project.instances.tag
        status.update(f"Looking for instances tagged {tag.key}={tag.value}…")

        def call() -> list[dict[str, Any]]:
            from wizard.steps.instances import tagged_instances

            sc = step_context(state, project)
            found = tagged_instances(sc)
            ssm_status: dict[str, str] = {}
            ids = [i["InstanceId"] for i in found]
            if ids:
                try:
                    ssm = sc.client("ssm")
                    for start in range(0, len(ids), 40):
                        pages = ssm.get_paginator("describe_instance_information").paginate(
                            Filters=[{"Key": "InstanceIds", "Values": ids[start : start + 40]}]
                        )
                        for page in pages:
                            for info in page.get("InstanceInformationList", []):
                                ssm_status[info["InstanceId"]] = info.get("PingStatus", "?")
                except Exception:
                    ssm_status = {i: "unknown" for i in ids}
            rows = []
            for inst in found:
                arn = (inst.get("IamInstanceProfile") or {}).get("Arn")
                ping = ssm_status.get(inst["InstanceId"], "not registered")
                rows.append(
                    {
                        "id": inst["InstanceId"],
                        "state": inst.get("State", {}).get("Name", "?"),
                        "type": inst.get("InstanceType", "?"),
                        "profile": arn.rsplit("/", 1)[-1] if arn else "none",
                        "ssm": ping,
                        "agent": "checking…" if ping == "Online" else "unknown (no SSM)",
                    }
                )
            return sorted(rows, key=lambda r: r["id"])

        def done(rows: list[dict[str, Any]]) -> None:
            first = not self.looked
            self.looked = True
            table = self.query_one("#instances-table", DataTable)
            table.clear()
            self.rows = {r["id"]: r for r in rows}
            for r in rows:
                table.add_row(r["id"], r["profile"], _status(r), key=r["id"], height=None)
            online = [r["id"] for r in rows if r["ssm"] == "Online" and r["state"] == "running"]
            if online:
                self.probe_agents(project, online)
            if rows:
                bare = sum(1 for r in rows if r["profile"] == "none")
                status.update(
                    f"{len(rows)} instance(s) with the tag"
                    + (f"; apply attaches the instance profile to {bare}" if bare else "")
                )
            elif (
                first
                and not self._launching()
                and not self.defaulted
                and project.instances.launch == 0
                and getattr(project.instances, "auto_scaling", None) is None
            ):
                self._default_to_launch(project)
            elif self._launching():
                status.update("No tagged instances yet: apply launches them.")
            else:
                status.update(
                    f"No running instances tagged {tag.key}={tag.value}: nothing could deploy. "
                    "Tag some, or choose “Launch new instances”."
                )
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        def failed(reason: str) -> None:
            self.looked = True  # Next is not held back by a lookup that failed
            status.update(f"[$text-error]✗ {reason}[/]")
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        aws_call(self, call, done, what="Listing instances", on_error=failed, group="instances")

    def probe_agents(self, project: Any, instance_ids: list[str]) -> None:
        """Ask the instances (SSM Run Command) whether the CodeDeploy agent is running."""
        state = self.state

        def call() -> dict[str, str]:
            import time

            sc = step_context(state, project)
            ssm = sc.client("ssm")
            states: dict[str, str] = {}
            for start in range(0, len(instance_ids), 50):
                batch = instance_ids[start : start + 50]
                command = ssm.send_command(
                    InstanceIds=batch,
                    DocumentName="AWS-RunShellScript",
                    Comment="codedeploy-wizard: is the CodeDeploy agent running?",
                    Parameters={"commands": ["systemctl is-active codedeploy-agent"]},
                    TimeoutSeconds=30,
                )["Command"]["CommandId"]
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    found = ssm.list_command_invocations(CommandId=command, Details=True)
                    pending = False
                    for inv in found.get("CommandInvocations", []):
                        status = inv.get("Status")
                        if status in ("Pending", "InProgress", "Delayed"):
                            pending = True
                            continue
                        out = "".join(
                            p.get("Output", "") for p in inv.get("CommandPlugins", [])
                        ).strip()
                        states[inv["InstanceId"]] = (
                            "running"
                            if out.startswith("active")
                            else f"not running ({out or status})"
                        )
                    if not pending and len(found.get("CommandInvocations", [])) >= len(batch):
                        break
                    time.sleep(0.5)
            return states

        def done(states: dict[str, str]) -> None:
            table = self.query_one("#instances-table", DataTable)
            for instance_id in instance_ids:
                row = self.rows.get(instance_id)
                if row is None:  # the table was refreshed meanwhile
                    continue
                row["agent"] = states.get(instance_id, "no answer")
                try:
                    table.update_cell(instance_id, "status", _status(row))
                except Exception:  # the table was refreshed meanwhile
                    pass

        def failed(_reason: str) -> None:
            done({})

        aws_call(self, call, done, what="Asking the agents", on_error=failed, group="agents")
