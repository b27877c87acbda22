"""The small language for priors, fixed values and penalties on the command line.

::

    --prior "probs=beta(2, 2)"                   a prior on one parameter
    --prior "loc=normal(0, 10); scale=gamma(2, 1)"   several, separated by ';' (or repeat --prior)
    --prior "probs=discrete([0.5, 0.8], [0.7, 0.3])" a discrete prior over candidate values
    --prior "variance=inverse_gamma(3, 4)"       a prior on a derived quantity of the normal family
    --fixed "scale=1.5"   --fixed "total_count=10, loc=0"
    --prior "lasso(0.01)"  "ridge(1)"  "elastic_net(0.1, 0.5)"   (regress and path)

Distributions take torch.distributions' arguments, positionally or by name (``gamma(concentration=2,
rate=1)``), each argument once, with finite values. Expressions are parsed with Python's own parser
(``ast``), and literals only are accepted: no names, no calls other than the distribution itself,
nothing is evaluated. A spec holds at most :data:`MAX_SPEC_LENGTH` characters and nests brackets
and signs at most :data:`MAX_SPEC_DEPTH` deep (checked before parsing, so that no input can exhaust
the parser's recursion or memory). torch is imported only once a distribution or penalty is built,
so that a spec refused by its syntax costs no start-up.
"""

from __future__ import annotations

import ast
import difflib
import re
from typing import Any

from typing import TYPE_CHECKING

from ..errors import MlemapError

if TYPE_CHECKING:
    import torch.distributions as td

    from ..priors.penalties import Penalty


class SpecError(MlemapError, ValueError):
    """A prior, fixed value or penalty string that does not parse."""


MAX_SPEC_LENGTH = 10_000
MAX_SPEC_DEPTH = 16
_LARGEST_FLOAT = 1.7976931348623157e308
_SPEC_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<word>[^\W\d]\w*)"
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<sign>[-+~])|(?P<other>.)",
    re.S,
)
_KEYWORD_OPERATORS = {"not", "and", "or", "if", "else", "lambda", "in", "is", "for"}


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_size(text: str, what: str) -> None:
    """Refuse a spec too long, or nesting brackets, signs and operators too deep for the parser."""
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(
            f"The {what} '{_short(text)}' has {len(text)} characters; the limit is {MAX_SPEC_LENGTH}."
        )
    depth, run, operators, previous = 0, 0, 0, None
    for match in _SPEC_TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "space":
            continue
        unary = kind == "sign" and (previous is None or previous in ("open", "other", "sign", "operator"))
        if kind == "word" and token in _KEYWORD_OPERATORS or kind == "sign" and not unary:
            operators += 1
            kind = "operator"
        elif kind == "other" and token not in ",=:":
            operators += 1
        run = run + 1 if unary else 0
        depth += kind == "open"
        if depth + run + operators > MAX_SPEC_DEPTH:
            raise SpecError(
                f"The {what} '{_short(text)}' nests brackets, signs or operators deeper than {MAX_SPEC_DEPTH} "
                f"levels (at character {match.start() + 1}); write each number once, e.g. {_EXAMPLE.get(what, 'lasso(0.1)')}."
            )
        depth -= kind == "close"
        previous = kind


DISTRIBUTIONS: dict[str, tuple[str, tuple[str, ...]]] = {  # name: (torch.distributions class, arguments)
    "normal": ("Normal", ("loc", "scale")),
    "lognormal": ("LogNormal", ("loc", "scale")),
    "laplace": ("Laplace", ("loc", "scale")),
    "cauchy": ("Cauchy", ("loc", "scale")),
    "studentt": ("StudentT", ("df", "loc", "scale")),
    "gamma": ("Gamma", ("concentration", "rate")),
    "exponential": ("Exponential", ("rate",)),
    "beta": ("Beta", ("concentration1", "concentration0")),
    "uniform": ("Uniform", ("low", "high")),
    "halfnormal": ("HalfNormal", ("scale",)),
    "halfcauchy": ("HalfCauchy", ("scale",)),
    "inverse_gamma": ("InverseGamma", ("concentration", "rate")),
    "invgamma": ("InverseGamma", ("concentration", "rate")),
    "dirichlet": ("Dirichlet", ("concentration",)),
    "weibull": ("Weibull", ("scale", "concentration")),
    "pareto": ("Pareto", ("scale", "alpha")),
    "gumbel": ("Gumbel", ("loc", "scale")),
}
PENALTIES = ("lasso", "ridge", "elastic_net")  # functions of mlemap.priors.penalties


