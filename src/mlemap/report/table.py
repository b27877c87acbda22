"""Tables that fit the width they are printed at, without ever cutting a number.

A :class:`FittedTable` is a rich renderable that lays itself out when rich tells it the width:

* number columns (``Col(kind="number")``, the default) are never wrapped, folded or cut;
* text columns (``kind="text"``) wrap between words, down to their longest word;
* if the table is still too wide, optional columns (``drop > 0``) are left out, the highest
  ``drop`` first, and a line under the table names them;
* if it is still too wide, text columns fold inside words (down to :data:`FOLD_FLOOR` cells);
* text columns then share the room that is left, up to their natural widths.

Columns are separated by two spaces. At widths where even that does not fit, the lines are longer
than the width rather than any number being cut.

:class:`FactsGrid` lays the header facts of a summary out two (label, value) pairs per row, or one
per row when two do not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

GAP = 2
#: text columns fold no narrower than this
FOLD_FLOOR = 8


@dataclass(frozen=True)
class Col:
    header: str
    justify: str = "right"
    kind: str = "number"  # "number": never wrapped or cut; "text": may wrap between words
    drop: int = 0  # 0: always shown; when the table is too wide the highest ``drop`` goes first
    style: str | None = None


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _longest_word(text: str) -> int:
    return max((_cell_len(w) for w in text.split()), default=0)


class FittedTable:
    """``columns`` and ``rows`` (lists of strings), laid out for the width rich gives (module docstring)."""

    def __init__(self, columns: Sequence[Col], rows: Sequence[Sequence[str]]):
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]

    def _natural(self, j: int) -> int:
        return max([_cell_len(self.columns[j].header)] + [_cell_len(r[j]) for r in self.rows])

    def _minimal(self, j: int) -> int:
        col = self.columns[j]
        if col.kind != "text":
            return self._natural(j)
        return max([_longest_word(col.header)] + [_longest_word(r[j]) for r in self.rows] + [1])

    def layout(self, width: int) -> tuple[list[int], dict[int, int]]:
        """The kept column indices and their widths at ``width``."""
        keep = list(range(len(self.columns)))
        minimal = {j: self._minimal(j) for j in keep}

        def total(widths) -> int:
            return sum(widths[j] for j in keep) + GAP * (len(keep) - 1)

        while total(minimal) > width:
            optional = [j for j in keep if self.columns[j].drop > 0]
            if not optional:
                break
            keep.remove(max(optional, key=lambda j: (self.columns[j].drop, j)))
        widths = {j: minimal[j] for j in keep}
        folding = [j for j in keep if self.columns[j].kind == "text"]
        while total(widths) > width and folding:  # text folds inside its longest words, widest first
            j = max(folding, key=lambda i: (widths[i], -i))
            if widths[j] <= FOLD_FLOOR:
                break
            widths[j] -= 1
        short = {j: self._natural(j) - widths[j] for j in keep if self.columns[j].kind == "text"}
        for _ in range(max(0, width - total(widths))):  # the room left, one cell at a time to the
            j = max(short, key=lambda i: (short[i], -i), default=None)  # text column furthest from its
            if j is None or short[j] <= 0:  # natural width
                break
            widths[j] += 1
            short[j] -= 1
        return keep, widths

    def dropped(self, width: int) -> list[str]:
        """Headers of the columns left out at ``width``."""
        keep, _ = self.layout(width)
        return [c.header for j, c in enumerate(self.columns) if j not in keep]

    def table(self, width: int):
        """The rich table at ``width`` (wider when even its required columns do not fit)."""
        from rich import box
        from rich.table import Table
        from rich.text import Text

        keep, widths = self.layout(width)
        table = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False, collapse_padding=True)
        for j in keep:
            col = self.columns[j]
            table.add_column(col.header, justify=col.justify, style=col.style, width=widths[j],
                             no_wrap=col.kind != "text", overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(row[j]) for j in keep))
        return table

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = options.max_width
        keep, widths = self.layout(width)
        needed = sum(widths.values()) + GAP * (len(keep) - 1)
        # too narrow even for the required columns: longer lines, rather than numbers cut
        yield from console.render(self.table(width), options.update(width=max(width, needed)))
        left_out = self.dropped(width)
        if left_out:
            yield Text(f"(not shown at {width} columns: {', '.join(left_out)})")


class FactsGrid:
    """``(label, value)`` pairs, two per row when they fit the width, else one per row."""

    def __init__(self, pairs, label_style: str | None = None):
        self.pairs = list(pairs)
        self.label_style = label_style

    def _grid(self, per_row: int):
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, GAP))
        for k in range(2 * per_row):
            grid.add_column(style=self.label_style if k % 2 == 0 else None, no_wrap=k % 2 == 0)
        for i in range(0, len(self.pairs), per_row):
            chunk = self.pairs[i: i + per_row]
            chunk += [("", "")] * (per_row - len(chunk))
            grid.add_row(*(Text(c) for pair in chunk for c in pair))
        return grid

    def two_per_row_width(self) -> int:
        cols = [[], [], [], []]
        for i, (label, value) in enumerate(self.pairs):
            side = 2 * (i % 2)
            cols[side].append(_cell_len(label))
            cols[side + 1].append(_cell_len(value))
        return sum(max(c, default=0) for c in cols) + GAP * 3

    def __rich_console__(self, console, options):
        yield self._grid(2 if self.two_per_row_width() <= options.max_width else 1)
