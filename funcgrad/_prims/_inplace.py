"""In-place writes on traced arrays, with NumPy's semantics: ``x[idx] = v``, ``x += y``, ``out=``, views.

A traced value is immutable underneath.  A write computes the functional
update (``x.at[idx].set(v)``, ``x + y``, ...) and *rebinds* the Python object
to it: the object keeps its identity, its trace fields become the update's.
Every derivative therefore comes from the update primitives' rules, and
overwritten entries get none.

Views: a basic index (``A[i]``, ``A[:, 0]``), a transpose (``A.T``) or a
reshape that NumPy makes without a copy remembers its base and how it was
taken (a ``Link``).  A write into a view becomes a write into its base, and
then the base's live views (kept as weak references, so a view nobody holds
costs nothing) are read again from it.  An array that is never viewed or
written carries nothing: the ``_alias`` slot stays unset.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors, _values
from funcgrad._prims import _at, _base, _shape
from funcgrad._rules import def_nondiff, defbatch, primitive
from funcgrad._trace import Tracer, innermost, read_value


class Link:
    """How a view is read from its base and written back: a basic ``index``, a ``transpose``, a ``reshape``."""

    __slots__ = ("base", "kind", "arg", "source")

    def __init__(self, base: Any, kind: str, arg: Any, source: Any = None) -> None:
        self.base = base  # a strong reference: NumPy's views keep their base alive too
        self.kind = kind
        self.arg = arg
        #: a reshape whose view-or-copy answer is read only when a write needs it: the base as it was
        self.source = source

    def is_view(self) -> bool:
        """Whether NumPy made a view here (a reshape's answer is read from the memory layout, once)."""
        if self.source is None:
            return True
        shape, order = self.arg
        decision = decided_reshape(self.source, shape, order)
        if decision is None:
            raise _errors.alias_undecided("writing into a reshape of a traced array, or into its base while it is alive")
        self.source = None
        if not decision:
            self.kind = "copy"
        return decision

    def read(self, base: Any) -> Any:
        """The view's value taken from ``base``."""
        if self.kind == "index":
            return _at.getitem(base, self.arg)
        if self.kind == "transpose":
            return _shape.transpose(base, self.arg)
        return _shape.reshape(base, self.arg[0], order=self.arg[1])

    def write(self, base: Any, value: Any) -> Any:
        """``base`` with the view's entries replaced by ``value`` (the view's shape and dtype)."""
        if self.kind == "index":
            return _at.at(base)[self.arg].set(value)
        if self.kind == "transpose":
            return _shape.transpose(value, tuple(np.argsort(self.arg)))
        return _shape.reshape(value, _values.shape(base), order=self.arg[1])


class Alias:
    """What an array knows about sharing: the ``link`` to its base (a view), and its live ``views``."""

    __slots__ = ("link", "views")

    def __init__(self, link: Link | None = None) -> None:
        self.link = link
        self.views: list[weakref.ref[Any]] = []


def alias_of(x: Any) -> Alias | None:
    return getattr(x, "_alias", None)


def track(base: Any, view: Any, kind: str, arg: Any, source: Any = None) -> Any:
    """Record ``view`` (a new traced array) as a view of traced ``base``; returns ``view``."""
    if view is base or not isinstance(view, Tracer) or not isinstance(base, Tracer):
        return view
    alias = getattr(base, "_alias", None)
    if alias is None:
        alias = Alias()
        setattr(base, "_alias", alias)  # noqa: B010  (a slot of the array class, which this module does not import)
    views = alias.views
    if len(views) > 8 and len(views) & (len(views) - 1) == 0:
        views[:] = [ref for ref in views if ref() is not None]  # prune the dead now and then
    views.append(weakref.ref(view))
    setattr(view, "_alias", Alias(Link(base, kind, arg, source)))  # noqa: B010
    return view


def copy_of(x: Any) -> Any:
    """A new traced-array object with ``x``'s value: a write into one never reaches the other."""
    return type(x)(x._value, x._trace, x._payload)


# --- the write ---------------------------------------------------------------------------------


def rebind(x: Any, new: Any) -> None:
    """Make the traced object ``x`` hold ``new`` (same shape and dtype), keeping its identity."""
    if new is x:
        return
    trace = x._trace
    if not (isinstance(new, Tracer) and new._trace is trace):
        if isinstance(new, Tracer) and new._trace.level > trace.level:
            raise _errors.write_outlives_transform(new._trace.level, trace.level)
        new = trace.constant(new)
        if not (isinstance(new, Tracer) and new._trace is trace):
            raise _errors.inplace_assignment(f"writing a {_values.dtype(new)} value into this traced array")
    x._value = new._value
    x._payload = new._payload
    if type(x) is not type(new):
        x.__class__ = type(new)


def refresh(base: Any) -> None:
    """Read every live view of ``base`` (and theirs) again after ``base`` was written."""
    alias = getattr(base, "_alias", None)
    if alias is None or not alias.views:
        return
    live = []
    for ref in alias.views:
        view = ref()
        if view is None:
            continue
        link = view._alias.link
        if link is None or not link.is_view():
            view._alias.link = None  # NumPy copied: the array stands alone
            continue
        live.append(ref)
        rebind(view, link.read(base))
        refresh(view)
    alias.views = live


def settle(base: Any) -> None:
    """Decide, before anything is written, whether each live reshape of ``base`` (and below) is a view."""
    alias = getattr(base, "_alias", None)
    if alias is None:
        return
    for ref in alias.views:
        view = ref()
        if view is not None and view._alias.link is not None:
            if view._alias.link.is_view():
                settle(view)
            else:
                view._alias.link = None  # NumPy copied: the array stands alone


def assign(x: Any, value: Any) -> None:
    """The whole of traced ``x`` becomes ``value`` (already of ``x``'s shape and dtype), through its base."""
    alias = getattr(x, "_alias", None)
    link = alias.link if alias is not None else None
    if link is None:
        settle(x)
        rebind(x, value)
        refresh(x)
        return
    if not link.is_view():
        alias.link = None  # type: ignore[union-attr]  # NumPy copied: the array stands alone
        assign(x, value)
        return
    assign(link.base, link.write(link.base, value))


def _cast(value: Any, kind: np.dtype[Any]) -> Any:
    """``value`` as ``kind`` for storing (NumPy's unsafe cast); plain values are left to NumPy's own cast."""
    value = _shape.operand(value)
    if isinstance(value, Tracer) and _values.dtype(value) != kind:
        return _base.astype(value, dtype=kind)
    return value


def _fitted(x: Any, value: Any) -> Any:
    """``value`` broadcast to ``x``'s shape and cast to its dtype: what a whole-array write stores."""
    value = _cast(value, _values.dtype(x))
    if _values.shape(value) != _values.shape(x):
        value = _shape.broadcast_to(value, _values.shape(x))
    if not isinstance(value, Tracer):
        value = np.array(value, dtype=_values.dtype(x), copy=True)
    return value


def _same_item(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, (Tracer, np.ndarray)):
        return False
    return bool(a == b)


def _same_view(x: Any, index: Any, value: Any) -> bool:
    """``value`` is the live view ``x[index]`` itself (``x[index] += v`` stores the view it just wrote)."""
    alias = getattr(value, "_alias", None)
    if alias is None or alias.link is None:
        return False
    link = alias.link
    if link.base is not x or link.kind != "index":
        return False
    mine = link.arg if isinstance(link.arg, tuple) else (link.arg,)
    given = index if isinstance(index, tuple) else (index,)
    return len(mine) == len(given) and all(_same_item(a, b) for a, b in zip(mine, given))


def setitem(x: Any, index: Any, value: Any) -> None:
    """``x[index] = value`` on traced ``x``: NumPy's semantics, the last of repeated positions wins."""
    if _same_view(x, index, value):
        return
    value = _cast(value, _values.dtype(x))
    assign(x, _at.at(x)[index].set(value))


# --- NumPy's casting and broadcasting checks for outputs -----------------------------------------------

_PYTHON_SCALARS = (bool, int, float, complex)


def _stand_in(value: Any) -> Any:
    """A zero-size array of ``value``'s dtype (a Python scalar stays itself: NumPy types it weakly)."""
    if isinstance(value, _PYTHON_SCALARS):
        return value
    return np.empty((0,), _values.dtype(value))


def check_output(ufunc: Any, inputs: tuple[Any, ...], out: Any, casting: str = "same_kind") -> None:
    """Raise what NumPy raises for ``ufunc(*inputs, out=out)``: a cast ``casting`` forbids, a shape that
    does not broadcast to ``out``'s."""
    kinds = [_stand_in(value) for value in inputs]
    ufunc(*kinds, out=np.empty((0,), _values.dtype(out)), casting=casting)
    shapes = [_values.shape(v) for v in inputs if not isinstance(v, _PYTHON_SCALARS)]
    target = _values.shape(out)
    if np.broadcast_shapes(target, *shapes) != target:
        raise _errors.output_not_broadcastable(target, np.broadcast_shapes(target, *shapes))


def write_output(out: Any, result: Any, casting: str = "unsafe") -> Any:
    """Store ``result`` into ``out`` (traced: rebound; plain: written by NumPy) and return ``out``."""
    if isinstance(out, Tracer):
        assign(out, _fitted(out, result))
        return out
    if isinstance(result, Tracer):
        raise _errors.stored_into_plain_array()
    np.copyto(out, result, casting=casting)  # type: ignore[arg-type]
    return out


def augmented(x: Any, other: Any, ufunc: Any, operation: Callable[[Any, Any], Any]) -> Any:
    """``x op= other``: ``x`` keeps its dtype and shape (NumPy's ``same_kind`` rule) and its identity."""
    check_output(ufunc, (x, other), x)
    assign(x, _fitted(x, operation(x, other)))
    return x


def augmented_matmul(x: Any, other: Any, operation: Callable[[Any, Any], Any]) -> Any:
    """``x @= other``: allowed when the product keeps ``x``'s shape, as in NumPy."""
    result = operation(x, other)
    if _values.shape(result) != _values.shape(x):
        raise _errors.matmul_in_place_shape(_values.shape(result), _values.shape(x))
    np.matmul(np.empty(_values.shape(x)[:-2] + (0, 0), _values.dtype(x)), np.empty((0, 0), _values.dtype(other)),
              out=np.empty(_values.shape(x)[:-2] + (0, 0), _values.dtype(x)), casting="same_kind")  # fmt: skip
    assign(x, _fitted(x, result))
    return x


# --- constants that may be written -------------------------------------------------------------------


def writable(value: Any, like: Any = None) -> Any:
    """``value`` (a new plain array) as a constant of the trace of ``like``, or of the innermost transform
    running in this thread; plain outside every transform (exactly NumPy's array)."""
    trace = like._trace if isinstance(like, Tracer) else innermost()
    if trace is None or not trace.active:
        return value
    return trace.constant(value)


def _shares(a: Any, shape: tuple[int, ...], order: str) -> Any:
    if not isinstance(a, np.ndarray):
        return np.int8(-1)  # another array type (Dask) has no memory layout to read
    return np.int8(np.shares_memory(a.reshape(shape, order=order), a))  # type: ignore[call-overload]


#: whether NumPy's reshape of ``a`` is a view (1), a copy (0), or unknown (-1): recorded, no derivative
reshape_shares_p = primitive(_shares, "reshape_shares")
def_nondiff(reshape_shares_p)
defbatch(reshape_shares_p, "loop")  # each example's own layout: a slice of the batch, as the example is


def decided_reshape(x: Any, shape: tuple[int, ...], order: str) -> bool | None:
    """Whether NumPy's reshape of ``x`` into ``shape`` is a view (True), a copy (False), or cannot be
    decided here (None: the examples of a batch disagree, or the array has no memory layout, as Dask's)."""
    if order not in ("C", "F"):
        return None
    # the layout of the value computed as NumPy computes it: a guard under jit (a replay may get another)
    try:
        shares = int(read_value(reshape_shares_p(x, shape=shape, order=order), "whether numpy.reshape makes a view"))
    except TypeError:
        return None  # the examples of a batch are laid out differently: no one answer
    return None if shares < 0 else bool(shares)


def reshaped(x: Any, result: Any, order: str = "C") -> Any:
    """Track ``result`` (a reshape of traced ``x``, in ``order``) as a view when NumPy would make one."""
    if result is x or not isinstance(x, Tracer):
        return result
    shape = _values.shape(result)
    if tuple(n for n in _values.shape(x) if n != 1) == tuple(n for n in shape if n != 1):
        return track(x, result, "reshape", (shape, order))  # only axes of length one come or go: a view
    # view or copy depends on the memory layout: read only if a write ever needs it (a guard under jit)
    return track(x, result, "reshape", (shape, order), source=copy_of(x))


def _is_integer(item: Any) -> bool:
    if isinstance(item, (bool, np.bool_)):
        return False
    if isinstance(item, (int, np.integer)):
        return True
    if isinstance(item, (Tracer, np.ndarray)):
        return _values.ndim(item) == 0 and _values.dtype(item).kind in "iu"
    return False


def indexed(x: Any, index: Any, result: Any) -> Any:
    """Track ``result = x[index]`` as a view when NumPy makes one: a basic index (integers, slices,
    ``None``, ``...``) that does not pick a single element."""
    if not isinstance(result, Tracer):
        return result
    items = index if isinstance(index, tuple) else (index,)
    integers = 0
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            continue
        if not _is_integer(item):
            return result  # an advanced index copies
        integers += 1
    if integers == len(items) == _values.ndim(x):
        return result  # one element: NumPy returns a scalar, a copy
    return track(x, result, "index", index)


def transposed(x: Any, axes: Any, result: Any) -> Any:
    """Track ``result``, ``x`` with its axes permuted (``axes``; ``None`` reverses them), as a view."""
    rank = _values.ndim(x)
    perm = tuple(range(rank))[::-1] if axes is None else tuple(int(a) % rank for a in axes)
    return track(x, result, "transpose", perm)
