"""Constructors, conversions and structure queries: the entry points of values into funcgrad.numpy.

The rules use ``funcgrad._prims._shape.asarray`` (lists holding traced values stacked, never a copy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _trace, _values
from funcgrad._prims import _base, _shape
from funcgrad._prims._base import cast
from funcgrad._prims._dispatch import implements
from funcgrad._prims._inplace import copy_of, writable
from funcgrad._prims._writes import LIKE
from funcgrad._trace import Tracer
from funcgrad._values import holds_tracer, stand_in

__all__ = [
    "array",
    "asarray",
    "astype",
    "zeros_like",
    "ones_like",
    "full_like",
    "full",
    "zeros",
    "ones",
    "empty",
    "eye",
    "identity",
    "shape",
    "ndim",
    "size",
]


# --- constructors --------------------------------------------------------------------


@implements(np.array, np.asarray, np.asanyarray)
def array(object: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``numpy.array``; lists holding traced values are stacked (differentiably); a traced array is copied
    (a new object: a write into it never reaches the original)."""
    if isinstance(object, Tracer):
        out = object if dtype is None else _base.astype(object, dtype=np.dtype(dtype))
        return copy_of(out) if out is object else out
    if isinstance(object, (list, tuple)) and holds_tracer(object):
        return _shape.asarray(object, dtype)
    return np.array(object, dtype, *args, **kwargs)


def asarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.asarray``; traced values pass through unchanged (the same object, as NumPy's)."""
    if isinstance(a, Tracer) and (dtype is None or np.dtype(dtype) == _values.dtype(a)):
        return a
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and holds_tracer(a)):
        return array(a, dtype)
    return np.asarray(a, dtype, **kwargs)


def _array_like(like: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
    out = array(obj, *args, **kwargs)
    if isinstance(out, Tracer):
        return out
    return writable(out, like)


LIKE.update({np.array: _array_like, np.asarray: _array_like})  # ``numpy.array(obj, like=traced)``


def astype(x: Any, dtype: Any, **kwargs: Any) -> Any:
    """``numpy.astype``: a cast; derivatives pass through float and complex casts."""
    return cast(x, dtype, **kwargs)


@implements(np.zeros_like)
def zeros_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.zeros_like``.  Of a traced ``a`` (or inside a transform) it is a constant of that trace, so
    a traced value can be written into it; elsewhere exactly NumPy's array.

    >>> import funcgrad as fg, numpy as np
    >>> def f(x):
    ...     y = zeros_like(x)
    ...     y[1:] = x[:-1] ** 2
    ...     return y.sum()
    >>> fg.grad(f)(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 0.])
    """
    return writable(np.zeros_like(stand_in(a), dtype=dtype, **kwargs), a)


@implements(np.ones_like)
def ones_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.ones_like``; writable as ``zeros_like``'s result.

    >>> ones_like(np.zeros(2))
    array([1., 1.])
    """
    return writable(np.ones_like(stand_in(a), dtype=dtype, **kwargs), a)


@implements(np.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full_like``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        base = stand_in(a)
        out = _shape.broadcast_to(fill_value, np.shape(base))
        return astype(out, dtype or base.dtype)
    return writable(np.full_like(stand_in(a), fill_value, dtype=dtype, **kwargs), a)


def full(shape: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        out = _shape.broadcast_to(fill_value, tuple(np.atleast_1d(shape).tolist()) if np.ndim(shape) else (shape,))
        return out if dtype is None else astype(out, dtype)
    like = kwargs.pop("like", None)
    return writable(np.full(shape, fill_value, dtype=dtype, **kwargs), like)


def zeros(shape: Any, dtype: Any = float, order: Any = "C", *, like: Any = None) -> Any:
    """``numpy.zeros``.  Outside every transform exactly NumPy's array; inside one (or with a traced
    ``like=``) a constant of that transform's trace, so traced values can be written into it.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> def f(x):
    ...     out = fnp.zeros(3)
    ...     for i in range(3):
    ...         out[i] = x[i] * x[2 - i]
    ...     return out.sum()
    >>> fg.grad(f)(np.array([1.0, 2.0, 3.0]))
    array([6., 4., 2.])
    >>> type(fnp.zeros(2))
    <class 'numpy.ndarray'>
    """
    return writable(np.zeros(shape, dtype, order), like)


def ones(shape: Any, dtype: Any = None, order: Any = "C", *, like: Any = None) -> Any:
    """``numpy.ones``; writable inside a transform, as ``zeros``.

    >>> ones(2)
    array([1., 1.])
    """
    return writable(np.ones(shape, dtype, order), like)


def empty(shape: Any, dtype: Any = float, order: Any = "C", *, like: Any = None) -> Any:
    """``numpy.empty``; inside a transform, zeros (a replay under jit must not depend on leftover memory).

    >>> empty(2).shape
    (2,)
    """
    if like is None and _trace.innermost() is None:
        return np.empty(shape, dtype, order)
    return writable(np.zeros(shape, dtype, order), like)


def eye(N: int, M: Any = None, k: int = 0, dtype: Any = float, order: Any = "C", *, like: Any = None) -> Any:  # noqa: N803
    """``numpy.eye``; writable inside a transform, as ``zeros``.

    >>> eye(2)
    array([[1., 0.],
           [0., 1.]])
    """
    return writable(np.eye(N, M, k, dtype, order), like)


def identity(n: int, dtype: Any = None, *, like: Any = None) -> Any:
    """``numpy.identity``; writable inside a transform, as ``zeros``.

    >>> identity(1)
    array([[1.]])
    """
    return writable(np.identity(n, dtype), like)


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
        return _values.size(a)
    return int(_values.shape(a)[axis])
