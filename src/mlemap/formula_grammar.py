"""mlemap's own grammar for regression formulas, checked before formulaic sees a formula.

A formula is data (it may come from a file, a web form or a colleague), and formulaic evaluates the
Python inside it with ``eval``. So every formula is first parsed here, against a whitelist, and
formulaic receives only the canonical text this module writes back from the parse, never the
user's string::

    formula  := sum '~' sum
    sum      := signed (('+' | '-') signed)*
    signed   := ('+' | '-')* product
    product  := inter (('*' | '/' | '%in%') inter)*
    inter    := power (':' power)*
    power    := atom (('**' | '^') INTEGER)?
    atom     := NAME | `odd name` | '.' | '0' | '1' | '(' sum ')' | CALL

NAME (letters, digits, ``_`` and ``.``) and ```odd name``` must be columns of the data; ``.`` stands
for every column not on the left of ``~`` and is written out as ``(a + b + ...)`` (nothing is
evaluated to expand it); a CALL is ``name(...)`` and is checked by
:mod:`mlemap.formula_transforms` (the list of allowed transforms is in its docstring). Anything else
(``|``, ``{...}``, quotes, subscripts, ``;``) is refused with a :class:`~mlemap.errors.FormulaError`
that names the token and its position.

Resource limits: a formula has at most :data:`MAX_LENGTH` characters, nests brackets, signs and
calls at most :data:`MAX_DEPTH` deep, holds at most :data:`MAX_OPERATORS` operators in one call, and
expands to at most :data:`MAX_TERMS` terms (``(a + b + c)**3`` counts every interaction it makes), and
raises terms to a power only where formulaic's expansion stays within :data:`MAX_POWER_PRODUCTS` products.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Sequence

from .errors import FormulaError
from .formula_transforms import TERM_FUNCTIONS, CallChecker, SurvResponse, _not_a_column, check_surv, quoted

MAX_LENGTH = 10_000
MAX_DEPTH = 32
MAX_OPERATORS = 100
MAX_TERMS = 100_000
MAX_POWER = 100
#: ordered products that formulaic forms for ``(terms) ** k``: ``terms ** k``
MAX_POWER_PRODUCTS = 10_000

_WORD = re.compile(r"[\w.]+")
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_OPERATOR = re.compile(r"\*\*|//|[-+*/%<>=!~&|^@]=?|\b(?:not|and|or|if|else|lambda|for|in|is)\b")
_OPERATORS = ("%in%", "**", "~", "+", "-", "*", "/", ":", "^", "(", ")")
_WHY = {
    "|": "multi-part formulas ('|') are not supported",
    "{": "use I(...) for arithmetic instead of {...}",
    "[": "subscripts are not allowed",
    "'": "strings are allowed only in C(...) levels and contrasts and in Q('column')",
    '"': "strings are allowed only in C(...) levels and contrasts and in Q('column')",
}


@dataclass(frozen=True)
class ParsedFormula:
    """A formula that passed the grammar: canonical sides for formulaic, and what it reads."""

    lhs: str
    rhs: str
    lhs_column: str | None  # the left side is one plain column (class labels stay labels)
    columns: tuple[str, ...]  # every column the formula reads, in the data's order
    rhs_columns: tuple[str, ...]  # those the right-hand side reads
    categorical: tuple[str, ...]  # columns read inside C(...)
    survival: SurvResponse | None = None  # a Surv(...) response (on the left only)


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "dot", "op", "call", "end"
    text: str
    start: int
    end: int
    canonical: str = ""


def refusal(formula: str, start: int, end: int, reason: str, syntax: bool = False) -> FormulaError:
    """The error for the token at ``formula[start:end]``: a syntax error, or a refused construct."""
    token = formula[start:end] or "end of formula"
    if len(token) > 40:
        token = token[:40] + "..."
    verdict = "does not parse" if syntax else "is refused"
    tail = "" if syntax else (
        " A formula may name columns and call C, I, Q, log, exp, sqrt, center, scale, standardize, poly, bs "
        "and the like (see the README, 'Formulas')."
    )
    return FormulaError(f"The formula {quoted(formula)} {verdict} at character {start + 1} ('{token}'): {reason}.{tail}")


def parse(formula: str, columns: Sequence[str]) -> ParsedFormula:
    """Check ``formula`` against the grammar for data with ``columns``; see the module docstring."""
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"The 'formula' argument must look like 'y ~ x1 + x2'. Got {formula!r:.120} instead.")
    if len(formula) > MAX_LENGTH:
        raise FormulaError(
            f"The formula {quoted(formula, 60)} has {len(formula)} characters; the limit is {MAX_LENGTH}."
        )
    parser = _Parser(formula, list(columns))
    return parser.formula()


class _Parser:
    def __init__(self, formula: str, columns: list[str]):
        self.text, self.columns, self.known = formula, columns, set(columns)
        self.tokens: list[_Token] = []
        self.pending: FormulaError | None = None  # a bad token: raised when the parser reaches it, so
        try:  # that errors come in the order of the text
            self.tokens.extend(self._tokenize())
        except FormulaError as exc:
            self.pending = exc
        self.pos = 0
        self.read: list[str] = []
        self.categorical: list[str] = []
        self.survival: SurvResponse | None = None

    # ------------------------------------------------------------------ tokens
    def _tokenize(self):
        text, i = self.text, 0
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
            elif ch == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise refusal(text, i, i + 1, "this backquote is never closed", syntax=True)
                name = text[i + 1 : end]
                yield self._name(name, i, end + 1)
                i = end + 1
            elif _WORD.match(text, i):
                word = _WORD.match(text, i).group()
                end = i + len(word)
                if end < len(text) and text[end] == "(":
                    close = self._matching(end)
                    yield _Token("call", text[i : close + 1], i, close + 1)
                    i = close + 1
                    if text[i : i + 1] in (".", "["):
                        why = "attribute access is not allowed" if text[i] == "." else "subscripts are not allowed"
                        after = _WORD.match(text, i)
                        raise refusal(text, i, after.end() if after else i + 1, why)
                    continue
                if end < len(text) and text[end] == "[":
                    raise refusal(text, end, end + 1, "subscripts are not allowed")
                if word == ".":
                    yield _Token("dot", word, i, end)
                elif _NUMBER.fullmatch(word):
                    yield _Token("number", word, i, end, word)
                else:
                    yield self._name(word, i, end)
                i = end
            else:
                op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
                if op is None:
                    why = _WHY.get(ch, "this character is not part of the formula language")
                    raise refusal(text, i, i + 1, why)
                yield _Token("op", op, i, i + len(op), op)
                i += len(op)
        yield _Token("end", "", len(text), len(text))

    def _name(self, name: str, start: int, end: int) -> _Token:
        if name not in self.known:
            raise refusal(self.text, start, end, _not_a_column(name, self.columns))
        return _Token("name", name, start, end, _name_text(name))

    def _matching(self, open_at: int) -> int:
        """Index of the ')' closing the '(' at ``open_at``, skipping strings and backquoted names."""
        text, depth, i, quote = self.text, 0, open_at, None
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\":
                    raise refusal(text, i, i + 1, "backslashes are not allowed")
                if ch == quote:
                    quote = None
            elif ch in "'\"`":
                quote = ch
            elif ch in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise refusal(text, i, i + 1, f"brackets nest deeper than {MAX_DEPTH} levels")
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    if ch != ")":
                        raise refusal(text, i, i + 1, "brackets do not match", syntax=True)
                    return i
            i += 1
        raise refusal(text, open_at, open_at + 1, "this parenthesis is never closed", syntax=True)

    def _peek(self) -> _Token:
        if self.pos == len(self.tokens):
            raise self.pending
        return self.tokens[self.pos]

    def _take(self) -> _Token:
        token = self._peek()
        self.pos += 1
        return token

    def _expect_operand(self, token: _Token) -> FormulaError:
        what = "the formula ends where a term is expected" if token.kind == "end" else "a term is expected here"
        return refusal(self.text, token.start, token.end, what, syntax=True)

    # ------------------------------------------------------------------ grammar
    def formula(self) -> ParsedFormula:
        lhs_start = self.pos
        lhs, _ = self._sum(0, side="lhs")
        lhs_tokens = self.tokens[lhs_start : self.pos]
        tilde = self._take()
        if tilde.text != "~":
            raise refusal(self.text, tilde.start, tilde.end, "expected '~' between the response and the terms", syntax=True)
        lhs_read, lhs_count = set(self.read), len(self.read)
        self.dot_columns = [c for c in self.columns if c not in lhs_read]
        rhs, terms = self._sum(0, side="rhs")
        end = self._take()
        if end.kind != "end":
            why = "a formula has one '~'" if end.text == "~" else "an operator is expected here"
            raise refusal(self.text, end.start, end.end, why, syntax=True)
        if terms > MAX_TERMS:
            raise FormulaError(
                f"The formula {quoted(self.text)} expands to about {terms} terms; the limit is {MAX_TERMS}."
            )
        lhs_column = lhs_tokens[0].text if len(lhs_tokens) == 1 and lhs_tokens[0].kind == "name" else None
        if self.survival is not None and len(lhs_tokens) != 1:
            first = lhs_tokens[0]
            raise refusal(self.text, first.start, lhs_tokens[-1].end, "Surv(...) must be the whole left-hand side")
        used, used_rhs = set(self.read), set(self.read[lhs_count:])
        return ParsedFormula(
            lhs=lhs,
            rhs=rhs,
            lhs_column=lhs_column,
            columns=tuple(c for c in self.columns if c in used),
            rhs_columns=tuple(c for c in self.columns if c in used_rhs),
            categorical=tuple(dict.fromkeys(self.categorical)),
            survival=self.survival,
        )

    def _sum(self, depth: int, side: str) -> tuple[str, int]:
        text, terms = self._signed(depth, side)
        while self._peek().text in ("+", "-"):
            op = self._take().text
            right, n = self._signed(depth, side)
            text += f" {op} {right}"
            terms += n if op == "+" else 0
        return text, terms

    def _signed(self, depth: int, side: str) -> tuple[str, int]:
        signs = []
        while self._peek().text in ("+", "-"):
            token = self._take()
            signs.append(token.text)
            if depth + len(signs) > MAX_DEPTH:
                raise refusal(self.text, token.start, token.end, f"signs and brackets nest deeper than {MAX_DEPTH} levels")
        text, terms = self._product(depth + len(signs), side)
        return "".join(signs) + text, (0 if signs and signs[-1] == "-" else terms)

    def _product(self, depth: int, side: str) -> tuple[str, int]:
        text, terms = self._inter(depth, side)
        while self._peek().text in ("*", "/", "%in%"):
            op = self._take().text
            right, n = self._inter(depth, side)
            text += f" {op} {right}"
            terms = {"*": terms + n + terms * n, "/": terms + terms * n, "%in%": terms * n}[op]
        return text, terms

    def _inter(self, depth: int, side: str) -> tuple[str, int]:
        text, terms = self._power(depth, side)
        while self._peek().text == ":":
            self._take()
            right, n = self._power(depth, side)
            text += f":{right}"
            terms *= n
        return text, terms

    def _power(self, depth: int, side: str) -> tuple[str, int]:
        text, terms = self._atom(depth, side)
        if self._peek().text in ("**", "^"):
            op = self._take().text
            exponent = self._take()
            if exponent.kind != "number" or not exponent.text.isdigit() or not 1 <= int(exponent.text) <= MAX_POWER:
                raise refusal(self.text, exponent.start, exponent.end,
                              f"the power of terms must be a whole number from 1 to {MAX_POWER}")
            k = int(exponent.text)
            if terms**k > MAX_POWER_PRODUCTS:  # formulaic multiplies out every ordered k-tuple of the terms
                raise refusal(self.text, exponent.start, exponent.end,
                              f"a power of {terms} term(s) forms {terms}**{k} products (the limit is "
                              f"{MAX_POWER_PRODUCTS}); a power above the number of terms adds no interaction, so "
                              f"use ** {min(k, terms)} or fewer terms")
            text += f" {op} {k}"
            terms = sum(math.comb(terms, j) for j in range(1, min(k, terms) + 1)) if terms < 64 else terms**k
        return text, terms

    def _atom(self, depth: int, side: str) -> tuple[str, int]:
        token = self._take()
        if token.kind == "name":
            self.read.append(token.text)
            return token.canonical, 1
        if token.kind == "number":
            if token.text not in ("0", "1"):
                raise refusal(self.text, token.start, token.end,
                              "a number in a formula can only be 0 or 1 (write I(2 * x) to scale a column)")
            return token.text, 0
        if token.kind == "dot":
            if side == "lhs":
                raise refusal(self.text, token.start, token.end, "'.' stands for the other columns, on the right of '~' only")
            if not self.dot_columns:
                raise refusal(self.text, token.start, token.end, "'.' stands for no column: every column is on the left")
            self.read.extend(self.dot_columns)
            return "(" + " + ".join(_name_text(c) for c in self.dot_columns) + ")", len(self.dot_columns)
        if token.kind == "call":
            if token.text.split("(", 1)[0].strip() == "Surv":
                return self._surv(token, side), 1
            return self._call(token, depth), 1
        if token.text == "(":
            if depth + 1 > MAX_DEPTH:
                raise refusal(self.text, token.start, token.end, f"brackets nest deeper than {MAX_DEPTH} levels")
            inner, terms = self._sum(depth + 1, side)
            close = self._take()
            if close.text != ")":
                raise refusal(self.text, close.start, close.end, "expected ')'", syntax=True)
            return f"({inner})", terms
        raise self._expect_operand(token)

    def _surv(self, token: _Token, side: str) -> str:
        """``Surv(...)``: the survival response, on the left of ``~`` only."""
        start = token.start
        if side != "lhs":
            raise refusal(self.text, start, token.end, "Surv(...) is a response and belongs on the left of '~'")
        code, names = _placeholders(token.text, set(self.columns))
        try:
            node = ast.parse(code, mode="eval").body
        except SyntaxError as exc:
            at = _char_offset(code, (exc.offset or 1) - 1)
            raise refusal(self.text, start + at, start + at + 1, f"this is not valid in Surv ({exc.msg})", syntax=True) from None

        def refuse(bad: ast.AST, reason: str) -> FormulaError:
            first = _char_offset(code, getattr(bad, "col_offset", 0))
            last = _char_offset(code, getattr(bad, "end_col_offset", None) or getattr(bad, "col_offset", 0) + 1)
            return refusal(self.text, start + first, start + max(last, first + 1), reason)

        self.survival = check_surv(node, self.columns, names, refuse)
        self.read.extend(self.survival.columns)
        return "Surv(" + ", ".join(_name_text(c) for c in self.survival.columns) + ")"

    def _call(self, token: _Token, depth: int) -> str:
        source, start = token.text, token.start
        code, names = _placeholders(source, set(self.columns))
        if len(_OPERATOR.findall(_strip_strings(code))) > MAX_OPERATORS:
            raise refusal(self.text, start, token.end, f"one call may hold at most {MAX_OPERATORS} operators")
        try:
            node = ast.parse(code, mode="eval").body
        except SyntaxError as exc:
            at = _char_offset(code, (exc.offset or 1) - 1)
            raise refusal(self.text, start + at, start + at + 1, f"this is not valid in a call ({exc.msg})", syntax=True) from None
        except (RecursionError, MemoryError):  # a guard: the operator count above should prevent it
            raise refusal(self.text, start, token.end, f"the call nests deeper than {MAX_DEPTH} levels") from None

        def refuse(bad: ast.AST, reason: str) -> FormulaError:
            first = _char_offset(code, getattr(bad, "col_offset", 0))
            last = _char_offset(code, getattr(bad, "end_col_offset", None) or getattr(bad, "col_offset", 0) + 1)
            return refusal(self.text, start + first, start + max(last, first + 1), reason)

        found = CallChecker(self.columns, names, refuse, MAX_DEPTH - depth).term(node)
        self.read.extend(found.columns)
        self.categorical.extend(found.categorical)
        canonical = ast.unparse(node)
        if not names:
            return canonical
        pattern = r"\b(" + "|".join(map(re.escape, names)) + r")\b"
        return re.sub(pattern, lambda m: _name_text(names[m.group()], in_call=True), canonical)


def _name_text(name: str, in_call: bool = False) -> str:
    """A column as formula text: bare when it is a plain identifier, else in backquotes. Inside a call
    (Python that formulaic evaluates) a backquoted name may not hold quotes either."""
    if not in_call and name.isidentifier() and not name.startswith("_") and name not in TERM_FUNCTIONS:
        return name
    bad = set("`\\") | (set("'\"") if in_call else set())
    if bad & set(name):
        raise FormulaError(
            f"The column name {name!r} holds {sorted(bad & set(name))[0]!r}, which a formula cannot quote"
            f"{' inside a call' if in_call else ''}; rename the column to use it."
        )
    return f"`{name}`"


def _placeholders(source: str, columns: set[str]) -> tuple[str, dict[str, str]]:
    """Replace every backquoted name in a call by an identifier of the same length (so that ``ast``
    positions stay those of the formula); returns the code and ``{identifier: column}``."""
    names: dict[str, str] = {}
    out, i, quote, counter = [], 0, None, 0
    while i < len(source):
        ch = source[i]
        if quote is None and ch == "`":
            end = source.index("`", i + 1)
            column = source[i + 1 : end]
            width = end + 1 - i
            while True:
                stem = f"_{counter:x}"
                counter += 1
                # same width as the backquoted name, so that positions stay put (unless the name is tiny)
                ident = (stem + "x" * width)[:width] if len(stem) <= width else stem
                if ident not in source and ident not in columns and ident not in names:
                    break
            names[ident] = column
            out.append(ident)
            i = end + 1
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif quote == ch:
            quote = None
        out.append(ch)
        i += 1
    return "".join(out), names


def _strip_strings(code: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", code)


def _char_offset(code: str, byte_offset: int) -> int:
    """``ast`` counts columns in UTF-8 bytes; the formula's positions count characters."""
    return len(code.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
