"""``funcgrad.array_api``: the Array API standard (2024.12) over ``funcgrad.numpy``.

A traced value's ``__array_namespace__()`` returns this module, so code
written for the standard (SciPy with ``SCIPY_ARRAY_API=1``, scikit-learn
with ``array_api_dispatch=True``, array-api-extra) runs on traced values and
is differentiated.  Every function takes plain arrays too and then returns
NumPy's result; with a traced argument it records the operation.  It has
``linalg`` and ``fft``, and ``special`` (``funcgrad.scipy.special``, which
SciPy looks up) when SciPy is installed.  See docs/array-api.md.

>>> import numpy as np
>>> import funcgrad as fg
>>> import funcgrad.array_api as xp
>>> def loss(x):
...     ns = x.__array_namespace__()
...     return ns.sum(ns.sort(x, descending=True)[:2] ** 2)
>>> fg.grad(loss)(np.array([1.0, 3.0, 2.0]))
array([0., 6., 4.])
>>> xp.std(np.array([1.0, 2.0, 3.0, 4.0]), correction=1) == np.std([1.0, 2.0, 3.0, 4.0], ddof=1)
np.True_
"""

from __future__ import annotations

import builtins
import importlib
import sys
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
from numpy import (  # noqa: F401  the standard's dtypes and constants are NumPy's
    bool_ as bool,  # noqa: A004
)
from numpy import (
    complex64,
    complex128,
    e,
    float32,
    float64,
    inf,
    int8,
    int16,
    int32,
    int64,
    nan,
    newaxis,
    pi,
    uint8,
    uint16,
    uint32,
    uint64,
)

import funcgrad.numpy as fnp
from funcgrad import _errors
from funcgrad._trace import Tracer
from funcgrad.array_api import _info, _mixed, fft, linalg
from funcgrad.array_api._info import __array_namespace_info__, check_device
from funcgrad.numpy import (
    ArrayTracer,
    abs,
    acos,
    acosh,
    add,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_invert,
    bitwise_left_shift,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    broadcast_to,
    ceil,
    conj,
    copysign,
    cos,
    cosh,
    cumulative_prod,
    cumulative_sum,
    divide,
    equal,
    exp,
    expand_dims,
    expm1,
    flip,
    floor,
    floor_divide,
    greater,
    greater_equal,
    hypot,
    imag,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    matmul,
    matrix_transpose,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    multiply,
    negative,
    nextafter,
    nonzero,
    not_equal,
    positive,
    pow,
    prod,
    real,
    reciprocal,
    remainder,
    repeat,
    round,
    sign,
    signbit,
    sin,
    sinh,
    sqrt,
    square,
    squeeze,
    subtract,
    sum,
    tan,
    tanh,
    tile,
    trunc,
    unstack,
)
from funcgrad.numpy.linalg import vecdot

__array_api_version__ = "2024.12"

__all__ = [
    "__array_api_version__",
    "__array_namespace_info__",
    "abs", "acos", "acosh", "add", "all", "any", "arange", "argmax", "argmin", "argsort", "asarray", "asin",
    "asinh", "astype", "atan", "atan2", "atanh", "bitwise_and", "bitwise_invert", "bitwise_left_shift",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "bool", "broadcast_arrays", "broadcast_to", "can_cast",
    "ceil", "clip", "complex64", "complex128", "concat", "conj", "copysign", "cos", "cosh", "count_nonzero",
    "cumulative_prod", "cumulative_sum", "diff", "divide", "e", "empty", "empty_like", "equal", "exp",
    "expand_dims", "expm1", "eye", "fft", "finfo", "flip", "float32", "float64", "floor", "floor_divide",
    "from_dlpack", "full", "full_like", "greater", "greater_equal", "hypot", "iinfo", "imag", "inf", "int8",
    "int16", "int32", "int64", "isdtype", "isfinite", "isinf", "isnan", "less", "less_equal", "linalg",
    "linspace", "log", "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "matmul", "matrix_transpose", "max", "maximum", "mean", "meshgrid", "min", "minimum",
    "moveaxis", "multiply", "nan", "negative", "newaxis", "nextafter", "nonzero", "not_equal", "ones",
    "ones_like", "permute_dims", "pi", "positive", "pow", "prod", "real", "reciprocal", "remainder", "repeat",
    "reshape", "result_type", "roll", "round", "searchsorted", "sign", "signbit", "sin", "sinh", "sort",
    "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "take", "take_along_axis", "tan", "tanh",
    "tensordot", "tile", "tril", "triu", "trunc", "uint8", "uint16", "uint32", "uint64", "unique_all",
    "unique_counts", "unique_inverse", "unique_values", "unstack", "var", "vecdot", "where", "zeros",
    "zeros_like",
]  # fmt: skip

