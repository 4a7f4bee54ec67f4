"""Indexing with NumPy's index forms on traced values: ``x[idx]`` and the functional updates ``x.at[idx]``.

The primitives underneath (``getitem_p``, ``index_add_p``, ``index_set_p``, the gathers) are in
``_indexing``; this module turns any NumPy index (slices, lists, traced integer arrays) into their
static parameters, and gives ``.at[]`` its ``ufunc.at`` semantics (docs/design.md).
"""

from __future__ import annotations

from funcgrad import _errors
from funcgrad._prims._shape import asarray, broadcast_to, reshape
from funcgrad._prims._ufuncs import maximum, minimum

__all__ = ["at"]

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _backends
from funcgrad._prims._indexing import (
    getitem_p,
    has_int_array,
    index_add_p,
    index_set_p,
    positions,
    rearrange,
    selected_shape,
)
from funcgrad._trace import Tracer, full_lower, read_value
from funcgrad._values import dtype, ndim, shape


def holds_tracer(obj: Any) -> bool:
    if isinstance(obj, (list, tuple)):
        return any(holds_tracer(o) for o in obj)
    return isinstance(obj, Tracer)


def _traced_index(item: Any) -> Any:
    """An index that holds traced values, as one traced array (never read); it must be integers or booleans."""
    if not isinstance(item, Tracer):
        item = asarray(item)
    kind = dtype(item)
    if kind.kind not in "biu":
        raise _errors.float_index(kind, shape(item))
    return item


def _plain_item(item: Any) -> Any:
    if _backends.is_foreign(full_lower(item)):
        raise _errors.lazy_index(full_lower(item))
    if holds_tracer(item):
        return _traced_index(item)
    if item is None or item is Ellipsis or isinstance(item, (slice, np.ndarray)):
        return item
    if isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
        return item
    # booleans, lists, nested tuples, ranges: NumPy reads them as arrays
    return np.asarray(item)


def plain_index(index: Any) -> Any:
    """``index`` with lists/booleans as arrays (a tuple *inside* the index tuple is an array index too,
    as in NumPy); traced parts stay traced (one traced integer or boolean array each).

    >>> plain_index(([0, 1], True, slice(None), (1, 1)))
    (array([0, 1]), array(True), slice(None, None, None), array([1, 1]))
    """
    if isinstance(index, tuple):
        return tuple(_plain_item(i) for i in index)
    return _plain_item(index)


def read_index(index: Any, why: str) -> Any:
    """``index`` with traced parts read through ``read_value`` (each transform sees the read)."""
    if not holds_tracer(index):
        return index
    if isinstance(index, tuple):
        return tuple(read_value(i, why) if isinstance(i, Tracer) else i for i in index)
    return read_value(index, why)


