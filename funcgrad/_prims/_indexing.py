"""Indexing (``x[idx]``), gathers and scatters, and functional updates (``x.at[idx].set(v)``).

Five primitives carry every derivative of this family:

* ``getitem_p(x, index=...)``: NumPy indexing with any index form;
* ``index_add_p(x, v, index=...)``: ``numpy.add.at`` (repeated positions accumulate);
* ``index_set_p(x, v, index=...)``: ``x[index] = v`` on a copy, for indices
  that select every position at most once (``.at[].set`` removes repeats
  before it gets here);
* ``gather_p(x, positions=..., shape=...)`` and ``scatter_add_p``: read /
  accumulate through an integer array of flat positions.  They are each
  other's transpose and serve every function that only rearranges elements
  (``take``, ``roll``, ``repeat``, ``diagonal``, ``pad`` edge modes, ``sort``):
  the wrapper runs the NumPy function on ``arange(x.size)`` to learn where each
  output element comes from, so it follows NumPy exactly.

Indices carry no derivative.  A plain index is a static parameter; a traced
integer or boolean index (under ``jit`` or ``vmap``, where ``argmax`` gives a
traced result) is never read: ``positions_p`` (zero derivative) computes the
flat positions it selects, and ``gather_at_p`` reads them as a positional
argument.  A traced float index raises ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _backends
from funcgrad._prims._base import (
    batch_align,
    broadcast_batch,
    broadcast_to_p,
    match_dtype,
    move_axes,
    reshape_p,
    unbroadcast,
)
from funcgrad._rules import def_nondiff, defbatch, defjvp, defvjp, defvjp_add, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer, full_lower
from funcgrad._values import Hole, batch_ndim, dtype, fill_call, holds_tracer, ndim, shape, split_call
from funcgrad._values import shape as _shape_of

# --- index normalisation ------------------------------------------------------------


def _items(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _is_array(item: Any) -> bool:
    return isinstance(item, np.ndarray)


def has_int_array(index: Any) -> bool:
    """Whether ``index`` holds an integer array (which may repeat positions)."""
    return any(_is_array(i) and i.dtype.kind in "iu" and i.ndim > 0 for i in _items(index))


def _explicit(index: Any, rank: int) -> tuple[Any, ...]:
    """``index`` as a tuple without ``...``, so it reads exactly the leading ``rank`` axes."""
    items = _items(index)
    used = sum(i.ndim if _is_array(i) and i.dtype == bool else (0 if i is None or i is Ellipsis else 1) for i in items)
    out: list[Any] = []
    seen = False
    for item in items:
        if item is Ellipsis and not seen:
            out.extend([slice(None)] * (rank - used))
            seen = True
        else:
            out.append(item)
    if not seen:
        out.extend([slice(None)] * (rank - used))
    return tuple(out)


def selected_shape(xshape: tuple[int, ...], index: Any) -> tuple[int, ...]:
    """The shape of ``x[index]`` for ``x`` of shape ``xshape`` (no data is touched)."""
    return np.broadcast_to(np.bool_(False), xshape)[index].shape


def _batch_to_end(t: Any, nb: int) -> Any:
    return move_axes(t, tuple(range(nb)), tuple(range(-nb, 0)))


def _batch_to_front(t: Any, nb: int) -> Any:
    return move_axes(t, tuple(range(-nb, 0)), tuple(range(nb)))


def _batched_index(t: Any, nb: int, rank: int, index: Any, apply: Callable[[Any, Any], Any]) -> Any:
    """Apply an index written for a rank-``rank`` array to ``t`` with ``nb`` extra leading axes.

    Without array indices the batch axes are skipped with leading ``:``;
    otherwise (NumPy may move advanced-index axes to the front) the batch axes
    are moved last, where no index form can disturb them, and back afterwards.
    """
    if nb == 0:
        return apply(t, index)
    if not any(_is_array(i) for i in _items(index)):
        return apply(t, (slice(None),) * nb + _items(index))
    out = apply(_batch_to_end(t, nb), _explicit(index, rank))
    return _batch_to_front(out, nb)


def _scatter_tangent(t: Any, v: Any, ans: Any, index: Any, prim: Any) -> Any:
    """Tangent of an update's output w.r.t. its values ``v``: ``prim(zeros, t, index)``, batched."""
    nb = batch_ndim(t, v)
    out_shape = shape(ans)
    zeros_dtype = dtype(ans)
    if nb == 0:
        return prim(np.zeros(out_shape, zeros_dtype), t, index=index)
    tshape = shape(t)
    batch = tshape[:nb]
    sel = selected_shape(out_shape, index)
    pad = len(sel) - ndim(v)
    if pad > 0:
        t = reshape_p(t, newshape=batch + (1,) * pad + tshape[nb:])
    if not any(_is_array(i) for i in _items(index)):
        return prim(np.zeros(batch + out_shape, zeros_dtype), t, index=(slice(None),) * nb + _items(index))
    out = prim(np.zeros(out_shape + batch, zeros_dtype), _batch_to_end(t, nb), index=_explicit(index, len(out_shape)))
    return _batch_to_front(out, nb)


