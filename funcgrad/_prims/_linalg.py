"""Linear-algebra primitives and their rules (the public wrappers live in ``linalg.py``).

Every primitive works on stacks of matrices (shape ``(..., M, N)``), and every
rule is written with funcgrad's own primitives (``matmul``, ``solve_p``,
``inv_p``, masks multiplied in), so rules differentiate again at any order.
Forward rules accept a leading batch of tangents: matrix products broadcast
over it, and operands of lower rank are lifted with ``lift``.

Decompositions that return several arrays (``eigh``, ``eig``, ``svd``,
``qr``) are single primitives with a *packed* output: the parts are
concatenated along axis ``-2`` and the wrappers slice them apart, so one
tape node holds the whole decomposition and the rules see every part's
cotangent together.

Complex numbers follow JAX's convention (a reverse rule is the transpose of
the forward rule under the pairing ``Re(sum(a * b))``; holomorphic pieces
use the plain transpose, no conjugate).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _backends, _errors
from funcgrad._prims import _base, _reductions, _shape, _ufuncs
from funcgrad._prims._base import batch_align, lift, match_dtype, stop_gradient, unbroadcast
from funcgrad._prims._contract import matmul
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._ufuncs import is_plain
from funcgrad._rules import def_nondiff, defbatch, defjvp, defvjp, primitive
from funcgrad._trace import Tracer, read_value
from funcgrad._values import dtype, ndim, shape

# --- small helpers (all differentiable, all batch-safe) -------------------------------


def T(x: Any) -> Any:
    """Swap the last two axes."""
    rank = ndim(x)
    return _base.transpose_p(x, perm=tuple(range(rank - 2)) + (rank - 1, rank - 2))


def is_complex(x: Any) -> bool:
    return dtype(x).kind == "c"


def H(x: Any) -> Any:
    """Conjugate transpose (plain transpose for real values)."""
    return _ufuncs.conj(T(x)) if is_complex(x) else T(x)


def real_dtype(x: Any) -> np.dtype[Any]:
    kind = dtype(x)
    if kind.kind not in "fc":
        return np.dtype(np.float64)
    return np.finfo(kind).dtype


def eye(n: int, like: Any) -> np.ndarray[Any, Any]:
    return np.eye(n, dtype=real_dtype(like))


def tril_mask(n: int, like: Any, k: int = 0) -> np.ndarray[Any, Any]:
    return np.tril(np.ones((n, n), dtype=real_dtype(like)), k)


def triu_mask(n: int, like: Any, k: int = 0) -> np.ndarray[Any, Any]:
    return np.triu(np.ones((n, n), dtype=real_dtype(like)), k)


def diag_part(m: Any) -> Any:
    """The diagonal of the last two axes, as a vector (``(..., n, n) -> (..., n)``)."""
    n = shape(m)[-1]
    return _base.sum_p(m * eye(n, m), axis=(-1,), keepdims=False)


def row(v: Any) -> Any:
    """``(..., n) -> (..., 1, n)``."""
    s = shape(v)
    return _base.reshape_p(v, newshape=s[:-1] + (1, s[-1]))


def col(v: Any) -> Any:
    """``(..., n) -> (..., n, 1)``."""
    s = shape(v)
    return _base.reshape_p(v, newshape=s + (1,))


def diag_embed(v: Any) -> Any:
    """A diagonal matrix from the last axis (``(..., n) -> (..., n, n)``)."""
    return row(v) * eye(shape(v)[-1], v)


def trace(m: Any) -> Any:
    return _base.sum_p(m * eye(shape(m)[-1], m), axis=(-2, -1), keepdims=False)


def safe_reciprocal(x: Any, tol: Any = 0.0) -> Any:
    """``1 / x`` with entries of magnitude at most ``tol`` giving zero (a zero marks an undefined coupling)."""
    zero = _ufuncs.absolute(x) <= tol
    if is_plain(zero) and not zero.any():
        return 1.0 / x
    return _ufuncs.where(zero, 0.0, 1.0 / _ufuncs.where(zero, 1.0, x))


def gap_reciprocal(w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal; zero on it and at ties.

    Values equal to rounding (``|w[j] - w[i]| <= 64 eps max|w|``) count as
    ties: their coupling is taken as zero, which keeps first derivatives of
    functions invariant under rotations within a tied group right (see the
    notes in ``linalg.py``).
    """

    size = shape(w)[-1]
    magnitude = _ufuncs.absolute(stop_gradient(w))  # a threshold: no derivative of its own
    scale = _reductions.max(magnitude, axis=-1, keepdims=True)[..., None] if size else 0.0
    tol = 64 * np.finfo(real_dtype(w)).eps * scale
    out = safe_reciprocal(row(w) - col(w), tol)
    if isinstance(w, Tracer):
        # This rule is itself being differentiated (a second derivative).  At a
        # tie the zero coupling above is right to first order only; its own
        # derivative would be a plausible wrong number, so mark it undefined
        # (nan), as JAX does, rather than return it.
        gaps = _ufuncs.absolute(stop_gradient(row(w) - col(w)))
        ties = (gaps <= tol) & ~np.eye(size, dtype=bool)
        if not is_plain(ties) or ties.any():
            out = out + _base.astype(_ufuncs.where(ties, np.nan, 0.0), dtype=real_dtype(w))
    return out


