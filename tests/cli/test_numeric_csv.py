"""Small numeric tables read without pandas give exactly what pandas reads, or are left to pandas."""

import io

import numpy as np
import pandas as pd
import pytest

from mlemap.cli import numeric_csv

from .helpers import run_cli

READ = [
    ("one column", "x\n1.5\n2\n-3e-2\n", ","),
    ("integers stay integers", "n,k\n1,2\n3,4\n-5,+6\n", ","),
    ("windows line ends and a last empty line", "a,b\r\n1.0,2\r\n3,4.25\r\n\r\n", ","),
    ("tabs", "a\tb\n.5\t1e3\n7.\t-0.0\n", "\t"),
    ("odd but valid names", "x.1,#y,a b\n1,2,3\n", ","),
]
LEFT_TO_PANDAS = [
    ("labels", "x,g\n1,a\n2,b\n"),
    ("missing value", "x\n1\n\n2\nNA\n"),
    ("empty field", "x,y\n1,\n2,3\n"),
    ("quotes", 'x\n"1"\n2\n'),
    ("byte-order mark", "\ufeffx\n1\n"),
    ("ragged rows", "x,y\n1,2\n3\n"),
    ("duplicate names", "x,x\n1,2\n"),
    ("empty name", "x,\n1,2\n"),
    ("a name with a leading space", "x, y\n1,2\n"),
    ("spaces around a number", "x\n 1\n2\n"),
    ("nan and inf words", "x\nnan\ninf\n"),
    ("booleans", "x\nTrue\nFalse\n"),
    ("beyond int64", "x\n12345678901234567890\n"),
    ("header only", "x,y\n"),
    ("nothing", ""),
]


@pytest.mark.parametrize("text, sep", [c[1:] for c in READ], ids=[c[0] for c in READ])
def test_plain_tables_read_exactly_as_pandas_reads_them(text, sep):
    got = numeric_csv.parse(text, sep)
    ref = pd.read_csv(io.StringIO(text), sep=sep)
    assert list(got) == [str(c) for c in ref.columns]
    for name in got:
        assert got[name].dtype == ref[name].to_numpy().dtype
        np.testing.assert_array_equal(got[name], ref[name].to_numpy())


@pytest.mark.parametrize("text", [c[1] for c in LEFT_TO_PANDAS], ids=[c[0] for c in LEFT_TO_PANDAS])
def test_anything_else_is_left_to_pandas(text):
    assert numeric_csv.parse(text, ",") is None


def test_random_decimals_round_trip():
    rng = np.random.default_rng(2)
    x = rng.standard_cauchy(500) * 10.0 ** rng.integers(-12, 12, 500)
    text = "x\n" + "\n".join(repr(float(v)) for v in x) + "\n"
    np.testing.assert_array_equal(numeric_csv.parse(text, ",")["x"], x)


def test_a_large_file_goes_to_pandas():
    text = "x\n" + "1.25\n" * (numeric_csv.MAX_BYTES // 5 + 1)
    assert numeric_csv.parse(text, ",") is None


def test_the_command_line_gives_the_same_fit_either_way(tmp_path):
    x = np.random.default_rng(4).gamma(2.0, 1.5, 300)
    plain = tmp_path / "plain.csv"
    plain.write_text("x\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    with_labels = tmp_path / "labels.csv"  # a text column sends the file to pandas
    with_labels.write_text("x,g\n" + "\n".join(f"{float(v)!r},a" for v in x) + "\n")
    assert numeric_csv.parse(with_labels.read_text(), ",") is None
    a = run_cli("fit", plain, "--column", "x", "--family", "gamma", "--json")
    b = run_cli("fit", with_labels, "--column", "x", "--family", "gamma", "--json")
    assert a.returncode == b.returncode == 0
    assert a.stdout.replace("plain.csv", "") == b.stdout.replace("labels.csv", "")
