"""Reductions (sum, prod, max, min, ptp), scans (cumsum, cumprod) and differences (diff, trapezoid).

Primitives take ``axis`` as a sorted tuple of negative axes (see
``normalize_axes``), so the forward rules are right for batched tangents.
Everything that is not a primitive here is a composition of primitives and
is therefore differentiable to any order in both modes.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _base, _nondiff, _shape, _ufuncs
from funcgrad._prims._base import expand_reduced, kept_shape, match_dtype, sum_p
from funcgrad._prims._dispatch import UFUNC_METHODS, UFUNCS, implements, store_out
from funcgrad._prims._indexing import getitem_p, rearrange
from funcgrad._prims._shape import asarray, operand
from funcgrad._prims._ufuncs import mask
from funcgrad._rules import defbatch, defjvp, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer, full_lower
from funcgrad._values import dtype as dtype_of
from funcgrad._values import holds_tracer, ndim, normalize_axes, shape

__all__ = [
    "sum",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "ptp",
    "cumsum",
    "cumprod",
    "cumulative_sum",
    "cumulative_prod",
    "diff",
    "ediff1d",
    "gradient",
    "trapezoid",
]


def _prod(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_others(x: Any, axis: tuple[int, ...]) -> Any:
    """For every element, the product of the other elements along ``axis``.

    Exact when some elements are zero (no division): the product of the
    elements before it times the product of the elements after it, both
    exclusive ``cumprod`` scans, so it costs O(n) memory and differentiates
    again through ``cumprod``'s rules.
    """
    rank = len(shape(x))
    moved = _shape.moveaxis(x, axis, tuple(range(-len(axis), 0)))
    mshape = shape(moved)
    flat = _base.reshape_p(moved, newshape=mshape[: rank - len(axis)] + (-1,))
    before = _shift(cumprod_p(flat, axis=-1), 1, 1.0, -1)
    after = _reverse(_shift(cumprod_p(_reverse(flat, -1), axis=-1), 1, 1.0, -1), -1)
    others = _base.reshape_p(before * after, newshape=mshape)
    return _shape.moveaxis(others, tuple(range(-len(axis), 0)), axis)


prod_p = primitive(_prod, "prod")
defvjp(prod_p, lambda g, ans, x, axis, keepdims: expand_reduced(g, x, axis, keepdims) * _prod_others(x, axis))
defjvp(
    prod_p,
    lambda t, ans, x, axis, keepdims: sum_p(t * _prod_others(x, axis), axis=axis, keepdims=keepdims),
    batched=True,
)
defbatch(prod_p, "leading")
defsparsity(prod_p, "reduce")


def _extreme_weights(ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """Where the extreme value sits; ties share the derivative equally."""
    best = _base.reshape_p(ans, newshape=kept_shape(shape(x), axis))
    # a NaN is the extreme value of its slice, as in NumPy (no test of the values: a Dask array stays lazy)
    hits = mask((x == best) | (_ufuncs.isnan(x) & _ufuncs.isnan(best)), x)
    return hits / sum_p(hits, axis=axis, keepdims=True)


def _extreme(reduce: Any, name: str) -> Any:
    prim = primitive(lambda x, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims), name)
    defvjp(
        prim,
        lambda g, ans, x, axis, keepdims: (
            expand_reduced(g, x, axis, keepdims) * _extreme_weights(ans, x, axis, keepdims)
        ),
    )
    defjvp(
        prim,
        lambda t, ans, x, axis, keepdims: sum_p(
            t * _extreme_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims
        ),
        batched=True,
    )
    defbatch(prim, "leading")
    defsparsity(prim, "reduce", "linear")  # piecewise linear: the extreme element's own
    return prim


max_p = _extreme(np.max, "max")
min_p = _extreme(np.min, "min")


# --- scans ------------------------------------------------------------------------


def along(axis: int, item: Any) -> tuple[Any, ...]:
    """An index applying ``item`` to the (negative) ``axis`` and keeping every other axis."""
    return (Ellipsis, item) + (slice(None),) * (-axis - 1)


def _take(x: Any, axis: int, item: Any) -> Any:
    return getitem_p(x, index=along(axis, item))


def _reverse(x: Any, axis: int) -> Any:
    return _take(x, axis, slice(None, None, -1))


def _shift(x: Any, k: int, fill: float, axis: int) -> Any:
    """``x`` moved ``k`` places up ``axis``; the ``k`` vacated places hold ``fill``."""
    xshape = shape(x)
    n = xshape[axis]
    k = builtins.min(k, n)
    pad_shape = list(xshape)
    pad_shape[axis] = k
    pad = np.full(tuple(pad_shape), fill, dtype_of(x))
    if k == n:
        return pad
    return _shape.concatenate_p(pad, _take(x, axis, slice(0, n - k)), axis=axis)


def linear_scan(a: Any, b: Any, axis: int) -> Any:
    """``s[i] = a[i] * s[i-1] + b[i]`` along ``axis`` (with ``s[-1] = 0``).

    Hillis-Steele: ``log2(n)`` rounds of multiplies, adds and shifts, no
    division, so it is exact with zeros in ``a``; written with primitives, so
    it differentiates again.  ``b`` may carry leading batch axes.
    """
    n = shape(b)[axis]
    k = 1
    while k < n:
        b = b + a * _shift(b, k, 0.0, axis)
        if 2 * k < n:
            a = a * _shift(a, k, 1.0, axis)
        k *= 2
    return b


def _cumsum(x: Any, axis: int) -> Any:
    return np.cumsum(x, axis=axis)


cumsum_p = primitive(_cumsum, "cumsum")
defvjp(cumsum_p, lambda g, ans, x, axis: match_dtype(_reverse(cumsum_p(_reverse(g, axis), axis=axis), axis), x))
defjvp(cumsum_p, lambda t, ans, x, axis: cumsum_p(t, axis=axis), batched=True)
defbatch(cumsum_p, "leading")
defsparsity(cumsum_p, "scan", "linear")


def _cumprod(x: Any, axis: int) -> Any:
    return np.cumprod(x, axis=axis)


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    # d ans[i] / d x[j] = ans[j-1] * x[j+1] * ... * x[i]  (j <= i):
    # the cotangent is ans[j-1] * r[j] with r[j] = g[j] + x[j+1] * r[j+1], a reversed linear scan.
    backward = linear_scan(_shift(_reverse(x, axis), 1, 0.0, axis), _reverse(g, axis), axis)
    return match_dtype(_shift(ans, 1, 1.0, axis) * _reverse(backward, axis), x)


cumprod_p = primitive(_cumprod, "cumprod")
defvjp(cumprod_p, _cumprod_vjp)
# the tangent obeys dans[i] = x[i] * dans[i-1] + ans[i-1] * t[i]
defjvp(cumprod_p, lambda t, ans, x, axis: linear_scan(x, _shift(ans, 1, 1.0, axis) * t, axis), batched=True)
defbatch(cumprod_p, "leading")
defsparsity(cumprod_p, "scan")


# --- public wrappers ------------------------------------------------------------


def _operand(a: Any) -> Any:
    if type(a) is np.ndarray or isinstance(a, Tracer):
        return a  # what operand() returns for them, without its checks
    return operand(a)


def traced(*values: Any) -> bool:
    """Whether any of ``values`` is traced (lists holding traced values count)."""
    return builtins.any(holds_tracer(v) for v in values)


def check_kwargs(name: str, kwargs: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse keyword arguments a traced reduction cannot honour (never silently ignore them)."""
    if not kwargs:
        return
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise _errors.reduction_keywords(name, unknown, allowed)


