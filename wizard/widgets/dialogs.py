"""Small modal dialogs shared by every screen: confirm a question, report a failed AWS call with
Retry, or show something to read once."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Yes / No; dismisses with True for yes. Escape means no."""

    BINDINGS = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes", show=False)]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no_label, id="no")
                yield Button(self.yes_label, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class ErrorScreen(ModalScreen[bool]):
    """A failed call in one line (and a hint); dismisses with True when the user picks Retry."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("r", "retry", "Retry")]

    def __init__(self, what: str, reason: str, hint: str | None = None) -> None:
        super().__init__()
        self.what = what
        self.reason = reason
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -error"):
            yield Static(f"[b]{self.what} failed[/b]", classes="dialog-title")
            yield Static(self.reason, id="error-reason", classes="dialog-text", markup=False)
            if self.hint:
                yield Static(self.hint, classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close")
                yield Button("Retry", id="retry", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#retry", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "retry")

    def action_retry(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


class NoticeScreen(ModalScreen[None]):
    """Something to read once (e.g. a new access key): text and a Close button."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -notice"):
            yield Static(f"[b]{self.title_text}[/b]", classes="dialog-title")
            yield Static(self.body, id="notice-body", classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
