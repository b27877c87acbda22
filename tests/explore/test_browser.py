"""The explorer in a real headless Chromium (Playwright driving Debian's ``chromium``).

Each test moves the page's controls, reads the numbers the page shows and compares them with
mlemap (or, for the optimiser panel, with torch's own optimisers fed the same minibatches). Every
page must load and run without a console error and without a single network request. The tests
skip, saying why, only where no browser or no Playwright is available.
"""

import math
import os
import shutil
import tempfile
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as td

import mlemap as mm
from mlemap.explore import write_page
from mlemap.explore.data import (
    BATCH_SIZES,
    MINIBATCH_SEED,
    OPTIM_START,
    optimiser_sample,
    posterior_2d,
    sparse_regression,
)

CHROMIUM = os.environ.get("MLEMAP_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOWN = 1.5e-6  # numbers are shown to 6 decimals
SLIDERS = {"prior_a", "prior_b", "heads", "tosses", "normal_n", "normal_xbar", "normal_sigma", "normal_mu0", "normal_tau",
           "post_lambda", "path_alpha", "opt_lr", "opt_batch", "opt_steps"}

if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
    pytest.skip(f"no browser: {CHROMIUM} is missing (install it with `apt-get install -y chromium`)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    out = tmp_path_factory.mktemp("explore")
    return "file://" + write_page(str(out))


@pytest.fixture(scope="module")
def browser_context():
    profile = tempfile.mkdtemp(prefix="mlemap-chromium-")  # a fresh --user-data-dir
    try:
        with sync_api.sync_playwright() as p:
            context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                           viewport={"width": 1280, "height": 900})
            yield context
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """One loaded explorer page, with what it logged and requested."""

    def __init__(self, context, url):
        self.page = context.new_page()
        self.errors, self.requests, self.url = [], [], url
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='true']", timeout=15_000)

    def set(self, control: str, value) -> None:
        if control == "opt_method":
            self.page.select_option(f"#{control}", value)
        else:
            self.page.fill(f"#{control}", str(value))

    def number(self, element: str) -> float:
        text = self.page.text_content(f"#{element}").strip()
        return float("nan") if text == "undefined" else float(text)

    def text(self, element: str) -> str:
        return self.page.text_content(f"#{element}").strip()

    def slider(self, control: str) -> float:
        return float(self.page.input_value(f"#{control}"))


@pytest.fixture(scope="module")
def loaded(browser_context, page_url):
    """One page for the module (each test sets every control it relies on)."""
    page = Page(browser_context, page_url)
    yield page
    page.page.close()


@pytest.fixture
def explorer(loaded, page_url):
    yield loaded
    assert loaded.errors == [], f"console errors: {loaded.errors}"
    assert loaded.requests == [page_url], f"network requests: {loaded.requests}"


def beta(a, b):
    return td.Beta(torch.tensor(float(a), dtype=torch.float64), torch.tensor(float(b), dtype=torch.float64))


# ---------------------------------------------------------------------------------------------- the whole page
def test_the_page_loads_offline_and_every_slider_is_exercised(explorer, tmp_path_factory):
    ranges = explorer.page.eval_on_selector_all("input[type=range]", "els => els.map(e => e.id)")
    assert set(ranges) == SLIDERS  # each of them is moved by a test below
    shot = tmp_path_factory.mktemp("screenshots") / "explorer.png"
    explorer.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")


def test_the_generator_for_minibatches_is_the_documented_one(explorer):
    from_page = explorer.page.evaluate(f"window.mlemapExplore.random({MINIBATCH_SEED}, 6)")
    assert from_page == list(mulberry32(MINIBATCH_SEED, 6))


def test_a_slider_moved_with_the_keyboard_updates_the_numbers(explorer):
    explorer.set("tosses", 10)
    explorer.set("heads", 7)
    explorer.page.focus("#tosses")
    explorer.page.keyboard.press("ArrowLeft")
    n = int(explorer.slider("tosses"))
    h = int(explorer.slider("heads"))
    assert n == 9 and explorer.text("tosses-value") == "9"
    assert explorer.number("coin-mle") == pytest.approx(h / n, abs=SHOWN)


