"""Step 9: what was set up, the CI secrets to set, and the way to the first deployment."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from wizard.screens.steps.base import StepPane
from wizard.tui_support import aws_call, is_live
from wizard.widgets.command_block import CommandBlock


class Pane(StepPane):
    STEP_ID = "done"
    TITLE = "Done"
    INTRO = "CodeDeploy is set up."

    # the deployment group's lastSuccessfulDeployment (GetDeploymentGroup), once looked up:
    # {"deploymentId": …, "status": "Succeeded", "endTime": …}; None when there is none yet
    deployed: dict[str, Any] | None = None
    key_made: str | None = None  # the AccessKeyId of a CI key created and shown here

    def left(self) -> list[str]:
        """What is left to do, in the order of the sections below."""
        left = ["commit the files"]
        if self.state.project.ci.provider == "travis":
            left.append("the CI secrets")
        if self.deployed is None:
            left.append("the first deployment")
        return left

    def intro(self) -> str:
        """Set up (and what is left), or set up with a problem that keeps it from deploying
        (said first)."""
        result = self.state.apply_result
        plan = getattr(result, "plan", None) or self.state.plan
        problems = list(getattr(plan, "problems", None) or [])
        if not problems or self.deployed is not None:
            done = self.INTRO
            if self.deployed is not None:
                done = (
                    "CodeDeploy is set up, and its first deployment "
                    f"({self.deployed.get('deploymentId', '?')}) succeeded."
                )
            left = self.left()
            return f"{done} Left: {', '.join(left)}." if left else done
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
        with Vertical(id="next-steps", classes="box"):
            yield from self.step_widgets()

    def step_widgets(self) -> list[Any]:
        """The widgets of the next-steps box."""
        widgets: list[Any] = []
        for kind, content in self.next_steps():
            if kind in ("head", "text"):
                widgets.append(Static(content, classes=f"next-{kind}"))
            else:
                widgets.append(CommandBlock(content.splitlines(), classes="next-commands"))
        return widgets

    def next_steps(self) -> list[tuple[str, str]]:
        """The three things left, as ("head" | "text", markup) and ("commands", lines) pieces."""
        from textual.markup import escape

        from wizard.tui_support import shell_path, user_path

        state = self.state
        p = state.project
        ci = p.ci.provider
        outputs = getattr(state.apply_result, "outputs", None) or {}
        files = "appspec.yml scripts/ .codedeploy-wizard.yml"
        files += {"travis": " .travis.yml", "github": " .github/workflows/deploy.yml"}.get(ci, "")
        folder = user_path(state.project_dir)
        # the paths are the project folder's: git add works from inside it
        cd = "" if folder == "." else f"cd {shell_path(folder)}\n"
        out: list[tuple[str, str]] = [
            ("head", "1. Commit the generated files"),
            ("text", "Focus a command and press c to copy it."),
            ("commands", f"{cd}git add {files}"),
            ("head", "2. CI secrets"),
        ]
        if ci == "travis":
            user = outputs.get("ci_user") or outputs.get("deploy_user") or "the CI user"
            press = (
                f"A key ({self.key_made}) was created and shown once; press CI access key for "
                "another (IAM allows two per user)."
                if self.key_made
                else "Press CI access key to create them (shown once, never saved)."
            )
            out.append(
                (
                    "text",
                    "In the Travis repository settings (hidden, never in .travis.yml): "
                    f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of {user}. {press}",
                )
            )
        elif ci == "github":
            out.append(
                (
                    "text",
                    "None: the workflow assumes its role through GitHub OIDC. Only pushes to "
                    f"{p.ci.branch} of {p.ci.repository} may assume it.",
                )
            )
        else:
            out.append(("text", "None: no CI configured; deploy with wizard deploy."))
        first = f"Push to {p.ci.branch}, or press" if ci != "none" else "Press"
        if self.deployed is not None:
            out.append(("head", "3. Deployments"))
            out.append(
                (
                    "text",
                    f"The first deployment ({escape(str(self.deployed.get('deploymentId')))}) "
                    f"succeeded. For the next one: {first.lower()} Deploy now; from a shell it "
                    "is the same as this. A failed deployment? Diagnose names the cause and the "
                    "fix.",
                )
            )
        else:
            out.append(("head", "3. First deployment"))
            out.append(
                (
                    "text",
                    f"{first} Deploy now; from a shell it is the same as this. A failed "
                    "deployment? Diagnose names the cause and the fix.",
                )
            )
        out.append(("commands", "wizard deploy"))
        if state.sandbox:
            out.append(("head", "This was the SANDBOX"))
            where = "this folder" if folder == "." else f"the project folder {escape(folder)}"
            out.append(
                (
                    "text",
                    "Nothing exists in AWS. To set it up for real, run wizard without "
                    f"--sandbox (with your AWS profile) in {where}:",
                )
            )
            out.append(("commands", f"{cd}wizard"))
        return out

    def shown(self) -> None:
        self.state.done_steps.add("done")
        self.state.remember_step("done")
        self.look_for_deployments()

    def context_changed(self) -> None:
        self.look_for_deployments()  # the identity has arrived (or another account is used)

    def resumed(self) -> None:
        """Back from the deployment (or diagnose) screen: what is left may have changed."""
        self.look_for_deployments()

    def look_for_deployments(self) -> None:
        """Has the deployment group had a succeeded deployment? CodeDeploy keeps it:
        GetDeploymentGroup's deploymentGroupInfo.lastSuccessfulDeployment (API reference,
        DeploymentGroupInfo). Then the first deployment is no longer left to do."""
        state = self.state
        project = state.project
        if state.identity is None:
            return

        def call() -> dict[str, Any] | None:
            client = state.ctx.client("codedeploy", project.effective_region(state.ctx.region))
            try:
                info = client.get_deployment_group(
                    applicationName=project.application,
                    deploymentGroupName=project.deployment_group,
                )["deploymentGroupInfo"]
            except Exception:  # no group (yet), or no answer: say what was true before
                return None
            return info.get("lastSuccessfulDeployment")

        def done(last: dict[str, Any] | None) -> None:
            if last == self.deployed:
                return
            self.deployed = last
            self.query_one(".step-intro", Static).update(self.intro())
            self.call_later(self._show_steps)

        aws_call(self, call, done, what="Looking up deployments", group="deployed")

    async def _show_steps(self) -> None:
        await self.replace_children(self.query_one("#next-steps"), self.step_widgets())

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
            # as ^q: asks while something runs, and tells the terminal where the answers are
            await self.app.run_action("request_quit")

    def confirm_access_key(self) -> None:
        from wizard.widgets.dialogs import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.create_access_key()

        where = (
            # the emulator's key works nowhere else, and ends with it
            "In the sandbox it is made up by the emulator and works nowhere else."
            if self.state.sandbox
            else "Put it in the Travis repository settings straight away."
        )
        self.app.push_screen(
            ConfirmScreen(
                "Create an access key for the CI user? It is shown once, here, and never "
                f"saved. {where}",
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
            user, key = result
            self.app.push_screen(access_key_notice(user, key, sandbox=state.sandbox))
            self.key_made = key.get("AccessKeyId") or "new"
            if is_live(self):  # the next steps now say a key exists
                self.call_later(self._show_steps)

        aws_call(self, call, done, what="Creating the access key", group="key")


def access_key_notice(user: str, key: dict[str, str], *, sandbox: bool) -> Any:
    """The dialog that shows a new CI access key once: `key` is IAM CreateAccessKey's
    `AccessKey` (AccessKeyId, SecretAccessKey); the values and the Travis commands whole."""
    from wizard.steps.ci import travis_commands
    from wizard.widgets.dialogs import NoticeScreen

    body = f"A key for the IAM user {user}:"
    values = [
        f"AWS_ACCESS_KEY_ID      {key['AccessKeyId']}",
        f"AWS_SECRET_ACCESS_KEY  {key['SecretAccessKey']}",
    ]
    # the second command's `# paste the secret, …` comment was cut at the dialog's edge (a
    # command is one line, never wrapped): here the words go in the text above, which wraps
    commands = [command.partition("   # ")[0] for command in travis_commands(key)]
    middle = (
        "Store both as hidden repository settings, e.g. with the Travis CLI (focus a block, c "
        "copies it). The second command reads the secret from the terminal: paste it, press "
        "Enter, then Ctrl-D (never type it on a command line):"
    )
    after = "This is the only time the secret is shown. Never commit it."
    if sandbox:
        after += "\n\nSANDBOX: this key is made up by the emulator; it works nowhere else."
    return NoticeScreen(
        "New CI access key",
        body,
        values=values,
        middle=middle,
        commands=commands,
        after=after,
    )
