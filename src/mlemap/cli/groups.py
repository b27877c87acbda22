"""``mlemap fit DATA --column C --group-by G --family F``: one fit per group, one row per group.

The table (each parameter's estimate, standard error and interval, the group's size, log-likelihood
and status; the raw estimate and its size first for empirical Bayes) goes to ``--out`` as CSV,
Parquet or JSON (by the file's suffix); the overview is printed, or with ``--json`` one JSON object
holding the fit's facts and the rows. ``--prior estimate`` learns the prior from the groups.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

from .. import families as fam_module
from ..errors import DataError, MethodError
from ..fitting import fit
from . import data as cli_data
from .spec import parse_fixed, parse_priors

OUT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl"}


def _out_format(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in OUT_SUFFIXES:
        raise DataError(
            f"--out '{path}' has an unknown suffix '{suffix}'; use .csv, .parquet or .json (.jsonl for one JSON "
            "object per line)."
        )
    return OUT_SUFFIXES[suffix]


def _prior(texts):
    if texts and len(texts) == 1 and texts[0].strip().lower() == "estimate":
        return "estimate"
    if texts and any(t.strip().lower() == "estimate" for t in texts):
        raise DataError("--prior estimate learns the prior from the groups; it cannot be combined with other --prior options.")
    return parse_priors(texts)


def cmd_fit_groups(args) -> None:
    fam_module.resolve_family(args.family)
    if not args.group_by:
        option = "--out" if args.out else "--exposure"
        raise DataError(f"{option} belongs to a fit per group; add --group-by COLUMN.")
    if args.ci != "wald":
        raise MethodError(f"--ci {args.ci} is not available with --group-by: the table holds Wald intervals (credible "
                          "intervals with a prior). Fit one group alone for a profile or bootstrap interval.")
    if args.plot:
        raise MethodError("--plot is not available with --group-by; use the Python API (g.plot(), eb.plot()).")
    fmt = _out_format(args.out) if args.out else None
    prior = _prior(args.prior)
    exposure_name = getattr(args, "exposure", None)
    if exposure_name and prior != "estimate":
        raise MethodError("--exposure applies to empirical Bayes for Poisson counts; add --prior estimate.")
    frame = cli_data.read_table(args.data)
    names = [c.strip() for c in (args.column or "").split(",") if c.strip()]
    if len(names) != 1:
        raise DataError("--group-by fits one column per group; give a single --column.")
    for name, option in ((names[0], "--column"), (args.group_by, "--group-by"), (args.weights, "--weights"),
                         (exposure_name, "--exposure")):
        if name:
            cli_data.column(frame, name, option)
    used = [c for c in (names[0], args.group_by, args.weights, exposure_name) if c]
    frame = cli_data.handle_missing(frame, used, args.missing)
    family = fam_module.resolve_family(args.family)
    column = frame[names[0]]
    x = column.to_numpy() if family.name == "categorical" else cli_data.numeric(column, names[0]).to_numpy(dtype=float)
    numbers = lambda n: None if not n else cli_data.numeric(frame[n], n).to_numpy(dtype=float)  # noqa: E731
    result = fit(args.family, x, groups=frame[args.group_by], prior=prior, fixed=parse_fixed(args.fixed),
                 weights=numbers(args.weights), method=args.method, exposure=numbers(exposure_name))
    table = result.to_wide(level=args.level)
    table.index.name = args.group_by
    if args.out:
        _write(table, args.out, fmt)
    if args.json:
        sys.stdout.write(json.dumps(_payload(args, result, table), allow_nan=False) + "\n")
        return
    sys.stdout.write(str(result.summary(level=args.level)) + "\n")
    if args.out:
        sys.stdout.write(f"{len(table):,} rows written to {args.out}\n")


def _write(table, path: str, fmt: str) -> None:
    out = table.reset_index()
    try:
        if fmt == "csv":
            out.to_csv(path, index=False)
        elif fmt == "parquet":
            out.to_parquet(path, index=False)
        else:
            out.to_json(path, orient="records", lines=fmt == "jsonl", double_precision=15, indent=None)
    except OSError as exc:
        raise DataError(f"Could not write --out '{path}': {exc.strerror or exc}.") from None


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _payload(args, result, table) -> dict:
    rows = [{k: _clean(v) for k, v in row.items()} for row in json.loads(table.reset_index().to_json(orient="records"))]
    payload = {
        "command": "fit", "data": args.data, "column": args.column, "group_by": args.group_by,
        "family": result.family_name, "estimator": result.estimator, "method": result.method,
        "n_groups": len(result), "converged": int(result.converged.sum()),
        "warnings": list(result.warnings), "groups": rows,
    }
    if hasattr(result, "hyperparameters"):
        payload["prior"] = {k: {c: _clean(v) for c, v in row.items()} for k, row in result.hyperparameters.iterrows()}
        payload["marginal_loglik"] = _clean(result.marginal_loglik)
    return payload
