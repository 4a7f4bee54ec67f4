"""NumPy functions found missing by the audit of the differentiable surface (tests/test_surface.py).

Each is a composition of existing primitives (so both modes and every order
come from their rules) and is registered for ``__array_function__``, so the
plain ``numpy`` spelling works on traced values too.  On plain arrays each
returns exactly what NumPy returns.

>>> import numpy as np
>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> fg.grad(lambda x: fnp.sum(np.copy(x) * x))(np.array([1.0, 2.0]))
array([2., 4.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _at, _reductions, _select, _shape, _ufuncs
from funcgrad._prims._at import plain_index, read_index
from funcgrad._prims._dispatch import implements
from funcgrad._prims._inplace import copy_of, writable
from funcgrad._trace import Tracer, full_lower, innermost
from funcgrad._values import dtype as _values_dtype
from funcgrad._values import is_traced, ndim, shape, stand_in
from funcgrad.numpy import _constructors

__all__ = ["copy", "empty_like", "broadcast_arrays", "matrix_transpose", "unstack", "unwrap", "bincount"]

# ``numpy.astype`` (NumPy 2) is ``funcgrad.numpy.astype`` on traced values
implements(np.astype)(_constructors.astype)


@implements(np.copy)
def copy(a: Any, order: Any = "K", subok: bool = False) -> Any:
    """``numpy.copy``: a new array object; a write into the copy never reaches the original.

    >>> import funcgrad as fg
    >>> float(fg.grad(lambda x: copy(x) ** 2)(3.0))
    6.0
    """
    if isinstance(a, Tracer):
        if isinstance(full_lower(a), np.generic):  # its type, never its value
            # a NumPy scalar underneath (0-d arithmetic's result): ``numpy.copy`` gives a 0-d array, so a
            # recorded reshape through (1,) makes one (a NumPy scalar's reshape to () stays a scalar)
            return copy_of(_shape.reshape(_shape.reshape(a, (1,)), ()))
        return copy_of(a)
    numpy_copy: Any = np.copy
    return numpy_copy(a, order=order, subok=subok)


@implements(np.empty_like)
def empty_like(prototype: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
               **kwargs: Any) -> Any:  # fmt: skip
    """``numpy.empty_like``: uninitialised outside every transform; inside one, zeros that may be written
    (as ``zeros_like``: a replay under jit must not depend on leftover memory).

    >>> import funcgrad as fg
    >>> seen = []
    >>> _ = fg.grad(lambda x: seen.append(empty_like(x).shape) or x.sum())(np.ones(3))
    >>> seen
    [(3,)]
    """
    if not isinstance(prototype, Tracer) and innermost() is None:
        numpy_empty_like: Any = np.empty_like
        return numpy_empty_like(prototype, dtype=dtype, order=order, subok=subok, shape=shape, **kwargs)
    numpy_zeros_like: Any = np.zeros_like
    return writable(numpy_zeros_like(stand_in(prototype), dtype=dtype, order=order, shape=shape), prototype)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Any, ...]:
    """``numpy.broadcast_arrays``: each argument broadcast (differentiably) to their common shape.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: broadcast_arrays(x, np.ones((2, 3)))[0].sum())(np.ones(3))
    array([2., 2., 2.])
    """
    if not is_traced(*args):
        return tuple(np.broadcast_arrays(*args, subok=subok))
    common = np.broadcast_shapes(*(shape(a) for a in args))
    return tuple(_shape.broadcast_to(a, common) for a in args)


@implements(np.matrix_transpose)
def matrix_transpose(x: Any, /) -> Any:
    """``numpy.matrix_transpose``: swap the last two axes (a stack of matrices).

    >>> matrix_transpose(np.arange(6.0).reshape(1, 2, 3)).shape
    (1, 3, 2)
    """
    if not isinstance(x, Tracer):
        return np.matrix_transpose(x)
    if ndim(x) < 2:
        raise _errors.matrix_transpose_rank(shape(x))
    return _shape.swapaxes(x, -1, -2)


@implements(np.unstack)
def unstack(x: Any, /, *, axis: int = 0) -> tuple[Any, ...]:
    """``numpy.unstack``: the slices of ``x`` along ``axis``, as a tuple.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: unstack(x, axis=1)[1].sum())(np.ones((2, 2)))
    array([[0., 1.],
           [0., 1.]])
    """
    if not isinstance(x, Tracer):
        return np.unstack(x, axis=axis)
    if ndim(x) == 0:
        raise _errors.unstack_scalar()
    moved = _shape.moveaxis(x, axis, 0)
    return tuple(moved[i] for i in range(shape(x)[axis]))


@implements(np.unwrap)
def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: float = 2 * np.pi) -> Any:
    """``numpy.unwrap``: ``p`` with multiples of ``period`` added where consecutive values jump by more than
    ``discont``, in NumPy's steps; the added multiples are piecewise constant, so the derivative is the identity.

    >>> import funcgrad as fg
    >>> fg.grad(lambda p: unwrap(p).sum())(np.array([0.0, 3.0, 6.5]))
    array([1., 1., 1.])
    """
    p = _shape.operand(p)
    if not is_traced(p):
        return np.unwrap(p, discont, axis, period=period)
    dd = _reductions.diff(p, axis=axis)
    if discont is None:
        discont = period / 2
    first = [slice(None)] * ndim(p)
    rest = list(first)
    first[axis], rest[axis] = slice(None, 1), slice(1, None)
    kind = np.result_type(np.zeros((), _values_dtype(dd)), period)
    if np.issubdtype(kind, np.integer):
        high, remainder = divmod(period, 2)
        ambiguous = remainder == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = _ufuncs.mod(dd - low, period) + low
    if ambiguous:
        ddmod = _select.where((ddmod == low) & (dd > 0), high, ddmod)
    correction = _select.where(_ufuncs.absolute(dd) < discont, 0, ddmod - dd)
    head = _constructors.astype(p[tuple(first)], kind)
    return _shape.concatenate([head, p[tuple(rest)] + _reductions.cumsum(correction, axis=axis)], axis=axis)


@implements(np.bincount)
def bincount(x: Any, /, weights: Any = None, minlength: int = 0) -> Any:
    """``numpy.bincount``: with traced ``weights``, each bin the sum of its weights (a scatter-add, linear in
    ``weights``); the counts themselves have no derivative.

    >>> import funcgrad as fg
    >>> fg.grad(lambda w: (bincount([0, 2, 2], weights=w) ** 2).sum())(np.array([1.0, 2.0, 3.0]))
    array([ 2., 10., 10.])
    """
    weights = _shape.operand(weights)
    if not is_traced(x, weights):
        return np.bincount(x, weights, minlength)
    index = np.asarray(read_index(plain_index(x), "numpy.bincount of traced positions (the bin count is their maximum)"))
    if weights is None:
        return np.bincount(index, None, minlength)
    bins = np.bincount(index, None, minlength).shape[0]  # NumPy's checks of the positions, and the length
    if np.shape(index) != shape(weights):
        raise _errors.bincount_lengths()
    return _at.at(np.zeros(bins))[index].add(_constructors.astype(weights, np.float64))  # NumPy sums in doubles
