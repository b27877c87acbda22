"""Formulas that pass mlemap's grammar expand to exactly formulaic's design matrices; formula models
predict on DataFrames; sample_weight/offset/exposure naming an unknown column are typed errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, softmax

import mlemap as mm
from mlemap.errors import DataError, FormulaError
from mlemap.formula import design
from mlemap.formula_transforms import evaluation_context

formulaic = pytest.importorskip("formulaic")


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    n = 120
    df = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
        "pos": rng.gamma(2.0, 1.0, n),
        "g": rng.choice(["u", "v", "w"], n),
        "odd name": rng.normal(size=n),
        "x.1": rng.normal(size=n),
    })
    df["y"] = 1.0 + df.x1 - 0.5 * df.x2 + (df.g == "v") + rng.normal(scale=0.3, size=n)
    return df


VALID = [
    "y ~ x1 + x2",
    "y~x1*x2",
    "y ~ x1:x2 + x1",
    "y ~ (x1 + x2 + g)**2",
    "y ~ (x1 + x2 + g)^2 - x1:x2",
    "y ~ x1 - 1",
    "y ~ 0 + x1 + g",
    "y ~ -1 + x1",
    "y ~ 1",
    "y ~ g",
    "y ~ C(g)",
    "y ~ C(g, contr.sum)",
    "y ~ C(g, contr.treatment('w'))",
    "y ~ C(g, contr.helmert) + C(g, Treatment('v')):x1",
    "y ~ C(g, levels=['w', 'v', 'u'])",
    "y ~ C(g, spans_intercept=False)",
    "y ~ I(x1 ** 2) + I(x1 * x2 - 3) + I(x1 > 0)",
    "y ~ I(-x1 + 2 ** 3 // 2 % 5)",
    "y ~ log(pos) + np.log(pos) + exp(x1 / 10) + log10(pos) + log2(pos)",
    "y ~ sqrt(pos) + abs(x1) + log1p(pos) + expm1(x1 / 10)",
    "y ~ I(log(pos) * x1)",
    "y ~ center(x1) + scale(x2) + standardize(x1)",
    "y ~ scale(x2, center=False, ddof=0)",
    "y ~ poly(x1, 3)",
    "y ~ poly(x1, degree=2, raw=True)",
    "y ~ bs(x1, df=4)",
    "y ~ bs(x1, knots=[-0.5, 0.5], degree=2)",
    "y ~ cr(x1, df=4)",
    "y ~ x1 / g",
    "y ~ x1 %in% g",
    "y ~ .",
    "y ~ . - g",
    "y ~ x1 + .",
    "log(pos) ~ x1 + x2",
    "y ~ `odd name` + log(`odd name` + 10)",
    "y ~ Q('odd name')",
    "y ~ x.1 + `x.1`",
    "y ~ x1 + C(g):x2",
]


def _reference(formula, df):
    """formulaic on the user's own text (the mlemap functions beyond formulaic's in its context)."""
    m = formulaic.model_matrix(formula, df, na_action="raise", context=evaluation_context())
    return m.lhs.iloc[:, 0], m.rhs


@pytest.mark.parametrize("formula", VALID)
def test_valid_formulas_give_formulaics_design(frame, formula):
    d = design(formula, frame)
    y_ref, rhs = _reference(formula, frame)
    assert d.fit_intercept == ("Intercept" in rhs.columns)
    X_ref = rhs.drop(columns=["Intercept"]) if d.fit_intercept else rhs
    assert list(d.X.columns) == list(X_ref.columns)
    np.testing.assert_array_equal(d.X.to_numpy(dtype=float), X_ref.to_numpy(dtype=float))
    np.testing.assert_array_equal(np.asarray(d.y, dtype=float), np.asarray(y_ref, dtype=float))


def test_dot_expands_to_every_column_but_the_response(frame):
    d = design("y ~ .", frame)
    assert list(d.X.columns) == ["x1", "x2", "pos", "g[T.v]", "g[T.w]", "odd name", "x.1"]


def test_dot_on_the_left_is_refused(frame):
    with pytest.raises(FormulaError, match="right of '~' only"):
        design(". ~ x1", frame)


# ---------------------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def churn():
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame({"age": rng.normal(45, 12, n), "region": rng.choice(["east", "north", "south"], n)})
    eta = -0.5 + 0.04 * (df.age - 45) + 0.9 * (df.region == "east")
    df["churn"] = (rng.random(n) < expit(eta)).astype(int)
    return df


def test_formula_model_predicts_on_a_dataframe(churn):
    m = mm.regress("churn ~ age + C(region)", data=churn, family="bernoulli")
    new = pd.DataFrame({"age": [30.0, 50.0, 70.0], "region": ["east", "south", "north"]})
    # the design written out by hand: treatment coding with 'east' as the reference level
    X = np.column_stack([new.age, new.region == "north", new.region == "south"]).astype(float)
    coef = m.conf_int().index.tolist()
    assert coef == ["age", "C(region)[T.north]", "C(region)[T.south]", "intercept"]
    p = expit(X @ m.coef_ + m.intercept_)
    np.testing.assert_allclose(m.predict_proba(new)[:, 1], p, rtol=1e-12)
    np.testing.assert_array_equal(m.predict(new), (p > 0.5).astype(int))
    rows = [c["label"] for c in m.summary().to_dict()["coefficients"]]
    assert rows == coef


def test_stateful_transforms_reuse_the_training_statistics(frame):
    m = mm.regress("y ~ center(x1) + poly(x2, 2) + bs(pos, df=4) + C(g)", data=frame)
    head = frame.iloc[:7]
    d = design("y ~ center(x1) + poly(x2, 2) + bs(pos, df=4) + C(g)", frame)
    # re-centring or re-fitting the basis on 7 rows would change every prediction
    np.testing.assert_allclose(m.predict(head), m.predict(d.X.iloc[:7]), rtol=1e-12)
    np.testing.assert_allclose(m.predict(frame), m.predict(d.X), rtol=1e-12)


def test_unseen_level_missing_column_and_missing_value_are_typed_errors(churn):
    m = mm.regress("churn ~ age + C(region)", data=churn, family="bernoulli")
    with pytest.raises(DataError, match=r"Column 'region' .* level 'west'"):
        m.predict(pd.DataFrame({"age": [30.0], "region": ["west"]}))
    with pytest.raises(DataError, match=r"lack the column\(s\) 'region'"):
        m.predict_proba(pd.DataFrame({"age": [30.0]}))
    with pytest.raises(DataError, match="missing values"):
        m.predict(pd.DataFrame({"age": [np.nan], "region": ["east"]}))


def test_softmax_and_poisson_formula_models_predict_on_dataframes(churn):
    soft = mm.regress("region ~ age + I(age ** 2 / 100)", data=churn, family="categorical")
    new = pd.DataFrame({"age": [20.0, 80.0]})
    X = np.column_stack([new.age, new.age**2 / 100])
    np.testing.assert_allclose(soft.predict_proba(new), softmax(X @ soft.coef_.T + soft.intercept_, axis=1), rtol=1e-12)
    assert list(soft.predict(new)) == list(soft.classes_[np.argmax(X @ soft.coef_.T + soft.intercept_, axis=1)])
    claims = mm.datasets.load("claims")
    pois = mm.regress("claims ~ age + C(urban)", data=claims, family="poisson", exposure="exposure")
    d = design("claims ~ age + C(urban)", claims)
    np.testing.assert_allclose(pois.predict(claims.head(5), exposure=claims.exposure[:5].to_numpy()),
                               pois.predict(d.X.head(5), exposure=claims.exposure[:5].to_numpy()), rtol=1e-12)


def test_pickled_model_keeps_the_formula_and_a_plain_refit_forgets_it(churn):
    m = mm.regress("churn ~ age + C(region)", data=churn, family="bernoulli")
    new = pd.DataFrame({"age": [33.0], "region": ["north"]})
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(back.predict_proba(new), m.predict_proba(new), rtol=0)
    X = np.column_stack([churn.age, churn.region == "north"]).astype(float)
    back.fit(X, churn.churn)
    assert not hasattr(back, "formula_spec_")
    assert back.predict(X[:3]).shape == (3,)


# ------------------------------------------------------------------ sample_weight, offset, exposure
@pytest.mark.parametrize("key", ["sample_weight", "offset", "exposure"])
def test_unknown_weight_offset_exposure_column_is_a_typed_error(key):
    claims = mm.datasets.load("claims")
    with pytest.raises(DataError, match=rf"No column 'tt' \(from {key}=\)"):
        mm.regress("claims ~ age", data=claims, family="poisson", **{key: "tt"})
    with pytest.raises(DataError, match=r"Did you mean 'exposure'"):
        mm.regress("claims ~ age", data=claims, family="poisson", **{key: "exposur"})


def test_non_numeric_or_misshapen_weight_is_a_typed_error():
    claims = mm.datasets.load("claims").assign(label="a")
    with pytest.raises(DataError, match=r"'label' \(from sample_weight=\) is not numeric"):
        mm.regress("claims ~ age", data=claims, family="poisson", sample_weight="label")
    with pytest.raises(DataError, match="one value per row"):
        mm.regress("claims ~ age", data=claims, family="poisson", exposure=np.ones(3))


def test_weight_column_by_name_equals_the_array(churn):
    w = np.linspace(0.5, 2.0, len(churn))
    by_name = mm.regress("churn ~ age", data=churn.assign(w=w), family="bernoulli", sample_weight="w")
    by_array = mm.regress("churn ~ age", data=churn, family="bernoulli", sample_weight=w)
    np.testing.assert_allclose(by_name.coef_, by_array.coef_, rtol=1e-12)
