"""The Textual application. The only layer (with screens/ and widgets/) that imports Textual."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

if TYPE_CHECKING:
    from wizard.aws import AwsContext


class WizardApp(App[int]):
    """Walks a first-timer from credentials to a deployable CodeDeploy setup."""

    CSS_PATH = "app.tcss"
    TITLE = "codedeploy-wizard"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, ctx: AwsContext, project_dir: str | Path = ".") -> None:
        super().__init__()
        self.ctx = ctx
        self.project_dir = Path(project_dir)

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="identity"):
            yield Static("Checking credentials…", id="who")
        yield Footer()

    def on_mount(self) -> None:
        if self.ctx.sandbox:
            self.sub_title = "SANDBOX"
        self.run_worker(self._load_identity, thread=True, exclusive=True)

    def _load_identity(self) -> None:
        from wizard.aws import explain

        try:
            desc = self.ctx.describe()
        except Exception as exc:
            mapped = explain(exc)
            self.call_from_thread(self._show, f"[b]Credentials problem:[/b] {mapped or exc}")
            return
        badge = (
            "[reverse] SANDBOX [/reverse] emulated AWS, nothing real is touched\n\n"
            if (desc["sandbox"])
            else ""
        )
        self.call_from_thread(
            self._show,
            f"{badge}Account  {desc['account']}\nCaller   {desc['arn']}\n"
            f"Region   {desc['region']}\nEndpoint {desc['endpoint'] or 'AWS'}",
        )

    def _show(self, text: str) -> None:
        self.query_one("#who", Static).update(text)


def create_app(ctx: AwsContext, project_dir: str | Path = ".") -> WizardApp:
    """App factory: tests build the app with a sandbox context."""
    return WizardApp(ctx, project_dir=project_dir)
