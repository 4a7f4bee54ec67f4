"""Small helpers shared by the derivative rules: shapes, unbroadcast, tangent lifting."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._trace import Tracer, full_lower  # noqa: F401  (full_lower: used by the rules through this module)


class Shaped:
    """What the tape keeps of an array whose value no rule reads: its shape and dtype (see ``defresiduals``)."""

    __slots__ = ("shape", "dtype", "ndim", "size")
    __array_ufunc__ = None  # arithmetic with arrays raises TypeError instead of making object arrays

    def __init__(self, value: np.ndarray[Any, Any]) -> None:
        self.shape = value.shape
        self.dtype = value.dtype
        self.ndim = value.ndim
        self.size = value.size

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "funcgrad internal error: a derivative rule read the value of an array its primitive declared "
            "it does not need (defresiduals); declare it as needed."
        )

    def __repr__(self) -> str:
        return f"Shaped(shape={self.shape}, dtype={self.dtype})"


#: one stand-in per (shape, dtype): they are never changed, so tape nodes share them (no object per node)
_STAND_INS: dict[tuple[Any, ...], Shaped] = {}


def shaped(value: np.ndarray[Any, Any]) -> Shaped:
    """The shared ``Shaped`` stand-in of a plain array.

    >>> shaped(np.zeros((2, 3))) is shaped(np.ones((2, 3)))
    True
    """
    key = (value.shape, value.dtype)
    found = _STAND_INS.get(key)
    if found is None:
        if len(_STAND_INS) > 4096:
            _STAND_INS.clear()  # many distinct shapes: start over rather than grow without bound
        found = _STAND_INS[key] = Shaped(value)
    return found


#: exact types whose ``.shape`` and ``.dtype`` are plain attributes (the fast paths below check these first)
_PLAIN = frozenset({np.ndarray, np.float64, np.float32, np.complex128, np.complex64, Shaped})


def shape(x: Any) -> tuple[int, ...]:
    """The shape of a possibly traced value.

    >>> shape(np.zeros((2, 3))), shape(1.0)
    ((2, 3), ())
    """
    while isinstance(x, Tracer):
        if x._trace.keeps_values:
            return x.shape  # type: ignore[attr-defined, no-any-return]
        x = x._value
    if type(x) in _PLAIN:
        return x.shape  # type: ignore[no-any-return]
    found = getattr(x, "shape", None)
    if type(found) is tuple:
        return found  # another backend's array (Dask, CuPy): np.shape might compute it
    return np.shape(x)


def ndim(x: Any) -> int:
    """The number of axes of a possibly traced value."""
    while isinstance(x, Tracer):
        if x._trace.keeps_values:
            return x.ndim  # type: ignore[attr-defined, no-any-return]
        x = x._value
    if type(x) in _PLAIN:
        return x.ndim  # type: ignore[no-any-return]
    found = getattr(x, "shape", None)
    if type(found) is tuple:
        return len(found)
    return np.ndim(x)


def size(x: Any) -> int:
    """The number of elements of a possibly traced value (without computing a lazy array).

    >>> size(np.zeros((2, 3))), size(1.0)
    (6, 1)
    """
    return int(np.prod(shape(x), dtype=np.int64))


def dtype(x: Any) -> np.dtype[Any]:
    """The dtype of a possibly traced value (NumPy's for Python numbers).

    >>> dtype(np.float32(1.0)), dtype(1.0)
    (dtype('float32'), dtype('float64'))
    """
    while isinstance(x, Tracer):
        x = x._value
    if type(x) in _PLAIN:
        return x.dtype  # type: ignore[no-any-return]
    found = getattr(x, "dtype", None)
    if isinstance(found, np.dtype):
        return found
    return np.result_type(x)


def normalize_axes(axis: Any, rank: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of negative axes.

    Negative axes stay right even when a tangent carries leading batch axes.
    """
    if axis is None:
        return tuple(range(-rank, 0))
    if isinstance(axis, (tuple, list)):
        axes = axis
    else:
        axes = (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -rank <= a < rank:
            raise np.exceptions.AxisError(a, rank)
        out.append(a - rank if a >= 0 else a)
    return tuple(sorted(out))


def match_dtype(value: Any, like: Any) -> Any:
    """Give a cotangent the dtype of the primal it belongs to."""
    target = dtype(like)
    have = dtype(value)
    if have == target and type(value) in (int, float, complex) and target.kind in "fc":
        # a Python scalar is weak in NumPy's promotion: met with a float32 operand later in the sweep
        # it would drop to single precision (1j * g for an np.float64 g is a Python complex)
        return target.type(value)
    if have == target or target.kind not in "fc":
        return value
    from funcgrad._prims import _ufuncs

    if target.kind == "f" and have.kind == "c":
        value = _ufuncs.real(value)
        have = dtype(value)
        if have == target:
            return value
    return _ufuncs.astype(value, dtype=target)


#: (cotangent shape, operand shape) -> the axes ``unbroadcast`` sums: the extra leading ones (dropped),
#: then the operand's broadcast ones (kept)
_SUMMED: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = {}


def _summed_axes(gshape: tuple[int, ...], xshape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    key = (gshape, xshape)
    found = _SUMMED.get(key)
    if found is None:
        extra = len(gshape) - len(xshape)
        lead = tuple(i - len(gshape) for i in range(extra))
        kept = tuple(i - len(xshape) for i, n in enumerate(xshape) if n == 1 and gshape[extra + i] != 1)
        if len(_SUMMED) > 4096:
            _SUMMED.clear()  # many distinct shapes: start over rather than grow without bound
        found = _SUMMED[key] = (lead, kept)
    return found


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum the cotangent ``g`` back to the shape (and dtype) of operand ``x``.

    >>> unbroadcast(np.ones((3, 2)), np.zeros((1, 2)))
    array([[3., 3.]])
    """
    kind = type(x)
    if type(g) is np.ndarray and kind in _PLAIN:
        gshape = g.shape
        if gshape != x.shape and len(gshape) >= len(x.shape):
            # a plain cotangent (exact types: value-independent; traced and Dask values take the primitives
            # below): exactly the reductions ``sum_p`` makes there, without its dispatch
            lead, kept = _summed_axes(gshape, x.shape)
            if lead:
                g = np.add.reduce(g, axis=lead, keepdims=False)
            if kept:
                g = np.add.reduce(g, axis=kept, keepdims=True)
        return g if g.dtype == x.dtype else match_dtype(g, x)
    if type(g) in _PLAIN and kind in _PLAIN and g.shape == x.shape and g.dtype == x.dtype:
        return g  # the common case, decided without a function call
    xshape = shape(x)
    gshape = shape(g)
    if gshape != xshape:
        from funcgrad._prims import _reductions

        lead, kept = _summed_axes(gshape, xshape)
        if lead:
            g = _reductions.sum_p(g, axis=lead, keepdims=False)
        if kept:
            g = _reductions.sum_p(g, axis=kept, keepdims=True)
    return match_dtype(g, x)


def lift(t: Any, x: Any, ans: Any) -> Any:
    """Align the tangent of operand ``x`` with the output ``ans``.

    A tangent may carry leading batch axes; when ``x`` has fewer axes than
    ``ans``, ones are inserted after the batch axes so that broadcasting
    against ``ans``-shaped values lines up.
    """
    nx = ndim(x)
    na = ndim(ans)
    if nx == na:
        return t
    tshape = shape(t)
    nb = len(tshape) - nx
    if nb == 0:
        return t
    from funcgrad._prims import _shape

    return _shape.reshape_p(t, newshape=tshape[:nb] + (1,) * (na - nx) + tshape[nb:])


def broadcast_tangent(t: Any, x: Any, ans: Any) -> Any:
    """Lift ``t`` and broadcast it to the full (batch + output) shape."""
    t = lift(t, x, ans)
    tshape = shape(t)
    # batch axes: a lifted batched tangent has more axes than ans; an unbatched
    # lower-rank one (lift leaves it alone) has fewer, and simply broadcasts
    nb = max(0, len(tshape) - ndim(ans))
    target = tshape[:nb] + shape(ans)
    if tshape == target:
        return t
    from funcgrad._prims import _shape

    return _shape.broadcast_to_p(t, shape=target)


def batch_ndim(t: Any, x: Any) -> int:
    """How many leading batch axes tangent ``t`` of primal ``x`` carries."""
    return ndim(t) - ndim(x)


def batch_align(value: Any, rank: int) -> Any:
    """A batched value (batch axis first, under ``vmap``) with ones inserted after the batch axis,
    so that one example has ``rank`` axes and broadcasts against unbatched operands."""
    from funcgrad._prims import _shape

    s = shape(value)
    missing = rank - (len(s) - 1)
    if missing <= 0:
        return value
    return _shape.reshape_p(value, newshape=s[:1] + (1,) * missing + s[1:])


def broadcast_batch(value: Any, size: int) -> Any:
    """An unbatched value repeated over a leading batch axis of ``size`` (only where a rule must write into it)."""
    from funcgrad._prims import _shape

    s = shape(value)
    return _shape.broadcast_to_p(_shape.reshape_p(value, newshape=(1,) + s), shape=(size,) + s)


def stand_in(x: Any) -> Any:
    """``full_lower(x)`` for NumPy calls that read only a shape and dtype (``zeros_like``, ``np.shape``).

    Under ``vmap`` the lowered value is still a batch; the stand-in is then a
    plain array of one example's shape and dtype (no values are read).
    """
    value = full_lower(x)
    if isinstance(value, Tracer):
        return np.broadcast_to(np.zeros((), dtype(value)), shape(value))
    return value
