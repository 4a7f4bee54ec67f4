"""``funcgrad.numpy.fft``: NumPy's discrete Fourier transforms with derivative rules.

Every transform is linear, so its forward rule is the same transform of the
tangent (axes are stored negative, so leading batch axes ride along).  Its
reverse rule is the *transpose* (not the adjoint), following JAX's
convention for complex numbers:

* the DFT matrix is symmetric, so the transpose of ``fftn``/``ifftn`` is the
  same transform with the same ``norm``; zero-padding (``n`` larger than the
  input) transposes to truncation and truncation to zero-padding;
* ``rfftn`` keeps half the spectrum of a real input: its transpose pads the
  cotangent back to the full length, applies ``fftn`` and keeps the real part;
* ``irfftn`` reads each non-redundant frequency ``k`` once but counts it for
  both ``k`` and ``n - k``: its transpose is ``ifftn`` of the (real)
  cotangent, cut to the half spectrum and weighted by 2 (1 at the zero and,
  for even ``n``, the Nyquist frequency).

>>> import funcgrad as fg
>>> x = np.array([1.0, 2.0, 3.0, 4.0])
>>> fg.grad(lambda x: fft(x)[1].real)(x)
array([ 1.,  0., -1.,  0.])
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _base, _shape, _ufuncs
from funcgrad._prims._base import match_dtype
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._shape import operand
from funcgrad._rules import defbatch, defjvp, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._values import dtype, is_traced, ndim, shape

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "fftshift",
    "ifftshift",
    "fftfreq",
    "rfftfreq",
]

#: the ``norm`` argument of every transform
Norm = Literal["backward", "ortho", "forward"] | None

fftfreq = np.fft.fftfreq
rfftfreq = np.fft.rfftfreq

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# --- helpers ------------------------------------------------------------------------------


def _along(axis: int, item: Any) -> tuple[Any, ...]:
    """An index applying ``item`` to the (negative) ``axis``."""
    return (Ellipsis, item) + (slice(None),) * (-axis - 1)


def _resize(x: Any, axes: Sequence[int], sizes: Sequence[int]) -> Any:
    """Truncate or zero-pad ``x`` along each axis to the given size (the transpose of each other)."""
    for axis, size in zip(axes, sizes):
        have = shape(x)[axis]
        if have > size:
            x = getitem_p(x, index=_along(axis, slice(0, size)))
        elif have < size:
            pad = list(shape(x))
            pad[axis] = size - have
            x = _shape.concatenate_p(x, np.zeros(pad, dtype(x)), axis=axis)
    return x


def _half(n: int) -> int:
    return n // 2 + 1


def _hermitian_weights(n: int, axis: int, like: Any) -> Any:
    """How often each stored frequency of a length-``n`` real signal counts: 1, 2, ..., 2, (1)."""
    w = np.full(_half(n), 2.0, np.empty(0, dtype(like)).real.dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape((-1,) + (1,) * (-axis - 1))


# --- primitives -------------------------------------------------------------------------------


def _fftn(x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any, inverse: bool) -> Any:
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, s=sizes, axes=axes, norm=norm)


def _fftn_vjp(g: Any, ans: Any, x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any, inverse: bool) -> Any:
    # the DFT matrix is symmetric: transpose = the same transform, then undo the padding/truncation
    back = fftn_p(g, axes=axes, sizes=sizes, norm=norm, inverse=inverse)
    return match_dtype(_resize(back, axes, [shape(x)[a] for a in axes]), x)


fftn_p = primitive(_fftn, "fftn")
defvjp(fftn_p, _fftn_vjp)
defjvp(fftn_p, lambda t, ans, x, **params: fftn_p(t, **params), batched=True)
defbatch(fftn_p, "leading")
defsparsity(fftn_p, "dense", "linear")


def _rfftn(x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any) -> Any:
    return np.fft.rfftn(x, s=sizes, axes=axes, norm=norm)


def _rfftn_vjp(g: Any, ans: Any, x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any) -> Any:
    # rfftn = keep-half o fftn: pad the cotangent back to the full spectrum, transform, real part
    full = _resize(g, axes[-1:], sizes[-1:])
    back = fftn_p(full, axes=axes, sizes=sizes, norm=norm, inverse=False)
    return match_dtype(_resize(back, axes, [shape(x)[a] for a in axes]), x)  # real part: x is real


rfftn_p = primitive(_rfftn, "rfftn")
defvjp(rfftn_p, _rfftn_vjp)
defjvp(
    rfftn_p, lambda t, ans, x, **params: rfftn_p(_base.real(t) if dtype(t).kind == "c" else t, **params), batched=True
)
defbatch(rfftn_p, "leading")
defsparsity(rfftn_p, "dense", "linear")


def _irfftn(x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any) -> Any:
    return np.fft.irfftn(x, s=sizes, axes=axes, norm=norm)


def _irfftn_vjp(g: Any, ans: Any, x: Any, axes: tuple[int, ...], sizes: tuple[int, ...], norm: Any) -> Any:
    # irfftn(X) = Re(C X): frequency k < n/2 stands for k and n - k, so its column of C counts twice
    back = fftn_p(g, axes=axes, sizes=sizes, norm=norm, inverse=True)
    last, n = axes[-1], sizes[-1]
    half = getitem_p(back, index=_along(last, slice(0, _half(n)))) * _hermitian_weights(n, last, g)
    return match_dtype(_resize(half, axes, [shape(x)[a] for a in axes]), x)


irfftn_p = primitive(_irfftn, "irfftn")
defvjp(irfftn_p, _irfftn_vjp)
defjvp(irfftn_p, lambda t, ans, x, **params: irfftn_p(t, **params), batched=True)
defbatch(irfftn_p, "leading")
defsparsity(irfftn_p, "dense", "linear")


# --- argument handling -------------------------------------------------------------------------


def _norm(norm: Any) -> Any:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise _errors.fft_norm(norm)
    return norm


def _plan(name: str, a: Any, s: Any, axes: Any, inverse_real: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Negative axes (in the given order) and transform sizes, as ``numpy.fft.*fftn`` reads ``s``/``axes``."""
    rank = ndim(a)
    if axes is None and s is not None:
        warnings.warn(_errors.fft_s_without_axes(), stacklevel=4)
    if axes is None:
        axes = tuple(range(rank)) if s is None else tuple(range(rank - len(s), rank))
    elif np.ndim(axes) == 0:
        axes = (axes,)
    out_axes = []
    for ax in axes:
        ax = operator.index(ax)
        if not -rank <= ax < rank:
            raise np.exceptions.AxisError(ax, rank)
        out_axes.append(ax - rank if ax >= 0 else ax)
    if len(set(out_axes)) != len(out_axes):
        raise _errors.fft_repeated_axes(name, tuple(axes))
    if not out_axes:
        raise _errors.fft_no_axes(name)
    lengths = [shape(a)[ax] for ax in out_axes]
    if inverse_real:
        lengths[-1] = 2 * (lengths[-1] - 1)
    if s is None:
        sizes = lengths
    else:
        s = (s,) if np.ndim(s) == 0 else tuple(s)
        if len(s) != len(out_axes):
            raise _errors.fft_s_and_axes(name, s, tuple(axes))
        sizes = [length if n is None or n == -1 else operator.index(n) for n, length in zip(s, lengths)]
    for n in sizes:
        if n < 1:
            raise _errors.fft_length(name, n)
    return tuple(out_axes), tuple(sizes)