def part(packed: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of the last-but-one axis of a packed decomposition."""

    return getitem_p(packed, index=(Ellipsis, slice(start, stop), slice(None)))


def pack(*parts: Any) -> Any:
    return _shape.concatenate_p(*parts, axis=-2)


def cj(x: Any) -> Any:
    """Complex conjugate of a complex value; real values unchanged (no extra node)."""
    return _ufuncs.conj(x) if is_complex(x) else x


def _real_diagonal(d: Any) -> Any:
    n = shape(d)[-1]
    return _base.real(d) * eye(n, d)


def fold(d: Any, lower: bool) -> Any:
    """The symmetric (Hermitian) matrix LAPACK reads from one triangle of ``d`` (``eigh``, ``cholesky``).

    For complex input LAPACK uses the real part of the diagonal.
    """
    n = shape(d)[-1]
    strict = (tril_mask if lower else triu_mask)(n, d, -1 if lower else 1)
    part_ = d * strict
    diagonal = _real_diagonal(d) if is_complex(d) else d * eye(n, d)
    return diagonal + part_ + H(part_)


def fold_transpose(g: Any, lower: bool) -> Any:
    """Transpose of ``fold``: the cotangent of the triangle that was read."""
    n = shape(g)[-1]
    strict = (tril_mask if lower else triu_mask)(n, g, -1 if lower else 1)
    diagonal = _real_diagonal(g) if is_complex(g) else g * eye(n, g)
    return diagonal + g * strict + H(g) * strict


def right_solve(b: Any, a: Any) -> Any:
    """``b @ inv(a)``."""
    return T(solve_p(T(a), T(b)))


# --- inv ------------------------------------------------------------------------------------

inv_p = primitive(np.linalg.inv, "inv")
defvjp(inv_p, lambda g, ans, a: -matmul(T(ans), matmul(g, T(ans))))
defjvp(inv_p, lambda t, ans, a: -matmul(ans, matmul(t, ans)), batched=True)
defbatch(inv_p, "leading")


# --- solve (b is always a stack of matrices here: the wrapper handles vectors) --------------


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve_p(T(a), g)
    return unbroadcast(-matmul(gb, T(ans)), a)


def _solve_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return -solve_p(a, matmul(lift(t, a, ans), ans))


def _full(out: Any, t: Any, x: Any, ans: Any) -> Any:
    """Broadcast a tangent to ``batch + ans.shape`` when an operand was smaller than the output."""
    target = shape(t)[: ndim(t) - ndim(x)] + shape(ans)
    return out if shape(out) == target else _base.broadcast_to_p(out, shape=target)


solve_p = primitive(np.linalg.solve, "solve")
defvjp(solve_p, _solve_vjp_a, lambda g, ans, a, b: unbroadcast(solve_p(T(a), g), b))
defjvp(
    solve_p,
    _solve_jvp_a,
    lambda t, ans, a, b: _full(solve_p(a, lift(t, b, ans)), t, b, ans),
    batched=True,
)


def _solve_batch(prim: Any, values: list[Any], batched: list[bool], size: int) -> Any:
    # a batched right-hand vector becomes a one-column matrix (NumPy reads b as a vector only when 1-D)
    a, b = values
    vector = batched[1] and ndim(b) == 2
    if vector:
        b = _base.reshape_p(b, newshape=shape(b) + (1,))
    rank = max(ndim(a) - batched[0], ndim(b) - batched[1])
    out = solve_p(batch_align(a, rank) if batched[0] else a, batch_align(b, rank) if batched[1] else b)
    return _base.reshape_p(out, newshape=shape(out)[:-1]) if vector else out


defbatch(solve_p, _solve_batch)


# --- triangular solve (the Cholesky rules' solves: SciPy's triangular solve when installed) -----


@functools.cache
def _scipy_solve_triangular() -> Callable[..., Any] | None:
    """``scipy.linalg.solve_triangular``, loaded on first use (SciPy is an optional extra, slow to import)."""
    if importlib.util.find_spec("scipy") is None:
        return None
    solve: Callable[..., Any] = importlib.import_module("scipy.linalg").solve_triangular
    return solve


_LAPACK_DTYPES = frozenset(np.dtype(code) for code in "fdFD")


def _general_solve(a: Any, b: Any, lower: bool, check_finite: bool) -> Any:
    return np.linalg.solve(a, b)


def _triangular_solve(a: Any, b: Any, lower: bool) -> Any:
    """``x`` with ``a @ x = b`` for a triangular matrix ``a`` (its ``lower`` or upper triangle), ``b`` a
    stack of matrices: SciPy's triangular solve (a third of a general solve's work) for one matrix of a
    LAPACK dtype when SciPy is installed, NumPy's general solve otherwise.  Eager calls and replays call
    this same function, so they make the same choice."""
    solve: Callable[..., Any] | None
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        # another backend's arrays (Dask, CuPy): its own solve through NumPy's dispatch, nothing computed here;
        # a stack of right-hand sides goes in as columns (Dask's solve takes matrices only)
        solve = _general_solve
    else:
        solve = _scipy_solve_triangular()
        if solve is None or a.dtype != b.dtype or a.dtype not in _LAPACK_DTYPES:
            return np.linalg.solve(a, b)
    if a.ndim != 2 or b.ndim < 2:
        return np.linalg.solve(a, b)
    if b.ndim == 2:
        return solve(a, b, lower=lower, check_finite=False)
    n, k = b.shape[-2:]  # a stack of right-hand sides: one call, the stack as extra columns
    columns = np.moveaxis(b.reshape((-1, n, k)), 0, 1).reshape(n, -1)
    out = solve(a, columns, lower=lower, check_finite=False)
    return np.moveaxis(out.reshape((n, -1, k)), 1, 0).reshape(b.shape)


def _triangle(a: Any, lower: bool) -> np.ndarray[Any, Any]:
    """The mask of the triangle a triangular solve reads."""
    n = shape(a)[-1]
    return tril_mask(n, a) if lower else triu_mask(n, a)


def _tri_vjp_a(g: Any, ans: Any, a: Any, b: Any, lower: bool) -> Any:
    gb = triangular_solve_p(T(a), g, lower=not lower)
    return unbroadcast(-matmul(gb, T(ans)) * _triangle(a, lower), a)


def _tri_jvp_a(t: Any, ans: Any, a: Any, b: Any, lower: bool) -> Any:
    return -triangular_solve_p(a, matmul(lift(t, a, ans) * _triangle(a, lower), ans), lower=lower)


def _tri_batch(prim: Any, values: list[Any], batched: list[bool], size: int, lower: bool) -> Any:
    a, b = values
    rank = max(ndim(a) - batched[0], ndim(b) - batched[1])
    return triangular_solve_p(
        batch_align(a, rank) if batched[0] else a, batch_align(b, rank) if batched[1] else b, lower=lower
    )


triangular_solve_p = primitive(_triangular_solve, "triangular_solve")
defvjp(
    triangular_solve_p,
    _tri_vjp_a,
    lambda g, ans, a, b, lower: unbroadcast(triangular_solve_p(T(a), g, lower=not lower), b),
)
defjvp(
    triangular_solve_p,
    _tri_jvp_a,
    lambda t, ans, a, b, lower: _full(triangular_solve_p(a, lift(t, b, ans), lower=lower), t, b, ans),
    batched=True,
)
defbatch(triangular_solve_p, _tri_batch)


# --- det, log|det| -------------------------------------------------------------------------


def _expand2(g: Any) -> Any:
    s = shape(g)
    return _base.reshape_p(g, newshape=s + (1, 1))


def _nearly_singular_impl(a: Any, ans: Any) -> Any:
    """Per matrix: ``|det A|`` small against Hadamard's bound ``prod_j |A[:, j]|`` (cheap: no factorisation)."""
    if a.shape[-1] == 0:
        return np.zeros(a.shape[:-2], bool)
    bound = np.prod(np.linalg.norm(a, axis=-2), axis=-1)
    ratio = np.abs(ans) / np.where(bound == 0, 1.0, bound)
    return ~(ratio > np.sqrt(np.finfo(real_dtype(a)).eps))


