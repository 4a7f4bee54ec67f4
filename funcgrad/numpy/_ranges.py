"""``linspace``, ``logspace``, ``geomspace`` with traced endpoints (and a traced ``logspace`` base).

On plain arguments each is NumPy's own function.  With a traced ``start``,
``stop`` (or ``base``) the sequence is built the way NumPy builds it,
``start + arange(num) * step`` with the last sample set to ``stop``, from
funcgrad operations, so it is differentiable in both modes at any order.
Every NumPy option is honoured: any ``num`` (0 and 1 included),
``endpoint=False``, ``retstep`` (a traced step; ``nan`` when ``num`` leaves
it undefined, as NumPy), ``dtype`` (an integer ``dtype`` floors, with a zero
derivative), ``axis``, and array endpoints (broadcast against each other).
``numpy.linspace(traced, ...)`` dispatches here.

>>> import numpy as np, funcgrad as fg
>>> fg.jacfwd(lambda stop: linspace(0.0, stop, 3))(2.0)
array([0. , 0.5, 1. ])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _shape, _ufuncs
from funcgrad._prims._dispatch import implements
from funcgrad._values import dtype as dtype_of
from funcgrad._values import is_traced, ndim, shape
from funcgrad.numpy import _constructors

__all__ = ["linspace", "logspace", "geomspace"]


def _weak(value: Any) -> Any:
    """What ``numpy.result_type`` should see: Python scalars stay weak, arrays give their dtype."""
    return value if isinstance(value, (bool, int, float, complex)) else dtype_of(value)


def _inexact(*values: Any) -> np.dtype[Any]:
    """NumPy's ``result_type(..., ensure_inexact=True)``: integers and booleans become float64."""
    kind = np.result_type(*(_weak(v) for v in values))
    return kind if kind.kind in "fc" else np.dtype(np.float64)


def _as(value: Any, kind: np.dtype[Any]) -> Any:
    value = _constructors.asarray(value)
    return value if dtype_of(value) == kind else _constructors.astype(value, kind)


def _ndmin(value: Any, rank: int) -> Any:
    """``numpy.array(value, ndmin=rank)``: leading axes of length one."""
    value = _constructors.asarray(value)
    missing = rank - ndim(value)
    return value if missing <= 0 else _shape.reshape(value, (1,) * missing + shape(value))


def _count(num: Any) -> int:
    count = operator.index(num)
    if count < 0:
        raise _errors.negative_sample_count(count)
    return count


@implements(np.linspace)
def linspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kwargs: Any,
) -> Any:
    """``numpy.linspace``: ``num`` evenly spaced samples from ``start`` to ``stop``.

    Raises ``ValueError`` for a negative ``num`` and ``TypeError`` for a
    non-integer one (as NumPy).

    >>> import funcgrad as fg
    >>> values, step = linspace(1.0, 2.0, 5, retstep=True)
    >>> values, step
    (array([1.  , 1.25, 1.5 , 1.75, 2.  ]), np.float64(0.25))
    >>> fg.grad(lambda a: linspace(a, 2.0, 5, endpoint=False).sum())(1.0)
    np.float64(3.0)
    """
    if not is_traced(start, stop):
        numpy_linspace: Any = np.linspace
        return numpy_linspace(start, stop, num, endpoint, retstep, dtype, axis, **kwargs)
    count = _count(num)
    intervals = count - 1 if endpoint else count
    kind = _inexact(start, stop)
    first, last = _as(start, kind), _as(stop, kind)
    delta = last - first
    ramp = np.arange(0, count, dtype=kind).reshape((-1,) + (1,) * ndim(delta))
    step: Any = np.nan
    if intervals > 0:
        step = delta / intervals
        samples = ramp * step
    else:
        samples = ramp * delta
    samples = samples + first
    if endpoint and count > 1:
        tail = _shape.broadcast_to(last, (1,) + shape(samples)[1:])
        samples = _shape.concatenate([samples[:-1], tail], axis=0)
    if axis != 0:
        samples = _shape.moveaxis(samples, 0, axis)
    if dtype is not None and np.issubdtype(dtype, np.integer):
        samples = _ufuncs.floor(samples)
    if dtype is not None:
        samples = _constructors.astype(samples, dtype)
    return (samples, step) if retstep else samples


@implements(np.logspace)
def logspace(
    start: Any,
    stop: Any,
    num: Any = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``numpy.logspace``: ``base ** linspace(start, stop, num)``; ``base`` may be traced or an array.

    >>> import funcgrad as fg
    >>> logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    >>> fg.grad(lambda b: logspace(0.0, 2.0, 3, base=b).sum())(10.0)
    np.float64(21.0)
    """
    if not is_traced(start, stop, base):
        numpy_logspace: Any = np.logspace
        return numpy_logspace(start, stop, num, endpoint, base, dtype, axis)
    if ndim(base):
        rank = len(np.broadcast_shapes(shape(start), shape(stop), shape(base)))
        start, stop, base = (_ndmin(v, rank) for v in (start, stop, base))
        base = _shape.expand_dims(base, axis)
    exponents = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = _ufuncs.power(base, exponents)
    return out if dtype is None else _constructors.astype(out, dtype)


def _unit(value: Any) -> Any:
    """``numpy.sign``: plain for real values; ``z / |z|`` (differentiable) for complex ones."""
    if dtype_of(value).kind == "c":
        return value / _ufuncs.absolute(value)
    return _ufuncs.sign(value)


@implements(np.geomspace)
def geomspace(start: Any, stop: Any, num: Any = 50, endpoint: bool = True, dtype: Any = None, axis: int = 0) -> Any:
    """``numpy.geomspace``: a geometric progression from ``start`` to ``stop`` (negative and complex too).

    Raises ``ValueError`` when an endpoint is zero (as NumPy).

    >>> import funcgrad as fg
    >>> geomspace(1.0, 100.0, 3)
    array([  1.,  10., 100.])
    >>> float(fg.grad(lambda s: geomspace(1.0, s, 3)[1])(100.0))
    0.05
    """
    if not is_traced(start, stop):
        numpy_geomspace: Any = np.geomspace
        return numpy_geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = _constructors.asarray(start), _constructors.asarray(stop)
    count = _count(num)
    if np.any(start == 0) or np.any(stop == 0):
        raise _errors.geomspace_zero()
    kind = np.result_type(dtype_of(start), dtype_of(stop), float(count), np.zeros((), dtype))
    first, last = _as(start, kind), _as(stop, kind)
    sign = _unit(first)
    first, last = first / sign, last / sign
    out = logspace(_ufuncs.log10(first), _ufuncs.log10(last), num=count, endpoint=endpoint, base=10.0, dtype=kind)
    pieces = [out]
    if count > 0:
        ends = [_shape.broadcast_to(first, (1,) + shape(out)[1:])]
        middle = out[1:-1] if count > 1 and endpoint else out[1:]
        tail = [_shape.broadcast_to(last, (1,) + shape(out)[1:])] if count > 1 and endpoint else []
        pieces = ends + [middle] + tail
    out = _shape.concatenate(pieces, axis=0) * sign
    if axis != 0:
        out = _shape.moveaxis(out, 0, axis)
    return out if dtype is None else _constructors.astype(out, np.dtype(dtype))