def _real_input(name: str, a: Any) -> None:
    if dtype(a).kind == "c":
        raise _errors.fft_complex_input(name, dtype(a))


def _complex_transform(name: str, a: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> Any:
    ax, sizes = _plan(name, a, s, axes)
    return fftn_p(a, axes=ax, sizes=sizes, norm=_norm(norm), inverse=inverse)


def _real_transform(name: str, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    _real_input(name, a)
    ax, sizes = _plan(name, a, s, axes)
    return rfftn_p(a, axes=ax, sizes=sizes, norm=_norm(norm))


def _inverse_real_transform(name: str, a: Any, s: Any, axes: Any, norm: Any) -> Any:
    ax, sizes = _plan(name, a, s, axes, inverse_real=True)
    return irfftn_p(a, axes=ax, sizes=sizes, norm=_norm(norm))


def _one_axis(n: Any, axis: Any) -> tuple[Any, Any]:
    return (None if n is None else (n,)), (axis,)


# --- complex transforms --------------------------------------------------------------------------


@implements(np.fft.fft)
def fft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.fft``: the one-dimensional DFT along ``axis``, zero-padded or cut to ``n``.

    >>> fft(np.array([1.0, 0.0, 0.0, 0.0]))
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.fft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, fft(a=a, n=n, axis=axis, norm=norm))
    return _complex_transform("fft", a, *_one_axis(n, axis), norm, inverse=False)


@implements(np.fft.ifft)
def ifft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.ifft``: the inverse of ``fft``.

    >>> ifft(fft(np.array([1.0, 2.0]))).real
    array([1., 2.])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.ifft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, ifft(a=a, n=n, axis=axis, norm=norm))
    return _complex_transform("ifft", a, *_one_axis(n, axis), norm, inverse=True)


