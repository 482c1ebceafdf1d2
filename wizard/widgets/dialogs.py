"""Small modal dialogs shared by every screen: confirm a question, report a failed AWS call with
Retry, or show something to read once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class DismissOnce:
    """Mixin for a Screen: dismissed at most once, and only while it is the screen on top.

    Keys arrive faster than a screen closes: escape pressed twice, or enter then escape, reach
    the screen again after its first dismiss, and Textual's `dismiss` would then pop the screen
    below it (or fail with ScreenStackError when that was the last one).
    """

    _dismissed = False

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if self._dismissed or self.app.screen is not self:  # type: ignore[attr-defined]
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)  # type: ignore[misc]


class SafeCommandPalette(DismissOnce, CommandPalette):
    """Textual's command palette, dismissed once however fast the keys come, and paged only once
    its list of commands is laid out (see `wizard.widgets.lists`)."""

    def _action_command_list(self, action: str) -> None:
        from textual.command import CommandList

        commands = self.query_one(CommandList)
        highlighted = commands.highlighted
        if action.startswith("page_") and (
            highlighted is not None and highlighted not in commands._index_to_line
        ):
            return
        super()._action_command_list(action)


class ConfirmScreen(DismissOnce, ModalScreen[bool]):
    """Yes / No; dismisses with True for yes. Escape means no.

    `follow`: a question about something that may change while it is open (quit while an apply
    runs): called every `FOLLOW_SECONDS`, its text replaces the question when it differs, so
    the dialog never goes on saying that work is running after it has ended.
    """

    BINDINGS = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes", show=False)]
    FOLLOW_SECONDS = 0.25

    def __init__(
        self,
        question: str,
        *,
        yes: str = "Yes",
        no: str = "No",
        follow: Callable[[], str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.question = question
        self.yes_label = yes
        self.no_label = no
        self.follow = follow

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no_label, id="no")
                yield Button(self.yes_label, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        if self.follow is not None:
            self.set_interval(self.FOLLOW_SECONDS, self.check_question)

    def check_question(self) -> None:
        """Show the question as things stand now (see `follow`)."""
        if self.follow is None or self._dismissed:
            return
        question = self.follow()
        if question != self.question:
            self.question = question
            self.query_one(".dialog-text", Static).update(question)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class ErrorScreen(DismissOnce, ModalScreen[bool]):
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


class NoticeScreen(DismissOnce, ModalScreen[None]):
    """Something to read once (e.g. a new access key): text, values and commands shown whole
    (one line each, never wrapped; `c` copies a block), more text, and a Close button."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(
        self,
        title: str,
        body: str,
        *,
        values: Sequence[str] = (),
        middle: str = "",
        commands: Sequence[str] = (),
        after: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.values = list(values)
        self.middle = middle
        self.commands = list(commands)
        self.after = after

    def compose(self) -> ComposeResult:
        from wizard.widgets.command_block import CommandBlock

        with Vertical(classes="dialog -notice"):
            yield Static(f"[b]{self.title_text}[/b]", classes="dialog-title")
            yield Static(self.body, id="notice-body", classes="dialog-text", markup=False)
            yield CommandBlock(self.values, prompt="", id="notice-values")
            if self.middle:
                yield Static(self.middle, id="notice-middle", classes="dialog-text", markup=False)
            yield CommandBlock(self.commands, id="notice-commands")
            if self.after:
                yield Static(self.after, id="notice-after", classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