# ---------------------------------------------------------------------------------------------- 1. coin
COIN_CASES = [  # prior a, prior b, heads, tosses
    (2.0, 2.0, 7, 10),
    (2.0, 2.0, 10, 10),  # all heads: the MLE on the boundary, the MAP inside
    (0.5, 0.5, 0, 3),  # a posterior density unbounded at 0: the MAP is the edge
    (1.0, 1.0, 3, 3),  # a flat prior: MAP = MLE = 1
    (10.0, 10.0, 3, 3),  # the course's strong prior: 12/21
    (50.0, 0.5, 64, 100),
    (3.5, 7.0, 1, 1),
]


@pytest.mark.parametrize("a, b, h, n", COIN_CASES)
def test_coin_panel_matches_mlemap(explorer, a, b, h, n):
    for control, value in (("prior_a", a), ("prior_b", b), ("tosses", n), ("heads", h)):
        explorer.set(control, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mm.MlemapWarning)
        r = mm.fit("bernoulli", [1] * h + [0] * (n - h), prior={"probs": beta(a, b)})
        mle = mm.fit("bernoulli", [1] * h + [0] * (n - h))
    lo, hi = r.credible_interval()["probs"]
    assert explorer.number("coin-map") == pytest.approx(r.params["probs"], abs=SHOWN)
    assert explorer.number("coin-mle") == pytest.approx(mle.params["probs"], abs=SHOWN)
    assert explorer.number("coin-mean") == pytest.approx(float(r.posterior["probs"].mean), abs=SHOWN)
    assert explorer.number("coin-ci-low") == pytest.approx(lo, abs=SHOWN)
    assert explorer.number("coin-ci-high") == pytest.approx(hi, abs=SHOWN)
    assert explorer.text("coin-map") == f"{r.params['probs']:.6f}"
    if h == n and 0 < r.params["probs"] < 1:
        assert "boundary" in explorer.text("coin-note") and "inside" in explorer.text("coin-note")


def test_coin_without_tosses_shows_the_prior(explorer):
    from scipy import stats

    explorer.set("prior_a", 3.0)
    explorer.set("prior_b", 1.5)
    explorer.set("tosses", 0)
    assert explorer.text("coin-mle") == "undefined" and explorer.text("heads-value") == "0"
    assert explorer.number("coin-map") == pytest.approx((3 - 1) / (3 + 1.5 - 2), abs=SHOWN)
    assert explorer.number("coin-ci-low") == pytest.approx(stats.beta.ppf(0.025, 3, 1.5), abs=SHOWN)


def test_heads_cannot_exceed_tosses(explorer):
    explorer.set("tosses", 10)
    explorer.set("heads", 9)
    explorer.set("tosses", 4)
    assert explorer.slider("heads") == 4 and explorer.number("coin-mle") == pytest.approx(1.0, abs=SHOWN)


# ---------------------------------------------------------------------------------------------- 2. normal mean
NORMAL_CASES = [  # n, sample mean, sigma, mu0, tau
    (5, 2.7, 1.0, 2.0, 0.7),
    (1, -3.0, 2.5, 1.5, 0.3),
    (100, 0.45, 4.0, -5.0, 5.0),
    (37, 4.95, 0.1, 0.0, 0.05),
]


@pytest.mark.parametrize("n, xbar, sigma, mu0, tau", NORMAL_CASES)
def test_normal_panel_matches_mlemap(explorer, n, xbar, sigma, mu0, tau):
    for control, value in zip(("normal_n", "normal_xbar", "normal_sigma", "normal_mu0", "normal_tau"),
                              (n, xbar, sigma, mu0, tau)):
        explorer.set(control, value)
    xbar, sigma, mu0, tau = (explorer.slider(c) for c in ("normal_xbar", "normal_sigma", "normal_mu0", "normal_tau"))
    spread = np.resize([-0.5, 0.5], n) if n % 2 == 0 else np.r_[np.resize([-0.5, 0.5], n - 1), 0.0]
    data = xbar + spread  # a sample of n with mean xbar
    prior = td.Normal(torch.tensor(mu0, dtype=torch.float64), torch.tensor(tau, dtype=torch.float64))
    r = mm.fit("normal", data, fixed={"scale": sigma}, prior={"loc": prior})
    assert explorer.number("normal-mle") == pytest.approx(mm.fit("normal", data, fixed={"scale": sigma}).params["loc"],
                                                          abs=SHOWN)
    assert explorer.number("normal-map") == pytest.approx(r.params["loc"], abs=SHOWN)
    assert explorer.number("normal-post-sd") == pytest.approx(r.se["loc"], abs=SHOWN)
    weight = (n / sigma**2) / (n / sigma**2 + 1 / tau**2)
    assert explorer.number("normal-weight") == pytest.approx(weight, abs=SHOWN)