nearly_singular_p = primitive(_nearly_singular_impl, "nearly_singular")
def_nondiff(nearly_singular_p, 2)
defbatch(nearly_singular_p, "leading")


def _nearly_singular(a: Any, ans: Any) -> bool:
    """Whether some matrix of ``a`` is nearly singular: it picks det's derivative formula, so a guard under jit."""
    return bool(np.any(read_value(nearly_singular_p(a, ans), "det: is the matrix nearly singular")))


def _others_product(s: Any) -> Any:
    """``out[..., i] = prod_{j != i} s[..., j]`` (exact with zeros)."""
    k = shape(s)[-1]
    table = _ufuncs.where(np.eye(k, dtype=bool), 1.0, row(s))
    return _reductions.prod_p(table, axis=(-1,), keepdims=False)


def _adjugate_polynomial(a: Any) -> Any:
    """``adj(A)`` by Faddeev-LeVerrier: a polynomial in ``A`` (matrix products and traces only).

    Exact at singular matrices and differentiable to any order; rounding
    grows with ``n``, so it is used for small matrices only.
    """
    n = shape(a)[-1]
    identity = eye(n, a)
    m = identity + 0.0 * a
    for k in range(1, n):
        am = matmul(a, m)
        c = trace(am) * (-1.0 / k)
        m = am + _expand2(c) * identity
    return m if n % 2 == 1 else -m


def cofactor(a: Any, ans: Any) -> Any:
    """``d det(A) / dA`` = the cofactor matrix ``det(A) inv(A)^T``.

    For (nearly) singular ``A`` it is computed without an inverse: up to
    8 x 8 by the Faddeev-LeVerrier polynomial (exact to every order), larger
    real ``A`` from its SVD ``A = U S V^T`` as ``det(U) det(V) U adj(S) V^T``
    with ``adj(S)_i = prod_{j != i} s_j`` (exact to first order; higher
    orders need rank ``n - 1``).
    """
    if not _nearly_singular(a, ans):
        return _expand2(ans) * T(inv_p(a))
    if shape(a)[-1] <= 8:
        return T(_adjugate_polynomial(a))
    if is_complex(a):
        raise _errors.det_at_singular_complex()
    u, s, v = _svd_parts(svd_p(a), a)
    sign = _expand2(det_p(u) * det_p(v))
    return sign * matmul(u * row(_others_product(s)), T(v))


