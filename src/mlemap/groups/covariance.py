"""Standard errors of every group from its block of the Hessian: the single fit's rule, batched.

Group ``b``'s covariance is the inverse of its information matrix :math:`H_b` (observed information
for an MLE, the Hessian of the negative log-posterior for a MAP) over the parameters not held on
the boundary, inverted as :func:`mlemap.inference.covariance.invert_information` inverts it: scaled
to unit diagonal (:math:`D^{-1} H D^{-1}`), refused when the smallest scaled eigenvalue is at most
:math:`10^{-13}` of the largest or a diagonal entry is not positive (NaN, with the reason), else
:math:`D^{-1} (D^{-1} H D^{-1})^{-1} D^{-1}`. Groups that hold different parameters are inverted
in batches of the same pattern.
"""

from __future__ import annotations

import torch

from .subproblem import symmetric_eigh


def invert_batch(H: torch.Tensor, what: str) -> tuple[torch.Tensor, dict[int, str]]:
    """Covariances ``(B, k, k)`` of information matrices ``H`` and the groups without one, with the reason."""
    B, k, _ = H.shape
    cov = torch.full_like(H, float("nan"))
    reasons: dict[int, str] = {}
    if k == 0 or B == 0:
        return cov, reasons
    finite = torch.isfinite(H).all(2).all(1)
    eye = torch.eye(k, dtype=H.dtype, device=H.device)
    Hs = torch.where(finite[:, None, None], 0.5 * (H + H.transpose(1, 2)), eye)
    diag = torch.diagonal(Hs, dim1=1, dim2=2)
    d = diag.abs().clamp_min(1e-300).sqrt()
    dd = d[:, :, None] * d[:, None, :]
    evals, evecs = symmetric_eigh(Hs / dd)
    top = evals.abs().amax(1)
    low = evals[:, 0]
    bad = (low <= 1e-13 * top) | (diag <= 0).any(1)
    good = finite & ~bad
    inv = (evecs / evals[:, None, :]) @ evecs.transpose(1, 2) / dd
    cov = torch.where(good[:, None, None], inv, cov)
    singular = (low >= -1e-13 * top) & (diag >= 0).all(1)
    for b in torch.nonzero(~good).reshape(-1).tolist():
        if not bool(finite[b]):
            reasons[b] = f"the {what} is not finite at the estimate"
        else:
            reasons[b] = f"the {what} is {'singular' if bool(singular[b]) else 'not positive definite'} at the estimate"
    return cov, reasons


def standard_errors(H: torch.Tensor, held: torch.Tensor, what: str) -> tuple[torch.Tensor, dict[int, str]]:
    """Standard errors ``(B, p)`` from Hessians ``(B, p, p)``; ``held`` (B, p) marks parameters held
    on the boundary (no standard error; the others are conditional on them). Returns the groups whose
    information matrix could not be inverted, with the reason."""
    B, p = held.shape
    se = torch.full((B, p), float("nan"), dtype=H.dtype, device=H.device)
    failures: dict[int, str] = {}
    bits = (held.to(torch.int64) << torch.arange(p, device=held.device)).sum(1)  # one integer per pattern
    patterns = torch.unique(bits).tolist()
    for code in patterns:
        active = [j for j in range(p) if not (code >> j) & 1]
        if not active:
            continue
        if len(patterns) == 1 and len(active) == p:  # every group, every parameter: no copies
            cov, reasons = invert_batch(H, what)
            se = _root_of_diagonal(cov)
            failures.update(reasons)
            continue
        members = torch.nonzero(bits == code).reshape(-1)
        index = torch.tensor(active, dtype=torch.int64, device=held.device)
        cov, reasons = invert_batch(H[members][:, index][:, :, index], what)
        sub = se[members]
        sub[:, index] = _root_of_diagonal(cov)
        se[members] = sub
        failures.update({int(members[b]): why for b, why in reasons.items()})
    return se, failures


def _root_of_diagonal(cov: torch.Tensor) -> torch.Tensor:
    """Square roots of the variances (NaN stays NaN, rounding below zero is zero)."""
    var = torch.diagonal(cov, dim1=1, dim2=2)
    return torch.where(torch.isnan(var), var, var.clamp_min(0.0).sqrt())
