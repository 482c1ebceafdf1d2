"""Lists that keep up with fast keys."""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList, SelectionList


class _LaidOutPages:
    """Page keys do nothing until the list's lines are laid out.

    Textual's OptionList maps options to lines only once it has a size; a page-up/down that
    arrives before its first layout (keys typed while the step is still being mounted) looked the
    highlighted option up in an empty map and raised KeyError.
    """

    def _move_page(self, direction: Any) -> None:
        highlighted = self.highlighted  # type: ignore[attr-defined]
        if highlighted is not None and highlighted not in self._index_to_line:  # type: ignore[attr-defined]
            return
        super()._move_page(direction)  # type: ignore[misc]


class SafeOptionList(_LaidOutPages, OptionList):
    """An OptionList that keeps up with fast keys."""


class SafeSelectionList(_LaidOutPages, SelectionList):  # type: ignore[type-arg]
    """A SelectionList (checkboxes) that keeps up with fast keys."""