det_p = primitive(np.linalg.det, "det")
defvjp(det_p, lambda g, ans, a: _expand2(g) * cofactor(a, ans))
defjvp(det_p, lambda t, ans, a: _base.sum_p(cofactor(a, ans) * t, axis=(-2, -1), keepdims=False), batched=True)
defbatch(det_p, "leading")


def _logabsdet(a: Any) -> Any:
    return np.linalg.slogdet(a)[1]


def _logabsdet_jvp(t: Any, ans: Any, a: Any) -> Any:
    d = _base.sum_p(T(inv_p(a)) * t, axis=(-2, -1), keepdims=False)
    return _base.real(d) if is_complex(d) else d


logabsdet_p = primitive(_logabsdet, "logabsdet")
defvjp(logabsdet_p, lambda g, ans, a: match_dtype(_expand2(g) * T(inv_p(a)), a))
defjvp(logabsdet_p, _logabsdet_jvp, batched=True)
defbatch(logabsdet_p, "leading")


def _slogdet_sign(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


def _slogdet_sign_jvp(t: Any, ans: Any, a: Any) -> Any:
    # the sign is det / |det|: the tangent of the determinant through sign's rule
    d = det_p(a)
    return _ufuncs.sign_jvp(_base.sum_p(cofactor(a, d) * t, axis=(-2, -1), keepdims=False), ans, d)


def _slogdet_sign_vjp(g: Any, ans: Any, a: Any) -> Any:
    d = det_p(a)
    return _expand2(_ufuncs.sign_vjp(g, ans, d)) * cofactor(a, d)


#: the sign of a complex determinant, ``det / |det|``, as NumPy's ``slogdet`` computes it (the product of the LU
#: factor's diagonal entries over their moduli, which rounds differently from the quotient); for real input the
#: sign is piecewise constant (``funcgrad.numpy.linalg.slogdet_sign_p``)
slogdet_complex_sign_p = primitive(_slogdet_sign, "slogdet_complex_sign")
defvjp(slogdet_complex_sign_p, _slogdet_sign_vjp)
defjvp(slogdet_complex_sign_p, _slogdet_sign_jvp, batched=True)
defbatch(slogdet_complex_sign_p, "leading")


# --- cholesky (lower) -----------------------------------------------------------------------


def _phi(x: Any) -> Any:
    """Strict lower triangle plus half the diagonal."""
    n = shape(x)[-1]
    return x * (tril_mask(n, x, -1) + 0.5 * eye(n, x))


def _cholesky_jvp(t: Any, ans: Any, a: Any) -> Any:
    s_ = fold(t, lower=True)
    left = triangular_solve_p(ans, s_, lower=True)  # L^-1 S
    x = T(triangular_solve_p(cj(ans), T(left), lower=True))  # L^-1 S L^-H
    return matmul(ans, _phi(x))


def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    p = _phi(matmul(T(ans), g))
    left = triangular_solve_p(T(ans), p, lower=False)  # L^-T P
    gs = T(triangular_solve_p(H(ans), T(left), lower=False))  # L^-T P conj(L)^-1
    return fold_transpose(gs, lower=True)


cholesky_p = primitive(_backends.cholesky, "cholesky")  # the lower factor on every backend (Dask's is upper)
defvjp(cholesky_p, _cholesky_vjp)
defjvp(cholesky_p, _cholesky_jvp, batched=True)
defbatch(cholesky_p, "leading")


# --- eigh: packed (..., N+1, N) = [eigenvalues; eigenvectors] -------------------------------


def _eigh(a: Any, lower: bool) -> Any:
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return np.concatenate([w[..., None, :].astype(v.dtype), v], axis=-2)


def _eigh_parts(ans: Any) -> tuple[Any, Any]:
    n = shape(ans)[-1]
    return part(ans, 0, 1), part(ans, 1, n + 1)


def _real_row(w_row: Any) -> Any:
    """Eigenvalues (stored in the packed output's dtype) as a real vector."""
    w = _reshape_last(w_row)
    return _base.real(w) if is_complex(w) else w


def _eigh_jvp(t: Any, ans: Any, a: Any, lower: bool) -> Any:
    # complex Hermitian input: eigenvectors get the gauge Im(v^H dv) = 0, so only
    # phase-invariant functions of them have meaningful derivatives
    w, v = _eigh_parts(ans)
    x = matmul(H(v), matmul(fold(t, lower), v))
    dw = diag_part(x)
    dw = row(_base.real(dw) if is_complex(dw) else dw)
    dv = matmul(v, gap_reciprocal(_real_row(w)) * x)
    return pack(dw, dv)


def _reshape_last(w_row: Any) -> Any:
    s = shape(w_row)
    return _base.reshape_p(w_row, newshape=s[:-2] + (s[-1],))


def _eigh_vjp(g: Any, ans: Any, a: Any, lower: bool) -> Any:
    w, v = _eigh_parts(ans)
    gw, gv = _eigh_parts(g)
    inner = diag_embed(_real_row(gw)) + gap_reciprocal(_real_row(w)) * matmul(T(v), gv)
    return fold_transpose(matmul(cj(v), matmul(inner, T(v))), lower)


eigh_p = primitive(_eigh, "eigh")
defvjp(eigh_p, _eigh_vjp)
defjvp(eigh_p, _eigh_jvp, batched=True)
defbatch(eigh_p, "leading")


# --- eigvalsh: numpy.linalg.eigvalsh's own values (another LAPACK driver than eigh's, other bits) ----------


def _eigvalsh(a: Any, lower: bool) -> Any:
    return np.linalg.eigvalsh(a, UPLO="L" if lower else "U")


def _eigvalsh_vjp(g: Any, ans: Any, a: Any, lower: bool) -> Any:
    # eigh's own rule with a zero cotangent for the vectors: the same derivatives at every order as
    # eigh(a)[0] (a second derivative at a tie comes out NaN, flagged, not a plausible wrong number)
    packed = eigh_p(a, lower=lower)
    gw = row(g)
    n = shape(gw)[-1]
    return _eigh_vjp(pack(gw, np.zeros(shape(gw)[:-2] + (n, n), dtype(packed))), packed, a, lower)


def _eigvalsh_jvp(t: Any, ans: Any, a: Any, lower: bool) -> Any:
    packed = eigh_p(a, lower=lower)
    return _real_row(part(_eigh_jvp(t, packed, a, lower), 0, 1))


eigvalsh_p = primitive(_eigvalsh, "eigvalsh")
defvjp(eigvalsh_p, _eigvalsh_vjp)
defjvp(eigvalsh_p, _eigvalsh_jvp, batched=True)
defbatch(eigvalsh_p, "leading")


# --- eig: packed (..., N+1, N) = [eigenvalues; eigenvectors] --------------------------------
#
# NumPy (LAPACK geev) normalises each eigenvector to unit 2-norm with its
# largest-modulus component real.  The tangent of an eigenvector is
# V (F o V^-1 dA V) plus a multiple c of the vector itself chosen to keep
# both normalisations: Re(c) keeps the norm, Im(c) keeps that component real.


def _eig(a: Any) -> Any:
    w, v = np.linalg.eig(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _pivot_impl(v: Any) -> Any:
    """One-hot (..., N, N) mask of each column's largest-modulus component."""
    idx = np.argmax(np.abs(v), axis=-2)
    return (np.arange(v.shape[-2])[:, None] == idx[..., None, :]).astype(real_dtype(v))


#: a recorded position (no derivative): which component of each eigenvector fixes its phase
_pivot = primitive(_pivot_impl, "eig_pivot")
def_nondiff(_pivot)
defbatch(_pivot, "leading")


def _eig_jvp(t: Any, ans: Any, a: Any) -> Any:
    w, v = _eigh_parts(ans)
    w = _reshape_last(w)
    t = lift(t, a, ans)
    x = matmul(inv_p(v), matmul(t, v))
    dw = row(diag_part(x))
    dv0 = matmul(v, gap_reciprocal(w) * x)
    if is_complex(ans) or is_complex(dv0):
        pivot = _pivot(v)
        vk = _base.sum_p(v * pivot, axis=(-2,), keepdims=True)
        norm_part = _base.real(_base.sum_p(_ufuncs.conj(v) * dv0, axis=(-2,), keepdims=True))
        phase_part = _ufuncs.imag(_base.sum_p(dv0 * pivot, axis=(-2,), keepdims=True)) / _base.real(vk)
        dv = dv0 - v * norm_part - 1j * (v * phase_part)
    else:
        dv = dv0 - v * _base.sum_p(v * dv0, axis=(-2,), keepdims=True)
    return pack(dw, dv)


def _eig_vjp(g: Any, ans: Any, a: Any) -> Any:
    w, v = _eigh_parts(ans)
    w = _reshape_last(w)
    gw, gv = _eigh_parts(g)
    gc = _base.sum_p(v * gv, axis=(-2,), keepdims=True)  # cotangent of the per-column multiple
    if is_complex(ans) or is_complex(g):
        pivot = _pivot(v)
        vk = _base.real(_base.sum_p(v * pivot, axis=(-2,), keepdims=True))
        gv0 = gv - _base.real(gc) * _ufuncs.conj(v) - 1j * (pivot * (_ufuncs.imag(gc) / vk))
    else:
        gv0 = gv - gc * v
    gx = diag_embed(_reshape_last(gw)) + gap_reciprocal(w) * matmul(T(v), gv0)
    vinv = inv_p(v)
    return match_dtype(matmul(T(vinv), matmul(gx, T(v))), a)


eig_p = primitive(_eig, "eig")
defvjp(eig_p, _eig_vjp)
defjvp(eig_p, _eig_jvp, batched=True)
defbatch(eig_p, "leading")


# --- svd (reduced): packed (..., M+1+N, K) = [U; s; V] with V = Vh^T, K = min(M, N) --------


def _svd(a: Any) -> Any:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :].astype(u.dtype), np.conj(np.swapaxes(vh, -1, -2))], axis=-2)


