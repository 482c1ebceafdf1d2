"""Step 3: which EC2 instances receive deployments, and whether a load balancer shifts traffic.

Four ways to get instances: adopt running ones by tag, launch new ones, a new Auto Scaling group
(launch template + group), or an existing group. A load balancer is optional: none, a new one
(ALB + target group + listener), or an existing target group. The answers map one to one onto the
project file's `instances` and `load_balancer` keys; the preview shows what the instances,
Auto Scaling and load balancer steps of `apply` would do.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, RadioSet, Static

from wizard.screens.steps.base import PreviewMixin, StepPane, set_path, step_context
from wizard.tui_support import aws_call
from wizard.widgets.field import Field
from wizard.widgets.plan_table import PlanSummary
from wizard.widgets.toggles import ChoiceSet, MarkedRadioButton
from wizard.widgets.wrap_table import WrapTable


def _status(row: dict[str, Any]) -> str:
    """What a row's last column says: state and type, SSM, the agent (wraps)."""
    return f"{row['state']} {row['type']} · SSM {row['ssm']} · agent {row['agent']}"


MODES = ("tag", "launch", "asg", "asg-name")
LB_MODES = ("none", "create", "adopt")
# the fields each choice uses (the others keep their values but are not written)
MODE_FIELDS = {
    "tag": ("instances.tag.",),
    "launch": ("instances.tag.", "instances.launch", "instances.instance_type", "instances.ami"),
    "asg": (
        "instances.auto_scaling.min",
        "instances.auto_scaling.desired",
        "instances.auto_scaling.max",
        "instances.instance_type",
        "instances.ami",
    ),
    "asg-name": ("instances.auto_scaling.name",),
}
LB_FIELDS = {
    "none": (),
    "create": ("load_balancer.health_check_path", "load_balancer.port"),
    "adopt": ("load_balancer.target_group",),
}
ROWS = {  # row id -> the choices that show it
    "tag-row": ("tag", "launch"),
    "launch-row": ("launch",),
    "asg-row": ("asg",),
    "type-row": ("launch", "asg"),
    "asg-name-row": ("asg-name",),
}


def _count(value: Any) -> Any:
    return int(value) if value not in (None, "") else 0


