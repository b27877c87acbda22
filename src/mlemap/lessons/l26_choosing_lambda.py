"""Lesson 26: elastic net as a Gaussian-and-Laplace prior; choosing lambda by cross-validation or empirical Bayes.

**Elastic net.** scikit-learn's ``ElasticNet(alpha, l1_ratio)`` minimises
:math:`\\frac{1}{2n}|y - X\\beta|^2 + \\alpha\\rho|\\beta|_1 + \\frac{\\alpha(1-\\rho)}{2}|\\beta|^2`: times n, the negative
log-posterior under independent priors :math:`\\mathrm{Laplace}(0, \\sigma^2/\\lambda_1)` and
:math:`\\mathcal N(0, \\sigma^2/\\lambda_2)` on each coefficient, with :math:`\\lambda_1 = n\\alpha\\rho`,
:math:`\\lambda_2 = n\\alpha(1-\\rho)`: a density with the Laplace's kink at zero and the Gaussian's tails.

**Choosing the strength.** Cross-validation picks the alpha whose fits predict held-out rows best.
Empirical Bayes (type-II maximum likelihood) treats alpha as a parameter of the model
:math:`\\beta \\sim \\mathcal N(0, \\sigma^2 I/\\alpha)`, integrates the coefficients out,
:math:`y_c \\sim \\mathcal N(0, \\sigma^2(I + X_cX_c^\\top/\\alpha))` (centred data), and maximises this
evidence over alpha and sigma; with :math:`X_c = U S V^\\top` and :math:`z = U^\\top y_c` it is
:math:`-\\frac12\\big[\\sum_j \\log(1 + s_j^2/\\alpha) + n\\log\\hat\\sigma^2 + n\\big]` with
:math:`n\\hat\\sigma^2 = \\sum_j z_j^2/(1 + s_j^2/\\alpha) + |y_c|^2 - |z|^2`.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import BayesianRidge, ElasticNet

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

N, D, PRIOR_SD = 60, 30, 0.5  # the coefficients are drawn from N(0, 0.5^2): the generating alpha is 1/0.25 = 4


def neg_log_evidence(log_alpha: float, s: np.ndarray, z: np.ndarray, rest: float, n: int) -> float:
    lam = 1 + s**2 / np.exp(log_alpha)
    sigma2 = (np.sum(z**2 / lam) + rest) / n
    return 0.5 * (np.sum(np.log(lam)) + n * np.log(sigma2) + n)


def elastic_net_kkt_gap(X, y, coef, intercept, l1, l2) -> float:
    """Optimality of (1/2)|y - b - X beta|^2 + l1 |beta|_1 + (l2/2)|beta|^2."""
    g = X.T @ (y - intercept - X @ coef) - l2 * coef
    on = coef != 0
    return float(max(np.max(np.abs(g[on] - l1 * np.sign(coef[on])), initial=0.0),
                     np.max(np.abs(g[~on]) - l1, initial=0.0), abs(np.sum(y - intercept - X @ coef))))


def run(ctx):
    rng = ctx.rng(26)
    X = rng.standard_normal((N, D))
    beta = rng.normal(0, PRIOR_SD, D)
    y = 2.0 + X @ beta + rng.standard_normal(N)

    # --- elastic net
    alpha, rho = 0.05, 0.5
    enet = mm.LinearRegression(prior=mm.priors.elastic_net(alpha, rho)).fit(X, y)
    sk = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-12, max_iter=200_000).fit(X, y)
    l1, l2 = N * alpha * rho, N * alpha * (1 - rho)

    # --- empirical Bayes
    Xc, yc = X - X.mean(0), y - y.mean()
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    z = U.T @ yc
    rest = float(yc @ yc - z @ z)
    best = minimize_scalar(neg_log_evidence, bounds=(-8, 8), args=(s, z, rest, N), method="bounded",
                           options={"xatol": 1e-10})
    alpha_eb = float(np.exp(best.x))
    slope = (neg_log_evidence(best.x + 1e-4, s, z, rest, N) - neg_log_evidence(best.x - 1e-4, s, z, rest, N)) / 2e-4
    bayes_ridge = BayesianRidge(tol=1e-12, max_iter=100_000, alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0).fit(X, y)

    # --- cross-validation over the same grid
    grid = np.logspace(-1, 3, ctx.n(30, 20))
    path = mm.regularization_path(X, y, penalty="l2", alphas=grid)
    chosen = path.select("cv", cv=5, seed=0)
    alpha_cv = chosen.alpha

    def fresh_error(model):  # E[(b + x'c - 2 - x'beta)^2] at a fresh x ~ N(0, I)
        return float(np.sum((model.coef_ - beta) ** 2) + (model.intercept_ - 2.0) ** 2)

    fits = {"MLE": mm.LinearRegression().fit(X, y), "cross-validation": mm.LinearRegression(
        prior=mm.priors.ridge(alpha_cv)).fit(X, y), "empirical Bayes": mm.LinearRegression(
        prior=mm.priors.ridge(alpha_eb)).fit(X, y)}
    errors = {k: fresh_error(m) for k, m in fits.items()}
    oracle = min(fresh_error(mm.LinearRegression(prior=mm.priors.ridge(a)).fit(X, y)) for a in grid)

    fig, (a, b) = plots.subplots(1, 2, figsize=(13, 4.6))
    a.errorbar(path.alphas, chosen.scores, yerr=chosen.se, color=plots.PALETTE[1], lw=1.6, capsize=2,
               label="cross-validated deviance (5 folds)")
    evidence = np.array([neg_log_evidence(np.log(v), s, z, rest, N) for v in path.alphas])
    twin = a.twinx()
    twin.plot(path.alphas, evidence, color=plots.PALETTE[0], lw=2)
    twin.set_ylabel("negative log evidence", color=plots.PALETTE[0])
    a.plot([], [], color=plots.PALETTE[0], lw=2, label="negative log evidence (right axis)")
    for value, colour, name in ((alpha_cv, plots.PALETTE[1], "CV"), (alpha_eb, plots.PALETTE[0], "EB"),
                                (1 / PRIOR_SD**2, "0.3", "generating")):
        a.axvline(value, color=colour, ls="--" if name != "generating" else ":", lw=1.3, label=f"{name}: alpha = {value:.3g}")
    a.set_xscale("log")
    a.set_xlabel("ridge alpha")
    a.set_ylabel("held-out deviance per row")
    a.set_title("choosing the prior's strength")
    a.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    plots.tidy(a)
    t = np.linspace(-3, 3, 1201)
    sigma2 = 1.0
    gauss = np.exp(-l2 * t**2 / (2 * sigma2))
    laplace = np.exp(-l1 * np.abs(t) / sigma2)
    for density, name, colour, style in ((gauss, "Gaussian part", plots.PALETTE[0], "--"),
                                         (laplace, "Laplace part", plots.PALETTE[2], ":"),
                                         (gauss * laplace, "elastic net = their product", plots.PALETTE[1], "-")):
        b.plot(t, density / (density.sum() * (t[1] - t[0])), style, color=colour, lw=2, label=name)
    b.set_xlabel("coefficient (sigma = 1)")
    b.set_ylabel("prior density")
    b.set_title(f"the elastic-net prior (alpha {alpha:g}, l1_ratio {rho:g}, n = {N})")
    b.legend(frameon=False, fontsize=10, loc="upper right")
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("elastic net MAP = scikit-learn ElasticNet(alpha, l1_ratio)", enet.coef_, sk.coef_, rtol=1e-6, atol=1e-9),
            holds("... it solves the Laplace + Gaussian penalised problem (KKT)",
                  elastic_net_kkt_gap(X, y, enet.coef_, enet.intercept_, l1, l2) < 1e-7,
                  elastic_net_kkt_gap(X, y, enet.coef_, enet.intercept_, l1, l2), "gap < 1e-7"),
            close("empirical Bayes: the evidence is flat at its maximum", slope, 0.0, atol=1e-5),
            close("... and matches scikit-learn's BayesianRidge (lambda_/alpha_, flat hyperpriors)", alpha_eb,
                  bayes_ridge.lambda_ / bayes_ridge.alpha_, rtol=1e-5),
            holds("cross-validation's alpha minimises its own curve", chosen.scores[chosen.index] == chosen.scores.min(),
                  alpha_cv, "argmin"),
            holds("both choices beat the MLE on fresh data", errors["cross-validation"] < errors["MLE"]
                  and errors["empirical Bayes"] < errors["MLE"], [round(v, 4) for v in errors.values()], "< MLE"),
            holds("... each within 25% of the best alpha on the grid", max(errors["cross-validation"],
                  errors["empirical Bayes"]) < 1.25 * oracle, round(oracle, 4), "error <= 1.25 x best"),
        ],
        figures=[("Left: the cross-validation curve and the negative log evidence over alpha, with their minima and "
                  "the alpha of the prior that generated the coefficients. Right: the elastic-net prior is the "
                  "normalised product of a Gaussian and a Laplace density.", fig)],
        findings=[f"Cross-validation picks alpha = {alpha_cv:.3g}, empirical Bayes {alpha_eb:.3g}; the coefficients were "
                  f"drawn with alpha = {1 / PRIOR_SD**2:g}. Error at a fresh point: " +
                  ", ".join(f"{k} {v:.4f}" for k, v in errors.items()) + f" (best on the grid {oracle:.4f})."],
    )


LESSON = Lesson(
    26, "choosing_lambda", "Elastic net, and choosing lambda: cross-validation or evidence",
    r"$\pi(\beta)\propto e^{-\lambda_1|\beta|/\sigma^2 - \lambda_2\beta^2/(2\sigma^2)};\quad"
    r"\hat\alpha_{EB} = \arg\max_\alpha \max_\sigma\ \mathcal{N}(y_c\mid 0, \sigma^2(I + X_cX_c^\top/\alpha))$",
    "An elastic net is a Gaussian prior and a Laplace prior at once. The prior's strength can be chosen by "
    "predicting held-out rows or by maximising the marginal likelihood; on data drawn from a Gaussian prior both "
    "land near the generating value.",
    run,
)