def _svd_parts(ans: Any, a: Any) -> tuple[Any, Any, Any]:
    m, n = shape(a)[-2:]
    return part(ans, 0, m), _real_row(part(ans, m, m + 1)), part(ans, m + 1, m + 1 + n)


def _svd_couplings(s: Any) -> tuple[Any, Any]:
    """``1 / (s[j] - s[i])`` (zero at ties) and ``1 / (s[j] + s[i])`` (zero where both vanish), off the diagonal.

    ``F o (dP S + S dP^T)`` with ``F = 1 / (s[j]^2 - s[i]^2)`` splits into
    ``(Fm o (dP + dP^T) + Fp o (dP - dP^T)) / 2``; only the first part is
    singular at ties, so only it is dropped there.
    """
    k = shape(s)[-1]
    off = 1.0 - eye(k, s)
    plus = row(s) + col(s)
    return gap_reciprocal(s), safe_reciprocal(plus) * off


def _svd_jvp(t: Any, ans: Any, a: Any) -> Any:
    # A = U S V^H; for complex input the phase gauge puts Im(diag(U^H dA V)) / s into U
    m, n = shape(a)[-2:]
    k = min(m, n)
    u, s, v = _svd_parts(ans, a)
    t = lift(t, a, ans)
    dp = matmul(H(u), matmul(t, v))
    ds = diag_part(dp)
    fm, fp = _svd_couplings(s)
    sym = fm * (dp + H(dp)) * 0.5
    skew = fp * (dp - H(dp)) * 0.5
    du = matmul(u, sym + skew)
    dv = matmul(v, sym - skew)
    sinv = row(safe_reciprocal(s))
    if is_complex(ds):
        du = du + u * (1j * row(_ufuncs.imag(ds))) * sinv
        ds = _base.real(ds)
    if m > k:
        tv = matmul(t, v)
        du = du + (tv - matmul(u, matmul(H(u), tv))) * sinv
    if n > k:
        tu = matmul(H(t), u)
        dv = dv + (tu - matmul(v, matmul(H(v), tu))) * sinv
    return pack(du, row(ds), dv)


