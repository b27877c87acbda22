"""The ``--plot FILE`` option: the file is checked before any work is done, and the figure is
saved with typed errors (a folder that does not exist, a format matplotlib does not write, a
file that cannot be written) instead of matplotlib's own exceptions."""

from __future__ import annotations

import os

from ..errors import DataError

#: the image formats matplotlib's default (Agg) backend writes without extra software
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def check_plot_path(path: str | None) -> None:
    """Raise :class:`DataError` when ``--plot`` names a file that cannot be written as an image."""
    if path is None:
        return
    if os.path.isdir(path):
        raise DataError(f"--plot {path!r} is a folder; give a file name such as {os.path.join(path, 'fit.png')!r}.")
    formats = ", ".join("." + f for f in PLOT_FORMATS)
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        got = f"'.{suffix}'" if suffix else "no extension"
        raise DataError(
            f"--plot {path!r}: the file name must end in an image format ({formats}); got {got}. "
            "For example --plot fit.png."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataError(f"--plot {path!r}: the folder {folder!r} does not exist. Create it first, or choose another path.")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise DataError(f"--plot {path!r}: the file cannot be written here (permission denied). Choose another path.")


def save_figure(figure, path: str, *, tight: bool = False) -> None:
    """Save ``figure`` to ``path`` (120 dpi) and close it; a failure to write is a :class:`DataError`."""
    import matplotlib.pyplot as plt

    try:
        figure.savefig(path, dpi=120, **({"bbox_inches": "tight"} if tight else {}))
    except (OSError, ValueError) as exc:
        raise DataError(f"--plot {path!r}: the figure could not be saved ({exc}).") from None
    finally:
        plt.close(figure)
