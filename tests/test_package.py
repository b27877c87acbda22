"""The public namespace: every exported name resolves, and importing mlemap stays light."""

import subprocess
import sys

import pytest

import mlemap as mm


@pytest.mark.parametrize("name", mm.__all__)
def test_every_exported_name_resolves(name):
    assert getattr(mm, name) is not None
    assert name in dir(mm)


def test_functions_are_not_shadowed_by_their_modules():
    import mlemap.comparison  # noqa: F401
    import mlemap.fitting  # noqa: F401

    assert callable(mm.fit) and mm.fit.__module__ == "mlemap.fitting"
    assert callable(mm.compare) and mm.compare.__module__ == "mlemap.comparison"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        mm.fitt  # noqa: B018


def test_import_and_command_line_help_do_not_load_torch_and_scan_does_not_load_dask():
    code = (
        "import sys, mlemap; from mlemap.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'scipy', 'sklearn', 'pandas', 'matplotlib', 'dask') if m in sys.modules)); "
        "mlemap.scan; print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


def test_every_source_file_compiles_without_warnings():
    """A warning at compile time (an invalid escape in a docstring) would reach a user's standard error."""
    import pathlib
    import warnings

    root = pathlib.Path(mm.__file__).parent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in sorted(root.rglob("*.py")):
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