def _svd_vjp(g: Any, ans: Any, a: Any) -> Any:
    m, n = shape(a)[-2:]
    k = min(m, n)
    u, s, v = _svd_parts(ans, a)
    gu, gs, gv = _svd_parts(g, a)
    fm, fp = _svd_couplings(s)
    j = matmul(T(u), gu)
    kk = matmul(T(v), gv)
    sym = fm * (j + kk)
    skew = fp * (j - kk)
    inner = diag_embed(gs) + (sym + H(sym) + skew - H(skew)) * 0.5
    sinv = row(safe_reciprocal(s))
    if is_complex(j):
        inner = inner + diag_embed(1j * _ufuncs.imag(diag_part(j))) * sinv
    out = matmul(cj(u), matmul(inner, T(v)))
    if m > k:
        gus = gu * sinv
        out = out + matmul(gus - matmul(cj(u), matmul(T(u), gus)), T(v))
    if n > k:
        gvs = gv * sinv
        out = out + matmul(cj(u), H(gvs - matmul(cj(v), matmul(T(v), gvs))))
    return unbroadcast(out, a)


svd_p = primitive(_svd, "svd")
defvjp(svd_p, _svd_vjp)
defjvp(svd_p, _svd_jvp, batched=True)
defbatch(svd_p, "leading")


# --- svdvals: numpy.linalg.svd(compute_uv=False)'s own values (another LAPACK call than the full svd's) ------


def _svdvals(a: Any) -> Any:
    return _backends.svd(a, compute_uv=False)  # Dask's svd takes no compute_uv


def _svdvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    # svd's own rule with zero cotangents for the vectors: the same derivatives at every order as svd(a)[1]
    packed = svd_p(a)
    m, n = shape(a)[-2:]
    gs = row(g)
    k = shape(gs)[-1]
    lead = shape(gs)[:-2]
    zeros = np.zeros(lead + (m, k), dtype(packed)), np.zeros(lead + (n, k), dtype(packed))
    return _svd_vjp(pack(zeros[0], gs, zeros[1]), packed, a)


def _svdvals_jvp(t: Any, ans: Any, a: Any) -> Any:
    packed = svd_p(a)
    m = shape(a)[-2]
    return _real_row(part(_svd_jvp(t, packed, a), m, m + 1))


svdvals_p = primitive(_svdvals, "svdvals")
defvjp(svdvals_p, _svdvals_vjp)
defjvp(svdvals_p, _svdvals_jvp, batched=True)
defbatch(svdvals_p, "leading")


# --- qr (reduced, M >= N): packed (..., M+N, N) = [Q; R] ------------------------------------


def _qr(a: Any) -> Any:
    q, r = _backends.qr(a)  # reduced (Dask's qr takes no mode)
    return np.concatenate([q, r], axis=-2)


