"""NumPy-signature wrappers over the primitives: argument handling lives here.

Each wrapper calls NumPy directly when nothing is traced, and otherwise
normalises its arguments (axes to negative tuples, lists to arrays) before
calling a primitive.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from funcgrad._trace import Tracer, full_lower
from funcgrad.numpy import _contract, _reductions, _shape, _ufuncs
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._util import normalize_axes, shape


def is_traced(*values: Any) -> bool:
    return builtins.any(isinstance(v, Tracer) for v in values)


def _holds_tracer(obj: Any) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return builtins.any(_holds_tracer(o) for o in obj)
    return False


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        from funcgrad import _errors

        raise _errors.inplace_assignment()


# --- constructors --------------------------------------------------------------------


@implements(np.array, np.asarray, np.asanyarray)
def array(object: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``numpy.array``; lists holding traced values are stacked (differentiably)."""
    if isinstance(object, Tracer):
        return object if dtype is None else _ufuncs.astype(object, dtype=np.dtype(dtype))
    if isinstance(object, (list, tuple)) and _holds_tracer(object):
        out = stack([array(o) for o in object])
        return out if dtype is None else _ufuncs.astype(out, dtype=np.dtype(dtype))
    return np.array(object, dtype, *args, **kwargs)


def asarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.asarray``; traced values pass through unchanged."""
    if isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and _holds_tracer(a)):
        return array(a, dtype)
    return np.asarray(a, dtype, **kwargs)


def astype(x: Any, dtype: Any, **kwargs: Any) -> Any:
    """``numpy.astype``: a cast; derivatives pass through float and complex casts."""
    if not isinstance(x, Tracer):
        return np.asarray(x).astype(dtype, **kwargs)
    return _ufuncs.astype(x, dtype=np.dtype(dtype))


@implements(np.zeros_like)
def zeros_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.zeros_like``: a plain array (it does not depend on ``a``'s values)."""
    return np.zeros_like(full_lower(a), dtype=dtype, **kwargs)


