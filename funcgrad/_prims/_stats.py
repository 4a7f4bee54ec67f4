"""Statistics: var, std, the NaN-ignoring reductions, median, average.

Everything here is a composition of primitives (``sum``, ``where``,
``getitem``, ...) plus one small primitive, ``std_sqrt``, so each function
is differentiable to any order in both modes, with batched forward rules.

Conventions (also in the docstrings):

* ``std`` at zero variance (a constant slice) has derivative **zero**, not
  ``nan``: ``std_sqrt`` takes the derivative of ``sqrt`` at 0 as 0, the
  minimum-norm subgradient (``fnp.linalg.norm`` does the same at the zero
  vector).  JAX returns ``nan`` there.  No ``RuntimeWarning`` is emitted.
* The ``nan*`` functions give NaN entries a zero derivative and never put a
  NaN into a derivative; a slice with no valid entry (or ``ddof`` at least
  its count) gives the value NumPy gives (``nan``/``inf``) and a zero
  derivative, without a warning.
* ``median`` sends the derivative to the middle element (odd count) or
  half to each of the two middle elements (even count); among tied values
  the one a stable sort puts in the middle receives it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _backends, _errors, _values
from funcgrad._prims import _base, _reductions, _shape, _ufuncs
from funcgrad._prims._at import getitem
from funcgrad._prims._base import kept_shape, stop_gradient, sum_p
from funcgrad._prims._contract import matmul
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._nondiff import all as all_of
from funcgrad._prims._nondiff import any as any_of
from funcgrad._prims._nondiff import argsort
from funcgrad._prims._reductions import _cast, check_kwargs, traced
from funcgrad._prims._shape import asarray, operand
from funcgrad._prims._ufuncs import is_plain
from funcgrad._rules import defbatch, defjvp, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer, full_lower, read_value
from funcgrad._values import dtype, ndim, normalize_axes, shape

__all__ = [
    "mean",
    "var",
    "std",
    "nansum",
    "nanprod",
    "nanmean",
    "nanvar",
    "nanstd",
    "nanmax",
    "nanmin",
    "nancumsum",
    "nancumprod",
    "median",
    "nanmedian",
    "quantile",
    "nanquantile",
    "percentile",
    "nanpercentile",
    "average",
    "cov",
    "corrcoef",
]


# --- sqrt with a zero derivative at zero --------------------------------------------


def _sqrt_slope(ans: Any) -> Any:
    """``1 / (2 sqrt(v))``, taken as 0 where ``sqrt(v) == 0`` (no division by zero)."""
    zero = ans == 0
    return _ufuncs.where(zero, 0.0, 0.5 / _ufuncs.where(zero, 1.0, ans))


std_sqrt = primitive(lambda x: np.sqrt(x), "std_sqrt")
defvjp(std_sqrt, lambda g, ans, x: g * _sqrt_slope(ans))
defjvp(std_sqrt, lambda t, ans, x: t * _sqrt_slope(ans), batched=True)
defbatch(std_sqrt, "elementwise")
defsparsity(std_sqrt, "elementwise")


# --- helpers ---------------------------------------------------------------------


def _real_dtype(x: Any) -> np.dtype[Any]:
    kind = dtype(x)
    return np.finfo(kind).dtype if kind.kind in "fc" else np.dtype(np.float64)


def _where_kw(kwargs: dict[str, Any]) -> Any:
    where = kwargs.get("where")
    if where is None or where is True:
        return None
    return _reductions.as_mask(where)


_broadcast = _reductions.broadcast_mask


def _count(mask: Any, axes: tuple[int, ...], keepdims: bool, kind: Any) -> Any:
    """How many entries of ``mask`` hold along ``axes``, in dtype ``kind``."""
    if is_plain(mask):
        return np.sum(mask, axis=axes, keepdims=keepdims).astype(kind)
    return _base.astype(sum_p(mask, axis=axes, keepdims=keepdims), dtype=np.dtype(kind))


def _combine(mask: Any, where: Any, xshape: tuple[int, ...]) -> Any:
    """The mask of valid entries: ``mask`` and ``where`` (either may be None), at full shape."""
    if mask is None and where is None:
        return None
    if mask is None:
        return _broadcast(where, xshape)
    if where is None:
        return mask
    return mask & _broadcast(where, xshape)


def _fill_bad(out: Any, bad: Any, fill: Any) -> Any:
    """``out`` with the entries where ``bad`` holds replaced by the plain values ``fill`` (zero derivative)."""
    if is_plain(bad) and not np.any(bad):
        return out
    filled = _ufuncs.where(bad, fill, out)
    return numpy_scalar(filled) if ndim(out) == 0 else filled  # as the unfilled value is: NumPy's scalar


def masked_mean(a: Any, mask: Any, axis: Any, keepdims: bool, empty: float = np.nan) -> Any:
    """The mean of the entries of ``a`` where ``mask`` holds (``empty`` for a slice without any)."""
    a = asarray(a)
    mask = _broadcast(mask, shape(a))
    axes = normalize_axes(axis, len(shape(a)))
    count = _count(mask, axes, bool(keepdims), _real_dtype(a))
    total = sum_p(_ufuncs.where(mask, a, 0.0), axis=axes, keepdims=bool(keepdims))
    none = count == 0
    return _fill_bad(total / _ufuncs.where(none, 1, count), none, empty)


def _mean_where(a: Any, where: Any, axis: Any, kind: Any, keepdims: bool) -> Any:
    """``numpy.mean(a, axis, kind, keepdims=keepdims, where=where)`` of a traced ``a`` (or ``where``), as NumPy
    computes it: the masked sum (``sum_where``, NumPy's order) divided by the count of entries as an ``intp``
    (a float32 sum is divided in float64 and rounded back), float16 summed in float32."""
    found = dtype(a)
    back = None
    if kind is None and found.kind in "biu":
        kind = np.float64
    elif kind is None and found == np.float16:
        kind, back = np.float32, found
    a = _cast(a, kind)
    xshape = shape(a)
    axes = normalize_axes(axis, len(xshape))
    where = _broadcast(_reductions.as_mask(where), xshape)
    total = _reductions.sum_where(a, where, axes, keepdims)
    mean = total / _count(where, axes, keepdims, np.intp)
    if dtype(mean) != dtype(total):
        mean = _base.astype(mean, dtype=dtype(total))
    if back is not None:
        mean = _base.astype(mean, dtype=back)
    return mean[()] if not shape(mean) else mean  # one number: a NumPy scalar (a cast gave a 0-d array)


def _variance(a: Any, axis: Any, keepdims: bool, ddof: Any, mask: Any, mean: Any, nan_when_no_dof: bool) -> Any:
    """``sum(|a - mean|**2) / (count - ddof)`` over the entries where ``mask`` holds (all when None)."""
    rank = len(shape(a))
    axes = normalize_axes(axis, rank)
    if mask is None:
        count: Any = int(np.prod([shape(a)[i] for i in axes])) if axes else 1
        if mean is None:
            mean = sum_p(a, axis=axes, keepdims=True) / count if count else np.full(kept_shape(shape(a), axes), np.nan)
        d = a - mean
    else:
        count = _count(mask, axes, bool(keepdims), _real_dtype(a))
        if mean is None:
            mean = masked_mean(a, mask, axes, True, empty=0.0)
        d = _ufuncs.where(mask, a - mean, 0.0)
    if dtype(d).kind != "c":
        square = d * d
    elif mask is None:  # NumPy's var: the squares of the real and imaginary parts, added (not d * conj(d))
        square = _ufuncs.square(_base.real(d)) + _ufuncs.square(_ufuncs.imag(d))
    else:
        square = _base.real(d * _ufuncs.conj(d))
    total = sum_p(square, axis=axes, keepdims=bool(keepdims))
    dof = count - ddof
    if is_plain(dof) and np.all(np.asarray(dof) > 0):
        return total / dof
    bad = _broadcast(dof <= 0, shape(total))
    if nan_when_no_dof:
        fill: Any = np.nan
    else:  # NumPy's var divides by max(count - ddof, 0): nan for a zero sum, inf otherwise
        fill = _ufuncs.where(total == 0, np.nan, np.inf)
    return _fill_bad(total / _ufuncs.where(bad, 1, dof), bad, fill)


def _ddof(name: str, ddof: Any, kwargs: dict[str, Any]) -> Any:
    correction = kwargs.get("correction")
    if correction is None:
        return ddof
    if ddof != 0:
        raise _errors.ddof_and_correction(name)
    return correction


def _var(name: str, a: Any, axis: Any, dtype: Any, ddof: Any, keepdims: bool, kwargs: dict[str, Any], nan: bool) -> Any:
    check_kwargs(name, kwargs, ("where", "mean", "correction"))
    a = asarray(a)
    if dtype is not None:
        a = _base.astype(a, dtype=np.dtype(dtype))
    ddof = _ddof(name, ddof, kwargs)
    mask = None
    if nan:
        isnan = _ufuncs.isnan(a)
        if not is_plain(isnan) or isnan.any():
            mask = ~isnan
            a = _ufuncs.where(isnan, 0.0, a)
    mask = _combine(mask, _where_kw(kwargs), shape(a))
    return _variance(a, axis, keepdims, ddof, mask, kwargs.get("mean"), nan_when_no_dof=nan or mask is not None)


# --- var / std ------------------------------------------------------------------


@implements(np.var)
def var(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """``numpy.var``: ``sum(abs(a - mean)**2) / (n - ddof)``; real for complex input.

    ``where=``, ``mean=`` (a precomputed mean with ``keepdims=True`` shape) and
    ``correction=`` (another name for ``ddof``) are honoured on traced values.

    >>> import funcgrad as fg
    >>> fg.grad(var)(np.array([1.0, 2.0, 3.0]))
    array([-0.66666667,  0.        ,  0.66666667])
    """
    if not traced(a, kwargs.get("mean"), kwargs.get("where")):  # (a traced mask over plain values: ours too)
        return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, var(a=a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))
    return _var("var", a, axis, dtype, ddof, keepdims, kwargs, nan=False)


@implements(np.std)
def std(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """``numpy.std``: ``sqrt(var(a, ...))``.

    At zero variance (a constant slice) the derivative is taken as **zero**
    (a subgradient at the minimum) rather than JAX's ``nan``; no warning is
    emitted.

    >>> import funcgrad as fg
    >>> fg.grad(std)(np.array([1.0, 3.0]))
    array([-0.5,  0.5])
    >>> fg.grad(std)(np.array([2.0, 2.0]))
    array([0., 0.])
    """
    if not traced(a, kwargs.get("mean"), kwargs.get("where")):  # (a traced mask over plain values: ours too)
        return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, std(a=a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))
    return std_sqrt(_var("std", a, axis, dtype, ddof, keepdims, kwargs, nan=False))


# --- NaN-ignoring reductions -------------------------------------------------------


def _without_nan(a: Any, fill: float) -> tuple[Any, Any]:
    """``a`` with NaN entries replaced by ``fill`` (zero derivative there) and the NaN mask."""
    a = asarray(a)
    isnan = _ufuncs.isnan(a) if dtype(a).kind in "fc" else np.zeros(shape(a), bool)
    if is_plain(isnan) and not isnan.any():  # a lazy or traced mask is never tested
        return a, isnan
    return _ufuncs.where(isnan, fill, a), isnan


@implements(np.nansum)
def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.nansum``: NaN entries count as zero and get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(nansum)(np.array([1.0, np.nan, 2.0]))
    array([1., 0., 1.])
    """
    if not isinstance(a, Tracer):
        return np.nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return _reductions.sum(_without_nan(a, 0.0)[0], axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)


@implements(np.nanprod)
def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.nanprod``: NaN entries count as one and get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(nanprod)(np.array([2.0, np.nan, 3.0]))
    array([3., 0., 2.])
    """
    if not isinstance(a, Tracer):
        return np.nanprod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return _reductions.prod(_without_nan(a, 1.0)[0], axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)


@implements(np.nanmean)
def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.nanmean``: the mean of the non-NaN entries; NaN entries get a zero derivative.

    An all-NaN slice gives ``nan`` (as in NumPy, but without a warning) and
    a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(nanmean)(np.array([1.0, np.nan, 2.0]))
    array([0.5, 0. , 0.5])
    """
    if not isinstance(a, Tracer):
        return np.nanmean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, nanmean(a=a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))
    check_kwargs("nanmean", kwargs, ("where",))
    if dtype is not None:
        a = _base.astype(a, dtype=np.dtype(dtype))
    clean, isnan = _without_nan(a, 0.0)
    valid = _combine(~isnan, _where_kw(kwargs), shape(clean))
    return numpy_scalar(masked_mean(clean, valid, axis, keepdims))


