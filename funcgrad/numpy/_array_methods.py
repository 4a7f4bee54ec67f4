"""The traced array's NumPy methods (``x.sum()``, ``x.reshape(...)``, ``x.T``, ...), attached from a table.

The array class and its operators live with the primitives (``funcgrad._prims._array``); its
methods are NumPy's signatures, so they live here with the functions they call, and
``attach`` sets each entry of ``METHODS`` on the class (as ``jax.numpy``'s array methods do).

>>> import funcgrad as fg, numpy as np
>>> fg.grad(lambda x: x.reshape(2, 2).T.sum())(np.ones(4))
array([1., 1., 1., 1.])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from funcgrad import _errors
from funcgrad._prims import (
    _at,
    _base,
    _contract,
    _inplace,
    _nondiff,
    _rearrange,
    _reductions,
    _select,
    _shape,
    _stats,
    _ufuncs,
    _writes,
)
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._dispatch import WRITERS
from funcgrad.numpy import _constructors, _extras


class _Methods:
    """A namespace for the method table (a class body, so ``sum`` and ``round`` shadow no builtins here)."""

    @property
    def T(self) -> Any:
        return _inplace.transposed(self, None, _shape.transpose(self))

    @property
    def real(self) -> Any:
        return _base.real(self)

    @property
    def imag(self) -> Any:
        return _ufuncs.imag(self)

    def conj(self) -> Any:
        return _ufuncs.conj(self)

    conjugate = conj

    def astype(self, dtype: Any, **kwargs: Any) -> Any:
        out = _constructors.astype(self, dtype)
        return out.copy() if out is self else out  # a copy, as NumPy's default copy=True

    def copy(self, order: str = "K") -> Any:
        """A new array object with this value: a write into one never reaches the other."""
        return _inplace.copy_of(self)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _inplace.reshaped(self, _shape.reshape(self, shape, order=order), order)

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _inplace.transposed(self, axes or None, _shape.transpose(self, axes or None))

    def ravel(self, order: str = "C") -> Any:
        return _inplace.reshaped(self, _shape.ravel(self, order=order), order)

    def flatten(self, order: str = "C") -> Any:
        out = _shape.ravel(self, order=order)
        return out.copy() if out is self else out  # always a copy, as NumPy's

    def squeeze(self, axis: Any = None) -> Any:
        return _inplace.reshaped(self, _shape.squeeze(self, axis=axis))

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _reductions.sum(self, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _stats.mean(self, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _reductions.prod(self, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs))

    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _reductions.max(self, axis=axis, keepdims=keepdims, **kwargs))

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _reductions.min(self, axis=axis, keepdims=keepdims, **kwargs))

    def var(
        self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
    ) -> Any:
        return _written(out, _stats.var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))

    def std(
        self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False, **kwargs: Any
    ) -> Any:
        return _written(out, _stats.std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **kwargs))

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return _written(out, _reductions.cumsum(self, axis=axis, dtype=dtype))

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return _written(out, _reductions.cumprod(self, axis=axis, dtype=dtype))

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any) -> Any:
        return _written(out, _ufuncs.clip(self, min, max, **kwargs))

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        return _ufuncs.round(self, decimals, out)

    def argmax(self, axis: Any = None, out: Any = None, **kwargs: Any) -> Any:
        return _written(out, _nondiff.argmax(self, axis=axis, **kwargs))

    def argmin(self, axis: Any = None, out: Any = None, **kwargs: Any) -> Any:
        return _written(out, _nondiff.argmin(self, axis=axis, **kwargs))

    def argsort(self, axis: Any = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> Any:
        return _nondiff.argsort(self, axis=axis, kind=kind, order=order, **kwargs)

    def nonzero(self) -> Any:
        return _nondiff.nonzero(self)

    def any(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _nondiff.any(self, axis=axis, keepdims=keepdims, **kwargs))

    def all(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
        return _written(out, _nondiff.all(self, axis=axis, keepdims=keepdims, **kwargs))

    def dot(self, other: Any) -> Any:
        return _contract.dot(self, other)

    def swapaxes(self: Any, axis1: int, axis2: int) -> Any:
        result = _shape.swapaxes(self, axis1, axis2)  # NumPy's axis checks first
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return _inplace.transposed(self, axes, result)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
        return _written(out, _select.take(self, indices, axis=axis, mode=mode))

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return _rearrange.repeat(self, repeats, axis=axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return _select.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
        return _written(out, _select.trace(self, offset, axis1, axis2, dtype=dtype))

    def sort(self, axis: int = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> None:
        _inplace.assign(self, _select.sort(self, axis, kind, order, **kwargs))

    def put(self, indices: Any, values: Any, mode: str = "raise") -> None:
        _writes.put(self, indices, values, mode)

    def fill(self, value: Any) -> None:
        _inplace.setitem(self, Ellipsis, value)

    def partition(self, kth: Any, axis: int = -1, kind: str = "introselect", order: Any = None) -> None:
        _inplace.assign(self, _select.partition(self, kth, axis, kind, order))

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Any:
        return _written(out, _rearrange.compress(condition, self, axis=axis))

    # ndarray attributes found missing by tests/test_surface.py
    @property
    def mT(self) -> Any:
        return _extras.matrix_transpose(self)

    @property
    def itemsize(self: Any) -> int:
        return int(self.dtype.itemsize)

    @property
    def nbytes(self: Any) -> int:
        return self.size * self.itemsize

    @property
    def flat(self) -> _FlatIndexer:
        return _FlatIndexer(self)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            raise _errors.view_dtype()
        return _inplace.indexed(self, Ellipsis, _at.getitem(self, Ellipsis))

    def argpartition(self, kth: Any, axis: Any = -1, kind: Any = "introselect", order: Any = None) -> Any:
        return _nondiff.argpartition(self, kth, axis=axis, kind=kind, order=order)

    def searchsorted(self, v: Any, side: Any = "left", sorter: Any = None) -> Any:
        return _nondiff.searchsorted(self, v, side=side, sorter=sorter)

    def resize(self, *args: Any, **kwargs: Any) -> None:
        raise _errors.resize_in_place()


class _FlatIndexer:
    """``x.flat`` of a traced array: ``x.flat[idx]`` reads ``ravel(x)[idx]``; assignment is refused."""

    def __init__(self, array: Any) -> None:
        self._array = array

    def __getitem__(self, index: Any) -> Any:
        return _shape.ravel(self._array)[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        _writes.flat_setitem(self._array, index, value)

    def __len__(self) -> int:
        return self._array.size

    def __iter__(self) -> Iterator[Any]:
        return iter(_shape.ravel(self._array))


def _written(out: Any, result: Any) -> Any:
    """An array method's ``out=``: ``result`` written into ``out`` (NumPy's unsafe cast), or returned."""
    return result if out is None else WRITERS["out"](out, result, "unsafe")


#: method (or property) name -> what ``ArrayTracer`` gets under that name
METHODS: dict[str, Any] = {name: value for name, value in vars(_Methods).items() if not name.startswith("__")}


def attach(cls: type = ArrayTracer) -> None:
    """Set every entry of ``METHODS`` on ``cls`` (the traced array; its subclasses inherit them)."""
    for name, value in METHODS.items():
        setattr(cls, name, value)


attach()
