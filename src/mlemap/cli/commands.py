"""What each ``mlemap`` command does, on top of the Python API."""

from __future__ import annotations

import sys

import numpy as np
from rich.console import Console

from .. import families as fam_module
from ..comparison import compare
from ..errors import DataError, MlemapError
from ..fitting import fit
from . import data as cli_data
from .spec import parse_fixed, parse_priors


def _console() -> Console:
    # a terminal sets its own width; piped output gets room for the widest table
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 130)


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


def _columns(frame, spec: str) -> list[str]:
    names = [c.strip() for c in spec.split(",") if c.strip()]
    if not names:
        raise DataError("The --column option is empty; name a column of the data.")
    for name in names:
        cli_data.column(frame, name)
    return names


def _values(frame, names: list[str], family_name: str):
    family = fam_module.resolve_family(family_name)
    if len(names) == 1 and getattr(family, "name", "") == "categorical":
        return frame[names[0]].to_numpy()
    cols = [cli_data.numeric(frame[n], n) for n in names]
    if len(cols) == 1:
        return cols[0].to_numpy(dtype=float)
    return np.column_stack([c.to_numpy(dtype=float) for c in cols])


def _weights(frame, name: str | None):
    if name is None:
        return None
    return cli_data.numeric(cli_data.column(frame, name, "--weights"), name).to_numpy(dtype=float)


def _load(args, columns_spec: str, extra: list[str]):
    frame = cli_data.read_table(args.data)
    names = _columns(frame, columns_spec)
    used = names + [c for c in extra if c]
    frame = cli_data.handle_missing(frame, used, args.missing)
    return frame, names


def cmd_fit(args) -> None:
    if args.group_by or args.out or args.exposure:
        from .groups import cmd_fit_groups

        return cmd_fit_groups(args)
    fam_module.resolve_family(args.family)  # an unknown family fails before the data are read
    frame, names = _load(args, args.column, [args.weights])
    x = _values(frame, names, args.family)
    result = fit(
        args.family,
        x,
        prior=parse_priors(args.prior),
        fixed=parse_fixed(args.fixed),
        weights=_weights(frame, args.weights),
        method=args.method,
    )
    ci = "wald" if result.estimator == "MAP" else args.ci
    summary = result.summary(level=args.level, ci=ci)
    if args.plot:
        from ..plots import fit_figure

        fit_figure(result, args.plot)
    if args.json:
        from .main import print_json

        payload = summary.to_dict()
        payload.update({"command": "fit", "data": args.data, "column": args.column})
        print_json(payload)
        return
    _console().print(summary)
    if args.plot:
        _console().print(f"figure saved to {args.plot}")


def cmd_compare(args) -> None:
    frame, names = _load(args, args.column, [args.weights])
    if len(names) != 1:
        raise DataError("compare works on one column; give a single --column.")
    x = cli_data.numeric(frame[names[0]], names[0]).to_numpy(dtype=float)
    if args.families:
        candidates = [f.strip() for f in args.families.split(",") if f.strip()]
        for name in candidates:
            fam_module.resolve_family(name)
    elif args.all_discrete:
        candidates = "discrete"
    elif args.all_continuous:
        candidates = "continuous"
    else:  # whole numbers of 0 or more look like counts
        candidates = "discrete" if bool(np.all(x >= 0) and np.all(x == np.round(x))) else "continuous"
    from ..comparison import DEFAULT_CONTINUOUS, DEFAULT_DISCRETE

    names_list = (
        list(DEFAULT_CONTINUOUS) if candidates == "continuous" else list(DEFAULT_DISCRETE) if candidates == "discrete" else candidates
    )
    with _progress(args, len(names_list), "fitting") as progress:
        task = progress.add_task("fitting", total=len(names_list))

        def step(name: str) -> None:
            progress.update(task, description=f"fitting {name}", advance=1)

        comparison = compare(x, names_list, weights=_weights(frame, args.weights), on_progress=step)
    if args.plot:
        from ..plots import comparison_figure

        comparison_figure(comparison, args.plot)
    if args.json:
        from .main import print_json

        payload = comparison.to_dict()
        payload.update({"command": "compare", "data": args.data, "column": args.column})
        print_json(payload)
        return
    _console().print(comparison)
    if comparison.best is None:
        raise MlemapError("No family could be fitted to the data; see the statuses above.")
    if args.plot:
        _console().print(f"figure saved to {args.plot}")


def cmd_families(args) -> None:
    rows = []
    for cls in fam_module.FAMILIES:
        fam = cls()
        rows.append(
            {
                "name": cls.name,
                "aliases": list(cls.aliases),
                "parameters": list(cls.parameters),
                "known_constants": list(cls.options + cls.optional_options),
                "support": fam.support_description,
                "discrete": cls.discrete,
            }
        )
    if args.json:
        from .main import print_json

        print_json({"families": rows})
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    for col in ("family", "parameters", "support", "also called"):
        table.add_column(col)
    for r in rows:
        params = ", ".join(r["parameters"]) + ("" if not r["known_constants"] else f" (known: {', '.join(r['known_constants'])})")
        table.add_row(*(Text(v) for v in (r["name"], params, r["support"], ", ".join(r["aliases"]))))
    _console().print(table)
