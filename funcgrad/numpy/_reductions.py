"""Reductions (sum, prod, max, min) and their rules.

Primitives take ``axis`` as a sorted tuple of negative axes (see
``normalize_axes``), so the forward rules are right for batched tangents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer, full_lower
from funcgrad.numpy import _shape, _ufuncs
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._ufuncs import mask
from funcgrad.numpy._util import normalize_axes, shape

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin"]


def kept_shape(xshape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    """``xshape`` with the reduced (negative) axes set to one."""
    rank = len(xshape)
    reduced = {a + rank for a in axis}
    return tuple(1 if i in reduced else n for i, n in enumerate(xshape))


def expand_reduced(g: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """Broadcast the cotangent of a reduction back to the input's shape."""
    xshape = shape(x)
    if not keepdims:
        g = _shape.reshape_p(g, newshape=kept_shape(xshape, axis))
    return _shape.broadcast_to_p(g, shape=xshape)


def _sum(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_p = primitive(_sum, "sum")
defvjp(sum_p, lambda g, ans, x, axis, keepdims: expand_reduced(g, x, axis, keepdims))
defjvp(sum_p, lambda t, ans, x, axis, keepdims: sum_p(t, axis=axis, keepdims=keepdims), batched=True)


def _prod(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_others(x: Any, axis: tuple[int, ...]) -> Any:
    """For every element, the product of the other elements along ``axis``.

    Exact when some elements are zero (no division): row ``i`` of an
    ``n x n`` table holds the reduced elements with element ``i`` set to one.
    Costs ``n`` times the input's memory for a reduction over ``n`` elements.
    """
    from funcgrad.numpy._ufuncs import where

    rank = len(shape(x))
    moved = _shape.moveaxis(x, axis, tuple(range(-len(axis), 0)))
    mshape = shape(moved)
    flat = _shape.reshape_p(moved, newshape=mshape[: rank - len(axis)] + (-1,))
    n = shape(flat)[-1]
    table = where(np.eye(n, dtype=bool), 1.0, _shape.reshape_p(flat, newshape=shape(flat)[:-1] + (1, n)))
    others = _shape.reshape_p(prod_p(table, axis=(-1,), keepdims=False), newshape=mshape)
    return _shape.moveaxis(others, tuple(range(-len(axis), 0)), axis)


prod_p = primitive(_prod, "prod")
defvjp(prod_p, lambda g, ans, x, axis, keepdims: expand_reduced(g, x, axis, keepdims) * _prod_others(x, axis))
defjvp(
    prod_p,
    lambda t, ans, x, axis, keepdims: sum_p(t * _prod_others(x, axis), axis=axis, keepdims=keepdims),
    batched=True,
)


def _extreme_weights(ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """Where the extreme value sits; ties share the derivative equally."""
    xs = full_lower(x)
    best = np.reshape(full_lower(ans), kept_shape(np.shape(xs), axis))
    hits = xs == best
    return mask(hits / np.sum(hits, axis=axis, keepdims=True), x)


def _extreme(reduce: Any, name: str) -> Any:
    prim = primitive(lambda x, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims), name)
    defvjp(
        prim,
        lambda g, ans, x, axis, keepdims: (
            expand_reduced(g, x, axis, keepdims) * _extreme_weights(ans, x, axis, keepdims)
        ),
    )
    defjvp(
        prim,
        lambda t, ans, x, axis, keepdims: sum_p(
            t * _extreme_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims
        ),
        batched=True,
    )
    return prim


max_p = _extreme(np.max, "max")
min_p = _extreme(np.min, "min")


# --- public wrappers ------------------------------------------------------------


def _operand(a: Any) -> Any:
    from funcgrad.numpy._constructors import operand

    return operand(a)


def _no_out(out: Any) -> None:
    from funcgrad.numpy._constructors import no_out

    no_out(out)


@implements(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.sum``."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out)
    if dtype is not None:
        a = _ufuncs.astype(a, dtype=np.dtype(dtype))
    return sum_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


@implements(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.mean``."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    axes = normalize_axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    total = sum(a, axis=axes, dtype=dtype, out=out, keepdims=keepdims)
    return total / count


@implements(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.prod`` (exact derivative even with zeros in the input)."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out)
    if dtype is not None:
        a = _ufuncs.astype(a, dtype=np.dtype(dtype))
    axes = normalize_axes(axis, a.ndim)
    if not axes:
        return a
    return prod_p(a, axis=axes, keepdims=bool(keepdims))


@implements(np.max, np.amax)
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.max``; at ties the derivative is shared equally among the maxima."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out)
    return max_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


@implements(np.min, np.amin)
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.min``; at ties the derivative is shared equally among the minima."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out)
    return min_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


amax = max
amin = min
