"""Censored and truncated data on the command line: ``--event``, ``--left``/``--right``, ``--truncate-*``.

``mlemap fit data.csv --column time --event status --family weibull`` (status 1 = observed, 0 =
right-censored), ``mlemap fit data.csv --left low --right high --family lognormal`` (fitdistrplus'
convention: an empty ``low`` is left-censored, an empty ``high`` right-censored, equal bounds exact)
and ``--truncate-below 0`` / ``--truncate-above 100`` (the sample only holds values in that range).
The same options work for ``mlemap compare``. This module adds the options (without importing the
numerical stack) and turns them into the data and the truncation of the fit.
"""

from __future__ import annotations

import math


def add_options(parser) -> None:
    """The censoring and truncation options of ``fit`` and ``compare``."""
    group = parser.add_argument_group("censored and truncated data")
    group.add_argument("--event", metavar="COL", help="with --column: 1 = observed, 0 = right-censored (survival's coding)")
    group.add_argument("--left", metavar="COL", help="lower bounds of censored values (empty = left-censored); with --right")
    group.add_argument("--right", metavar="COL", help="upper bounds of censored values (empty = right-censored); with --left")
    group.add_argument("--truncate-below", dest="truncate_below", type=float, metavar="X",
                       help="the sample only holds values above X (left truncation)")
    group.add_argument("--truncate-above", dest="truncate_above", type=float, metavar="X",
                       help="the sample only holds values up to X (right truncation)")


def wanted(args) -> bool:
    """Whether the command line asks for censored or truncated data."""
    return any(getattr(args, k, None) is not None for k in ("event", "left", "right", "truncate_below", "truncate_above"))


def truncation(args):
    """``(low, high)`` for ``fit(truncation=...)``, or ``None``."""
    lo, hi = getattr(args, "truncate_below", None), getattr(args, "truncate_above", None)
    if lo is None and hi is None:
        return None
    return (lo, hi)


def load(args):
    """``(frame, data)``: the table and the values to fit (censored data, or plain values to truncate)."""
    from ..censoring import censored
    from ..errors import DataError
    from . import data as cli_data

    for flag, value in (("--truncate-below", args.truncate_below), ("--truncate-above", args.truncate_above)):
        if value is not None and math.isnan(value):
            raise DataError(f"{flag} is NaN; give a number.")
    if (args.left is None) != (args.right is None):
        raise DataError("--left and --right go together: give both columns (an empty cell is an open end).")
    column = getattr(args, "column", None)
    if args.left is not None:
        if column or args.event:
            raise DataError("Give either --column (with --event) or --left and --right, not both.")
        frame = cli_data.read_table(args.data)
        low = cli_data.numeric(cli_data.column(frame, args.left, "--left"), args.left)
        high = cli_data.numeric(cli_data.column(frame, args.right, "--right"), args.right)
        extra = [c for c in (getattr(args, "weights", None),) if c]
        for name in extra:
            cli_data.column(frame, name, "--weights")
        frame = cli_data.handle_missing(frame, extra, args.missing) if extra else frame
        low, high = low.loc[frame.index], high.loc[frame.index]
        return frame, censored(left=low.to_numpy(dtype=float), right=high.to_numpy(dtype=float))
    if not column:
        raise DataError("Name the values with --column (and --event), or give --left and --right.")
    if "," in column:
        raise DataError("Censored or truncated data come from one column; give a single --column.")
    frame = cli_data.read_table(args.data)
    cli_data.column(frame, column)
    for flag, name in (("--event", args.event), ("--weights", getattr(args, "weights", None))):
        if name:
            cli_data.column(frame, name, flag)
    used = [column] + [c for c in (args.event, getattr(args, "weights", None)) if c]
    frame = cli_data.handle_missing(frame, used, args.missing)
    values = cli_data.numeric(cli_data.column(frame, column), column).to_numpy(dtype=float)
    if args.event is None:
        return frame, values
    event = cli_data.numeric(cli_data.column(frame, args.event, "--event"), args.event).to_numpy(dtype=float)
    return frame, censored(values, event=event)
