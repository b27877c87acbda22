"""Formatting of numbers and distributions for summaries."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np


def _is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor (without importing torch: none exists before it is imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def number(value: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits; NaN shown as an em dash."""
    if value is None:
        return "—"
    v = float(value)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def jsonable(value: Any) -> Any:
    """Convert tensors/arrays/NaN to JSON-safe Python values (NaN and inf become None)."""
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()] if value.ndim else jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def distribution(dist) -> str:
    """``Beta(concentration1=2, concentration0=2)``: class name and parameters."""
    from ..priors.discrete import DiscretePrior

    if isinstance(dist, DiscretePrior):
        pairs = ", ".join(f"{_short(v)}: {p:.4g}" for v, p in dist.table())
        return f"Discrete({{{pairs}}})"
    names = list(getattr(dist, "arg_constraints", {}))
    if "probs" in names and "logits" in names:
        names.remove("logits")
    parts = []
    for name in names:
        try:
            value = getattr(dist, name)
        except (AttributeError, NotImplementedError):
            continue
        parts.append(f"{name}={_short(value)}")
    if not parts and hasattr(dist, "base_dist"):
        return f"{type(dist).__name__}({distribution(dist.base_dist)})"
    return f"{type(dist).__name__}({', '.join(parts)})"


def _short(value: Any) -> str:
    if _is_tensor(value):
        value = value.detach().cpu()
        if value.dim() == 0:
            return number(value.item(), 6)
        flat = value.reshape(-1).tolist()
        shown = ", ".join(number(v, 4) for v in flat[:4]) + (", ..." if len(flat) > 4 else "")
        return f"[{shown}]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, (int, float, np.floating)):
        return number(value, 6)
    return str(value)


def element_labels(name: str, shape: tuple) -> list[str]:
    if len(shape) == 0:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def facts_grid(pairs, label_style: str | None = None):
    """The header of a summary: ``(label, value)`` pairs, two per row when they fit the width."""
    from .table import FactsGrid

    return FactsGrid(pairs, label_style)


def plain_text(renderable, width: int = 110) -> str:
    """``renderable`` printed by rich without colour or markup, trailing spaces stripped (for ``str()``)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False, markup=False,
            emoji=False).print(renderable, crop=False)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
