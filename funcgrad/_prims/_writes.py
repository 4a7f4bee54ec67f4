"""NumPy's writing functions on traced arrays, and the constructors whose arrays may be written.

``numpy.copyto``, ``put``, ``place``, ``putmask``, ``put_along_axis``,
``fill_diagonal``, ``ufunc.at`` and ``x.flat[i] = v`` each become one
functional update of the destination, which is then rebound
(funcgrad/_prims/_inplace.py).  A plain destination that would receive a
traced value cannot hold it: funcgrad's ``TypeError`` names the fixes.

``numpy.zeros_like(x)``, ``numpy.zeros(n, like=x)`` (NEP 35) and their
siblings return a constant of ``x``'s trace, so ``out[i] = traced`` works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors, _values
from funcgrad._prims import _at, _indexing, _inplace, _select, _shape
from funcgrad._prims._dispatch import FUNCTIONS, WRITERS
from funcgrad._trace import Tracer, read_value


def _destination(a: Any, values: Any, name: str) -> bool:
    """Whether ``a`` is traced; a plain ``a`` receiving traced ``values`` is refused."""
    if isinstance(a, Tracer):
        return True
    if isinstance(values, Tracer) or (isinstance(values, (list, tuple)) and any(isinstance(v, Tracer) for v in values)):
        raise _errors.stored_into_plain_array()
    return False


def _flat_set(a: Any, positions: np.ndarray[Any, Any], values: Any) -> None:
    """``a.flat[positions] = values`` (values repeated cyclically as numpy.put does; the last repeat wins)."""
    from_values = _as_array(values)
    count = positions.size
    if _values.size(from_values) != count:
        from_values = _resized(from_values, count)
    flat = _shape.reshape(a, (-1,))
    updated = _at.at(flat)[positions.reshape(-1)].set(_shape.reshape(_inplace._cast(from_values, _values.dtype(a)), (-1,)))
    _inplace.assign(a, _shape.reshape(updated, _values.shape(a)))


def _as_array(values: Any) -> Any:
    if isinstance(values, Tracer):
        return values
    if isinstance(values, (list, tuple)) and any(isinstance(v, Tracer) for v in values):
        return _shape.stack([_as_array(v) for v in values])
    return np.asarray(values)


def _resized(values: Any, count: int) -> Any:
    """``values`` flattened and repeated cyclically to ``count`` entries (``numpy.resize``)."""
    if not isinstance(values, Tracer):
        return np.resize(values, count)
    return _indexing.rearrange(values, np.resize, count)


def _flat_positions(a: Any, index: Any) -> np.ndarray[Any, Any]:
    return np.arange(_values.size(a), dtype=np.intp)[_at.read_index(_at.plain_index(index), "x.flat[index] = v")]


def flat_setitem(a: Any, index: Any, values: Any) -> None:
    """``a.flat[index] = values`` on a traced ``a``."""
    _flat_set(a, np.atleast_1d(_flat_positions(a, index)), values)


def put(a: Any, ind: Any, v: Any, mode: str = "raise") -> None:
    """``numpy.put`` / ``a.put``: ``a.flat[ind] = v``, ``v`` repeated cyclically; ``mode`` as NumPy's."""
    if not _destination(a, v, "put"):
        np.put(a, ind, v, mode=mode)  # type: ignore[arg-type]
        return
    positions = np.asarray(read_value(ind, "numpy.put with traced indices"), dtype=np.intp).reshape(-1)
    size = _values.size(a)
    if mode == "wrap":
        positions = positions % size
    elif mode == "clip":
        positions = np.clip(positions, 0, size - 1)
    elif positions.size and (positions.max() >= size or positions.min() < -size):
        bad = positions[(positions >= size) | (positions < -size)][0]
        raise _errors.put_index(bad, size)
    _flat_set(a, positions % size if size else positions, v)


def place(arr: Any, mask: Any, vals: Any) -> None:
    """``numpy.place``: the entries where ``mask`` is true take ``vals`` in order, repeated cyclically."""
    if not _destination(arr, vals, "place"):
        np.place(arr, mask, vals)
        return
    chosen = np.flatnonzero(np.asarray(read_value(mask, "numpy.place with a traced mask"), dtype=bool))
    if chosen.size and _values.size(_as_array(vals)) == 0:
        raise _errors.place_empty()
    if chosen.size:
        _flat_set(arr, chosen, vals)


def putmask(a: Any, mask: Any, values: Any) -> None:
    """``numpy.putmask``: ``a.flat[n] = values.flat[n % values.size]`` where ``mask.flat[n]``."""
    if not _destination(a, values, "putmask"):
        np.putmask(a, mask, values)
        return
    full = _shape.reshape(_resized(_as_array(values), _values.size(a)), _values.shape(a))
    _inplace.assign(a, _inplace._fitted(a, _select.where(mask, _inplace._cast(full, _values.dtype(a)), a)))


