"""``funcgrad.numpy.linalg``: NumPy's linear algebra with derivative rules.

Every function takes stacks of matrices (shape ``(..., M, N)``) as NumPy
does, returns exactly NumPy's values on plain arrays, and is differentiable
in forward and reverse mode to any order on traced ones (the rules live in
``_linalg_rules.py``).  ``numpy.linalg.inv(x)`` on a traced ``x`` lands
here too.

Limits (unsupported cases raise a clear error; the one silent limit is second
derivatives exactly at repeated eigenvalues, see below):

* ``eigh``, ``cholesky``: NumPy reads only one triangle of the input
  (``UPLO``; ``cholesky`` the lower one), so the derivative is taken with
  respect to that triangle: the gradient is zero in the other triangle and
  its off-diagonal entries are ``G[i, j] + G[j, i]`` of the symmetric
  gradient.  Symmetrise with ``(G + G.T) / 2`` if you want the symmetric
  one (JAX's convention).
* repeated eigenvalues (``eigh``, ``eig``) and singular values (``svd``):
  individual eigenvalues and the eigenvectors inside a tied group are not
  differentiable there.  The coupling between values tied to rounding
  (``|w[i] - w[j]| <= 64 eps max|w|``) is taken as zero.  Then first
  derivatives of functions symmetric in the tied values (``sum``,
  ``sum of squares``, ``logdet``, norms) and of the tied group's projector
  ``V_c V_c^H`` are right and finite; eigenvector functions that depend on
  the basis inside the group get an arbitrary finite number; nearly (but
  not exactly) tied values give huge eigenvector derivatives.  Second
  derivatives exactly at ties would need a divided difference of the loss's
  gradient, which no local rule sees: rather than a plausible wrong number
  they come out as nan (as in JAX).  Take Hessians of spectral functions at
  distinct values, e.g. not exactly at the identity.
* ``eig``: eigenvalues must be distinct for eigenvector derivatives; the
  eigenvector derivative keeps NumPy's normalisation (unit norm, largest
  component real).  Output is complex whenever NumPy's is.
* ``svd``: singular values are always differentiable (finite at repeated
  values); ``U``/``Vh`` need distinct, nonzero singular values.  With
  ``full_matrices=True`` and ``M != N`` the extra columns of ``U`` or rows
  of ``Vh`` are not unique, so this raises ``NotImplementedError`` (use
  ``full_matrices=False``).
* ``qr``: modes ``'reduced'``, ``'r'``, and ``'complete'`` when
  ``M <= N``; needs full-rank input.
* ``pinv``, ``lstsq``: the derivative of the pseudo-inverse at constant
  (full) rank.  ``lstsq`` returns a differentiable solution, differentiable
  residuals and singular values, and a plain ``rank``.
* ``det`` of a singular matrix: the derivative is the cofactor matrix,
  computed without an inverse (exact at every order up to 8 x 8; larger
  singular matrices: real ones to first order, complex ones raise
  ``LinAlgError``).  ``slogdet``'s ``logabsdet`` is ``-inf`` there and its
  derivative raises ``LinAlgError``.  The sign from ``slogdet`` is plain
  (zero derivative) for real input.
* ``matrix_rank``: a plain integer, no derivative.
* complex input is differentiable everywhere (JAX's convention).  The
  eigenvectors of ``eigh`` and the singular vectors of ``svd`` have an
  arbitrary phase, so only phase-invariant functions of them (``|v|**2``,
  ``v @ diag @ v.conj().T``, ``U @ Vh``) have meaningful derivatives;
  ``eig`` keeps NumPy's normalisation, so its eigenvectors are
  differentiable themselves.

>>> import funcgrad as fg
>>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> np.round(fg.grad(lambda a: det(a))(a), 6)
array([[ 3., -1.],
       [-1.,  2.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import _backends, _errors
from funcgrad._prims import _base, _contract, _reductions, _select, _shape, _ufuncs
from funcgrad._prims import _linalg as rules
from funcgrad._prims._base import broadcast_batch
from funcgrad._prims._contract import matmul
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._shape import operand
from funcgrad._rules import def_nondiff, defbatch, defjvp, defvjp, primitive
from funcgrad._trace import Tracer, full_lower, read_value
from funcgrad._values import dtype, is_traced, ndim, normalize_axes, shape

__all__ = [
    "norm",
    "vector_norm",
    "matrix_norm",
    "inv",
    "pinv",
    "solve",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "eig",
    "eigvals",
    "svd",
    "svdvals",
    "qr",
    "lstsq",
    "matrix_power",
    "multi_dot",
    "tensorinv",
    "tensorsolve",
    "matrix_rank",
    "cond",
    "matrix_transpose",
    "trace",
    "diagonal",
    "outer",
    "cross",
    "tensordot",
    "vecdot",
    "matmul",
    "LinAlgError",
]

LinAlgError = np.linalg.LinAlgError
_la: Any = np.linalg  # untyped handle: NumPy's stubs want Literal modes

# NumPy's result types (named tuples); plain tuples on NumPy versions without them
_results = getattr(np.linalg, "_linalg", None)


def _numpy(*names: str) -> list[Any]:
    """The named ``numpy.linalg`` functions this NumPy has (``vector_norm`` and ``svdvals`` are NumPy 2)."""
    return [getattr(np.linalg, name) for name in names if hasattr(np.linalg, name)]


def _result(name: str, *values: Any) -> Any:
    kind = getattr(_results, name, None)
    return kind(*values) if kind is not None else tuple(values)


def _square(name: str, a: Any) -> None:
    s = shape(a)
    if len(s) < 2:
        raise _errors.linalg_rank(len(s), name)
    if s[-1] != s[-2]:
        raise _errors.linalg_not_square(name, s)


def _at_least_2d(name: str, a: Any) -> None:
    if len(shape(a)) < 2:
        raise _errors.linalg_rank(len(shape(a)), name)


# --- the 2-norm primitive (zero derivative at zero) ------------------------------------------


def _norm2(x: Any, axis: tuple[int, ...], keepdims: bool, whole: bool = False) -> Any:
    if whole and isinstance(x, np.ndarray):
        # numpy.linalg.norm's own flat path (a dot product), as the plain call takes it
        return _la.norm(x, keepdims=keepdims)
    return np.sqrt(np.sum(np.real(x * np.conj(x)), axis=axis, keepdims=keepdims))


def _safe(ans: Any) -> Any:
    return _ufuncs.where(ans == 0, 1.0, ans)


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool, whole: bool = False) -> Any:
    # d|x| = Re(conj(x) dx) / |x|; taken as zero at x = 0 (the minimum-norm subgradient)
    scale = _base.expand_reduced(g / _safe(ans), x, axis, keepdims)
    return scale * _ufuncs.conj(x)


def _norm2_jvp(t: Any, ans: Any, x: Any, axis: tuple[int, ...], keepdims: bool, whole: bool = False) -> Any:
    inner = _base.sum_p(_base.real(_ufuncs.conj(x) * t), axis=axis, keepdims=keepdims)
    return inner / _safe(ans)


norm2 = primitive(_norm2, "norm2")
defvjp(norm2, _norm2_vjp)
defjvp(norm2, _norm2_jvp, batched=True)
defbatch(
    norm2,
    lambda prim, values, batched, size, axis, keepdims, whole=False: norm2(values[0], axis=axis, keepdims=keepdims),
)


# --- norms -------------------------------------------------------------------------------------


def _count_norm(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.sum((x != 0).astype(x.real.dtype), axis=axis, keepdims=keepdims)


#: ``norm(x, 0)``, a count of nonzeros: piecewise constant, so a recorded primitive with no derivative
count_norm_p = primitive(_count_norm, "count_norm")
def_nondiff(count_norm_p)
defbatch(count_norm_p, "leading")


def _vector_norm(x: Any, ord: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return norm2(x, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise _errors.vector_norm_order(ord)
    if ord == np.inf:
        return _reductions.max_p(_ufuncs.absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _reductions.min_p(_ufuncs.absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return count_norm_p(x, axis=axis, keepdims=keepdims)
    if ord == 1:
        return _base.sum_p(_ufuncs.absolute(x), axis=axis, keepdims=keepdims)
    return rules.pnorm_p(x, p=float(ord), axis=axis, keepdims=keepdims)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    rank = len(shape(x))
    row, column = (a % rank for a in axes)
    if row == column:
        raise _errors.norm_duplicate_axes()
    if ord is None or ord == "fro":
        return norm2(x, axis=normalize_axes((row, column), rank), keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        s = svdvals(_base.move_axes(x, (row, column), (-2, -1)))
        if ord == "nuc":
            out = _base.sum_p(s, axis=(-1,), keepdims=False)
        elif ord == 2:
            out = _reductions.max_p(s, axis=(-1,), keepdims=False)
        else:
            out = _reductions.min_p(s, axis=(-1,), keepdims=False)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, reduced = (row, column) if ord in (1, -1) else (column, row)
        sums = _base.sum_p(_ufuncs.absolute(x), axis=(summed - rank,), keepdims=True)
        pick = _reductions.max_p if ord in (1, np.inf) else _reductions.min_p
        out = pick(sums, axis=normalize_axes((summed, reduced), rank), keepdims=False)
    else:
        raise _errors.matrix_norm_order()
    if keepdims:
        kept = list(shape(x))
        kept[row] = kept[column] = 1
        out = _base.reshape_p(out, newshape=tuple(kept))
    return out


@implements(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """``numpy.linalg.norm``: every ``ord`` and ``axis`` NumPy accepts.

    Vector norms: ``None``/2, 1, ``inf``, ``-inf``, any real ``p`` and 0
    (a count: plain result, zero derivative).  Matrix norms: ``'fro'``,
    ``'nuc'``, 1, -1, 2, -2, ``inf``, ``-inf``.  The derivative at ``x = 0``
    is taken as zero (no warning); at ties of ``max``/``min`` based norms it
    is shared equally.

    >>> import funcgrad as fg
    >>> float(fg.grad(norm)(np.array([3.0, 4.0]))[0])
    0.6
    >>> fg.grad(lambda x: norm(x, 1))(np.array([-2.0, 0.5]))
    array([-1.,  1.])
    """
    x = operand(x)
    if not isinstance(x, Tracer):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    rank = len(shape(x))
    keepdims = bool(keepdims)
    if axis is None:
        # numpy.linalg.norm takes a dot product of the flattened array for these (not a sum over axes)
        if ord is None or (rank == 2 and ord in ("f", "fro")) or (rank == 1 and not isinstance(ord, str) and ord == 2):
            return norm2(x, axis=tuple(range(-rank, 0)), keepdims=keepdims, whole=True)
        if rank == 1:
            return _vector_norm(x, ord, (-1,), keepdims)
        if rank == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise _errors.norm_rank()
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes(axes, rank), keepdims)
    if len(axes) == 2:
        for a in axes:
            normalize_axes(a, rank)
        return _matrix_norm(x, ord, (int(axes[0]), int(axes[1])), keepdims)
    raise _errors.norm_rank()


@implements(*_numpy("vector_norm"))
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """``numpy.linalg.vector_norm`` (``axis=None`` treats the array as one vector).

    >>> float(vector_norm(np.array([[3.0], [4.0]])))
    5.0
    """
    x = operand(x)
    if not isinstance(x, Tracer):
        if not hasattr(np.linalg, "vector_norm"):
            flat = np.ravel(x) if axis is None else x
            return np.linalg.norm(flat, ord=ord, axis=None if axis is None else axis, keepdims=keepdims)
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    rank = len(shape(x))
    axes = normalize_axes(axis, rank)
    if ord is None or isinstance(ord, str):
        raise _errors.vector_norm_ord(ord)
    if len(axes) == 1 or ord == 2:
        return _vector_norm(x, ord, axes, bool(keepdims))
    # several axes with inf/-inf/1/0/p: reduce over the flattened axes
    moved = _base.move_axes(x, axes, tuple(range(-len(axes), 0)))
    s = shape(moved)
    flat = _base.reshape_p(moved, newshape=s[: rank - len(axes)] + (-1,))
    out = _vector_norm(flat, ord, (-1,), False)
    if keepdims:
        out = _base.reshape_p(out, newshape=_base.kept_shape(shape(x), axes))
    return out


@implements(*_numpy("matrix_norm"))
def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """``numpy.linalg.matrix_norm`` over the last two axes.

    >>> float(matrix_norm(np.eye(2), ord="nuc"))
    2.0
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# --- inverses and solves ----------------------------------------------------------------------


