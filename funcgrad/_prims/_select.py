"""Selecting elements: diag, diagflat, diagonal, trace, triu/tril, take,
take_along_axis, put_along_axis, extract, sort, partition, choose, where,
select, interp; and the index builders (triu_indices, ix_, unravel_index, ...)
that only read shapes or integer values.

Gathers go through ``gather_p`` (see ``_indexing``): NumPy computes which
positions to read by running the same function on ``arange(x.size)``.
Masks (``triu``, ``where``, ``select``) go through the ``where`` primitive.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import _backends, _errors
from funcgrad._prims import _base, _nondiff, _shape, _ufuncs
from funcgrad._prims._at import at, plain_index, read_index
from funcgrad._prims._base import cast, move_axes
from funcgrad._prims._dispatch import WRITERS, implements, store_out
from funcgrad._prims._indexing import positions, rearrange, scatter_add_p
from funcgrad._prims._nondiff import argpartition, argsort, nonzero, searchsorted
from funcgrad._prims._reductions import sum as fsum
from funcgrad._prims._shape import asarray, broadcast_to, operand, ravel, reshape, stack
from funcgrad._rules import def_nondiff, primitive
from funcgrad._trace import Tracer, full_lower
from funcgrad._values import dtype, is_traced, ndim, shape

__all__ = [
    "diag",
    "diagflat",
    "extract",
    "diagonal",
    "trace",
    "triu",
    "tril",
    "take",
    "take_along_axis",
    "put_along_axis",
    "sort",
    "partition",
    "choose",
    # index builders: they read shapes only
    "triu_indices",
    "tril_indices",
    "diag_indices",
    "triu_indices_from",
    "tril_indices_from",
    "diag_indices_from",
    "indices",
    "ix_",
    "unravel_index",
    "ravel_multi_index",
    "tri",
    "s_",
    "index_exp",
    "where",
    "select",
    "piecewise",
    "apply_along_axis",
    "interp",
]


@implements(np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """``numpy.diagonal``: the diagonal (``offset`` above or below) of the ``axis1``/``axis2`` planes, as the last axis.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: diagonal(x, 1).sum())(np.ones((2, 3)))
    array([[0., 1., 0.],
           [0., 0., 1.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.diagonal(a, offset, axis1, axis2)
    return rearrange(a, np.diagonal, offset, axis1, axis2)


@implements(np.diag)
def diag(v: Any, k: int = 0) -> Any:
    """``numpy.diag``: a 1-D input becomes a square matrix with it on diagonal ``k``;
    from a 2-D input the ``k``-th diagonal is extracted.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: diag(x, 1).sum())(np.ones(2))
    array([1., 1.])
    """
    v = operand(v)
    if not isinstance(v, Tracer):
        return np.diag(v, k)
    rank = ndim(v)
    if rank == 2:
        return diagonal(v, k)
    if rank != 1:
        raise _errors.diag_rank()
    n = shape(v)[0] + builtins.abs(int(k))
    where = np.diag(positions(np.broadcast_to(np.bool_(False), (n, n))), k)
    return scatter_add_p(v, positions=where, shape=(n, n))


@implements(np.diagflat)
def diagflat(v: Any, k: int = 0) -> Any:
    """``numpy.diagflat``: the flattened input on diagonal ``k`` of a square matrix.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(diagflat)(np.ones((1, 2))).shape
    (2, 2, 1, 2)
    """

    v = operand(v)
    if not isinstance(v, Tracer):
        return np.diagflat(v, k)
    return diag(ravel(v), k)


@implements(np.extract)
def extract(condition: Any, arr: Any) -> Any:
    """``numpy.extract``: the elements of ``arr`` where the (flattened) ``condition`` is true.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: extract(x > 0, x).sum())(np.array([-1.0, 2.0]))
    array([0., 1.])
    """
    arr = operand(arr)
    condition = plain_index(condition)
    if not is_traced(arr, condition):
        return np.extract(condition, arr)
    if isinstance(condition, Tracer):  # a traced mask: a recorded gather of a data-dependent size
        return rearrange(arr, _extract_positions, condition if dtype(condition).kind == "b" else condition != 0)
    condition = np.asarray(condition)
    return rearrange(arr, lambda p: np.extract(condition, p))


def _extract_positions(positions: Any, condition: Any) -> Any:
    return np.extract(condition, positions)


@implements(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    """``numpy.trace``: the sum along a diagonal.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(trace)(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """

    a = operand(a)
    if not isinstance(a, Tracer):
        return np.trace(a, offset, axis1, axis2, dtype, out)
    return fsum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def _triangle(m: Any, k: int, numpy_function: Any) -> Any:
    m = operand(m)
    if not isinstance(m, Tracer):
        return numpy_function(m, k)
    keep = numpy_function(np.ones(shape(m)[-2:] if ndim(m) >= 2 else shape(m), dtype=bool), k)
    return _ufuncs.where(keep, m, np.zeros((), dtype(m)))


@implements(np.triu)
def triu(m: Any, k: int = 0) -> Any:
    """``numpy.triu``: zero below diagonal ``k`` (of the last two axes).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: triu(x).sum())(np.ones((2, 2)))
    array([[1., 1.],
           [0., 1.]])
    """
    return _triangle(m, k, np.triu)


@implements(np.tril)
def tril(m: Any, k: int = 0) -> Any:
    """``numpy.tril``: zero above diagonal ``k`` (of the last two axes).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: tril(x, -1).sum())(np.ones((2, 2)))
    array([[0., 0.],
           [1., 0.]])
    """
    return _triangle(m, k, np.tril)


@implements(np.take)
def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> Any:
    """``numpy.take`` (repeated indices accumulate in the gradient; ``mode`` as in NumPy).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: take(x, [0, 0, 2]).sum())(np.ones(3))
    array([2., 0., 1.])
    """
    a = operand(a)
    indices = plain_index(indices)
    if not is_traced(a, indices):
        return np.take(a, indices, axis, out, mode)  # type: ignore[call-overload]
    if out is not None:
        return store_out(out, take(a=a, indices=indices, axis=axis, mode=mode))
    return rearrange(a, np.take, indices, axis, mode=mode)


@implements(np.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """``numpy.take_along_axis``: pick along ``axis`` with an index array of matching rank.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: take_along_axis(x, np.array([[1], [1]]), 1).sum())(np.ones((2, 2)))
    array([[0., 1.],
           [0., 1.]])
    """
    arr = operand(arr)
    indices = plain_index(indices)
    if not is_traced(arr, indices):
        return np.take_along_axis(arr, indices, axis)
    return rearrange(arr, np.take_along_axis, indices, axis)


@implements(np.put_along_axis)
def put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None, inplace: bool = True) -> Any:
    """``numpy.put_along_axis``; with ``inplace=False`` (as in JAX) it returns the updated copy and is
    differentiable in ``arr`` and ``values``.  Repeated indices: the last value written wins.

    NumPy's default writes into ``arr`` and returns None; a traced ``arr`` is rebound to the update.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda v: put_along_axis(np.zeros((2, 2)), np.array([[1], [0]]), v, 1, inplace=False).sum())(
    ...     np.ones((2, 1)))
    array([[1.],
           [1.]])
    """

    arr, values = operand(arr), operand(values)
    indices = read_index(plain_index(indices), "numpy.put_along_axis with traced indices")
    if inplace:
        if is_traced(arr, values):
            return WRITERS["put_along_axis"](arr, indices, values, axis)  # written in place, as NumPy's
        return np.put_along_axis(arr, indices, values, axis)
    where = positions(arr)
    if axis is None:
        where, axis = where.ravel(), 0
    where = np.take_along_axis(where, indices, axis)
    flat = reshape(arr, (-1,))
    updated = at(flat)[where.ravel()].set(reshape(broadcast_to(values, where.shape), (-1,)))
    return reshape(updated, shape(arr))


@implements(np.sort)
def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """``numpy.sort``; the derivative follows the sorting permutation (ties keep NumPy's order).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(sort)(np.array([3.0, 1.0]))
    array([[0., 1.],
           [1., 0.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.sort(a, axis, kind, order, **kwargs)
    if axis is None:
        a, axis = _shape.ravel(a), -1
    # the permutation is a recorded zero-derivative primitive (plain under grad, traced under jit)
    return rearrange(a, np.take_along_axis, argsort(a, axis, kind, order, **kwargs), axis)


@implements(np.partition)
def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None) -> Any:
    """``numpy.partition``; the derivative follows the partitioning permutation.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: partition(x, 1)[1])(np.array([3.0, 1.0, 2.0]))
    array([0., 0., 1.])
    """
    a = operand(a)
    kth = read_index(plain_index(kth), "numpy.partition with a traced kth")
    if not isinstance(a, Tracer):
        return np.partition(a, kth, axis, kind, order)  # type: ignore[call-overload]
    if axis is None:
        a, axis = _shape.ravel(a), -1
    return rearrange(a, np.take_along_axis, argpartition(a, kth, axis, kind, order), axis)


@implements(np.choose)
def choose(a: Any, choices: Sequence[Any], out: Any = None, mode: str = "raise") -> Any:
    """``numpy.choose``: ``choices[a[i]][i]``; differentiable in the choices.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: choose([1, 0], [x, 2 * x]).sum())(np.ones(2))
    array([2., 1.])
    """

    a = np.asarray(read_index(plain_index(a), "numpy.choose with a traced index"))
    choices = [operand(c) for c in choices]
    if not is_traced(*choices):
        return np.choose(a, choices, out=out, mode=mode)  # type: ignore[call-overload]
    if out is not None:
        return store_out(out, choose(a, choices, mode=mode))
    full = np.broadcast_shapes(a.shape, *[shape(c) for c in choices])
    table = stack([broadcast_to(c, full) for c in choices])
    return rearrange(table, lambda p: np.choose(a, list(p), mode=mode))  # type: ignore[call-overload]


def _shape_only(numpy_function: Any) -> Any:
    """A NumPy index builder that reads only its array argument's shape."""

    @implements(numpy_function)
    def builder(arr: Any, *args: Any, **kwargs: Any) -> Any:
        return numpy_function(np.broadcast_to(np.bool_(False), shape(arr)), *args, **kwargs)

    builder.__name__ = builder.__qualname__ = numpy_function.__name__
    builder.__doc__ = f"``numpy.{numpy_function.__name__}``: reads only the array's shape, so a traced array is fine."
    return builder


triu_indices_from = _shape_only(np.triu_indices_from)
tril_indices_from = _shape_only(np.tril_indices_from)
diag_indices_from = _shape_only(np.diag_indices_from)


def _index_arithmetic(numpy_function: Any) -> Any:
    """A NumPy function computing integer indices: traced integer inputs are read as values."""

    @implements(numpy_function)
    def lowered(*args: Any, **kwargs: Any) -> Any:
        why = f"numpy.{numpy_function.__name__} of traced indices"
        return numpy_function(*(read_index(plain_index(a), why) if is_traced(a) else a for a in args), **kwargs)

    lowered.__name__ = lowered.__qualname__ = numpy_function.__name__
    lowered.__doc__ = f"``numpy.{numpy_function.__name__}`` on index values (no derivative)."
    return lowered


unravel_index = _index_arithmetic(np.unravel_index)
ravel_multi_index = _index_arithmetic(np.ravel_multi_index)
ix_ = _index_arithmetic(np.ix_)
triu_indices, tril_indices, diag_indices, indices, tri = (
    np.triu_indices,
    np.tril_indices,
    np.diag_indices,
    np.indices,
    np.tri,
)
s_, index_exp = np.s_, np.index_exp


@implements(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``numpy.where``: ``where(c, x, y)`` is differentiable in ``x`` and ``y``;
    ``where(c)`` is ``nonzero(c)`` (plain indices).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: where(x > 0, x, 2 * x).sum())(np.array([-1.0, 1.0]))
    array([2., 1.])
    """
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise _errors.where_one_branch()
    if not isinstance(condition, Tracer) and not _backends.is_foreign(condition):
        condition = np.asarray(condition)  # a Dask condition stays lazy: np.where dispatches to Dask
    return _ufuncs.where(condition, operand(x), operand(y))


def _like(value: Any) -> Any:
    """What ``numpy.result_type`` needs of a possibly traced value: a 0-d array of its dtype."""
    return np.zeros((), dtype(value)) if isinstance(value, Tracer) else value


@implements(np.select)
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """``numpy.select``: the first true condition picks the choice; differentiable in choices and ``default``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: select([x < 0, x < 1], [-x, 3 * x], 0.0).sum())(np.array([-1.0, 0.5, 2.0]))
    array([-1.,  3.,  0.])
    """
    choicelist = [operand(c) for c in choicelist]
    default = operand(default)
    if not is_traced(default, *choicelist, *condlist):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise _errors.select_lengths()
    if len(choicelist) == 0:
        raise _errors.select_empty()
    conds = [c if isinstance(c, Tracer) else np.asarray(c) for c in condlist]
    for i, c in enumerate(conds):
        if dtype(c).kind != "b":
            raise _errors.select_condition_dtype(i)
    out = default
    for c, choice in zip(reversed(conds), reversed(choicelist)):
        out = _ufuncs.where(c, choice, out)
    kind = np.result_type(*[_like(c) for c in choicelist], _like(default))
    full = np.broadcast_shapes(*[shape(c) for c in conds], *[shape(c) for c in choicelist], shape(default))

    out = broadcast_to(out, full)
    return _base.astype(out, dtype=kind) if dtype(out) != kind else out


@implements(np.piecewise)
def piecewise(x: Any, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Any:
    """``numpy.piecewise``: ``funclist[k]`` evaluated where ``condlist[k]`` holds (later conditions win;
    one extra function covers the rest; elsewhere 0).  Differentiable in ``x`` through the functions.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v**2]).sum())(np.array([-2.0, 3.0]))
    array([-1.,  6.])
    """
    x = operand(x)
    if not isinstance(x, Tracer) and not is_traced(*funclist):
        return np.piecewise(x, condlist, funclist, *args, **kw)
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray, Tracer)) and ndim(x) != 0):
        condlist = [condlist]
    # traced conditions stay traced (recorded comparisons): the masks below are recorded gathers, not reads
    conds = [_bool(c) for c in condlist]
    if len(conds) == len(funclist) - 1:
        conds.append(_nondiff.logical_not(_nondiff.any(_shape.stack(conds), axis=0)))
    elif len(conds) != len(funclist):
        raise _errors.piecewise_function_count(len(conds))
    kind = dtype(x)
    out: Any = np.zeros(shape(x), kind)
    for cond, func in zip(conds, funclist):
        if not callable(func):
            out = _ufuncs.where(cond, np.asarray(func, kind), out)
        elif np.any(cond):
            # ``func`` sees only the selected entries (as in NumPy); they go back by a recorded gather, not a read
            picked = asarray(func(x[cond], *args, **kw))
            picked = picked if dtype(picked) == kind else cast(picked, kind)
            out = _ufuncs.where(cond, take(_shape.reshape(picked, (-1,)), mask_rank_p(cond)), out)
    return out


def _mask_rank(cond: Any) -> Any:
    """Each entry's place among the selected ones (``x[cond]``'s order); 0 where unselected."""
    return np.maximum(np.cumsum(cond, axis=None) - 1, 0).reshape(np.shape(cond))


#: where ``piecewise`` finds each selected entry's value: a recorded position, no derivative
mask_rank_p = primitive(_mask_rank, "mask_rank")
def_nondiff(mask_rank_p)


def _bool(condition: Any) -> Any:
    """``condition`` as booleans (a traced one by a recorded cast)."""
    if isinstance(condition, Tracer):
        return condition if dtype(condition) == np.bool_ else _base.astype(condition, dtype=np.dtype(bool))
    return np.asarray(condition, dtype=bool)


@implements(np.apply_along_axis)
def apply_along_axis(func1d: Any, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.apply_along_axis``: ``func1d`` on every 1-D slice along ``axis`` (a Python loop, like NumPy's).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: apply_along_axis(lambda v: v @ v, 1, x).sum())(np.ones((2, 2)))
    array([[2., 2.],
           [2., 2.]])
    """

    arr = operand(arr)
    if not isinstance(arr, Tracer):
        return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
    rank = ndim(arr)
    axis = int(axis) + rank if axis < 0 else int(axis)
    if not 0 <= axis < rank:
        raise np.exceptions.AxisError(axis, rank)
    moved = move_axes(arr, axis, -1)
    lead = shape(moved)[:-1]
    if int(np.prod(lead)) == 0:
        raise _errors.apply_along_empty_axis()
    results = [asarray(func1d(moved[index], *args, **kwargs)) for index in np.ndindex(*lead)]
    out = reshape(stack(results), lead + shape(results[0]))
    extra = ndim(results[0])
    return move_axes(out, tuple(range(len(lead), len(lead) + extra)), tuple(range(axis, axis + extra)))


