"""Data larger than memory and on a cluster: mlemap beside the reference, case by case.

Every row prints mlemap's number, the reference's number (what it is named in the row) and their
ratio. Generated data (once, outside every timing, kept in ``--folder`` for later runs):

* ``logistic-N.parquet``: ``--rows`` rows of 10 standard-normal features ``x0..x9`` and a 0/1
  response ``y`` from a logistic model (about 88 bytes a row: 176 MB for the default 2,000,000);
* ``studentt-N.parquet``: one column ``x`` of ``--values`` values (10,000,000 by default, 80 MB)
  from a Student t with 4 degrees of freedom, location 1, scale 2.

Cases (``--cases``, comma-separated):

* ``memory``: peak resident memory of the streaming logistic fit with standard errors
  (``mm.LogisticRegression().fit(source)``), each in a fresh process, against loading the file and
  fitting in memory; both beside the file's size (target: the streaming fit's peak depends on the
  chunk size, not on the file);
* ``fit``: the streaming logistic fit vs loading the file and fitting in memory: time (target at
  most 2.5x) and the largest relative difference of coefficients and standard errors (target 1e-10);
* ``pass``: one contribution pass from the file (log-likelihood, gradient and Hessian: what one
  Newton step reads) vs pyarrow alone reading the same columns into NumPy;
* ``studentt``: one Student t contribution pass (value, gradient and Hessian) vs pyarrow alone
  reading the column (target at most 2x); and ``mm.fit("studentt", mm.scan(...))`` vs the in-memory
  fit of the same column (time, full passes, largest relative difference of estimates and standard
  errors);
* ``dask``: on a ``LocalCluster`` of 2 workers x 1 thread, ``--dask-rows`` rows x 10 generated on
  the workers: ``mm.LogisticRegression().fit`` (with standard errors) vs dask-ml
  ``LogisticRegression(solver="newton")`` on the same dask arrays (target: mlemap at least 2x
  faster, log-likelihood at least as high).

The issue's full sizes (``--rows 20000000 --values 100000000 --dask-rows 10000000``) take an hour
on a small machine; the defaults keep the whole script to a few minutes. Times are medians of
``--repeat`` interleaved runs. Run with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_scale.py [--rows 2000000]
        [--values 10000000] [--dask-rows 1000000] [--repeat 3] [--cases memory,fit,pass,studentt,dask]
        [--folder /tmp/mlemap-bench]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
from timing import interleaved_medians

FEATURES = [f"x{j}" for j in range(10)]
TRUE_COEF = np.linspace(-0.5, 0.5, 10)
WRITE_ROWS = 1_000_000


# ---------------------------------------------------------------------- data (outside the timings)
def generate_logistic(path: str, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, WRITE_ROWS):
        m = min(WRITE_ROWS, rows - start)
        X = rng.standard_normal((m, 10))
        y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ TRUE_COEF + 0.3)))).astype(np.float64)
        table = pa.table({**{name: X[:, j] for j, name in enumerate(FEATURES)}, "y": y})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=WRITE_ROWS)
    writer.close()


def generate_studentt(path: str, values: int, seed: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, values, 4 * WRITE_ROWS):
        m = min(4 * WRITE_ROWS, values - start)
        table = pa.table({"x": 1.0 + 2.0 * rng.standard_t(4.0, m)})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=WRITE_ROWS)
    writer.close()


def ensure(path: str, rows: int, make) -> str:
    import pyarrow.parquet as pq

    if not (os.path.exists(path) and pq.read_metadata(path).num_rows == rows):
        t = time.perf_counter()
        make(path, rows)
        size = os.path.getsize(path) / 1e9
        print(f"generated {path} ({rows:,} rows, {size:.2f} GB) in {time.perf_counter() - t:.0f} s")
    return path


# ---------------------------------------------------------------------- timing helpers
def interleaved(fns: dict, repeat: int) -> dict:
    """Median seconds of each function over ``repeat`` interleaved rounds, by name."""
    return dict(zip(fns, interleaved_medians(list(fns.values()), repeat)))


def pyarrow_pass(path: str, columns: list[str], batch_rows: int) -> None:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20) as pf:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            for column in batch.columns:
                column.to_numpy()


def logistic_design(path: str):
    import mlemap as mm
    from mlemap.core.sources_design import DesignSource

    return DesignSource(mm.scan(path, progress=False), x=FEATURES, y="y", family="bernoulli")


def logistic_objective(source):
    import torch

    from mlemap.core.objective import Objective
    from mlemap.core.regression import RegressionModel
    from mlemap.glm.family import resolve_glm_family

    theta = torch.as_tensor(np.r_[TRUE_COEF, 0.3])
    objective = Objective(RegressionModel(resolve_glm_family("bernoulli"), 10), source)
    return lambda: objective.evaluate(theta, 2)


class StudentLayout:
    """loc, log scale, log df -> Student's t parameters."""

    size = 3

    def unpack(self, u):
        return {"loc": u[0], "scale": u[1].exp(), "df": u[2].exp()}


