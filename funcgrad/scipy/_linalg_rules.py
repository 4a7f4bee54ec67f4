"""Primitives behind ``funcgrad.scipy.linalg`` and their rules (the wrappers live in ``linalg.py``).

Each primitive's implementation is SciPy's routine, so plain values are
SciPy's exactly.  Rules are written with funcgrad's own primitives (matrix
products, ``solve``, these primitives themselves), so they differentiate
again.  Forward rules take a leading batch of tangents: the implementations
below accept extra leading axes on their right-hand sides.  Complex values
follow JAX's convention (reverse rules transpose the forward rules, without
conjugating the holomorphic parts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
import scipy.linalg as sl

import funcgrad.numpy as fnp
from funcgrad._prims import _base, _select, _shape
from funcgrad._prims._base import broadcast_batch, lift, match_dtype, unbroadcast
from funcgrad._prims._contract import matmul
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._linalg import (
    H,
    T,
    _phi,
    cj,
    eye,
    fold,
    fold_transpose,
    right_solve,
    solve_p,
    tril_mask,
    triu_mask,
)
from funcgrad._rules import def_nondiff, defbatch, defjvp, defvjp, primitive
from funcgrad._values import dtype, ndim, shape

# --- running SciPy's 2-D routines over leading (batch) axes -----------------------------------


def over_batch(solve: Callable[..., Any], *arrays: Any) -> Any:
    """``solve`` applied matrix by matrix over the broadcast leading axes of ``arrays``."""
    arrays = tuple(np.asarray(a) for a in arrays)
    batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
    if not batch:
        return solve(*arrays)
    full = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
    results = [solve(*(a[index] for a in full)) for index in np.ndindex(batch)]
    return np.stack(results).reshape(batch + results[0].shape)


def _columns_solve(solve: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``solve(a, b)`` for one matrix ``a`` and a stack ``b``: the stack becomes extra columns (one call)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim > 2:
        return over_batch(solve, a, b)
    if b.ndim <= 2:
        return solve(a, b)
    n, k = b.shape[-2:]
    columns = np.moveaxis(b.reshape((-1, n, k)), 0, 1).reshape(n, -1)
    out = solve(a, columns)
    rows = out.shape[0]  # the solution's rows (a's columns)
    return np.moveaxis(out.reshape((rows, -1, k)), 1, 0).reshape(b.shape[:-2] + (rows, k))


def _op(m: Any, trans: int) -> Any:
    """``m``, ``m.T`` or ``m.conj().T`` (SciPy's ``trans`` 0, 1, 2)."""
    return m if trans == 0 else T(m) if trans == 1 else H(m)


# --- solve_triangular (b always a stack of matrices here: the wrapper handles vectors) ---------


def _solve_triangular(a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    def solve(a2: Any, b2: Any) -> Any:
        return sl.solve_triangular(
            a2, b2, trans=trans, lower=lower, unit_diagonal=unit_diagonal, check_finite=check_finite
        )

    return _columns_solve(solve, a, b)


def triangle(a: Any, lower: bool, unit_diagonal: bool) -> np.ndarray[Any, Any]:
    """The mask of the entries of ``a`` a triangular solve reads."""
    n = shape(a)[-1]
    skip = 1 if unit_diagonal else 0
    return tril_mask(n, a, -skip) if lower else triu_mask(n, a, skip)


def _st_jvp_a(t: Any, ans: Any, a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    change = matmul(_op(lift(t, a, ans) * triangle(a, lower, unit_diagonal), trans), ans)
    return -solve_triangular_p(a, change, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                               check_finite=check_finite)  # fmt: skip


def _st_jvp_b(t: Any, ans: Any, a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    out = solve_triangular_p(a, lift(t, b, ans), trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                             check_finite=check_finite)  # fmt: skip
    target = shape(t)[: ndim(t) - ndim(b)] + shape(ans)
    return out if shape(out) == target else _base.broadcast_to_p(out, shape=target)


def _st_transposed(g: Any, a: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    """``op(A)^-T g``: the cotangent of ``b``."""
    if trans == 0:
        return solve_triangular_p(a, g, trans=1, lower=lower, unit_diagonal=unit_diagonal, check_finite=check_finite)
    other = a if trans == 1 else cj(a)
    return solve_triangular_p(other, g, trans=0, lower=lower, unit_diagonal=unit_diagonal, check_finite=check_finite)


def _st_vjp_a(g: Any, ans: Any, a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    gb = _st_transposed(g, a, trans, lower, unit_diagonal, check_finite)
    outer = matmul(gb, T(ans)) if trans == 0 else matmul(ans, T(gb))
    if trans == 2:
        outer = cj(outer)
    return unbroadcast(-outer * triangle(a, lower, unit_diagonal), a)


def _st_vjp_b(g: Any, ans: Any, a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool, check_finite: bool) -> Any:
    return unbroadcast(_st_transposed(g, a, trans, lower, unit_diagonal, check_finite), b)


solve_triangular_p = primitive(_solve_triangular, "linalg.solve_triangular")
defvjp(solve_triangular_p, _st_vjp_a, _st_vjp_b)
defjvp(solve_triangular_p, _st_jvp_a, _st_jvp_b, batched=True)


# --- cholesky (SciPy's: upper by default; reads only that triangle) --------------------------


def _cholesky(a: Any, lower: bool, check_finite: bool) -> Any:
    return sl.cholesky(a, lower=lower, check_finite=check_finite)


def _cholesky_jvp(t: Any, ans: Any, a: Any, lower: bool, check_finite: bool) -> Any:
    factor = ans if lower else H(ans)  # the lower factor L, A = L L^H
    x = right_solve(solve_p(factor, fold(t, lower)), H(factor))  # L^-1 S L^-H
    change = matmul(factor, _phi(x))
    return change if lower else H(change)


def _cholesky_vjp(g: Any, ans: Any, a: Any, lower: bool, check_finite: bool) -> Any:
    factor = ans if lower else H(ans)
    g_factor = g if lower else H(g)
    p = _phi(matmul(T(factor), g_factor))
    return fold_transpose(right_solve(solve_p(T(factor), p), cj(factor)), lower)  # L^-T P conj(L)^-1


cholesky_p = primitive(_cholesky, "linalg.cholesky")
defvjp(cholesky_p, _cholesky_vjp)
defjvp(cholesky_p, _cholesky_jvp, batched=True)


# --- lu_factor: the packed factors (differentiable) and the pivots (integers, zero derivative) --


def _lu_packed(a: Any, check_finite: bool) -> Any:
    return over_batch(lambda m: sl.lu_factor(m, check_finite=check_finite)[0], a)


def _lu_pivots(a: Any, check_finite: bool) -> Any:
    return over_batch(lambda m: sl.lu_factor(m, check_finite=check_finite)[1][None], a)[..., 0, :]


def _permutation(piv: Any, inverse: bool) -> np.ndarray[Any, Any]:
    """Row order ``perm`` with ``A[perm] = L U``, from LAPACK's swaps (row ``i`` with row ``piv[i]``)."""
    piv = np.asarray(piv)
    perms = np.empty(piv.shape, np.intp)
    for index in np.ndindex(piv.shape[:-1]):
        rows = np.arange(piv.shape[-1])
        for i, p in enumerate(piv[index]):
            rows[i], rows[p] = rows[p], rows[i]
        perms[index] = np.argsort(rows) if inverse else rows
    return perms


lu_pivots_p = primitive(_lu_pivots, "lu_pivots")
def_nondiff(lu_pivots_p)
permutation_p = primitive(_permutation, "lu_permutation")
def_nondiff(permutation_p)


def permute_rows(x: Any, perm: Any) -> Any:
    """``x[..., perm, :]`` (``perm`` of one matrix, or one row order per matrix of a stack)."""
    if np.ndim(perm) == 1:
        return _select.take(x, perm, axis=-2)
    index = np.broadcast_to(np.asarray(perm)[..., :, None], shape(x)[-ndim(perm) - 1 :])
    return _select.take_along_axis(x, index, axis=-2)


def _lu_factors(ans: Any) -> tuple[Any, Any]:
    n = shape(ans)[-1]
    return ans * tril_mask(n, ans, -1) + eye(n, ans), ans * triu_mask(n, ans)


def _rows(a: Any, check_finite: bool, inverse: bool) -> Any:
    return permutation_p(lu_pivots_p(a, check_finite=check_finite), inverse=inverse)


def _lu_jvp(t: Any, ans: Any, a: Any, check_finite: bool) -> Any:
    # P^T A = L U, so L^-1 P^T dA U^-1 = L^-1 dL + dU U^-1: its strict lower part and its upper part
    n = shape(a)[-1]
    low, up = _lu_factors(ans)
    x = right_solve(solve_p(low, permute_rows(t, _rows(a, check_finite, False))), up)
    return matmul(low, x * tril_mask(n, x, -1)) + matmul(x * triu_mask(n, x), up)


def _lu_vjp(g: Any, ans: Any, a: Any, check_finite: bool) -> Any:
    n = shape(a)[-1]
    low, up = _lu_factors(ans)
    strict, upper = tril_mask(n, g, -1), triu_mask(n, g)
    gx = matmul(T(low), g * strict) * strict + matmul(g * upper, T(up)) * upper
    y = solve_p(T(low), right_solve(gx, T(up)))  # L^-T gX U^-T
    return match_dtype(permute_rows(y, _rows(a, check_finite, True)), a)


lu_packed_p = primitive(_lu_packed, "linalg.lu_factor")
defvjp(lu_packed_p, _lu_vjp)
defjvp(lu_packed_p, _lu_jvp, batched=True)


# --- solve_sylvester: A X + X B = Q -----------------------------------------------------------


def _sylvester(a: Any, b: Any, q: Any) -> Any:
    return over_batch(sl.solve_sylvester, a, b, q)


def _full(out: Any, t: Any, x: Any, ans: Any) -> Any:
    target = shape(t)[: ndim(t) - ndim(x)] + shape(ans)
    return out if shape(out) == target else _base.broadcast_to_p(out, shape=target)


def _sylvester_cotangent(g: Any, a: Any, b: Any) -> Any:
    """``Y`` with ``A^T Y + Y B^T = G``: the transpose of ``X -> A X + X B`` inverted."""
    return solve_sylvester_p(T(a), T(b), g)


solve_sylvester_p = primitive(_sylvester, "linalg.solve_sylvester")
defvjp(
    solve_sylvester_p,
    lambda g, ans, a, b, q: unbroadcast(-matmul(_sylvester_cotangent(g, a, b), T(ans)), a),
    lambda g, ans, a, b, q: unbroadcast(-matmul(T(ans), _sylvester_cotangent(g, a, b)), b),
    lambda g, ans, a, b, q: unbroadcast(_sylvester_cotangent(g, a, b), q),
)
defjvp(
    solve_sylvester_p,
    lambda t, ans, a, b, q: _full(solve_sylvester_p(a, b, -matmul(lift(t, a, ans), ans)), t, a, ans),
    lambda t, ans, a, b, q: _full(solve_sylvester_p(a, b, -matmul(ans, lift(t, b, ans))), t, b, ans),
    lambda t, ans, a, b, q: _full(solve_sylvester_p(a, b, lift(t, q, ans)), t, q, ans),
    batched=True,
)


# --- sqrtm: X X = A, so X dX + dX X = dA --------------------------------------------------------


def _sqrtm(a: Any) -> Any:
    return sl.sqrtm(a)


sqrtm_p = primitive(_sqrtm, "linalg.sqrtm")
defvjp(sqrtm_p, lambda g, ans, a: match_dtype(solve_sylvester_p(T(ans), T(ans), g), a))
defjvp(sqrtm_p, lambda t, ans, a: _full(solve_sylvester_p(ans, ans, t), t, a, ans), batched=True)


#: whether a root came out complex: recorded (no derivative), so a replay can guard the dtype it recorded
complex_root_p = primitive(lambda root: np.iscomplexobj(root), "linalg.sqrtm_is_complex")
def_nondiff(complex_root_p)


# --- expm: the Frechet derivative is a block of expm([[A, E], [0, A]]) --------------------------


def _expm(a: Any) -> Any:
    return sl.expm(a)


def frechet(a: Any, e: Any) -> Any:
    """``L(A, E)``, the derivative of ``expm`` at ``A`` along ``E``: the top-right block of
    ``expm([[A, E], [0, A]])`` (Mathias' identity); ``E`` may carry leading batch axes."""
    n = shape(a)[-1]
    common = np.broadcast_shapes(shape(a), shape(e))
    a = a if shape(a) == common else _base.broadcast_to_p(a, shape=common)
    e = e if shape(e) == common else _base.broadcast_to_p(e, shape=common)
    zero = np.zeros(common, np.result_type(dtype(a), dtype(e)))
    top = _shape.concatenate_p(a, e, axis=-1)
    bottom = _shape.concatenate_p(zero, a, axis=-1)
    block = expm_p(_shape.concatenate_p(top, bottom, axis=-2))
    return getitem_p(block, index=(Ellipsis, slice(0, n), slice(n, 2 * n)))


expm_p = primitive(_expm, "linalg.expm")
defvjp(expm_p, lambda g, ans, a: match_dtype(frechet(T(a), g), a))
defjvp(expm_p, lambda t, ans, a: frechet(a, t), batched=True)


# --- batching (vmap) ------------------------------------------------------------------------------

#: SciPy maps these over leading (stack) axes itself from 1.15 on; before that they loop over the batch
_STACKS = "leading" if tuple(int(p) for p in scipy.__version__.split(".")[:2]) >= (1, 15) else "loop"
for _prim in (cholesky_p, expm_p, sqrtm_p, solve_sylvester_p):
    defbatch(_prim, _STACKS)
# one dtype for the whole batch: each example's root is complex exactly when the batch's is
defbatch(complex_root_p, lambda prim, values, batched, size: broadcast_batch(prim(*values), size))


# --- solve_banded: A x = b with A stored by diagonals, ab[u + i - j, j] = A[i, j] ----------------


def _solve_banded(ab: Any, b: Any, lower: int, upper: int, check_finite: bool) -> Any:
    return sl.solve_banded((lower, upper), ab, b, check_finite=check_finite)


def _shift(v: Any, s: int) -> Any:
    """``w[j] = v[j + s]`` along the first axis, zero where ``j + s`` is outside ``v``."""
    n = shape(v)[0]
    if s == 0:
        return v
    if abs(s) >= n:
        return v * 0
    pad = v[: abs(s)] * 0
    return fnp.concatenate([v[s:], pad]) if s > 0 else fnp.concatenate([pad, v[: n + s]])


def _rows_like(row: Any, x: Any) -> Any:
    """One diagonal row of ``ab`` (length n), shaped to multiply ``x``'s first axis."""
    return fnp.reshape(row, (shape(row)[0],) + (1,) * (ndim(x) - 1)) if ndim(x) > 1 else row


def band_matvec(ab: Any, x: Any, lower: int, upper: int) -> Any:
    """``A @ x`` from the diagonals: row ``k`` of ``ab`` holds the diagonal with offset ``upper - k``."""
    total = None
    for k in range(lower + upper + 1):
        term = _shift(_rows_like(ab[k], x) * x, upper - k)
        total = term if total is None else total + term
    return total


def band_transpose(ab: Any, lower: int, upper: int) -> Any:
    """The diagonals of ``A.T`` (lower and upper bandwidths swapped): row ``k`` is row ``l + u - k`` of ``ab``,
    shifted by ``k - lower``."""
    rows = [_shift(ab[lower + upper - k], k - lower) for k in range(lower + upper + 1)]
    return fnp.stack(rows, axis=0)


def _sb_jvp_ab(t: Any, ans: Any, ab: Any, b: Any, lower: int, upper: int, check_finite: bool) -> Any:
    change = band_matvec(t, ans, lower, upper)
    return -solve_banded_p(ab, change, lower=lower, upper=upper, check_finite=check_finite)


def _sb_jvp_b(t: Any, ans: Any, ab: Any, b: Any, lower: int, upper: int, check_finite: bool) -> Any:
    return solve_banded_p(ab, t, lower=lower, upper=upper, check_finite=check_finite)


def _sb_vjp_b(g: Any, ans: Any, ab: Any, b: Any, lower: int, upper: int, check_finite: bool) -> Any:
    return solve_banded_p(band_transpose(ab, lower, upper), g, lower=upper, upper=lower, check_finite=check_finite)


def _sb_vjp_ab(g: Any, ans: Any, ab: Any, b: Any, lower: int, upper: int, check_finite: bool) -> Any:
    # the cotangent of A is -(A^-T g) x^T, read on the band: entry (k, j) pairs row j + k - upper with column j
    adjoint = _sb_vjp_b(g, ans, ab, b, lower, upper, check_finite)
    rows = []
    for k in range(lower + upper + 1):
        product = _shift(adjoint, k - upper) * ans
        rows.append(-fnp.sum(product, axis=tuple(range(1, ndim(product)))))
    return fnp.stack(rows, axis=0)


solve_banded_p = primitive(_solve_banded, "linalg.solve_banded")
defvjp(solve_banded_p, _sb_vjp_ab, _sb_vjp_b)
defjvp(solve_banded_p, _sb_jvp_ab, _sb_jvp_b)