# --- getitem ----------------------------------------------------------------------------


def _getitem(x: Any, index: Any) -> Any:
    return x[index]


def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any) -> Any:
    if dtype(x).kind not in "fc":
        return None  # an integer or boolean array has no derivative (a float cotangent cannot be added into it)
    return index_add_p(_backends.zeros_like(full_lower(x), dtype(x)), match_dtype(g, x), index=index)


def _getitem_vjp_add(total: Any, owned: bool, g: Any, ans: Any, x: Any, index: Any) -> Any:
    """``total`` plus the cotangent of ``x[index]``: ``g`` added at ``index`` only (``index_add``), into
    ``total`` itself when the sweep owns it, not a fresh array of zeros added whole.

    Each element gets the same additions in the same order as ``total + index_add(zeros, g)``, so the
    same bits, but for the sign of a zero sum (``-0.0 + -0.0`` stays ``-0.0`` instead of passing
    through ``0.0 + -0.0``); positions an integer array index may repeat keep that formula (``add.at``
    would add them into ``total`` in another order), as do a 0-d ``x`` and a ``total`` of another
    dtype or shape.
    """
    kind = dtype(x)
    if kind.kind not in "fc":
        return total
    g = match_dtype(g, x)
    if has_int_array(index) or not ndim(x) or dtype(total) != kind or shape(total) != shape(x):
        return total + index_add_p(_backends.zeros_like(full_lower(x), kind), g, index=index)
    if owned and type(total) is np.ndarray and not isinstance(g, Tracer) and not _backends.is_foreign(g):
        return add_into(total, g, index)
    return index_add_p(total, g, index=index)


def _getitem_jvp(t: Any, ans: Any, x: Any, index: Any) -> Any:
    return _batched_index(t, batch_ndim(t, x), ndim(x), index, lambda a, i: getitem_p(a, index=i))


getitem_p = primitive(_getitem, "getitem")
defvjp(getitem_p, _getitem_vjp, fresh=True)
defvjp_add(getitem_p, _getitem_vjp_add)
defjvp(getitem_p, _getitem_jvp, batched=True)
defbatch(
    getitem_p,
    lambda prim, values, batched, size, index: _batched_index(
        values[0], 1, ndim(values[0]) - 1, index, lambda a, i: getitem_p(a, index=i)
    ),
)
defsparsity(getitem_p, "moves", "linear")