@implements(np.nanvar)
def nanvar(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """``numpy.nanvar``: the variance of the non-NaN entries; NaN entries get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(nanvar)(np.array([1.0, np.nan, 3.0]))
    array([-1.,  0.,  1.])
    """
    if not traced(a, kwargs.get("mean"), kwargs.get("where")):  # (a traced mask over plain values: ours too)
        return np.nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, nanvar(a=a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))
    return _var("nanvar", a, axis, dtype, ddof, keepdims, kwargs, nan=True)


@implements(np.nanstd)
def nanstd(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """``numpy.nanstd``: ``sqrt(nanvar(a, ...))``, with a zero derivative at zero variance (see ``std``).

    >>> import funcgrad as fg
    >>> fg.grad(nanstd)(np.array([1.0, np.nan, 3.0]))
    array([-0.5,  0. ,  0.5])
    """
    if not traced(a, kwargs.get("mean"), kwargs.get("where")):  # (a traced mask over plain values: ours too)
        return np.nanstd(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, nanstd(a=a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))
    return std_sqrt(_var("nanstd", a, axis, dtype, ddof, keepdims, kwargs, nan=True))


def _nan_extreme(reduce: Any, fill: float, a: Any, axis: Any, keepdims: bool, kwargs: dict[str, Any]) -> Any:
    clean, isnan = _without_nan(a, fill)
    result = reduce(clean, axis=axis, keepdims=keepdims, **kwargs)
    if "initial" in kwargs or (is_plain(isnan) and not isnan.any()):
        return result
    axes = normalize_axes(axis, len(shape(clean)))
    return _fill_bad(result, all_of(isnan, axis=axes, keepdims=bool(keepdims)), np.nan)


@implements(np.nanmax)
def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.nanmax``: the maximum ignoring NaNs (ties share the derivative as in ``max``).

    An all-NaN slice gives ``nan`` with a zero derivative (NumPy also warns).

    >>> import funcgrad as fg
    >>> fg.grad(nanmax)(np.array([1.0, np.nan, 2.0]))
    array([0., 0., 1.])
    """
    if not isinstance(a, Tracer):
        return np.nanmax(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, nanmax(a=a, axis=axis, keepdims=keepdims, **kwargs))
    return _nan_extreme(_reductions.max, -np.inf, a, axis, keepdims, kwargs)


@implements(np.nanmin)
def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.nanmin``: the minimum ignoring NaNs (ties share the derivative as in ``min``).

    >>> import funcgrad as fg
    >>> fg.grad(nanmin)(np.array([1.0, np.nan, 2.0]))
    array([1., 0., 0.])
    """
    if not isinstance(a, Tracer):
        return np.nanmin(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, nanmin(a=a, axis=axis, keepdims=keepdims, **kwargs))
    return _nan_extreme(_reductions.min, np.inf, a, axis, keepdims, kwargs)


@implements(np.nancumsum)
def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``numpy.nancumsum``: NaN entries count as zero and get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: nancumsum(x)[-1])(np.array([1.0, np.nan, 2.0]))
    array([1., 0., 1.])
    """
    if not isinstance(a, Tracer):
        return np.nancumsum(a, axis=axis, dtype=dtype, out=out)
    return _reductions.cumsum(_without_nan(a, 0.0)[0], axis=axis, dtype=dtype, out=out)


@implements(np.nancumprod)
def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``numpy.nancumprod``: NaN entries count as one and get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: nancumprod(x)[-1])(np.array([2.0, np.nan, 3.0]))
    array([3., 0., 2.])
    """
    if not isinstance(a, Tracer):
        return np.nancumprod(a, axis=axis, dtype=dtype, out=out)
    return _reductions.cumprod(_without_nan(a, 1.0)[0], axis=axis, dtype=dtype, out=out)


