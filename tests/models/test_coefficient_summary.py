"""summary(): the coefficient table renders as text, HTML, a JSON-safe dict and a DataFrame."""

import json

import numpy as np
import pandas as pd
import pytest

import mlemap.models as mm
from mlemap import priors


def _data():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"[bold]dose[/bold]": rng.standard_normal(120), "age": rng.normal(50, 10, 120)})
    y = (rng.random(120) < 1 / (1 + np.exp(-(0.5 * X.iloc[:, 0] + 0.02 * (X["age"] - 50))))).astype(int)
    return X, y


X, y = _data()


@pytest.fixture(scope="module")
def fitted():
    return mm.LogisticRegression().fit(X, y)


def test_text_has_the_table_and_the_fit_statistics(fitted):
    text = str(fitted.summary())
    for fragment in ["MLE fit of LogisticRegression", "Log-likelihood", "AIC", "BIC", "std. error", "P>|z|",
                     "95% CI (Wald)", "intercept", "age"]:
        assert fragment in text
    # names are printed literally (no rich markup interpretation)
    assert "[bold]dose[/bold]" in text
    assert "\x1b[" not in text


def test_rows_match_the_fitted_attributes(fitted):
    frame = fitted.summary().to_frame()
    assert list(frame.index) == ["[bold]dose[/bold]", "age", "intercept"]
    np.testing.assert_allclose(frame["estimate"].values, np.r_[fitted.coef_, fitted.intercept_])
    np.testing.assert_allclose(frame["se"].values, np.r_[fitted.se_, fitted.intercept_se_])
    np.testing.assert_allclose(frame["z"].values[:2], fitted.z_)
    np.testing.assert_allclose(frame["pvalue"].values[:2], fitted.pvalues_)
    ci = fitted.conf_int(0.9)
    frame90 = fitted.summary(level=0.9).to_frame()
    np.testing.assert_allclose(frame90[["lower", "upper"]].values, ci.values)


def test_to_dict_is_json_safe_and_html_escapes(fitted):
    data = fitted.summary().to_dict()
    json.dumps(data)
    assert data["estimator"] == "MLE" and len(data["coefficients"]) == 3
    html = fitted.summary().to_html()
    assert "&lt;" not in html or "<table>" in html
    assert "[bold]dose[/bold]" in html and "<script" not in html


def test_cov_is_labelled_and_symmetric(fitted):
    cov = fitted.cov_
    assert list(cov.index) == list(cov.columns) == ["[bold]dose[/bold]", "age", "intercept"]
    np.testing.assert_allclose(cov.values, cov.values.T)
    np.testing.assert_allclose(np.sqrt(np.diag(cov.values)), np.r_[fitted.se_, fitted.intercept_se_])


def test_map_summary_names_the_prior_and_posterior_columns():
    m = mm.LogisticRegression(prior=priors.ridge(1.0)).fit(X, y)
    s = m.summary()
    text = str(s)
    assert "MAP" in text and "posterior sd" in text and "credible (Laplace)" in text
    assert "Prior: ridge alpha = 1 with n = 120 is the prior Normal(0, sd=1)" in text
    json.dumps(s.to_dict())


def test_softmax_summary_labels_rows_by_class_and_marks_the_reference():
    rng = np.random.default_rng(300)
    yc = rng.integers(0, 3, 120)
    m = mm.SoftmaxRegression().fit(X.values, yc)
    frame = m.summary().to_frame()
    assert "1:x0" in frame.index and "0:intercept" in frame.index
    assert frame.loc["0:x0", "status"] == "reference (fixed at 0)"
    assert m.coef_.shape == (3, 2) and m.se_.shape == (3, 2) and m.intercept_se_.shape == (3,)


def test_linear_summary_shows_the_scale(fitted):
    rng = np.random.default_rng(301)
    m = mm.LinearRegression().fit(X.values, rng.standard_normal(120))
    assert "Scale (sigma)" in str(m.summary())
