"""FittedTable and FactsGrid: laid out for the width they are printed at, numbers never cut."""

import pytest
from rich.cells import cell_len

from mlemap.report.format import plain_text
from mlemap.report.table import GAP, Col, FactsGrid, FittedTable

COLUMNS = [Col("name", "left", "text"), Col("estimate"), Col("interval", "center"), Col("BIC", drop=1),
           Col("KS", drop=2), Col("status", "left", "text")]
ROWS = [
    ["north:a_rather_long_feature_name", "-0.185546", "[-0.558413, 0.187321]", "1658.729", "0.0388", "ok"],
    ["x2", "2.16805e-12", "[-1.2e-11, 1.7e-11]", "1664.106", "0.0424", "reference (fixed at 0)"],
]


def _render(width: int) -> list[str]:
    return plain_text(FittedTable(COLUMNS, ROWS), width=width).splitlines()


@pytest.mark.parametrize("width", range(30, 141, 5))
def test_every_number_shown_is_whole_and_lines_fit_when_they_can(width):
    lines = _render(width)
    table = FittedTable(COLUMNS, ROWS)
    kept = [j for j, c in enumerate(COLUMNS) if c.header not in table.dropped(width)]
    for row in ROWS:
        for j in kept:
            if COLUMNS[j].kind == "number":
                assert any(row[j] in line for line in lines), (row[j], lines)
    required = sum(max(cell_len(r[j]) for r in ROWS) for j in (1, 2)) + 3 * 8 + 3 * GAP
    if width >= required:
        assert max(cell_len(line) for line in lines) <= width


def test_optional_columns_go_highest_drop_first_and_are_named():
    table = FittedTable(COLUMNS, ROWS)
    assert table.dropped(200) == []
    widths = range(40, 200)
    dropped = [tuple(table.dropped(w)) for w in widths]
    assert ("KS",) in dropped and ("BIC",) not in dropped  # KS (drop=2) always goes before BIC (drop=1)
    narrow = "\n".join(_render(60))
    assert "(not shown at 60 columns: BIC, KS)" in narrow


def test_text_wraps_between_words_before_columns_are_dropped():
    table = FittedTable(COLUMNS, ROWS)
    natural = sum(table._natural(j) for j in range(len(COLUMNS))) + GAP * (len(COLUMNS) - 1)
    assert table.dropped(natural - 10) == []  # "reference (fixed at 0)" wraps instead
    assert any(line.rstrip().endswith("reference") for line in _render(natural - 10))


def test_facts_grid_goes_to_one_pair_per_row_when_two_do_not_fit():
    pairs = [("Family", "gamma"), ("Estimator", "MLE"), ("Method", "numerical (profile-newton, 5 iterations)"),
             ("Observations", "300")]
    wide = plain_text(FactsGrid(pairs), width=120).splitlines()
    narrow = plain_text(FactsGrid(pairs), width=60).splitlines()
    assert len(wide) == 2 and len(narrow) == 4
    assert all(cell_len(line) <= 60 for line in narrow)
