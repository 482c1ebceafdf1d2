"""The step list beside the current step, with done / current / problem marks."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets.option_list import Option

from wizard.widgets.lists import SafeOptionList

MARKS = {"done": "✓", "current": "▶", "problem": "✗", "todo": "·"}


class StepList(SafeOptionList):
    """Selecting a step jumps to it (the screen decides whether that is allowed)."""

    def __init__(
        self,
        steps: Iterable[tuple[str, str]],
        current: str = "",
        done: set[str] | None = None,
        problems: set[str] | None = None,
        **kw,
    ) -> None:
        self._steps = list(steps)
        done, problems = done or set(), problems or set()
        super().__init__(
            *(
                self._option(sid, title, self._state(sid, current, done, problems))
                for sid, title in self._steps
            ),
            **kw,
        )
        self._marks = (current, frozenset(done), frozenset(problems))
        self.border_title = "Steps"

    @staticmethod
    def _state(step_id: str, current: str, done: set[str], problems: set[str]) -> str:
        if step_id in problems:
            return "problem"
        if step_id == current:
            return "current"
        return "done" if step_id in done else "todo"

    @staticmethod
    def _option(step_id: str, title: str, state: str) -> Option:
        mark = MARKS[state]
        # theme text colours: readable on the light theme too (plain "green" is not)
        style = {
            "done": "$text-success",
            "current": "bold",
            "problem": "$text-error",
            "todo": "dim",
        }[state]
        return Option(f"[{style}]{mark} {title}[/]", id=step_id)

    def set_marks(self, current: str, done: set[str], problems: set[str]) -> None:
        """Redraw the marks (only when they changed); the problem mark wins over done."""
        marks = (current, frozenset(done), frozenset(problems))
        if marks != self._marks:
            self._marks = marks
            for step_id, title in self._steps:
                state = self._state(step_id, current, done, problems)
                self.replace_option_prompt(step_id, self._option(step_id, title, state).prompt)
        index = self.get_option_index(current)
        if self.highlighted != index:
            self.highlighted = index