def __getattr__(name: str) -> ModuleType:
    """``xp.special``: ``funcgrad.scipy.special``, imported on first use (SciPy is an optional extra)."""
    if name == "special":
        try:
            # late: importing SciPy costs time that code never asking for special functions should not pay
            return importlib.import_module("funcgrad.scipy.special")
        except ImportError:  # SciPy is an optional extra: without it the namespace has no special
            pass
    raise _errors.no_attribute("funcgrad.array_api", name)


def _holds_tracer(value: Any) -> builtins.bool:
    if isinstance(value, (list, tuple)):
        return builtins.any(_holds_tracer(v) for v in value)
    return isinstance(value, Tracer)


# --- creation ----------------------------------------------------------------------------------
def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: builtins.bool | None = None) -> Any:
    """The standard's ``asarray``: a traced value (or a list holding some) stays traced.

    >>> asarray([1, 2], dtype=float64)
    array([1., 2.])
    """
    check_device(device)
    if _holds_tracer(obj):
        return fnp.asarray(obj, dtype=dtype)
    return np.asarray(obj, dtype=dtype, copy=copy)


def astype(x: Any, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> Any:
    """``x`` cast to ``dtype`` (differentiable between real and complex floating dtypes).

    >>> astype(np.array([1.5, 2.5]), int32)
    array([1, 2], dtype=int32)
    """
    check_device(device)
    if isinstance(x, Tracer):
        return fnp.astype(x, dtype)
    return x.astype(dtype, copy=copy)


def arange(
    start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None
) -> np.ndarray[Any, Any]:
    """NumPy's ``arange`` (on the CPU).

    >>> arange(3)
    array([0, 1, 2])
    """
    check_device(device)
    return np.arange(start, stop, step, dtype=dtype) if stop is not None else np.arange(start, step=step, dtype=dtype)


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> np.ndarray[Any, Any]:
    """NumPy's ``empty`` (float64 by default, on the CPU)."""
    check_device(device)
    return np.empty(shape, dtype=dtype)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None, device: Any = None) -> Any:
    """NumPy's ``eye`` (on the CPU).

    >>> eye(2, k=1)
    array([[0., 1.],
           [0., 0.]])
    """
    check_device(device)
    return np.eye(n_rows, n_cols, k=k, dtype=dtype)


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """An array of ``fill_value`` (which may be traced: the result is then traced).

    >>> full(2, 3.0)
    array([3., 3.])
    """
    check_device(device)
    if isinstance(fill_value, Tracer):
        return fnp.broadcast_to(fnp.astype(fill_value, dtype) if dtype is not None else fill_value, shape)
    return np.full(shape, fill_value, dtype=dtype)


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> np.ndarray[Any, Any]:
    """NumPy's ``ones`` (on the CPU)."""
    check_device(device)
    return np.ones(shape, dtype=dtype)


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> np.ndarray[Any, Any]:
    """NumPy's ``zeros`` (on the CPU)."""
    check_device(device)
    return np.zeros(shape, dtype=dtype)