# ---------------------------------------------------------------------------------------------- 3. posterior in 2-D
@pytest.mark.parametrize("log_lambda", [-2.0, -0.3, 0.5, 2.0])
def test_posterior_panel_matches_mlemap(explorer, log_lambda):
    explorer.set("post_lambda", log_lambda)
    lam = 10 ** explorer.slider("post_lambda")
    d = posterior_2d()
    X, y = np.array(d["X"]), np.array(d["y"])
    # unit noise scale and a log-prior -lambda |theta|^2: ridge with alpha = 2 lambda
    ridge = mm.LinearRegression(prior=mm.priors.ridge(2 * lam), fit_intercept=False).fit(X, y)
    mle = mm.LinearRegression(fit_intercept=False).fit(X, y)
    assert [explorer.number("post-map-1"), explorer.number("post-map-2")] == pytest.approx(list(ridge.coef_), abs=SHOWN)
    assert [explorer.number("post-mle-1"), explorer.number("post-mle-2")] == pytest.approx(list(mle.coef_), abs=SHOWN)


def test_posterior_panel_is_the_map_of_the_lessons_custom_likelihood(explorer):
    explorer.set("post_lambda", 0.0)  # lambda = 1
    d = posterior_2d()
    rows = np.column_stack([d["X"], d["y"]])

    def log_prob(r, theta1, theta2):
        return td.Normal(r[:, 0] * theta1 + r[:, 1] * theta2, 1.0).log_prob(r[:, 2])

    prior = td.Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1 / math.sqrt(2), dtype=torch.float64))
    r = mm.fit(log_prob, rows, init={"theta1": 0.0, "theta2": 0.0}, prior={"theta1": prior, "theta2": prior})
    assert explorer.number("post-map-1") == pytest.approx(r.params["theta1"], abs=1e-5)
    assert explorer.number("post-map-2") == pytest.approx(r.params["theta2"], abs=1e-5)


# ---------------------------------------------------------------------------------------------- 4. ridge and lasso
@pytest.mark.parametrize("log_alpha", [-3.0, -1.0, -0.4, 0.0, 0.5])
def test_paths_panel_matches_mlemap(explorer, log_alpha):
    explorer.set("path_alpha", log_alpha)
    alpha = 10 ** explorer.slider("path_alpha")
    d = sparse_regression()
    X, y = np.array(d["X"]), np.array(d["y"])
    lasso = mm.LinearRegression(prior=mm.priors.lasso(alpha)).fit(X, y).coef_
    ridge = mm.LinearRegression(prior=mm.priors.elastic_net(alpha, 0.0)).fit(X, y).coef_
    shown_lasso = [explorer.number(f"lasso-coef-{j}") for j in range(X.shape[1])]
    shown_ridge = [explorer.number(f"ridge-coef-{j}") for j in range(X.shape[1])]
    assert shown_lasso == pytest.approx(list(lasso), abs=SHOWN)
    assert shown_ridge == pytest.approx(list(ridge), abs=SHOWN)
    assert int(explorer.text("lasso-zeros")) == int(np.sum(lasso == 0))
    assert int(explorer.text("ridge-zeros")) == 0
    zero_cells = explorer.page.eval_on_selector_all("td.zero", "els => els.map(e => e.id)")
    assert zero_cells == [f"lasso-coef-{j}" for j in np.flatnonzero(lasso == 0)]