def _where(text: str, node: ast.AST | None, what: str, whole: str | None = None) -> SpecError:
    whole = whole or text
    col = getattr(node, "col_offset", None)
    if col is None:
        return SpecError(f"Malformed {what} '{whole}'.")
    token = text[col : getattr(node, "end_col_offset", col + 1) or col + 1]
    shift = max(whole.find(text), 0)
    return SpecError(
        f"Malformed {what} '{whole}': '{token}' at character {col + 1 + shift} is not a number or a list of numbers."
    )


def _parse(text: str, what: str, whole: str | None = None) -> ast.expr:
    """Parse ``text``; errors quote ``whole`` (the full ``name=...`` spec) and count positions in it."""
    stripped = text.strip()
    whole = whole or stripped
    shift = max(whole.find(stripped), 0)
    _check_size(stripped, what)
    try:
        return ast.parse(stripped, mode="eval").body
    except (RecursionError, MemoryError):  # a guard: _check_size keeps the parser far from these
        raise SpecError(f"The {what} '{_short(whole)}' nests too deeply to parse.") from None
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1
        token = stripped[col : col + 1] or "end of text"
        raise SpecError(
            f"Malformed {what} '{whole}': unexpected '{token}' at character {col + 1 + shift} ({exc.msg})."
        ) from None


def _literal(node: ast.expr, text: str, what: str, whole: str | None = None) -> Any:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _where(text, node, what, whole) from None
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise _where(text, node, what, whole)
    if isinstance(value, (list, tuple)) and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in _flatten(value)):
        raise _where(text, node, what, whole)
    if any(isinstance(v, int) and abs(v) > _LARGEST_FLOAT for v in _flatten([value])):
        raise SpecError(f"The {what} '{_short(whole or text)}' holds a whole number beyond 1.8e308, the float64 range; "
                        "give a smaller value.")
    return value


def _flatten(value):
    for v in value:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield v


def _keywords(node: ast.Call, rhs: str, text: str) -> dict[str, Any]:
    """The keyword arguments of a spec's call, each given once."""
    kwargs: dict[str, Any] = {}
    for k in node.keywords:
        if k.arg is None:
            raise _where(rhs, k.value, "prior", text)
        if k.arg in kwargs:
            raise SpecError(f"The argument '{k.arg}' is given twice in prior '{text}'; give it once.")
        kwargs[k.arg] = _literal(k.value, rhs, "prior", text)
    return kwargs


def _split(texts: list[str] | None, sep: str, what: str) -> list[str]:
    out = []
    for text in texts or []:
        if len(text) > MAX_SPEC_LENGTH:
            raise SpecError(f"The {what} '{_short(text)}' has {len(text)} characters; the limit is {MAX_SPEC_LENGTH}.")
        out.extend(part.strip() for part in text.split(sep) if part.strip())
    return out


def _assignment(part: str, what: str) -> tuple[str, str]:
    name, eq, rhs = part.partition("=")
    if not eq or not name.strip() or not rhs.strip():
        raise SpecError(f"Malformed {what} '{part}': expected name=value, such as {_EXAMPLE[what]}.")
    return name.strip(), rhs.strip()


_EXAMPLE = {"prior": "probs=beta(2, 2)", "fixed value": "scale=1.0"}