@implements(np.linalg.inv)
def inv(a: Any) -> Any:
    """``numpy.linalg.inv``: ``d inv(A) = -inv(A) dA inv(A)``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: inv(a)[0, 0])(np.array([[2.0]]))
    array([[-0.25]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.inv(a)
    _square("inv", a)
    return rules.inv_p(a)


@implements(np.linalg.pinv)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = np._NoValue) -> Any:  # type: ignore[attr-defined]
    """``numpy.linalg.pinv``; the derivative holds where the rank is locally constant (full rank).

    On traced values ``hermitian`` only selects NumPy's algorithm for the
    value; the derivative treats every entry of ``a`` as independent.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: pinv(a)[0, 0])(np.array([[2.0, 0.0]]))
    array([[-0.25,  0.  ]])
    """
    a = operand(a)
    options: dict[str, Any] = {"rcond": rcond, "hermitian": hermitian}
    if rtol is not np._NoValue:  # type: ignore[attr-defined]
        options["rtol"] = rtol
    if not isinstance(a, Tracer):
        return np.linalg.pinv(a, **options)
    _at_least_2d("pinv", a)
    options["hermitian"] = False
    return rules.pinv_p(a, options=tuple(sorted(options.items())))


@implements(np.linalg.solve)
def solve(a: Any, b: Any) -> Any:
    """``numpy.linalg.solve``: ``b`` is a vector when one-dimensional, else a stack of matrices.

    >>> import funcgrad as fg
    >>> fg.grad(lambda b: solve(np.eye(2) * 2, b)[1])(np.array([1.0, 1.0]))
    array([0. , 0.5])
    """
    a, b = operand(a), operand(b)
    if not is_traced(a, b):
        return np.linalg.solve(a, b)
    _square("solve", a)
    if len(shape(b)) == 1:
        n = shape(b)[0]
        out = rules.solve_p(a, _base.reshape_p(b, newshape=(n, 1)))
        return _base.reshape_p(out, newshape=shape(out)[:-1])
    return rules.solve_p(a, b)


@implements(np.linalg.lstsq)
def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    """``numpy.linalg.lstsq``: ``(x, residuals, rank, s)``.

    ``x`` is differentiable in ``a`` and ``b`` for full-rank ``a``;
    ``residuals`` and ``s`` are differentiable too, ``rank`` is a plain int.

    >>> import funcgrad as fg
    >>> a = np.array([[1.0], [1.0]])
    >>> fg.grad(lambda b: lstsq(a, b)[0][0])(np.array([1.0, 3.0]))
    array([0.5, 0.5])
    """
    a, b = operand(a), operand(b)
    if not is_traced(a, b):
        return np.linalg.lstsq(a, b, rcond=rcond)
    x = rules.lstsq_p(a, b, rcond=rcond)
    rank = lstsq_rank_p(a, b, rcond=rcond)
    m, n = shape(a)
    # NumPy gives residuals only for a full-rank tall ``a``: their shape depends on the rank, so it is a guard
    if m > n and read_value(rank, "numpy.linalg.lstsq rank") == n:
        residuals = lstsq_residuals_p(a, b, rcond=rcond)
    else:
        residuals = np.empty((0,), rules.real_dtype(np.zeros((), np.result_type(dtype(a), dtype(b)))))
    return x, residuals, rank, svdvals(a)


def _lstsq_residuals(a: Any, b: Any, rcond: Any) -> Any:
    return np.linalg.lstsq(a, b, rcond=rcond)[1]


def _lstsq_solution(a: Any, b: Any, rcond: Any) -> Any:
    """The least-squares solution as lstsq's rules compute it (the pseudo-inverse times ``b``): one matrix and a
    stack of them (``vmap``) take the same steps."""
    return matmul(rules.pinv_p(a, options=(("rcond", rcond),)), b)


def _lstsq_scaled_residual(g: Any, a: Any, b: Any, rcond: Any) -> Any:
    """``2 g conj(r)`` (``2 g r`` when real) for the residual ``r = b - a x`` of the solution ``x``: the
    cotangent of ``b``, and ``-`` its product with ``x^T`` that of ``a`` (``x``'s own change does not move
    the sum of squares at the minimum)."""
    r = b - matmul(a, _lstsq_solution(a, b, rcond))
    return 2.0 * g * (_ufuncs.conj(r) if rules.is_complex(r) else r)


def _lstsq_residuals_jvp(t: Any, a: Any, b: Any, rcond: Any, of_a: bool) -> Any:
    x = _lstsq_solution(a, b, rcond)
    r = b - matmul(a, x)
    d = -matmul(t, x) if of_a else t
    change = _base.real(_ufuncs.conj(r) * d) if rules.is_complex(r) or rules.is_complex(d) else r * d
    if len(shape(b)) == 1:  # NumPy's residual of one right-hand side is an array of one number
        return 2.0 * _base.sum_p(change, axis=(-1,), keepdims=True)
    return 2.0 * _base.sum_p(change, axis=(-2,), keepdims=False)


def _lstsq_residuals_vjp_a(g: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    scaled = _lstsq_scaled_residual(g, a, b, rcond)
    x = _lstsq_solution(a, b, rcond)
    if len(shape(b)) == 1:
        n = shape(x)[-1]
        return _base.match_dtype(-(_base.reshape_p(scaled, newshape=(-1, 1)) * _base.reshape_p(x, newshape=(1, n))), a)
    return _base.match_dtype(-matmul(scaled, rules.T(x)), a)


#: ``numpy.linalg.lstsq``'s residuals of a full-rank tall ``a``, as LAPACK leaves them (the squares of the trailing
#: entries of ``Q^H b``, in float64 or complex128), not the rounding of ``|b - a x|^2``
lstsq_residuals_p = primitive(_lstsq_residuals, "lstsq_residuals")
defvjp(
    lstsq_residuals_p,
    _lstsq_residuals_vjp_a,
    lambda g, ans, a, b, rcond: _base.match_dtype(_lstsq_scaled_residual(g, a, b, rcond), b),
)
defjvp(
    lstsq_residuals_p,
    lambda t, ans, a, b, rcond: _lstsq_residuals_jvp(t, a, b, rcond, True),
    lambda t, ans, a, b, rcond: _lstsq_residuals_jvp(t, a, b, rcond, False),
    batched=True,
)


def _lstsq_residuals_batch(prim: Any, values: list[Any], batched: list[bool], size: int, rcond: Any) -> Any:
    # numpy.linalg.lstsq takes one matrix: a batch of right-hand sides becomes more columns of one; a batch of
    # matrices takes |b - a x|^2 at lstsq's batched solution (a stack, through pinv)
    a, b = values
    vector = ndim(b) - batched[1] == 1  # each example's right-hand side is a vector: its residual has shape (1,)
    if not batched[0]:
        if vector:
            return _base.reshape_p(lstsq_residuals_p(a, rules.T(b), rcond=rcond), newshape=(size, 1))
        m, k = shape(b)[1:]
        columns = _base.reshape_p(_base.transpose_p(b, perm=(1, 0, 2)), newshape=(m, size * k))
        return _base.reshape_p(lstsq_residuals_p(a, columns, rcond=rcond), newshape=(size, k))
    x = rules.lstsq_p.batcher(rules.lstsq_p, [a, b], batched, size, rcond=rcond)  # lstsq's own batching rule
    if vector:
        x = _base.reshape_p(x, newshape=(*shape(x), 1))
        b = _base.reshape_p(b, newshape=(*shape(b), 1))
    r = b - matmul(a, x)
    squares = _base.real(r * _ufuncs.conj(r)) if rules.is_complex(r) else r * r
    return _base.sum_p(squares, axis=(-2,), keepdims=False)


defbatch(lstsq_residuals_p, _lstsq_residuals_batch)


#: the rank ``numpy.linalg.lstsq`` finds (its own cutoff): an integer, recorded, with no derivative
def _lstsq_rank(a: Any, b: Any, rcond: Any) -> Any:
    if np.ndim(a) == 2:
        return np.linalg.lstsq(a, b, rcond=rcond)[2]
    # a stack of matrices (under vmap): the rank of each, by lstsq's own cutoff (it depends on a alone)
    a = np.asarray(a)
    ranks = [np.linalg.lstsq(m, b, rcond=rcond)[2] for m in a.reshape((-1,) + a.shape[-2:])]
    return np.array(ranks, dtype=np.intp).reshape(a.shape[:-2])


lstsq_rank_p = primitive(_lstsq_rank, "lstsq_rank")
def_nondiff(lstsq_rank_p, 2)


def _lstsq_rank_batch(prim: Any, values: list[Any], batched: list[bool], size: int, rcond: Any) -> Any:
    a, b = values
    example = b if not batched[1] else np.zeros(shape(b)[1:], dtype(b))  # the rank is a's alone
    rank = lstsq_rank_p(a, example, rcond=rcond)
    return rank if batched[0] else broadcast_batch(rank, size)


defbatch(lstsq_rank_p, _lstsq_rank_batch)


@implements(np.linalg.tensorinv)
def tensorinv(a: Any, ind: int = 2) -> Any:
    """``numpy.linalg.tensorinv`` (through ``inv``).

    >>> tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.tensorinv(a, ind)
    old = shape(a)
    if ind <= 0:
        raise _errors.tensorinv_ind()
    rows = int(np.prod(old[:ind]))
    out = inv(_base.reshape_p(a, newshape=(rows, -1)))
    return _base.reshape_p(out, newshape=old[ind:] + old[:ind])


