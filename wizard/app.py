"""The Textual application. The only layer (with screens/ and widgets/) that imports Textual.

The app holds the wizard's state (AWS context, the project being edited, the plan, the apply
result) and the one helper every AWS call goes through, `aws_call`: it runs the call in a thread
worker, hands the result back on the UI thread, and turns a failure into a modal with the one-line
reason (`wizard.aws.explain`) and a Retry button. Screens and step panes never block the UI.

Heavy modules (boto3 users, the setup engine, file generators) are imported inside workers so the
first screen paints about as fast as a bare Textual app (see bench/tui_start.py); `wizard setup`
even hands over a factory for the AwsContext, which is called in a worker after the first frame.

Where things are kept:
- answers: the project file, saved (`wizard.config.save`) whenever the user moves on with valid
  answers (Next, and Back when the answers are valid), validated by `wizard.config.from_dict`;
- the step reached: `wizard.screens.progress` (a small JSON file in the user's state directory,
  keyed by project directory; used only while the project file exists);
- the plan, the file changes and the apply result: in memory only (re-opened mid-apply, the app
  resumes at Review and works the plan out again).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding

from wizard.screens.progress import load_progress, save_progress

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.screen import Screen

    from wizard.aws import AwsContext
    from wizard.config import Project

THEMES = ("textual-dark", "textual-light")


def _commands_provider() -> type:
    from wizard.widgets.commands import WizardCommands

    return WizardCommands


def one_line_reason(exc: BaseException, what: str = "") -> tuple[str, str | None]:
    """The reason a call failed, as one line (plus an optional hint), never a traceback."""
    from wizard.aws import explain
    from wizard.errors import WizardError

    try:
        mapped = explain(exc)
    except Exception:  # pragma: no cover - explain must never make things worse
        mapped = None
    if isinstance(mapped, WizardError):
        return mapped.message, mapped.hint
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"{what}: {text}" if what else text), None


class PendingContext:
    """Stands in for the AwsContext until it is built (in a worker, after the first frame).

    Building a context imports boto3 and reads the AWS config files; doing that before the first
    paint would double the time to the first screen. Only what the header shows is known here.
    """

    sandbox = False
    endpoint_url: str | None = None

    def __init__(
        self,
        factory: Callable[[], AwsContext],
        profile: str | None,
        region: str | None,
        endpoint_url: str | None = None,
    ) -> None:
        import os

        self.factory = factory
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.profile = profile or os.environ.get("AWS_PROFILE") or None
        self.region = (
            region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
        )


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
    ) -> None:
        super().__init__()
        self.ctx: Any = (
            ctx if not callable(ctx) else PendingContext(ctx, profile, region, endpoint_url)
        )
        self.project_dir = Path(project_dir or ".")
        self.identity: dict[str, Any] | None = None
        self.plan: Any = None
        self.file_changes: list[Any] | None = None
        self.apply_result: Any = None
        self.applying = False
        self.applied = False
        self.project, self.project_error = self._load_project()
        progress = load_progress(self.project_dir) if self._project_exists() else {}
        self.done_steps: set[str] = set(progress.get("done") or [])
        self.problem_steps: set[str] = set()
        start = progress.get("step") or "credentials"
        # the plan lives in memory only: resuming mid-apply starts again from the review
        self.start_step = "review" if start == "apply" else start

    # ------------------------------------------------------------------ project
    def _project_exists(self) -> bool:
        from wizard import config

        return config.exists(self.project_dir)

    def _load_project(self) -> tuple[Project, str | None]:
        """The project file's answers, or defaults named after the directory."""
        import re

        from wizard import config
        from wizard.errors import ConfigError

        if config.exists(self.project_dir):
            try:
                return config.load(self.project_dir), None
            except ConfigError as exc:
                error = exc.one_line()
        else:
            error = None
        name = re.sub(r"[^A-Za-z0-9._+=,@-]+", "-", self.project_dir.resolve().name).strip("-")
        return config.from_dict({"application": name or "app"}, check_region_known=False), error

    def save_project(self, project: Project) -> None:
        """Keep the answers: in memory and in the project file."""
        from wizard import config

        self.project = project
        config.save(project, self.project_dir)

    def remember_step(self, step: str) -> None:
        done = self.done_steps
        if getattr(self.ctx, "sandbox", False) and step in ("apply", "done"):
            # the embedded emulator starts empty on every run: what was applied in it is gone,
            # so the next run resumes at the review (which plans it again), never at "Done"
            step, done = "review", done - {"apply", "done"}
        save_progress(self.project_dir, step, sorted(done))

    # ------------------------------------------------------------------ screens
    def get_default_screen(self) -> Screen:
        from wizard.screens.wizard import WizardScreen

        return WizardScreen(start=self.start_step)

    def on_mount(self) -> None:
        if self.project_error:
            self.notify(
                f"{self.project_error} (starting from defaults)", severity="warning", timeout=8
            )

    # ------------------------------------------------------------------ AWS calls
    def aws_call(
        self,
        node: DOMNode,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        *,
        what: str,
        on_error: Callable[[str], None] | None = None,
        group: str = "aws",
        exclusive: bool = True,
    ) -> None:
        """Run `fn` in a thread worker owned by `node`; `on_done(result)` runs on the UI thread.

        A failure shows a modal with the one-line reason and Retry (which runs the call again);
        `on_error(reason)` lets the caller mark its own state too.
        """
        from textual.worker import get_current_worker

        def job() -> None:
            worker = get_current_worker()
            try:
                result = fn()
            except Exception as exc:
                reason, hint = one_line_reason(exc, what)
                if not worker.is_cancelled:
                    self.call_from_thread(failed, reason, hint)
                return
            if not worker.is_cancelled:
                self.call_from_thread(succeeded, result)

        def succeeded(result: Any) -> None:
            if node.is_attached:
                on_done(result)

        def failed(reason: str, hint: str | None) -> None:
            if not node.is_attached:
                return
            if on_error is not None:
                on_error(reason)
            self.show_error(what, reason, hint, retry=start)

        def start() -> None:
            if node.is_attached:
                node.run_worker(job, thread=True, group=group, exclusive=exclusive, name=what)

        start()

    def show_error(
        self,
        what: str,
        reason: str,
        hint: str | None = None,
        retry: Callable[[], None] | None = None,
    ) -> None:
        """The modal for a failed call; Retry re-runs it. Never stacks two: a failure while one
        is open becomes a notification."""
        from wizard.screens.modals import ErrorScreen

        if isinstance(self.screen, ErrorScreen):
            self.notify(f"{what} failed: {reason}", severity="error", timeout=8)
            return

        def closed(again: bool | None) -> None:
            if again and retry is not None:
                retry()

        self.push_screen(ErrorScreen(what, reason, hint), closed)

    # ------------------------------------------------------------------ identity / context
    def load_identity(self) -> None:
        """Who are we? Runs first, in a worker; the header and credentials step show it."""
        ctx = self.ctx

        def call() -> tuple[Any, dict[str, Any]]:
            real = ctx.factory() if isinstance(ctx, PendingContext) else ctx
            return real, real.describe()

        def done(result: tuple[Any, dict[str, Any]]) -> None:
            self.ctx = result[0]
            self.set_identity(result[1])

        def error(_reason: str) -> None:
            self.problem_steps.add("credentials")
            self._context_changed()

        self.aws_call(self.screen, call, done, what="Checking credentials", on_error=error)

    def set_identity(self, desc: dict[str, Any]) -> None:
        self.identity = desc
        self.problem_steps.discard("credentials")
        self._context_changed()

    def switch_context(self, *, profile: str | None, region: str) -> None:
        """Build a new AwsContext (another profile or region) in a worker, then check it."""
        old = self.ctx

        def build() -> tuple[Any, dict[str, Any]]:
            from wizard.aws import AwsContext

            if old.sandbox and profile is None and old.profile is None:  # --sandbox's own keys
                new = AwsContext(
                    region=region,
                    endpoint_url=old.endpoint_url,
                    sandbox=True,
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
            self.ctx, desc = result
            self.plan = None
            self.set_identity(desc)

        def error(_reason: str) -> None:
            self.problem_steps.add("credentials")
            self._context_changed()

        self.identity = None
        self._context_changed()
        self.aws_call(
            self.screen, build, done, what="Switching credentials", on_error=error, group="ctx"
        )

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

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def action_request_quit(self) -> None:
        """Quit at once, except mid-apply where it asks first."""
        if not self.applying:
            self.exit(return_code=0)
            return
        from wizard.screens.modals import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit(return_code=1)

        self.push_screen(
            ConfirmScreen(
                "Apply is still running. Quit anyway? Changes already made stay; "
                "run the wizard again to finish them.",
                yes="Quit",
                no="Keep going",
            ),
            answer,
        )

    def action_open_deploy(self) -> None:
        try:
            from wizard.screens.deploy import DeployScreen
        except ImportError:
            self.notify("Deploy is not available yet.", severity="warning")
            return
        self.push_screen(DeployScreen(self.ctx, self.project, self.project_dir))

    def action_open_diagnose(self) -> None:
        try:
            from wizard.screens.diagnose import DiagnoseScreen
        except ImportError:
            self.notify("Diagnose is not available yet.", severity="warning")
            return
        self.push_screen(
            DiagnoseScreen(
                self.ctx,
                application=self.project.application,
                deployment_group=self.project.deployment_group,
            )
        )


def create_app(
    ctx: AwsContext | Callable[[], AwsContext],
    project_dir: str | Path | None = ".",
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> WizardApp:
    """App factory: tests build the app with a sandbox context.

    `ctx` may also be a zero-argument callable that builds the AwsContext: the app then calls it
    in a worker after the first frame (fast start). `profile`, `region` and `endpoint_url` are
    what it was built from: shown meanwhile, and used when the user picks another profile or
    region after the factory failed.
    """
    return WizardApp(
        ctx, project_dir=project_dir, profile=profile, region=region, endpoint_url=endpoint_url
    )
