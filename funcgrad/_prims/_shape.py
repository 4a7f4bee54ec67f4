"""Shape primitives (reshape, transpose, broadcast_to, concatenate), their rules,
and the shape functions built on them (stacking, splitting, ``atleast_*d``, ``meshgrid``).

All are linear, so each forward rule applies the same operation to the
tangent, shifted past its leading batch axes.  Splits are slices
(``getitem``), so they differentiate through the indexing rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import _errors, _values
from funcgrad._prims import _base
from funcgrad._prims._base import (
    _batch_shape,
    broadcast_batch,
    broadcast_to_p,
    cast,
    match_dtype,
    move_axes,
    reshape_p,
    transpose_p,
)
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import getitem_p
from funcgrad._rules import def_nondiff, defbatch, defjvp_joint, defjvp_variadic, defvjp_variadic, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer, read_value
from funcgrad._values import dtype, holds_tracer, is_traced, ndim, normalize_axes, shape
from funcgrad._values import dtype as dtype_of
from funcgrad._values import shape as shape_of

__all__ = [
    "reshape",
    "ravel",
    "transpose",
    "moveaxis",
    "swapaxes",
    "rollaxis",
    "squeeze",
    "expand_dims",
    "broadcast_to",
    "concatenate",
    "stack",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "hstack",
    "vstack",
    "row_stack",
    "dstack",
    "column_stack",
    "block",
    "split",
    "array_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "meshgrid",
]


def _concatenate(*xs: Any, axis: int) -> Any:
    return np.concatenate(xs, axis=axis)


concatenate_p = primitive(_concatenate, "concatenate")


def _concat_vjp(i: int) -> Any:
    def rule(g: Any, ans: Any, *xs: Any, axis: int) -> Any:
        start = sum(shape(x)[axis] for x in xs[:i])
        stop = start + shape(xs[i])[axis]
        index = (Ellipsis, slice(start, stop)) + (slice(None),) * (-axis - 1)
        return match_dtype(getitem_p(g, index=index), xs[i])

    return rule


def _concat_jvp(i: int) -> Any:
    def rule(t: Any, ans: Any, *xs: Any, axis: int) -> Any:
        lead = _batch_shape(t, xs[i])
        parts = [t if j == i else np.zeros(lead + shape(x), dtype(ans)) for j, x in enumerate(xs)]
        return concatenate_p(*parts, axis=axis)

    return rule


def _concat_joint(ts: list[Any], ans: Any, *xs: Any, axis: int) -> Any:
    """Every tangent joined in one call (zeros for the pieces without one)."""
    i = next(k for k, t in enumerate(ts) if t is not None)
    lead = _batch_shape(ts[i], xs[i])
    parts = [np.zeros(lead + shape(x), dtype(ans)) if t is None else t for t, x in zip(ts, xs)]
    return concatenate_p(*parts, axis=axis)


defvjp_variadic(concatenate_p, _concat_vjp)
defjvp_variadic(concatenate_p, _concat_jvp, batched=True)
defjvp_joint(concatenate_p, _concat_joint)


def _concatenate_batch(prim: Any, values: list[Any], batched: list[bool], size: int, axis: int) -> Any:
    parts = [v if b else broadcast_batch(v, size) for v, b in zip(values, batched)]
    return concatenate_p(*parts, axis=axis if axis < 0 else axis + 1)


defbatch(concatenate_p, _concatenate_batch)
defsparsity(concatenate_p, "moves", "linear")


# --- composites ----------------------------------------------------------------


def stack_tangents(parts: list[Any], ans: Any) -> Any:
    """Stack per-column tangents into one batched tangent (zeros where a part is None)."""
    full = shape(ans)
    like = next((p for p in parts if p is not None), None)
    kind = dtype(like) if like is not None else dtype(ans)
    rows = [
        reshape_p(broadcast_to_p(p, shape=full), newshape=(1,) + full) if p is not None else np.zeros((1,) + full, kind)
        for p in parts
    ]
    return concatenate_p(*rows, axis=-len(full) - 1)


# --- public wrappers ------------------------------------------------------------


def _dummy(s: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """A data-free array of shape ``s``: lets NumPy work out (and check) result shapes."""
    return np.broadcast_to(np.bool_(False), s)


def _fortran_only(a: Any) -> Any:
    flags = getattr(a, "flags", None)  # a NumPy array's; other array types (Dask) have no layout to read
    return np.bool_(flags is not None and flags.f_contiguous and not flags.c_contiguous)


#: whether ``a`` is laid out in Fortran order only (what ``order="A"`` reads): recorded, no derivative
fortran_only_p = primitive(_fortran_only, "fortran_only")
def_nondiff(fortran_only_p)


@implements(np.reshape)
def reshape(a: Any, shape: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """``numpy.reshape``, in C or Fortran order.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: reshape(x, (2, 1)))(np.ones(2)).shape
    (2, 1, 2)
    >>> fg.grad(lambda x: (reshape(x, (4,), order="F") * np.arange(4.0)).sum())(np.ones((2, 2)))
    array([[0., 2.],
           [1., 3.]])
    """
    if shape is None:
        shape = kwargs.pop("newshape")
    if not isinstance(a, Tracer):
        if order == "C":
            return np.reshape(a, shape)  # Dask's reshape takes no ``order``
        return np.reshape(a, shape, order=order)  # type: ignore[call-overload]
    if order not in ("C", "F", "A"):
        raise _errors.reshape_order(order)
    if order == "A":
        # the memory layout picks the order: a guard under jit (a replay may get the other layout)
        fortran = read_value(fortran_only_p(a), "reshape(order='A'): the memory layout")
        order = "F" if np.all(fortran) else "C"  # ``all``: under vmap, one flag per example
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    resolved = np.reshape(_dummy(shape_of(a)), target).shape
    if resolved == shape_of(a):
        return a
    if order == "F":
        # Fortran order is C order on the axis-reversed array: reverse, reshape, reverse back
        return transpose(reshape_p(transpose(a), newshape=resolved[::-1]))
    return reshape_p(a, newshape=resolved)


@implements(np.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    """``numpy.ravel`` (orders 'C', 'F', 'A'; 'K' reads the value's memory layout).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: (ravel(x) * np.arange(4.0)).sum())(np.ones((2, 2)))
    array([[0., 1.],
           [2., 3.]])
    """
    if order == "K" and isinstance(a, Tracer):
        order = "A"
    return reshape(a, (-1,), order=order)


@implements(np.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose`` (axes reversed by default).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: transpose(x)[0, 1])(np.ones((2, 2)))
    array([[0., 0.],
           [1., 0.]])
    """
    if not isinstance(a, Tracer):
        return np.transpose(a, axes)
    rank = ndim(a)
    if axes is not None:
        np.transpose(_dummy(shape_of(a)), axes)  # NumPy's checks: a permutation of valid axes
    perm = tuple(range(rank))[::-1] if axes is None else tuple(int(i) % rank for i in axes)
    if perm == tuple(range(rank)):
        return a
    return transpose_p(a, perm=perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``numpy.moveaxis``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(lambda x: moveaxis(x, 0, -1))(np.ones((1, 2))).shape
    (2, 1, 1, 2)
    """
    if not isinstance(a, Tracer):
        return np.moveaxis(a, source, destination)
    np.moveaxis(_dummy(shape_of(a)), source, destination)  # NumPy's checks
    return move_axes(a, source, destination)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``numpy.swapaxes``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(lambda x: swapaxes(x, 0, 1))(np.ones((1, 2))).shape
    (2, 1, 1, 2)
    """
    if not isinstance(a, Tracer):
        return np.swapaxes(a, axis1, axis2)
    np.swapaxes(_dummy(shape_of(a)), axis1, axis2)  # NumPy's checks
    perm = list(range(ndim(a)))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


@implements(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """``numpy.rollaxis`` (prefer ``moveaxis``): a transpose.

    >>> rollaxis(np.ones((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    if not isinstance(a, Tracer):
        return np.rollaxis(a, axis, start)
    rank = ndim(a)
    np.rollaxis(_dummy(shape_of(a)), axis, start)  # NumPy's argument checks
    axis, start = axis % rank, start + rank if start < 0 else start
    if axis < start:
        start -= 1
    perm = [n for n in range(rank) if n != axis]
    perm.insert(start, axis)
    return transpose(a, perm)


@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """``numpy.squeeze``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: squeeze(x)[1])(np.ones((1, 2)))
    array([[0., 1.]])
    """
    if not isinstance(a, Tracer):
        return np.squeeze(a, axis)
    return reshape(a, np.squeeze(_dummy(shape_of(a)), axis).shape)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """``numpy.expand_dims``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: expand_dims(x, (0, 2)))(np.ones(2)).shape
    (1, 2, 1, 2)
    """
    if not isinstance(a, Tracer):
        return np.expand_dims(a, axis)
    return reshape(a, np.expand_dims(_dummy(shape_of(a)), axis).shape)


@implements(np.broadcast_to)
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """``numpy.broadcast_to``; the gradient sums over the broadcast axes.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: broadcast_to(x, (3, 2)).sum())(np.ones(2))
    array([3., 3.])
    """
    if not isinstance(array, Tracer):
        return np.broadcast_to(array, shape, subok=subok)
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if target == shape_of(array):
        return array
    return broadcast_to_p(array, shape=target)


@implements(np.concatenate)
def concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.concatenate`` (``axis=None`` flattens; ``dtype=`` casts first).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: (concatenate([x, x ** 2]) * np.arange(4.0)).sum())(np.ones(2))
    array([4., 7.])
    """
    arrays = [operand(a) for a in arrays]
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.concatenate(arrays, axis=axis, out=out, **kwargs)
    if out is not None:
        return store_out(out, concatenate(arrays=arrays, axis=axis, **kwargs))
    arrays = _cast_all(arrays, kwargs.get("dtype"))
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    rank = len(shape(arrays[0]))
    if rank == 0:
        raise _errors.concatenate_scalars()
    return concatenate_p(*arrays, axis=normalize_axes(axis, rank)[0])


