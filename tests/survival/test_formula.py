"""Surv(...) responses in regression formulas: accepted on the left only, read as survival reads them."""

import numpy as np
import pandas as pd
import pytest

import mlemap as mm
from mlemap.formula_grammar import parse


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"age": rng.normal(60, 8, n), "sex": rng.choice(["m", "f"], n)})
    eta = 3 + 0.02 * (df.age - 60) - 0.3 * (df.sex == "f")
    t = np.exp(eta + 0.7 * np.log(rng.exponential(size=n)))
    c = rng.exponential(40, n)
    df["time"] = np.minimum(t, c)
    df["status"] = (t <= c).astype(int)
    return df


def test_surv_formula_equals_the_estimator_on_the_design(frame):
    m = mm.regress("Surv(time, status) ~ age + C(sex)", data=frame, family="lognormal")
    X = pd.DataFrame({"age": frame.age, "C(sex)[T.m]": (frame.sex == "m").astype(float)})
    ref = mm.SurvivalRegression(family="lognormal").fit(X, frame.time, event=frame.status)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-12)
    assert m.loglik_ == pytest.approx(ref.loglik_, rel=1e-13)
    np.testing.assert_allclose(m.predict(frame.head(4)), ref.predict(X.head(4)), rtol=1e-12)


def test_weibull_is_the_default_and_one_two_status_means_two_is_the_event(frame):
    recoded = frame.assign(status=frame.status + 1)
    a = mm.regress("Surv(time, status) ~ age", data=recoded)
    b = mm.regress("Surv(time, status) ~ age", data=frame, family="weibull")
    assert a.family == "weibull"
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-13)


def test_intercept_only_and_interval2(frame):
    m = mm.regress("Surv(time, status) ~ 1", data=frame)
    fit = mm.fit("weibull", mm.censored(frame.time, event=frame.status))
    assert np.exp(m.intercept_) == pytest.approx(fit.params["scale"], rel=1e-10)
    low = np.floor(frame.time)  # a low bound of 0 is an open end for positive times
    df = frame.assign(low=low, high=np.where(frame.status == 1, low + 1, np.nan))
    m = mm.regress("Surv(low, high, type='interval2') ~ age", data=df)  # NaN bounds are open ends, not missing
    X = df[["age"]]
    ref = mm.SurvivalRegression().fit(X, mm.censored(left=df.low, right=df.high))
    assert m.converged_ and m.loglik_ == pytest.approx(ref.loglik_, rel=1e-13)


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("age ~ Surv(time, status)", "belongs on the left of '~'"),
        ("Surv(time, status == 1) ~ age", "arguments of Surv are column names"),
        ("Surv(time, stat) ~ age", "'stat' is not a column"),
        ("Surv(time, status) + age ~ sex", "must be the whole left-hand side"),
        ("Surv(time, status, type='counting') ~ age", "Surv takes type"),
        ("Surv(time, status, age) ~ sex", "write Surv(time) or Surv(time, event)"),
    ],
)
def test_refused_survival_formulas(frame, formula, fragment):
    with pytest.raises(mm.FormulaError) as info:
        parse(formula, list(frame.columns))
    assert fragment in str(info.value)


def test_unsafe_formula_does_not_take_surv(frame):
    with pytest.raises(mm.FormulaError, match="leave unsafe_formula off"):
        mm.regress("Surv(time, status) ~ age", data=frame, unsafe_formula=True)
