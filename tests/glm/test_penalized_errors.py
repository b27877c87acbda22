"""Bad input to fit_penalized: each gets a typed error naming the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from mlemap.errors import (
    DataError,
    FamilyError,
    MethodError,
    ParameterError,
    ShapeError,
    WeightsError,
)
from mlemap.glm.penalized import fit_penalized

X = np.random.default_rng(0).standard_normal((30, 3))
y01 = (X[:, 0] > 0).astype(float)


def with_nan(a, where):
    a = a.copy()
    a[where] = np.nan
    return a


CASES = [
    ("mismatched lengths", dict(X=X, y=y01[:-1]), ShapeError, "different lengths"),
    ("NaN in X", dict(X=with_nan(X, (3, 1)), y=y01), DataError, "non-finite"),
    ("inf in y", dict(X=X, y=np.where(np.arange(30) == 4, np.inf, y01)), DataError, "non-finite"),
    ("no rows", dict(X=np.zeros((0, 3)), y=np.zeros(0)), DataError, "empty design"),
    ("no columns", dict(X=np.zeros((30, 0)), y=y01), DataError, "empty design"),
    ("1-D design", dict(X=X[:, 0], y=y01), ShapeError, "reshape"),
    ("negative l1", dict(X=X, y=y01, l1=-1.0), ParameterError, "'l1' parameter of fit_penalized must be a float in the range"),
    ("negative l2", dict(X=X, y=y01, l2=-0.5), ParameterError, "'l2' parameter"),
    ("labels not 0/1", dict(X=X, y=y01 + 1), DataError, "0/1 labels"),
    ("unknown family", dict(X=X, y=y01, family="gamma-ish"), FamilyError, "Valid names are"),
    ("negative weight", dict(X=X, y=y01, sample_weight=-np.ones(30)), WeightsError, "sample_weight"),
    ("weights of wrong length", dict(X=X, y=y01, sample_weight=np.ones(5)), WeightsError, "length 30"),
    ("offset of wrong shape", dict(X=X, y=y01, offset=np.ones(7)), ShapeError, "offset"),
    ("single class", dict(X=X, y=np.ones(30)), DataError, "single class"),
    ("laplace with l2", dict(X=X, y=X[:, 0], family="laplace", l2=1.0), MethodError, "L1 penalty only"),
    ("counts not integers", dict(X=X, y=np.full(30, 0.5), family="poisson"), DataError, "whole-number counts"),
    ("categorical labels", dict(X=X, y=np.full(30, -1.0), family="categorical"), DataError, "class labels"),
    ("bad tol", dict(X=X, y=y01, tol=0.0), ParameterError, "'tol' parameter"),
    ("bad max_iter", dict(X=X, y=y01, max_iter=0), ParameterError, "'max_iter' parameter"),
]


@pytest.mark.parametrize("name,kwargs,error,match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_typed_error(name, kwargs, error, match):
    kwargs = dict(kwargs)
    args = dict(family=kwargs.pop("family", "bernoulli"), l1=kwargs.pop("l1", 0.1), l2=kwargs.pop("l2", 0.0))
    with pytest.raises(error, match=match):
        fit_penalized(kwargs.pop("X"), kwargs.pop("y"), args["family"], args["l1"], args["l2"], **kwargs)


def test_coef_init_of_the_wrong_shape():
    with pytest.raises(ShapeError, match="coef_init"):
        fit_penalized(X, y01, "bernoulli", 0.1, 0.0, coef_init=np.zeros(5))


def test_read_only_inputs_are_copied_before_torch_wraps_them():
    from mlemap.glm.family import resolve_glm_family
    from mlemap.glm.penalized_core import check_response, check_weights

    w = np.ones(30)
    w.flags.writeable = False  # as pandas hands out columns
    y = y01.copy()
    y.flags.writeable = False
    assert check_weights(w, 30).flags.writeable
    assert check_response(y, 30, resolve_glm_family("bernoulli")).flags.writeable
