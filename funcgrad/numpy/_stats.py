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

from funcgrad import _backends
from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer, full_lower
from funcgrad.numpy import _reductions, _shape, _ufuncs, _util
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._reductions import check_kwargs, kept_shape, sum_p, traced
from funcgrad.numpy._util import dtype, normalize_axes, shape

__all__ = [
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


# --- helpers ---------------------------------------------------------------------


def _real_dtype(x: Any) -> np.dtype[Any]:
    kind = dtype(x)
    return np.finfo(kind).dtype if kind.kind in "fc" else np.dtype(np.float64)


def _asarray(a: Any) -> Any:
    from funcgrad.numpy._constructors import asarray

    return asarray(a)


def _no_out(out: Any) -> None:
    from funcgrad.numpy._constructors import no_out

    no_out(out)


def _where_kw(kwargs: dict[str, Any]) -> Any:
    where = kwargs.get("where")
    return None if where is None or where is True else np.asarray(full_lower(where), dtype=bool)


def _combine(mask: Any, where: Any, xshape: tuple[int, ...]) -> Any:
    """The mask of valid entries: ``mask`` and ``where`` (either may be None), at full shape."""
    if mask is None and where is None:
        return None
    if mask is None:
        return np.broadcast_to(where, xshape)
    if where is None:
        return mask
    return mask & np.broadcast_to(where, xshape)


def _fill_bad(out: Any, bad: Any, fill: Any) -> Any:
    """``out`` with the entries where ``bad`` holds replaced by the plain values ``fill`` (zero derivative)."""
    if not np.any(bad):
        return out
    return _ufuncs.where(bad, fill, out)


def masked_mean(a: Any, mask: Any, axis: Any, keepdims: bool, empty: float = np.nan) -> Any:
    """The mean of the entries of ``a`` where ``mask`` holds (``empty`` for a slice without any)."""
    a = _asarray(a)
    mask = np.broadcast_to(mask, shape(a))
    axes = normalize_axes(axis, len(shape(a)))
    count = np.sum(mask, axis=axes, keepdims=bool(keepdims)).astype(_real_dtype(a))
    total = sum_p(_ufuncs.where(mask, a, 0.0), axis=axes, keepdims=bool(keepdims))
    none = count == 0
    return _fill_bad(total / np.where(none, 1, count), none, empty)


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
        count = np.sum(mask, axis=axes, keepdims=bool(keepdims)).astype(_real_dtype(a))
        if mean is None:
            mean = masked_mean(a, mask, axes, True, empty=0.0)
        d = _ufuncs.where(mask, a - mean, 0.0)
    square = _ufuncs.real(d * _ufuncs.conj(d)) if dtype(d).kind == "c" else d * d
    total = sum_p(square, axis=axes, keepdims=bool(keepdims))
    dof = count - ddof
    if np.all(np.asarray(dof) > 0):
        return total / dof
    bad = np.broadcast_to(np.asarray(dof) <= 0, shape(total))
    if nan_when_no_dof:
        fill: Any = np.nan
    else:  # NumPy's var divides by max(count - ddof, 0): nan for a zero sum, inf otherwise
        fill = np.where(full_lower(total) == 0, np.nan, np.inf)
    return _fill_bad(total / np.where(bad, 1, dof), bad, fill)


def _ddof(name: str, ddof: Any, kwargs: dict[str, Any]) -> Any:
    correction = kwargs.get("correction")
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
    return correction


def _var(name: str, a: Any, axis: Any, dtype: Any, ddof: Any, keepdims: bool, kwargs: dict[str, Any], nan: bool) -> Any:
    check_kwargs(name, kwargs, ("where", "mean", "correction"))
    a = _asarray(a)
    if dtype is not None:
        a = _ufuncs.astype(a, dtype=np.dtype(dtype))
    ddof = _ddof(name, ddof, kwargs)
    mask = None
    if nan:
        isnan = np.isnan(full_lower(a))
        if isnan.any():
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
    if not traced(a, kwargs.get("mean")):
        return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    _no_out(out)
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
    if not traced(a, kwargs.get("mean")):
        return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    _no_out(out)
    return std_sqrt(_var("std", a, axis, dtype, ddof, keepdims, kwargs, nan=False))


# --- NaN-ignoring reductions -------------------------------------------------------


def _without_nan(a: Any, fill: float) -> tuple[Any, Any]:
    """``a`` with NaN entries replaced by ``fill`` (zero derivative there) and the NaN mask."""
    a = _asarray(a)
    isnan = np.isnan(full_lower(a)) if dtype(a).kind in "fc" else np.zeros(shape(a), bool)
    if not _backends.is_foreign(isnan) and not isnan.any():  # a lazy mask is never tested
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
    _no_out(out)
    check_kwargs("nanmean", kwargs, ("where",))
    if dtype is not None:
        a = _ufuncs.astype(a, dtype=np.dtype(dtype))
    clean, isnan = _without_nan(a, 0.0)
    valid = _combine(~isnan, _where_kw(kwargs), shape(clean))
    return masked_mean(clean, valid, axis, keepdims)


@implements(np.nanvar)
def nanvar(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """``numpy.nanvar``: the variance of the non-NaN entries; NaN entries get a zero derivative.

    >>> import funcgrad as fg
    >>> fg.grad(nanvar)(np.array([1.0, np.nan, 3.0]))
    array([-1.,  0.,  1.])
    """
    if not traced(a, kwargs.get("mean")):
        return np.nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    _no_out(out)
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
    if not traced(a, kwargs.get("mean")):
        return np.nanstd(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    _no_out(out)
    return std_sqrt(_var("nanstd", a, axis, dtype, ddof, keepdims, kwargs, nan=True))


def _nan_extreme(reduce: Any, fill: float, a: Any, axis: Any, keepdims: bool, kwargs: dict[str, Any]) -> Any:
    clean, isnan = _without_nan(a, fill)
    result = reduce(clean, axis=axis, keepdims=keepdims, **kwargs)
    if "initial" in kwargs or not isnan.any():
        return result
    axes = normalize_axes(axis, len(shape(clean)))
    return _fill_bad(result, np.all(isnan, axis=axes, keepdims=bool(keepdims)), np.nan)


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
    _no_out(out)
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
    _no_out(out)
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


def _median(a: Any, axis: Any, keepdims: bool, skip_nan: bool) -> Any:
    from funcgrad.numpy._indexing import getitem_p

    a = _asarray(a)
    xshape = shape(a)
    axes = normalize_axes(axis, len(xshape))
    rest = xshape[: len(xshape) - len(axes)] if axes else xshape
    moved = _shape.moveaxis(a, axes, tuple(range(-len(axes), 0))) if axes else a
    rest = shape(moved)[: len(xshape) - len(axes)]
    n = int(np.prod(shape(moved)[len(rest) :]))
    rows = int(np.prod(rest))
    table = _shape.reshape_p(moved, newshape=(rows, n))
    values = full_lower(table)
    isnan = np.isnan(values) if dtype(a).kind in "fc" else np.zeros((rows, n), bool)
    order = np.argsort(values, axis=-1, kind="stable")  # NaNs sort last
    count = n - isnan.sum(axis=-1) if skip_nan else np.full(rows, n)
    row = np.arange(rows)
    low = order[row, np.maximum(count - 1, 0) // 2]
    high = order[row, np.maximum(count, 1) // 2 if n > 1 else 0]
    middle = (getitem_p(table, index=(row, low)) + getitem_p(table, index=(row, high))) / 2.0
    bad = count == 0 if skip_nan else isnan.any(axis=-1)
    middle = _fill_bad(middle, bad, np.nan)
    out_shape = kept_shape(xshape, axes) if keepdims else rest
    return _shape.reshape_p(middle, newshape=tuple(out_shape))


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
    _no_out(out)
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
    _no_out(out)
    return _median(a, axis, keepdims, skip_nan=True)


# --- quantiles --------------------------------------------------------------------

#: method -> (lower index, upper index, weight of the upper one) from the virtual index ``v = q (n - 1)``
_QUANTILE_METHODS: dict[str, Any] = {
    "linear": lambda v: (np.floor(v), np.floor(v) + 1, None),
    "lower": lambda v: (np.floor(v), np.floor(v), 0.0),
    "higher": lambda v: (np.ceil(v), np.ceil(v), 0.0),
    "nearest": lambda v: (np.around(v), np.around(v), 0.0),
    "midpoint": lambda v: (np.floor(v), np.ceil(v), np.where(v % 1 == 0, 0.0, 0.5)),
}


def _quantile(name: str, a: Any, q: Any, axis: Any, method: str, keepdims: bool, skip_nan: bool) -> Any:
    from funcgrad.numpy._indexing import getitem_p

    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(
            f"funcgrad: {name} on traced values supports method={sorted(_QUANTILE_METHODS)}, got {method!r}; "
            "use one of those, or pass the data through fg.stop_gradient if no derivative is needed."
        )
    a = _asarray(a)
    qs = np.asarray(full_lower(q), dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)) or np.isnan(qs).any():
        raise ValueError("Quantiles must be in the range [0, 1]")
    xshape = shape(a)
    axes = normalize_axes(axis, len(xshape))
    moved = _shape.moveaxis(a, axes, tuple(range(-len(axes), 0))) if axes else a
    rest = shape(moved)[: len(xshape) - len(axes)]
    n = int(np.prod(shape(moved)[len(rest) :]))
    rows = int(np.prod(rest))
    table = _shape.reshape_p(moved, newshape=(rows, n))
    values = full_lower(table)
    isnan = np.isnan(values) if dtype(a).kind in "fc" else np.zeros((rows, n), bool)
    order = np.argsort(values, axis=-1, kind="stable")  # NaNs sort last
    count = n - isnan.sum(axis=-1) if skip_nan else np.full(rows, n)
    last = np.maximum(count - 1, 0)
    virtual = qs.reshape(-1, 1) * last  # (number of quantiles, rows)
    low, high, weight = _QUANTILE_METHODS[method](virtual)
    low = np.clip(low, 0, last).astype(np.intp)
    high = np.clip(high, 0, last).astype(np.intp)
    row = np.arange(rows)
    x_low = getitem_p(table, index=(row, order[row, low]))
    x_high = getitem_p(table, index=(row, order[row, high]))
    real = _real_dtype(a)
    if method in ("linear", "midpoint") and type(q) not in (int, float):  # as NumPy: q's precision counts
        real = np.result_type(real, _dtype_of(q) if isinstance(q, Tracer) else np.asarray(q).dtype)
    if weight is None:  # linear: the weight follows q, so a traced q gets its derivative
        qcol = _shape.reshape(q, (-1, 1)) if isinstance(q, Tracer) else qs.reshape(-1, 1).astype(real)
        weight = qcol * last.astype(real) - low.astype(real)
    else:
        weight = np.asarray(weight, dtype=real)
    out = x_low + weight * (x_high - x_low)
    bad = np.broadcast_to(count == 0 if skip_nan else isnan.any(axis=-1), shape(out))
    out = _fill_bad(out, bad, np.nan)
    out_shape = kept_shape(xshape, axes) if keepdims else rest
    return _shape.reshape_p(out, newshape=qs.shape + tuple(out_shape))


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
    _no_out(out)
    if weights is not None:
        raise NotImplementedError(
            "funcgrad: quantile with weights= is not supported on traced values (only method='inverted_cdf' "
            "takes weights, and it is piecewise constant); call it on fg.stop_gradient(a) if no derivative is needed."
        )
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
    _no_out(out)
    if weights is not None:
        raise NotImplementedError(
            "funcgrad: nanquantile with weights= is not supported on traced values (only method='inverted_cdf' "
            "takes weights, and it is piecewise constant); call it on fg.stop_gradient(a) if no derivative is needed."
        )
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
    a = _asarray(a)
    xshape = shape(a)
    if weights is None:
        avg = _reductions.mean(a, axis=axis, keepdims=keepdims)
        total: Any = np.asarray(_util.size(a) / _util.size(avg), dtype=_real_dtype(avg))
    else:
        w = _asarray(weights)
        if shape(w) != xshape:
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            rank = len(xshape)
            given = [normalize_axes(i, rank)[0] + rank for i in (axis if isinstance(axis, (tuple, list)) else (axis,))]
            if shape(w) != tuple(xshape[i] for i in given):
                raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
            w = _shape.transpose(w, tuple(int(i) for i in np.argsort(given)))
            w = _shape.reshape(w, tuple(n if i in given else 1 for i, n in enumerate(xshape)))
            w = _shape.broadcast_to(w, xshape)
        # as NumPy: the weights are summed in the result's precision (float32 weights, float64 data)
        result = np.result_type(dtype(a), dtype(w), *(("f8",) if dtype(a).kind in "biu" else ()))
        total = _reductions.sum(w, axis=axis, keepdims=keepdims, dtype=result)
        if np.any(full_lower(total) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = _reductions.sum(a * w, axis=axis, keepdims=keepdims) / total
    if not returned:
        return avg
    if shape(total) != shape(avg):
        total = _shape.broadcast_to(total, shape(avg))
    return avg, total


# --- covariance and correlation -----------------------------------------------------


def _rows(a: Any, rowvar: bool, dtype: Any) -> Any:
    """``a`` as a 2-D array with one variable per row (NumPy's ``array(m, ndmin=2)`` and transpose)."""
    x = _asarray(a)
    target = np.dtype(dtype) if dtype is not None else np.result_type(_dtype_of(x), np.float64)
    if _dtype_of(x) != target:  # NumPy computes covariances in at least float64
        x = _ufuncs.astype(x, dtype=target)
    if len(shape(x)) > 2:
        raise ValueError("m has more than 2 dimensions")
    if len(shape(x)) < 2:
        x = _shape.reshape_p(x, newshape=(1,) * (2 - len(shape(x))) + shape(x))
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
    from funcgrad.numpy._contract import matmul

    x = _rows(m, rowvar, dtype)
    if y is not None:
        x = _shape.concatenate([x, _rows(y, rowvar, dtype)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=np.float64)
    if aweights is not None:
        aw = _asarray(aweights)
        w = aw if w is None else w * aw
    if w is None:
        avg = _reductions.mean(x, axis=1, keepdims=True)
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
    if np.all(np.asarray(full_lower(fact)) > 0):
        c = product / fact
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            plain = np.asarray(full_lower(product)) / 0.0
        c = _fill_bad(product, np.ones(shape(product), bool), plain)
    return _shape.squeeze(c)


def _clip_unit(c: Any) -> Any:
    """Values rounded just past +-1 back to +-1 (as NumPy's ``corrcoef`` does); zero derivative there."""
    plain = np.asarray(full_lower(c))
    over = plain > 1
    under = plain < -1
    if not (over.any() or under.any()):
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
    from funcgrad.numpy._indexing import getitem_p

    c = cov(x, y, rowvar, dtype=dtype)
    if len(shape(c)) == 0:
        return c / c
    n = shape(c)[0]
    diagonal = getitem_p(c, index=(np.arange(n), np.arange(n)))
    stddev = std_sqrt(_ufuncs.real(diagonal))
    constant = np.asarray(full_lower(stddev)) == 0  # a constant variable: nan, as in NumPy, with a zero derivative
    stddev = _ufuncs.where(constant, 1.0, stddev)
    c = c / _shape.reshape_p(stddev, newshape=(n, 1))
    c = c / _shape.reshape_p(stddev, newshape=(1, n))
    if _dtype_of(c).kind == "c":
        c = _clip_unit(_ufuncs.real(c)) + 1j * _clip_unit(_ufuncs.imag(c))
    else:
        c = _clip_unit(c)
    return _fill_bad(c, constant[:, None] | constant[None, :], np.nan)


def _dtype_of(x: Any) -> np.dtype[Any]:
    return dtype(x)