@implements(np.linalg.tensorsolve)
def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """``numpy.linalg.tensorsolve`` (through ``solve``).

    >>> tensorsolve(np.eye(4).reshape(2, 2, 4), np.ones((2, 2))).shape
    (4,)
    """
    a, b = operand(a), operand(b)
    if not is_traced(a, b):
        return np.linalg.tensorsolve(a, b, axes)
    rank = len(shape(a))
    if axes is not None:
        order = [k for k in range(rank) if k not in [ax % rank for ax in axes]] + [ax % rank for ax in axes]
        a = _base.transpose_p(a, perm=tuple(order)) if order != list(range(rank)) else a
    old = shape(a)[-(rank - len(shape(b))) :]
    rows = int(np.prod(shape(b)))
    a2 = _base.reshape_p(a, newshape=(rows, -1))
    out = solve(a2, _base.reshape_p(b, newshape=(rows,)) if isinstance(b, Tracer) else np.ravel(b))
    return _base.reshape_p(out, newshape=old)


# --- determinants -----------------------------------------------------------------------------


@implements(np.linalg.det)
def det(a: Any) -> Any:
    """``numpy.linalg.det``: ``d det(A) = tr(adj(A) dA)``, exact at singular ``A`` too.

    >>> float(det(np.eye(3) * 2))
    8.0
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.det(a)
    _square("det", a)
    return rules.det_p(a)


@implements(np.linalg.slogdet)
def slogdet(a: Any) -> Any:
    """``numpy.linalg.slogdet``: ``(sign, logabsdet)``; ``logabsdet`` is differentiable.

    For real input ``sign`` is a plain value (piecewise constant); for
    complex input it is ``det / |det|``, differentiable.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: slogdet(a)[1])(np.array([[-2.0]]))
    array([[-0.5]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.slogdet(a)
    _square("slogdet", a)
    logabsdet = rules.logabsdet_p(a)
    if rules.is_complex(a):
        sign = rules.slogdet_complex_sign_p(a)
    else:
        sign = slogdet_sign_p(a)
    return _result("SlogdetResult", sign, logabsdet)


#: the sign of a real determinant: piecewise constant, so a recorded primitive with no derivative
slogdet_sign_p = primitive(lambda a: np.linalg.slogdet(a)[0], "slogdet_sign")
def_nondiff(slogdet_sign_p)
defbatch(slogdet_sign_p, "leading")


# --- decompositions ---------------------------------------------------------------------------


@implements(np.linalg.cholesky)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """``numpy.linalg.cholesky``; reads the lower triangle (``upper=True``: the upper one).

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: cholesky(a)[0, 0])(np.array([[4.0]]))
    array([[0.25]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return _backends.cholesky(a, upper=upper)
    _square("cholesky", a)
    if upper:
        return rules.T(rules.cholesky_p(rules.T(a)))
    return rules.cholesky_p(a)


@implements(np.linalg.eigh)
def eigh(a: Any, UPLO: str = "L") -> Any:
    """``numpy.linalg.eigh``: ``(eigenvalues, eigenvectors)`` of a symmetric matrix.

    Only the ``UPLO`` triangle is read, so the gradient lives on it (see the
    module notes for symmetrising it).  Eigenvector derivatives need distinct
    eigenvalues; eigenvalue derivatives are finite everywhere.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: eigh(a)[0][-1])(np.diag([1.0, 2.0]))
    array([[0., 0.],
           [0., 1.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return _la.eigh(a, UPLO)
    if UPLO not in ("L", "U", "l", "u"):
        raise _errors.eigh_uplo()
    _square("eigh", a)
    packed = rules.eigh_p(a, lower=UPLO.upper() == "L")
    n = shape(a)[-1]
    w = _squeeze_row(rules.part(packed, 0, 1))
    w = _base.real(w) if rules.is_complex(w) else w
    return _result("EighResult", w, rules.part(packed, 1, n + 1))


def _squeeze_row(x: Any) -> Any:
    s = shape(x)
    return _base.reshape_p(x, newshape=s[:-2] + (s[-1],))


@implements(np.linalg.eigvalsh)
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """``numpy.linalg.eigvalsh``; the derivative is finite at repeated eigenvalues.

    >>> eigvalsh(np.diag([2.0, 1.0]))
    array([1., 2.])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return _la.eigvalsh(a, UPLO)
    if UPLO not in ("L", "U", "l", "u"):
        raise _errors.eigh_uplo()
    _square("eigvalsh", a)
    return rules.eigvalsh_p(a, lower=UPLO.upper() == "L")


@implements(np.linalg.eig)
def eig(a: Any) -> Any:
    """``numpy.linalg.eig``: ``(eigenvalues, eigenvectors)``; needs distinct eigenvalues.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: eig(a)[0][0].real)(np.array([[1.0, 2.0], [0.0, 3.0]]))
    array([[ 1.,  0.],
           [-1.,  0.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.eig(a)
    _square("eig", a)
    packed = rules.eig_p(a)
    n = shape(a)[-1]
    return _result("EigResult", _squeeze_row(rules.part(packed, 0, 1)), rules.part(packed, 1, n + 1))


@implements(np.linalg.eigvals)
def eigvals(a: Any) -> Any:
    """``numpy.linalg.eigvals``.

    >>> eigvals(np.diag([2.0, 1.0]))
    array([2., 1.])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.eigvals(a)
    return eig(a)[0]


@implements(*_numpy("svdvals"))
def svdvals(x: Any, /) -> Any:
    """``numpy.linalg.svdvals``: singular values, differentiable (finite at repeated values).

    >>> svdvals(np.diag([1.0, 3.0]))
    array([3., 1.])
    """
    x = operand(x)
    if not isinstance(x, Tracer):
        return _backends.svd(x, compute_uv=False)
    _at_least_2d("svdvals", x)
    return rules.svdvals_p(x)


@implements(np.linalg.svd)
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """``numpy.linalg.svd``: ``(U, S, Vh)``, or ``S`` with ``compute_uv=False``.

    ``U`` and ``Vh`` are differentiable for distinct nonzero singular values
    (their signs are NumPy's; use sign-invariant losses).  With
    ``full_matrices=True`` and a non-square input the completed bases are
    not unique: ``NotImplementedError``, use ``full_matrices=False``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: svd(a, compute_uv=False)[0])(np.diag([3.0, 1.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return _backends.svd(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    if not compute_uv:
        return svdvals(a)
    _at_least_2d("svd", a)
    m, n = shape(a)[-2:]
    if full_matrices and m != n:
        raise _errors.svd_full_matrices(m, n)
    packed = rules.svd_p(a)
    u = rules.part(packed, 0, m)
    s = _squeeze_row(rules.part(packed, m, m + 1))
    s = _base.real(s) if rules.is_complex(s) else s
    vh = rules.H(rules.part(packed, m + 1, m + 1 + n))
    return _result("SVDResult", u, s, vh)


@implements(np.linalg.qr)
def qr(a: Any, mode: str = "reduced") -> Any:
    """``numpy.linalg.qr``: modes ``'reduced'``, ``'r'``, and ``'complete'`` when ``M <= N``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: qr(a)[1][0, 0] ** 2)(np.array([[3.0], [4.0]]))
    array([[6.],
           [8.]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return _backends.qr(a, mode=mode)
    _at_least_2d("qr", a)
    m, n = shape(a)[-2:]
    if mode not in ("reduced", "complete", "r"):
        raise _errors.qr_mode(mode)
    if mode == "complete" and m > n:
        raise _errors.qr_complete(m, n)
    if m >= n:
        packed = rules.qr_p(a)
        q, r = rules.part(packed, 0, m), rules.part(packed, m, m + n)
    elif not _backends.is_foreign(full_lower(a)):  # NumPy's own wide QR, R's right block by the reflectors
        # (the array's type only is read)
        packed = rules.qr_wide_p(a)
        q = getitem_p(packed, index=(Ellipsis, slice(0, m)))
        r = getitem_p(packed, index=(Ellipsis, slice(m, None)))
    else:  # another backend's reduced QR of the left block; the right block of R is Q^H times the right columns
        left = getitem_p(a, index=(Ellipsis, slice(0, m)))
        right = getitem_p(a, index=(Ellipsis, slice(m, None)))
        packed = rules.qr_p(left)
        q = rules.part(packed, 0, m)
        r = _shape.concatenate_p(rules.part(packed, m, 2 * m), matmul(rules.H(q), right), axis=-1)
    if mode == "r":
        return r
    return _result("QRResult", q, r)


# --- products ---------------------------------------------------------------------------------


@implements(np.linalg.matrix_power)
def matrix_power(a: Any, n: int) -> Any:
    """``numpy.linalg.matrix_power`` (negative ``n`` through ``inv``).

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: matrix_power(a, -2)[0, 0])(np.array([[2.0]]))
    array([[-0.25]])
    """
    a = operand(a)
    if not isinstance(a, Tracer):
        return np.linalg.matrix_power(a, n)
    try:
        n = int(n.__index__())
    except AttributeError:
        raise _errors.matrix_power_exponent() from None
    _square("matrix_power", a)
    if n == 0:
        return np.broadcast_to(np.eye(shape(a)[-1], dtype=dtype(a)), shape(a)).copy()  # reads no value
    if n < 0:
        a = rules.inv_p(a)
        n = -n
    # numpy.linalg.matrix_power's order of products (its shortcuts included), so the bits are its own
    if n <= 3:
        return a if n == 1 else matmul(a, a) if n == 2 else matmul(matmul(a, a), a)
    result = square = None
    while n > 0:
        square = a if square is None else matmul(square, square)
        n, bit = divmod(n, 2)
        if bit:
            result = square if result is None else matmul(result, square)
    return result


@implements(np.linalg.multi_dot)
def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """``numpy.linalg.multi_dot`` (evaluated left to right on traced values).

    >>> multi_dot([np.ones(2), np.eye(2), np.ones(2)])
    np.float64(2.0)
    """
    arrays = [operand(x) for x in arrays]
    if not is_traced(*arrays):
        return np.linalg.multi_dot(arrays, out=out)
    if out is not None:
        return store_out(out, multi_dot(arrays))
    if len(arrays) < 2:
        raise _errors.multi_dot_count()
    dot = _contract.dot
    if len(arrays) == 2:
        return dot(arrays[0], arrays[1])
    # numpy.linalg.multi_dot's order of products, chosen from the shapes alone, so the bits are its own
    first, last = len(shape(arrays[0])), len(shape(arrays[-1]))
    if first == 1:
        arrays[0] = _shape.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = _shape.reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if len(shape(x)) != 2:
            raise _errors.multi_dot_rank(len(shape(x)))
    if len(arrays) == 3:
        (a0, a1b0), (b1c0, c1) = shape(arrays[0]), shape(arrays[2])
        left_first = a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0)
        a, b, c = arrays
        result = dot(dot(a, b), c) if left_first else dot(a, dot(b, c))
    else:
        order = _chain_order([shape(x) for x in arrays])

        def product(i: int, j: int) -> Any:
            return arrays[i] if i == j else dot(product(i, order[i][j]), product(order[i][j] + 1, j))

        result = product(0, len(arrays) - 1)
    if first == 1 and last == 1:
        return result[0, 0]
    return _shape.ravel(result) if first == 1 or last == 1 else result


def _chain_order(shapes: list[tuple[int, ...]]) -> list[list[int]]:
    """NumPy's matrix-chain order (``_multi_dot_matrix_chain_order``): the split of each sub-chain, ties alike."""
    n = len(shapes)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    cost = [[0.0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if q < cost[i][j]:
                    cost[i][j] = q
                    split[i][j] = k
    return split


# --- the array API's linalg helpers (NumPy 2): thin wrappers over funcgrad.numpy --------------


@implements(*_numpy("matrix_transpose"))
def matrix_transpose(x: Any, /) -> Any:
    """``numpy.linalg.matrix_transpose``: swap the last two axes.

    >>> matrix_transpose(np.arange(6.0).reshape(2, 3)).shape
    (3, 2)
    """
    x = operand(x)
    if not isinstance(x, Tracer):
        return np.swapaxes(x, -1, -2)
    _at_least_2d("matrix_transpose", x)
    return rules.T(x)


@implements(*_numpy("trace"))
def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """``numpy.linalg.trace``: traces over the last two axes.

    >>> float(trace(np.eye(3)))
    3.0
    """
    return _select.trace(operand(x), offset=offset, axis1=-2, axis2=-1, dtype=dtype)


@implements(*_numpy("diagonal"))
def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """``numpy.linalg.diagonal``: diagonals of the last two axes.

    >>> diagonal(np.eye(2))
    array([1., 1.])
    """
    return _select.diagonal(operand(x), offset=offset, axis1=-2, axis2=-1)


@implements(*_numpy("outer"))
def outer(x1: Any, x2: Any, /) -> Any:
    """``numpy.linalg.outer`` of two vectors.

    >>> outer(np.ones(2), np.arange(3.0)).shape
    (2, 3)
    """
    x1, x2 = operand(x1), operand(x2)
    if len(shape(x1)) != 1 or len(shape(x2)) != 1:
        raise _errors.linalg_outer_rank(len(shape(x1)), len(shape(x2)))
    return _contract.outer(x1, x2)


@implements(*_numpy("cross"))
def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``numpy.linalg.cross`` of 3-vectors.

    >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    x1, x2 = operand(x1), operand(x2)
    if shape(x1)[axis] != 3 or shape(x2)[axis] != 3:
        raise _errors.linalg_cross_size()
    return _contract.cross(x1, x2, axis=axis)


@implements(*_numpy("tensordot"))
def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """``numpy.linalg.tensordot``.

    >>> float(tensordot(np.eye(2), np.eye(2)))
    2.0
    """
    return _contract.tensordot(operand(x1), operand(x2), axes=axes)


@implements(*_numpy("vecdot"))
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``numpy.linalg.vecdot``: ``sum(conj(x1) * x2, axis)``.

    >>> float(vecdot(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    return _contract.vecdot(operand(x1), operand(x2), axis=axis)  # numpy.vecdot's loop, as NumPy's linalg.vecdot


implements(*_numpy("matmul"))(matmul)


# --- plain (non-differentiable) -----------------------------------------------------------


@implements(np.linalg.matrix_rank)
def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, **kwargs: Any) -> Any:
    """``numpy.linalg.matrix_rank``: an integer, so a plain value (no derivative).

    >>> int(matrix_rank(np.eye(3)))
    3
    """
    return matrix_rank_p(A, tol, hermitian=hermitian, options=tuple(sorted(kwargs.items())))


#: an integer: a recorded primitive with no derivative
matrix_rank_p = primitive(
    lambda A, tol, hermitian, options: np.linalg.matrix_rank(A, tol, hermitian, **dict(options)), "matrix_rank"
)
def_nondiff(matrix_rank_p, 2)
defbatch(matrix_rank_p, "leading")  # NumPy's takes stacks (and a stack of tolerances)


@implements(np.linalg.cond)
def cond(x: Any, p: Any = None) -> Any:
    """``numpy.linalg.cond``: differentiable, as ``s_max / s_min`` (``p`` None, 2, -2) or
    ``norm(x, p) * norm(inv(x), p)``.

    >>> float(cond(np.diag([1.0, 4.0])))
    4.0
    """
    x = operand(x)
    if not isinstance(x, Tracer):
        return np.linalg.cond(x, p)
    _at_least_2d("cond", x)
    if p is None or p == 2 or p == -2:
        s = svdvals(x)
        k = shape(s)[-1]

        first = getitem_p(s, index=(Ellipsis, 0))
        last = getitem_p(s, index=(Ellipsis, k - 1))
        return last / first if p == -2 else first / last
    _square("cond", x)
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))
