"""NumPy's polynomial helpers on traced values: ``polyval``, ``vander``, ``polyfit``.

Each is NumPy's own algorithm written with funcgrad's functions, so on traced
values it takes the same steps (the same bits) and every transform, at any
order, differentiates it; on plain arrays each is NumPy's function.

>>> import numpy as np
>>> import funcgrad as fg
>>> x = np.linspace(0.0, 1.0, 5)
>>> fg.grad(lambda y: np.polyfit(x, y, 1)[0])(2.0 * x).round(12)   # the slope: a weighted sum of the data
array([-0.8, -0.4,  0. ,  0.4,  0.8])
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _base, _contract, _reductions, _shape, _ufuncs
from funcgrad._prims._dispatch import implements
from funcgrad._trace import read_value
from funcgrad._values import dtype, is_traced, ndim, shape
from funcgrad.numpy import linalg

__all__ = ["polyval", "vander", "polyfit"]


@implements(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    """``numpy.polyval``: ``p[0] * x**(n-1) + ... + p[n-1]`` by Horner's rule, as NumPy evaluates it.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: polyval([3.0, 0.0, 1.0], x))(2.0)   # d/dx (3x^2 + 1)
    np.float64(12.0)
    """
    p, x = _shape.operand(p), _shape.operand(x)
    if not is_traced(p, x):
        return np.polyval(p, x)
    y: Any = np.zeros(shape(x), dtype(x))  # NumPy's zeros_like(x)
    for k in range(shape(p)[0]):
        y = y * x + p[k]
    return y


@implements(np.vander)
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    """``numpy.vander``: the columns ``x**(N-1), ..., x, 1`` (``increasing``: the other way round), each a
    running product of ``x`` as NumPy forms it.

    >>> vander(np.array([2.0, 3.0]), 3)
    array([[4., 2., 1.],
           [9., 3., 1.]])
    """
    x = _shape.operand(x)
    if not is_traced(x):
        return np.vander(x, N, increasing)
    if ndim(x) != 1:
        raise _errors.vander_rank()
    n = shape(x)[0]
    columns = n if N is None else N
    kind = np.promote_types(dtype(x), int)
    x = _base.cast(x, kind) if dtype(x) != kind else x
    parts = []
    if columns > 0:
        parts.append(np.ones((n, 1), kind))
    if columns > 1:
        repeated = _shape.broadcast_to(_shape.reshape(x, (n, 1)), (n, columns - 1))
        parts.append(_reductions.cumprod(repeated, axis=1))
    if not parts:
        return np.empty((n, 0), kind)
    v = _shape.concatenate(parts, axis=1)
    return v if increasing else v[:, ::-1]


@implements(np.polyfit)
def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None, cov: Any = False) -> Any:
    """``numpy.polyfit``: least-squares polynomial coefficients (and, with ``full`` or ``cov``, NumPy's other
    results), differentiable in ``x``, ``y`` and ``w`` where the fit has full rank.

    >>> polyfit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 1).round(12)
    array([2., 1.])
    """
    x, y, w = _shape.operand(x), _shape.operand(y), _shape.operand(w)
    if not is_traced(x, y, w):
        return np.polyfit(x, y, deg, rcond=rcond, full=full, w=w, cov=cov)  # type: ignore[call-overload]
    order = int(deg) + 1
    x, y = x + 0.0, y + 0.0
    if deg < 0:
        raise _errors.polyfit_degree()
    if ndim(x) != 1 or shape(x)[0] == 0:
        raise _errors.polyfit_shapes("a non-empty 1D vector for x")
    if not 1 <= ndim(y) <= 2 or shape(x)[0] != shape(y)[0]:
        raise _errors.polyfit_shapes("a 1D or 2D array for y, of x's length")
    if rcond is None:
        rcond = shape(x)[0] * np.finfo(dtype(x)).eps
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = w + 0.0
        if ndim(w) != 1 or shape(w)[0] != shape(y)[0]:
            raise _errors.polyfit_shapes("a 1-d array for weights, of y's length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if ndim(rhs) == 2 else w)
    scale = _ufuncs.sqrt(_reductions.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, resids, rank, s = linalg.lstsq(lhs, rhs, rcond)
    c = _shape.transpose(_shape.transpose(c) / scale)
    rank_value = read_value(rank, "numpy.polyfit's rank (NumPy warns when the fit is poorly conditioned)")
    if rank_value != order and not full:
        warnings.warn(_errors.polyfit_poorly_conditioned(), stacklevel=2)
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    vbase = linalg.inv(_contract.dot(_shape.transpose(lhs), lhs)) / _contract.outer(scale, scale)
    if cov == "unscaled":
        fac: Any = 1
    else:
        if shape(x)[0] <= order:
            raise _errors.polyfit_cov_points()
        fac = resids / (shape(x)[0] - order)
    return (c, vbase * fac) if ndim(y) == 1 else (c, vbase[:, :, None] * fac)