def test_large_alpha_sets_every_lasso_coefficient_to_zero(explorer):
    explorer.set("path_alpha", 0.5)
    assert explorer.text("lasso-zeros") == "8"


# ---------------------------------------------------------------------------------------------- 5. optimisers
def mulberry32(seed: int, count: int):
    """The page's generator, in exact 32-bit integer arithmetic."""
    mask = 0xFFFFFFFF
    a = seed & mask
    for _ in range(count):
        a = (a + 0x6D2B79F5) & mask
        t = ((a ^ (a >> 15)) * (1 | a)) & mask
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & mask)) & mask) ^ t
        yield ((t ^ (t >> 14)) & mask) / 4294967296


def torch_trajectory(method: str, lr: float, batch: int, steps: int) -> np.ndarray:
    """The same run with torch's optimisers on minus the mean log-likelihood of each minibatch."""
    d = optimiser_sample()
    x = torch.tensor(d["x"], dtype=torch.float64)
    precision = torch.linalg.inv(torch.tensor(d["covariance"], dtype=torch.float64))
    n = x.shape[0]
    draws = iter(mulberry32(MINIBATCH_SEED, steps * batch))
    mu = torch.tensor(OPTIM_START, dtype=torch.float64, requires_grad=True)
    make = {"gd": lambda p: torch.optim.SGD([p], lr=lr), "momentum": lambda p: torch.optim.SGD([p], lr=lr, momentum=0.9),
            "adam": lambda p: torch.optim.Adam([p], lr=lr)}[method]
    opt = make(mu)
    for _ in range(steps):
        if batch >= n:
            rows = x
        else:
            rows = x[[int(next(draws) * n) for _ in range(batch)]]
        opt.zero_grad()
        diff = rows.mean(0) - mu
        loss = 0.5 * diff @ precision @ diff  # its gradient in mu is -Sigma^-1 (mean - mu), as for the mean -loglik
        loss.backward()
        opt.step()
    return mu.detach().numpy()


OPTIM_CASES = [  # method, log10 rate, batch index, steps
    ("gd", -0.3, 4, 100),
    ("gd", -1.0, 2, 60),
    ("momentum", -1.5, 4, 200),
    ("momentum", -2.0, 1, 80),
    ("adam", -0.5, 4, 300),
    ("adam", -1.0, 0, 50),
]


@pytest.mark.parametrize("method, log_lr, batch_index, steps", OPTIM_CASES)
def test_optimiser_panel_matches_torch_and_mlemap(explorer, method, log_lr, batch_index, steps):
    for control, value in (("opt_method", method), ("opt_lr", log_lr), ("opt_batch", batch_index), ("opt_steps", steps)):
        explorer.set(control, value)
    lr = 10 ** explorer.slider("opt_lr")
    batch = BATCH_SIZES[int(explorer.slider("opt_batch"))]
    d = optimiser_sample()
    fit = mm.fit("multivariate_normal", np.array(d["x"]), fixed={"covariance_matrix": np.array(d["covariance"])})
    mle = fit.params["loc"]
    assert [explorer.number("opt-mle-1"), explorer.number("opt-mle-2")] == pytest.approx(list(mle), abs=SHOWN)
    final = torch_trajectory(method, lr, batch, steps)
    assert [explorer.number("opt-final-1"), explorer.number("opt-final-2")] == pytest.approx(list(final), abs=1e-5)
    assert explorer.number("opt-distance") == pytest.approx(float(np.hypot(*(final - mle))), abs=1e-5)
    assert explorer.text("opt-steps-taken") == str(steps)


def test_a_rate_above_the_stability_limit_diverges(explorer):
    explorer.set("opt_method", "gd")
    explorer.set("opt_batch", 4)
    explorer.set("opt_lr", 0.3)  # 2.0 > 2 x (smallest variance 0.5) = 1
    explorer.set("opt_steps", 500)
    assert explorer.text("opt-final-1") == "diverged"
    explorer.set("opt_lr", -0.05)  # 0.89 < 1: converges
    assert explorer.number("opt-distance") < 1e-6