def copyto(dst: Any, src: Any, casting: Any = "same_kind", where: Any = True) -> None:
    """``numpy.copyto``: ``dst[...] = src`` where ``where`` holds, under NumPy's casting rule."""
    if not _destination(dst, src, "copyto"):
        np.copyto(dst, src, casting=casting, where=where)  # type: ignore[arg-type]
        return
    src = _as_array(src)
    kind = _values.dtype(src)
    if not np.can_cast(src if isinstance(src, (int, float, complex)) else kind, _values.dtype(dst), casting):
        raise _errors.copyto_casting(kind, _values.dtype(dst), casting)
    value = _inplace._fitted(dst, src)
    if where is not True:
        value = _select.where(where, value, dst)
    _inplace.assign(dst, value)


def fill_diagonal(a: Any, val: Any, wrap: bool = False) -> None:
    """``numpy.fill_diagonal``: NumPy's own positions (found on a mask), ``val`` repeated cyclically."""
    if not _destination(a, val, "fill_diagonal"):
        np.fill_diagonal(a, val, wrap=wrap)
        return
    mask = np.zeros(_values.shape(a), bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    _flat_set(a, np.flatnonzero(mask), val)


def put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None) -> None:
    """``numpy.put_along_axis``: the positions ``take_along_axis`` would read are written."""
    if not _destination(arr, values, "put_along_axis"):
        np.put_along_axis(arr, indices, values, axis)
        return
    where = np.asarray(read_value(indices, "numpy.put_along_axis with traced indices"))
    grid: Any = np.arange(_values.size(arr), dtype=np.intp).reshape(_values.shape(arr))
    if axis is None:
        grid, axis = grid.reshape(-1), 0
    chosen = np.take_along_axis(grid, where, axis)
    spread = _shape.broadcast_to(_as_array(values), chosen.shape)
    _flat_set(arr, chosen.reshape(-1), spread)


#: ``ufunc.at(a, indices, b)``: the matching unbuffered update of ``x.at[indices]``
_AT_METHODS: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda update, b: update.add(b),
    "subtract": lambda update, b: update.add(-b),
    "multiply": lambda update, b: update.multiply(b),
    "divide": lambda update, b: update.divide(b),
    "true_divide": lambda update, b: update.divide(b),
    "minimum": lambda update, b: update.min(b),
    "maximum": lambda update, b: update.max(b),
}


def ufunc_at(ufunc: Any, a: Any, indices: Any, b: Any = None) -> None:
    """``numpy.<ufunc>.at(a, indices, b)`` on a traced ``a``: repeated indices apply once per occurrence."""
    method = _AT_METHODS.get(ufunc.__name__)
    if method is None or b is None:
        raise _errors.inplace_assignment(f"numpy.{ufunc.__name__}.at")
    if not _destination(a, b, f"{ufunc.__name__}.at"):
        ufunc.at(a, indices, b)
        return
    _inplace.assign(a, _inplace._fitted(a, method(_at.at(a)[indices], b)))


def _where(mask: Any, value: Any, out: Any) -> Any:
    """``where=`` of a ufunc with ``out``: the entries where ``mask`` is false keep ``out``'s values."""
    return _select.where(mask, _inplace._fitted(out, value) if isinstance(out, Tracer) else value, out)


WRITERS.update(
    out=_inplace.write_output, check=_inplace.check_output, at=ufunc_at, where=_where, put_along_axis=put_along_axis
)

for _function, _handler in (
    (np.put, put),
    (np.place, place),
    (np.putmask, putmask),
    (np.copyto, copyto),
    (np.fill_diagonal, fill_diagonal),
    (np.put_along_axis, put_along_axis),
):
    FUNCTIONS[_function] = _handler


# --- constructors whose arrays may be written -------------------------------------------------------------


def _like(numpy_constructor: Callable[..., Any]) -> Callable[..., Any]:
    def construct(like: Any, *args: Any, **kwargs: Any) -> Any:
        return _inplace.writable(numpy_constructor(*args, **kwargs), like)

    return construct


#: NumPy function -> handler ``(traced_self, *args, **kwargs)``, reached before the dispatch table
#: (``numpy.array``/``asarray`` with ``like=`` are added by funcgrad/numpy/_constructors.py, where ``array`` is)
LIKE: dict[Any, Callable[..., Any]] = {
    np.zeros: _like(np.zeros),
    np.ones: _like(np.ones),
    np.empty: _like(np.zeros),  # zeros: an empty array's values are NumPy's accident, a replay's must not be
    np.full: _like(np.full),
    np.identity: _like(np.identity),
    np.eye: _like(np.eye),
}
