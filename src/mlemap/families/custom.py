"""Families built from user code: any log-density function, or any ``torch.distributions`` class."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

import torch
from torch.distributions import constraints

from ..errors import (
    EstimationError,
    FamilyError,
    LogDensityError,
    MlemapError,
    ParameterError,
)
from .base import Family, Params, raise_outside_support

SUPPORT_NAMES = {
    "real": constraints.real,
    "positive": constraints.positive,
    "nonnegative": constraints.nonnegative,
    "unit_interval": constraints.unit_interval,
    "probability": constraints.unit_interval,
    "simplex": constraints.simplex,
    "positive_definite": constraints.positive_definite,
    "real_vector": constraints.real_vector,
}


def parse_support(name: str, spec: Any):
    """Map a support given as a name (``"positive"``) or a torch constraint to a constraint."""
    if isinstance(spec, constraints.Constraint):
        return spec
    if isinstance(spec, str) and spec.lower() in SUPPORT_NAMES:
        return SUPPORT_NAMES[spec.lower()]
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        lo, hi = spec
        if lo is None:
            return constraints.less_than(float(hi))
        if hi is None:
            return constraints.greater_than(float(lo))
        return constraints.interval(float(lo), float(hi))
    raise ParameterError(
        f"The 'support' of parameter '{name}' must be one of {sorted(SUPPORT_NAMES)}, a (low, high) pair "
        f"or a torch.distributions constraint. Got {spec!r} instead."
    )


def _as_param(value: Any, name: str, like: torch.Tensor) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    except (TypeError, ValueError, RuntimeError):
        raise ParameterError(f"The 'init' value of '{name}' must be a number or array. Got {value!r}.") from None


class _UserFamily(Family):
    """Shared by families built from user code: parameter shapes come from ``init``, and any data shape
    is accepted (the user's log-density decides)."""

    init: dict

    def shape(self, name, event_shape):
        value = self.init.get(name)
        return torch.Size() if value is None else _as_param(value, name, torch.zeros((), dtype=torch.float64)).shape

    def _check_ndim(self, x):
        pass


class LogDensity(_UserFamily):
    """A family given by a function ``log_prob(x, **params)`` returning one log-density per observation.

    Parameters are named by ``init`` (or the function's arguments after the first); each starts at its
    ``init`` value and is unconstrained unless ``support`` names a constraint. Estimated numerically.
    """

    def __init__(
        self,
        fn: Callable[..., torch.Tensor],
        init: Mapping[str, Any] | None = None,
        support: Mapping[str, Any] | None = None,
        name: str | None = None,
        fixed: Any = (),
    ):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "custom")
        required, optional, open_ended = _arguments(fn)
        init = dict(init or {})
        given = list(init) + [k for k in fixed if isinstance(k, str) and k not in init]  # init and fixed name parameters
        if required is None or open_ended:  # no usable signature: init and fixed name the parameters
            names = [k for k in required or [] if k not in given] + given
        else:
            for argument, keys in (("init", init), ("fixed", fixed)):
                extra = [k for k in keys if k not in required and k not in optional]
                if extra:
                    raise ParameterError(
                        f"The '{argument}' argument names {extra[0]!r}, which is not an argument of the log-density "
                        f"'{self.name}' (its parameters are {required + optional}). Remove it or rename it."
                        + _positional_hint(fn)
                    )
            names = required + [k for k in optional if k in given]
        if not names:
            raise ParameterError(
                f"Cannot tell the parameters of the log-density '{self.name}'. Pass init={{'name': start, ...}}."
            )
        self.parameters = tuple(names)
        self.init = init
        support = dict(support or {})
        unknown = set(support) - set(names)
        if unknown:
            raise ParameterError(
                f"The 'support' argument names {sorted(unknown)}, which are not parameters of '{self.name}' "
                f"(its parameters are {names})."
            )
        self.supports = {n: parse_support(n, support.get(n, "real")) for n in names}
        self.support_description = "any value the log-density accepts"

    def __repr__(self):
        return f"LogDensity({self.name}, parameters={self.parameters})"

    def constraint(self, name, ctx=None):
        return self.supports[name]

    def check_support(self, x, fixed, ctx):
        missing = [n for n in self.parameters if n not in self.init and n not in fixed]
        if missing:
            raise ParameterError(
                f"The log-density '{self.name}' needs a starting value for {missing}. "
                f"Pass init={{{', '.join(repr(m) + ': ...' for m in missing)}}}."
            )

    def log_prob(self, f, p):
        x = f["x"]
        try:
            out = self.fn(x, **p)
        except MlemapError:
            raise
        except Exception as exc:
            raise LogDensityError(
                f"The log-density '{self.name}' raised {type(exc).__name__}: {exc} (at {_show(p)}). Fix the "
                "function so that it evaluates at every parameter value inside the declared supports."
            ) from exc
        self._check_output(out, x, p)
        return out

    def _check_output(self, out, x, p) -> None:
        """One real value per observation, never +inf (checked at every evaluation)."""
        if not isinstance(out, torch.Tensor):
            raise FamilyError(
                f"The log-density '{self.name}' must return a torch tensor (one value per observation); "
                f"got {type(out).__name__}. Use torch operations so that derivatives can be taken."
            )
        if out.dim() == 0:
            raise FamilyError(
                f"The log-density '{self.name}' returned a single number; return one log-density per "
                "observation (do not sum), so that weights and standard errors work."
            )
        n = x.shape[0]
        expected = tuple(torch.broadcast_shapes(self._batch_shape(p), (n,)))  # parameters may carry a grid
        if tuple(out.shape) != expected:
            raise LogDensityError(
                f"The log-density '{self.name}' returned shape {tuple(out.shape)} for {n} observations; it must "
                f"return one log-density per observation, shape {expected}."
            )
        if out.is_complex():
            raise LogDensityError(
                f"The log-density '{self.name}' returned complex values ({out.dtype}); return real log-densities."
            )
        if not out.is_floating_point():
            raise LogDensityError(
                f"The log-density '{self.name}' returned {out.dtype} values; return floating-point log-densities."
            )
        infinite = torch.isposinf(out)
        if bool(infinite.any()):
            i = int(torch.nonzero(infinite)[0])
            raise LogDensityError(
                f"The log-density '{self.name}' returned +inf for {int(infinite.sum())} observation(s), the first at "
                f"row {i} (x = {x[i].tolist()}) with {_show(p)}: a density cannot be infinite, so the likelihood "
                "would be unbounded. Check the function near these parameter values."
            )

    def _batch_shape(self, p) -> torch.Size:
        """Broadcast of the parameters' leading dimensions beyond their own shapes (a grid of values,
        broadcasting against the observations)."""
        extra = []
        for name, value in p.items():
            if isinstance(value, torch.Tensor):
                own = len(self.shape(name, torch.Size()))
                extra.append(value.shape[: max(value.dim() - own, 0)])
        return torch.broadcast_shapes(*extra) if extra else torch.Size()

    def validate_start(self, feats: Mapping[str, torch.Tensor], start: Params, free: list[str]) -> None:
        """At the starting values: finite log-densities for every observation, and a result that
        depends on every free parameter (a detached tensor would leave the start as a false optimum)."""
        x = feats["x"]
        params = {k: (v.detach().clone().requires_grad_(True) if k in free else v) for k, v in start.items()}
        with torch.enable_grad():
            out = self.log_prob(feats, params)
        bad = ~torch.isfinite(out.detach())
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise EstimationError(
                f"The log-density '{self.name}' is not finite at the starting values {_show(start)} for "
                f"{int(bad.sum())} of {x.shape[0]} observations (the first: row {i}, x = {x[i].tolist()}, value "
                f"{float(out[i].detach())}). Pass init={{...}} with values at which every observation has positive density."
            )
        if not out.requires_grad:
            raise LogDensityError(
                f"The log-density '{self.name}' does not depend on its parameters {free}: the returned tensor is "
                "detached from them (a .detach(), .item(), numpy or float conversion). Use torch operations on the "
                "parameters throughout."
            )
        grads = torch.autograd.grad(out.sum(), [params[k] for k in free], allow_unused=True)
        unused = [k for k, g in zip(free, grads) if g is None]
        if unused:
            raise LogDensityError(
                f"The log-density '{self.name}' does not depend on the parameter(s) {unused}: the returned tensor "
                "is not computed from them. Remove them from init (or fix them with fixed={...}) or use them."
            )

    def initial(self, f, w, fixed):
        like = f["x"]
        return {n: _as_param(self.init[n], n, like) for n in self.parameters if n in self.init}


