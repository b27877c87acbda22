"""Log-likelihood, log-prior and log-posterior as functions of the parameters.

* :func:`loglik_curve`: :math:`\\ell(\\theta)` against one parameter (the others held at the estimate,
  or re-maximised with ``profile=True``), with the estimate marked;
* :func:`loglik_contour`: :math:`\\ell` over two parameters, with the estimate and an optional truth;
* :func:`prior_likelihood_posterior`: prior, likelihood and posterior of one parameter on one axis,
  each scaled to a maximum of 1, with the MLE and the MAP marked;
* :func:`surface_trio`: the log-likelihood, log-prior and log-posterior surfaces over two
  parameters side by side, with the MLE, the prior's mode and the MAP.

Surfaces are evaluated on whole grids at once: the family's log-density broadcasts over parameter
tensors (through the sufficient statistics where the family has them).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import MethodError
from ._mpl import PALETTE, axes, pyplot, tidy


def loglik_grid(result, grid: dict[str, np.ndarray], prior: bool = False) -> np.ndarray:
    """:math:`\\ell(\\theta)` (plus :math:`\\log\\pi(\\theta)` with ``prior``) on a grid of some scalar parameters."""
    problem = result.problem
    shape = np.broadcast_shapes(*(np.shape(v) for v in grid.values()))
    dtype, device = problem.dtype, problem.device
    params = {**problem.fixed, **result.estimate.params}
    for name in grid:
        if name not in result.estimate.params or problem.shapes[name] != torch.Size():
            raise MethodError(f"Surfaces are drawn over scalar estimated parameters; '{name}' is not one.")
    values = {
        k: torch.as_tensor(np.array(np.broadcast_to(v, shape), dtype=float), dtype=dtype, device=device).reshape(-1)
        for k, v in grid.items()
    }
    family = problem.family
    with torch.no_grad():
        if problem.statistics is not None:
            out = family.log_likelihood_stats(problem.statistics, {**params, **values})
            out = out.expand(values[next(iter(values))].shape) if out.dim() == 0 else out
        else:
            feats, w = problem.features, problem.weights
            n = problem.n_obs
            step = max(1, 2_000_000 // max(n, 1))
            total = next(iter(values.values())).numel()
            pieces = []
            for start in range(0, total, step):
                chunk = {k: v[start : start + step].unsqueeze(-1) for k, v in values.items()}
                lp = family.log_prob(feats, {**params, **chunk})
                pieces.append(lp.sum(-1) if w is None else (lp * w).sum(-1))
            out = torch.cat(pieces)
        if prior:
            for base, term in problem.priors.items():
                theta = values.get(base, params[base].reshape(1))
                value = theta if term.derived is None else term.derived.forward(theta)
                out = out + term.prior.log_prob(value)
    return out.reshape(shape).cpu().numpy()


def _companion_mle(result):
    """The MLE drawn beside a MAP; its own warnings (e.g. an MLE on the boundary) are what the picture shows."""
    import warnings

    from ..errors import MlemapWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MlemapWarning)
        return result.mle()


def _scalar_names(result) -> list[str]:
    return [n for n in result.params if np.ndim(result.params[n]) == 0]


def _default_range(result, name: str, width: float = 4.0) -> tuple[float, float]:
    from ..families.transforms import finite_bounds

    est = float(result.params[name])
    se = result.se.get(name)
    se = float(se) if se is not None and np.isfinite(se) and se > 0 else max(abs(est), 1.0) * 0.5
    lo, hi = est - width * se, est + width * se
    a, b = finite_bounds(result.problem.constraint(name))
    if a is not None:
        lo = max(lo, a + 1e-3 * (hi - a))
    if b is not None:
        hi = min(hi, b - 1e-3 * (b - lo))
    return lo, hi


def loglik_curve(result, param: str | None = None, ax=None, grid=None, profile: bool = False, label=None, color=None):
    """The log-likelihood against one parameter, the estimate marked; returns the axes."""
    names = _scalar_names(result)
    param = param or (names[0] if names else None)
    if param not in names:
        raise MethodError(f"Choose one of the scalar parameters {names} for the curve.")
    values = np.linspace(*_default_range(result, param), 300) if grid is None else np.asarray(grid, dtype=float)
    if profile and len(result.params) > 1:
        from ..inference.profile import profile_log_likelihood

        ll = np.array([profile_log_likelihood(result, param, float(v)) for v in values])
    else:
        ll = loglik_grid(result, {param: values})
    ax = axes(ax)
    ax.plot(values, ll, color=color or PALETTE[0], linewidth=2, label=label or "log-likelihood")
    est = float(result.params[param])
    ax.axvline(est, color=PALETTE[1], linestyle="--", label=f"{result.estimator} = {est:.4g}")
    ax.set_xlabel(param)
    ax.set_ylabel("profile log-likelihood" if profile else "log-likelihood")
    ax.legend(frameon=False)
    tidy(ax)
    return ax


def loglik_contour(result, params: tuple[str, str] | None = None, ax=None, truth=None, n: int = 120, levels: int = 30,
                   ranges=None):
    """Filled contours of the log-likelihood over two parameters, the estimate (and ``truth``) marked."""
    names = _scalar_names(result)
    a, b = params or tuple(names[:2])
    ra = ranges[0] if ranges else _default_range(result, a)
    rb = ranges[1] if ranges else _default_range(result, b)
    if truth is not None and not ranges:  # widen the window so that the true value is on the picture
        ra = _cover(ra, truth[0])
        rb = _cover(rb, truth[1])
    A, B = np.meshgrid(np.linspace(*ra, n), np.linspace(*rb, n))
    ll = loglik_grid(result, {a: A, b: B})
    ax = axes(ax, figsize=(6.0, 5.0))
    floor = np.nanmax(ll) - 50 * max(1.0, np.nanstd(ll[np.isfinite(ll)]) / 10)
    cs = ax.contourf(A, B, np.maximum(ll, floor), levels=levels, cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label="log-likelihood")
    ax.plot(result.params[a], result.params[b], "*", color="#d62728", markersize=16, markeredgecolor="white",
            label=f"{result.estimator} ({result.params[a]:.3g}, {result.params[b]:.3g})")
    if truth is not None:
        ax.plot(truth[0], truth[1], "o", color="white", markeredgecolor="black", markersize=8,
                label=f"true ({truth[0]:.3g}, {truth[1]:.3g})")
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.legend(frameon=True, loc="upper right", fontsize=8)
    return ax


def _cover(window: tuple[float, float], value: float) -> tuple[float, float]:
    lo, hi = window
    pad = 0.1 * (hi - lo)
    return min(lo, value - pad), max(hi, value + pad)


def _normalised(logv: np.ndarray) -> np.ndarray:
    finite = np.isfinite(logv)
    out = np.zeros_like(logv)
    out[finite] = np.exp(logv[finite] - np.max(logv[finite]))
    return out


def prior_likelihood_posterior(result, param: str | None = None, ax=None, grid=None, title=None):
    """Prior, likelihood and posterior of one parameter, each scaled to a maximum of 1; MLE and MAP marked."""
    if result.estimator != "MAP":
        raise MethodError("prior_likelihood_posterior needs a MAP fit (one with a prior).")
    names = _scalar_names(result)
    param = param or names[0]
    term = result.problem.priors.get(param)
    if term is None:
        raise MethodError(f"'{param}' has no prior in this fit.")
    if grid is None:
        from ..families.transforms import finite_bounds

        lo, hi = finite_bounds(result.problem.constraint(param))
        if lo is not None and hi is not None:
            grid = np.linspace(lo + 1e-3 * (hi - lo), hi - 1e-3 * (hi - lo), 600)
        else:
            grid = np.linspace(*_default_range(result, param, 6.0), 600)
    grid = np.asarray(grid, dtype=float)
    ll = loglik_grid(result, {param: grid})
    with torch.no_grad():
        theta = torch.as_tensor(grid, dtype=result.problem.dtype)
        value = theta if term.derived is None else term.derived.forward(theta)
        lp = term.prior.log_prob(value).cpu().numpy() if not term.is_discrete else None
    ax = axes(ax)
    mle = _companion_mle(result)
    if lp is not None:
        ax.plot(grid, _normalised(lp), "--", color=PALETTE[2], linewidth=2, label="prior")
    ax.plot(grid, _normalised(ll), ":", color=PALETTE[0], linewidth=2.2, label="likelihood")
    if lp is not None:
        ax.plot(grid, _normalised(ll + lp), "-", color=PALETTE[1], linewidth=2.2, label="posterior")
    ax.axvline(float(mle.params[param]), color=PALETTE[0], linestyle="-.", alpha=0.8,
               label=f"MLE = {float(mle.params[param]):.3g}")
    ax.axvline(float(result.params[param]), color=PALETTE[1], linestyle="-.", alpha=0.8,
               label=f"MAP = {float(result.params[param]):.3g}")
    ax.set_xlabel(param)
    ax.set_ylabel("scaled to maximum 1")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    tidy(ax)
    return ax


def _prior_mode(result, names, A, B, lprior) -> tuple[float, float]:
    """The priors' own modes where torch knows them, else the best grid point."""
    peak = np.unravel_index(np.argmax(lprior), lprior.shape)
    out = [A[peak], B[peak]]
    for i, name in enumerate(names):
        term = result.problem.priors.get(name)
        if term is not None and term.derived is None:
            try:
                out[i] = float(term.prior.mode)
            except (NotImplementedError, AttributeError, TypeError, ValueError):
                pass
    return out[0], out[1]