def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for any index: static (``getitem_p``) or holding traced parts (a recorded gather).

    >>> getitem(np.arange(4.0), (np.array([3, 0]),))
    array([3., 0.])
    """
    index = plain_index(index)
    if holds_tracer(index):
        return rearrange(x, operator.getitem, index)
    return getitem_p(x, index=index)


def _occurrences(flat: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """For each entry of ``flat``, how many equal entries come before it (0 for the first)."""
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]] if ranked.size else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(ranked.size), 0)) if ranked.size else ranked
    rank = np.empty(flat.shape, np.intp)
    rank[order] = np.arange(ranked.size) - group_start
    return rank


class _IndexUpdate:
    """``x.at[index]``: functional updates; each returns a new array.

    Repeated integer indices follow ``numpy.ufunc.at``: ``add`` accumulates,
    ``multiply``/``divide``/``min``/``max`` apply once per occurrence, in
    order.  ``set`` keeps the *last* value written to a position (what NumPy's
    fancy assignment does in practice); only that value receives a derivative.
    """

    __slots__ = ("array", "index")

    def __init__(self, array: Any, index: Any) -> None:
        self.array = array
        # an update's positions decide which writes repeat: a traced index is read (a guard under jit)
        self.index = read_index(plain_index(index), "x.at[index] with a traced index")

    def _flat(self) -> tuple[np.ndarray[Any, Any], tuple[int, ...]] | None:
        """Flat positions selected by the index when some position repeats, else None."""
        if not has_int_array(self.index):
            return None
        pos = positions(self.array)[self.index]
        flat = pos.ravel()
        if np.unique(flat).size == flat.size:
            return None
        return flat, pos.shape

    def _fit(self, values: Any) -> Any:
        """``values`` without leading length-one axes beyond the selection's rank (NumPy drops them)."""
        extra = ndim(values) - len(selected_shape(shape(self.array), self.index))
        if extra > 0 and all(n == 1 for n in shape(values)[:extra]):
            return reshape(values, shape(values)[extra:])
        return values

    def get(self) -> Any:
        """``x[index]``.

        >>> import funcgrad as fg, numpy as np
        >>> fg.grad(lambda x: x.at[1:].get().sum())(np.ones(3))
        array([0., 1., 1.])
        """
        return getitem_p(self.array, index=self.index)

    def set(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = values`` (the last of repeated positions wins).

        >>> import funcgrad as fg, numpy as np
        >>> fg.grad(lambda x: (x.at[[0, 0]].set(x[1:]) ** 2).sum())(np.array([1.0, 2.0, 3.0]))
        array([ 0.,  4., 12.])
        """

        values = self._fit(values)
        repeated = self._flat()
        if repeated is None:
            return index_set_p(self.array, values, index=self.index)
        flat, sel_shape = repeated
        last = len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]
        vals = getitem_p(reshape(broadcast_to(values, sel_shape), (-1,)), index=last)
        out = index_set_p(reshape(self.array, (-1,)), vals, index=flat[last])
        return reshape(out, shape(self.array))

    def add(self, values: Any) -> Any:
        """A copy of ``x`` with ``values`` added at ``index``; repeated positions accumulate (``numpy.add.at``).

        >>> import numpy as np, funcgrad as fg
        >>> fg.jvp(lambda x: x.at[[0, 0, 2]].add(1.0), (np.zeros(3),), (np.ones(3),))[0]
        array([2., 0., 1.])
        """
        return index_add_p(self.array, self._fit(values), index=self.index)

    def _apply_each(self, op: Callable[[Any, Any], Any], values: Any) -> Any:
        """``x[index] = op(x[index], values)``, once per occurrence of each position."""

        values = self._fit(values)
        repeated = self._flat()
        if repeated is None:
            return self.set(op(self.get(), values))
        flat, sel_shape = repeated
        vals = reshape(broadcast_to(values, sel_shape), (-1,))
        out = reshape(self.array, (-1,))
        rank = _occurrences(flat)
        for r in range(int(rank.max()) + 1):
            chosen = np.nonzero(rank == r)[0]
            where = flat[chosen]
            out = index_set_p(out, op(getitem_p(out, index=where), getitem_p(vals, index=chosen)), index=where)
        return reshape(out, shape(self.array))

    def multiply(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index]`` multiplied by ``values`` (``numpy.multiply.at``).

        >>> import numpy as np, funcgrad as fg
        >>> fg.grad(lambda x: x.at[[1, 1]].multiply(x[0]).sum())(np.array([2.0, 3.0]))
        array([13.,  4.])
        """
        return self._apply_each(lambda a, b: a * b, values)

    def divide(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index]`` divided by ``values`` (``numpy.divide.at``).

        >>> import numpy as np, funcgrad as fg
        >>> fg.grad(lambda x: x.at[0].divide(2.0).sum())(np.ones(2))
        array([0.5, 1. ])
        """
        return self._apply_each(lambda a, b: a / b, values)

    def min(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = minimum(x[index], values)`` (``numpy.minimum.at``).

        >>> import numpy as np, funcgrad as fg
        >>> fg.grad(lambda x: x.at[1].min(-x[0]).sum())(np.array([1.0, 0.0]))
        array([0., 0.])
        """

        return self._apply_each(minimum, values)

    def max(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = maximum(x[index], values)`` (``numpy.maximum.at``).

        >>> import numpy as np, funcgrad as fg
        >>> fg.grad(lambda x: x.at[1].max(-x[0]).sum())(np.array([1.0, 0.0]))
        array([1., 1.])
        """

        return self._apply_each(maximum, values)

    def apply(self, func: Callable[[Any], Any]) -> Any:
        """A copy of ``x`` with ``x[index] = func(x[index])`` (applied once per occurrence).

        >>> import numpy as np, funcgrad as fg
        >>> fg.grad(lambda x: x.at[0].apply(lambda a: a * a).sum())(np.array([3.0, 1.0]))
        array([6., 1.])
        """
        return self._apply_each(lambda a, b: func(a), 0.0)


class AtIndexer:
    """The object behind ``x.at``; ``x.at[index]`` selects where to update."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __getitem__(self, index: Any) -> _IndexUpdate:
        return _IndexUpdate(self.array, index)


def at(x: Any) -> AtIndexer:
    """``x.at`` for any array, traced or plain: ``fnp.at(x)[idx].set(v)`` is ``x.at[idx].set(v)``.

    Traced arrays have the ``.at`` property; plain NumPy arrays do not, so
    code that must run on both (e.g. under ``check_grads``) calls this.

    >>> import numpy as np
    >>> at(np.zeros(3))[[0, 0, 2]].add(1.0)
    array([2., 0., 1.])
    """
    return AtIndexer(x)