def _arguments(fn) -> tuple[list[str] | None, list[str], bool]:
    """Arguments after the first (the data): (required, with defaults, whether ``**kwargs`` is accepted);
    ``None`` when the signature cannot be read."""
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return None, [], True
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [p.name for p in named if p.default is p.empty]
    optional = [p.name for p in named if p.default is not p.empty]
    return required, optional, any(p.kind == p.VAR_KEYWORD for p in params)


def _positional_hint(fn) -> str:
    """Why a function cannot receive its parameters by name, when that is the reason."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ""
    if not params:
        return " The function must take the data as its first argument: log_prob(x, a, b)."
    positional = [p for p in params[1:] if p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)]
    if positional:
        return (f" Parameters are passed by name, so the positional-only argument '{positional[0].name}' cannot "
                "receive one: write log_prob(x, a, b) or log_prob(x, **params).")
    return ""


def _required_constructor_arguments(cls: type) -> list[str]:
    """Arguments a distribution class cannot be built without (``temperature`` of RelaxedBernoulli)."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _show(params: Mapping[str, torch.Tensor]) -> str:
    return "{" + ", ".join(f"{k}: {v.detach().tolist() if isinstance(v, torch.Tensor) else v}" for k, v in params.items()) + "}"


class TorchFamily(_UserFamily):
    """A family for any ``torch.distributions`` class, with parameters taken from its ``arg_constraints``.

    Where a class accepts either ``probs`` or ``logits`` the ``probs`` form is used. Integer-valued
    arguments are options that must be given in ``fixed``. Starting values come from ``init`` or a
    neutral point of each constraint (0, 1 or 0.5).
    """

    def __init__(self, cls: type, init: Mapping[str, Any] | None = None):
        self.cls = cls
        self.name = cls.__name__
        self.torch_class = cls
        declared = getattr(cls, "arg_constraints", {})
        if not isinstance(declared, Mapping):  # a property computed per instance (Wishart)
            raise FamilyError(
                f"torch.distributions.{self.name} does not declare its parameters on the class (its "
                "'arg_constraints' depends on the instance), so mlemap cannot tell what to estimate. Write its "
                "log-density as a function log_prob(x, **params) and pass that, with init={...}."
            )
        args = dict(declared)
        if "probs" in args and "logits" in args:
            del args["logits"]
        options, params = [], []
        for key, c in args.items():
            base = c
            while isinstance(base, constraints.independent):
                base = base.base_constraint
            (options if getattr(base, "is_discrete", False) else params).append(key)
        options += [k for k in _required_constructor_arguments(cls) if k not in args and k not in ("probs", "logits")]
        self.options = tuple(options)
        #: parameters that are vectors or matrices: their shape must come from ``init``
        self.event_dims = {k: args[k].event_dim for k in params}
        self.parameters = tuple(params)
        self.arg_constraints = args
        self.init = dict(init or {})
        self.discrete = bool(getattr(getattr(cls, "support", None), "is_discrete", False))
        self.support_description = f"the support of torch.distributions.{self.name}"

    def __repr__(self):
        return f"TorchFamily({self.name})"

    def constraint(self, name, ctx=None):
        c = self.arg_constraints[name]
        while isinstance(c, constraints.independent):  # the layout acts elementwise on the flattened value
            c = c.base_constraint
        return constraints.unit_interval if isinstance(c, type(constraints.half_open_interval(0.0, 1.0))) else c

    def check_support(self, x, fixed, ctx):
        shapeless = [k for k, d in self.event_dims.items() if d > 0 and k not in self.init and k not in fixed]
        if shapeless:
            kinds = {1: "a vector", 2: "a matrix"}
            described = ", ".join(f"'{k}' ({kinds.get(self.event_dims[k], 'an array')})" for k in shapeless)
            raise ParameterError(
                f"torch.distributions.{self.name} has parameters whose shape mlemap cannot guess: {described}. "
                f"Pass starting values of the right shapes, for example init={{{', '.join(repr(k) + ': ...' for k in shapeless)}}}."
            )
        start = {**{k: v for k, v in self._neutral(x).items()}, **fixed}
        try:
            support = self.cls(**start, validate_args=False).support
        except Exception:  # a start that the class rejects: the first evaluation reports it
            return
        try:
            inside = support.check(x)
        except Exception:
            return
        while inside.dim() > 1:
            inside = inside.all(-1)
        raise_outside_support(self, x, ~inside, "Pass observations inside the distribution's support.")

    def _neutral(self, x: torch.Tensor) -> Params:
        out = {}
        for name in self.parameters:
            if name in self.init:
                out[name] = _as_param(self.init[name], name, x)
                continue
            c = self.constraint(name)
            if c is constraints.unit_interval:
                out[name] = torch.tensor(0.5, dtype=x.dtype, device=x.device)
            elif c is constraints.real:
                out[name] = torch.tensor(0.0, dtype=x.dtype, device=x.device)
            else:
                out[name] = torch.tensor(1.0, dtype=x.dtype, device=x.device)
        return out

    def log_prob(self, f, p):
        try:
            return self.cls(**p, validate_args=False).log_prob(f["x"])
        except Exception as exc:
            raise LogDensityError(
                f"torch.distributions.{self.name} raised {type(exc).__name__}: {exc} (at {_show(p)}). Check that "
                "'init' and 'fixed' give every argument the class needs, with the shapes it expects."
            ) from exc

    def initial(self, f, w, fixed):
        return self._neutral(f["x"])

    def distribution(self, p):
        return self.cls(**p, validate_args=False)