class Pane(PreviewMixin, StepPane):
    STEP_ID = "instances"
    STEP_MODULE = "instances"
    STEP_MODULES = ("instances", "loadbalancer", "autoscaling")
    TITLE = "Instances"
    INTRO = (
        "Where deployments go: instances found by tag (running ones, or new ones the wizard "
        "launches with the CodeDeploy agent) or an Auto Scaling group. A load balancer, if any, "
        "takes each instance out of service while it is updated."
    )
    OWNS = ("instances", "load_balancer")
    looked = False  # the first lookup of tagged instances has answered
    defaulted = False  # launching was chosen for the user (nothing carried the tag)
    _auto_choice = False  # the next RadioSet.Changed is that choice, not the user's
    # the chosen way, kept here rather than read off the buttons: a RadioSet switches its old
    # button off only when it handles the new one's message, so right after a button is set
    # (the wizard's own choice, a Next queued behind the lookup) two buttons read as pressed
    chosen: str = "tag"
    lb_chosen: str = "none"

    def compose_body(self) -> ComposeResult:
        p = self.state.project
        inst = p.instances
        asg = inst.auto_scaling
        mode = self._mode_of(p)
        with ChoiceSet(id="mode"):
            yield MarkedRadioButton(
                "Adopt running instances with the tag", value=mode == "tag", id="mode-tag"
            )
            yield MarkedRadioButton(
                "Launch new instances", value=mode == "launch", id="mode-launch"
            )
            yield MarkedRadioButton(
                "A new Auto Scaling group (launch template + group)",
                value=mode == "asg",
                id="mode-asg",
            )
            yield MarkedRadioButton(
                "An existing Auto Scaling group", value=mode == "asg-name", id="mode-asg-name"
            )
        # what the lookup found, right under the choice: on screen at 80x24
        with Horizontal(classes="buttons"):
            yield Button("Refresh", id="refresh-instances", compact=True)
            yield Static("", id="instances-status", classes="note")
        with Horizontal(classes="row", id="tag-row"):
            yield Field("Tag key", "instances.tag.key", Input(inst.tag.key, id="tag-key"))
            yield Field("Tag value", "instances.tag.value", Input(inst.tag.value, id="tag-value"))
        with Horizontal(classes="row", id="launch-row"):
            yield Field(
                "How many",
                "instances.launch",
                Input(str(inst.launch or 1), id="launch", type="integer"),
                convert=_count,
            )
        sizes = asg if asg is not None and not asg.name else None
        with Horizontal(classes="row", id="asg-row"):
            for label, key, default in (
                ("Min", "min", 1),
                ("Desired", "desired", 2),
                ("Max", "max", 4),
            ):
                value = getattr(sizes, key) if sizes else default
                yield Field(
                    label,
                    f"instances.auto_scaling.{key}",
                    Input(str(value), id=f"asg-{key}", type="integer"),
                    convert=_count,
                )
        with Horizontal(classes="row", id="type-row"):
            yield Field(
                "Instance type",
                "instances.instance_type",
                Input(inst.instance_type, id="instance-type"),
            )
            yield Field("AMI", "instances.ami", Input(inst.ami, id="ami"))
        with Horizontal(classes="row", id="asg-name-row"):
            yield Field(
                "Auto Scaling group",
                "instances.auto_scaling.name",
                Input(asg.name if asg is not None and asg.name else "", id="asg-name"),
                help="used as it is: the wizard changes nothing on it",
            )
        lb = p.load_balancer
        lb_mode = self._lb_mode_of(p)
        yield Static("Load balancer", classes="field-label")
        with ChoiceSet(id="lb"):
            yield MarkedRadioButton("None", value=lb_mode == "none", id="lb-none")
            yield MarkedRadioButton(
                "A new one (Application Load Balancer + target group)",
                value=lb_mode == "create",
                id="lb-create",
            )
            yield MarkedRadioButton(
                "Use an existing target group", value=lb_mode == "adopt", id="lb-adopt"
            )
        with Horizontal(classes="row", id="lb-create-row"):
            yield Field(
                "Health check path",
                "load_balancer.health_check_path",
                Input(lb.health_check_path, id="lb-path"),
            )
            yield Field(
                "Application port",
                "load_balancer.port",
                Input(str(lb.port), id="lb-port", type="integer"),
                convert=_count,
            )
        with Horizontal(classes="row", id="lb-adopt-row"):
            yield Field(
                "Target group",
                "load_balancer.target_group",
                Input(lb.target_group or "", id="lb-target-group"),
                empty=None,
            )
        table = WrapTable(
            wrap="status", min_wrap=16, id="instances-table", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Static("", id="step-plan-note", classes="note")
        yield PlanSummary(id="step-plan")

    @staticmethod
    def _mode_of(project: Any) -> str:
        asg = project.instances.auto_scaling
        if asg is not None:
            return "asg-name" if asg.name else "asg"
        return "launch" if project.instances.launch > 0 else "tag"

    @staticmethod
    def _lb_mode_of(project: Any) -> str:
        lb = project.load_balancer
        return "create" if lb.create else "adopt" if lb.target_group else "none"

    def on_mount(self) -> None:
        table = self.query_one("#instances-table", DataTable)
        # the id and the profile whole; state, SSM and agent as one sentence that wraps
        table.add_column("Instance", key="id")
        table.add_column("Profile", key="profile")
        table.add_column("State · SSM · agent", key="status")
        self.rows: dict[str, dict[str, Any]] = {}
        self.chosen = self._mode_of(self.state.project)
        self.lb_chosen = self._lb_mode_of(self.state.project)
        self._sync_mode()

    def _mode(self) -> str:
        return self.chosen

    def _lb_mode(self) -> str:
        return self.lb_chosen

    def _sync_mode(self) -> None:
        mode, lb_mode = self._mode(), self._lb_mode()
        for row, modes in ROWS.items():
            self.query_one(f"#{row}").display = mode in modes
        self.query_one("#lb-create-row").display = lb_mode == "create"
        self.query_one("#lb-adopt-row").display = lb_mode == "adopt"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        pressed = event.pressed.id or ""
        if event.radio_set.id == "mode" and pressed.removeprefix("mode-") in MODES:
            self.chosen = pressed.removeprefix("mode-")
        elif event.radio_set.id == "lb" and pressed.removeprefix("lb-") in LB_MODES:
            self.lb_chosen = pressed.removeprefix("lb-")
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
        else:
            self._incomplete()

    def choices(self) -> dict[str, Any]:
        """The chosen ways (kept by the pane, see `chosen`): unsaved answers like typed ones."""
        return {"@mode": self.chosen, "@lb": self.lb_chosen}

    def _incomplete(self) -> None:
        """The answers for the choice are not complete (an Auto Scaling group with no name …):
        what the lookup and the plan said about the previous choice no longer holds."""
        for group in ("instances", "plan", "agents"):
            self.workers.cancel_group(self, group)
        self.query_one("#instances-status", Static).update(
            "[$text-error]Fill in the marked answer, then press Enter: the instances and "
            "what apply would do follow.[/]"
        )
        self.query_one("#instances-table", DataTable).clear()
        self.rows = {}
        self.query_one("#step-plan", PlanSummary).set_changes([])
        self.query_one("#step-plan-note", Static).update("")

    def collect(self) -> dict[str, Any]:
        """The project data with the chosen way's answers; keys of the other ways are dropped,
        since the project file refuses what a choice does not use (a tag with a group …)."""
        data = self.state.project.to_dict(minimal=True)
        mode, lb_mode = self._mode(), self._lb_mode()
        inst = data.setdefault("instances", {})
        for key in ("auto_scaling", "launch", "tag"):
            inst.pop(key, None)
        if mode == "asg-name":
            for key in ("instance_type", "ami", "subnet"):
                inst.pop(key, None)
        data.pop("load_balancer", None)
        if lb_mode == "create":
            data["load_balancer"] = {"create": True}
        wanted = MODE_FIELDS[mode] + LB_FIELDS[lb_mode]
        for field in self.fields():
            if field.key.startswith(wanted):
                set_path(data, field.key, field.value)
        if mode == "tag":
            inst["launch"] = 0
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
        self.chosen = "launch"
        self.query_one("#mode", ChoiceSet).press("mode-launch")  # the cursor follows
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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter re-plans the step and looks for the instances with the answers as typed."""
        event.stop()
        if self.state.identity is None:
            return
        project = self.validate()
        if project is not None:
            self.refresh_instances(project)
            self.preview_plan(project)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "refresh-instances":
            event.stop()
            project = self.validate()
            if project is not None:
                self.refresh_instances(project)
                self.preview_plan(project)

    def refresh_instances(self, project: Any = None) -> None:
        """The instances the choice targets (by tag, or the group's), then SSM
        DescribeInstanceInformation, in a worker."""
        state = self.state
        project = project or state.project
        status = self.query_one("#instances-status", Static)
        asg = project.instances.auto_scaling
        tag = project.instances.tag
        if asg is not None:
            from wizard.steps.autoscaling import group_name

            group = group_name(project)
            status.update(f"Looking for the instances of the Auto Scaling group {group}…")
        else:
            group = None
            status.update(f"Looking for instances tagged {tag.key}={tag.value}…")

        def call() -> tuple[bool, list[dict[str, Any]]]:
            from wizard.steps.instances import tagged_instances

            sc = step_context(state, project)
            if group is None:
                found = tagged_instances(sc)
                exists = True
            else:
                found, exists = _group_instances(sc, group)
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
            return exists, sorted(rows, key=lambda r: r["id"])

        def done(result: tuple[bool, list[dict[str, Any]]]) -> None:
            exists, rows = result
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
            if (
                not rows
                and first
                and self._mode() == "tag"
                and not self.defaulted
                and project.instances.launch == 0
                and getattr(project.instances, "auto_scaling", None) is None
            ):
                self._default_to_launch(project)
            else:
                status.update(self._status_text(project, group, exists, rows))
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        def failed(reason: str) -> None:
            self.looked = True  # Next is not held back by a lookup that failed
            status.update(f"[$text-error]✗ {reason}[/]")
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        aws_call(self, call, done, what="Listing instances", on_error=failed, group="instances")

    def _status_text(
        self, project: Any, group: str | None, exists: bool, rows: list[dict[str, Any]]
    ) -> str:
        asg = project.instances.auto_scaling
        tag = project.instances.tag
        if group is not None and asg is not None:
            if not exists and asg.name:
                return f"There is no Auto Scaling group {group} in this region."
            if not exists:
                return (
                    f"Apply creates the group {group} and waits for {asg.desired} "
                    f"instance{'s' * (asg.desired != 1)}."
                )
            return f"{len(rows)} instance(s) in the Auto Scaling group {group}"
        if rows:
            bare = sum(1 for r in rows if r["profile"] == "none")
            return f"{len(rows)} instance(s) with the tag" + (
                f"; apply attaches the instance profile to {bare}" if bare else ""
            )
        if project.instances.launch > 0:  # what was looked up for, not the choice since
            return "No tagged instances yet: apply launches them."
        return (
            f"No running instances tagged {tag.key}={tag.value}: nothing could deploy. Tag some, "
            "or choose “Launch new instances” or an Auto Scaling group."
        )

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


def _group_instances(sc: Any, name: str) -> tuple[list[dict[str, Any]], bool]:
    """(instances of the Auto Scaling group, whether the group exists)."""
    from wizard.steps.autoscaling import get_group

    group = get_group(sc, name)
    if group is None:
        return [], False
    ids = [i["InstanceId"] for i in group.get("Instances") or []]
    found: list[dict[str, Any]] = []
    ec2 = sc.client("ec2")
    for start in range(0, len(ids), 200):
        for page in ec2.get_paginator("describe_instances").paginate(
            InstanceIds=ids[start : start + 200]
        ):
            for res in page["Reservations"]:
                found.extend(res["Instances"])
    return found, True
