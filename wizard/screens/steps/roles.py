"""Step 2: the two IAM roles, what each is for, and the trust policy each carries."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.widgets import Input, Static, TabbedContent, TabPane

from wizard.screens.steps.base import PreviewMixin, StepPane
from wizard.widgets.code_view import CodeView
from wizard.widgets.field import Field
from wizard.widgets.plan_table import PlanSummary
from wizard.widgets.toggles import MarkedCheckbox


class Pane(PreviewMixin, StepPane):
    STEP_ID = "roles"
    STEP_MODULE = "roles"
    TITLE = "Roles"
    INTRO = (
        "Two roles, one per principal. The instance role lets the CodeDeploy agent on each "
        "EC2 instance read your revisions from S3. The service role lets CodeDeploy itself "
        "find your instances and run the deployment. A trust policy says who may use a role."
    )
    OWNS = ("roles",)

    def compose_body(self) -> ComposeResult:
        roles = self.state.project.roles
        yield Field(
            "Instance role (and instance profile)",
            "roles.instance_role",
            Input(roles.instance_role, id="instance-role"),
            help="Trusted by ec2.amazonaws.com; may read the revision bucket only. EC2 "
            "instances get a role through an instance profile of the same name.",
        )
        yield Field(
            "Service role",
            "roles.service_role",
            Input(roles.service_role, id="service-role"),
            help="Trusted by codedeploy.amazonaws.com for this account and application only; "
            "carries the AWS managed policy AWSCodeDeployRole.",
        )
        yield Field(
            "Attach AmazonSSMManagedInstanceCore",
            "roles.ssm",
            MarkedCheckbox("attach", roles.ssm, id="ssm"),
            help="SSM (AWS Systems Manager) lets `wizard diagnose` run read-only commands "
            "inside the instances, without SSH.",
        )
        with TabbedContent(id="trust-tabs"):
            with TabPane("Instance role trust", id="trust-ec2"):
                yield CodeView(id="trust-ec2-json")
            with TabPane("Service role trust", id="trust-cd"):
                yield CodeView(id="trust-cd-json")
        yield Static("", id="step-plan-note", classes="note")
        yield PlanSummary(id="step-plan")

    def shown(self) -> None:
        self.context_changed()

    def context_changed(self) -> None:
        from wizard import policies

        state = self.state
        account = state.identity["account"] if state.identity else "ACCOUNT"
        region = state.project.effective_region(state.ctx.region)
        partition = "aws"
        try:
            partition = state.ctx.partition
        except Exception:  # an unknown region: show the common partition
            pass
        ec2 = policies.ec2_trust()
        cd = policies.codedeploy_trust(partition, region, account, state.project.application)
        self.query_one("#trust-ec2-json", CodeView).set_code(json.dumps(ec2, indent=2), "json")
        self.query_one("#trust-cd-json", CodeView).set_code(json.dumps(cd, indent=2), "json")
        if state.identity:
            self.preview_plan()
