"""Lesson 22: the score and the Fisher information, in the parametrisation the learner writes down.

For five observations and a normal model the course reports the log-likelihood at the MLE, the
score in (mu, sigma^2) and the Fisher information diag(n/sigma^2, n/(2 sigma^4)). mlemap's
``FitResult.score`` and ``FitResult.information`` give the same numbers when asked for the
``variance`` coordinate; in the family's own coordinates (mu, sigma) the information is
diag(n/sigma^2, 2n/sigma^2). The two are related by the Jacobian of sigma = sqrt(v); the standard
errors they imply are the same quantities measured in different units.
"""

import numpy as np

import mlemap as mm
from mlemap import plots

from .base import Lesson, LessonOutput, close, holds

DATA = np.array([2.3, 2.5, 3.1, 3.8, 2.7])


def normal_loglik(x, mu, variance):
    return -x.size / 2 * np.log(2 * np.pi * variance) - np.sum((x - mu) ** 2) / (2 * variance)


def run(ctx):
    x, n = DATA, DATA.size
    r = mm.fit("normal", x)
    mu, v = x.mean(), x.var()
    score_v = r.score(parametrization="variance")
    expected_v = r.information("expected", parametrization="variance")
    observed_v = r.information("observed", parametrization="variance")
    expected_s = r.information("expected")
    at = {"loc": 2.0, "variance": 1.0}
    score_away = r.score(at, parametrization="variance")
    jac = np.diag([1.0, 1 / (2 * np.sqrt(v))])  # d(mu, sigma) / d(mu, v)
    se_v = np.sqrt(np.diag(np.linalg.inv(expected_v)))

    fig, (a, b) = plots.subplots(1, 2, figsize=(12, 4.4))
    vs = np.linspace(0.05, 1.2, 300)
    ll = [r.log_likelihood_at(scale=np.sqrt(t)) for t in vs]
    a.plot(vs, ll, color=plots.PALETTE[0], lw=2, label="log-likelihood (mu at its MLE)")
    a.plot(vs, r.loglik - 0.5 * observed_v[1, 1] * (vs - v) ** 2, "--", color=plots.PALETTE[1], lw=1.8,
           label=f"quadratic with curvature I = {observed_v[1, 1]:.2f}")
    a.axvline(v, color="0.4", ls=":", label=f"MLE sigma^2 = {v:.4f}")
    a.set_ylim(r.loglik - 6, r.loglik + 0.8)
    a.set_xlabel("sigma^2 (variance)")
    a.set_ylabel("log-likelihood")
    a.set_title("in the variance: I = n / (2 sigma^4)")
    a.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    plots.tidy(a)
    ss = np.sqrt(vs)
    b.plot(ss, [r.log_likelihood_at(scale=t) for t in ss], color=plots.PALETTE[0], lw=2, label="log-likelihood")
    b.plot(ss, r.loglik - 0.5 * expected_s[1, 1] * (ss - np.sqrt(v)) ** 2, "--", color=plots.PALETTE[1], lw=1.8,
           label=f"quadratic with curvature I = {expected_s[1, 1]:.2f}")
    b.axvline(np.sqrt(v), color="0.4", ls=":", label=f"MLE sigma = {np.sqrt(v):.4f}")
    b.set_ylim(r.loglik - 6, r.loglik + 0.8)
    b.set_xlabel("sigma (scale)")
    b.set_title("in the scale: I = 2n / sigma^2")
    b.legend(frameon=False, fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    plots.tidy(b)
    fig.tight_layout()
    return LessonOutput(
        checks=[
            close("log-likelihood at the MLE = -3.926524", r.loglik, normal_loglik(x, mu, v), rtol=1e-13),
            close("... the course's number", r.loglik, -3.926523529277739, rtol=1e-12),
            close("score in (mu, sigma^2) at the MLE", list(score_v.values()), [0.0, 0.0], atol=1e-12),
            close("score at (mu, sigma^2) = (2, 1): (sum(x - mu)/v, -n/(2v) + sum(x - mu)^2/(2v^2))",
                  list(score_away.values()),
                  [np.sum(x - 2.0) / 1.0, -n / 2 + np.sum((x - 2.0) ** 2) / 2], rtol=1e-13),
            close("expected information in (mu, sigma^2) = diag(n/v, n/(2v^2))", expected_v,
                  np.diag([n / v, n / (2 * v**2)]), rtol=1e-12, atol=1e-12),
            close("... = diag(17.7557, 31.5264) as the course prints", np.diag(expected_v), [17.75568182, 31.52642368],
                  rtol=1e-9),
            close("observed = expected at the MLE", observed_v, expected_v, rtol=1e-12, atol=1e-12),
            close("in (mu, sigma): diag(n/v, 2n/v)", expected_s, np.diag([n / v, 2 * n / v]), rtol=1e-12, atol=1e-12),
            close("change of variables: I_v = J' I_sigma J", jac.T @ expected_s @ jac, expected_v, rtol=1e-12, atol=1e-12),
            close("SE(sigma^2) = sigma^2 sqrt(2/n), the delta method on SE(sigma)", se_v[1], 2 * np.sqrt(v) * r.se["scale"],
                  rtol=1e-10),
            holds("inverse information in (mu, sigma) = the fit's covariance",
                  bool(np.allclose(np.linalg.inv(expected_s), r.cov, rtol=1e-10)), np.sqrt(np.diag(r.cov)), "r.cov"),
        ],
        figures=[("The same log-likelihood against the variance (left) and the scale (right), with the quadratic "
                  "whose curvature is the Fisher information in that coordinate: the curvature, and so the number "
                  "quoted as 'the information', depends on the parametrisation.", fig)],
        findings=[
            f"log-likelihood {r.loglik:.10f}; score (mu, sigma^2) = ({score_v['loc']:.1e}, {score_v['variance']:.1e}); "
            f"information diag({expected_v[0, 0]:.4f}, {expected_v[1, 1]:.4f}).",
            "r.information(kind='expected', parametrization='variance') gives the course's matrix; without the "
            f"parametrization, mlemap reports the scale's information {expected_s[1, 1]:.4f}.",
        ],
    )


LESSON = Lesson(
    22, "information", "Score and Fisher information, in your parametrisation",
    r"$s(\theta) = \nabla_\theta \ell(\theta),\quad I(\theta) = -\mathrm{E}\,\nabla^2_\theta\ell;\quad"
    r"I(\mu,\sigma^2) = \mathrm{diag}\left(\frac{n}{\sigma^2}, \frac{n}{2\sigma^4}\right),\ "
    r"I(\mu,\sigma) = \mathrm{diag}\left(\frac{n}{\sigma^2}, \frac{2n}{\sigma^2}\right)$",
    "The score vanishes at the MLE and the information is the log-likelihood's curvature there. Both depend on "
    "the coordinates: mlemap's score() and information() take parametrization='variance' to match the course.",
    run,
)
