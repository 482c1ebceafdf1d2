"""The step list beside the current step, with done / current / problem marks."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import OptionList
from textual.widgets.option_list import Option

MARKS = {"done": "✓", "current": "▶", "problem": "✗", "todo": "·"}


class StepList(OptionList):
    """Selecting a step jumps to it (the screen decides whether that is allowed)."""

    def __init__(self, steps: Iterable[tuple[str, str]], **kw) -> None:
        self._steps = list(steps)
        super().__init__(*(self._option(sid, title, "todo") for sid, title in self._steps), **kw)
        self.border_title = "Steps"

    @staticmethod
    def _option(step_id: str, title: str, state: str) -> Option:
        mark = MARKS[state]
        style = {"done": "green", "current": "bold", "problem": "red", "todo": "dim"}[state]
        return Option(f"[{style}]{mark} {title}[/]", id=step_id)

    def set_marks(self, current: str, done: set[str], problems: set[str]) -> None:
        """Redraw every mark; the problem mark wins over done."""
        for step_id, title in self._steps:
            if step_id in problems:
                state = "problem"
            elif step_id == current:
                state = "current"
            elif step_id in done:
                state = "done"
            else:
                state = "todo"
            self.replace_option_prompt(step_id, self._option(step_id, title, state).prompt)
        self.highlighted = self.get_option_index(current)