# --- median ------------------------------------------------------------------------


def _order(table: Any, skip_nan: bool) -> tuple[Any, Any, Any]:
    """For a ``(rows, n)`` table: its NaN mask, the stable sorting order of each row (NaNs last) and the
    count of entries per row that take part; recorded zero-derivative operations, never read."""
    rows, n = shape(table)
    isnan = _ufuncs.isnan(table) if dtype(table).kind in "fc" else np.zeros((rows, n), bool)
    order = argsort(table, axis=-1, kind="stable")
    count = n - _reductions.sum(isnan, axis=-1) if skip_nan else np.full(rows, n)
    return isnan, order, count


def _median(a: Any, axis: Any, keepdims: bool, skip_nan: bool) -> Any:
    a = asarray(a)
    xshape = shape(a)
    axes = normalize_axes(axis, len(xshape))
    rest = xshape[: len(xshape) - len(axes)] if axes else xshape
    moved = _shape.moveaxis(a, axes, tuple(range(-len(axes), 0))) if axes else a
    rest = shape(moved)[: len(xshape) - len(axes)]
    n = int(np.prod(shape(moved)[len(rest) :]))
    rows = int(np.prod(rest))
    table = _base.reshape_p(moved, newshape=(rows, n))
    isnan, order, count = _order(table, skip_nan)
    row = np.arange(rows)
    low = getitem(order, (row, _ufuncs.maximum(count - 1, 0) // 2))
    high = getitem(order, (row, _ufuncs.maximum(count, 1) // 2 if n > 1 else 0))
    middle = (getitem(table, (row, low)) + getitem(table, (row, high))) / 2.0
    bad = count == 0 if skip_nan else isnan.any(axis=-1)
    middle = _fill_bad(middle, bad, np.nan)
    out_shape = kept_shape(xshape, axes) if keepdims else rest
    return numpy_scalar(_base.reshape_p(middle, newshape=tuple(out_shape)))


@implements(np.median)
def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """``numpy.median``.

    The derivative goes to the middle element (odd count) or half to each of
    the two middle elements (even count); among tied values, to the one a
    stable sort places in the middle.  A slice containing NaN gives ``nan``
    with a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(median)(np.array([3.0, 1.0, 2.0]))
    array([0., 0., 1.])
    >>> fg.grad(median)(np.array([4.0, 1.0, 3.0, 2.0]))
    array([0. , 0. , 0.5, 0.5])
    """
    if not traced(a):
        return np.median(a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims)
    if out is not None:
        return store_out(out, median(a=a, axis=axis, overwrite_input=overwrite_input, keepdims=keepdims))
    return _median(a, axis, keepdims, skip_nan=False)


@implements(np.nanmedian)
def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """``numpy.nanmedian``: the median of the non-NaN entries (derivative as in ``median``).

    >>> import funcgrad as fg
    >>> fg.grad(nanmedian)(np.array([3.0, np.nan, 1.0]))
    array([0.5, 0. , 0.5])
    """
    if not traced(a):
        return np.nanmedian(a, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims)
    if out is not None:
        return store_out(out, nanmedian(a=a, axis=axis, overwrite_input=overwrite_input, keepdims=keepdims))
    return _median(a, axis, keepdims, skip_nan=True)


# --- quantiles --------------------------------------------------------------------

#: method -> (lower index, upper index, weight of the upper one) from the virtual index ``v = q (n - 1)``
_QUANTILE_METHODS: dict[str, Any] = {
    "linear": lambda v: (_ufuncs.floor(v), _ufuncs.floor(v) + 1, None),
    "lower": lambda v: (_ufuncs.floor(v), _ufuncs.floor(v), 0.0),
    "higher": lambda v: (_ufuncs.ceil(v), _ufuncs.ceil(v), 0.0),
    "nearest": lambda v: (_ufuncs.around(v), _ufuncs.around(v), 0.0),
    "midpoint": lambda v: (_ufuncs.floor(v), _ufuncs.ceil(v), _ufuncs.where(v % 1 == 0, 0.0, 0.5)),
}


def _quantile(name: str, a: Any, q: Any, axis: Any, method: str, keepdims: bool, skip_nan: bool) -> Any:
    if method not in _QUANTILE_METHODS:
        raise _errors.quantile_method(name, sorted(_QUANTILE_METHODS), method)
    a = asarray(a)
    qs = _as(q, np.float64)
    if any_of((qs < 0) | (qs > 1)) or any_of(_ufuncs.isnan(qs)):  # Python branches: guards under jit
        raise _errors.quantile_range()
    xshape = shape(a)
    axes = normalize_axes(axis, len(xshape))
    moved = _shape.moveaxis(a, axes, tuple(range(-len(axes), 0))) if axes else a
    rest = shape(moved)[: len(xshape) - len(axes)]
    n = int(np.prod(shape(moved)[len(rest) :]))
    rows = int(np.prod(rest))
    table = _base.reshape_p(moved, newshape=(rows, n))
    isnan, order, count = _order(table, skip_nan)
    last = _ufuncs.maximum(count - 1, 0)
    virtual = _shape.reshape(qs, (-1, 1)) * last  # (number of quantiles, rows)
    low, high, weight = _QUANTILE_METHODS[method](virtual)
    low = _as(_ufuncs.minimum(_ufuncs.maximum(low, 0), last), np.intp)
    high = _as(_ufuncs.minimum(_ufuncs.maximum(high, 0), last), np.intp)
    row = np.arange(rows)
    x_low = getitem(table, (row, getitem(order, (row, low))))
    x_high = getitem(table, (row, getitem(order, (row, high))))
    real = _real_dtype(a)
    if method in ("linear", "midpoint") and type(q) not in (int, float):  # as NumPy: q's precision counts
        real = np.result_type(real, _dtype_of(q) if isinstance(q, Tracer) else np.asarray(q).dtype)
    narrow = None
    if weight is None and type(q) in (int, float) and np.dtype(real).itemsize < 8:
        # NumPy takes a Python q's weight in float64 and hands it to its lerp as a Python float: the weight and
        # one minus it are rounded to the array's precision each, from float64
        weight = _shape.reshape(qs, (-1, 1)) * _as(last, np.float64) - _as(low, np.float64)
        narrow = real
    elif weight is None:  # linear: the weight follows q, so a traced q gets its derivative
        qcol = _shape.reshape(q, (-1, 1)) if isinstance(q, Tracer) else _as(_shape.reshape(qs, (-1, 1)), real)
        weight = qcol * _as(last, real) - _as(low, real)
    else:
        weight = _as(weight, real)
    # NumPy's lerp: from the nearer end, so the weight's rounding matches numpy.quantile's bit for bit
    diff = x_high - x_low
    if narrow is None:
        out = _ufuncs.where(weight >= 0.5, x_high - diff * (1 - weight), x_low + diff * weight)
    else:
        out = _ufuncs.where(
            weight >= 0.5, x_high - diff * _as(1 - weight, narrow), x_low + diff * _as(weight, narrow)
        )
    bad = _broadcast(count == 0 if skip_nan else isnan.any(axis=-1), shape(out))
    out = _fill_bad(out, bad, np.nan)
    out_shape = kept_shape(xshape, axes) if keepdims else rest
    return numpy_scalar(_base.reshape_p(out, newshape=shape(qs) + tuple(out_shape)))


def numpy_scalar(out: Any) -> Any:
    """A 0-d result as the NumPy scalar NumPy's reductions return (``out[()]``, recorded), else ``out``."""
    if ndim(out) == 0 and not isinstance(out, np.generic):
        return getitem_p(out, index=())
    return out


def _as(value: Any, kind: Any) -> Any:
    """``value`` in dtype ``kind``: NumPy for a plain value, the recorded cast for a traced one."""
    if is_plain(value) or isinstance(value, (list, tuple)):
        return np.asarray(value).astype(kind)
    return _base.astype(value, dtype=np.dtype(kind))


@implements(np.quantile)
def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """``numpy.quantile`` for methods linear, lower, higher, nearest and midpoint.

    Differentiable in ``a`` (the derivative goes to the one or two order
    statistics the quantile interpolates) and, for ``method="linear"``, in
    ``q``.  A slice containing NaN gives ``nan`` with a zero derivative.
    ``weights=`` is not supported on traced values.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: quantile(x, 0.25))(np.array([4.0, 1.0, 3.0, 2.0]))
    array([0.  , 0.25, 0.  , 0.75])
    >>> float(fg.grad(lambda q: quantile(np.array([1.0, 3.0]), q))(0.5))
    2.0
    """
    if not traced(a, q):
        extra = {} if weights is None else {"weights": weights}
        return np.quantile(a, q, axis, out, overwrite_input, method, keepdims, **extra)  # type: ignore[call-overload]
    if out is not None:
        result = quantile(a, q, axis, overwrite_input=overwrite_input, method=method, keepdims=keepdims, weights=weights)
        return store_out(out, result)
    if weights is not None:
        raise _errors.quantile_weights("quantile")
    return _quantile("quantile", a, q, axis, method, keepdims, skip_nan=False)


@implements(np.nanquantile)
def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """``numpy.nanquantile``: ``quantile`` of the non-NaN entries (NaN entries get a zero derivative).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: nanquantile(x, 0.5))(np.array([4.0, np.nan, 1.0]))
    array([0.5, 0. , 0.5])
    """
    if not traced(a, q):
        extra = {} if weights is None else {"weights": weights}
        return np.nanquantile(a, q, axis, out, overwrite_input, method, keepdims, **extra)  # type: ignore[call-overload]
    if out is not None:
        result = nanquantile(a, q, axis, overwrite_input=overwrite_input, method=method, keepdims=keepdims, weights=weights)
        return store_out(out, result)
    if weights is not None:
        raise _errors.quantile_weights("nanquantile")
    return _quantile("nanquantile", a, q, axis, method, keepdims, skip_nan=True)


@implements(np.percentile)
def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """``numpy.percentile``: ``quantile(a, q / 100, ...)``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: percentile(x, 50))(np.array([3.0, 1.0, 2.0]))
    array([0., 0., 1.])
    """
    if not traced(a, q):
        extra = {} if weights is None else {"weights": weights}
        return np.percentile(a, q, axis, out, overwrite_input, method, keepdims, **extra)  # type: ignore[call-overload]
    return quantile(a, _scaled(q), axis, out, overwrite_input, method, keepdims, weights=weights)


@implements(np.nanpercentile)
def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    *,
    weights: Any = None,
) -> Any:
    """``numpy.nanpercentile``: ``nanquantile(a, q / 100, ...)``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: nanpercentile(x, 100))(np.array([3.0, np.nan, 2.0]))
    array([1., 0., 0.])
    """
    if not traced(a, q):
        extra = {} if weights is None else {"weights": weights}
        return np.nanpercentile(a, q, axis, out, overwrite_input, method, keepdims, **extra)  # type: ignore[call-overload]
    return nanquantile(a, _scaled(q), axis, out, overwrite_input, method, keepdims, weights=weights)


def _scaled(q: Any) -> Any:
    """Percentages as fractions (``q`` may be traced)."""
    if isinstance(q, Tracer):
        return _ufuncs.divide(q, 100.0)
    if type(q) in (int, float):
        return q / 100
    return np.true_divide(q, 100)


# --- average ---------------------------------------------------------------------


@implements(np.average)
def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: bool = False) -> Any:
    """``numpy.average``: differentiable with respect to both ``a`` and ``weights``.

    With ``returned=True`` the pair ``(average, sum of weights)`` is returned.

    >>> import funcgrad as fg
    >>> a, w = np.array([1.0, 3.0]), np.array([1.0, 3.0])
    >>> fg.grad(lambda a, w: average(a, weights=w), argnums=(0, 1))(a, w)
    (array([0.25, 0.75]), array([-0.375,  0.125]))
    """
    if not traced(a, weights):
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)  # type: ignore[call-overload]
    a = asarray(a)
    xshape = shape(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        total: Any = np.asarray(_values.size(a) / _values.size(avg), dtype=_real_dtype(avg))
    else:
        w = asarray(weights)
        if shape(w) != xshape:
            if axis is None:
                raise _errors.average_needs_axis()
            rank = len(xshape)
            given = [normalize_axes(i, rank)[0] + rank for i in (axis if isinstance(axis, (tuple, list)) else (axis,))]
            if shape(w) != tuple(xshape[i] for i in given):
                raise _errors.average_weights_shape()
            w = _shape.transpose(w, tuple(int(i) for i in np.argsort(given)))
            w = _shape.reshape(w, tuple(n if i in given else 1 for i, n in enumerate(xshape)))
            w = _shape.broadcast_to(w, xshape)
        # as NumPy: the weights are summed in the result's precision (float32 weights, float64 data)
        result = np.result_type(dtype(a), dtype(w), *(("f8",) if dtype(a).kind in "biu" else ()))
        total = _reductions.sum(w, axis=axis, keepdims=keepdims, dtype=result)
        # read, not bool(): a guard under jit, and under vmap one zero-weight example is an error for the batch
        if np.any(read_value(any_of(total == 0.0), "numpy.average: do the weights sum to zero")):
            raise _errors.average_zero_weights()
        avg = _reductions.sum(a * w, axis=axis, keepdims=keepdims) / total
    if not returned:
        return avg
    if shape(total) != shape(avg):
        total = _shape.broadcast_to(total, shape(avg))
    return avg, total


# --- covariance and correlation -----------------------------------------------------


def _rows(a: Any, rowvar: bool, dtype: Any) -> Any:
    """``a`` as a 2-D array with one variable per row (NumPy's ``array(m, ndmin=2)`` and transpose)."""
    x = asarray(a)
    target = np.dtype(dtype) if dtype is not None else np.result_type(_dtype_of(x), np.float64)
    if _dtype_of(x) != target:  # NumPy computes covariances in at least float64
        x = _base.astype(x, dtype=target)
    if len(shape(x)) > 2:
        raise _errors.cov_rank()
    if len(shape(x)) < 2:
        x = _base.reshape_p(x, newshape=(1,) * (2 - len(shape(x))) + shape(x))
    if not rowvar and shape(x)[0] != 1:
        x = _shape.transpose(x)
    return x


@implements(np.cov)
def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
    fweights: Any = None,
    aweights: Any = None,
    *,
    dtype: Any = None,
) -> Any:
    """``numpy.cov``: differentiable in ``m``, ``y`` and ``aweights`` (``fweights`` are counts).

    When the degrees of freedom are not positive the value is NumPy's
    (``inf``/``nan``) with a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: cov(x))(np.array([1.0, 2.0, 4.0]))
    array([-1.33333333, -0.33333333,  1.66666667])
    """
    if not traced(m, y, aweights):
        return np.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)

    x = _rows(m, rowvar, dtype)
    if y is not None:
        x = _shape.concatenate([x, _rows(y, rowvar, dtype)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=np.float64)
    if aweights is not None:
        aw = asarray(aweights)
        w = aw if w is None else w * aw
    if w is None:
        avg = mean(x, axis=1, keepdims=True)
        fact: Any = shape(x)[1] - ddof
    else:
        avg = _shape.reshape(average(x, axis=1, weights=w), (-1, 1))
        w_sum = _reductions.sum(w)
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * _reductions.sum(w * aw) / w_sum
    centered = x - avg
    weighted = centered if w is None else centered * w
    product = matmul(centered, _ufuncs.conj(_shape.transpose(weighted)))
    positive = fact > 0
    if is_plain(positive) and np.all(positive):
        c = product / fact
    else:  # no degrees of freedom: NumPy's division by zero, with a zero derivative

        with np.errstate(divide="ignore", invalid="ignore"):
            c = _ufuncs.where(positive, product / _ufuncs.where(positive, fact, 1.0), stop_gradient(product) / 0.0)
    return _shape.squeeze(c)


def _clip_unit(c: Any) -> Any:
    """Values rounded just past +-1 back to +-1 (as NumPy's ``corrcoef`` does); zero derivative there."""
    over = c > 1
    under = c < -1
    if is_plain(over) and not (over.any() or under.any()):
        return c
    return _ufuncs.where(over, 1.0, _ufuncs.where(under, -1.0, c))


@implements(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """``numpy.corrcoef``: Pearson correlation coefficients, differentiable in ``x`` and ``y``.

    >>> import funcgrad as fg
    >>> x = np.array([[1.0, 2.0, 4.0], [1.0, 3.0, 2.0]])
    >>> g = fg.grad(lambda x: corrcoef(x)[0, 1])(x)
    >>> np.allclose(g.sum(axis=1), 0.0)
    True
    """
    if not traced(x, y):
        return np.corrcoef(x, y, rowvar, dtype=dtype)

    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape(c)) == 0:
        return c / c
    n = shape(c)[0]
    diagonal = getitem_p(c, index=(np.arange(n), np.arange(n)))
    stddev = std_sqrt(_base.real(diagonal))
    constant = stddev == 0  # a constant variable: nan, as in NumPy, with a zero derivative
    stddev = _ufuncs.where(constant, 1.0, stddev)
    c = c / _base.reshape_p(stddev, newshape=(n, 1))
    c = c / _base.reshape_p(stddev, newshape=(1, n))
    if _dtype_of(c).kind == "c":
        c = _clip_unit(_base.real(c)) + 1j * _clip_unit(_ufuncs.imag(c))
    else:
        c = _clip_unit(c)
    return _fill_bad(c, constant[:, None] | constant[None, :], np.nan)


def _dtype_of(x: Any) -> np.dtype[Any]:
    return dtype(x)


@implements(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.mean``; ``where=`` is honoured on traced values.

    >>> import funcgrad as fg
    >>> fg.grad(mean)(np.array([1.0, 2.0, 3.0, 4.0]))
    array([0.25, 0.25, 0.25, 0.25])
    """
    a = operand(a)
    if not isinstance(a, Tracer) and not isinstance(kwargs.get("where"), Tracer):
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    if out is not None:
        return store_out(out, mean(a=a, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))
    check_kwargs("mean", kwargs, ("where",))
    where = kwargs.get("where")
    if where is not None and where is not True:
        return _mean_where(a, where, axis, dtype, bool(keepdims))
    axes = normalize_axes(axis, ndim(a))
    _backends.known_chunks(full_lower(a), "the array whose mean is taken")
    count = int(np.prod([shape(a)[i] for i in axes])) if axes else 1
    total = _reductions.sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    kind = _values.dtype(total)
    if kind.kind != "c":
        return total / count
    # NumPy divides by an intp count: a complex64 sum in complex128 (its complex division), rounded back
    average = _base.astype(total / np.intp(count), dtype=kind)
    return average[()] if not shape(average) else average  # one number: a NumPy scalar (a cast gave a 0-d array)
