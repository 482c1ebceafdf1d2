"""Shell commands shown whole: one line each, never wrapped, scrolled sideways when too wide,
and copied to the clipboard with one key.

A command wrapped by the terminal's width (at a space, or worse mid-word in a long path) is a
broken command once pasted. Here each command is one line; a line wider than the screen scrolls
horizontally (focus the block, then ← →), and `c` copies every command of the block, joined by
newlines, through the terminal (OSC 52; most terminals accept it).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.widgets import Static


class CommandBlock(ScrollableContainer, can_focus=True):
    """Commands, one per line, no wrapping; `c` copies them all."""

    DEFAULT_CSS = """
    CommandBlock {
        height: auto;
        max-height: 12;
        overflow-x: auto;
        overflow-y: auto;
        background: $boost;
        scrollbar-size-horizontal: 1;
    }
    CommandBlock:focus {
        background-tint: $foreground 5%;
    }
    CommandBlock > Static {
        width: auto;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """
    BINDINGS = [
        Binding("c", "copy", "Copy commands"),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    def __init__(
        self, commands: Sequence[str] = (), *, prompt: str = "$ ", style: str = "", **kw: object
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.commands = list(commands)
        self.prompt = prompt
        self.line_style = style
        self.display = bool(self.commands)

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(self._text(), markup=False)

    def _text(self) -> Text:
        text = Text(no_wrap=True, overflow="ignore")
        for i, command in enumerate(self.commands):
            if i:
                text.append("\n")
            text.append(self.prompt, style="dim")
            text.append(command, style=self.line_style)
        return text

    def set_commands(self, commands: Sequence[str], style: str | None = None) -> None:
        """Show other commands (an empty list hides the block)."""
        self.commands = list(commands)
        if style is not None:
            self.line_style = style
        self.display = bool(self.commands)
        if self.is_mounted:
            self.query_one(Static).update(self._text())
            self.scroll_to(x=0, animate=False)

    def copy_text(self) -> str:
        """What `c` puts on the clipboard: the commands, one per line, without the prompt."""
        return "\n".join(self.commands)

    def action_copy(self) -> None:
        if not self.commands:
            return
        self.app.copy_to_clipboard(self.copy_text())
        n = len(self.commands)
        self.notify(
            f"Copied {n} command{'s' * (n != 1)} to the clipboard.",
            title="Copied",
            timeout=3,
        )
