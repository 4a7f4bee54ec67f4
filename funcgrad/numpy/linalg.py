"""``funcgrad.numpy.linalg``: NumPy's linear algebra with derivative rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer
from funcgrad.numpy import _reductions, _ufuncs
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._util import normalize_axes

__all__ = ["norm"]


def _norm2(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.sqrt(np.sum(np.real(x * np.conj(x)), axis=axis, keepdims=keepdims))


def _safe(ans: Any) -> Any:
    return _ufuncs.where(ans == 0, 1.0, ans)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    # d|x| = Re(conj(x) dx) / |x|; taken as zero at x = 0 (the minimum-norm subgradient)
    scale = _reductions.expand_reduced(g / _safe(ans), x, axis, keepdims)
    return scale * _ufuncs.conj(x)


def _norm2_jvp(t: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    inner = _reductions.sum_p(_ufuncs.real(_ufuncs.conj(x) * t), axis=axis, keepdims=keepdims)
    return inner / _safe(ans)


norm2 = primitive(_norm2, "norm2")
defvjp(norm2, _norm2_vjp)
defjvp(norm2, _norm2_jvp, batched=True)


@implements(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """``numpy.linalg.norm``.  The derivative at ``x = 0`` is taken as zero.

    >>> import funcgrad as fg
    >>> float(fg.grad(norm)(np.array([3.0, 4.0]))[0])
    0.6
    """
    if not isinstance(x, Tracer):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    rank = x.ndim
    two_norm = ord is None or (ord == 2 and (rank == 1 or (axis is not None and np.ndim(axis) == 0))) or ord == "fro"
    if two_norm:
        return norm2(x, axis=normalize_axes(axis, rank), keepdims=bool(keepdims))
    raise NotImplementedError(f"funcgrad: linalg.norm with ord={ord!r} on traced values is not supported yet")
