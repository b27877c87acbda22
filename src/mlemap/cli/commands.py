"""What each ``mlemap`` command does, on top of the Python API."""

from __future__ import annotations

import sys

import numpy as np
from rich.console import Console

from .. import families as fam_module
from ..errors import DataError, MlemapError
from ..fitting import fit
from . import censoring
from . import data as cli_data
from .figures import check_plot_path, save_figure
from .output import show
from .spec import parse_fixed, parse_priors


def _console() -> Console:
    """The console of standard output (see :mod:`.output`)."""
    from .output import console

    return console()


def _progress(args, total: int, label: str):
    """A rich progress bar on standard error (nothing with --quiet or when stderr is not a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=Console(file=sys.stderr),
        transient=True,
        disable=getattr(args, "quiet", False) or not sys.stderr.isatty(),
    )


def _columns(available: list[str], spec: str | None) -> list[str]:
    """The columns named by ``--column`` (comma-separated), or the only column of the data."""
    if spec is None:
        if len(available) == 1:
            return available
        shown = ", ".join(repr(n) for n in available[:12]) + (", ..." if len(available) > 12 else "")
        raise DataError(f"The data have {len(available)} columns ({shown}); choose one with --column.")
    names = [c.strip() for c in spec.split(",") if c.strip()]
    if not names:
        raise DataError("The --column option is empty; name a column of the data.")
    for name in names:
        cli_data.check_column(available, name)
    return names


def _load(args, columns_spec: str | None, weights: str | None):
    """``({name: column}, names)``: the columns to fit (and the weights), missing values handled."""
    table = cli_data.read_columns(args.data)
    available = cli_data.column_names(table)
    names = _columns(available, columns_spec)
    if weights is not None:
        cli_data.check_column(available, weights, "--weights")
    used = names + ([weights] if weights is not None else [])
    if not isinstance(table, dict):  # a pandas table: it may have missing values
        frame = cli_data.handle_missing(table, used, args.missing)
        table = {name: frame[name] for name in used}
    return table, names


def _values(table, names: list[str], family_name: str):
    """The data for ``family_name``: labels as they are for a categorical family, numbers otherwise."""
    family = fam_module.resolve_family(family_name)
    if len(names) == 1 and getattr(family, "name", "") == "categorical":
        return np.asarray(table[names[0]])
    return _numbers(table, names)


def _numbers(table, names: list[str]) -> np.ndarray:
    """One column as a float vector, several as the columns of a float matrix."""
    cols = [np.asarray(cli_data.numeric(table[n], n), dtype=float) for n in names]
    return cols[0] if len(cols) == 1 else np.column_stack(cols)


def _weights(table, name: str | None):
    if name is None:
        return None
    return np.asarray(cli_data.numeric(table[name], name), dtype=float)


def _stream(args, spec: str | None, weights: str | None):
    """``(source, names)`` of DATA read chunk by chunk (see :mod:`.streaming`), the fitted column and the weights."""
    from .streaming import column_names, open_source, refuse_missing_drop

    refuse_missing_drop(args, f"mlemap {args.command}")
    available = column_names(args)
    names = _columns(available, spec)
    if len(names) != 1:
        raise DataError(f"mlemap {args.command} reads one column when it streams the data; give a single --column.")
    if weights is not None:
        cli_data.check_column(available, weights, "--weights")
    return open_source(args, names + ([weights] if weights is not None else [])), names


def cmd_fit(args) -> None:
    if args.group_by or args.out or args.exposure:
        from .groups import cmd_fit_groups

        return cmd_fit_groups(args)
    from .streaming import refuse_in_memory_options, wants_stream

    fam_module.resolve_family(args.family)  # an unknown family fails before the data are read
    check_plot_path(args.plot)
    if wants_stream(args):
        refuse_in_memory_options(args)
        x, names = _stream(args, args.column, args.weights)
        weights = args.weights
    elif censoring.wanted(args):
        table, x = censoring.load(args)
        names = [args.column] if args.column else []
        weights = _weights(table, args.weights)
    else:
        table, names = _load(args, args.column, args.weights)
        x = _values(table, names, args.family)
        weights = _weights(table, args.weights)
    result = fit(
        args.family,
        x,
        prior=parse_priors(args.prior),
        fixed=parse_fixed(args.fixed),
        weights=weights,
        method=args.method,
        truncation=censoring.truncation(args),
    )
    ci = "wald" if result.estimator == "MAP" else args.ci
    summary = result.summary(level=args.level, ci=ci)
    if args.plot:
        from ..plots import fit_figure

        save_figure(fit_figure(result, xlabel=",".join(names)), args.plot)
    if args.json:
        from .output import print_json

        payload = summary.to_dict()
        payload.update({"command": "fit", "data": args.data, "column": ",".join(names) if names else None})
        if censoring.wanted(args):
            payload.update({"event": args.event, "left": args.left, "right": args.right,
                            "truncation": [args.truncate_below, args.truncate_above]})
        print_json(payload)
        return
    show(summary)
    if args.plot:
        show(f"figure saved to {args.plot}")


def _whole_numbers(x) -> bool:
    """Whether the values (or a censored sample's finite bounds) are whole numbers of 0 or more."""
    values = np.concatenate([x.low[np.isfinite(x.low)], x.high[np.isfinite(x.high)]]) if hasattr(x, "low") else x
    return bool(np.all(values >= 0) and np.all(values == np.round(values)))


def cmd_compare(args) -> None:
    from .streaming import looks_like_counts, refuse_in_memory_options, wants_stream

    check_plot_path(args.plot)
    if wants_stream(args):
        refuse_in_memory_options(args)
        x, names = _stream(args, args.column, args.weights)
        weights = args.weights
        counts = lambda: looks_like_counts(x, names[0])  # noqa: E731 - one pass, only when asked
    elif censoring.wanted(args):
        table, x = censoring.load(args)
        names = [args.column] if args.column else []
        weights = _weights(table, args.weights)
        counts = lambda: _whole_numbers(x)  # noqa: E731
    else:
        table, names = _load(args, args.column, args.weights)
        if len(names) != 1:
            raise DataError("compare works on one column; give a single --column.")
        x = _numbers(table, names)
        weights = _weights(table, args.weights)
        counts = lambda: _whole_numbers(x)  # noqa: E731
    if args.families:
        candidates = [f.strip() for f in args.families.split(",") if f.strip()]
        for name in candidates:
            fam_module.resolve_family(name)
    elif args.all_discrete:
        candidates = "discrete"
    elif args.all_continuous:
        candidates = "continuous"
    else:  # whole numbers of 0 or more look like counts
        candidates = "discrete" if counts() else "continuous"
    from ..comparison import DEFAULT_CONTINUOUS, DEFAULT_DISCRETE, compare

    names_list = (
        list(DEFAULT_CONTINUOUS) if candidates == "continuous" else list(DEFAULT_DISCRETE) if candidates == "discrete" else candidates
    )
    if censoring.wanted(args) and candidates in ("continuous", "discrete"):
        from ..censoring.choice import accepts_censoring

        names_list = [n for n in names_list if accepts_censoring(n)]
    with _progress(args, len(names_list), "fitting") as progress:
        task = progress.add_task("fitting", total=len(names_list))

        def step(name: str) -> None:
            progress.update(task, description=f"fitting {name}", advance=1)

        comparison = compare(x, names_list, weights=weights, on_progress=step, truncation=censoring.truncation(args))
    if args.plot:
        from ..plots import comparison_figure

        save_figure(comparison_figure(comparison, xlabel=names[0] if names else None), args.plot)
    if args.json:
        from .output import print_json

        payload = comparison.to_dict()
        payload.update({"command": "compare", "data": args.data, "column": names[0] if names else None})
        print_json(payload)
        return
    show(comparison)
    if comparison.best is None:
        raise MlemapError("No family could be fitted to the data; see the statuses above.")
    if args.plot:
        show(f"figure saved to {args.plot}")
