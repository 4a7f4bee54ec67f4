"""Functions that move elements around: repeat, tile, flip, rot90, roll, pad,
delete, insert, append, compress, resize.

Each one runs the NumPy function itself on ``arange(x.size)`` (so argument
handling and edge cases are NumPy's) and gathers the traced values from the
resulting positions (``gather_p``, whose transpose ``scatter_add_p``
accumulates repeated positions).  ``flip`` is a negative-step slice;
``roll`` is its own linear primitive (its tangent is rolled, its cotangent
rolled back: two slice copies, no gather over every tangent);
``pad`` in constant mode writes the input into a block of constants.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims._at import plain_index, read_index
from funcgrad._prims._base import astype, move_axes
from funcgrad._prims._contract import matmul
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import gather, getitem_p, index_set_p, positions, rearrange
from funcgrad._prims._reductions import sum as fsum
from funcgrad._prims._select import take_along_axis
from funcgrad._prims._shape import broadcast_to, concatenate, operand, ravel, reshape
from funcgrad._prims._ufuncs import where
from funcgrad._rules import def_nondiff, defbatch, defjvp, defresiduals, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer
from funcgrad._values import dtype, is_traced, ndim, normalize_axes, shape

__all__ = [
    "repeat",
    "tile",
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "roll",
    "pad",
    "delete",
    "insert",
    "append",
    "compress",
    "resize",
]


@implements(np.repeat)
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """``numpy.repeat`` (int or per-element ``repeats``; ``axis=None`` flattens first).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: repeat(x, [1, 3]).sum())(np.ones(2))
    array([1., 3.])
    """
    a = operand(a)
    repeats = read_index(plain_index(repeats), "numpy.repeat with a traced count")
    if not isinstance(a, Tracer):
        return np.repeat(a, repeats, axis)
    return rearrange(a, np.repeat, repeats, axis)


@implements(np.tile)
def tile(A: Any, reps: Any) -> Any:
    """``numpy.tile``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: tile(x, (2, 2)).sum())(np.ones(2))
    array([4., 4.])
    """
    A = operand(A)
    reps = read_index(plain_index(reps), "numpy.tile with a traced count")
    if not isinstance(A, Tracer):
        return np.tile(A, reps)
    return rearrange(A, np.tile, reps)


@implements(np.flip)
def flip(m: Any, axis: Any = None) -> Any:
    """``numpy.flip``: reverse the order of elements along ``axis`` (all axes by default).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jvp(flip, (np.arange(3.0),), (np.array([1.0, 0.0, 0.0]),))[1]
    array([0., 0., 1.])
    """
    m = operand(m)
    if not isinstance(m, Tracer):
        return np.flip(m, axis)
    rank = ndim(m)
    axes = normalize_axes(axis, rank)
    index = tuple(slice(None, None, -1) if a - rank in axes else slice(None) for a in range(rank))
    return getitem_p(m, index=index) if axes else m


@implements(np.fliplr)
def fliplr(m: Any) -> Any:
    """``numpy.fliplr``: reverse the second axis (input of 2 or more dimensions).

    >>> fliplr(np.eye(2))
    array([[0., 1.],
           [1., 0.]])
    """
    if ndim(m) < 2:
        raise _errors.flip_rank(2)
    return flip(m, 1)


@implements(np.flipud)
def flipud(m: Any) -> Any:
    """``numpy.flipud``: reverse the first axis (input of 1 or more dimensions).

    >>> flipud(np.arange(3))
    array([2, 1, 0])
    """
    if ndim(m) < 1:
        raise _errors.flip_rank(1)
    return flip(m, 0)


@implements(np.rot90)
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of ``axes``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: rot90(x))(np.ones((2, 3))).shape
    (3, 2, 2, 3)
    """
    m = operand(m)
    if not isinstance(m, Tracer):
        return np.rot90(m, k, axes)
    return rearrange(m, np.rot90, int(k), tuple(axes))