def studentt_objective(path: str, order: int):
    import torch

    import mlemap as mm
    from mlemap.core.distribution import DistributionModel
    from mlemap.core.objective import Objective
    from mlemap.core.sources_features import family_features
    from mlemap.families.registry import resolve_family

    family = resolve_family("studentt")
    source = family_features(mm.scan(path, column="x", progress=False), family)
    objective = Objective(DistributionModel(family, StudentLayout(), {}), source)
    u = torch.tensor([1.0, np.log(2.0), np.log(4.0)], dtype=torch.float64)
    return lambda: objective.evaluate(u, order)


def row(case: str, data: str, what: str, mlemap: str, reference: str, ratio: str, note: str = "") -> None:
    print(f"{case:<9} {data:<14} {what:<40} {mlemap:>10} {reference:>10} {ratio:>8}  {note}")


def header() -> None:
    row("case", "data", "what (mlemap vs reference)", "mlemap", "reference", "ratio")
    print("-" * 100)


def rows_label(n: int, d: int | None = None) -> str:
    size = f"{n / 1e6:g}M" if n >= 1e6 else f"{n:,}"
    return size + (f" x {d}" if d else "")


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# ---------------------------------------------------------------------- cases
def load_logistic(path: str):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    X = np.column_stack([table[c].to_numpy() for c in FEATURES])
    y = table["y"].to_numpy()
    return X, y


