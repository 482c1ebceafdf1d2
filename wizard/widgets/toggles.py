"""Radio buttons and checkboxes that read the same without colour.

Textual draws a toggle as `▐X▌` / `▐●▌` whether it is on or off; only the colour of the inner mark
changes, so under NO_COLOR or on a monochrome terminal a chosen and an unchosen option looked the
same. Here the mark itself says it: `▐●▌` chosen, `▐ ▌` not (radio); `▐X▌` ticked, `▐ ▌` not.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.style import Style
from textual.widgets import Checkbox, RadioButton, RadioSet
from textual.widgets.option_list import OptionDoesNotExist

from wizard.widgets.lists import SafeSelectionList


def _unmarked(toggle: RadioButton | Checkbox) -> Content:
    """The `▐ ▌` of an unchosen toggle: Textual's own styles, no inner mark."""
    button_style = toggle.get_visual_style("toggle--button")
    side_style = Style(foreground=button_style.background, background=toggle.background_colors[1])
    return Content.assemble(
        (toggle.BUTTON_LEFT, side_style), (" ", button_style), (toggle.BUTTON_RIGHT, side_style)
    )


class MarkedRadioButton(RadioButton):
    """A RadioButton whose mark is only there when chosen."""

    @property
    def _button(self) -> Content:
        return super()._button if self.value else _unmarked(self)


class ChoiceSet(RadioSet):
    """A RadioSet whose keyboard cursor is on the pressed button.

    Textual's RadioSet puts its cursor on the first button when it mounts, whichever is
    pressed, so with the second one chosen (read from the project file) Up wrapped to the last
    button instead of the first. The cursor also follows a button pressed by the program
    (`press`), before the set has handled that button's message.
    """

    def _on_mount(self, _event: Any) -> None:
        # Textual calls RadioSet's own _on_mount after this one (handlers run along the MRO):
        # move the cursor once that has picked the first button and noted the pressed one
        self.call_next(self._cursor_to_pressed)

    def _cursor_to_pressed(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    def press(self, button_id: str) -> None:
        """Choose the button `button_id` as if the user had (RadioSet.Changed follows)."""
        button = self.query_one(f"#{button_id}", RadioButton)
        button.value = True
        self._selected = list(self.query(RadioButton)).index(button)


class MarkedCheckbox(Checkbox):
    """A Checkbox whose X is only there when ticked."""

    @property
    def _button(self) -> Content:
        return super()._button if self.value else _unmarked(self)


class MarkedSelectionList(SafeSelectionList):
    """A SelectionList (checkboxes) whose X is only there for the selected options."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        index = int(self.scroll_offset.y) + y
        try:
            option = self.get_option_at_index(index)  # one line per option, as Textual assumes
        except OptionDoesNotExist:
            return strip
        if getattr(option, "value", None) in self._selected:
            return strip
        segments = list(strip)
        if len(segments) > 1 and segments[1].text.strip():
            inner = segments[1]
            segments[1] = Segment(" " * len(inner.text), inner.style, inner.control)
            return Strip(segments, strip.cell_length)
        return strip
