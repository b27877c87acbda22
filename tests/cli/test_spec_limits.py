"""The prior/fixed/penalty spec language: size and nesting limits, arguments given once, finite values."""

import pytest

from mlemap.cli.spec import (
    MAX_SPEC_DEPTH,
    MAX_SPEC_LENGTH,
    SpecError,
    parse_fixed,
    parse_penalty,
    parse_priors,
)

BAD = [
    (parse_priors, ["probs=beta(" + "-" * 5000 + "1, 2)"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_priors, ["probs=beta(" + "-" * 100_000 + "1, 2)"], f"the limit is {MAX_SPEC_LENGTH}"),
    (parse_fixed, ["scale=" + "-" * 5000 + "1"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_fixed, ["scale=" + "~" * 5000 + "1"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_priors, ["loc=normal(" + "not " * 2000 + "1, 1)"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_priors, ["loc=normal(" + "+".join(["1"] * 3000) + ", 1)"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_priors, ["loc=normal(" + "(" * 3000 + "1" + ")" * 3000 + ", 1)"], f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_penalty, "ridge(" + "[" * 50 + "1" + "]" * 50 + ")", f"deeper than {MAX_SPEC_DEPTH} levels"),
    (parse_priors, ["rate=gamma(2, rate=1, rate=2)"], "The argument 'rate' is given twice"),
    (parse_priors, ["rate=gamma(2, 1, concentration=3)"], "'concentration' is given twice in prior"),
    (parse_penalty, "lasso(alpha=1, alpha=2)", "The argument 'alpha' is given twice"),
    (parse_priors, ["concentration=gamma(1e999, 1)"], "concentration = inf is not finite"),
    (parse_penalty, "normal(0, -1e999)", "scale = -inf is not finite"),
    (parse_priors, ["loc=normal(0, 1, **{})"], "is not a number"),
    (parse_fixed, ["rate=1, rate=2"], "Two fixed values for 'rate'"),
    (parse_fixed, ["total_count=" + "9" * 400], "beyond 1.8e308"),
    (parse_priors, ["probs=discrete([" + "9" * 400 + "], [1])"], "beyond 1.8e308"),
    (parse_priors, ["probs=discrete(values=[0.2], bogus=1)"], "use discrete(values, probs)"),
    (parse_fixed, ["rate=1", "rate=2"], "Two fixed values for 'rate'"),
]


@pytest.mark.parametrize("parse, text, fragment", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_specs_raise_a_short_spec_error(parse, text, fragment):
    with pytest.raises(SpecError) as info:
        parse(text)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 300


def test_valid_specs_within_the_limits():
    assert parse_fixed(["loc=-1, scale=2.5e-3"]) == {"loc": -1, "scale": 2.5e-3}
    priors = parse_priors(["loc=normal(-1e-3, scale=2.5E+2); probs=discrete([0.1, 0.5], [0.3, 0.7])"])
    assert float(priors["loc"].scale) == 250.0
    assert parse_penalty("elastic_net(0.1, l1_ratio=0.5)").l1_ratio == 0.5
    many = "probs=discrete([" + ", ".join(f"{v / 1000:.3f}" for v in range(1, 1000)) + "])"
    assert len(parse_priors([many])["probs"].values) == 999