def _qr_parts(ans: Any, a: Any) -> tuple[Any, Any]:
    m, n = shape(a)[-2:]
    return part(ans, 0, m), part(ans, m, m + n)


def _qr_jvp(t: Any, ans: Any, a: Any) -> Any:
    # Q^H dQ = Omega is skew-Hermitian; dR R^-1 = X - Omega is upper triangular with a real
    # diagonal (LAPACK's R has a real diagonal), X = Q^H dA R^-1
    m, n = shape(a)[-2:]
    q, r = _qr_parts(ans, a)
    t = lift(t, a, ans)
    b = right_solve(t, r)  # dA R^-1
    x = matmul(H(q), b)
    low = x * tril_mask(n, x, -1)
    y = x - low + H(low)
    if is_complex(y):
        y = y - 1j * (_ufuncs.imag(x) * eye(n, x))
    dq = b - matmul(q, y)
    dr = matmul(y, r)
    return pack(dq, dr)


def _qr_vjp(g: Any, ans: Any, a: Any) -> Any:
    n = shape(a)[-1]
    q, r = _qr_parts(ans, a)
    gq, gr = _qr_parts(g, a)
    gy = matmul(gr, T(r)) - matmul(T(q), gq)
    gx = gy * triu_mask(n, gy) + H(gy) * tril_mask(n, gy, -1)
    if is_complex(gx):
        gx = gx - 1j * (_ufuncs.imag(gy) * eye(n, gy))
    gb = matmul(cj(q), gx) + gq
    return unbroadcast(T(solve_p(r, T(gb))), a)  # gB R^-T


qr_p = primitive(_qr, "qr")
defvjp(qr_p, _qr_vjp)
defjvp(qr_p, _qr_jvp, batched=True)
defbatch(qr_p, "leading")


# --- qr of a wide matrix (M < N): packed (..., M, M+N) = [Q | R] ------------------------------


def _qr_wide(a: Any) -> Any:
    q, r = _backends.qr(a)
    return np.concatenate([q, r], axis=-1)


def _columns(x: Any, start: int, stop: int | None) -> Any:
    return getitem_p(x, index=(Ellipsis, slice(start, stop)))


def _qr_wide_jvp(t: Any, ans: Any, a: Any) -> Any:
    # [Q | R_X] is the reduced QR of the left block X; the right block is R_Y = Q^H Y
    m = shape(a)[-2]
    q, left = _columns(ans, 0, m), _columns(a, 0, m)
    square = pack(q, _columns(ans, m, 2 * m))
    t = lift(t, a, ans)
    d = _qr_jvp(_columns(t, 0, m), square, left)
    dq = part(d, 0, m)
    dr_y = matmul(H(dq), _columns(a, m, None)) + matmul(H(q), _columns(t, m, None))
    return _shape.concatenate_p(dq, part(d, m, 2 * m), dr_y, axis=-1)


def _qr_wide_vjp(g: Any, ans: Any, a: Any) -> Any:
    m = shape(a)[-2]
    q, left, right = _columns(ans, 0, m), _columns(a, 0, m), _columns(a, m, None)
    square = pack(q, _columns(ans, m, 2 * m))
    g_y = _columns(g, 2 * m, None)
    g_q = _columns(g, 0, m) + matmul(cj(right), H(g_y))  # R_Y = Q^H Y: conj and transpose are their own transposes
    g_left = _qr_vjp(pack(g_q, _columns(g, m, 2 * m)), square, left)
    return unbroadcast(_shape.concatenate_p(g_left, matmul(cj(q), g_y), axis=-1), a)


#: NumPy's QR of a wide matrix, one LAPACK call: ``Q`` and the left block of ``R`` are the reduced QR of the
#: left square block (the same bits), the right block is the reflectors applied to the right columns (not
#: ``Q^H @ Y``, which rounds differently); the rules differentiate ``qr(X)`` and ``Q^H Y``
qr_wide_p = primitive(_qr_wide, "qr_wide")
defvjp(qr_wide_p, _qr_wide_vjp)
defjvp(qr_wide_p, _qr_wide_jvp, batched=True)
defbatch(qr_wide_p, "leading")


# --- pinv and lstsq (derivative of the pseudo-inverse at constant rank) ---------------------


def pinv_tangent(t: Any, a: Any, p: Any) -> Any:
    """Tangent of ``pinv(a)`` (``p``) along ``t`` (Golub & Pereyra)."""
    m, n = shape(a)[-2:]
    th = H(t)
    out = -matmul(p, matmul(t, p))
    out = out + matmul(matmul(p, H(p)), matmul(th, eye(m, a) - matmul(a, p)))
    out = out + matmul(eye(n, a) - matmul(p, a), matmul(th, matmul(H(p), p)))
    return out


def pinv_cotangent(g: Any, a: Any, p: Any) -> Any:
    """Transpose of ``pinv_tangent`` under ``Re(sum(x * y))``."""
    m, n = shape(a)[-2:]
    out = -matmul(T(p), matmul(g, T(p)))
    second = matmul(eye(m, a) - matmul(a, p), matmul(T(g), matmul(p, H(p))))
    third = matmul(matmul(H(p), p), matmul(T(g), eye(n, a) - matmul(p, a)))
    extra = second + third
    if is_complex(extra):
        extra = _ufuncs.conj(extra)
    return out + extra


