"""The plan as a table: one row per change, coloured by action, with an optional progress column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

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


class PlanTable(DataTable):
    """Rows keyed by their position in the plan so progress can find them."""

    def __init__(self, *, progress: bool = False, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.progress = progress

    def on_mount(self) -> None:
        if self.progress:
            self.add_column("Status", key="status", width=11)
        self.add_column("Action", key="action", width=8)
        self.add_column("Resource", key="resource")
        self.add_column("Name", key="name")
        self.add_column("What", key="description")

    def set_changes(self, changes: Sequence[Any]) -> None:
        """Fill from Change objects (anything with action/resource/name/description)."""
        self.clear()
        for i, c in enumerate(changes):
            row: list[Any] = []
            if self.progress:
                row.append(self._state_text("pending"))
            row += [
                Text(c.action, style=ACTION_STYLE.get(c.action, "")),
                c.resource,
                c.name,
                c.description,
            ]
            self.add_row(*row, key=str(i))

    @staticmethod
    def _state_text(state: str) -> Text:
        text, style = STATE_TEXT.get(state, (state, ""))
        return Text(text, style=style)

    def set_state(self, index: int, state: str) -> None:
        """Update the progress column of one row ("start", "done", "failed", "skipped")."""
        if self.progress:
            self.update_cell(str(index), "status", self._state_text(state))
            if state == "start":
                self.move_cursor(row=self.get_row_index(str(index)))