def distribution(rhs: str, text: str) -> td.Distribution:
    """Parse ``gamma(2, 1)`` (or ``discrete([..], [..])``) into a float64 torch distribution."""
    node = _parse(rhs, "prior", text)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(f"Malformed prior '{text}': expected a distribution such as gamma(2, 1) after '='.")
    name = node.func.id.lower()
    args = [_literal(a, rhs, "prior", text) for a in node.args]
    kwargs = _keywords(node, rhs, text)
    if name == "discrete":
        from ..priors.discrete import DiscretePrior

        try:
            return DiscretePrior(*args, **kwargs)
        except TypeError:
            raise SpecError(f"Wrong arguments in prior '{text}': use discrete(values, probs), for example "
                            "discrete([0.5, 0.8], [0.7, 0.3]).") from None
    if name not in DISTRIBUTIONS:
        close = difflib.get_close_matches(name, list(DISTRIBUTIONS) + ["discrete"], n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise SpecError(
            f"Unknown distribution '{node.func.id}' in prior '{text}'.{hint} Known: "
            + ", ".join(sorted(DISTRIBUTIONS))
            + ", discrete."
        )
    cls_name, names = DISTRIBUTIONS[name]
    if len(args) > len(names):
        raise SpecError(f"Too many arguments in prior '{text}': {name} takes {', '.join(names)}.")
    params = dict(zip(names, args))
    for key in kwargs:
        if key not in names:
            raise SpecError(f"Unknown argument '{key}' in prior '{text}': {name} takes {', '.join(names)}.")
        if key in params:
            raise SpecError(
                f"The argument '{key}' is given twice in prior '{text}' (by position and by name); give it once."
            )
    params.update(kwargs)
    missing = [n for n in names if n not in params]
    if missing:
        raise SpecError(f"Missing argument(s) {', '.join(missing)} in prior '{text}': {name}({', '.join(names)}).")
    import torch
    import torch.distributions as td

    tensors = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in params.items()}
    for key, value in tensors.items():
        if not bool(torch.isfinite(value).all()):
            raise SpecError(
                f"Invalid parameters in prior '{text}': {key} = {value.tolist()} is not finite (a number beyond "
                "1.8e308 overflows to inf). Give a finite value."
            )
    try:
        return getattr(td, cls_name)(**tensors, validate_args=True)
    except ValueError as exc:
        raise SpecError(f"Invalid parameters in prior '{text}': {str(exc).splitlines()[0]}") from None


def parse_priors(texts: list[str] | None) -> dict[str, td.Distribution] | None:
    """``["probs=beta(2,2)", ...]`` (each may hold several, ';'-separated) -> ``{name: distribution}``."""
    parts = _split(texts, ";", "prior")
    if not parts:
        return None
    priors = {}
    for part in parts:
        name, rhs = _assignment(part, "prior")
        if name in priors:
            raise SpecError(f"Two priors on '{name}'; give one.")
        priors[name] = distribution(rhs, part)
    return priors


def parse_fixed(texts: list[str] | None) -> dict[str, Any] | None:
    """``["scale=1.5, total_count=10"]`` -> ``{"scale": 1.5, "total_count": 10}``."""
    parts = _split(texts, ",", "fixed value")
    if not parts:
        return None
    fixed = {}
    for part in parts:
        name, rhs = _assignment(part, "fixed value")
        if name in fixed:
            raise SpecError(f"Two fixed values for '{name}'; give one.")
        node = _parse(rhs, "fixed value", part)
        fixed[name] = _literal(node, rhs, "fixed value", part)
    return fixed


def parse_penalty(text: str | None) -> Penalty | td.Distribution | None:
    """``lasso(0.01)``, ``ridge(1)``, ``elastic_net(0.1, 0.5)``, or an i.i.d. prior such as ``normal(0, 2)``."""
    if text is None or not text.strip():
        return None
    node = _parse(text, "prior")
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(f"Malformed prior '{text}': expected lasso(alpha), ridge(alpha), elastic_net(alpha, l1_ratio).")
    name = node.func.id.lower()
    if name in PENALTIES:
        args = [_literal(a, text, "prior") for a in node.args]
        kwargs = _keywords(node, text, text)
        from ..priors import penalties

        try:
            return getattr(penalties, name)(*args, **kwargs)
        except TypeError:
            raise SpecError(
                f"Wrong arguments in '{text}': use lasso(alpha), ridge(alpha) or elastic_net(alpha, l1_ratio)."
            ) from None
    return distribution(text, text)
