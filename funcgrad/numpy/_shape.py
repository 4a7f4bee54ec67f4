"""Shape primitives (reshape, transpose, broadcast_to, concatenate) and their rules.

All are linear, so each forward rule applies the same operation to the
tangent, shifted past its leading batch axes.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from funcgrad._rules import defjvp, defjvp_variadic, defvjp, defvjp_variadic, primitive
from funcgrad.numpy._util import batch_ndim, dtype, lift, shape, unbroadcast


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


def moveaxis(x: Any, source: Sequence[int] | int, destination: Sequence[int] | int) -> Any:
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
