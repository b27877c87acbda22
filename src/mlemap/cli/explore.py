"""``mlemap explore``: write the interactive explorer page (and optionally open it in a browser)."""

from __future__ import annotations

import os
import sys


def register(sub, common, commands) -> None:
    p = sub.add_parser(
        "explore",
        help="write an offline page where you move priors, data and learning rates and watch the estimates move",
        description="Write DIR/explore.html: a coin with a Beta prior, a normal mean with a normal prior, likelihood x "
        "prior = posterior in 2-D, ridge against lasso, and optimisers on a likelihood surface, computed live in the "
        "page (no network). The lessons report links to it when both are in the same directory.",
    )
    p.add_argument("--out", default="report", help="output directory (default: report/)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.add_argument("--debug", action="store_true", help="show the traceback of errors")
    commands["explore"] = cmd_explore


def cmd_explore(args) -> None:
    from ..errors import MlemapError
    from ..explore import write_page

    try:
        path = write_page(args.out)
    except OSError as exc:
        raise MlemapError(f"Cannot write the explorer page into '{args.out}' ({exc.strerror or exc}). "
                          "Choose a writable directory with --out.") from None
    sys.stdout.write(f"Explorer: {path}\n")
    if args.open:
        import webbrowser
        from pathlib import Path

        if not webbrowser.open(Path(os.path.abspath(path)).as_uri()):
            sys.stderr.write("mlemap: could not start a web browser; open the file above yourself.\n")
