"""The explorer page: one self-contained HTML file (styles, data and script inline; nothing is fetched)."""

from __future__ import annotations

import json
import os
from html import escape

from .data import all_data
from .script import SCRIPT

FILENAME = "explore.html"

STYLE = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 1180px; margin: 1.5em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-weight: 600; margin-bottom: .2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
section { display: grid; grid-template-columns: 330px 1fr; gap: 1.2em; align-items: start; }
.controls label { display: grid; grid-template-columns: 7.5em 1fr 4.5em; align-items: center; gap: .5em; margin: .35em 0;
                  font-size: 14px; }
.controls output { font-variant-numeric: tabular-nums; text-align: right; }
.readout { border-collapse: collapse; margin-top: .8em; font-size: 14px; }
.readout td, .readout th { padding: .18em .7em .18em 0; text-align: left; }
.readout td.num, .coef td { font-variant-numeric: tabular-nums; text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
.note { color: #555; font-size: 14px; min-height: 1.2em; }
.plots { display: flex; flex-wrap: wrap; gap: .6em; }
svg text.tick { font-size: 11px; fill: #444; } svg text.axis { font-size: 12px; fill: #222; }
svg text.legend { font-size: 12px; fill: #222; }
table.coef { border-collapse: collapse; font-size: 13px; } table.coef td, table.coef th { padding: .1em .6em; }
table.coef td.zero { background: #e8f3ec; font-weight: 600; }
canvas { border: 0; }
"""


def _slider(id_: str, label: str, lo, hi, step, value) -> str:
    return (f"<label for='{id_}'>{escape(label)}<input type='range' id='{id_}' name='{id_}' min='{lo}' max='{hi}' "
            f"step='{step}' value='{value}'><output id='{id_}-value'></output></label>")


def _row(label: str, id_: str) -> str:
    return f"<tr><td>{escape(label)}</td><td class='num' id='{id_}'></td></tr>"


def _coin() -> str:
    return f"""
<h2 id="coin">1. A coin with a Beta prior</h2>
<section><div class="controls">
{_slider("prior_a", "prior a", 0.5, 50, 0.5, 2)}
{_slider("prior_b", "prior b", 0.5, 50, 0.5, 2)}
{_slider("heads", "heads", 0, 100, 1, 7)}
{_slider("tosses", "tosses", 0, 100, 1, 10)}
<table class="readout">
{_row("MLE h / N", "coin-mle")}{_row("MAP (posterior mode)", "coin-map")}{_row("posterior mean", "coin-mean")}
{_row("95% credible, lower", "coin-ci-low")}{_row("95% credible, upper", "coin-ci-high")}
<tr><td>posterior</td><td class="num" id="coin-posterior"></td></tr>
</table>
<p class="note" id="coin-note"></p>
<p class="note">Set heads equal to tosses: the MLE goes to the boundary p = 1, the MAP stays inside.</p>
</div><div class="plots" id="coin-plot"></div></section>"""


def _normal() -> str:
    return f"""
<h2 id="normal">2. A normal mean with a normal prior</h2>
<section><div class="controls">
{_slider("normal_n", "n", 1, 100, 1, 5)}
{_slider("normal_xbar", "sample mean", -5, 5, 0.05, 2.7)}
{_slider("normal_sigma", "sigma (known)", 0.1, 5, 0.05, 1)}
{_slider("normal_mu0", "prior mean mu0", -5, 5, 0.05, 2)}
{_slider("normal_tau", "prior sd tau", 0.05, 5, 0.05, 0.7)}
<table class="readout">
{_row("MLE (sample mean)", "normal-mle")}{_row("MAP = posterior mean", "normal-map")}
{_row("posterior sd", "normal-post-sd")}{_row("weight of the data", "normal-weight")}
</table>
<p class="note">The MAP is the precision-weighted average (mu0 / tau² + n x̄ / sigma²) / (1 / tau² + n / sigma²).</p>
</div><div class="plots" id="normal-plot"></div></section>"""


def _posterior() -> str:
    return f"""
<h2 id="posterior2d">3. Likelihood × prior = posterior, in two dimensions</h2>
<section><div class="controls">
{_slider("post_lambda", "log10 lambda", -2, 2, 0.05, -0.3)}
<table class="readout">
{_row("MLE theta1", "post-mle-1")}{_row("MLE theta2", "post-mle-2")}
{_row("MAP theta1", "post-map-1")}{_row("MAP theta2", "post-map-2")}
{_row("share of the way to 0", "post-share")}
</table>
<p class="note">Twelve rows of y = 2.5 x1 + x2 + noise; log-likelihood with unit noise scale, log-prior
-lambda |theta|². The MAP (square) slides along the white curve from the MLE (star) to the prior mode (circle).</p>
</div><div class="plots">
<canvas id="post-loglik" width="270" height="270"></canvas><canvas id="post-logprior" width="270" height="270"></canvas>
<canvas id="post-logpost" width="270" height="270"></canvas></div></section>"""


def _paths(d: int) -> str:
    rows = "".join(f"<tr><td>x{j}</td><td id='ridge-coef-{j}'></td><td id='lasso-coef-{j}'></td></tr>" for j in range(d))
    return f"""
<h2 id="paths">4. Ridge against lasso</h2>
<section><div class="controls">
{_slider("path_alpha", "log10 alpha", -3, 0.5, 0.01, -1)}
<table class="coef"><tr><th>feature</th><th>ridge (Gaussian)</th><th>lasso (Laplace)</th></tr>{rows}
<tr><th>exact zeros</th><td id="ridge-zeros"></td><td id="lasso-zeros"></td></tr></table>
<p class="note">100 rows, 8 standardised features, only x0, x1, x2 matter. Both penalties in scikit-learn's
per-row scale: lasso (1/2n)|r|² + alpha |b|₁, ridge (1/2n)|r|² + (alpha/2)|b|² (mlemap's priors.lasso(alpha)
and priors.elastic_net(alpha, 0)). Exact zeros appear only under the Laplace prior. Coloured paths: x0 (blue), x1
(orange), x2 (green); the idle features are grey.</p>
</div><div class="plots"><div id="ridge-plot"></div><div id="lasso-plot"></div></div></section>"""


def _optim() -> str:
    return f"""
<h2 id="optimisers">5. Optimisers on a likelihood surface</h2>
<section><div class="controls">
{_slider("opt_lr", "log10 rate", -3, 0.5, 0.05, -0.3)}
<label for="opt_method">optimiser<select id="opt_method" name="opt_method">
<option value="gd" selected>gradient ascent</option><option value="momentum">momentum 0.9</option>
<option value="adam">Adam</option></select><span></span></label>
{_slider("opt_batch", "batch size", 0, 4, 1, 4)}
{_slider("opt_steps", "steps", 10, 500, 10, 100)}
<table class="readout">
{_row("MLE mu1 (sample mean)", "opt-mle-1")}{_row("MLE mu2", "opt-mle-2")}
{_row("last iterate mu1", "opt-final-1")}{_row("last iterate mu2", "opt-final-2")}
{_row("distance to the MLE", "opt-distance")}{_row("steps taken", "opt-steps-taken")}
</table>
<p class="note">1000 draws of a 2-D Gaussian with a known, elongated covariance. Each step follows the gradient of
the mean log-likelihood of a minibatch (drawn with replacement), as torch's SGD, SGD with momentum and Adam would.
Gradient ascent is stable for rates below 2 × 0.5 = 1 (twice the smallest variance).</p>
</div><div class="plots"><canvas id="opt-plot" width="520" height="400"></canvas></div></section>"""


def page_html(report_link: str | None = "index.html") -> str:
    """The whole page as a string; ``report_link`` (if any) points back to the lessons report."""
    data = all_data()
    payload = json.dumps(data, allow_nan=False).replace("</", "<\\/")
    back = (f"<p>Part of the mlemap course: the <a href='{escape(report_link)}'>lessons report</a> derives and checks "
            "each of these results.</p>" if report_link else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlemap explorer: MLE and MAP, live</title><style>{STYLE}</style></head>
<body>
<h1>mlemap explorer: MLE and MAP, live</h1>
<p>Move a control and the estimates move with it. Every number is computed in this page, offline, with the
formulas mlemap uses; the tests that ship with mlemap check the page against the library.</p>
{back}
{_coin()}{_normal()}{_posterior()}{_paths(len(data["paths"]["X"][0]))}{_optim()}
<script type="application/json" id="explore-data">{payload}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def write_page(out_dir: str, report_link: str | None = "index.html") -> str:
    """Write ``out_dir/explore.html``; returns its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, FILENAME)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page_html(report_link))
    return path
