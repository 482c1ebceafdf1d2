"""Step 4: the S3 bucket that holds each revision (the zip CodeDeploy hands to the agents)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Static

from wizard.screens.steps.base import PreviewMixin, StepPane
from wizard.widgets.field import Field
from wizard.widgets.plan_table import PlanSummary


class Pane(PreviewMixin, StepPane):
    STEP_ID = "bucket"
    STEP_MODULE = "bucket"
    TITLE = "Revision bucket"
    INTRO = (
        "Each deployment is a revision: a zip of your app uploaded to S3. The agents download "
        "it from this bucket, which must be in the same region as the instances. The wizard "
        "creates it private, encrypted and versioned."
    )
    OWNS = ("bucket",)

    def compose_body(self) -> ComposeResult:
        bucket = self.state.project.bucket
        yield Field(
            "Bucket name",
            "bucket.name",
            Input(bucket.name or "", id="bucket-name", placeholder=self._default_name()),
            help="Leave empty for the default (unique per account and region).",
            empty=None,
        )
        yield Field(
            "Key prefix",
            "bucket.prefix",
            Input(bucket.prefix, id="bucket-prefix"),
            help="Revisions are stored under this prefix; the instance role may read only it.",
        )
        yield Static("", id="step-plan-note", classes="note")
        yield PlanSummary(id="step-plan")

    def _default_name(self) -> str:
        state = self.state
        account = state.identity["account"] if state.identity else "ACCOUNT"
        region = state.project.effective_region(state.ctx.region)
        return (
            state.project.bucket_name(account, region)
            if not state.project.bucket.name
            else (state.project.bucket.name)
        )

    def shown(self) -> None:
        self.context_changed()

    def context_changed(self) -> None:
        state = self.state
        if state.identity:
            self.query_one("#bucket-name", Input).placeholder = state.project.bucket_name(
                state.identity["account"], state.project.effective_region(state.ctx.region)
            )
            self.preview_plan()
