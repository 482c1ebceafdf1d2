"""The plan as a table: one row per change, coloured by action, with an optional progress column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "adopt": "cyan",
    "noop": "dim",
    "conflict": "bold red",
}
STATE_TEXT = {
    "pending": ("·", "dim"),
    "start": ("… running", "yellow"),
    "done": ("✓ done", "green"),
    "failed": ("✗ failed", "bold red"),
    "skipped": ("– skipped", "dim"),
}
# Rich colour names → the theme's text colours (DataTable cells are Rich text, which cannot use
# theme variables; bright yellow or green is unreadable on the light theme)
THEME_COLOURS = {
    "green": "text-success",
    "yellow": "text-warning",
    "red": "text-error",
    "cyan": "text-accent",
    "blue": "text-primary",
    "magenta": "text-secondary",
}


def themed(widget: Any, style: str) -> str:
    """`style` with its colour names replaced by the current theme's readable text colours."""
    try:
        variables = widget.app.get_css_variables()
    except Exception:  # not mounted yet: keep the plain colours
        return style
    return " ".join(
        variables.get(THEME_COLOURS.get(word, ""), word) if word in THEME_COLOURS else word
        for word in style.split()
    )


class PlanTable(DataTable):
    """Rows keyed by their position in the plan so progress can find them."""

    def __init__(self, *, progress: bool = False, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.progress = progress
        self._actions: list[str] = []
        self._states: dict[int, str] = {}

    def on_mount(self) -> None:
        if self.progress:
            self.add_column("Status", key="status", width=11)
        self.add_column("Action", key="action", width=8)
        self.add_column("Resource", key="resource")
        self.add_column("Name", key="name")
        self.add_column("What", key="description")
        self.app.theme_changed_signal.subscribe(self, self._retheme)

    def set_changes(self, changes: Sequence[Any]) -> None:
        """Fill from Change objects (anything with action/resource/name/description)."""
        self.clear()
        self._actions = [c.action for c in changes]
        self._states = {}
        for i, c in enumerate(changes):
            row: list[Any] = []
            if self.progress:
                row.append(self._state_text("pending"))
            row += [self._action_text(c.action), c.resource, c.name, c.description]
            self.add_row(*row, key=str(i))

    def _action_text(self, action: str) -> Text:
        return Text(action, style=themed(self, ACTION_STYLE.get(action, "")))

    def _state_text(self, state: str) -> Text:
        text, style = STATE_TEXT.get(state, (state, ""))
        return Text(text, style=themed(self, style))

    def _retheme(self, _theme: Any = None) -> None:
        """Recolour the rows for the new theme (the cells hold fixed colours)."""
        for i, action in enumerate(self._actions):
            self.update_cell(str(i), "action", self._action_text(action))
            if self.progress:
                self.update_cell(str(i), "status", self._state_text(self._states.get(i, "pending")))

    def set_state(self, index: int, state: str) -> None:
        """Update the progress column of one row ("start", "done", "failed", "skipped")."""
        if self.progress:
            self._states[index] = state
            self.update_cell(str(index), "status", self._state_text(state))
            if state == "start":
                self.move_cursor(row=self.get_row_index(str(index)))


ACTION_VARIABLE = {
    "create": "$text-success",
    "update": "$text-warning",
    "adopt": "$text-accent",
    "noop": "dim",
    "conflict": "bold $text-error",
}


class PlanSummary(Static):
    """One step's share of the plan as wrapped lines, each the action and its whole sentence.

    The steps' panes are narrow at 80 columns: in a table the description (the part a first-timer
    needs) was cut off after a few characters. The Review step keeps the full table.
    """

    DEFAULT_CSS = "PlanSummary { height: auto; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", **kw)
        self.changes: list[Any] = []

    def set_changes(self, changes: Sequence[Any]) -> None:
        """Show Change objects (anything with action and description)."""
        from textual.content import Content

        self.changes = list(changes)
        lines = []
        for c in self.changes:
            style = ACTION_VARIABLE.get(c.action, "")
            text = str(c.description)
            n = len(c.action)
            if text.lower().startswith(c.action + " "):  # "create the bucket …": colour the verb
                lines.append(Content.assemble((text[:n], style), text[n:]))
            else:
                lines.append(Content.assemble((c.action, style), ": ", text))
        self.update(Content("\n").join(lines))
