"""What a value is, traced or not: shape, dtype and size queries, stand-ins, and the traced leaves of a call.

The ground floor under the primitives: it imports only ``_trace``, and no query reads a value."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad import _errors
from funcgrad._trace import Tracer, full_lower


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
        raise _errors.undeclared_residual()

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


def batch_ndim(t: Any, x: Any) -> int:
    """How many leading batch axes tangent ``t`` of primal ``x`` carries."""
    return ndim(t) - ndim(x)


def stand_in(x: Any) -> Any:
    """``full_lower(x)`` for NumPy calls that read only a shape and dtype (``zeros_like``, ``np.shape``).

    Under ``vmap`` the lowered value is still a batch; the stand-in is then a
    plain array of one example's shape and dtype (no values are read).
    """
    value = full_lower(x)
    if isinstance(value, Tracer):
        return np.broadcast_to(np.zeros((), dtype(value)), shape(value))
    return value


def is_traced(*values: Any) -> bool:
    """Whether any of ``values`` is traced."""
    return any(isinstance(v, Tracer) for v in values)


def holds_tracer(value: Any) -> bool:
    """Whether ``value`` is traced or a list or tuple holding a traced value (at any depth)."""
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(holds_tracer(v) for v in value)
    return False


class Hole(NamedTuple):
    """Where the ``slot``-th traced argument goes back into a call's template."""

    slot: int


def split_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], Any]:
    """The traced leaves of a call (inside lists and tuples too) and the call with ``Hole``s in their place."""
    leaves: list[Any] = []

    def cut(value: Any) -> Any:
        if isinstance(value, Tracer):
            leaves.append(value)
            return Hole(len(leaves) - 1)
        if isinstance(value, (list, tuple)) and holds_tracer(value):
            return (tuple if isinstance(value, tuple) else list)(cut(v) for v in value)
        return value

    template = (tuple(cut(a) for a in args), tuple((k, cut(v)) for k, v in kwargs.items()))
    return leaves, template


def fill_call(template: Any, arrays: tuple[Any, ...]) -> tuple[list[Any], dict[str, Any]]:
    """The call of ``split_call`` with the (now plain or lower-level) arrays back in the holes."""

    def fill(value: Any) -> Any:
        if type(value) is Hole:
            return arrays[value.slot]
        if isinstance(value, (list, tuple)) and type(value) is not Hole:
            return (tuple if isinstance(value, tuple) else list)(fill(v) for v in value)
        return value

    args, kwargs = template
    return [fill(a) for a in args], {k: fill(v) for k, v in kwargs}
