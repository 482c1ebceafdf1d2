"""Step 5: the CodeDeploy application and its deployment group, and how a rollout proceeds."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from wizard.config import FILE_EXISTS
from wizard.screens.steps.base import PreviewMixin, StepPane
from wizard.widgets.field import Field
from wizard.widgets.plan_table import PlanSummary

CONFIGS = {
    "CodeDeployDefault.AllAtOnce": (
        "Deploy to every instance at once. Fastest; the app may be down everywhere while it "
        "installs. Succeeds if at least one instance succeeds."
    ),
    "CodeDeployDefault.HalfAtATime": (
        "Up to half the instances at a time, so half keep serving. Succeeds if at least half "
        "of them succeed."
    ),
    "CodeDeployDefault.OneAtATime": (
        "One instance at a time: slowest, safest. Stops at the first failed instance "
        "(except the last one)."
    ),
}
FILE_EXISTS_HELP = {
    "DISALLOW": "fail the deployment when a file is already there (safest; the AWS default)",
    "OVERWRITE": "replace files already there with the revision's",
    "RETAIN": "keep files already there, skip the revision's copy",
}


class Pane(PreviewMixin, StepPane):
    STEP_ID = "application"
    STEP_MODULE = "application"
    TITLE = "Application & deployment group"
    INTRO = (
        "A CodeDeploy application is a name for what you deploy. Its deployment group says "
        "where (the tagged instances or the Auto Scaling group), as whom (the service role), how "
        "fast (the deployment configuration) and what happens when a deployment fails."
    )
    OWNS = (
        "application",
        "deployment_group",
        "deployment_config",
        "bundle.file_exists",
        "rollback",
    )

    def compose_body(self) -> ComposeResult:
        p = self.state.project
        yield Field("Application", "application", Input(p.application, id="app-name"))
        yield Field(
            "Deployment group", "deployment_group", Input(p.deployment_group, id="group-name")
        )
        configs = dict(CONFIGS)
        if p.deployment_config not in configs:
            configs[p.deployment_config] = "A custom deployment configuration."
        yield Field(
            "Deployment configuration",
            "deployment_config",
            Select[str](
                [(name.split(".", 1)[-1], name) for name in configs],
                value=p.deployment_config,
                allow_blank=False,
                id="deployment-config",
            ),
            id="config-field",
        )
        yield Static(configs[p.deployment_config], id="config-help", classes="note")
        yield Field(
            "When a file is already on the instance",
            "bundle.file_exists_behavior",
            Select[str](
                [(f"{name}: {FILE_EXISTS_HELP[name]}", name) for name in FILE_EXISTS],
                value=p.bundle.file_exists_behavior,
                allow_blank=False,
                id="file-exists",
            ),
        )
        yield Field(
            "When a deployment fails",
            "rollback.on_failure",
            Select[bool](
                [
                    ("roll back: redeploy the last successful revision (recommended)", True),
                    ("leave each instance on whatever it reached", False),
                ],
                value=p.rollback.on_failure,
                allow_blank=False,
                id="rollback",
            ),
        )
        yield Static("", id="step-plan-note", classes="note")
        yield PlanSummary(id="step-plan")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "deployment-config" and event.value is not Select.NULL:
            text = CONFIGS.get(str(event.value), "A custom deployment configuration.")
            self.query_one("#config-help", Static).update(text)

    def shown(self) -> None:
        self.context_changed()

    def context_changed(self) -> None:
        if self.state.identity:
            self.preview_plan()