@implements(np.interp)
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """``numpy.interp``: piecewise-linear interpolation, differentiable in ``fp``, ``x``,
    ``xp``, ``left`` and ``right``.

    The derivative in ``x`` is the slope of the segment ``x`` falls in; at a
    breakpoint ``xp[i]`` it is the slope of the segment to its right (of the
    last segment at ``xp[-1]``), and zero outside ``[xp[0], xp[-1]]``.

    >>> import funcgrad as fg, numpy as np
    >>> float(fg.grad(interp)(0.5, np.array([0.0, 1.0]), np.array([0.0, 4.0])))
    4.0
    """
    x, xp, fp = operand(x), operand(xp), operand(fp)
    left, right = operand(left), operand(right)
    if not is_traced(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left, right, period)
    if period is not None:
        raise _errors.interp_period()

    for value in (x, xp, fp):
        if _backends.is_foreign(full_lower(value)):
            raise _errors.lazy_value_read("interp", full_lower(value))  # the segment of each point
    x, xp, fp = (v if isinstance(v, Tracer) else np.asarray(v) for v in (x, xp, fp))
    if ndim(xp) != 1 or shape(fp) != shape(xp):
        raise _errors.interp_lengths(shape(fp), shape(xp))
    n = shape(xp)[0]
    if n == 0:
        raise _errors.interp_empty()
    # like numpy.interp: float64, or complex128 for complex fp
    kind = np.complex128 if dtype(fp).kind == "c" else np.float64
    # the segment of each point: recorded zero-derivative operations (searchsorted, clip of an index)
    found = searchsorted(xp, x, side="right") - 1
    i = _ufuncs.minimum(_ufuncs.maximum(found, 0), builtins.max(n - 2, 0))
    j = _ufuncs.minimum(i + 1, n - 1)
    x0, x1, f0, f1 = take(xp, i), take(xp, j), take(fp, i), take(fp, j)
    step = x1 - x0
    safe = _ufuncs.where(step == 0, 1.0, step)
    inside = f0 + (x - x0) * ((f1 - f0) / safe)
    below = take(fp, 0) if left is None else left
    above = take(fp, -1) if right is None else right
    out = _ufuncs.where(x < take(xp, 0), below, _ufuncs.where(x > take(xp, -1), above, inside))
    out = broadcast_to(out, shape(x))
    return _base.astype(out, dtype=np.dtype(kind)) if dtype(out) != kind else out
