"""Constructors, conversions and structure queries: the entry points of values into funcgrad.numpy."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from funcgrad._prims import _shape, _ufuncs, _util
from funcgrad._prims._dispatch import implements
from funcgrad._prims._util import stand_in
from funcgrad._trace import Tracer

__all__ = ["array", "asarray", "astype", "zeros_like", "ones_like", "full_like", "full", "shape", "ndim", "size"]


def is_traced(*values: Any) -> bool:
    return builtins.any(isinstance(v, Tracer) for v in values)


def _holds_tracer(obj: Any) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return builtins.any(_holds_tracer(o) for o in obj)
    return False


def no_out(out: Any) -> None:
    """Traced arrays are immutable: ``out=`` cannot be honoured."""
    if out is not None:
        from funcgrad import _errors

        raise _errors.inplace_assignment()


# --- constructors --------------------------------------------------------------------


@implements(np.array, np.asarray, np.asanyarray)
def array(object: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``numpy.array``; lists holding traced values are stacked (differentiably)."""
    if isinstance(object, Tracer):
        return object if dtype is None else _ufuncs.astype(object, dtype=np.dtype(dtype))
    if isinstance(object, (list, tuple)) and _holds_tracer(object):
        out = _shape.stack([array(o) for o in object])
        return out if dtype is None else _ufuncs.astype(out, dtype=np.dtype(dtype))
    return np.array(object, dtype, *args, **kwargs)


def asarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.asarray``; traced values pass through unchanged."""
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and _holds_tracer(a)):
        return array(a, dtype)
    return np.asarray(a, dtype, **kwargs)


def astype(x: Any, dtype: Any, **kwargs: Any) -> Any:
    """``numpy.astype``: a cast; derivatives pass through float and complex casts."""
    if not isinstance(x, Tracer):
        return np.asarray(x).astype(dtype, **kwargs)
    return _ufuncs.astype(x, dtype=np.dtype(dtype))


@implements(np.zeros_like)
def zeros_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.zeros_like``: a plain array (it does not depend on ``a``'s values)."""
    return np.zeros_like(stand_in(a), dtype=dtype, **kwargs)


@implements(np.ones_like)
def ones_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.ones_like``: a plain array (it does not depend on ``a``'s values)."""
    return np.ones_like(stand_in(a), dtype=dtype, **kwargs)


@implements(np.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full_like``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        base = stand_in(a)
        out = _shape.broadcast_to(fill_value, np.shape(base))
        return astype(out, dtype or base.dtype)
    return np.full_like(stand_in(a), fill_value, dtype=dtype, **kwargs)


def full(shape: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        out = _shape.broadcast_to(fill_value, tuple(np.atleast_1d(shape).tolist()) if np.ndim(shape) else (shape,))
        return out if dtype is None else astype(out, dtype)
    return np.full(shape, fill_value, dtype=dtype, **kwargs)


def operand(a: Any) -> Any:
    """Lists holding traced values become traced arrays; anything else is unchanged."""
    return array(a) if isinstance(a, (list, tuple)) and _holds_tracer(a) else a


@implements(np.shape)
def shape(a: Any) -> tuple[int, ...]:
    """``numpy.shape``."""
    return np.shape(stand_in(a))


@implements(np.ndim)
def ndim(a: Any) -> int:
    """``numpy.ndim``."""
    return np.ndim(stand_in(a))


@implements(np.size)
def size(a: Any, axis: Any = None) -> int:
    """``numpy.size``."""
    if axis is None:
        return _util.size(a)
    return int(_util.shape(a)[axis])
