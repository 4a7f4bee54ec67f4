"""NumPy's view-making functions: on a traced array the result remembers its base, as NumPy's view does.

A write through the result (``np.transpose(A)[0] = 1``) then reaches ``A``
and its other live views (funcgrad/_prims/_inplace.py).  Plain arrays get
NumPy's own functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from funcgrad._prims import _shape
from funcgrad._prims._dispatch import FUNCTIONS
from funcgrad._prims._inplace import reshaped, transposed
from funcgrad._values import ndim
from funcgrad.numpy import _extras

__all__ = ["transpose", "swapaxes", "moveaxis", "matrix_transpose", "reshape", "ravel", "squeeze", "expand_dims"]


def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``; of a traced array, a view: writing into it writes into ``a``.

    >>> import funcgrad as fg, numpy as np
    >>> def f(x):
    ...     y = x.copy()
    ...     transpose(y)[0] = 0.0
    ...     return (y * y).sum()
    >>> fg.grad(f)(np.ones((2, 2)))
    array([[0., 2.],
           [0., 2.]])
    """
    return transposed(a, axes, _shape.transpose(a, axes))


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``numpy.swapaxes``; a view, as ``transpose``.

    >>> swapaxes(np.zeros((2, 3)), 0, 1).shape
    (3, 2)
    """
    result = _shape.swapaxes(a, axis1, axis2)  # NumPy's axis checks first
    axes = list(range(ndim(a)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transposed(a, axes, result)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``numpy.moveaxis``; a view, as ``transpose``.

    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    result = _shape.moveaxis(a, source, destination)  # NumPy's axis checks first
    rank = ndim(a)
    src = normalize_axis_tuple(source, rank, "source")
    dst = normalize_axis_tuple(destination, rank, "destination")
    order = [n for n in range(rank) if n not in src]
    for to, start in sorted(zip(dst, src)):
        order.insert(to, start)
    return transposed(a, order, result)


def matrix_transpose(x: Any, /) -> Any:
    """``numpy.matrix_transpose``; a view, as ``transpose``.

    >>> matrix_transpose(np.zeros((1, 2, 3))).shape
    (1, 3, 2)
    """
    result = _extras.matrix_transpose(x)  # NumPy's checks first
    axes = list(range(ndim(x)))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transposed(x, axes, result)


def reshape(a: Any, shape: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """``numpy.reshape``; of a traced array, a view when NumPy makes one (a write reaches ``a``), a copy
    when NumPy copies, and a refused write when that depends on a memory layout funcgrad cannot see.

    >>> reshape(np.arange(4.0), (2, 2))
    array([[0., 1.],
           [2., 3.]])
    """
    return reshaped(a, _shape.reshape(a, shape, order, **kwargs), order)


def ravel(a: Any, order: str = "C") -> Any:
    """``numpy.ravel``; a view when NumPy makes one, as ``reshape``.

    >>> ravel(np.ones((2, 2))).shape
    (4,)
    """
    return reshaped(a, _shape.ravel(a, order), order)


def squeeze(a: Any, axis: Any = None) -> Any:
    """``numpy.squeeze``; always a view.

    >>> squeeze(np.zeros((1, 2))).shape
    (2,)
    """
    return reshaped(a, _shape.squeeze(a, axis))


def expand_dims(a: Any, axis: Any) -> Any:
    """``numpy.expand_dims``; always a view.

    >>> expand_dims(np.zeros(2), 0).shape
    (1, 2)
    """
    return reshaped(a, _shape.expand_dims(a, axis))


for _name in __all__:
    FUNCTIONS[getattr(np, _name)] = globals()[_name]
