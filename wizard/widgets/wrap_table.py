"""A DataTable that gives its names the room they need and wraps one column (the prose).

Textual's DataTable sizes every column to its widest cell or cuts it at a fixed width; on an
80-column terminal either the names or the results were cut (`repo-codedeploy-serv`, a Result
column seven characters wide). Here one column, the one holding sentences, takes whatever width
the others leave and wraps; rows grow to fit, and are measured again when the table is resized or
a cell of that column changes.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class WrapTable(DataTable):
    """`wrap`: the key of the column that takes the remaining width and wraps (min `min_wrap`).
    `caps`: other columns that may take at most this share of the width and wrap beyond it
    (titles that are sentences, not identifiers).

    Add rows with `height=None` (auto height) for the wrapping to show.
    """

    def __init__(
        self,
        *,
        wrap: str,
        min_wrap: int = 20,
        caps: dict[str, float] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.wrap_key = ColumnKey(wrap)
        self.min_wrap = min_wrap
        self.caps = {ColumnKey(k): v for k, v in (caps or {}).items()}
        self._fitted: tuple[int, ...] = ()

    def on_resize(self, _event: events.Resize) -> None:
        self.fit()

    async def _on_idle(self, event: events.Idle) -> None:
        await super()._on_idle(event)
        self.fit()  # the other columns may have grown with new content

    def fit(self, *, force: bool = False) -> None:
        """Give the wrap column the width the others leave, and measure every row again."""
        column = self.columns.get(self.wrap_key)
        width = self.scrollable_content_region.width
        if column is None or width <= 0:
            return
        for key, share in self.caps.items():
            capped = self.columns.get(key)
            if capped is not None:
                cap = max(8, int(width * share))
                capped.auto_width = capped.content_width <= cap
                capped.width = min(capped.content_width, cap)
        others = sum(
            c.get_render_width(self) for c in self.ordered_columns if c.key != self.wrap_key
        )
        wanted = max(self.min_wrap, width - others - 2 * self.cell_padding)
        fitted = (width, wanted, *(c.get_render_width(self) for c in self.ordered_columns))
        if not force and fitted == self._fitted:
            return
        self._fitted = fitted
        column.width = wanted
        column.auto_width = False
        self._measure_rows(list(self.rows))

    def _measure_rows(self, keys: list[RowKey]) -> None:
        # DataTable measures auto-height rows only when they are added, and caches rendered
        # cells without their width; these private fields are how it schedules a measure
        # (Textual 8, pinned in the test extra): render and measure them again
        self._update_count += 1
        self._clear_caches()
        for key in keys:
            row = self.rows.get(key)
            if row is not None and row.auto_height:
                row.height = 0  # a cell is wrapped only while its row is not one line high
        self._new_rows.update(keys)
        self._require_update_dimensions = True
        self.refresh()
        self.check_idle()

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        column = column_key if isinstance(column_key, ColumnKey) else ColumnKey(column_key)
        if column == self.wrap_key:
            self._measure_rows([row_key if isinstance(row_key, RowKey) else RowKey(row_key)])
