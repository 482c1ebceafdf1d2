"""Step 9: what was set up, the CI secrets to set, and the way to the first deployment."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from wizard.screens.steps.base import StepPane
from wizard.tui_support import aws_call


class Pane(StepPane):
    STEP_ID = "done"
    TITLE = "Done"
    INTRO = "CodeDeploy is set up. Three things are left: commit, CI secrets, first deployment."

    def intro(self) -> str:
        """Set up, or set up with a problem that keeps it from deploying (said first)."""
        result = self.state.apply_result
        plan = getattr(result, "plan", None) or self.state.plan
        problems = list(getattr(plan, "problems", None) or [])
        if not problems:
            return self.INTRO
        from textual.markup import escape

        return (
            "[$text-error]✗ CodeDeploy is set up, but a deployment would fail: "
            f"{escape(problems[0].warning or '')}[/]"
        )

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Deploy now", id="open-deploy", variant="primary", compact=True)
            if self.state.project.ci.provider == "travis":
                yield Button("CI access key", id="create-key", compact=True)
            yield Button("Diagnose", id="open-diagnose", compact=True)
            yield Button("Quit", id="quit", compact=True)
        yield Static(self.next_steps(), id="next-steps", classes="box")

    def next_steps(self) -> str:
        state = self.state
        p = state.project
        ci = p.ci.provider
        outputs = getattr(state.apply_result, "outputs", None) or {}
        lines = ["[b]1. Commit the generated files[/b]"]
        lines.append(
            "   git add appspec.yml scripts/ .codedeploy-wizard.yml"
            + (
                " .travis.yml"
                if ci == "travis"
                else " .github/workflows/deploy.yml"
                if ci == "github"
                else ""
            )
        )
        lines.append("[b]2. CI secrets[/b]")
        if ci == "travis":
            user = outputs.get("ci_user") or outputs.get("deploy_user") or "the CI user"
            lines += [
                "   In Travis repository settings (hidden, never in .travis.yml):",
                "   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
                f"   Keys for {user}: press CI access key (shown once, never saved).",
            ]
        elif ci == "github":
            lines += [
                "   None: the workflow assumes its role through GitHub OIDC.",
                f"   Only pushes to {p.ci.branch} of {p.ci.repository} may assume it.",
            ]
        else:
            lines.append("   None: no CI configured; deploy with `wizard deploy`.")
        lines.append("[b]3. First deployment[/b]")
        lines.append(
            f"   Push to {p.ci.branch}, or press Deploy now (same as `wizard deploy`)."
            if ci != "none"
            else "   Press Deploy now (same as `wizard deploy`)."
        )
        lines.append("   A failed deployment? Diagnose names the cause and the fix.")
        if getattr(state.ctx, "sandbox", False):
            lines += [
                "",
                "[b]This was the SANDBOX[/b]: nothing exists in AWS. Run `wizard` without",
                "--sandbox (with your AWS profile) in this folder to set it up for real.",
            ]
        return "\n".join(lines)

    def shown(self) -> None:
        self.state.done_steps.add("done")
        self.state.remember_step("done")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open-deploy":
            event.stop()
            await self.app.run_action("open_deploy")
        elif event.button.id == "open-diagnose":
            event.stop()
            await self.app.run_action("open_diagnose")
        elif event.button.id == "create-key":
            event.stop()
            self.confirm_access_key()
        elif event.button.id == "quit":
            event.stop()
            self.app.exit(return_code=0)

    def confirm_access_key(self) -> None:
        from wizard.widgets.dialogs import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.create_access_key()

        self.app.push_screen(
            ConfirmScreen(
                "Create an access key for the CI user? It is shown once, here, and never "
                "saved: put it in the Travis repository settings straight away.",
                yes="Create key",
                no="Cancel",
            ),
            answer,
        )

    def create_access_key(self) -> None:
        """IAM CreateAccessKey for the CI user (the engine's own helper), shown once."""
        from wizard.screens.steps.base import step_context

        state = self.state
        project = state.project

        def call() -> tuple[str, dict[str, str]]:
            from wizard.steps import ci

            key = ci.create_access_key(step_context(state, project))
            return ci.ci_user_name(project), key

        def done(result: tuple[str, dict[str, str]]) -> None:
            from wizard.steps.ci import travis_commands
            from wizard.widgets.dialogs import NoticeScreen

            user, key = result
            body = "\n".join(
                [
                    f"IAM user           {user}",
                    f"AWS_ACCESS_KEY_ID      {key['AccessKeyId']}",
                    f"AWS_SECRET_ACCESS_KEY  {key['SecretAccessKey']}",
                    "",
                    "Store both as repository settings (hidden), e.g.:",
                    *(f"  {line}" for line in travis_commands(key)),
                    "",
                    "This is the only time the secret is shown. Never commit it.",
                ]
            )
            if getattr(state.ctx, "sandbox", False):
                body += "\n\nSANDBOX: this key is made up by the emulator; it works nowhere else."
            self.app.push_screen(NoticeScreen("New CI access key", body))

        aws_call(self, call, done, what="Creating the access key", group="key")