def _update_batch(prim: Any, values: list[Any], batched: list[bool], size: int, index: Any) -> Any:
    """``x.at[index]`` updates under ``vmap``: the same index in every example (``x`` is written into,
    so an unbatched ``x`` is repeated over the batch)."""
    x, v = values
    if not batched[0]:
        x = broadcast_batch(x, size)
    example = shape(x)[1:]
    selected = selected_shape(example, index)
    if batched[1]:
        v = batch_align(v, len(selected))
    if not any(_is_array(i) for i in _items(index)):
        return prim(x, v, index=(slice(None),) + _items(index))
    # array indices may move axes to the front: the batch axis goes last, where no index touches it

    if not batched[1]:
        v = reshape_p(v, newshape=shape(v) + (1,))
    out = prim(_batch_to_end(x, 1), _batch_to_end(v, 1) if batched[1] else v, index=_explicit(index, len(example)))
    return _batch_to_front(out, 1)


# --- index_add: numpy.add.at -------------------------------------------------------------


def add_into(out: np.ndarray[Any, Any], v: Any, index: Any) -> np.ndarray[Any, Any]:
    """``v`` added into ``out`` at ``index`` (``numpy.add.at`` for an integer array index), in place:
    ``index_add``'s arithmetic without its copy, for an array the caller owns.  Returns ``out``."""
    if has_int_array(index):
        np.add.at(out, index, v)
    else:
        out[index] += v
    return out


def _index_add(x: Any, v: Any, index: Any) -> Any:
    if _backends.is_foreign(x) or _backends.is_foreign(v):
        return _backends.index_add(x, v, _items(index))
    return add_into(np.array(x, copy=True), v, index)


index_add_p = primitive(_index_add, "index_add")
defvjp(
    index_add_p,
    lambda g, ans, x, v, index: match_dtype(g, x),
    lambda g, ans, x, v, index: unbroadcast(getitem_p(g, index=index), v),
)
defjvp(
    index_add_p,
    lambda t, ans, x, v, index: t,
    lambda t, ans, x, v, index: _scatter_tangent(t, v, ans, index, index_add_p),
    batched=True,
)
defbatch(index_add_p, _update_batch)
defsparsity(index_add_p, "scatter", "linear")


# --- index_set: x[index] = v on a copy (each position selected at most once) -------------


def _index_set(x: Any, v: Any, index: Any) -> Any:
    if _backends.is_foreign(x) or _backends.is_foreign(v):
        return _backends.index_set(x, v, _items(index))
    out = np.array(x, copy=True, order="K")  # the layout of x, as an in-place write keeps it
    out[index] = v
    return out


def _set_zero(t: Any, ans: Any, x: Any, v: Any, index: Any) -> Any:
    return _batched_index(t, batch_ndim(t, x), ndim(x), index, lambda a, i: index_set_p(a, 0.0, index=i))


index_set_p = primitive(_index_set, "index_set")
defvjp(
    index_set_p,
    lambda g, ans, x, v, index: match_dtype(index_set_p(g, 0.0, index=index), x),
    lambda g, ans, x, v, index: unbroadcast(getitem_p(g, index=index), v),
)
defjvp(
    index_set_p,
    _set_zero,
    lambda t, ans, x, v, index: _scatter_tangent(t, v, ans, index, index_set_p),
    batched=True,
)
defbatch(index_set_p, _update_batch)
defsparsity(index_set_p, "moves", "linear")


# --- gather / scatter through flat positions -------------------------------------------


def _gather(x: Any, positions: np.ndarray[Any, Any], shape: tuple[int, ...]) -> Any:
    if _backends.is_foreign(x):
        return _backends.gather(x, positions, x.shape[: x.ndim - len(shape)])
    x = np.asarray(x)
    lead = x.shape[: x.ndim - len(shape)]
    # the flat size spelled out: -1 cannot be inferred when a leading (batch) axis has size 0
    return x.reshape(lead + (int(np.prod(shape, dtype=np.int64)),))[..., positions]