@implements(np.roll)
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """``numpy.roll``: elements shifted off one end come back at the other.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jvp(lambda x: roll(x, 1), (np.arange(3.0),), (np.array([1.0, 0.0, 0.0]),))[1]
    array([0., 1., 0.])
    """
    a = operand(a)
    shift = read_index(plain_index(shift), "numpy.roll with a traced count")
    if not isinstance(a, Tracer):
        return np.roll(a, shift, axis)
    if axis is None:
        return reshape(roll_p(ravel(a), shift=_net_shift(shift), axis=(-1,)), shape(a))
    rank = ndim(a)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shifts.ndim > 1:
        np.roll(np.zeros(shape(a)), shift, axis)  # NumPy's own error for shifts and axes of two dimensions
    total: dict[int, int] = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        (ax,) = normalize_axes(int(ax), rank)
        total[ax] = total.get(ax, 0) + int(s)
    kept = {ax: s % shape(a)[ax] for ax, s in total.items() if shape(a)[ax] and s % shape(a)[ax]}
    return roll_p(a, shift=tuple(kept.values()), axis=tuple(kept))


def _net_shift(shift: Any) -> tuple[int]:
    """``axis=None``: NumPy rolls the flattened array by the sum of the shifts."""
    return (int(np.sum(shift)),)


def _roll(a: Any, shift: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    return np.roll(a, shift, axis)


#: ``numpy.roll`` along (negative) axes by normalised shifts: linear, so both rules roll (co)tangents
roll_p = primitive(_roll, "roll")
defvjp(roll_p, lambda g, ans, a, shift, axis: roll_p(g, shift=tuple(-s for s in shift), axis=axis), fresh=True)
defjvp(roll_p, lambda t, ans, a, shift, axis: roll_p(t, shift=shift, axis=axis), batched=True)
defresiduals(roll_p, False, False)
defbatch(roll_p, "leading")
defsparsity(roll_p, "moves", "linear")


@implements(np.delete)
def delete(arr: Any, obj: Any, axis: int | None = None) -> Any:
    """``numpy.delete``: a copy without the entries ``obj`` along ``axis`` (flattened when ``axis=None``).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: delete(x, [0, 2]).sum())(np.ones(3))
    array([0., 1., 0.])
    """
    arr = operand(arr)
    obj = read_index(plain_index(obj), "numpy.delete with a traced count")
    if not isinstance(arr, Tracer):
        return np.delete(arr, obj, axis)
    return rearrange(arr, np.delete, obj, axis)


@implements(np.insert)
def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Any:
    """``numpy.insert``: differentiable in ``arr`` and ``values`` (values are cast to ``arr``'s dtype, as in NumPy).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda v: insert(np.zeros(2), [1, 1], v).sum())(np.array([1.0, 2.0]))
    array([1., 1.])
    """

    arr, values = operand(arr), operand(values)
    obj = read_index(plain_index(obj), "numpy.insert with a traced count")
    if not isinstance(arr, Tracer) and not isinstance(values, Tracer):
        return np.insert(arr, obj, values, axis)
    # NumPy places a table of positions the same way it places the numbers
    from_arr = np.insert(positions(arr), obj, -1, axis)
    from_values = np.insert(np.full(shape(arr), -1, np.intp), obj, positions(values), axis)
    kind = dtype(arr)
    picked = gather(values, np.maximum(from_values, 0))
    if dtype(picked) != kind:
        picked = astype(picked, dtype=kind)
    return where(from_arr >= 0, gather(arr, np.maximum(from_arr, 0)), picked)


@implements(np.append)
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``numpy.append``: concatenate (both flattened when ``axis=None``).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: append(x, x).sum())(np.ones(2))
    array([2., 2.])
    """

    arr, values = operand(arr), operand(values)
    if not isinstance(arr, Tracer) and not isinstance(values, Tracer):
        return np.append(arr, values, axis)
    if axis is None:
        arr = ravel(arr) if ndim(arr) != 1 else arr
        values = ravel(values)
        axis = 0
    return concatenate((arr, values), axis=axis)


@implements(np.compress)
def compress(condition: Any, a: Any, axis: int | None = None, out: Any = None) -> Any:
    """``numpy.compress``: the slices of ``a`` along ``axis`` where ``condition`` is true.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: compress([False, True], x).sum())(np.ones(2))
    array([0., 1.])
    """
    a = operand(a)
    condition = plain_index(condition)
    if not isinstance(a, Tracer) and not isinstance(condition, Tracer):
        return np.compress(condition, a, axis, out)
    if out is not None:
        return store_out(out, compress(condition, a, axis))
    if isinstance(condition, Tracer):  # a traced condition: a recorded gather of a data-dependent size
        return rearrange(a, _compress_positions, condition if dtype(condition).kind == "b" else condition != 0, axis)
    condition = np.asarray(condition)
    return rearrange(a, lambda p: np.compress(condition, p, axis))


def _compress_positions(positions: Any, condition: Any, axis: int | None) -> Any:
    return np.compress(condition, positions, axis)


@implements(np.resize)
def resize(a: Any, new_shape: Any) -> Any:
    """``numpy.resize``: repeat the flattened input cyclically to fill ``new_shape``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: resize(x, (2, 3)).sum())(np.ones(4))
    array([2., 1., 1., 2.])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.resize(a, new_shape)
    return rearrange(a, np.resize, new_shape)


