"""End-to-end tests of the ``mlemap`` command line, run in-process: output, JSON and every bad-input case.

(tests/cli/test_cli_smoke.py starts the installed command as a real process.)
"""

import json

import numpy as np
import pandas as pd
import pytest

import mlemap as mm

from .helpers import run_cli as run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "waiting_time": rng.gamma(2.0, 1.5, 200),
            "count": rng.poisson(3.0, 200),
            "label": rng.choice(["a", "b", "c"], 200),
            "w": rng.integers(1, 4, 200),
        }
    )
    frame.to_csv(d / "data.csv", index=False)
    frame.to_csv(d / "data.tsv", sep="\t", index=False)
    frame.to_parquet(d / "data.parquet")
    frame.to_json(d / "data.jsonl", orient="records", lines=True, double_precision=15)
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("x,y\n")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "missing.csv").write_text("x\n1.0\nNA\n2.0\n\n3.5\n")
    (d / "text.csv").write_text("x,y\n1,a\n2,b\n3,c\n")
    (d / "negative.csv").write_text("t\n1.5\n-2.0\n3.0\n-1.0\n")
    return d, frame


@pytest.mark.parametrize("name", ["data.csv", "data.tsv", "data.parquet", "data.jsonl"])
def test_fit_json_matches_the_python_api_for_every_format(files, name):
    d, frame = files
    out = run("fit", str(d / name), "--column", "waiting_time", "--family", "gamma", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    ref = mm.fit("gamma", frame["waiting_time"].to_numpy())
    for key in ("concentration", "rate"):
        assert got["params"][key] == pytest.approx(ref.params[key], rel=1e-12)
        assert got["se"][key] == pytest.approx(ref.se[key], rel=1e-9)
    assert got["loglik"] == pytest.approx(ref.loglik, rel=1e-12)
    for key in ("params", "se", "ci", "loglik", "aic", "bic", "n", "method", "converged", "warnings"):
        assert key in got


def test_fit_reads_csv_from_standard_input(files):
    d, frame = files
    out = run("fit", "-", "--column", "count", "--family", "poisson", "--json", stdin=(d / "data.csv").read_text())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"]["rate"] == pytest.approx(frame["count"].mean(), rel=1e-12)


def test_fit_prints_a_summary_table_and_saves_a_plot(files, tmp_path):
    d, _ = files
    png = tmp_path / "fit.png"
    out = run("fit", str(d / "data.csv"), "--column", "waiting_time", "--family", "gamma", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    for fragment in ("gamma", "concentration", "std. error", "95% CI", "Log-likelihood", "AIC"):
        assert fragment in out.stdout
    assert png.exists() and png.stat().st_size > 10_000


def test_fit_with_prior_fixed_and_weights(files):
    d, frame = files
    out = run(
        "fit", str(d / "data.csv"), "--column", "count", "--family", "poisson",
        "--prior", "rate=gamma(2, 1)", "--weights", "w", "--json",
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    w, x = frame["w"].to_numpy(), frame["count"].to_numpy()
    assert got["estimator"] == "MAP"
    assert got["params"]["rate"] == pytest.approx((2 + (w * x).sum() - 1) / (1 + w.sum()), rel=1e-12)  # Gamma mode
    out = run("fit", str(d / "data.csv"), "--column", "waiting_time", "--family", "normal", "--fixed", "loc=3", "--json")
    assert json.loads(out.stdout)["fixed"] == {"loc": 3.0}


def test_fit_categorical_labels(files):
    d, frame = files
    out = run("fit", str(d / "data.csv"), "--column", "label", "--family", "categorical", "--json")
    assert out.returncode == 0, out.stderr
    probs = json.loads(out.stdout)["params"]["probs"]
    assert probs == pytest.approx(frame["label"].value_counts(normalize=True).sort_index().tolist())


def test_fit_profile_intervals(files):
    d, _ = files
    out = run("fit", str(d / "data.csv"), "--column", "waiting_time", "--family", "exponential", "--ci", "profile", "--json")
    got = json.loads(out.stdout)
    assert got["ci_method"] == "profile"
    lo, hi = got["ci"]["rate"]
    assert lo < got["params"]["rate"] < hi


def test_compare_ranks_families_and_never_ranks_a_failure_first(files, tmp_path):
    d, _ = files
    png = tmp_path / "compare.png"
    out = run("compare", str(d / "data.csv"), "--column", "waiting_time", "--families", "gamma,weibull,beta,lognormal",
              "--json", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    statuses = [c["status"] for c in got["candidates"]]
    assert statuses[-1] == "not applicable"  # beta cannot fit data above 1
    aics = [c["aic"] for c in got["candidates"] if c["rank"] is not None]
    assert aics == sorted(aics)
    assert got["best"] == got["candidates"][0]["family"]
    assert png.exists()


def test_compare_table_and_discrete_default(files):
    d, _ = files
    out = run("compare", str(d / "data.csv"), "--column", "count")
    assert out.returncode == 0, out.stderr
    assert "poisson" in out.stdout and "chi2" in out.stdout and "Families ranked by AIC" in out.stdout


def test_shipped_data_and_version():
    out = run("fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma")
    assert out.returncode == 0 and "concentration" in out.stdout
    assert run("--version").stdout.startswith("mlemap ")
    assert run("families").returncode == 0


def test_debug_shows_the_traceback(files):
    d, _ = files
    out = run("fit", str(d / "text.csv"), "--column", "y", "--family", "normal", "--debug")
    assert out.returncode == 2
    assert "Traceback" in out.stderr


BAD = [
    ("missing-file", ["fit", "{d}/nope.csv", "--column", "x", "--family", "normal"], ["No such file", "nope.csv"]),
    ("binary-file", ["fit", "{d}/binary.csv", "--column", "x", "--family", "normal"], ["binary file"]),
    ("empty-file", ["fit", "{d}/empty.csv", "--column", "x", "--family", "normal"], ["is empty"]),
    ("header-only", ["fit", "{d}/header_only.csv", "--column", "x", "--family", "normal"], ["no rows"]),
    ("misspelt-column", ["fit", "{d}/data.csv", "--column", "waiting_tme", "--family", "gamma"],
     ["No column 'waiting_tme'", "Did you mean 'waiting_time'"]),
    ("non-numeric", ["fit", "{d}/text.csv", "--column", "y", "--family", "normal"], ["not numeric", "'a'", "row 0"]),
    ("outside-support", ["fit", "{d}/negative.csv", "--column", "t", "--family", "gamma"],
     ["2 value(s) outside the support", "row 1", "'gamma'"]),
    ("unknown-family", ["fit", "{d}/data.csv", "--column", "count", "--family", "poison"],
     ["Unknown family 'poison'", "poisson", "gamma"]),
    ("malformed-prior", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--prior", "rate=gamma(2,,1)"],
     ["Malformed prior 'rate=gamma(2,,1)'", "','", "character 14"]),
    ("unknown-prior", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--prior", "rate=gama(2,1)"],
     ["Unknown distribution 'gama'", "Did you mean 'gamma'"]),
    ("missing-values", ["fit", "{d}/missing.csv", "--column", "x", "--family", "normal"],
     ["1 row(s) have missing values", "rows 1", "--missing drop"]),
    ("unknown-dataset", ["fit", "@nope", "--column", "x", "--family", "normal"], ["Unknown shipped data set"]),
    ("missing-option", ["fit", "{d}/data.csv", "--family", "normal"], ["--column"]),
    ("bad-weights", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--weights", "label"], ["not numeric"]),
    ("compare-unknown-family", ["compare", "{d}/data.csv", "--column", "count", "--families", "poisson,gamm"],
     ["Unknown family 'gamm'"]),
    ("unknown-weights-column", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--weights", "nope"],
     ["No column 'nope' (from --weights)", "'w'"]),
    ("compare-unknown-weights", ["compare", "{d}/data.csv", "--column", "count", "--weights", "nope"],
     ["No column 'nope' (from --weights)"]),
    ("plot-folder-missing", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--plot",
                             "/nonexistent/p.png"], ["--plot '/nonexistent/p.png'", "folder '/nonexistent' does not exist"]),
    ("plot-not-an-image", ["fit", "{d}/data.csv", "--column", "count", "--family", "poisson", "--plot", "{d}/p.txt"],
     ["must end in an image format", ".png", "got '.txt'"]),
    ("plot-no-extension", ["compare", "{d}/data.csv", "--column", "count", "--plot", "{d}/p"], ["got no extension"]),
    ("plot-a-folder", ["compare", "{d}/data.csv", "--column", "count", "--plot", "{d}"], ["is a folder"]),
    ("path-plot-not-an-image", ["path", "@classification", "--formula", "x1 ~ x2", "--plot", "{d}/p.txt"],
     ["must end in an image format"]),
]


@pytest.mark.parametrize("argv, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line_and_no_traceback(files, argv, fragments):
    d, _ = files
    out = run(*[a.format(d=d) for a in argv])
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert lines[0].startswith("mlemap: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert out.stdout == ""


def _one_line_exit_2(out, *fragments):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlemap: error: ") and "Traceback" not in out.stderr, out.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


STDIN = {
    "latin-1": ("x\n1.5\n2\n\xe9t\xe9\n".encode("latin-1"), ["Standard input is not UTF-8", "iconv"]),
    "binary": (bytes(range(256)) * 4, ["Standard input is binary data"]),
    "nul-bytes": (b"x\n1\n\x00\x00\n2\n", ["Standard input is binary data"]),
}


@pytest.mark.parametrize("command", [["fit", "-", "--family", "normal"], ["compare", "-"]], ids=["fit", "compare"])
@pytest.mark.parametrize("data, fragments", STDIN.values(), ids=STDIN.keys())
def test_undecodable_standard_input_exits_2(command, data, fragments):
    _one_line_exit_2(run(*command, stdin=data), *fragments)


def test_utf8_bytes_on_standard_input_are_read():
    out = run("fit", "-", "--column", "t", "--family", "normal", "--json", stdin="\ufeffé,t\n1,1.5\n2,2.5\n".encode())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"]["loc"] == pytest.approx(2.0, rel=1e-15)


def test_plot_is_checked_before_the_fit_and_written_where_asked(files, tmp_path):
    d, _ = files
    for command in (["fit", "--family", "poisson"], ["compare"]):
        target = tmp_path / f"{command[0]}.svg"
        out = run(command[0], str(d / "data.csv"), "--column", "count", *command[1:], "--plot", str(target))
        assert out.returncode == 0, out.stderr
        assert target.read_text().lstrip().startswith("<?xml")


def test_compare_on_values_near_1e300(tmp_path):
    data = tmp_path / "huge.csv"
    data.write_text("x\n1e300\n2e300\n3e300\n")
    for extra in ([], ["--all-continuous"]):
        out = run("compare", str(data), *extra)
        assert out.returncode == 0, out.stderr
        assert "internal error" not in out.stderr and "Families ranked by AIC" in out.stdout
        assert "overflows float64" in out.stdout or extra == []


def test_lessons_list_run_and_unknown_name(tmp_path):
    listed = run("lessons", "--list")
    assert listed.returncode == 0
    assert "weight_decay" in listed.stdout and "coin_mle" in listed.stdout
    done = run("lessons", "--only", "coin_mle", "--fast", "--quiet", "--out", str(tmp_path / "rep"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "rep" / "index.html").exists()
    bad = run("lessons", "--only", "no_such_lesson")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr and "no_such_lesson" in bad.stderr


def test_tour_runs():
    done = run("tour")
    assert done.returncode == 0, done.stderr
    assert "MLE" in done.stdout


def test_single_column_data_needs_no_column():
    implicit = run("fit", "@waiting_times", "--family", "gamma", "--json")
    explicit = run("fit", "@waiting_times", "--column", "waiting_time", "--family", "gamma", "--json")
    assert implicit.returncode == 0, implicit.stderr
    assert json.loads(implicit.stdout) == json.loads(explicit.stdout)
    assert json.loads(implicit.stdout)["column"] == "waiting_time"
    ranked = run("compare", "@waiting_times", "--families", "gamma,weibull", "--json")
    assert json.loads(ranked.stdout)["column"] == "waiting_time"
    several = run("fit", "@claims", "--family", "poisson")
    assert several.returncode == 2 and several.stdout == ""
    assert "The data have 4 columns ('age', 'urban', 'exposure', 'claims'); choose one with --column" in several.stderr


def test_figures_label_the_x_axis_with_the_column_and_compare_draws_every_ranked_family(tmp_path, monkeypatch):
    from mlemap import plots

    drawn = {}

    def keep(name):
        real = getattr(plots, name)

        def wrapper(*args, **kwargs):
            drawn[name] = real(*args, **kwargs)
            return drawn[name]

        monkeypatch.setattr(plots, name, wrapper)

    keep("fit_figure")
    keep("comparison_figure")
    assert run("fit", "@claims", "--column", "claims", "--family", "poisson", "--plot", tmp_path / "f.png").returncode == 0
    assert drawn["fit_figure"].axes[0].get_xlabel() == "claims"
    families = "gamma,weibull,lognormal,exponential,normal,beta"
    done = run("compare", "@waiting_times", "--families", families, "--plot", tmp_path / "c.png")
    assert done.returncode == 0 and (tmp_path / "c.png").stat().st_size > 10_000
    density = drawn["comparison_figure"].axes[0]
    assert density.get_xlabel() == "waiting_time"
    legend = [t.get_text().split(" ")[0] for t in density.get_legend().get_texts()]
    assert legend == ["data", "gamma", "weibull", "lognormal", "exponential", "normal"]  # beta cannot be fitted


QUIET_RUNS = [
    ["fit", "@waiting_times", "--family", "gamma"],
    ["fit", "@coin_flips", "--column", "heads", "--family", "bernoulli", "--prior", "probs=beta(2, 2)"],
    ["compare", "@claims", "--column", "claims"],
    ["regress", "@claims", "--formula", "claims ~ age + urban", "--family", "poisson", "--weights", "exposure"],
    ["regress", "@classification", "--formula", "x1 ~ x2 + label", "--family", "laplace"],
    ["path", "@classification", "--formula", "x1 ~ x2 + label", "--family", "laplace", "--n-alphas", "5"],
    ["path", "@claims", "--formula", "claims ~ age + urban", "--family", "poisson", "--weights", "exposure",
     "--n-alphas", "5", "--select", "bic"],
    ["families"],
]


@pytest.mark.parametrize("argv", QUIET_RUNS, ids=[" ".join(a[:2]) for a in QUIET_RUNS])
def test_a_valid_quiet_json_run_writes_nothing_to_stderr(argv):
    done = run(*argv, *(["--quiet"] if argv[0] != "families" else []), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    json.loads(done.stdout)