@implements(np.fft.fftn)
def fftn(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.fftn``: the DFT over several axes (all by default).

    >>> fftn(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.fftn(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, fftn(a=a, s=s, axes=axes, norm=norm))
    return _complex_transform("fftn", a, s, axes, norm, inverse=False)


@implements(np.fft.ifftn)
def ifftn(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.ifftn``: the inverse of ``fftn``.

    >>> ifftn(fftn(np.eye(2))).real
    array([[1., 0.],
           [0., 1.]])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.ifftn(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, ifftn(a=a, s=s, axes=axes, norm=norm))
    return _complex_transform("ifftn", a, s, axes, norm, inverse=True)


@implements(np.fft.fft2)
def fft2(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1), norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.fft2``: ``fftn`` over the last two axes.

    >>> fft2(np.ones((2, 3))).shape
    (2, 3)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.fft2(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, fft2(a=a, s=s, axes=axes, norm=norm))
    return _complex_transform("fft2", a, s, axes, norm, inverse=False)


@implements(np.fft.ifft2)
def ifft2(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1), norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.ifft2``: ``ifftn`` over the last two axes.

    >>> ifft2(np.ones((2, 3))).shape
    (2, 3)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.ifft2(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, ifft2(a=a, s=s, axes=axes, norm=norm))
    return _complex_transform("ifft2", a, s, axes, norm, inverse=True)


# --- real transforms -----------------------------------------------------------------------------


@implements(np.fft.rfft)
def rfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.rfft``: the DFT of a real signal, non-negative frequencies only.

    >>> rfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([4.+0.j, 0.+0.j, 0.+0.j])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.rfft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, rfft(a=a, n=n, axis=axis, norm=norm))
    return _real_transform("rfft", a, *_one_axis(n, axis), norm)


@implements(np.fft.irfft)
def irfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.irfft``: the real signal of length ``n`` (default ``2 * (m - 1)``) with half-spectrum ``a``.

    >>> irfft(np.array([4.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.irfft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, irfft(a=a, n=n, axis=axis, norm=norm))
    return _inverse_real_transform("irfft", a, *_one_axis(n, axis), norm)


@implements(np.fft.rfftn)
def rfftn(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.rfftn``: real-input DFT over several axes (the last one halved).

    >>> rfftn(np.ones((2, 4))).shape
    (2, 3)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.rfftn(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, rfftn(a=a, s=s, axes=axes, norm=norm))
    return _real_transform("rfftn", a, s, axes, norm)


@implements(np.fft.irfftn)
def irfftn(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.irfftn``: the inverse of ``rfftn``.

    >>> irfftn(rfftn(np.ones((2, 4)))).shape
    (2, 4)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.irfftn(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, irfftn(a=a, s=s, axes=axes, norm=norm))
    return _inverse_real_transform("irfftn", a, s, axes, norm)


@implements(np.fft.rfft2)
def rfft2(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1), norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.rfft2``: ``rfftn`` over the last two axes.

    >>> rfft2(np.ones((2, 4))).shape
    (2, 3)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.rfft2(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, rfft2(a=a, s=s, axes=axes, norm=norm))
    return _real_transform("rfft2", a, s, axes, norm)


@implements(np.fft.irfft2)
def irfft2(
    a: Any, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1), norm: Norm = None, out: Any = None
) -> Any:
    """``numpy.fft.irfft2``: ``irfftn`` over the last two axes.

    >>> irfft2(np.ones((2, 3))).shape
    (2, 4)
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.irfft2(a, s, axes, norm, out=out)
    if out is not None:
        return store_out(out, irfft2(a=a, s=s, axes=axes, norm=norm))
    return _inverse_real_transform("irfft2", a, s, axes, norm)


@implements(np.fft.hfft)
def hfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.hfft``: the real spectrum of a Hermitian-symmetric signal given by its first half.

    >>> hfft(np.array([1.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.hfft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, hfft(a=a, n=n, axis=axis, norm=norm))
    conj = _ufuncs.conj(a) if dtype(a).kind == "c" else a
    return _inverse_real_transform("hfft", conj, *_one_axis(n, axis), _SWAPPED[_norm(norm)])


@implements(np.fft.ihfft)
def ihfft(a: Any, n: int | None = None, axis: int = -1, norm: Norm = None, out: Any = None) -> Any:
    """``numpy.fft.ihfft``: the inverse of ``hfft`` (a real input's half spectrum, conjugated and scaled).

    >>> ihfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([1.-0.j, 0.-0.j, 0.-0.j])
    """
    a = operand(a)
    if not is_traced(a):
        return np.fft.ihfft(a, n, axis, norm, out=out)
    if out is not None:
        return store_out(out, ihfft(a=a, n=n, axis=axis, norm=norm))
    return _ufuncs.conj(_real_transform("ihfft", a, *_one_axis(n, axis), _SWAPPED[_norm(norm)]))


# --- shifts ----------------------------------------------------------------------------------------


def _roll(x: Any, axes: Any, half: Any) -> Any:
    rank = ndim(x)
    axes = range(rank) if axes is None else ((axes,) if np.ndim(axes) == 0 else axes)
    for ax in axes:
        ax = operator.index(ax)
        if not -rank <= ax < rank:
            raise np.exceptions.AxisError(ax, rank)
        ax = ax - rank if ax >= 0 else ax
        n = shape(x)[ax]
        k = half(n) % n if n else 0
        if k:
            x = _shape.concatenate_p(
                getitem_p(x, index=_along(ax, slice(n - k, n))),
                getitem_p(x, index=_along(ax, slice(0, n - k))),
                axis=ax,
            )
    return x


@implements(np.fft.fftshift)
def fftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """``numpy.fft.fftshift``: move the zero frequency to the centre.

    >>> fftshift(np.arange(5.0))
    array([3., 4., 0., 1., 2.])
    """
    x = operand(x)
    if not is_traced(x):
        return np.fft.fftshift(x, axes)
    return _roll(x, axes, lambda n: n // 2)


@implements(np.fft.ifftshift)
def ifftshift(x: Any, axes: int | Sequence[int] | None = None) -> Any:
    """``numpy.fft.ifftshift``: the inverse of ``fftshift``.

    >>> ifftshift(fftshift(np.arange(5.0)))
    array([0., 1., 2., 3., 4.])
    """
    x = operand(x)
    if not is_traced(x):
        return np.fft.ifftshift(x, axes)
    return _roll(x, axes, lambda n: -(n // 2))
