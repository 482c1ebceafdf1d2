"""The Textual application: it composes the screens and acts on what they ask for.

The wizard's state (AWS context, the answers being edited, the plan, the apply result) is a
`wizard.tui_support.WizardState` owned by the app (`app.state`); screens and step panes read it and
run their AWS calls through `wizard.tui_support.aws_call` (a thread worker; a failure becomes a
modal with the one-line reason and Retry). Nothing below imports this module: the app composes
the screens, the screens never point back up.

Heavy modules (boto3 users, the setup engine, file generators, the sandbox) are imported inside
workers so the first screen paints about as fast as a bare Textual app (see bench/tui_start.py);
`wizard setup` hands over a factory for the AwsContext, which is called in a worker after the
first frame (with --sandbox the factory also starts the emulator).

Where things are kept:
- answers: the project file, saved (`WizardState.save_project`) whenever the user moves on with
  valid answers (Next, and Back when the answers are valid), validated by `wizard.config.from_dict`;
- the step reached: `wizard.tui_support.save_progress` (a small JSON file in the user's state
  directory, keyed by project directory; used only while the project file exists);
- the plan, the file changes and the apply result: in memory only (re-opened mid-apply, the app
  resumes at Review and works the plan out again).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding

from wizard.tui_support import (
    ContextSwitchRequested,
    PendingContext,
    WizardState,
    aws_call,
    unsaved_sentence,
)

if TYPE_CHECKING:
    from textual.screen import Screen

    from wizard.aws import AwsContext

THEMES = ("textual-dark", "textual-light")


def _commands_provider() -> type:
    from wizard.screens.commands import WizardCommands

    return WizardCommands


class WizardApp(App[int]):
    """Walks a first-timer from credentials to a deployable CodeDeploy setup."""

    CSS_PATH = "app.tcss"
    TITLE = "codedeploy-wizard"
    COMMANDS = App.COMMANDS | {_commands_provider}
    BINDINGS = [
        Binding("ctrl+c", "request_quit", "Quit", show=False, priority=True),
        # ctrl+q is the one shown: the footer hides `q` while a text field has the focus, and
        # the first screen opens in one, which left a first-timer with no visible way out
        Binding("ctrl+q", "request_quit", "Quit", priority=True),
        Binding("q", "request_quit", "Quit", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme"),
    ]

    def __init__(
        self,
        ctx: AwsContext | Callable[[], AwsContext],
        project_dir: str | Path | None = ".",
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        sandbox: bool = False,
    ) -> None:
        super().__init__()
        context: Any = (
            ctx
            if not callable(ctx)
            else PendingContext(ctx, profile, region, endpoint_url, sandbox=sandbox)
        )
        self.state = WizardState.open(context, project_dir)
        # a write that fails (read-only folder, full disk …) is one line where the user is;
        # 10 s: long enough to read, short enough not to hide Next (the first screen and the
        # quit line say it again)
        self.state.warn = lambda line: self.notify(
            line, severity="warning", timeout=10, markup=False
        )
        self.quit_message = ""

    # ------------------------------------------------------------------ screens
    def get_default_screen(self) -> Screen:
        from wizard.screens.wizard import WizardScreen

        return WizardScreen(start=self.state.start_step)

    def on_mount(self) -> None:
        # the launcher paused the cyclic GC for the start (wizard/commands/setup.py)
        self.call_after_refresh(gc.enable)
        # AWS work starts once the first frame is on screen (its threads compete for the GIL)
        self.call_after_refresh(self.load_identity)
        if self.state.project_error:
            self.notify(
                f"{self.state.project_error} (starting from defaults)",
                severity="warning",
                timeout=8,
            )

    # ------------------------------------------------------------------ identity / context
    def load_identity(self) -> None:
        """Who are we? Runs first, in a worker; the header and credentials step show it.

        With a PendingContext the worker builds the AwsContext first (imports boto3; with
        --sandbox it starts the emulator), so the first frame never waits for either.
        """
        state = self.state
        ctx = state.ctx

        def call() -> tuple[Any, dict[str, Any]]:
            real = ctx.factory() if isinstance(ctx, PendingContext) else ctx
            return real, real.describe()

        def done(result: tuple[Any, dict[str, Any]]) -> None:
            state.ctx = result[0]
            self.set_identity(result[1])

        def error(_reason: str) -> None:
            state.problem_steps.add("credentials")
            self._context_changed()

        aws_call(self, call, done, what="Checking credentials", on_error=error, group="ctx")

    def set_identity(self, desc: dict[str, Any]) -> None:
        self.state.identity = desc
        self.state.problem_steps.discard("credentials")
        self._context_changed()

    def on_context_switch_requested(self, message: ContextSwitchRequested) -> None:
        self.switch_context(profile=message.profile, region=message.region)

    def switch_context(self, *, profile: str | None, region: str) -> None:
        """Build a new AwsContext (another profile or region) in a worker, then check it."""
        state = self.state
        old = state.ctx
        if isinstance(old, PendingContext) and old.sandbox:
            self.notify("The sandbox is still starting.", severity="warning")
            return

        def build() -> tuple[Any, dict[str, Any]]:
            from wizard.aws import AwsContext

            if old.sandbox and profile is None and old.profile is None:  # --sandbox's own keys
                new = AwsContext(
                    region=region,
                    endpoint_url=old.endpoint_url,
                    # a `wizard sandbox` server stays one: learned again from its STS answer
                    sandbox=bool(getattr(old, "embedded", True)),
                    access_key="sandbox",
                    secret_key="sandbox",
                )
                for attr in ("sandbox_server", "scenario"):
                    if hasattr(old, attr):
                        setattr(new, attr, getattr(old, attr))
            else:
                new = AwsContext(profile=profile, region=region, endpoint_url=old.endpoint_url)
            return new, new.describe()

        def done(result: tuple[Any, dict[str, Any]]) -> None:
            state.ctx, desc = result
            state.plan = None
            self.set_identity(desc)

        def error(_reason: str) -> None:
            state.problem_steps.add("credentials")
            self._context_changed()

        state.identity = None
        self._context_changed()
        aws_call(self, build, done, what="Switching credentials", on_error=error, group="ctx")

    def _context_changed(self) -> None:
        from wizard.screens.wizard import WizardScreen

        for screen in self.screen_stack:
            if isinstance(screen, WizardScreen):
                screen.context_changed()

    # ------------------------------------------------------------------ actions
    def action_goto(self, step: str) -> None:
        from wizard.screens.wizard import WizardScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, WizardScreen):
            self.pop_screen()
        if isinstance(self.screen, WizardScreen):
            self.screen.goto(step, force=True)

    def action_command_palette(self) -> None:
        """Textual's palette, in a form that a burst of keys cannot dismiss twice."""
        from textual.command import CommandPalette

        from wizard.widgets.dialogs import SafeCommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def action_request_quit(self) -> None:
        """Quit; ask first when something would be lost or left half done (answers typed on
        this step but not saved, an apply or a deployment running, fixes being applied). The
        terminal is told where the answers were saved.

        The question follows the truth while it is open: once the apply or deployment it names
        has ended, it says so (or asks the plain question about unsaved answers), and the exit
        code is the one that holds when the user answers.
        """
        from wizard.widgets.dialogs import ConfirmScreen

        if isinstance(self.screen, ConfirmScreen) and self.screen.id == "quit-question":
            self._quit_now()  # ^q again on the question: it is a yes
            return
        reason, _code = self._quit_reason()
        if reason is None:
            self._quit_now()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._quit_now()

        question = self._quit_question()
        self.push_screen(
            ConfirmScreen(
                question or "",
                yes="Quit",
                no="Keep going",
                follow=lambda: self._quit_question(ended=True),
                id="quit-question",
            ),
            answer,
        )

    def _quit_message(self) -> str:
        """What the terminal is told once the app has closed: where the answers are and, in the
        sandbox after an apply, that what was made in it is gone."""
        message = self.state.where_saved(self._unsaved_step())
        if self.state.embedded_sandbox and (self.state.applied or self.state.applying):
            message += (
                " The sandbox stopped with the wizard: what was made in it is gone (run "
                "wizard --sandbox again to start over)."
            )
        return message

    def _quit_now(self) -> None:
        _reason, code = self._quit_reason()
        self.quit_message = self._quit_message()  # printed on the terminal once the app closed
        self.exit(return_code=code, message=self.quit_message)

    def _quit_question(self, *, ended: bool = False) -> str:
        """The quit dialog's text as things stand now. `ended`: the dialog has been open a
        while, so when nothing is running any more it says the work has ended."""
        reason, _code = self._quit_reason()
        unsaved = self._unsaved_step()
        where = self.state.where_saved(unsaved).removeprefix(unsaved_sentence(unsaved))
        if reason is None:
            done = "Nothing is running any more" if ended else "Nothing is running"
            if self.state.embedded_sandbox and (self.state.applied or self.state.applying):
                # the emulator is this process: what was made in it ends with the app
                return (
                    f"{done}, but the sandbox stops with the wizard: what was made in it is "
                    f"gone. Quit?\n\n{where}"
                )
            return f"{done}: quitting now loses nothing. Quit?\n\n{where}"
        return f"{reason} Quit anyway?\n\n{where}"

    def _unsaved_step(self) -> str | None:
        """The title of the step whose answers the user changed and has not saved, or None."""
        from wizard.screens.steps import TITLES
        from wizard.screens.wizard import WizardScreen

        for screen in self.screen_stack:
            if isinstance(screen, WizardScreen) and screen.has_unsaved_answers():
                return TITLES[screen.current]
        return None

    def _quit_reason(self) -> tuple[str | None, int]:
        """What quitting now would lose or interrupt (and the exit code it would mean)."""
        from wizard.screens.deploy import DeployScreen
        from wizard.screens.diagnose import DiagnoseScreen
        from wizard.screens.steps import TITLES
        from wizard.screens.wizard import WizardScreen

        state = self.state
        # the embedded emulator lives only as long as this process: in the sandbox, quitting
        # ends whatever runs in it, and nothing goes on anywhere
        gone = "quitting stops the sandbox, and everything made in it is gone"
        if state.applying:
            if state.embedded_sandbox:
                return (
                    f"Apply is still running in the sandbox: {gone} (run the wizard again to "
                    "start over).",
                    1,
                )
            return (
                "Apply is still running: changes already made stay; run the wizard again to "
                "finish them.",
                1,
            )
        for screen in self.screen_stack:
            if isinstance(screen, DeployScreen) and not screen.finished:
                if state.embedded_sandbox:
                    what = "running" if screen.handle else "starting"
                    return f"A deployment is {what} in the sandbox: {gone}, the deployment too.", 1
                if screen.handle is None:  # bundling and uploading: CodeDeploy has nothing yet
                    return (
                        "A deployment is starting (the revision is being bundled and "
                        "uploaded): quitting now may stop it before CodeDeploy starts it.",
                        1,
                    )
                where = "the sandbox server" if state.sandbox else "AWS"  # `wizard sandbox`
                return (
                    f"A deployment is running: it goes on in {where}, but this screen stops "
                    "following it (wizard diagnose shows how it ended).",
                    1,
                )
            if isinstance(screen, DiagnoseScreen) and screen.busy and screen.fixing:
                if state.embedded_sandbox:
                    return f"Fixes are being applied in the sandbox: {gone}.", 1
                return "Fixes are being applied: some may be left half done.", 1
            if isinstance(screen, WizardScreen) and screen.has_unsaved_answers():
                return (
                    f"Your changes on the {TITLES[screen.current]} step are not saved yet (they "
                    "are saved when you press Next).",
                    0,
                )
        if state.save_problem:  # the folder refused the answers: quitting loses them
            return "The folder did not take your answers: quitting loses them.", 0
        return None, 0

    def action_open_deploy(self) -> None:
        from wizard.screens.deploy import DeployScreen

        state = self.state
        self.push_screen(DeployScreen(state.ctx, state.project, state.project_dir))

    def action_open_diagnose(self) -> None:
        from wizard.screens.diagnose import DiagnoseScreen

        state = self.state
        self.push_screen(
            DiagnoseScreen(
                state.ctx,
                application=state.project.application,
                deployment_group=state.project.deployment_group,
                deploy_again=self.deploy_again,
            )
        )

    def deploy_again(self) -> None:
        """After fixes: close the diagnosis (and a finished deployment) and deploy anew."""
        from wizard.screens.deploy import DeployScreen
        from wizard.screens.diagnose import DiagnoseScreen

        while len(self.screen_stack) > 1 and isinstance(self.screen, DiagnoseScreen | DeployScreen):
            self.pop_screen()
        self.action_open_deploy()


def create_app(
    ctx: AwsContext | Callable[[], AwsContext],
    project_dir: str | Path | None = ".",
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    sandbox: bool = False,
) -> WizardApp:
    """App factory: tests build the app with a sandbox context.

    `ctx` may also be a zero-argument callable that builds the AwsContext: the app then calls it
    in a worker after the first frame (fast start). `profile`, `region` and `endpoint_url` are
    what it was built from: shown meanwhile, and used when the user picks another profile or
    region after the factory failed. `sandbox`: the factory starts the embedded emulator (the
    header says SANDBOX from the first frame).
    """
    return WizardApp(
        ctx,
        project_dir=project_dir,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        sandbox=sandbox,
    )