def _pinv(a: Any, options: tuple[tuple[str, Any], ...]) -> Any:
    return np.linalg.pinv(a, **dict(options))


pinv_p = primitive(_pinv, "pinv")
defvjp(pinv_p, lambda g, ans, a, options: match_dtype(pinv_cotangent(g, a, ans), a))
defjvp(pinv_p, lambda t, ans, a, options: pinv_tangent(t, a, ans), batched=True)
defbatch(pinv_p, "leading")


def _lstsq(a: Any, b: Any, rcond: Any) -> Any:
    return np.linalg.lstsq(a, b, rcond=rcond)[0]


def _lstsq_jvp_a(t: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    dp = pinv_tangent(t, a, pinv_p(a, options=(("rcond", rcond),)))
    if ndim(b) == 1:
        return _reshape_last_col(matmul(dp, col(b)))
    return matmul(dp, b)


def _reshape_last_col(x: Any) -> Any:
    return _base.reshape_p(x, newshape=shape(x)[:-1])


def _lstsq_jvp_b(t: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    p = pinv_p(a, options=(("rcond", rcond),))
    if ndim(b) == 1:
        return matmul(t, T(p))
    return matmul(p, t)


def _lstsq_vjp_a(g: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    p = pinv_p(a, options=(("rcond", rcond),))
    gp = col(g) * row(b) if ndim(b) == 1 else matmul(g, T(b))
    return match_dtype(pinv_cotangent(gp, a, p), a)


def _lstsq_vjp_b(g: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    p = pinv_p(a, options=(("rcond", rcond),))
    return match_dtype(matmul(g, p) if ndim(b) == 1 else matmul(T(p), g), b)


lstsq_p = primitive(_lstsq, "lstsq")
defvjp(lstsq_p, _lstsq_vjp_a, _lstsq_vjp_b)
defjvp(lstsq_p, _lstsq_jvp_a, _lstsq_jvp_b, batched=True)


def _lstsq_batch(prim: Any, values: list[Any], batched: list[bool], size: int, rcond: Any) -> Any:
    # numpy.linalg.lstsq takes one matrix: a batch of right-hand sides becomes more columns of one,
    # a batch of matrices goes through pinv (a stack), which has lstsq's default cutoff
    a, b = values
    if not batched[0]:
        vector = ndim(b) == 2
        columns = T(b) if vector else _base.reshape_p(_base.transpose_p(b, perm=(1, 0, 2)), newshape=(shape(b)[1], -1))
        x = lstsq_p(a, columns, rcond=rcond)
        if vector:
            return T(x)
        return _base.transpose_p(_base.reshape_p(x, newshape=(shape(x)[0], size, shape(b)[2])), perm=(1, 0, 2))
    p = pinv_p(a, options=(("rcond", rcond),))
    if batched[1] and ndim(b) == 2:
        return _base.reshape_p(matmul(p, _base.reshape_p(b, newshape=shape(b) + (1,))), newshape=shape(b)[:1] + shape(p)[1:2])
    return matmul(p, b)


defbatch(lstsq_p, _lstsq_batch)


# --- vector p-norm ----------------------------------------------------------------------------


def _pnorm(x: Any, p: float, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _pnorm_weight(ans: Any, x: Any, p: float, axis: tuple[int, ...], keepdims: bool) -> Any:
    """d||x||_p / dx paired with Re(w * dx): |x|^(p-2) conj(x) / ||x||^(p-1), zero where x or the norm is 0."""
    zero = x == 0
    mag = _ufuncs.absolute(x)
    scaled = _ufuncs.power(_ufuncs.where(zero, 1.0, mag), p - 2.0) * (_ufuncs.conj(x) if is_complex(x) else x)
    zero_norm = ans == 0
    denom = _ufuncs.power(_ufuncs.where(zero_norm, 1.0, ans), p - 1.0)
    denom_full = _base.expand_reduced(denom, x, axis, keepdims)
    weight = _ufuncs.where(zero, 0.0, scaled / denom_full)
    if not is_plain(zero_norm) or zero_norm.any():
        kept = zero_norm if keepdims else _base.reshape_p(zero_norm, newshape=_base.kept_shape(shape(x), axis))
        weight = _ufuncs.where(kept, 0.0, weight)
    return weight


def _pnorm_jvp(t: Any, ans: Any, x: Any, p: float, axis: tuple[int, ...], keepdims: bool) -> Any:
    prod = _pnorm_weight(ans, x, p, axis, keepdims) * t
    if is_complex(prod):
        prod = _base.real(prod)
    return _base.sum_p(prod, axis=axis, keepdims=keepdims)


pnorm_p = primitive(_pnorm, "pnorm")
defvjp(
    pnorm_p,
    lambda g, ans, x, p, axis, keepdims: match_dtype(
        _base.expand_reduced(g, x, axis, keepdims) * _pnorm_weight(ans, x, p, axis, keepdims), x
    ),
)
defjvp(pnorm_p, _pnorm_jvp, batched=True)
defbatch(pnorm_p, "leading")
