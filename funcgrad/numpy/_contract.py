"""Contractions (matmul, dot) and their rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer
from funcgrad.numpy import _shape
from funcgrad.numpy._dispatch import implements
from funcgrad.numpy._util import batch_ndim, ndim, shape, unbroadcast

__all__ = ["dot", "matmul"]


def _swap(x: Any) -> Any:
    rank = ndim(x)
    return _shape.transpose_p(x, perm=tuple(range(rank - 2)) + (rank - 1, rank - 2))


def _expand(x: Any, axis: int) -> Any:
    s = shape(x)
    axis = axis % (len(s) + 1)
    return _shape.reshape_p(x, newshape=s[:axis] + (1,) + s[axis:])


def _squeeze(x: Any, axis: int) -> Any:
    s = list(shape(x))
    del s[axis]
    return _shape.reshape_p(x, newshape=tuple(s))


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if ndim(a) == 1 and ndim(b) == 1:
        return unbroadcast(g * b, a)
    if ndim(a) == 1:
        return unbroadcast(_squeeze(matmul(_expand(g, -2), _swap(b)), -2), a)
    if ndim(b) == 1:
        return unbroadcast(_expand(g, -1) * b, a)
    return unbroadcast(matmul(g, _swap(b)), a)


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if ndim(a) == 1 and ndim(b) == 1:
        return unbroadcast(g * a, b)
    if ndim(b) == 1:
        return unbroadcast(_squeeze(matmul(_swap(a), _expand(g, -1)), -1), b)
    if ndim(a) == 1:
        return unbroadcast(_expand(a, -1) * _expand(g, -2), b)
    return unbroadcast(matmul(_swap(a), g), b)


def _matmul_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = batch_ndim(t, a)
    if nb == 0 or (ndim(a) == 1 and ndim(b) <= 2):
        return matmul(t, b)
    # give the tangent's batch axes room before the operands' stack axes
    lead = shape(t)[:nb]
    if ndim(a) == 1:
        lifted = _shape.reshape_p(t, newshape=lead + (1,) * (ndim(b) - 2) + (1,) + shape(a))
        return _squeeze(matmul(lifted, b), -2)
    pad = max(ndim(b) - ndim(a), 0)
    return matmul(_shape.reshape_p(t, newshape=lead + (1,) * pad + shape(a)), b)


def _matmul_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = batch_ndim(t, b)
    if nb == 0:
        return matmul(a, t)
    lead = shape(t)[:nb]
    if ndim(b) == 1:
        lifted = _shape.reshape_p(t, newshape=lead + (1,) * max(ndim(a) - 2, 0) + shape(b) + (1,))
        return _squeeze(matmul(a, lifted), -1)
    pad = max(ndim(a) - ndim(b), 0)
    return matmul(a, _shape.reshape_p(t, newshape=lead + (1,) * pad + shape(b)))


matmul = primitive(np.matmul, "matmul")
defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b)
defjvp(matmul, _matmul_jvp_a, _matmul_jvp_b, batched=True)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """``numpy.dot``: products for scalars, ``matmul`` up to two dimensions, ``tensordot`` beyond."""
    from funcgrad.numpy._ufuncs import multiply

    if not isinstance(a, Tracer) and not isinstance(b, Tracer):
        return np.dot(a, b, out=out)
    if out is not None:
        from funcgrad import _errors

        raise _errors.inplace_assignment()

    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    raise NotImplementedError(
        "funcgrad: dot of arrays with more than two dimensions is not supported yet; use matmul or einsum"
    )


def _register_ufunc() -> None:
    from funcgrad.numpy._ufuncs import UFUNCS

    UFUNCS[np.matmul] = matmul


_register_ufunc()