def _sum_where(x: Any, mask: Any, axis: tuple[int, ...], keepdims: bool, initial: Any) -> Any:
    # the stubs type keepdims only as a literal
    if initial is None:
        return np.add.reduce(x, axis=axis, keepdims=keepdims, where=mask)  # type: ignore[call-overload]
    return np.add.reduce(x, axis=axis, keepdims=keepdims, initial=initial, where=mask)  # type: ignore[call-overload]


def _sum_where_batch(prim: Any, values: list[Any], batched: list[bool], size: int, **params: Any) -> Any:
    x, mask = values
    if not batched[0]:  # a batch of masks over one operand: the operand broadcast to the batch
        x = _base.broadcast_to_p(x, shape=(size, *shape(x)))
    return prim(x, mask, **params)


#: ``numpy.sum(x, where=mask)``: NumPy's masked reduction, which adds in another order than the pairwise sum of
#: ``where(mask, x, 0)`` (most sums of more than a few entries differ in the last bits); ``mask`` has ``x``'s
#: shape, ``initial`` (a number or None) is where NumPy starts the sum
sum_where_p = primitive(_sum_where, "sum_where")
defvjp(
    sum_where_p,
    lambda g, ans, x, mask, axis, keepdims, initial: _ufuncs.where(mask, expand_reduced(g, x, axis, keepdims), 0),
    None,
)
defjvp(
    sum_where_p,
    lambda t, ans, x, mask, axis, keepdims, initial: sum_where_p(t, mask, axis=axis, keepdims=keepdims, initial=None),
    None,
    batched=True,
)
defbatch(sum_where_p, _sum_where_batch)
defsparsity(sum_where_p, "reduce", "linear")


