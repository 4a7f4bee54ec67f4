"""Indexing (``x[idx]``) and functional updates (``x.at[idx].set(v)``) with their rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer, full_lower
from funcgrad.numpy._dispatch import implements

__all__ = ["where"]

from funcgrad.numpy._util import batch_ndim, dtype, match_dtype, ndim, shape, unbroadcast


def plain_index(index: Any) -> Any:
    """An index with any traced parts replaced by their values (indices carry no derivative)."""
    if isinstance(index, tuple):
        return tuple(full_lower(i) if isinstance(i, Tracer) else i for i in index)
    return full_lower(index) if isinstance(index, Tracer) else index


def _explicit(index: Any, rank: int) -> tuple[Any, ...]:
    """``index`` as a tuple without ``...``, so it reads the leading ``rank`` axes."""
    items = index if isinstance(index, tuple) else (index,)
    used = 0
    for item in items:
        if item is None or item is Ellipsis:
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            used += item.ndim
        else:
            used += 1
    out: list[Any] = []
    for item in items:
        if item is Ellipsis:
            out.extend([slice(None)] * (rank - used))
            used = rank
        else:
            out.append(item)
    return tuple(out)


def _has_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != bool for i in items)


def _index_batched(t: Any, x: Any, index: Any, apply: Any) -> Any:
    """Apply an index written for ``x`` to tangent ``t`` with leading batch axes:
    move the batch axes last (indices read the leading axes), index, move back."""
    from funcgrad.numpy._shape import moveaxis

    nb = batch_ndim(t, x)
    if nb == 0:
        return apply(t, index)
    moved = moveaxis(t, tuple(range(nb)), tuple(range(-nb, 0)))
    out = apply(moved, _explicit(index, ndim(x)))
    return moveaxis(out, tuple(range(-nb, 0)), tuple(range(nb)))


def _getitem(x: Any, index: Any) -> Any:
    return x[index]


getitem_p = primitive(_getitem, "getitem")
defvjp(getitem_p, lambda g, ans, x, index: index_add_p(np.zeros(shape(x), dtype(x)), match_dtype(g, x), index=index))
defjvp(
    getitem_p,
    lambda t, ans, x, index: _index_batched(t, x, index, lambda v, i: getitem_p(v, index=i)),
    batched=True,
)


def _index_add(x: Any, v: Any, index: Any) -> Any:
    out = np.array(x, copy=True)
    if _has_advanced(index):
        np.add.at(out, index, v)
    else:
        out[index] += v
    return out


index_add_p = primitive(_index_add, "index_add")
defvjp(
    index_add_p,
    lambda g, ans, x, v, index: match_dtype(g, x),
    lambda g, ans, x, v, index: unbroadcast(getitem_p(g, index=index), v),
)
defjvp(
    index_add_p,
    lambda t, ans, x, v, index: t,
    lambda t, ans, x, v, index: index_add_p(np.zeros(shape(ans), dtype(t)), t, index=index),
)


def _index_set(x: Any, v: Any, index: Any) -> Any:
    out = np.array(x, copy=True)
    out[index] = v
    return out


index_set_p = primitive(_index_set, "index_set")
defvjp(
    index_set_p,
    lambda g, ans, x, v, index: index_set_p(match_dtype(g, x), 0.0, index=index),
    lambda g, ans, x, v, index: unbroadcast(getitem_p(g, index=index), v),
)
defjvp(
    index_set_p,
    lambda t, ans, x, v, index: index_set_p(t, 0.0, index=index),
    lambda t, ans, x, v, index: index_set_p(np.zeros(shape(ans), dtype(t)), t, index=index),
)


class _IndexUpdate:
    """``x.at[index]``: the functional update methods."""

    __slots__ = ("array", "index")

    def __init__(self, array: Any, index: Any) -> None:
        self.array = array
        self.index = plain_index(index)

    def get(self) -> Any:
        """``x[index]``."""
        return getitem_p(self.array, index=self.index)

    def set(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = values``."""
        return index_set_p(self.array, values, index=self.index)

    def add(self, values: Any) -> Any:
        """A copy of ``x`` with ``values`` added at ``index`` (repeated indices add up)."""
        return index_add_p(self.array, values, index=self.index)

    def multiply(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index]`` multiplied by ``values``."""
        return self.set(self.get() * values)

    def divide(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index]`` divided by ``values``."""
        return self.set(self.get() / values)

    def min(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = minimum(x[index], values)``."""
        from funcgrad.numpy._ufuncs import minimum

        return self.set(minimum(self.get(), values))

    def max(self, values: Any) -> Any:
        """A copy of ``x`` with ``x[index] = maximum(x[index], values)``."""
        from funcgrad.numpy._ufuncs import maximum

        return self.set(maximum(self.get(), values))


class AtIndexer:
    """The object behind ``x.at``; ``x.at[index]`` selects where to update."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __getitem__(self, index: Any) -> _IndexUpdate:
        return _IndexUpdate(self.array, index)


@implements(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``numpy.where``; the one-argument form returns plain indices."""
    from funcgrad.numpy._ufuncs import where as where_p

    if x is None and y is None:
        return np.where(full_lower(condition))
    return where_p(full_lower(condition), x, y)
