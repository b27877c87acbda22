"""Distributions that print their parameters.

torch's ``repr`` of a distribution lists only the parameters stored as plain attributes, so a Beta
prints as ``Beta()``. :func:`readable` gives a distribution that mlemap returns (posteriors,
predictives, fitted distributions) a ``repr`` with every parameter, as
``Beta(concentration1=5.0, concentration0=2.0)``. It changes nothing else: the object becomes an
instance of a subclass of its own class (same name, same behaviour, still an instance of
``torch.distributions.Beta``), and torch itself is left alone.
"""

from __future__ import annotations

import sys

#: parameters left out of the repr when the one before the arrow is shown (the same values, another form)
ALTERNATIVES = {"logits": "probs", "precision_matrix": "covariance_matrix", "scale_tril": "covariance_matrix"}
#: elements shown for a vector or matrix parameter
SHOWN = 6


class ReadableRepr:
    """Mixin: ``repr`` lists every parameter of ``arg_constraints`` (see the module docstring)."""

    def __repr__(self) -> str:
        names = list(getattr(self, "arg_constraints", {}))
        parts = []
        for name in names:
            if ALTERNATIVES.get(name) in names:
                continue
            try:
                value = getattr(self, name)
            except (AttributeError, NotImplementedError):
                continue
            parts.append(f"{name}={_value(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _value(value) -> str:
    if getattr(value, "dim", None) is None:  # not a tensor
        return repr(value)
    if value.dim() == 0:
        return repr(value.item())
    flat = value.reshape(-1).tolist()
    shown = ", ".join(repr(v) for v in flat[:SHOWN]) + (", ..." if len(flat) > SHOWN else "")
    shape = "" if value.dim() == 1 else f", shape={tuple(value.shape)}"
    return f"[{shown}]{shape}"


_SUBCLASSES: dict[type, type] = {}


def readable(dist):
    """``dist``, now printing its parameters (see the module docstring); other objects are returned as they are."""
    import torch.distributions as td

    if not isinstance(dist, td.Distribution) or isinstance(dist, ReadableRepr):
        return dist
    dist.__class__ = _readable_class(type(dist))
    return dist


def _readable_class(cls: type) -> type:
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        # named in this module (ReadableBeta, ...), so that pickle finds the class again
        qualname = f"Readable{cls.__name__}"
        sub = type(cls.__name__, (ReadableRepr, cls), {"__module__": __name__, "__qualname__": qualname})
        _SUBCLASSES[cls] = sub
        setattr(sys.modules[__name__], qualname, sub)
    return sub


def __getattr__(name: str):
    """``ReadableBeta`` and the like, created on first use (unpickling in a fresh process)."""
    if name.startswith("Readable"):
        import torch.distributions as td

        from . import compound

        base = getattr(td, name[len("Readable"):], None) or getattr(compound, name[len("Readable"):], None)
        if isinstance(base, type):
            return _readable_class(base)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
