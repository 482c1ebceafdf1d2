"""Step 1: who are we talking to? Identity first, then the profile, the region and the app name."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from wizard.screens.steps.base import StepPane
from wizard.widgets.field import Field


class Pane(StepPane):
    STEP_ID = "credentials"
    TITLE = "Credentials & region"
    INTRO = (
        "Every call the wizard makes is signed with these credentials, in this region. "
        "CodeDeploy, your instances and the revision bucket must all live in the same region."
    )
    OWNS = ("application", "region")

    def compose_body(self) -> ComposeResult:
        yield Static("Checking credentials…", id="whoami", classes="box")
        yield Field(
            "Application name",
            "application",
            Input(self.wizard.project.application, id="application"),
            help="Every other name (roles, bucket, group) is derived from it.",
        )
        sandbox = bool(self.wizard.ctx.sandbox)
        profile = Select[str](
            [], prompt="(environment / default)", id="profile", disabled=sandbox, allow_blank=True
        )
        yield Field(
            "AWS profile",
            "_profile",
            profile,
            help="The sandbox has built-in credentials." if sandbox else "From ~/.aws/config.",
        )
        region = self.wizard.ctx.region
        yield Field(
            "Region",
            "region",
            Select[str]([(region, region)], value=region, id="region", allow_blank=False),
        )

    def fields(self) -> list[Field]:
        return [f for f in super().fields() if not f.key.startswith("_")]

    def shown(self) -> None:
        self.context_changed()
        ctx = self.wizard.ctx

        def options() -> tuple[list[str], list[str]]:
            import boto3

            from wizard.config import known_regions

            profiles = [] if ctx.sandbox else sorted(boto3.session.Session().available_profiles)
            return profiles, sorted(known_regions())

        self.wizard.aws_call(self, options, self._fill, what="Listing profiles and regions")

    def _fill(self, result: tuple[list[str], list[str]]) -> None:
        profiles, regions = result
        ctx = self.wizard.ctx
        profile = self.query_one("#profile", Select)
        with self.prevent(Select.Changed):
            profile.set_options([(p, p) for p in profiles])
            if ctx.profile in profiles:
                profile.value = ctx.profile
            region = self.query_one("#region", Select)
            if ctx.region not in regions:
                regions.append(ctx.region)
            region.set_options([(r, r) for r in regions])
            region.value = ctx.region

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id not in ("profile", "region"):
            return
        ctx = self.wizard.ctx
        profile = self.query_one("#profile", Select).value
        profile_name: str | None = None if profile is Select.NULL else str(profile)
        region = self.query_one("#region", Select).value
        region_name = ctx.region if region is Select.NULL else str(region)
        if profile_name == ctx.profile and region_name == ctx.region:
            return
        self.wizard.switch_context(profile=profile_name, region=region_name)

    def context_changed(self) -> None:
        ident = self.wizard.identity
        box = self.query_one("#whoami", Static)
        if ident is None:
            text = (
                "[b]Credentials problem[/b]: see the message; pick another profile or Retry."
                if "credentials" in self.wizard.problem_steps
                else "Checking credentials…"
            )
        else:
            where = (
                "[reverse b] SANDBOX [/] embedded emulator on this machine: nothing real is touched"
                if ident.get("sandbox")
                else (ident.get("endpoint") or "AWS")
            )
            text = (
                f"Account   [b]{ident['account']}[/b]\n"
                f"Caller    {ident['arn']}\n"
                f"Region    {ident['region']}\n"
                f"Endpoint  {where}"
            )
        box.update(text)

    def blocked(self) -> str | None:
        if self.wizard.identity is None:
            return "waiting for valid credentials"
        return None

    def collect(self) -> dict[str, Any]:
        data = super().collect()
        data["region"] = self.wizard.ctx.region
        return data
