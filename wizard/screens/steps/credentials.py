"""Step 1: who are we talking to? Identity first, then the profile, the region and the app name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from wizard.screens.steps.base import StepPane
from wizard.tui_support import ContextSwitchRequested, aws_call

if TYPE_CHECKING:
    from textual.widgets import Select
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
        yield Static(self._where(), id="project-folder", classes="box")
        yield Static("Checking credentials…", id="whoami", classes="box")
        yield Field(
            "Application name",
            "application",
            Input(self.state.project.application, id="application"),
            help="Every other name (roles, bucket, group) is derived from it.",
        )
        yield Vertical(Static("Loading profiles and regions…", classes="note"), id="pickers")

    def _where(self) -> str:
        """The folder the wizard writes to, said before anything is written."""
        from textual.markup import escape

        from wizard.fileio import writable_reason
        from wizard.tui_support import display_path

        folder = self.state.project_dir.resolve()
        new = "" if folder.is_dir() else " (a new folder)"
        text = (
            f"Folder    [b]{escape(display_path(folder))}[/b]{new}\n"
            "Writes    answers, appspec.yml, scripts/, CI file"
        )
        # said before anything is written: a read-only folder must not surprise at Next
        reason = writable_reason(folder)
        if reason:
            text += (
                f"\n[$text-warning][b]Cannot write here[/b]: {escape(reason)}.[/] Answers stay in "
                "memory only; to keep them, quit and run the wizard with --project-dir DIR."
            )
        return text

    def fields(self) -> list[Field]:
        return [f for f in super().fields() if not f.key.startswith("_")]

    def shown(self) -> None:
        self.context_changed()
        self.load_options()

    def load_options(self) -> None:
        """Profiles boto3 sees and regions botocore knows (reading files: in a worker).

        The two pickers are mounted when their options arrive, after the first frame (under the
        screen's navigation lock, so never while the step is being left).
        """
        ctx = self.state.ctx

        def options() -> tuple[list[str], list[str]]:
            import boto3

            from wizard.config import known_regions

            profiles = [] if ctx.sandbox else sorted(boto3.session.Session().available_profiles)
            return profiles, sorted(known_regions())

        aws_call(self, options, self._fill, what="Listing profiles and regions")

    def _fill(self, result: tuple[list[str], list[str]]) -> None:
        from textual.widgets import Select

        profiles, regions = result
        ctx = self.state.ctx
        sandbox = bool(ctx.sandbox)
        if ctx.region and ctx.region not in regions:
            regions.append(ctx.region)
        pickers = self.query_one("#pickers", Vertical)
        widgets = [
            Field(
                "AWS profile",
                "_profile",
                Select[str](
                    [(p, p) for p in profiles],
                    value=ctx.profile if ctx.profile in profiles else Select.NULL,
                    prompt="(environment / default)",
                    id="profile",
                    disabled=sandbox,
                ),
                help="The sandbox has built-in credentials."
                if sandbox
                else "The profiles in your AWS config files.",
            ),
            Field(
                "Region",
                "region",
                Select[str](
                    [(r, r) for r in regions],
                    value=ctx.region or Select.NULL,
                    prompt="(pick a region)",
                    id="region",
                ),
            ),
        ]
        self.run_worker(self.replace_children(pickers, widgets), group="pickers")

    def on_select_changed(self, event: Select.Changed) -> None:
        from textual.widgets import Select

        if event.select.id not in ("profile", "region"):
            return
        ctx = self.state.ctx
        if not (self.query("#profile") and self.query("#region")):
            return
        profile = self.query_one("#profile", Select).value
        profile_name: str | None = None if profile is Select.NULL else str(profile)
        region = self.query_one("#region", Select).value
        region_name = ctx.region if region is Select.NULL else str(region)
        if profile_name == ctx.profile and region_name == ctx.region:
            return
        if not region_name:
            self.notify("Pick a region too.", severity="warning")
            return
        self.post_message(ContextSwitchRequested(profile_name, region_name))

    def context_changed(self) -> None:
        ident = self.state.identity
        box = self.query_one("#whoami", Static)
        for profile in self.query("#profile"):
            profile.disabled = bool(self.state.ctx.sandbox)
        if ident is None:
            from wizard.tui_support import PendingContext

            if "credentials" in self.state.problem_steps:
                text = "[b]Credentials problem[/b]: see the message; pick another profile or Retry."
            elif isinstance(self.state.ctx, PendingContext) and self.state.ctx.sandbox:
                text = "Starting the embedded AWS emulator (SANDBOX)…"
            else:
                text = "Checking credentials…"
        else:
            where = self._endpoint_words(ident)
            text = (
                f"Account   [b]{ident['account']}[/b]\n"
                f"Caller    {ident['arn']}\n"
                f"Region    {ident['region']}\n"
                f"Endpoint  {where}"
            )
        box.update(text)

    @staticmethod
    def _endpoint_words(ident: dict[str, Any]) -> str:
        """What the calls go to: AWS, an endpoint, the embedded emulator or a sandbox server."""
        from textual.markup import escape

        endpoint = escape(str(ident.get("endpoint") or ""))
        if not ident.get("sandbox"):
            return endpoint or "AWS"
        if ident.get("embedded"):
            return (
                "[reverse b] SANDBOX [/] embedded emulator on this machine: nothing real is touched"
            )
        return (
            f"[reverse b] SANDBOX [/] the `wizard sandbox` server at {endpoint}: nothing real is "
            "touched; it keeps what is made while it runs"
        )

    def waiting_for(self) -> str | None:
        state = self.state
        if state.identity is None and "credentials" not in state.problem_steps:
            return "checking credentials…"
        return None

    def blocked(self) -> str | None:
        if self.state.identity is None:
            return "waiting for valid credentials"
        return None

    def collect(self) -> dict[str, Any]:
        data = super().collect()
        data["region"] = self.state.ctx.region
        return data