from_dlpack = np.from_dlpack


def empty_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """An array shaped as ``x`` (zeros for a traced ``x``: its entries are never read)."""
    check_device(device)
    return fnp.zeros_like(x, dtype=dtype) if isinstance(x, Tracer) else np.empty_like(x, dtype=dtype)


def zeros_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """Zeros shaped as ``x``."""
    check_device(device)
    return fnp.zeros_like(x, dtype=dtype) if isinstance(x, Tracer) else np.zeros_like(x, dtype=dtype)


def ones_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """Ones shaped as ``x``."""
    check_device(device)
    return fnp.ones_like(x, dtype=dtype) if isinstance(x, Tracer) else np.ones_like(x, dtype=dtype)


def full_like(x: Any, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """``fill_value`` shaped as ``x``.

    >>> full_like(np.zeros(2), 5.0)
    array([5., 5.])
    """
    check_device(device)
    if isinstance(x, Tracer) or isinstance(fill_value, Tracer):
        return fnp.full_like(x, fill_value, dtype=dtype)
    return np.full_like(x, fill_value, dtype=dtype)


def linspace(
    start: Any, stop: Any, /, num: int, *, dtype: Any = None, device: Any = None, endpoint: builtins.bool = True
) -> Any:
    """The standard's ``linspace`` (``start``/``stop`` may be traced).

    >>> linspace(0.0, 1.0, 3)
    array([0. , 0.5, 1. ])
    """
    check_device(device)
    return fnp.linspace(start, stop, num, dtype=dtype, endpoint=endpoint)


def meshgrid(*arrays: Any, indexing: str = "xy") -> list[Any]:
    """The standard's ``meshgrid``: a list of arrays.

    >>> [g.shape for g in meshgrid(np.zeros(2), np.zeros(3))]
    [(3, 2), (3, 2)]
    """
    return list(fnp.meshgrid(*arrays, indexing=indexing))


def tril(x: Any, /, *, k: int = 0) -> Any:
    """The lower triangle of the last two axes.

    >>> tril(np.ones((2, 2)))
    array([[1., 0.],
           [1., 1.]])
    """
    return fnp.tril(x, k)


def triu(x: Any, /, *, k: int = 0) -> Any:
    """The upper triangle of the last two axes.

    >>> triu(np.ones((2, 2)))
    array([[1., 1.],
           [0., 1.]])
    """
    return fnp.triu(x, k)


# --- data types --------------------------------------------------------------------------------
def _dtype_of(value: Any) -> Any:
    return value.dtype if isinstance(value, (ArrayTracer, np.ndarray, np.generic)) else value


class finfo_object(NamedTuple):  # noqa: N801  the standard's name
    """The standard's ``finfo``: Python floats, as it asks."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: Any


def isdtype(dtype: Any, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is of ``kind`` (a dtype, a kind name such as ``'real floating'``, or a tuple of them).

    >>> isdtype(float32, "real floating"), isdtype(int8, ("bool", "complex floating"))
    (True, False)
    """
    return np.isdtype(np.dtype(dtype), kind)


def result_type(*arrays_and_dtypes: Any) -> Any:
    """The dtype NumPy's promotion gives (traced values count by their dtype).

    >>> result_type(float32, np.zeros(2, int8))
    dtype('float32')
    """
    return np.result_type(*(_dtype_of(v) for v in arrays_and_dtypes))


def can_cast(from_: Any, to: Any, /) -> builtins.bool:
    """Whether ``from_`` (a dtype or an array, traced or not) casts safely to ``to``.

    >>> can_cast(float32, float64)
    True
    """
    return np.can_cast(_dtype_of(from_), to)


def finfo(type: Any, /) -> finfo_object:  # noqa: A002  the standard's parameter name
    """The limits of a floating dtype (of an array, traced or not), as Python floats.

    >>> finfo(float32).eps == np.finfo(np.float32).eps
    np.True_
    """
    info = np.finfo(_dtype_of(type))
    real = info.dtype
    return finfo_object(
        int(info.bits), float(info.eps), float(info.max), float(info.min), float(info.smallest_normal), real
    )


def iinfo(type: Any, /) -> Any:  # noqa: A002  the standard's parameter name
    """NumPy's ``iinfo`` of a dtype or array (traced or not).

    >>> iinfo(int8).max
    127
    """
    return np.iinfo(_dtype_of(type))


# --- manipulation ------------------------------------------------------------------------------
def concat(arrays: Any, /, *, axis: int | None = 0) -> Any:
    """Join arrays along ``axis`` (``None``: flattened first).

    >>> concat([np.zeros(1), np.ones(2)])
    array([0., 1., 1.])
    """
    if axis is None:
        return fnp.concatenate([fnp.reshape(a, (-1,)) for a in arrays])
    return fnp.concatenate(list(arrays), axis=axis)


def permute_dims(x: Any, /, axes: tuple[int, ...]) -> Any:
    """The axes of ``x`` in the order ``axes``.

    >>> permute_dims(np.zeros((2, 3)), (1, 0)).shape
    (3, 2)
    """
    return fnp.transpose(x, axes)


def reshape(x: Any, /, shape: tuple[int, ...], *, copy: builtins.bool | None = None) -> Any:
    """``x`` with a new shape.

    >>> reshape(np.arange(4), (2, 2)).shape
    (2, 2)
    """
    if copy is False and not isinstance(x, Tracer):
        return np.reshape(x, shape, copy=False)
    return fnp.reshape(x, shape)


def roll(x: Any, /, shift: Any, *, axis: Any = None) -> Any:
    """``x`` rolled by ``shift`` along ``axis``.

    >>> roll(np.arange(3), 1)
    array([2, 0, 1])
    """
    return fnp.roll(x, shift, axis=axis)


def stack(arrays: Any, /, *, axis: int = 0) -> Any:
    """Join arrays along a new ``axis``.

    >>> stack([np.zeros(2), np.ones(2)]).shape
    (2, 2)
    """
    return fnp.stack(list(arrays), axis=axis)


def clip(x: Any, /, min: Any = None, max: Any = None) -> Any:  # noqa: A002  the standard's names
    """``x`` limited to ``[min, max]`` (either may be ``None``); the result keeps ``x``'s dtype.

    >>> clip(np.array([-1.0, 0.5, 2.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    """
    if min is None and max is None:
        return fnp.asarray(x) if isinstance(x, Tracer) else np.asarray(x).copy()
    return fnp.astype(fnp.clip(x, min, max), x.dtype) if isinstance(x, ArrayTracer) else np.clip(x, min, max).astype(
        x.dtype, copy=False
    )


# --- indexing and searching ---------------------------------------------------------------------
def take(x: Any, indices: Any, /, *, axis: int | None = None) -> Any:
    """Entries of ``x`` at ``indices`` along ``axis``.

    >>> take(np.array([5.0, 6.0, 7.0]), np.array([2, 0]))
    array([7., 5.])
    """
    return fnp.take(x, indices, axis=axis)


def take_along_axis(x: Any, indices: Any, /, *, axis: int = -1) -> Any:
    """NumPy's ``take_along_axis``.

    >>> take_along_axis(np.array([[1.0, 2.0]]), np.array([[1, 0]]))
    array([[2., 1.]])
    """
    return fnp.take_along_axis(x, indices, axis)


def where(condition: Any, x1: Any, x2: Any, /) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``.

    >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    return fnp.where(condition, x1, x2)


def searchsorted(x1: Any, x2: Any, /, *, side: str = "left", sorter: Any = None) -> Any:
    """Insertion indices of ``x2`` into the sorted ``x1`` (no derivative).

    >>> searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.5]))
    array([2])
    """
    return fnp.searchsorted(x1, x2, side=side, sorter=sorter)


def diff(x: Any, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None) -> Any:
    """The ``n``-th differences along ``axis``.

    >>> diff(np.array([1.0, 4.0, 9.0]))
    array([3., 5.])
    """
    extra = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    return fnp.diff(x, n=n, axis=axis, **extra)


# --- reductions and searches with the standard's signatures -------------------------------------
def all(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Any:  # noqa: A001
    """Whether every entry (along ``axis``) is true.

    >>> all(np.array([True, False]))
    np.False_
    """
    return fnp.all(x, axis=axis, keepdims=keepdims)


def any(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Any:  # noqa: A001
    """Whether some entry (along ``axis``) is true.

    >>> any(np.array([True, False]))
    np.True_
    """
    return fnp.any(x, axis=axis, keepdims=keepdims)


def argmax(x: Any, /, *, axis: int | None = None, keepdims: builtins.bool = False) -> Any:
    """The index of the largest entry (no derivative).

    >>> argmax(np.array([1.0, 3.0, 2.0]))
    np.int64(1)
    """
    return fnp.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: Any, /, *, axis: int | None = None, keepdims: builtins.bool = False) -> Any:
    """The index of the smallest entry (no derivative).

    >>> argmin(np.array([1.0, 3.0, 2.0]))
    np.int64(0)
    """
    return fnp.argmin(x, axis=axis, keepdims=keepdims)


def count_nonzero(x: Any, /, *, axis: Any = None, keepdims: builtins.bool = False) -> Any:
    """How many entries are not zero (no derivative).

    >>> count_nonzero(np.array([1.0, 0.0, 2.0]))
    np.int64(2)
    """
    return fnp.count_nonzero(x, axis=axis, keepdims=keepdims)


def broadcast_arrays(*arrays: Any) -> list[Any]:
    """The arrays broadcast against each other, as a list.

    >>> [a.shape for a in broadcast_arrays(np.zeros(2), np.zeros((3, 1)))]
    [(3, 2), (3, 2)]
    """
    return list(fnp.broadcast_arrays(*arrays))


# --- sorting -------------------------------------------------------------------------------------
def sort(x: Any, /, *, axis: int = -1, descending: builtins.bool = False, stable: builtins.bool = True) -> Any:
    """``x`` sorted along ``axis``; ties keep their order (``stable``) also when ``descending``.

    >>> sort(np.array([2.0, 3.0, 1.0]), descending=True)
    array([3., 2., 1.])
    """
    kind = "stable" if stable else None
    if not descending:
        return fnp.sort(x, axis=axis, kind=kind)
    return fnp.flip(fnp.sort(fnp.flip(x, axis=axis), axis=axis, kind=kind), axis=axis)


def argsort(x: Any, /, *, axis: int = -1, descending: builtins.bool = False, stable: builtins.bool = True) -> Any:
    """Indices that sort ``x`` along ``axis`` (no derivative); ties in their order when ``stable``.

    >>> argsort(np.array([2.0, 3.0, 1.0]), descending=True)
    array([1, 0, 2])
    """
    kind = "stable" if stable else None
    if not descending:
        return fnp.argsort(x, axis=axis, kind=kind)
    # reversed, sorted stably, reversed back: equal entries keep their original order
    last = fnp.shape(x)[axis] - 1 if fnp.ndim(x) else 0
    return last - fnp.flip(fnp.argsort(fnp.flip(x, axis=axis), axis=axis, kind=kind), axis=axis)


# --- statistics ---------------------------------------------------------------------------------
def std(x: Any, /, *, axis: Any = None, correction: float = 0.0, keepdims: builtins.bool = False) -> Any:
    """The standard deviation with ``correction`` degrees of freedom removed (NumPy's ``ddof``).

    >>> float(std(np.array([1.0, 3.0]), correction=1)) == float(np.sqrt(2.0))
    True
    """
    return fnp.std(x, axis=axis, ddof=correction, keepdims=keepdims)


def var(x: Any, /, *, axis: Any = None, correction: float = 0.0, keepdims: builtins.bool = False) -> Any:
    """The variance with ``correction`` degrees of freedom removed (NumPy's ``ddof``).

    >>> float(var(np.array([1.0, 3.0]), correction=1))
    2.0
    """
    return fnp.var(x, axis=axis, ddof=correction, keepdims=keepdims)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """NumPy's ``tensordot``.

    >>> tensordot(np.ones((2, 3)), np.ones((3, 2)), axes=1).shape
    (2, 2)
    """
    return fnp.tensordot(x1, x2, axes=axes)


# --- sets ----------------------------------------------------------------------------------------
class UniqueAllResult(NamedTuple):
    values: Any
    indices: Any
    inverse_indices: Any
    counts: Any


class UniqueCountsResult(NamedTuple):
    values: Any
    counts: Any


class UniqueInverseResult(NamedTuple):
    values: Any
    inverse_indices: Any


def _unique(x: Any) -> tuple[Any, Any, Any, Any]:
    values, indices, inverse, counts = fnp.unique(
        x, return_index=True, return_inverse=True, return_counts=True, equal_nan=False
    )
    return values, indices, fnp.reshape(inverse, fnp.shape(x)), counts


def unique_all(x: Any, /) -> UniqueAllResult:
    """The unique values (gathered from ``x``: differentiable), first indices, inverse indices and counts.

    >>> unique_all(np.array([2.0, 1.0, 2.0])).counts
    array([1, 2])
    """
    if not isinstance(x, Tracer):
        return UniqueAllResult(*np.unique_all(x))
    return UniqueAllResult(*_unique(x))


def unique_counts(x: Any, /) -> UniqueCountsResult:
    """The unique values and how often each occurs.

    >>> unique_counts(np.array([2.0, 1.0, 2.0])).values
    array([1., 2.])
    """
    if not isinstance(x, Tracer):
        return UniqueCountsResult(*np.unique_counts(x))
    values, _, _, counts = _unique(x)
    return UniqueCountsResult(values, counts)


def unique_inverse(x: Any, /) -> UniqueInverseResult:
    """The unique values and, for each entry of ``x``, the index of its value.

    >>> unique_inverse(np.array([2.0, 1.0, 2.0])).inverse_indices
    array([1, 0, 1])
    """
    if not isinstance(x, Tracer):
        return UniqueInverseResult(*np.unique_inverse(x))
    values, _, inverse, _ = _unique(x)
    return UniqueInverseResult(values, inverse)


def unique_values(x: Any, /) -> Any:
    """The sorted unique values of ``x`` (NaNs distinct).

    >>> unique_values(np.array([2.0, 1.0, 2.0]))
    array([1., 2.])
    """
    if not isinstance(x, Tracer):
        return np.unique_values(x)
    return _unique(x)[0]


# --- the traced array's side of the standard ------------------------------------------------------
def _array_namespace(self: Any, /, *, api_version: str | None = None) -> ModuleType:
    """``x.__array_namespace__()``: this module (the 2021.12 to 2024.12 versions of the standard)."""
    if api_version is not None and api_version not in _VERSIONS:
        raise _errors.unsupported_api_version(api_version, _VERSIONS)
    return _this


def _device(self: Any) -> str:
    """``x.device``: where the value lives (``'cpu'``)."""
    return _info.CPU


def _to_device(self: Any, device: Any, /, *, stream: Any = None) -> Any:
    """``x.to_device(device)``: ``x`` itself on the CPU; another device is refused."""
    check_device(device)
    return self


_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")
_this = sys.modules[__name__]
for _name, _method in {
    "__array_namespace__": _array_namespace,
    "device": property(_device),
    "to_device": _to_device,
}.items():
    setattr(ArrayTracer, _name, _method)
_mixed.install(_this)
