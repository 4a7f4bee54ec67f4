"""``funcgrad.array_api.linalg``: the standard's linear-algebra extension over ``funcgrad.numpy.linalg``.

>>> import numpy as np
>>> import funcgrad as fg
>>> from funcgrad.array_api import linalg
>>> fg.grad(lambda a: linalg.slogdet(a).logabsdet)(np.eye(2) * 2.0)
array([[0.5, 0. ],
       [0. , 0.5]])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad._trace import Tracer
from funcgrad.numpy.linalg import (
    cholesky,
    cross,
    det,
    diagonal,
    eigvalsh,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    matrix_transpose,
    outer,
    solve,
    svdvals,
    tensordot,
    trace,
    vecdot,
    vector_norm,
)

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
    "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]  # fmt: skip


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


def eigh(x: Any, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric/Hermitian matrices.

    >>> eigh(np.diag([2.0, 1.0])).eigenvalues
    array([1., 2.])
    """
    return EighResult(*fnp.linalg.eigh(x))


def qr(x: Any, /, *, mode: str = "reduced") -> QRResult:
    """The QR factorisation (``mode`` ``'reduced'`` or ``'complete'``).

    >>> qr(np.eye(2)).R.shape
    (2, 2)
    """
    return QRResult(*fnp.linalg.qr(x, mode=mode))


def slogdet(x: Any, /) -> SlogdetResult:
    """The sign and the log of the absolute value of the determinant.

    >>> slogdet(np.eye(2) * 3.0).logabsdet == np.log(9.0)
    np.True_
    """
    return SlogdetResult(*fnp.linalg.slogdet(x))


def svd(x: Any, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition ``U @ diag(S) @ Vh``.

    >>> svd(np.diag([3.0, 4.0])).S
    array([4., 3.])
    """
    return SVDResult(*fnp.linalg.svd(x, full_matrices=full_matrices))


def _float_dtype(x: Any) -> Any:
    dtype = x.dtype
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def matrix_rank(x: Any, /, *, rtol: Any = None) -> Any:
    """The rank: singular values above ``rtol`` times the largest (no derivative).

    >>> matrix_rank(np.diag([1.0, 0.0]))
    np.int64(1)
    """
    singular = fnp.linalg.svdvals(x)
    if rtol is None:
        rtol = max(fnp.shape(x)[-2:]) * np.finfo(_float_dtype(x)).eps
    limit = fnp.max(singular, axis=-1, keepdims=True) * (fnp.asarray(rtol)[..., None] if fnp.ndim(rtol) else rtol)
    return fnp.count_nonzero(singular > limit, axis=-1)


def pinv(x: Any, /, *, rtol: Any = None) -> Any:
    """The Moore-Penrose pseudo-inverse, cutting singular values below ``rtol`` times the largest.

    >>> pinv(np.diag([2.0, 0.0]))
    array([[0.5, 0. ],
           [0. , 0. ]])
    """
    if rtol is None:
        rtol = max(fnp.shape(x)[-2:]) * np.finfo(_float_dtype(x)).eps
    if isinstance(x, Tracer) or isinstance(rtol, Tracer):
        return fnp.linalg.pinv(x, rtol=rtol)
    return np.linalg.pinv(x, rtol=rtol)
