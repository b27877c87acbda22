"""The Python that a formula may hold: a whitelist of transforms and their arguments.

A call in a formula (``log(x)``, ``C(region, levels=['n', 's'])``, ``I(x1 * x2 + 1)``) is parsed with
Python's ``ast`` in ``eval`` mode and walked here before anything is evaluated. What passes:

- ``I(expr)``: arithmetic on columns: numbers, ``+ - * / // % **``, unary ``+``/``-``, comparisons,
  and the elementwise functions below;
- ``log``, ``log10``, ``log2``, ``log1p``, ``exp``, ``exp2``, ``expm1``, ``sqrt``, ``abs`` (also as
  ``np.log`` and so on): elementwise functions of one expression;
- ``center(x)``, ``scale(x, center, scale, ddof)``, ``standardize(x, center, rescale, ddof)``:
  centring and scaling with the training data's mean and spread (stateful: prediction reuses them);
- ``poly(x, degree, raw)``: an orthogonal (or raw) polynomial of degree at most 100;
- ``bs(x, df, knots, degree, include_intercept, lower_bound, upper_bound, extrapolation)``, and
  ``cr``, ``cs``, ``cc``: B-splines and natural / cyclic cubic regression splines;
- ``C(x, contrasts, levels=[...], spans_intercept=...)``: ``x`` as a category, ``contrasts`` one of
  ``contr.treatment``, ``contr.sum``, ``contr.helmert``, ``contr.poly``, ``contr.diff``,
  ``contr.SAS`` (or patsy's ``Treatment``, ``Sum``, ``Helmert``, ``Poly``, ``Diff``), called or
  not, with literal arguments;
- ``Q('odd name')``: the column of that name (as does ```odd name```).

Names must be columns of the data; a function must be one of the above. Refused: attribute access
(other than the dotted names above), subscripts, dunder names, lambdas, comprehensions, keyword
arguments other than the listed ones, ``*args``/``**kwargs``, strings outside ``C(...)`` and ``Q(...)``,
and ``**`` between two constants unless both are plain numbers of at most 1000 in size (so
``10**10**10`` cannot stall the evaluation). Every refusal is a :class:`~mlemap.errors.FormulaError`
naming the token and its position.
"""

from __future__ import annotations

import ast
import re
import warnings
import difflib
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .errors import DataError, FormulaError

ELEMENTWISE = ("log", "log10", "log2", "log1p", "exp", "exp2", "expm1", "sqrt", "abs")
CONTRASTS = ("treatment", "sum", "helmert", "poly", "diff", "SAS")
PATSY_CONTRASTS = ("Treatment", "Sum", "Helmert", "Poly", "Diff")
MAX_BASIS = 100  # largest df / degree of a spline or polynomial
MAX_CONSTANT_POWER = 1000.0
STRING_FORBIDDEN = set("'\"`\\()[]{}%") | {chr(c) for c in range(32)} | {"\x7f"}

# name -> (parameters (name, kind), how many may be given positionally)
_SPLINE = (("x", "value"), ("df", "count"), ("knots", "numbers"), ("lower_bound", "number"),
           ("upper_bound", "number"), ("constraints", "word"), ("extrapolation", "word"))
SIGNATURES: dict[str, tuple[tuple[tuple[str, str], ...], int]] = {
    "I": ((("x", "value"),), 1),
    "C": ((("x", "value"), ("contrasts", "contrasts"), ("levels", "levels"), ("spans_intercept", "bool")), 2),
    "Q": ((("name", "column"),), 1),
    "center": ((("x", "value"),), 1),
    "scale": ((("x", "value"), ("center", "bool"), ("scale", "bool"), ("ddof", "number")), 4),
    "standardize": ((("x", "value"), ("center", "bool"), ("rescale", "bool"), ("ddof", "number")), 4),
    "poly": ((("x", "value"), ("degree", "count"), ("raw", "bool")), 3),
    "bs": ((("x", "value"), ("df", "count"), ("knots", "numbers"), ("degree", "count"),
            ("include_intercept", "bool"), ("lower_bound", "number"), ("upper_bound", "number"),
            ("extrapolation", "word")), 7),
    "cr": (_SPLINE, 6),
    "cs": (_SPLINE, 6),
    "cc": (_SPLINE, 6),
    **{name: ((("x", "value"),), 1) for name in ELEMENTWISE},
}
ALIASES = {f"np.{name}": name for name in ELEMENTWISE}
#: functions whose result is one column, usable inside arithmetic
VALUE_FUNCTIONS = set(ELEMENTWISE) | {"I", "Q", "center", "scale", "standardize"} | set(ALIASES)
#: every function a term may call
TERM_FUNCTIONS = set(SIGNATURES) | set(ALIASES)