def as_mask(where: Any) -> Any:
    """A ``where=`` mask as a reduction reads it: a traced one as it is (recorded), any other as NumPy's boolean
    array (the caller's own constant, not a traced value: converting it decides nothing a replay could see
    otherwise)."""
    return where if isinstance(where, Tracer) else np.asarray(where, dtype=bool)


def broadcast_mask(mask: Any, xshape: tuple[int, ...]) -> Any:
    """A mask at full shape; a traced one (under ``jit``) through the recorded broadcast."""
    if _ufuncs.is_plain(mask):
        return np.broadcast_to(mask, xshape)
    return mask if shape(mask) == xshape else _base.broadcast_to_p(mask, shape=xshape)


def sum_where(a: Any, where: Any, axis: tuple[int, ...], keepdims: bool, initial: Any = None) -> Any:
    """``numpy.sum(a, axis, keepdims=keepdims, initial=initial, where=where)`` of a traced ``a`` (or ``where``),
    summed in NumPy's order (``sum_where_p``); a traced ``initial`` is added after the sum."""
    mask = broadcast_mask(as_mask(where), shape(a))
    late = isinstance(initial, Tracer)
    total = sum_where_p(a, mask, axis=axis, keepdims=bool(keepdims), initial=None if late else initial)
    return total + initial if late else total


def _masked(a: Any, where: Any, fill: float) -> Any:
    """``a`` with the entries outside the ``where=`` mask replaced by ``fill``."""
    if where is None or where is True:
        return a
    return _ufuncs.where(where if isinstance(where, Tracer) else np.asarray(where, dtype=bool), a, fill)


def _cast(a: Any, dtype: Any) -> Any:
    return a if dtype is None else _base.astype(a, dtype=np.dtype(dtype))


#: (axis argument, rank) -> ``_reduce_axes``'s answer, for hashable axis arguments
_AXES: dict[tuple[Any, int], tuple[int, ...]] = {}


def _reduce_axes(axis: Any, a: Any) -> tuple[int, ...]:
    """``normalize_axes`` for a ufunc reduction: like NumPy, a 0-d array takes an integer axis 0 or -1."""
    rank = ndim(a)
    key = (axis, rank)
    try:
        return _AXES[key]
    except (KeyError, TypeError):  # not seen yet, or a list of axes (unhashable)
        pass
    if rank == 0 and isinstance(axis, (int, np.integer)) and axis in (0, -1):
        axes: tuple[int, ...] = ()
    else:
        axes = normalize_axes(axis, rank)
    if type(axis) in (int, tuple, type(None)) and len(_AXES) < 4096:
        _AXES[key] = axes
    return axes


@implements(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.sum``; ``initial=`` and ``where=`` are honoured on traced values.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: sum(x * x, axis=0).sum())(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    if isinstance(a, Tracer) and dtype is None and out is None and not kwargs:
        return sum_p(a, axis=_reduce_axes(axis, a), keepdims=bool(keepdims))  # the common case of the lines below
    a = _operand(a)
    if not isinstance(a, Tracer) and not isinstance(kwargs.get("where"), Tracer):
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, sum(a=a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))
    check_kwargs("sum", kwargs, ("initial", "where"))
    where = kwargs.get("where")
    if where is not None and where is not True:
        a = _cast(a, dtype)
        return sum_where(a, where, _reduce_axes(axis, a), bool(keepdims), kwargs.get("initial"))
    a = _cast(a, dtype)
    total = sum_p(a, axis=_reduce_axes(axis, a), keepdims=bool(keepdims))
    if kwargs.get("initial") is not None:
        total = total + kwargs["initial"]
    return total


