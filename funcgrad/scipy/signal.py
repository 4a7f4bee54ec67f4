"""``funcgrad.scipy.signal``: N-dimensional ``convolve`` and ``correlate``, differentiable in both inputs.

One primitive does the work: the *full* N-D convolution (SciPy's own, with
the ``method`` asked for).  ``mode='same'`` and ``'valid'`` are windows of
it, and ``correlate(a, v)`` is ``convolve(a, flip(conj(v)))``, exactly the
windows SciPy returns.  The rules are convolutions again: the forward rule
convolves the tangent with the other input; the reverse rule of each input
is a correlation of the cotangent with the other input (a window of the full
convolution with the other input flipped), so both rules differentiate
again.  Complex inputs follow JAX's convention (a transpose, no conjugate).

A tangent's leading batch axes (``jacfwd``) ride along as convolution axes
of length one in the other operand, so a whole batch is one SciPy call.

>>> import numpy as np, funcgrad as fg
>>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
array([0. , 1. , 2.5, 4. , 1.5])
>>> fg.grad(lambda v: convolve(np.array([1.0, 2.0, 3.0]), v, mode="valid").sum())(np.array([0.0, 1.0]))
array([5., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal as ss

from funcgrad import _errors
from funcgrad._prims import _shape, _ufuncs
from funcgrad._prims._base import lift, unbroadcast
from funcgrad._prims._indexing import getitem_p
from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer
from funcgrad._values import dtype, ndim, shape

__all__ = ["convolve", "correlate"]

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _convolve_full(in1: Any, in2: Any, method: str) -> Any:
    """SciPy's full convolution; a lower-rank operand gets leading axes of length one (a tangent batch)."""
    in1, in2 = np.asarray(in1), np.asarray(in2)
    rank = max(in1.ndim, in2.ndim)
    in1 = in1.reshape((1,) * (rank - in1.ndim) + in1.shape)
    in2 = in2.reshape((1,) * (rank - in2.ndim) + in2.shape)
    return ss.convolve(in1, in2, mode="full", method=method)


def _flip(x: Any) -> Any:
    return getitem_p(x, index=(slice(None, None, -1),) * ndim(x))


def _window(x: Any, starts: tuple[int, ...], lengths: tuple[int, ...]) -> Any:
    """The block of the trailing axes of ``x`` at ``starts`` with ``lengths`` (leading batch axes kept)."""
    index = (Ellipsis,) + tuple(slice(s, s + n) for s, n in zip(starts, lengths))
    return getitem_p(x, index=index)


def _convolve_vjp(g: Any, x: Any, other: Any, method: str) -> Any:
    # d out[k] / d x[i] = other[k - i]: a correlation of g with other = a window of g * flip(other)
    starts = tuple(m - 1 for m in shape(other))
    return unbroadcast(_window(convolve_full_p(g, _flip(other), method=method), starts, shape(x)), x)


convolve_full_p = primitive(_convolve_full, "signal.convolve")
defvjp(
    convolve_full_p,
    lambda g, ans, a, v, method: _convolve_vjp(g, a, v, method),
    lambda g, ans, a, v, method: _convolve_vjp(g, v, a, method),
)
defjvp(
    convolve_full_p,
    lambda t, ans, a, v, method: convolve_full_p(lift(t, a, ans), v, method=method),
    lambda t, ans, a, v, method: convolve_full_p(a, lift(t, v, ans), method=method),
    batched=True,
)


def _check(name: str, in1: Any, in2: Any, mode: Any, method: Any) -> None:
    if mode not in _MODES:
        raise _errors.signal_mode(name, mode)
    if method not in _METHODS:
        raise _errors.signal_method(name, method)
    if ndim(in1) != ndim(in2):
        raise _errors.signal_ranks(name, shape(in1), shape(in2))
    if mode == "valid":
        pairs = list(zip(shape(in1), shape(in2)))
        if not (all(n >= m for n, m in pairs) or all(m >= n for n, m in pairs)):
            raise _errors.signal_valid_shapes(name, shape(in1), shape(in2))


def _convolution(in1: Any, in2: Any, mode: str, method: str) -> Any:
    full = convolve_full_p(in1, in2, method=method)
    if mode == "full":
        return full
    pairs = list(zip(shape(in1), shape(in2)))
    if mode == "valid":
        return _window(full, tuple(min(n, m) - 1 for n, m in pairs), tuple(max(n, m) - min(n, m) + 1 for n, m in pairs))
    return _window(full, tuple((m - 1) // 2 for n, m in pairs), shape(in1))


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.convolve``: the N-D convolution of ``in1`` and ``in2`` (same number of dimensions).

    ``mode`` is ``'full'``, ``'same'`` (the size of ``in1``, centred) or
    ``'valid'``; ``method`` (``'auto'``, ``'direct'``, ``'fft'``) is passed to
    SciPy.  Raises ``ValueError`` for an unknown mode or method, inputs of
    different dimensionality, or ``'valid'`` when neither input is at least
    as large as the other in every dimension (as SciPy).

    >>> import funcgrad as fg
    >>> image, kernel = np.arange(9.0).reshape(3, 3), np.array([[1.0, -1.0]])
    >>> convolve(image, kernel, mode="valid")
    array([[1., 1.],
           [1., 1.],
           [1., 1.]])
    >>> fg.grad(lambda k: convolve(image, k, mode="same").sum())(kernel)
    array([[36., 21.]])
    """
    in1, in2 = _shape.operand(in1), _shape.operand(in2)
    if not (isinstance(in1, Tracer) or isinstance(in2, Tracer)):
        return ss.convolve(in1, in2, mode=mode, method=method)
    _check("convolve", in1, in2, mode, method)
    return _convolution(in1, in2, mode, method)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.correlate``: ``z[k] = sum_l in1[l] conj(in2[l - k])`` in N dimensions.

    ``mode`` and ``method`` as :func:`convolve`, and the same errors.

    >>> import funcgrad as fg
    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]))
    array([1., 2., 3., 0.])
    >>> fg.grad(lambda x: correlate(x, np.array([1.0, 2.0]), mode="valid")[0])(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 0.])
    """
    in1, in2 = _shape.operand(in1), _shape.operand(in2)
    if not (isinstance(in1, Tracer) or isinstance(in2, Tracer)):
        return ss.correlate(in1, in2, mode=mode, method=method)
    _check("correlate", in1, in2, mode, method)
    reversed_ = _flip(_ufuncs.conj(in2) if dtype(in2).kind == "c" else in2)
    return _convolution(in1, reversed_, mode, method)