def evaluation_context() -> dict:
    """Names the transforms need beyond formulaic's own (``sqrt``, ``abs``, ``log1p``, ``expm1``)."""
    import numpy

    return {"sqrt": numpy.sqrt, "abs": numpy.abs, "log1p": numpy.log1p, "expm1": numpy.expm1}


@dataclass
class Checked:
    """What the walk of one call learned: the columns it reads, those it reads as categories."""

    columns: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)


class CallChecker:
    """Walks the ``ast`` of one call of a formula; ``refuse(node, reason)`` raises the error.

    ``aliases`` maps the identifiers that stand for backquoted names to those names; ``refuse``
    points at the node in the formula's own text.
    """

    def __init__(self, columns: Sequence[str], aliases: dict[str, str],
                 refuse: Callable[[ast.AST, str], FormulaError], max_depth: int):
        self.columns, self.known, self.aliases = columns, set(columns), aliases
        self.refuse, self.max_depth = refuse, max_depth
        self.found = Checked()

    # ------------------------------------------------------------------ entry point
    def term(self, node: ast.expr) -> Checked:
        if not isinstance(node, ast.Call):
            raise self.refuse(node, "a term must be a column or a call of an allowed transform")
        self._call(node, TERM_FUNCTIONS, depth=0)
        return self.found

    # ------------------------------------------------------------------ calls and their arguments
    def _function(self, func: ast.expr, allowed: set[str], depth: int) -> str:
        dotted = _dotted(func)
        if dotted is None:
            if isinstance(func, ast.Attribute):
                self._value(func.value, depth + 1)  # the earliest offence first: a dunder, a call
                raise self.refuse(func, "attribute access is not allowed")
            raise self.refuse(func, "only a named transform may be called")
        if _is_dunder(dotted):
            raise self.refuse(func, "dunder names are not allowed")
        if dotted not in allowed:
            if "." in dotted:
                raise self.refuse(func, "attribute access is not allowed")
            where = "inside an expression" if dotted in TERM_FUNCTIONS else "in a formula"
            raise self.refuse(func, f"'{dotted}' is not a transform allowed {where}")
        return ALIASES.get(dotted, dotted)

    def _call(self, node: ast.Call, allowed: set[str], depth: int) -> None:
        if depth > self.max_depth:
            raise self.refuse(node, f"the expression nests deeper than {self.max_depth} levels")
        name = self._function(node.func, allowed, depth)
        params, positional = SIGNATURES[name]
        kinds = dict(params)
        given: dict[str, ast.expr] = {}
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg, "*args is not allowed")
            if i >= positional:
                raise self.refuse(arg, f"{name}() takes at most {positional} positional argument(s)")
            given[params[i][0]] = arg
        for kw in node.keywords:
            if kw.arg is None:
                raise self.refuse(kw.value, "**kwargs is not allowed")
            if kw.arg not in kinds:
                names = ", ".join(p for p, _ in params[1:]) or "none"
                raise self.refuse(kw, f"{name}() has no argument '{kw.arg}' (it takes {names})")
            if kw.arg in given:
                raise self.refuse(kw, f"{name}() got '{kw.arg}' twice")
            given[kw.arg] = kw.value
        first = params[0][0]
        if first not in given:
            raise self.refuse(node, f"{name}() needs its argument '{first}'")
        for pname, arg in given.items():
            self._argument(kinds[pname], arg, name, depth + 1)

    def _argument(self, kind: str, node: ast.expr, owner: str, depth: int) -> None:
        if kind == "value":
            before = len(self.found.columns)
            self._value(node, depth)
            if owner == "C":
                self.found.categorical.extend(self.found.columns[before:])
        elif kind == "column":
            text = self._string(node)
            if text not in self.columns:
                raise self.refuse(node, _not_a_column(text, self.columns))
            self.found.columns.append(text)
        elif kind == "contrasts":
            self._contrasts(node, depth)
        elif kind == "levels":
            if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
                raise self.refuse(node, "levels must be a list of values, e.g. levels=['north', 'south']")
            for elt in node.elts:
                self._scalar_literal(elt, allow_string=True)
        elif kind == "bool":
            if not (isinstance(node, ast.Constant) and isinstance(node.value, bool)):
                raise self.refuse(node, f"{owner}() expects True or False here")
        elif kind == "count":
            value = _number(node)
            if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_BASIS):
                raise self.refuse(node, f"{owner}() expects a whole number from 0 to {MAX_BASIS} here")
        elif kind == "number":
            if not (_is_none(node) or _number(node) is not None):
                raise self.refuse(node, f"{owner}() expects a number here")
        elif kind == "numbers":
            if not (_is_none(node) or isinstance(node, (ast.List, ast.Tuple))):
                raise self.refuse(node, f"{owner}() expects a list of numbers here")
            for elt in getattr(node, "elts", []):
                if _number(elt) is None:
                    raise self.refuse(elt, f"{owner}() expects a list of numbers here")
        elif kind == "word":
            if not _is_none(node):
                self._string(node)

    def _contrasts(self, node: ast.expr, depth: int) -> None:
        if _is_none(node):
            return
        target = node.func if isinstance(node, ast.Call) else node
        dotted = _dotted(target)
        known = {f"contr.{c}" for c in CONTRASTS} | set(PATSY_CONTRASTS)
        if dotted not in known:
            raise self.refuse(target, "contrasts must be one of " + ", ".join(sorted(known)))
        if isinstance(node, ast.Call):
            for arg in node.args:
                self._literal(arg, depth + 1)
            for kw in node.keywords:
                if kw.arg is None or _is_dunder(kw.arg) or kw.arg.startswith("_"):
                    raise self.refuse(kw.value if kw.arg is None else kw, "this keyword is not allowed")
                self._literal(kw.value, depth + 1)

    # ------------------------------------------------------------------ values and literals
    def _value(self, node: ast.expr, depth: int) -> None:
        if depth > self.max_depth:
            raise self.refuse(node, f"the expression nests deeper than {self.max_depth} levels")
        if isinstance(node, ast.Name):
            column = self.aliases.get(node.id, node.id)
            if column not in self.known:
                why = "dunder names are not allowed" if _is_dunder(column) else _not_a_column(column, self.columns)
                raise self.refuse(node, why)
            self.found.columns.append(column)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                raise self.refuse(node, "strings are allowed only in C(...) levels and contrasts and in Q('column')")
            if _number(node) is None:
                raise self.refuse(node, "only numbers are allowed as constants")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            self._value(node.operand, depth + 1)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            if isinstance(node.op, ast.Pow) and not (_reads_data(node.left) or _reads_data(node.right)):
                for side in (node.left, node.right):
                    value = _number(side)
                    if not isinstance(side, ast.Constant) or value is None or abs(value) > MAX_CONSTANT_POWER:
                        raise self.refuse(side, "a power of two constants must use plain numbers of at most 1000")
            self._value(node.left, depth + 1)
            self._value(node.right, depth + 1)
        elif isinstance(node, ast.Compare) and all(isinstance(op, _COMPARISONS) for op in node.ops):
            for part in (node.left, *node.comparators):
                self._value(part, depth + 1)
        elif isinstance(node, ast.Call):
            self._call(node, VALUE_FUNCTIONS, depth + 1)
        else:
            raise self.refuse(node, _describe(node))

    def _literal(self, node: ast.expr, depth: int) -> None:
        if depth > self.max_depth:
            raise self.refuse(node, f"the expression nests deeper than {self.max_depth} levels")
        if isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                self._literal(elt, depth + 1)
        else:
            self._scalar_literal(node, allow_string=True)

    def _scalar_literal(self, node: ast.expr, allow_string: bool) -> None:
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool)):
            return
        if allow_string and isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._string(node)
        elif _number(node) is None:
            raise self.refuse(node, "only a number, a string, True, False or None is allowed here")

    def _string(self, node: ast.expr) -> str:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise self.refuse(node, "a quoted string is expected here")
        bad = sorted(set(node.value) & STRING_FORBIDDEN)
        if bad:
            raise self.refuse(node, f"the string holds {bad[0]!r}, which formulas cannot quote; rename the level or column")
        return node.value


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_REFUSED = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.JoinedStr: "strings are allowed only in C(...) levels and contrasts and in Q('column')",
    ast.Starred: "*args is not allowed",
}


