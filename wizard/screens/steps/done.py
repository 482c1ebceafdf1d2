"""Step 9: what was set up, the CI secrets to set, and the way to the first deployment."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from wizard.screens.steps.base import StepPane


class Pane(StepPane):
    STEP_ID = "done"
    TITLE = "Done"
    INTRO = "CodeDeploy is set up. Three things left, and the first deployment."

    def compose_body(self) -> ComposeResult:
        yield Static(self.next_steps(), id="next-steps", classes="box")
        with Horizontal(classes="buttons"):
            yield Button("Deploy now", id="open-deploy", variant="primary")
            yield Button("Diagnose", id="open-diagnose")
            yield Button("Quit", id="quit")

    def next_steps(self) -> str:
        app = self.wizard
        p = app.project
        ci = p.ci.provider
        outputs = getattr(app.apply_result, "outputs", None) or {}
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
                f"   Keys for {user}: `wizard apply --create-access-key` prints them once.",
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
        return "\n".join(lines)

    def shown(self) -> None:
        self.wizard.done_steps.add("done")
        self.wizard.remember_step("done")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open-deploy":
            event.stop()
            self.wizard.action_open_deploy()
        elif event.button.id == "open-diagnose":
            event.stop()
            self.wizard.action_open_diagnose()
        elif event.button.id == "quit":
            event.stop()
            self.wizard.exit(return_code=0)