@implements(np.ones_like)
def ones_like(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.ones_like``: a plain array (it does not depend on ``a``'s values)."""
    return np.ones_like(full_lower(a), dtype=dtype, **kwargs)


@implements(np.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full_like``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        base = full_lower(a)
        out = broadcast_to(fill_value, np.shape(base))
        return astype(out, dtype or base.dtype)
    return np.full_like(full_lower(a), fill_value, dtype=dtype, **kwargs)


def full(shape: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.full``; a traced ``fill_value`` is broadcast (differentiably)."""
    if isinstance(fill_value, Tracer):
        out = broadcast_to(fill_value, tuple(np.atleast_1d(shape).tolist()) if np.ndim(shape) else (shape,))
        return out if dtype is None else astype(out, dtype)
    return np.full(shape, fill_value, dtype=dtype, **kwargs)


# --- reductions ---------------------------------------------------------------------


def _operand(a: Any) -> Any:
    return array(a) if isinstance(a, (list, tuple)) and _holds_tracer(a) else a


@implements(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.sum``."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, "sum")
    if dtype is not None:
        a = astype(a, dtype)
    return _reductions.sum_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


@implements(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.mean``."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    axes = normalize_axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    total = sum(a, axis=axes, dtype=dtype, out=out, keepdims=keepdims)
    return total / count


@implements(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.prod`` (exact derivative even with zeros in the input)."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, "prod")
    if dtype is not None:
        a = astype(a, dtype)
    axes = normalize_axes(axis, a.ndim)
    if not axes:
        return a
    return _reductions.prod_p(a, axis=axes, keepdims=bool(keepdims))


@implements(np.max, np.amax)
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.max``; at ties the derivative is shared equally among the maxima."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, "max")
    return _reductions.max_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


@implements(np.min, np.amin)
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``numpy.min``; at ties the derivative is shared equally among the minima."""
    a = _operand(a)
    if not isinstance(a, Tracer):
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, "min")
    return _reductions.min_p(a, axis=normalize_axes(axis, a.ndim), keepdims=bool(keepdims))


amax = max
amin = min

# --- shape ------------------------------------------------------------------------


@implements(np.reshape)
def reshape(a: Any, shape: Any = None, order: str = "C", **kwargs: Any) -> Any:
    """``numpy.reshape`` (C order)."""
    if shape is None:
        shape = kwargs.pop("newshape")
    if not isinstance(a, Tracer):
        return np.reshape(a, shape, order=order)
    if order != "C":
        raise NotImplementedError("funcgrad: reshape of traced values supports order='C' only")
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    resolved = np.empty(a.shape, dtype=bool).reshape(target).shape
    if resolved == a.shape:
        return a
    return _shape.reshape_p(a, newshape=resolved)


@implements(np.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    """``numpy.ravel``."""
    return reshape(a, (-1,), order=order)


@implements(np.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``."""
    if not isinstance(a, Tracer):
        return np.transpose(a, axes)
    rank = a.ndim
    perm = tuple(range(rank))[::-1] if axes is None else tuple(int(i) % rank for i in axes)
    if perm == tuple(range(rank)):
        return a
    return _shape.transpose_p(a, perm=perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``numpy.moveaxis``."""
    if not isinstance(a, Tracer):
        return np.moveaxis(a, source, destination)
    return _shape.moveaxis(a, source, destination)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``numpy.swapaxes``."""
    if not isinstance(a, Tracer):
        return np.swapaxes(a, axis1, axis2)
    perm = list(range(a.ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """``numpy.squeeze``."""
    if not isinstance(a, Tracer):
        return np.squeeze(a, axis)
    return reshape(a, np.squeeze(np.empty(a.shape, dtype=bool), axis).shape)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """``numpy.expand_dims``."""
    if not isinstance(a, Tracer):
        return np.expand_dims(a, axis)
    return reshape(a, np.expand_dims(np.empty(a.shape, dtype=bool), axis).shape)


@implements(np.broadcast_to)
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """``numpy.broadcast_to``."""
    if not isinstance(array, Tracer):
        return np.broadcast_to(array, shape, subok=subok)
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if target == array.shape:
        return array
    return _shape.broadcast_to_p(array, shape=target)


@implements(np.concatenate)
def concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.concatenate``."""
    arrays = [_operand(a) for a in arrays]
    if not is_traced(*arrays):
        return np.concatenate(arrays, axis=axis, out=out, **kwargs)
    _no_out(out, "concatenate")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    rank = len(shape(arrays[0]))
    if rank == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return _shape.concatenate_p(*arrays, axis=normalize_axes(axis, rank)[0])


@implements(np.stack)
def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.stack``."""
    arrays = [_operand(a) for a in arrays]
    if not is_traced(*arrays):
        return np.stack(arrays, axis=axis, out=out, **kwargs)
    _no_out(out, "stack")
    shapes = {shape(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


# --- selection and contraction ------------------------------------------------------


@implements(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``numpy.where``; the one-argument form returns plain indices."""
    if x is None and y is None:
        return np.where(full_lower(condition))
    return _ufuncs.where(full_lower(condition), x, y)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """``numpy.dot``."""
    if not is_traced(a, b):
        return np.dot(a, b, out=out)
    _no_out(out, "dot")
    return _contract.dot(a, b)


@implements(np.matmul)
def matmul(a: Any, b: Any, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.matmul``."""
    if not is_traced(a, b):
        return np.matmul(a, b, out=out, **kwargs)
    _no_out(out, "matmul")
    return _contract.matmul(a, b)


# --- structure queries (plain results) ---------------------------------------------------


@implements(np.shape)
def shape_of(a: Any) -> tuple[int, ...]:
    """``numpy.shape``."""
    return np.shape(full_lower(a))


@implements(np.ndim)
def ndim(a: Any) -> int:
    """``numpy.ndim``."""
    return np.ndim(full_lower(a))


@implements(np.size)
def size(a: Any, axis: Any = None) -> int:
    """``numpy.size``."""
    return int(np.size(full_lower(a), axis))