@implements(np.stack)
def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.stack``: join equal-shaped arrays along a new axis.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: stack([x, 2 * x], axis=1))(np.ones(2))[:, :, 0]
    array([[1., 2.],
           [0., 0.]])
    """
    arrays = [operand(a) for a in arrays]
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.stack(arrays, axis=axis, out=out, **kwargs)
    if out is not None:
        return store_out(out, stack(arrays=arrays, axis=axis, **kwargs))
    shapes = {shape(a) for a in arrays}
    if len(shapes) != 1:
        raise _errors.stack_shapes()
    arrays = _cast_all(arrays, kwargs.get("dtype"))
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def _cast_all(arrays: list[Any], kind: Any) -> list[Any]:
    """``dtype=`` of concatenate/stack: cast every input first (derivatives pass float/complex casts)."""
    if kind is None:
        return arrays
    return [cast(a, kind) for a in arrays]


# --- atleast_*d, stacking ----------------------------------------------------------------


def _atleast(arys: tuple[Any, ...], numpy_function: Any) -> Any:
    arys = tuple(operand(a) for a in arys)
    if not is_traced(*arys):
        return numpy_function(*arys)
    out = [
        reshape(a, numpy_function(_dummy(shape(a))).shape) if isinstance(a, Tracer) else numpy_function(a) for a in arys
    ]
    return out[0] if len(out) == 1 else type(numpy_function(0, 0))(out)


@implements(np.atleast_1d)
def atleast_1d(*arys: Any) -> Any:
    """``numpy.atleast_1d``: scalars become shape ``(1,)``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(atleast_1d)(2.0)
    array([1.])
    """
    return _atleast(arys, np.atleast_1d)


@implements(np.atleast_2d)
def atleast_2d(*arys: Any) -> Any:
    """``numpy.atleast_2d``: a vector of length n becomes shape ``(1, n)``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(atleast_2d)(np.ones(2)).shape
    (1, 2, 2)
    """
    return _atleast(arys, np.atleast_2d)


@implements(np.atleast_3d)
def atleast_3d(*arys: Any) -> Any:
    """``numpy.atleast_3d``: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` becomes ``(m, n, 1)``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(atleast_3d)(np.ones(2)).shape
    (1, 2, 1, 2)
    """
    return _atleast(arys, np.atleast_3d)


def _stack_with(tup: Sequence[Any], numpy_function: Any, prepare: Any, axis: Any, kwargs: dict[str, Any]) -> Any:
    arrays = [operand(a) for a in tup]
    if not is_traced(*arrays):
        return numpy_function(arrays, **kwargs)
    if kwargs.get("dtype") is not None or kwargs.get("casting", "same_kind") != "same_kind":
        raise _errors.join_dtype(numpy_function.__name__)
    arrays = [prepare(a) for a in arrays]
    return concatenate(arrays, axis=axis(arrays) if callable(axis) else axis)


@implements(np.hstack)
def hstack(tup: Sequence[Any], **kwargs: Any) -> Any:
    """``numpy.hstack``: concatenate along the second axis (the first for 1-D inputs).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: hstack([x, 2 * x]).sum())(np.ones(2))
    array([3., 3.])
    """
    return _stack_with(tup, np.hstack, atleast_1d, lambda arrays: 0 if ndim(arrays[0]) == 1 else 1, kwargs)


@implements(np.vstack)
def vstack(tup: Sequence[Any], **kwargs: Any) -> Any:
    """``numpy.vstack``: stack rows (1-D inputs become rows).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: vstack([x, x]))(np.ones(2)).shape
    (2, 2, 2)
    """
    return _stack_with(tup, np.vstack, atleast_2d, 0, kwargs)


def row_stack(tup: Sequence[Any], **kwargs: Any) -> Any:
    """``numpy.row_stack``: NumPy's (deprecated) alias of :func:`vstack`, kept for old code, without the warning.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: row_stack([x, 3 * x]).sum())(np.ones(2))
    array([4., 4.])
    """
    return vstack(tup, **kwargs)


@implements(np.dstack)
def dstack(tup: Sequence[Any], **kwargs: Any) -> Any:
    """``numpy.dstack``: concatenate along the third axis.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(lambda x: dstack([x, x]))(np.ones(2)).shape
    (1, 2, 2, 2)
    """
    return _stack_with(tup, np.dstack, atleast_3d, 2, kwargs)


def _as_column(a: Any) -> Any:
    return reshape(a, (-1, 1)) if ndim(a) < 2 else a


@implements(np.column_stack)
def column_stack(tup: Sequence[Any]) -> Any:
    """``numpy.column_stack``: 1-D inputs become columns.

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(lambda x: column_stack([x, x]))(np.ones(2)).shape
    (2, 2, 2)
    """
    return _stack_with(tup, np.column_stack, _as_column, 1, {})


def _nested_tracer(obj: Any) -> bool:
    if isinstance(obj, list):
        return any(_nested_tracer(o) for o in obj)
    return isinstance(obj, Tracer)


@implements(np.block)
def block(arrays: Any) -> Any:
    """``numpy.block``: assemble nested lists of blocks (innermost lists along the last axis).

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: block([[x, x], [np.ones((1, 1)), x]]).sum())(np.ones((1, 1)))
    array([[3.]])
    """
    if not _nested_tracer(arrays):
        return np.block(arrays)

    def dummies(obj: Any) -> Any:
        return [dummies(o) for o in obj] if isinstance(obj, list) else _dummy(shape(operand(obj)))

    np.block(dummies(arrays))  # NumPy checks the nesting and the block shapes

    def depth(obj: Any) -> int:
        return 1 + depth(obj[0]) if isinstance(obj, list) else 0

    levels = depth(arrays)

    def leaves(obj: Any) -> list[Any]:
        return [leaf for o in obj for leaf in leaves(o)] if isinstance(obj, list) else [operand(obj)]

    rank = max(levels, *[ndim(leaf) for leaf in leaves(arrays)])

    def assemble(obj: Any, level: int) -> Any:
        if not isinstance(obj, list):
            obj = operand(obj)
            lifted = (1,) * (rank - ndim(obj)) + shape(obj)
            return reshape(obj, lifted) if isinstance(obj, Tracer) else np.reshape(obj, lifted)
        return concatenate([assemble(o, level + 1) for o in obj], axis=level - levels)

    return assemble(arrays, 0)


# --- splitting ---------------------------------------------------------------------------


def _read_points(points: Any, why: str) -> Any:
    """Split points with their traced parts read through ``read_value`` (each transform sees the read)."""
    if isinstance(points, Tracer):
        return read_value(points, why)
    if isinstance(points, (list, tuple)) and holds_tracer(points):
        return [_read_points(p, why) for p in points]
    return points


def _split(ary: Any, indices_or_sections: Any, axis: int, numpy_function: Any) -> list[Any]:
    ary = operand(ary)
    # traced split points decide the pieces' shapes: a guarded read (a value guard under jit)
    indices_or_sections = _read_points(indices_or_sections, f"numpy.{numpy_function.__name__} points")
    if not isinstance(ary, Tracer):
        return list(numpy_function(ary, indices_or_sections, axis))
    rank = ndim(ary)
    ax = normalize_axes(axis, rank)[0] + rank
    # NumPy splits a range of positions the same way: each piece is one contiguous slice
    chunks = numpy_function(np.arange(shape(ary)[ax]), indices_or_sections)
    lead = (slice(None),) * ax
    return [getitem_p(ary, index=lead + (slice(int(c[0]), int(c[-1]) + 1) if len(c) else slice(0, 0),)) for c in chunks]


@implements(np.split)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """``numpy.split``: equal sections (else ``ValueError``) or split points; a list of arrays.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: split(x, 2)[1].sum())(np.ones(4))
    array([0., 0., 1., 1.])
    """
    return _split(ary, indices_or_sections, axis, np.split)


@implements(np.array_split)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """``numpy.array_split``: like ``split``, sections may differ in length by one.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: array_split(x, 2)[0].sum())(np.ones(3))
    array([1., 1., 0.])
    """
    return _split(ary, indices_or_sections, axis, np.array_split)


@implements(np.hsplit)
def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """``numpy.hsplit``: split along the second axis (the first for 1-D input).

    >>> import funcgrad as fg, numpy as np
    >>> [p.shape for p in hsplit(np.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    rank = ndim(ary)
    if rank == 0:
        raise _errors.split_rank("hsplit", 1)
    return split(ary, indices_or_sections, 1 if rank > 1 else 0)


@implements(np.vsplit)
def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """``numpy.vsplit``: split along the first axis (input of 2 or more dimensions).

    >>> [p.shape for p in vsplit(np.ones((4, 2)), [1])]
    [(1, 2), (3, 2)]
    """
    if ndim(ary) < 2:
        raise _errors.split_rank("vsplit", 2)
    return split(ary, indices_or_sections, 0)


@implements(np.dsplit)
def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """``numpy.dsplit``: split along the third axis (input of 3 or more dimensions).

    >>> [p.shape for p in dsplit(np.ones((1, 1, 4)), 2)]
    [(1, 1, 2), (1, 1, 2)]
    """
    if ndim(ary) < 3:
        raise _errors.split_rank("dsplit", 3)
    return split(ary, indices_or_sections, 2)


# --- meshgrid ----------------------------------------------------------------------------


@implements(np.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> Any:
    """``numpy.meshgrid`` (``indexing='xy'`` or ``'ij'``, ``sparse``); differentiable in every input.

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: meshgrid(x, np.ones(3))[0].sum())(np.ones(2))
    array([3., 3.])
    """
    xi = tuple(operand(x) for x in xi)
    if not is_traced(*xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)  # type: ignore[call-overload]
    if indexing not in ("xy", "ij"):
        raise _errors.meshgrid_indexing()
    n = len(xi)
    axes = list(range(n))
    if indexing == "xy" and n > 1:
        axes[0], axes[1] = 1, 0
    sizes = [_values.size(x) for x in xi]
    full = [1] * n
    for ax, m in zip(axes, sizes):
        full[ax] = m
    out = []
    for ax, m, x in zip(axes, sizes, xi):
        s = [1] * n
        s[ax] = m
        y = reshape(x, tuple(s)) if isinstance(x, Tracer) else np.reshape(x, s)
        out.append(y if sparse else broadcast_to(y, tuple(full)))
    return tuple(out) if isinstance(np.meshgrid(np.zeros(1)), tuple) else out


# --- arrays from lists holding traced values ----------------------------------------------


def asarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.asarray`` for the rules: a traced value as it is (cast when ``dtype`` differs), a list or
    tuple holding traced values stacked (differentiably), anything else NumPy's array."""
    if isinstance(a, Tracer):
        return a if dtype is None or np.dtype(dtype) == dtype_of(a) else _base.astype(a, dtype=np.dtype(dtype))
    if isinstance(a, (list, tuple)) and holds_tracer(a):
        out = stack([asarray(o) for o in a])
        return out if dtype is None else _base.astype(out, dtype=np.dtype(dtype))
    return np.asarray(a, dtype, **kwargs)


def operand(a: Any) -> Any:
    """Lists holding traced values become traced arrays; anything else is unchanged."""
    return asarray(a) if isinstance(a, (list, tuple)) and holds_tracer(a) else a