def surface_trio(result, params: tuple[str, str] | None = None, axes_row=None, n: int = 100, ranges=None):
    """Log-likelihood, log-prior and log-posterior over two parameters, with their peaks."""
    if result.estimator != "MAP":
        raise MethodError("surface_trio needs a MAP fit (one with priors).")
    names = _scalar_names(result)
    a, b = params or tuple(names[:2])
    mle = _companion_mle(result)
    if ranges is None:
        pts = np.array([[mle.params[a], mle.params[b]], [result.params[a], result.params[b]], [0.0, 0.0]])
        span = np.ptp(pts, axis=0).max() or 1.0
        centre = pts.mean(0)
        ranges = [(centre[0] - 1.2 * span, centre[0] + 1.2 * span), (centre[1] - 1.2 * span, centre[1] + 1.2 * span)]
    A, B = np.meshgrid(np.linspace(*ranges[0], n), np.linspace(*ranges[1], n))
    ll = loglik_grid(result, {a: A, b: B})
    lpost = loglik_grid(result, {a: A, b: B}, prior=True)
    lprior = lpost - ll
    if axes_row is None:
        plt = pyplot()
        _, axes_row = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = [
        (ll, "log-likelihood", (mle.params[a], mle.params[b]), "MLE"),
        (lprior, "log-prior", _prior_mode(result, (a, b), A, B, lprior), "prior mode"),
        (lpost, "log-posterior = sum", (result.params[a], result.params[b]), "MAP"),
    ]
    for ax, (surface, title, peak, name) in zip(axes_row, panels):
        cs = ax.contourf(A, B, surface, levels=20, cmap="viridis")
        ax.contour(A, B, surface, levels=10, colors="white", alpha=0.3, linewidths=0.5)
        ax.plot(*peak, "*", color="#d62728", markersize=16, markeredgecolor="white", label=f"{name} ({peak[0]:.2f}, {peak[1]:.2f})")
        ax.set_title(title)
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        ax.legend(loc="upper right", fontsize=8)
        ax.figure.colorbar(cs, ax=ax)
    return axes_row