@implements(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.prod``, with an exact derivative even with zeros in the input.

    The derivative with respect to each element is the product of the
    others, computed without division.

    >>> import funcgrad as fg
    >>> fg.grad(prod)(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, prod(a=a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))
    check_kwargs("prod", kwargs, ("initial", "where"))
    a = _masked(_cast(a, dtype), kwargs.get("where"), 1.0)
    axes = _reduce_axes(axis, a)
    result = prod_p(a, axis=axes, keepdims=bool(keepdims)) if axes else a
    if kwargs.get("initial") is not None:
        result = result * kwargs["initial"]
    return result


def _extreme_wrapper(
    name: str, prim: Any, pair: Any, a: Any, axis: Any, out: Any, keepdims: bool, kwargs: dict[str, Any]
) -> Any:
    if out is not None:
        return store_out(out, _extreme_wrapper(name, prim, pair, a, axis, None, keepdims, kwargs))
    check_kwargs(name, kwargs, ("initial", "where"))
    initial = kwargs.get("initial")
    where = kwargs.get("where")
    if where is not None and where is not True:
        if initial is None:
            raise _errors.where_needs_initial(name)
        a = _masked(a, where, initial)
    result = prim(a, axis=_reduce_axes(axis, a), keepdims=bool(keepdims))
    return result if initial is None else pair(result, initial)


@implements(np.max, np.amax)
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.max``.

    At ties the derivative is shared equally among the maxima (each of
    ``k`` tied entries gets ``1/k`` of the cotangent), so the gradient of the
    maximum of a constant vector of length ``n`` is ``1/n`` everywhere.

    >>> import funcgrad as fg
    >>> fg.grad(max)(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return _extreme_wrapper("max", max_p, _ufuncs.maximum, a, axis, out, keepdims, kwargs)


@implements(np.min, np.amin)
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.min``.

    At ties the derivative is shared equally among the minima (each of
    ``k`` tied entries gets ``1/k`` of the cotangent).

    >>> import funcgrad as fg
    >>> fg.grad(min)(np.array([2.0, 1.0, 1.0, 5.0]))
    array([0. , 0.5, 0.5, 0. ])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return _extreme_wrapper("min", min_p, _ufuncs.minimum, a, axis, out, keepdims, kwargs)


amax = max
amin = min


@implements(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """``numpy.ptp``: ``max - min`` (ties share the derivative as in ``max`` and ``min``).

    >>> import funcgrad as fg
    >>> fg.grad(ptp)(np.array([1.0, 4.0, 2.0]))
    array([-1.,  1.,  0.])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    if out is not None:
        return store_out(out, ptp(a=a, axis=axis, keepdims=keepdims))
    return max(a, axis=axis, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


def _scan(prim: Any, a: Any, axis: Any, dtype: Any) -> Any:
    a = _cast(a, dtype)
    if axis is None:
        a = _shape.ravel(a)
        axis = 0
    if ndim(a) == 0:
        # NumPy scans a 0-d array as a 1-element 1-d one (axis 0 or -1)
        normalize_axes(axis, 1)
        a = _shape.ravel(a)
    return prim(a, axis=normalize_axes(axis, ndim(a))[0])


@implements(np.cumsum)
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``numpy.cumsum`` (``axis=None`` scans the flattened array).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: cumsum(x)[1])(np.array([1.0, 2.0, 3.0]))
    array([1., 1., 0.])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.cumsum(a, axis=axis, dtype=dtype, out=out)
    if out is not None:
        return store_out(out, cumsum(a=a, axis=axis, dtype=dtype))
    return _scan(cumsum_p, a, axis, dtype)


@implements(np.cumprod)
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``numpy.cumprod``, with an exact derivative even with zeros in the input.

    The rules use a log-depth linear scan with no division (see
    ``linear_scan``), so zeros give the exact derivative, not ``nan``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: cumprod(x)[2])(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.cumprod(a, axis=axis, dtype=dtype, out=out)
    if out is not None:
        return store_out(out, cumprod(a=a, axis=axis, dtype=dtype))
    return _scan(cumprod_p, a, axis, dtype)


def _cumulative(prim: Any, name: str, identity: float, x: Any, axis: Any, dtype: Any, include_initial: bool) -> Any:
    if axis is None:
        if ndim(x) > 1:
            raise _errors.cumulative_needs_axis(name)
        axis = 0
    out = _scan(prim, x, axis, dtype)
    if include_initial:
        ax = normalize_axes(axis, ndim(x))[0]
        pad_shape = list(shape(out))
        pad_shape[ax] = 1
        out = _shape.concatenate_p(np.full(tuple(pad_shape), identity, dtype_of(out)), out, axis=ax)
    return out


@implements(np.cumulative_sum)
def cumulative_sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None, include_initial: bool = False
) -> Any:
    """``numpy.cumulative_sum`` (the array-API scan; ``include_initial`` prepends 0).

    >>> import funcgrad as fg
    >>> fg.jacfwd(lambda x: cumulative_sum(x, include_initial=True))(np.array([1.0, 2.0]))
    array([[0., 0.],
           [1., 0.],
           [1., 1.]])
    """
    x = _operand(x)
    if not isinstance(x, Tracer):
        return np.cumulative_sum(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)
    if out is not None:
        return store_out(out, cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial))
    return _cumulative(cumsum_p, "cumulative_sum", 0.0, x, axis, dtype, include_initial)


@implements(np.cumulative_prod)
def cumulative_prod(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None, include_initial: bool = False
) -> Any:
    """``numpy.cumulative_prod`` (the array-API scan; ``include_initial`` prepends 1).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: cumulative_prod(x)[-1])(np.array([2.0, 3.0]))
    array([3., 2.])
    """
    x = _operand(x)
    if not isinstance(x, Tracer):
        return np.cumulative_prod(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)
    if out is not None:
        return store_out(out, cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial))
    return _cumulative(cumprod_p, "cumulative_prod", 1.0, x, axis, dtype, include_initial)


class _NoValue:
    """Marks an argument that was not passed (NumPy's ``prepend``/``append`` accept ``None`` as a value)."""

    def __repr__(self) -> str:
        return "<no value>"


_NOVALUE: Any = _NoValue()


def _edge(value: Any, like: Any, axis: int) -> Any:
    """A ``prepend``/``append`` value as an array that concatenates onto ``like`` along ``axis``."""
    value = _operand(value)
    if np.ndim(full_lower(value)) == 0:
        edge_shape = list(shape(like))
        edge_shape[axis] = 1
        return _shape.broadcast_to(value, tuple(edge_shape))
    return value


@implements(np.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NOVALUE, append: Any = _NOVALUE) -> Any:
    """``numpy.diff``: ``n``-th differences along ``axis``; differentiable in ``a``, ``prepend`` and ``append``.

    >>> import funcgrad as fg
    >>> fg.jacrev(diff)(np.array([1.0, 4.0, 9.0]))
    array([[-1.,  1.,  0.],
           [ 0., -1.,  1.]])
    """
    a = _operand(a)
    if not traced(a, prepend, append):
        extra = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not _NOVALUE}
        return np.diff(a, n=n, axis=axis, **extra)
    if n < 0:
        raise _errors.diff_negative_order(n)
    a = asarray(a)
    if np.ndim(full_lower(a)) == 0:
        raise _errors.diff_of_scalar()
    ax = normalize_axes(axis, np.ndim(full_lower(a)))[0]
    if n == 0:
        return a
    parts = []
    if prepend is not _NOVALUE:
        parts.append(_edge(prepend, a, ax))
    parts.append(a)
    if append is not _NOVALUE:
        parts.append(_edge(append, a, ax))
    if len(parts) > 1:
        a = _shape.concatenate(parts, axis=ax)
    for _ in range(n):
        a = _take(a, ax, slice(1, None)) - _take(a, ax, slice(None, -1))
    return a


@implements(np.ediff1d)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """``numpy.ediff1d``: differences of the flattened array; differentiable in all three arguments.

    >>> import funcgrad as fg
    >>> fg.jacfwd(lambda x: ediff1d(x, to_begin=x[0]))(np.array([1.0, 4.0]))
    array([[ 1.,  0.],
           [-1.,  1.]])
    """
    ary = _operand(ary)
    if not traced(ary, to_end, to_begin):
        return np.ediff1d(ary, to_end=to_end, to_begin=to_begin)
    kind = dtype_of(ary)

    def edge(value: Any) -> Any:  # NumPy casts the edges to the array's dtype
        value = _operand(value)
        if not isinstance(value, Tracer):
            return np.ravel(np.asarray(value, dtype=kind))
        return _shape.ravel(value if dtype_of(value) == kind else _base.astype(value, dtype=kind))

    parts = [] if to_begin is None else [edge(to_begin)]
    parts.append(diff(_shape.ravel(ary)))
    if to_end is not None:
        parts.append(edge(to_end))
    return parts[0] if len(parts) == 1 else _shape.concatenate(parts)


def _along_axis(c: Any, ax: int, rank: int) -> Any:
    """A 1-D array of per-position coefficients shaped to broadcast along (negative) axis ``ax``."""
    target = [1] * rank
    target[ax] = -1
    return _shape.reshape(c, tuple(target))


def _gradient_axis(f: Any, spacing: Any, ax: int, edge_order: int) -> Any:
    """``numpy.gradient`` along one axis: second-order central differences inside, one-sided at the edges."""
    rank = ndim(f)
    n = shape(f)[ax]
    if n < edge_order + 1:
        raise _errors.gradient_too_few_points()
    head = [_take(f, ax, slice(i, i + 1)) for i in range(builtins.min(n, 3))]
    tail = [_take(f, ax, slice(n - 3 + i, n - 2 + i)) for i in range(3)] if n > 2 else [None, *head[:2]]
    if np.ndim(full_lower(spacing)) == 0:
        h = spacing
        inner = (_take(f, ax, slice(2, None)) - _take(f, ax, slice(None, -2))) / (2.0 * h)
        if edge_order == 1:
            start = (head[1] - head[0]) / h
            end = (tail[2] - tail[1]) / h
        else:
            start = -(1.5 * head[0] - 2.0 * head[1] + 0.5 * head[2]) / h
            end = (0.5 * tail[0] - 2.0 * tail[1] + 1.5 * tail[2]) / h
    else:
        dx = diff(spacing)
        dx1 = _take(dx, -1, slice(None, -1))
        dx2 = _take(dx, -1, slice(1, None))
        a = _along_axis(-dx2 / (dx1 * (dx1 + dx2)), ax, rank)
        b = _along_axis((dx2 - dx1) / (dx1 * dx2), ax, rank)
        c = _along_axis(dx1 / (dx2 * (dx1 + dx2)), ax, rank)
        inner = a * _take(f, ax, slice(None, -2)) + b * _take(f, ax, slice(1, -1)) + c * _take(f, ax, slice(2, None))
        if edge_order == 1:
            start = (head[1] - head[0]) / dx[0]
            end = (tail[2] - tail[1]) / dx[-1]
        else:
            d1, d2 = dx[0], dx[1]
            start = (
                -(2.0 * d1 + d2) / (d1 * (d1 + d2)) * head[0]
                + (d1 + d2) / (d1 * d2) * head[1]
                - d1 / (d2 * (d1 + d2)) * head[2]
            )
            d1, d2 = dx[-2], dx[-1]
            end = (
                d2 / (d1 * (d1 + d2)) * tail[0]
                - (d2 + d1) / (d1 * d2) * tail[1]
                + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * tail[2]
            )
    return _shape.concatenate([start, inner, end], axis=ax) if n > 2 else _shape.concatenate([start, end], axis=ax)


@implements(np.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """``numpy.gradient``: central differences; differentiable in ``f`` and in the spacings/coordinates.

    Returns one array for one axis, else a tuple (as NumPy does).  A
    traced coordinate array always uses the non-uniform formula, so the
    derivative with respect to the coordinates is right even when they are
    evenly spaced.

    >>> import funcgrad as fg
    >>> fg.jacrev(gradient)(np.array([1.0, 4.0, 9.0]))
    array([[-1. ,  1. ,  0. ],
           [-0.5,  0. ,  0.5],
           [ 0. , -1. ,  1. ]])
    """
    f = _operand(f)
    if not traced(f, *varargs):
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)  # type: ignore[call-overload]
    f = asarray(f)
    rank = ndim(f)
    if axis is None:
        axes = tuple(range(-rank, 0))
    else:  # in the order given, as NumPy returns them
        axes = tuple(normalize_axes(a, rank)[0] for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if edge_order not in (1, 2):
        raise _errors.gradient_edge_order()
    if len(varargs) == 0:
        spacings: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(full_lower(varargs[0])) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = []
        for ax, h in zip(axes, varargs):
            h = _operand(h)
            if np.ndim(full_lower(h)) == 0:
                spacings.append(h)
                continue
            if np.ndim(full_lower(h)) != 1:
                raise _errors.gradient_spacing_rank()
            if shape(h)[0] != shape(f)[ax]:
                raise _errors.gradient_spacing_length()
            if not isinstance(h, Tracer):
                h = np.asarray(h, dtype=np.float64) if np.asarray(h).dtype.kind in "iub" else np.asarray(h)
                steps = np.diff(h)
                if np.all(steps == steps[0]):  # evenly spaced plain coordinates: NumPy's uniform formula
                    h = steps[0]
            spacings.append(h)
    else:
        raise _errors.gradient_spacing_count()
    out = tuple(_gradient_axis(f, h, ax, edge_order) for ax, h in zip(axes, spacings))
    return out[0] if len(out) == 1 else out


@implements(np.trapezoid)
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """``numpy.trapezoid``: the trapezoidal rule along ``axis``; differentiable in ``y``, ``x`` and ``dx``.

    >>> import funcgrad as fg
    >>> fg.grad(trapezoid)(np.array([1.0, 2.0, 3.0]))
    array([0.5, 1. , 0.5])
    """
    y = _operand(y)
    if not traced(y, x, dx):
        return np.trapezoid(y, x=x, dx=dx, axis=axis)
    y = asarray(y)
    ax = normalize_axes(axis, np.ndim(full_lower(y)))[0]
    if x is None:
        d = dx
    else:
        x = asarray(_operand(x))
        if np.ndim(full_lower(x)) == 1:
            d = diff(x)
            d_shape = [1] * np.ndim(full_lower(y))
            d_shape[ax] = shape(d)[0]
            d = _shape.reshape(d, tuple(d_shape))
        else:
            d = diff(x, axis=ax)
    heights = (_take(y, ax, slice(1, None)) + _take(y, ax, slice(None, -1))) / 2.0
    return sum(d * heights, axis=ax)


#: ufunc -> the funcgrad.numpy function that ``ufunc.reduce`` / ``ufunc.accumulate`` is
# --- ufunc methods on traced values: reduce, accumulate, outer --------------------------------

def _log_add_reduce(x: Any, axis: tuple[int, ...], keepdims: bool, base2: bool) -> Any:
    return (np.logaddexp2 if base2 else np.logaddexp).reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]


def _log_add_weights(ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool, base2: bool) -> Any:
    """The softmax along ``axis``: ``exp(x - ans)`` (``2 ** (x - ans)`` in base 2), each element's share."""
    gap = x - _base.reshape_p(ans, newshape=kept_shape(shape(x), axis))
    return _ufuncs.exp2(gap) if base2 else _ufuncs.exp(gap)


#: ``logaddexp.reduce`` / ``logaddexp2.reduce``: NumPy's pairwise log-sum-exp, whose derivative is the softmax
log_add_reduce_p = primitive(_log_add_reduce, "log_add_reduce")
defvjp(log_add_reduce_p, lambda g, ans, x, axis, keepdims, base2: expand_reduced(g, x, axis, keepdims)
       * _log_add_weights(ans, x, axis, keepdims, base2))  # fmt: skip
defjvp(log_add_reduce_p, lambda t, ans, x, axis, keepdims, base2: sum_p(
    t * _log_add_weights(ans, x, axis, keepdims, base2), axis=axis, keepdims=keepdims), batched=True)  # fmt: skip
defbatch(log_add_reduce_p, "leading")
defsparsity(log_add_reduce_p, "reduce")


def _log_add(base2: bool) -> Callable[..., Any]:
    def reduce(array: Any, axis: Any = 0, keepdims: bool = False) -> Any:
        array = operand(array)
        axes = normalize_axes(axis, ndim(array))
        return log_add_reduce_p(array, axis=axes, keepdims=keepdims, base2=base2)

    return reduce


#: ufunc name -> the reduction that ``ufunc.reduce`` is
_REDUCTIONS: dict[str, Callable[..., Any]] = {
    "logaddexp": _log_add(False),
    "logaddexp2": _log_add(True),
    "add": sum,
    "multiply": prod,
    "maximum": max,
    "minimum": min,
    "logical_and": _nondiff.all,
    "logical_or": _nondiff.any,
}
def running_extreme_positions(x: Any, axis: int, ufunc: Any) -> Any:
    """Where ``ufunc.accumulate(x, axis)`` (``maximum``, ``minimum``, ``fmax``, ``fmin``) takes each element
    from: the latest position along ``axis`` that holds the running extreme (a NaN the running value kept
    included).

    >>> running_extreme_positions(np.array([1.0, 3.0, 2.0, 5.0]), 0, np.maximum)
    array([0, 1, 1, 3])
    """
    x = np.asarray(x)
    axis = axis % x.ndim
    running = ufunc.accumulate(x, axis=axis)
    holds = (x == running) | (np.isnan(x) & np.isnan(running)) if x.dtype.kind in "fc" else x == running
    steps = np.arange(x.shape[axis], dtype=np.intp).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return np.maximum.accumulate(np.where(holds, steps, 0), axis=axis)


_running_positions = _nondiff.nondiff_function(running_extreme_positions, dispatch=False)


def _running_positions_batch(prim: Any, values: list[Any], batched: list[bool], size: int, call: Any) -> Any:
    """Over a batch (on the leading axis): the same positions along the shifted axis, one call."""
    (hole, axis, ufunc), kwargs = call
    return prim(values[0], call=((hole, axis % (ndim(values[0]) - 1) + 1, ufunc), kwargs))


defbatch(_running_positions.primitive, _running_positions_batch)  # type: ignore[attr-defined]


def _running_extreme(ufunc: Any) -> Callable[..., Any]:
    def accumulate(array: Any, axis: int = 0, dtype: Any = None) -> Any:
        """``ufunc.accumulate`` of a running extreme: a gather of the elements it keeps (derivative 1 there)."""
        array = operand(array)
        if dtype is not None:
            array = _base.cast(array, dtype)
        return rearrange(array, np.take_along_axis, _running_positions(array, axis, ufunc), axis)

    return accumulate


#: ufunc name -> the cumulative function that ``ufunc.accumulate`` is
_ACCUMULATIONS: dict[str, Callable[..., Any]] = {
    "add": cumsum,
    "multiply": cumprod,
    **{name: _running_extreme(getattr(np, name)) for name in ("maximum", "minimum", "fmax", "fmin")},
}


def _method_function(ufunc: Any, method: str, table: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    function = table.get(ufunc.__name__)
    if function is None:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.{method}")
    return function


def _refuse_keywords(ufunc: Any, method: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise _errors.ufunc_method_keywords(ufunc.__name__, method, sorted(kwargs))


def _reduce(ufunc: Any, array: Any, axis: Any = 0, dtype: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """``ufunc.reduce`` as the matching reduction: ``np.add.reduce`` is ``fnp.sum``, and so on."""
    function = _method_function(ufunc, "reduce", _REDUCTIONS)
    keepdims = bool(kwargs.pop("keepdims", False))
    initial = kwargs.pop("initial", None)
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    _refuse_keywords(ufunc, "reduce", kwargs)
    if out is not None:
        return store_out(out, _reduce(ufunc, array, axis, dtype, keepdims=keepdims, initial=initial))
    if dtype is not None:
        array = _base.astype(array, dtype=np.dtype(dtype)) if isinstance(array, Tracer) else np.asarray(array).astype(dtype)
    result = function(array, axis=axis, keepdims=keepdims)
    return result if initial is None else UFUNCS[ufunc](result, initial)


def _accumulate(ufunc: Any, array: Any, axis: int = 0, dtype: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """``ufunc.accumulate`` as the matching cumulative function: ``np.add.accumulate`` is ``fnp.cumsum``."""
    function = _method_function(ufunc, "accumulate", _ACCUMULATIONS)
    _refuse_keywords(ufunc, "accumulate", kwargs)
    if out is not None:
        return store_out(out, function(array, axis=axis, dtype=dtype))
    return function(array, axis=axis, dtype=dtype)


def _outer(ufunc: Any, a: Any, b: Any, **kwargs: Any) -> Any:
    """``ufunc.outer(a, b)``: ``ufunc`` of ``a`` (with ``b.ndim`` trailing unit axes) and ``b``."""
    function = UFUNCS.get(ufunc)
    if function is None or ufunc.nin != 2:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.outer")
    _refuse_keywords(ufunc, "outer", kwargs)
    a, b = _shape.asarray(a), _shape.asarray(b)
    return function(_shape.reshape(a, shape(a) + (1,) * ndim(b)), b)


UFUNC_METHODS.update(reduce=_reduce, accumulate=_accumulate, outer=_outer)