#: pad modes that only copy input elements, so a gather computes them exactly
_GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


@implements(np.pad)
def pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """``numpy.pad`` in modes ``constant`` (differentiable in ``constant_values`` too),
    ``edge``, ``reflect``, ``symmetric``, ``wrap`` (gathers), ``mean`` and ``linear_ramp``
    (linear maps), ``maximum``, ``minimum`` and ``median`` (gathers of the chosen
    elements); keyword values such as ``stat_length`` must be plain.  ``empty``
    and callable modes raise ``NotImplementedError``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: pad(x, 1, mode="edge").sum())(np.ones(2))
    array([2., 2.])
    >>> float(fg.grad(lambda c: pad(np.ones(2), 1, constant_values=c).sum())(0.5))
    2.0
    """
    array = operand(array)
    constant = operand(kwargs.get("constant_values", 0))
    if not isinstance(array, Tracer) and not isinstance(constant, Tracer):
        return np.pad(array, pad_width, mode, **kwargs)
    if mode in _GATHER_MODES and not isinstance(constant, Tracer) and kwargs.get("reflect_type", "even") == "even":
        return rearrange(array, np.pad, pad_width, mode=mode, **kwargs)
    if mode in _LINEAR_MODES and not isinstance(constant, Tracer) and not is_traced(*kwargs.values()):
        return _pad_linear(array, pad_width, mode, kwargs)
    if mode in _STAT_MODES and not is_traced(*kwargs.values()):
        return _pad_stat(array, pad_width, mode, kwargs)
    if mode != "constant" or set(kwargs) - {"constant_values"}:
        raise _errors.pad_mode(mode, sorted(kwargs), ", ".join(map(repr, _GATHER_MODES + _LINEAR_MODES + _STAT_MODES)))
    return _pad_constant(array, pad_width, constant)


#: pad modes that copy a per-line statistic: a gather of the chosen element(s)
_STAT_MODES = ("maximum", "minimum", "median")


def _pad_stat(array: Any, pad_width: Any, mode: str, kwargs: dict[str, Any]) -> Any:
    """``maximum``/``minimum``/``median`` padding, axis after axis as NumPy does.

    Along each axis, every line's padding copies the element holding the
    statistic of its first (or last) ``stat_length`` entries, so it is a gather
    (the median of an even count averages two gathers); the derivative goes to
    that element (the first one at ties).
    """

    xshape = shape(array)
    np.pad(np.zeros(xshape), pad_width, mode=mode, **kwargs)  # type: ignore[call-overload]  # NumPy's checks
    placed = np.pad(positions(array), pad_width, mode="constant", constant_values=-1)
    inside = np.nonzero(placed >= 0)
    stat = kwargs.get("stat_length")
    stat_pairs = None if stat is None else np.broadcast_to(np.asarray(stat), (len(xshape), 2))
    out = array
    for axis, n in enumerate(xshape):
        before = int(inside[axis].min()) if inside[axis].size else 0
        after = placed.shape[axis] - n - before
        if before == after == 0:
            continue
        first, last = (n, n) if stat_pairs is None else (min(int(v), n) for v in stat_pairs[axis])
        moved = move_axes(out, axis, -1)
        picks = (0, 1) if mode == "median" else (0,)
        where = {"mode": mode, "first": first, "last": last, "before": before, "after": after}
        maps = [stat_map_p(moved, pick=pick, **where) for pick in picks]
        picked = [take_along_axis(moved, m, -1) for m in maps]
        padded = picked[0] if len(picked) == 1 else 0.5 * (picked[0] + picked[1])
        out = move_axes(padded, -1, axis)
    return out


def _stat_map(lines: Any, pick: int, mode: str, first: int, last: int, before: int, after: int) -> Any:
    """Per line (last axis), the source position of every padded entry: the chosen element in the pads."""
    n = lines.shape[-1]
    lead = lines.shape[:-1]
    head = _chosen(lines[..., :first], mode, pick)
    tail = n - last + _chosen(lines[..., n - last :], mode, pick)
    return np.concatenate(
        [
            np.broadcast_to(head[..., None], lead + (before,)),
            np.broadcast_to(np.arange(n), lead + (n,)),
            np.broadcast_to(tail[..., None], lead + (after,)),
        ],
        axis=-1,
    )


