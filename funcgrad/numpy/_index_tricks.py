"""``r_`` and ``c_``: NumPy's concatenation shorthands, accepting traced pieces.

``fnp.r_[a, 0.0, 1:4, x]`` concatenates along the first axis and
``fnp.c_[a, b]`` stacks 1-D pieces as columns, exactly as NumPy's; slices
(``0:5``, ``0:1:5j`` for a ``linspace``), scalars and the directive strings
(``'0,2,1'``: axis, minimum rank, where 1-D pieces go) follow NumPy's rules.
A traced piece is concatenated differentiably.  With no traced piece the
result is NumPy's own; the matrix directives ``'r'`` and ``'c'`` (which build
``numpy.matrix``) raise ``TypeError`` with traced pieces.

>>> import numpy as np, funcgrad as fg
>>> r_[np.array([1.0, 2.0]), 0.0, 4:6]
array([1., 2., 0., 4., 5.])
>>> fg.grad(lambda x: (r_[x, 2 * x, 0:2] ** 2).sum())(np.array([1.0]))
array([10.])
>>> c_[np.array([1.0, 2.0]), np.array([3.0, 4.0])]
array([[1., 3.],
       [2., 4.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _shape
from funcgrad._trace import Tracer
from funcgrad._values import dtype as dtype_of
from funcgrad._values import holds_tracer, ndim, shape
from funcgrad.numpy import _constructors

__all__ = ["r_", "c_"]

_SCALARS = (bool, int, float, complex, np.generic)


def _holds_tracer(key: tuple[Any, ...]) -> bool:
    return any(isinstance(item, Tracer) or (isinstance(item, (list, tuple)) and holds_tracer(item))
               for item in key)  # fmt: skip


def _from_slice(item: slice) -> np.ndarray[Any, Any]:
    start = 0 if item.start is None else item.start
    step: Any = 1 if item.step is None else item.step
    if isinstance(step, (complex, np.complexfloating)):
        return np.linspace(start, item.stop, num=int(abs(complex(step))))
    return np.arange(start, item.stop, step)


def _at_least(piece: Any, rank: int, trans1d: int) -> Any:
    """``numpy.array(piece, ndmin=rank)``, then NumPy's move of the original axes to ``trans1d``."""
    piece = _constructors.asarray(piece)
    own = ndim(piece)
    if own >= rank:
        return piece
    piece = _shape.reshape(piece, (1,) * (rank - own) + shape(piece))
    if trans1d == -1:
        return piece
    moved = trans1d + (rank - own) + 1 if trans1d < 0 else trans1d
    axes = list(range(rank))
    return _shape.transpose(piece, axes[:moved] + axes[rank - own :] + axes[moved : rank - own])


class AxisConcatenator:
    """NumPy's ``AxisConcatenator`` (behind ``r_`` and ``c_``) with traced pieces allowed."""

    __slots__ = ("axis", "ndmin", "trans1d", "numpy_version")

    def __init__(self, numpy_version: Any, axis: int = 0, ndmin: int = 1, trans1d: int = -1) -> None:
        self.numpy_version = numpy_version
        self.axis = axis
        self.ndmin = ndmin
        self.trans1d = trans1d

    def __getitem__(self, key: Any) -> Any:
        key = key if isinstance(key, tuple) else (key,)
        if not _holds_tracer(key):
            return self.numpy_version[key]
        axis, rank, trans1d = self.axis, self.ndmin, self.trans1d
        pieces: list[Any] = []
        kinds: list[Any] = []
        for position, item in enumerate(key):
            if isinstance(item, str):
                if position != 0:
                    raise _errors.directive_not_first()
                axis, rank, trans1d = _directive(item, axis, rank, trans1d)
                continue
            if isinstance(item, slice):
                piece = _from_slice(item)
                if rank > 1:
                    piece = np.array(piece, ndmin=rank)
                    if trans1d != -1:
                        piece = piece.swapaxes(-1, trans1d)
                pieces.append(piece)
                kinds.append(piece.dtype)
            elif type(item) in _SCALARS or isinstance(item, np.generic):
                pieces.append(item)
                kinds.append(item)
            else:
                piece = _at_least(item, rank, trans1d)
                pieces.append(piece)
                kinds.append(dtype_of(piece))
        common = np.result_type(*kinds)
        arrays = [_cast(_at_least(piece, rank, -1), common) for piece in pieces]
        return _shape.concatenate(arrays, axis=axis)

    def __len__(self) -> int:
        return 0


def _cast(piece: Any, kind: np.dtype[Any]) -> Any:
    return piece if dtype_of(piece) == kind else _constructors.astype(piece, kind)


def _directive(item: str, axis: int, rank: int, trans1d: int) -> tuple[int, int, int]:
    """Read ``'axis'``, ``'axis,ndmin'`` or ``'axis,ndmin,trans1d'`` (NumPy's strings)."""
    if item in ("r", "c"):
        raise _errors.matrix_directive(item)
    fields = item.split(",")
    try:
        numbers = [int(field) for field in fields]
    except ValueError as error:
        raise _errors.unknown_directive(item) from error
    if len(numbers) == 1:
        return numbers[0], rank, trans1d
    return numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else trans1d


#: ``numpy.r_``: concatenate along the first axis
r_ = AxisConcatenator(np.r_, 0)
#: ``numpy.c_``: concatenate along the last axis, 1-D pieces as columns
c_ = AxisConcatenator(np.c_, -1, ndmin=2, trans1d=0)
