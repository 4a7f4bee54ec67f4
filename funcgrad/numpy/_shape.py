"""Shape primitives (reshape, transpose, broadcast_to, concatenate) and their rules.

All are linear, so each forward rule applies the same operation to the
tangent, shifted past its leading batch axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad._rules import defjvp, defjvp_variadic, defvjp, defvjp_variadic, primitive
from funcgrad._trace import Tracer
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._util import batch_ndim, dtype, lift, normalize_axes, shape, unbroadcast

__all__ = [
    "reshape",
    "ravel",
    "transpose",
    "moveaxis",
    "swapaxes",
    "squeeze",
    "expand_dims",
    "broadcast_to",
    "concatenate",
    "stack",
]


def _reshape(x: Any, newshape: tuple[int, ...]) -> Any:
    return np.reshape(x, newshape)


reshape_p = primitive(_reshape, "reshape")
defvjp(reshape_p, lambda g, ans, x, newshape: reshape_p(g, newshape=shape(x)))
defjvp(
    reshape_p,
    lambda t, ans, x, newshape: reshape_p(t, newshape=shape(t)[: batch_ndim(t, x)] + shape(ans)),
    batched=True,
)


def _transpose(x: Any, perm: tuple[int, ...]) -> Any:
    return np.transpose(x, perm)


def _shifted(perm: tuple[int, ...], nb: int) -> tuple[int, ...]:
    return tuple(range(nb)) + tuple(p + nb for p in perm)


transpose_p = primitive(_transpose, "transpose")
defvjp(transpose_p, lambda g, ans, x, perm: transpose_p(g, perm=tuple(int(i) for i in np.argsort(perm))))
defjvp(transpose_p, lambda t, ans, x, perm: transpose_p(t, perm=_shifted(perm, batch_ndim(t, x))), batched=True)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return np.broadcast_to(x, shape)


broadcast_to_p = primitive(_broadcast_to, "broadcast_to")
defvjp(broadcast_to_p, lambda g, ans, x, shape: unbroadcast(g, x))
defjvp(
    broadcast_to_p,
    lambda t, ans, x, shape: broadcast_to_p(lift(t, x, ans), shape=_batch_shape(t, x) + shape),
    batched=True,
)


def _batch_shape(t: Any, x: Any) -> tuple[int, ...]:
    return shape(t)[: batch_ndim(t, x)]


def _concatenate(*xs: Any, axis: int) -> Any:
    return np.concatenate(xs, axis=axis)


concatenate_p = primitive(_concatenate, "concatenate")


def _concat_vjp(i: int) -> Any:
    from funcgrad.numpy._indexing import getitem_p

    def rule(g: Any, ans: Any, *xs: Any, axis: int) -> Any:
        start = sum(shape(x)[axis] for x in xs[:i])
        stop = start + shape(xs[i])[axis]
        index = (Ellipsis, slice(start, stop)) + (slice(None),) * (-axis - 1)
        return getitem_p(g, index=index)

    return rule


def _concat_jvp(i: int) -> Any:
    def rule(t: Any, ans: Any, *xs: Any, axis: int) -> Any:
        lead = _batch_shape(t, xs[i])
        parts = [t if j == i else np.zeros(lead + shape(x), dtype(t)) for j, x in enumerate(xs)]
        return concatenate_p(*parts, axis=axis)

    return rule


defvjp_variadic(concatenate_p, _concat_vjp)
defjvp_variadic(concatenate_p, _concat_jvp, batched=True)


# --- composites ----------------------------------------------------------------


def move_axes(x: Any, source: Sequence[int] | int, destination: Sequence[int] | int) -> Any:
    """``numpy.moveaxis`` as a transpose."""
    rank = len(shape(x))
    src = [s % rank for s in np.atleast_1d(source).tolist()]
    dst = [d % rank for d in np.atleast_1d(destination).tolist()]
    order = [n for n in range(rank) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if order == list(range(rank)):
        return x
    return transpose_p(x, perm=tuple(order))


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


def operand(a: Any) -> Any:
    from funcgrad.numpy._constructors import operand as as_operand

    return as_operand(a)


def no_out(out: Any) -> None:
    from funcgrad.numpy._constructors import no_out as check

    check(out)


@implements(np.reshape)
def reshape(a: Any, shape: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """``numpy.reshape`` (C order)."""
    if shape is None:
        shape = kwargs.pop("newshape")
    if not isinstance(a, Tracer):
        return np.reshape(a, shape, order=order)
    if order != "C":
        raise NotImplementedError("funcgrad: reshape of traced values supports order='C' only")
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    resolved = np.empty(a.shape, dtype=bool).reshape(target).shape
    if resolved == a.shape:
        return a
    return reshape_p(a, newshape=resolved)


@implements(np.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    """``numpy.ravel``."""
    return reshape(a, (-1,), order=order)


@implements(np.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``."""
    if not isinstance(a, Tracer):
        return np.transpose(a, axes)
    rank = a.ndim
    perm = tuple(range(rank))[::-1] if axes is None else tuple(int(i) % rank for i in axes)
    if perm == tuple(range(rank)):
        return a
    return transpose_p(a, perm=perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``numpy.moveaxis``."""
    if not isinstance(a, Tracer):
        return np.moveaxis(a, source, destination)
    return move_axes(a, source, destination)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``numpy.swapaxes``."""
    if not isinstance(a, Tracer):
        return np.swapaxes(a, axis1, axis2)
    perm = list(range(a.ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """``numpy.squeeze``."""
    if not isinstance(a, Tracer):
        return np.squeeze(a, axis)
    return reshape(a, np.squeeze(np.empty(a.shape, dtype=bool), axis).shape)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """``numpy.expand_dims``."""
    if not isinstance(a, Tracer):
        return np.expand_dims(a, axis)
    return reshape(a, np.expand_dims(np.empty(a.shape, dtype=bool), axis).shape)


@implements(np.broadcast_to)
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """``numpy.broadcast_to``."""
    if not isinstance(array, Tracer):
        return np.broadcast_to(array, shape, subok=subok)
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if target == array.shape:
        return array
    return broadcast_to_p(array, shape=target)


@implements(np.concatenate)
def concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.concatenate``."""
    arrays = [operand(a) for a in arrays]
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.concatenate(arrays, axis=axis, out=out, **kwargs)
    no_out(out)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    rank = len(shape(arrays[0]))
    if rank == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return concatenate_p(*arrays, axis=normalize_axes(axis, rank)[0])


@implements(np.stack)
def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.stack``."""
    arrays = [operand(a) for a in arrays]
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.stack(arrays, axis=axis, out=out, **kwargs)
    no_out(out)
    shapes = {shape(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)