def _describe(node: ast.AST) -> str:
    for kind, reason in _REFUSED.items():
        if isinstance(node, kind):
            return reason
    return "only arithmetic on columns is allowed here"


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _is_dunder(name: str) -> bool:
    return any(part.startswith("__") or part.endswith("__") for part in name.split("."))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _number(node: ast.expr) -> int | float | None:
    """The value of a (signed) int or float literal, else ``None``."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return sign * node.value
    return None


def _reads_data(node: ast.expr) -> bool:
    return any(isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(node))


def _not_a_column(name: str, columns: Sequence[str]) -> str:
    hint = difflib.get_close_matches(name, list(columns), n=1)
    return f"'{name}' is not a column of the data" + (f" (did you mean '{hint[0]}'?)" if hint else "")


# ---------------------------------------------------------------------- the survival response
SURV_TYPES = ("right", "left", "interval2")


@dataclass(frozen=True)
class SurvResponse:
    """``Surv(time)``, ``Surv(time, event[, type='right'|'left'])`` or ``Surv(low, high, type='interval2')``
    on the left of ``~``: the columns it reads and how (survival's conventions)."""

    columns: tuple[str, ...]
    type: str = "right"


def check_surv(node: ast.expr, columns: Sequence[str], aliases: dict[str, str],
               refuse: Callable[[ast.AST, str], FormulaError]) -> SurvResponse:
    """The survival response of a ``Surv(...)`` call: plain column names and one literal ``type``."""
    if not isinstance(node, ast.Call) or _dotted(node.func) != "Surv":
        raise refuse(node, "a survival response is written Surv(time, event)")
    known = set(columns)
    kind = "right"
    for kw in node.keywords:
        if kw.arg != "type" or not isinstance(kw.value, ast.Constant) or kw.value.value not in SURV_TYPES:
            raise refuse(kw.value if kw.arg == "type" else kw, f"Surv takes type = one of {', '.join(map(repr, SURV_TYPES))}")
        kind = kw.value.value
    names = []
    for arg in node.args:
        if not isinstance(arg, ast.Name):
            raise refuse(arg, "the arguments of Surv are column names (recode an event first; a 1/2 status "
                              "column is read as survival's 2 = event)")
        name = aliases.get(arg.id, arg.id)
        if name not in known:
            raise refuse(arg, _not_a_column(name, columns))
        names.append(name)
    wanted = (2, 2) if kind == "interval2" else (1, 2)
    if not wanted[0] <= len(names) <= wanted[1]:
        shape = "Surv(low, high, type='interval2')" if kind == "interval2" else "Surv(time) or Surv(time, event)"
        raise refuse(node, f"write {shape}")
    return SurvResponse(tuple(names), kind)


# ---------------------------------------------------------------------- running formulaic
def quoted(formula: str, limit: int = 120) -> str:
    """The formula in quotes for a message, shortened when long."""
    text = formula if len(formula) <= limit else formula[:limit] + "..."
    return "'" + " ".join(text.split()) + "'"


_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")


def one_line(exc: Exception) -> str:
    """The first line of an exception's message, without terminal colour codes."""
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def evaluate_formula(formula: str, where: str, expand):
    """Run formulaic; its errors (and a level outside ``C(..., levels=...)``) become a FormulaError."""
    from formulaic.errors import DataMismatchWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # log of a negative value: the NaN check says it
            return expand()
    except (FormulaError, DataError):
        raise
    except Exception as exc:
        raise FormulaError(f"The formula {quoted(formula)} cannot be evaluated on {where}: {one_line(exc)}") from None
