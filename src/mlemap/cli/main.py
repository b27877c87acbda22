"""The ``mlemap`` command line.

Bad input never shows a traceback: every error prints one line on standard error and exits with
status 2 (``--debug`` shows the traceback instead). ``--json`` prints one JSON object on standard
output and nothing else; progress goes to standard error and ``--quiet`` turns it off.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Callable

from .. import __version__
from ..errors import MlemapError
from .output import DATA_HELP
from . import censoring

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


#: one help text for the options that several commands share
SHARED_HELP = {
    "--json": "print one JSON object instead of tables",
    "--quiet": "no progress display",
    "--debug": "show the traceback of errors",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2; shared options get their help text here."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        sys.stderr.write(f"mlemap: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_BAD_INPUT)

    def add_argument(self, *names, **options):  # noqa: D102 - argparse hook
        if options.get("help") is None and names and names[0] in SHARED_HELP:
            options["help"] = SHARED_HELP[names[0]]
        return super().add_argument(*names, **options)


def _common(p: argparse.ArgumentParser, json_output: bool = True, streaming: bool = False) -> None:
    p.add_argument("--missing", choices=("error", "drop"), default="error",
                   help="rows with missing values in the columns used: stop with an error (default) or drop them")
    if streaming:
        from .streaming import add_options

        add_options(p)
    if json_output:
        p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--debug", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlemap",
        description="Maximum-likelihood and MAP estimation from the command line. "
        "DATA is a CSV, TSV, Parquet or JSON-lines file, '-' for CSV on standard input, "
        "or @name for a shipped data set (@waiting_times, @coin_flips, @classification, @claims); "
        "fit, compare, regress and path also read globs and folders of Parquet/CSV files of any size, "
        "chunk by chunk (--stream), on a Dask cluster with --scheduler ADDRESS.",
    )
    parser.add_argument("--version", action="version", version=f"mlemap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    fit = sub.add_parser("fit", help="fit one family to one column: estimates, uncertainty, fit statistics",
                         description="Fit a family to a column by maximum likelihood, or MAP with --prior.")
    fit.add_argument("data", metavar="DATA", help=DATA_HELP)
    fit.add_argument("--column", help="the column to fit (comma-separated columns for multivariate families); "
                     "optional when the data have one column")
    fit.add_argument("--family", required=True, help="family name, e.g. normal, gamma, poisson (see mlemap families)")
    fit.add_argument("--prior", action="append", help="e.g. 'concentration=gamma(2, 1)'; repeat or separate with ';'")
    fit.add_argument("--fixed", action="append", help="e.g. 'rate=0.5'; repeat or separate with ','")
    fit.add_argument("--weights", help="column of positive frequency weights")
    fit.add_argument("--method", choices=("auto", "closed-form", "numerical"), default="auto",
                     help="closed-form, numerical, or auto: the closed form where one exists (default)")
    fit.add_argument("--ci", choices=("wald", "profile", "bootstrap"), default="wald", help="interval method for an MLE")
    fit.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    fit.add_argument("--plot", metavar="PNG", help="save the fitted density over the data and a Q-Q plot")
    censoring.add_options(fit)
    fit.add_argument("--group-by", metavar="COLUMN", help="fit the family in every group of this column (one row per "
                     "group); with --prior estimate the prior is learned from the groups (empirical Bayes)")
    fit.add_argument("--out", metavar="FILE", help="with --group-by: write the table of groups (.csv, .parquet, .json)")
    fit.add_argument("--exposure", metavar="COLUMN", help="with --group-by and --prior estimate: Poisson exposures")
    _common(fit, streaming=True)

    compare = sub.add_parser("compare", help="fit several families to one column and rank them by AIC",
                             description="Fit candidate families to a column and rank them by AIC.")
    compare.add_argument("data", metavar="DATA", help=DATA_HELP)
    compare.add_argument("--column", help="the column to fit; optional when the data have one column")
    group = compare.add_mutually_exclusive_group()
    group.add_argument("--families", help="comma-separated family names")
    group.add_argument("--all-continuous", action="store_true", help="every continuous univariate family")
    group.add_argument("--all-discrete", action="store_true", help="every count family")
    compare.add_argument("--weights", help="column of positive frequency weights")
    compare.add_argument("--plot", metavar="PNG", help="save the best fits over the data and their Q-Q plots")
    censoring.add_options(compare)
    _common(compare, streaming=True)

    families = sub.add_parser("families", help="list the families and their parameters")
    families.add_argument("--json", action="store_true")
    families.add_argument("--debug", action="store_true")

    from . import (  # light modules: each adds its commands to the parser
        explore,
        lessons,
        regression,
        tour,
    )

    for module in (regression, tour, lessons, explore):
        module.register(sub, _common, _HANDLERS)
    return parser


# command -> handler, or (module, function) imported only when that command runs, so that --help,
# --version and argument errors answer without loading torch
_HANDLERS: dict = {"fit": ("commands", "cmd_fit"), "compare": ("commands", "cmd_compare"),
                   "families": ("family_table", "cmd_families")}


def _handler(command: str) -> Callable:
    entry = _HANDLERS[command]
    if isinstance(entry, tuple):
        from importlib import import_module

        module, name = entry
        return getattr(import_module(f".{module}", __package__), name)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _handler(args.command)(args)
    except MlemapError as exc:
        return _fail(args, exc, EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, with the way to the details
        if getattr(args, "debug", False):
            raise
        sys.stderr.write(f"mlemap: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n")
        return EXIT_INTERNAL
    finally:
        client = getattr(args, "_dask_client", None)
        if client is not None:  # the connection to --scheduler's cluster
            client.close()
    return 0


def _fail(args, exc, code: int) -> int:
    if getattr(args, "debug", False) and isinstance(exc, BaseException):
        traceback.print_exception(exc)
    message = " ".join(str(exc).split())  # one line, whatever the message holds
    sys.stderr.write(f"mlemap: error: {message}\n")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
