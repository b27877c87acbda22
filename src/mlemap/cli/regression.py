"""``mlemap regress`` and ``mlemap path``: regressions from a formula on a data file."""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .figures import check_plot_path, save_figure

FAMILIES = ("gaussian", "bernoulli", "poisson", "categorical", "laplace")
SURVIVAL_FAMILIES = ("weibull", "exponential", "rayleigh", "lognormal", "loglogistic", "normal", "logistic")


def register(sub, common, commands) -> None:
    from .output import DATA_HELP

    r = sub.add_parser(
        "regress",
        help="fit a regression from a formula: coefficients, standard errors, p-values, fit statistics",
        description="Fit y | x by maximum likelihood (or MAP with --prior) from a formula such as "
        "'y ~ x1 + x2 + C(group)'.",
    )
    r.add_argument("data", metavar="DATA", help=DATA_HELP)
    r.add_argument("--formula", required=True, help="e.g. 'y ~ x1 + x2 + C(g)'; '.' means every other column")
    r.add_argument("--family", help=f"one of {', '.join(FAMILIES)} (default gaussian); for a 'Surv(time, status) ~ ...' "
                   f"formula one of {', '.join(SURVIVAL_FAMILIES)} (default weibull)")
    r.add_argument("--prior", help="lasso(alpha), ridge(alpha), elastic_net(alpha, l1_ratio), or e.g. normal(0, 2)")
    r.add_argument("--weights", help="column of positive sample weights")
    r.add_argument("--offset", help="column added to the linear predictor (poisson)")
    r.add_argument("--exposure", help="column of exposures, log(exposure) is the offset (poisson)")
    r.add_argument("--cov-type", dest="cov_type", help="standard errors: observed (default), sandwich, laplace_active (L1)")
    r.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    common(r, streaming=True)
    commands["regress"] = cmd_regress

    p = sub.add_parser(
        "path",
        help="regularisation path over a grid of penalty strengths, with selection by CV or BIC",
        description="Fit lasso / elastic-net / ridge MAP estimates along a grid of alphas (scikit-learn's "
        "conventions) and choose one by cross-validation or BIC.",
    )
    p.add_argument("data", metavar="DATA", help=DATA_HELP)
    p.add_argument("--formula", required=True, help="e.g. 'y ~ .'")
    p.add_argument("--family", default="gaussian", help=f"one of {', '.join(FAMILIES)} (default gaussian)")
    p.add_argument("--penalty", choices=("l1", "elastic_net", "l2"), default="l1",
                   help="l1 (lasso, default), elastic_net or l2 (ridge)")
    p.add_argument("--l1-ratio", dest="l1_ratio", type=float, help="mix of L1 in the elastic net (default 0.5)")
    p.add_argument("--n-alphas", dest="n_alphas", type=int, default=100, help="size of the alpha grid (default 100)")
    p.add_argument("--select", choices=("cv", "bic"), help="choose an alpha by K-fold cross-validation or by BIC")
    p.add_argument("--folds", type=int, default=5, help="folds for --select cv (default 5)")
    p.add_argument("--weights", help="column of positive sample weights")
    p.add_argument("--plot", metavar="PNG", help="save the coefficient paths")
    common(p, streaming=True)
    commands["path"] = cmd_path


def _family(name: str | None, survival: bool = False) -> str:
    from ..formula import ESTIMATORS

    if survival:
        if name is None:
            return "weibull"
        if name.lower() not in SURVIVAL_FAMILIES:
            raise DataError(
                f"Unknown survival regression family '{name}' for a Surv(...) formula. Valid names are: "
                f"{', '.join(SURVIVAL_FAMILIES)}."
            )
        return name.lower()
    name = "gaussian" if name is None else name
    if name.lower() not in ESTIMATORS:
        raise DataError(f"Unknown regression family '{name}'. Valid names are: {', '.join(FAMILIES)}.")
    return name.lower()


def _frame(args, options: dict[str, str | None]):
    """The table, after checking that every column named by an option ({flag: column}) is numeric."""
    from . import data as cli_data

    frame = cli_data.read_table(args.data)
    for flag, col in options.items():
        if col:
            cli_data.numeric(cli_data.column(frame, col, flag), col)
    return frame


def _check_target(design, family: str) -> None:
    y = design.y
    if family in ("gaussian", "laplace", "poisson") and np.unique(np.asarray(y)).size == 1:
        raise DataError(
            f"The response is constant ({np.asarray(y)[0]!r} in every row): there is nothing to regress. "
            "Check the formula's left-hand side."
        )


def cmd_regress(args) -> None:
    from ..formula import design, regress
    from .spec import parse_penalty

    from .streaming import open_source, wants_stream

    if wants_stream(args):
        family = _family(args.family)
        frame = open_source(args)
    else:
        frame = _frame(args, {"--weights": args.weights, "--offset": args.offset, "--exposure": args.exposure})
        d = design(args.formula, frame, args.missing)
        family = _family(args.family, survival=d.survival)
        if not d.survival:
            _check_target(d, family)
    options = {} if args.cov_type is None else {"cov_type": args.cov_type}
    model = regress(
        args.formula,
        frame,
        family=family,
        prior=parse_penalty(args.prior),
        sample_weight=args.weights,
        offset=args.offset,
        exposure=args.exposure,
        missing=args.missing,
        **options,
    )
    summary = model.summary(level=args.level)
    from .output import print_json, show

    if args.json:
        payload = summary.to_dict()
        payload.update({"command": "regress", "data": args.data, "formula": args.formula, "family": family})
        print_json(payload)
        return
    show(summary)


def cmd_path(args) -> None:
    from ..formula import design
    from ..paths import regularization_path

    from .streaming import open_source, wants_stream

    family = _family(args.family)
    check_plot_path(args.plot)
    settings = dict(family=family, penalty=args.penalty, l1_ratio=args.l1_ratio, n_alphas=args.n_alphas)
    if wants_stream(args):
        from ..core.sources_design import DesignSource
        from ..formula import estimator_for

        d = DesignSource(open_source(args), args.formula, family=estimator_for(family)._family, weight=args.weights,
                         missing=args.missing)
        classes = d.classes if d.family.multiclass else None
        path = regularization_path(d, fit_intercept=d.fit_intercept, **settings)
    else:
        frame = _frame(args, {"--weights": args.weights})
        d = design(args.formula, frame, args.missing)
        _check_target(d, family)
        y = np.asarray(d.y)
        classes = None
        if family in ("categorical", "multinomial", "softmax"):
            classes, y = np.unique(y, return_inverse=True)
        weights = None if args.weights is None else frame.iloc[d.rows][args.weights].to_numpy(dtype=float)
        path = regularization_path(d.X, y, fit_intercept=d.fit_intercept, sample_weight=weights, **settings)
    if args.select:
        path.select(args.select, cv=args.folds) if args.select == "cv" else path.select("bic")
    if args.plot:
        save_figure(path.plot().figure, args.plot, tight=True)
    from .output import print_json, show

    summary = path.summary()
    if args.json:
        payload = summary.to_dict()
        payload.update({"command": "path", "data": args.data, "formula": args.formula, "family": family})
        if classes is not None:
            payload["classes"] = [str(c) for c in classes]
        print_json(payload)
        return
    show(summary)
    if args.plot:
        show(f"figure saved to {args.plot}")