def _scatter_add(v: Any, positions: np.ndarray[Any, Any], shape: tuple[int, ...]) -> Any:
    foreign = _backends.is_foreign(v)
    v = v if foreign else np.asarray(v)
    lead = v.shape[: v.ndim - positions.ndim]
    size, count = int(np.prod(shape)), int(np.prod(lead))
    where = positions.reshape(-1)
    if count != 1:
        where = (np.arange(count)[:, None] * size + where).reshape(-1)
    values = v.reshape(-1)
    total = count * size
    # bincount accumulates repeated positions, several times faster than numpy.add.at
    if foreign:
        out = _backends.scatter_add(values, where, total)
    elif v.dtype.kind == "c":
        out = np.bincount(where, values.real, total) + 1j * np.bincount(where, values.imag, total)
    else:
        out = np.bincount(where, values, total)
    return out.astype(v.dtype, copy=False).reshape(lead + shape)


gather_p = primitive(_gather, "gather")
scatter_add_p = primitive(_scatter_add, "scatter_add")
defvjp(gather_p, lambda g, ans, x, positions, shape: match_dtype(scatter_add_p(g, positions=positions, shape=shape), x))
defjvp(gather_p, lambda t, ans, x, positions, shape: gather_p(t, positions=positions, shape=shape), batched=True)
defbatch(gather_p, "leading")
defsparsity(gather_p, "moves", "linear")
defvjp(scatter_add_p, lambda g, ans, v, positions, shape: match_dtype(gather_p(g, positions=positions, shape=shape), v))
defjvp(
    scatter_add_p, lambda t, ans, v, positions, shape: scatter_add_p(t, positions=positions, shape=shape), batched=True
)
defbatch(scatter_add_p, "leading")
defsparsity(scatter_add_p, "scatter", "linear")


gather_at_p = primitive(_gather, "gather_at")
scatter_add_at_p = primitive(_scatter_add, "scatter_add_at")
defvjp(
    gather_at_p,
    lambda g, ans, x, positions, shape: match_dtype(scatter_add_at_p(g, positions, shape=shape), x),
    None,
)
defjvp(gather_at_p, lambda t, ans, x, positions, shape: gather_at_p(t, positions, shape=shape), None, batched=True)
defvjp(
    scatter_add_at_p,
    lambda g, ans, v, positions, shape: match_dtype(gather_at_p(g, positions, shape=shape), v),
    None,
)
defjvp(
    scatter_add_at_p, lambda t, ans, v, positions, shape: scatter_add_at_p(t, positions, shape=shape), None, batched=True
)


def _flat_batch(positions: Any, size: int, count: int) -> Any:
    """Flat positions into each example (batch axis first) as flat positions into the whole batch."""
    offsets = np.arange(count, dtype=np.intp).reshape((count,) + (1,) * (ndim(positions) - 1)) * size
    return positions + offsets


def _at_batch(prim: Any, values: list[Any], batched: list[bool], count: int, shape: tuple[int, ...]) -> Any:
    # traced positions of a batch index each example: offset them into the batch viewed as one array
    x, where = values
    if not batched[1]:
        return prim(x, where, shape=shape)  # the batch is a leading axis of x, as a tangent batch is
    if not batched[0]:
        x = broadcast_batch(x, count)
    if prim is scatter_add_at_p and ndim(x) < ndim(where):  # a value for every position: one per example too
        x = broadcast_to_p(batch_align(x, ndim(where) - 1), shape=_shape_of(where))
    # axes of x before one example (a tangent batch of jacfwd/jacrev) stay in front: the vmap batch joins the example
    example = len(shape) if prim is gather_at_p else ndim(where) - 1
    lead = ndim(x) - 1 - example
    if lead:
        x = move_axes(x, 0, lead)
    out = prim(x, _flat_batch(where, int(np.prod(shape, dtype=np.int64)), count), shape=(count,) + shape)
    return move_axes(out, lead, 0) if lead else out


defbatch(gather_at_p, _at_batch)
defbatch(scatter_add_at_p, _at_batch)
defsparsity(gather_at_p, "moves", "linear")
defsparsity(scatter_add_at_p, "scatter", "linear")


def positions(x: Any) -> np.ndarray[Any, Any]:
    """``arange(x.size)`` in ``x``'s shape: run a rearranging NumPy function on it to learn its gather."""
    s = shape(x)
    return np.arange(int(np.prod(s)), dtype=np.intp).reshape(s)


