"""``mlemap families``: the built-in families and their parameters, listed without importing torch.

The rows copy what the family classes in :mod:`mlemap.families` declare (name, aliases, parameters,
known constants, support, discreteness), so that listing them starts as fast as ``--help``; a test
checks that the copy matches the classes.
"""

from __future__ import annotations

#: (name, aliases, parameters, known constants, support, discrete)
ROWS = (
    ("bernoulli", (), ("probs",), (), "{0, 1}", True),
    ("binomial", (), ("probs",), ("total_count",), "whole numbers 0..total_count", True),
    ("geometric", (), ("probs",), (), "whole numbers 0, 1, 2, ... (failures before the first success)", True),
    ("poisson", (), ("rate",), (), "whole numbers 0, 1, 2, ...", True),
    ("negative_binomial", ("negbin", "nbinom"), ("total_count", "probs"), (), "whole numbers 0, 1, 2, ...", True),
    ("categorical", (), ("probs",), (), "integer labels 0, 1, 2, ...", True),
    ("multinomial", (), ("probs",), ("total_count",), "rows of whole-number counts", True),
    ("normal", ("gaussian",), ("loc", "scale"), (), "the real line", False),
    ("lognormal", ("log_normal",), ("loc", "scale"), (), "positive numbers", False),
    ("laplace", (), ("loc", "scale"), (), "the real line", False),
    ("studentt", ("t", "student_t"), ("df", "loc", "scale"), (), "the real line", False),
    ("cauchy", (), ("loc", "scale"), (), "the real line", False),
    ("exponential", ("exp",), ("rate",), (), "numbers >= 0", False),
    ("gamma", (), ("concentration", "rate"), (), "positive numbers", False),
    ("weibull", (), ("scale", "concentration"), (), "positive numbers", False),
    ("beta", (), ("concentration1", "concentration0"), (), "numbers strictly between 0 and 1", False),
    ("uniform", (), ("low", "high"), (), "the real line", False),
    ("pareto", (), ("scale", "alpha"), (), "numbers >= scale > 0", False),
    ("half_normal", ("halfnormal",), ("scale",), (), "numbers >= 0", False),
    ("gumbel", (), ("loc", "scale"), (), "the real line", False),
    ("von_mises", ("vonmises",), ("loc", "concentration"), (), "angles in radians", False),
    ("multivariate_normal", ("mvn", "multivariate_gaussian"), ("loc", "covariance_matrix"), (), "rows of real numbers", False),
    ("dirichlet", (), ("concentration",), (), "rows of positive numbers summing to 1", False),
    ("logistic", (), ("loc", "scale"), (), "the real line", False),
    ("loglogistic", ("log_logistic", "fisk", "llogis"), ("scale", "concentration"), (), "positive numbers", False),
)


def family_rows() -> list[dict]:
    """One dictionary per family (the keys of ``mlemap families --json``)."""
    keys = ("name", "aliases", "parameters", "known_constants", "support", "discrete")
    return [{k: list(v) if isinstance(v, tuple) else v for k, v in zip(keys, row)} for row in ROWS]


def cmd_families(args) -> None:
    rows = family_rows()
    if args.json:
        from .output import print_json

        print_json({"families": rows})
        return
    from ..report.table import Col, FittedTable
    from .output import show

    columns = [Col("family", "left", "text"), Col("parameters", "left", "text"), Col("support", "left", "text"),
               Col("also called", "left", "text", drop=1)]
    table = []
    for r in rows:
        known = "" if not r["known_constants"] else f" (known: {', '.join(r['known_constants'])})"
        table.append([r["name"], ", ".join(r["parameters"]) + known, r["support"], ", ".join(r["aliases"])])
    show(FittedTable(columns, table))