def memory_status(key: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in bytes (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {key} in /proc/self/status")


def peak_of(kind: str, path: str) -> None:
    """Run in a fresh process: the streaming fit (``stream``) or load + in-memory fit (``memory``);
    print the resident memory after the imports and the peak during the fit."""
    import mlemap as mm

    source = logistic_design(path) if kind == "stream" else None
    mm.LogisticRegression()  # imports done before the baseline

    before = memory_status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    if kind == "stream":
        mm.LogisticRegression().fit(source)
    else:
        mm.LogisticRegression().fit(*load_logistic(path))
    print(before, memory_status("VmHWM"))


def case_memory(path: str, rows: int) -> None:
    import torch

    def peak(kind):
        out = subprocess.run([sys.executable, __file__, "--peak-of", f"{kind}:{path}", "--threads",
                              str(torch.get_num_threads())], capture_output=True, text=True, check=True)
        return tuple(map(int, out.stdout.split()[-2:]))

    (b_s, p_s), (b_m, p_m) = peak("stream"), peak("memory")
    size = os.path.getsize(path)
    data = rows_label(rows, 10)
    row("memory", data, "peak RSS of the fit: streamed vs in memory", f"{p_s / 1e6:.0f} MB", f"{p_m / 1e6:.0f} MB",
        f"{p_s / p_m:.2f}x", f"file {size / 1e6:.0f} MB")
    row("memory", data, "increase over the process after imports", f"{(p_s - b_s) / 1e6:.0f} MB",
        f"{(p_m - b_m) / 1e6:.0f} MB", f"{(p_s - b_s) / max(p_m - b_m, 1):.2f}x",
        f"streamed: {(p_s - b_s) / size:.2f} of the file's size; in memory {(p_m - b_m) / size:.2f}")


def logistic_newton_step(X, y, coef, intercept) -> float:
    """Largest relative change one more exact Newton step would make: the distance to the exact MLE."""
    b = np.r_[coef, intercept]
    Xt = np.c_[X, np.ones(len(y))]
    p = 1.0 / (1.0 + np.exp(-(Xt @ b)))
    g = Xt.T @ (y - p)
    H = (Xt * (p * (1 - p))[:, None]).T @ Xt
    return float(np.max(np.abs(np.linalg.solve(H, g)) / np.abs(b)))


def studentt_newton_step(x, params) -> float:
    import torch

    from mlemap.families.studentt_derivatives import ORDER, studentt_derivatives

    theta = [torch.tensor(float(params[n]), dtype=torch.float64) for n in ORDER]
    _, g, H = studentt_derivatives(torch.from_numpy(x), None, *theta, 2)
    return float((torch.linalg.solve(H, g).abs() / torch.stack(theta).abs()).max())


def case_fit(path: str, rows: int, repeat: int) -> None:
    import mlemap as mm

    fits = {}

    def in_memory():
        fits["memory"] = mm.LogisticRegression().fit(*load_logistic(path))

    def streamed():
        source = logistic_design(path)
        fits["stream"] = mm.LogisticRegression().fit(source)
        fits["passes"] = source.raw.passes

    times = interleaved({"memory": in_memory, "stream": streamed}, repeat)
    m, s = fits["memory"], fits["stream"]
    coef = relative(np.r_[s.coef_, s.intercept_], np.r_[m.coef_, m.intercept_])
    se = relative(s.se_, m.se_)
    data = rows_label(rows, 10)
    row("fit", data, "logistic MLE + SEs: file vs load + fit", f"{times['stream']:.2f} s", f"{times['memory']:.2f} s",
        f"{times['stream'] / times['memory']:.2f}x", f"target <= 2.5x; {fits['passes']} passes over the file")
    row("fit", data, "largest relative difference: coef | SE", f"{coef:.1e}", f"{se:.1e}", "", "target 1e-10")
    X, y = load_logistic(path)
    row("fit", data, "distance to the exact MLE (a Newton step)", f"{logistic_newton_step(X, y, s.coef_, s.intercept_):.1e}",
        f"{logistic_newton_step(X, y, m.coef_, m.intercept_):.1e}", "", "relative; the difference above is the larger")


def case_pass(path: str, rows: int, repeat: int) -> None:
    from mlemap.core.sources_files import FILE_CHUNK_ELEMENTS

    design = logistic_design(path)
    batch = max(1024, FILE_CHUNK_ELEMENTS // 11)
    times = interleaved({
        "pyarrow": lambda: pyarrow_pass(path, FEATURES + ["y"], batch),
        "contribution": logistic_objective(design),
    }, repeat)
    row("pass", rows_label(rows, 10), "value+grad+Hessian pass vs pyarrow read", f"{times['contribution']:.2f} s",
        f"{times['pyarrow']:.2f} s", f"{times['contribution'] / times['pyarrow']:.2f}x", "one Newton step's reading")


def case_studentt(path: str, values: int, repeat: int) -> None:
    import pyarrow.parquet as pq

    import mlemap as mm
    from mlemap.core.sources_files import FILE_CHUNK_ELEMENTS

    times = interleaved({
        "pyarrow": lambda: pyarrow_pass(path, ["x"], FILE_CHUNK_ELEMENTS),
        "order 2": studentt_objective(path, 2),
    }, repeat)
    data = rows_label(values)
    row("studentt", data, "value+grad+Hessian pass vs pyarrow read", f"{times['order 2']:.2f} s",
        f"{times['pyarrow']:.2f} s", f"{times['order 2'] / times['pyarrow']:.2f}x", "target <= 2x")
    fits = {}

    def in_memory():
        fits["memory"] = mm.fit("studentt", pq.read_table(path)["x"].to_numpy())

    def streamed():
        scanned = mm.scan(path, column="x", progress=False)
        fits["stream"] = mm.fit("studentt", scanned)
        fits["passes"] = scanned.passes

    times = interleaved({"memory": in_memory, "stream": streamed}, repeat)
    m, s = fits["memory"], fits["stream"]
    names = list(m.params)
    est = relative([s.params[n] for n in names], [m.params[n] for n in names])
    se = relative([s.se[n] for n in names], [m.se[n] for n in names])
    row("studentt", data, "fit: file vs load + fit", f"{times['stream']:.2f} s", f"{times['memory']:.2f} s",
        f"{times['stream'] / times['memory']:.2f}x", f"{fits['passes']} full passes; estimates rel {est:.1e}, "
        f"SEs rel {se:.1e}")
    x = pq.read_table(path)["x"].to_numpy()
    row("studentt", data, "distance to the exact MLE (a Newton step)", f"{studentt_newton_step(x, s.params):.1e}",
        f"{studentt_newton_step(x, m.params):.1e}", "", "relative; the difference above is the larger")


def case_dask(rows: int, repeat: int) -> None:
    import dask.array as da
    from dask_ml.linear_model import LogisticRegression as DaskLogistic
    from distributed import Client, LocalCluster

    import mlemap as mm
    from mlemap.core.sources_dask import DaskSource

    passes = []
    reduce_on_cluster = DaskSource.map_reduce

    def counted(self, fn):  # counts the passes of a fit over the cluster
        passes.append(type(fn).__name__)
        return reduce_on_cluster(self, fn)

    DaskSource.map_reduce = counted
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        rng = da.random.default_rng(3)
        chunk = max(10_000, rows // 8)
        X = rng.standard_normal((rows, 10), chunks=(chunk, 10))
        p = 1.0 / (1.0 + da.exp(-(X @ TRUE_COEF + 0.3)))
        y = (rng.random(rows, chunks=chunk) < p).astype(np.float64)
        X, y = client.persist([X, y])
        client.wait_for_workers(2)

        def loglik(coef, intercept) -> float:
            eta = X @ np.asarray(coef) + float(intercept)
            return float((y * eta - da.logaddexp(0.0, eta)).sum().compute())

        fits = {}

        def fit_dask_ml():
            m = DaskLogistic(solver="newton", fit_intercept=True).fit(X, y)  # newton: no penalty, as mlemap
            fits["dask-ml"] = (np.ravel(m.coef_), float(np.ravel([m.intercept_])[0]))

        def fit_mlemap():
            passes.clear()
            m = mm.LogisticRegression().fit(X, y)
            fits["mlemap"] = (np.ravel(m.coef_), float(m.intercept_))
            fits["se"] = m.se_
            fits["passes"] = len(passes)

        fit_mlemap()  # warm-up: the workers import torch and mlemap once
        times = interleaved({"dask-ml": fit_dask_ml, "mlemap": fit_mlemap}, repeat)
        ll = {k: loglik(*fits[k]) for k in ("dask-ml", "mlemap")}
        data = rows_label(rows, 10)
        row("dask", data, "logistic fit vs dask-ml (newton)", f"{times['mlemap']:.2f} s", f"{times['dask-ml']:.2f} s",
            f"{times['mlemap'] / times['dask-ml']:.2f}x", f"target <= 0.5x; mlemap has SEs, dask-ml none; "
            f"{fits['passes']} passes over the partitions")
        row("dask", data, "log-likelihood at the estimate", f"{ll['mlemap']:.4f}", f"{ll['dask-ml']:.4f}",
            "", f"mlemap - dask-ml = {ll['mlemap'] - ll['dask-ml']:+.2e} (target >= 0)")
        pass_times = interleaved({
            "read": lambda: (X.sum() + y.sum()).compute(),
            "pass": logistic_objective(DaskSource({"X": X, "y": y}, progress=False)),
        }, repeat)
        row("dask", data, "value+grad+Hessian pass vs dask's sum of X, y", f"{pass_times['pass']:.2f} s",
            f"{pass_times['read']:.2f} s", f"{pass_times['pass'] / pass_times['read']:.2f}x",
            "one Newton step on the cluster vs one read of the partitions")
    DaskSource.map_reduce = reduce_on_cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--values", type=int, default=10_000_000)
    parser.add_argument("--dask-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="memory,fit,pass,studentt,dask")
    parser.add_argument("--folder", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "mlemap-bench"))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of the passes (the estimators fit single-threaded; 0: torch's default)")
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.peak_of:
        kind, path = args.peak_of.split(":", 1)
        peak_of(kind, path)
        return
    cases = set(args.cases.split(","))
    os.makedirs(args.folder, exist_ok=True)
    logistic = os.path.join(args.folder, f"logistic-{args.rows}.parquet")
    studentt = os.path.join(args.folder, f"studentt-{args.values}.parquet")
    if cases & {"pass", "memory", "fit"}:
        ensure(logistic, args.rows, generate_logistic)
    if "studentt" in cases:
        ensure(studentt, args.values, generate_studentt)
    header()
    if "memory" in cases:
        case_memory(logistic, args.rows)
    if "fit" in cases:
        case_fit(logistic, args.rows, args.repeat)
    if "pass" in cases:
        case_pass(logistic, args.rows, args.repeat)
    if "studentt" in cases:
        case_studentt(studentt, args.values, args.repeat)
    if "dask" in cases:
        case_dask(args.dask_rows, args.repeat)


if __name__ == "__main__":
    main()