def gather(x: Any, where: Any) -> Any:
    """The elements of ``x`` at flat positions ``where`` (an integer array, any shape; traced or plain)."""
    if isinstance(where, Tracer):
        return gather_at_p(x, where, shape=shape(x))
    return gather_p(x, positions=np.asarray(where, dtype=np.intp), shape=shape(x))


def _positions_of(*arrays: Any, function: Callable[..., Any], shape: tuple[int, ...], call: Any) -> Any:
    args, kwargs = fill_call(call, tuple(arrays))
    return function(np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape), *args, **kwargs)


#: where ``function(x, *args)`` takes each element from, for traced (integer) ``args``: zero derivative
positions_p = primitive(_positions_of, "positions")
def_nondiff(positions_p, None)
#: the same for a traced boolean mask: how many positions it selects depends on its values
mask_positions_p = primitive(_positions_of, "mask_positions")
def_nondiff(mask_positions_p, None)
mask_positions_p.data_dependent_shape = True
defbatch(mask_positions_p, "data-dependent")


def _positions_batch(values: list[Any], batched: list[bool], size: int, function: Any, shape: tuple[int, ...], call: Any) -> Any:
    """``take_along_axis`` (``sort``, ``partition``) with batched indices: the positions of the whole batch
    along the axis moved past it, less each example's offset; any other rearrangement is computed for each
    example inside one call (``positions_each``)."""
    args, kwargs = fill_call(call, tuple(values))
    if function is not np.take_along_axis or kwargs or len(args) != 2 or not isinstance(args[1], (int, np.integer)):
        return positions_each_p(*values, mapped=tuple(batched), examples=size, function=function, shape=shape, call=call)
    rank = len(shape)
    (where,) = values
    index = where if batched[0] else broadcast_batch(where, size)
    count = int(np.prod(shape, dtype=np.int64))
    whole = np.arange(size * count, dtype=np.intp).reshape((size,) + shape)
    picked = positions_p(index, function=function, shape=(size,) + shape, call=((Hole(0), args[1] % rank - rank), ()))
    return picked - (whole[(slice(None),) + (0,) * rank].reshape((size,) + (1,) * (ndim(picked) - 1)))


defbatch(positions_p, lambda prim, values, batched, size, **params: _positions_batch(values, batched, size, **params))


def _positions_each(
    *arrays: Any, mapped: tuple[bool, ...], examples: int, function: Any, shape: tuple[int, ...], call: Any
) -> Any:
    """``positions`` of each example of a batch of traced index arguments, stacked: the loop runs in NumPy
    on index arrays (one recorded call), as no general rearrangement maps over a batch by itself."""

    def example(k: int | None) -> Any:
        parts = tuple((np.zeros_like(a[0]) if k is None else a[k]) if b else a for a, b in zip(arrays, mapped))
        return _positions_of(*parts, function=function, shape=shape, call=call)

    if examples == 0:
        return np.zeros((0,) + np.shape(example(None)), np.intp)
    return np.stack([example(k) for k in range(examples)])


#: ``positions`` for a batch of examples (``vmap`` of ``x[i]`` with a batched ``i``): no derivative
positions_each_p = primitive(_positions_each, "positions_each")
def_nondiff(positions_each_p, None)


def rearrange(x: Any, numpy_function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``numpy_function(x, *args, **kwargs)`` for a function that only moves elements around.

    Traced arguments (indices under ``jit``/``vmap``) are never read: the
    positions are a recorded zero-derivative primitive of them.
    """
    if not (holds_tracer(args) or holds_tracer(tuple(kwargs.values()))):
        return gather(x, numpy_function(positions(x), *args, **kwargs))
    leaves, call = split_call(args, kwargs)
    boolean = any(dtype(leaf).kind == "b" for leaf in leaves)
    find = mask_positions_p if boolean else positions_p
    return gather(x, find(*leaves, function=numpy_function, shape=shape(x), call=call))


# --- .at[] ------------------------------------------------------------------------------------