#: the positions a statistic pad copies from: they depend on the values, so a recorded primitive (no derivative)
stat_map_p = primitive(_stat_map, "pad_stat_map")
def_nondiff(stat_map_p)
defbatch(stat_map_p, "leading")


def _chosen(region: np.ndarray[Any, Any], mode: str, pick: int) -> np.ndarray[Any, Any]:
    """Index (along the last axis) of the element holding the statistic of each line."""
    if mode == "maximum":
        return np.argmax(region, axis=-1)
    if mode == "minimum":
        return np.argmin(region, axis=-1)
    count = region.shape[-1]
    order = np.argsort(region, axis=-1, kind="stable")
    return order[..., (count - 1) // 2 if pick == 0 else count // 2]


#: pad modes whose padding is an affine function of the input (per axis, in axis order, as NumPy pads)
_LINEAR_MODES = ("mean", "linear_ramp", "reflect", "symmetric")


def _pad_linear(array: Any, pad_width: Any, mode: str, kwargs: dict[str, Any]) -> Any:
    """Pad modes that compute values linearly (``mean``, ``linear_ramp``, odd ``reflect``/``symmetric``).

    NumPy pads one axis after the other; along axis ``k`` every line is
    multiplied by the same matrix, which is ``numpy.pad`` of an identity.
    ``linear_ramp``'s ``end_values`` add a constant: the padding of zeros.
    """

    xshape = shape(array)
    placed = np.pad(positions(array), pad_width, mode="constant", constant_values=-1)
    inside = np.nonzero(placed >= 0)
    rank = len(xshape)
    stat = kwargs.get("stat_length")
    stat_pairs = None if stat is None else np.broadcast_to(np.asarray(stat), (rank, 2))
    out = array
    for axis, n in enumerate(xshape):
        before = int(inside[axis].min()) if inside[axis].size else 0
        after = placed.shape[axis] - n - before
        if before == after == 0:
            continue
        line = {k: v for k, v in kwargs.items() if k == "reflect_type"}
        if stat_pairs is not None:
            line["stat_length"] = tuple(int(v) for v in stat_pairs[axis])
        # column i: the padding of the unit line e_i, so lines are padded by a matrix product
        matrix = np.pad(np.eye(n, dtype=dtype(array)), ((before, after), (0, 0)), mode=mode, **line)  # type: ignore[call-overload]
        moved = move_axes(out, axis, -1)
        out = move_axes(matmul(moved, np.ascontiguousarray(matrix.T)), -1, axis)
    if mode == "linear_ramp":
        offset = np.pad(np.zeros(xshape, dtype(array)), pad_width, mode=mode, **kwargs)  # type: ignore[call-overload]
        if np.any(offset):
            out = out + offset
    return out


def _pad_constant(array: Any, pad_width: Any, constant: Any) -> Any:
    xshape = shape(array)
    kind = dtype(array)
    rank = len(xshape)
    # NumPy checks pad_width and tells where the input lands: -1 marks padding
    placed = np.pad(positions(array), pad_width, mode="constant", constant_values=-1)
    out_shape = placed.shape
    if not isinstance(constant, Tracer):
        block: Any = np.pad(np.zeros(xshape, kind), pad_width, mode="constant", constant_values=constant)
    elif ndim(constant) == 0:
        block = broadcast_to(constant, out_shape)
    else:
        # the padding is linear in the (rank, 2) table of constants: one 0/1 mask per entry
        table = broadcast_to(constant, (rank, 2))
        masks = np.stack(
            [
                np.pad(np.zeros(xshape, kind), pad_width, mode="constant", constant_values=e.reshape(rank, 2))
                for e in np.eye(2 * rank, dtype=kind)
            ]
        )
        block = fsum(reshape(table, (2 * rank,) + (1,) * len(out_shape)) * masks, axis=0)
    if isinstance(block, Tracer) and dtype(block) != kind:
        block = astype(block, dtype=kind)
    if int(np.prod(xshape)) == 0:
        return block
    inside = np.nonzero(placed >= 0)
    index = tuple(slice(int(ix.min()), int(ix.max()) + 1) for ix in inside)
    return index_set_p(block, array, index=index)
