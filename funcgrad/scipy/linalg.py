"""``funcgrad.scipy.linalg``: SciPy's linear algebra with derivative rules.

On plain arrays every function is SciPy's own and returns exactly its
result.  On traced arrays each is recorded with forward and reverse rules
(``_linalg_rules.py``) written with funcgrad primitives, so derivatives of
any order work, in every array argument:

* ``solve_triangular(a, b, trans, lower, unit_diagonal)`` reads one triangle
  of ``a`` (without the diagonal when ``unit_diagonal``): the derivative in
  ``a`` lives on exactly those entries, zero elsewhere.
* ``cholesky(a, lower=False)`` returns the *upper* factor by default, as
  SciPy does (NumPy's returns the lower one), and reads only that triangle of
  ``a``, so the gradient is zero in the other triangle and off-diagonal
  entries carry ``G[i, j] + G[j, i]`` of the symmetric gradient (as in
  ``funcgrad.numpy.linalg.cholesky``).
* ``cho_factor`` returns ``(c, lower)`` with SciPy's ``c``: the factor in one
  triangle, ``a``'s own entries in the other (they pass through with
  derivative one); ``cho_solve`` reads only the factor's triangle.
* ``lu_factor`` returns ``(lu, piv)``: ``lu`` packs the unit lower factor
  ``L`` (below the diagonal) and ``U``; it is differentiable for square
  ``a`` (the row order is piecewise constant, so it is held fixed).  ``piv``
  holds integers with a zero derivative.  ``lu_solve`` is differentiable in
  ``lu`` and ``b``.
* ``expm``: the Fréchet derivative is a block of the exponential of the
  block-triangular matrix ``[[A, E], [0, A]]``; the reverse rule is the same
  with ``A^T`` and the cotangent.  ``sqrtm``: ``X dX + dX X = dA`` is a
  Sylvester equation, solved with ``solve_sylvester`` (needs ``X`` and
  ``-X`` to share no eigenvalue, i.e. ``A`` nonsingular).
* ``solve_sylvester(a, b, q)``: ``A X + X B = Q`` in all three arguments.
* ``block_diag(*arrs)``: differentiable in every block.

Stacks of matrices (leading axes) work wherever SciPy accepts them.

>>> import numpy as np, funcgrad as fg
>>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
>>> fg.grad(lambda a: expm(a).trace())(np.zeros((2, 2)))
array([[1., 0.],
       [0., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sl

from funcgrad import _errors
from funcgrad._prims import _shape
from funcgrad._prims._linalg import tril_mask, triu_mask
from funcgrad._trace import read_value
from funcgrad._values import dtype, is_traced, ndim, shape
from funcgrad.numpy import _constructors
from funcgrad.scipy import _linalg_rules as rules

__all__ = [
    "solve_triangular",
    "solve_banded",
    "cholesky",
    "cho_factor",
    "cho_solve",
    "lu_factor",
    "lu_solve",
    "sqrtm",
    "expm",
    "solve_sylvester",
    "block_diag",
    "LinAlgError",
]

LinAlgError = np.linalg.LinAlgError
_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


def _square(name: str, a: Any) -> None:
    s = shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise _errors.scipy_linalg_not_square(name, s)


def _trans(trans: Any) -> int:
    try:
        return _TRANS[trans]
    except (KeyError, TypeError):
        raise _errors.solve_trans(trans) from None


def _vector_safe(solve: Any, a: Any, b: Any) -> Any:
    """Run ``solve(a, b_matrix)`` with a one-dimensional ``b`` as a column, and give a vector back."""
    if ndim(b) != 1:
        return solve(b)
    column = solve(_shape.reshape(b, (shape(b)[0], 1)))
    return _shape.reshape(column, shape(column)[:-1])


def solve_triangular(
    a: Any,
    b: Any,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """``scipy.linalg.solve_triangular``: ``x`` with ``op(a) x = b``, reading one triangle of ``a``.

    ``trans`` is 0/``'N'`` (``a``), 1/``'T'`` (``a.T``) or 2/``'C'``
    (``a.conj().T``).  Raises ``ValueError`` for a non-square ``a``,
    mismatched shapes or an unknown ``trans``; ``LinAlgError`` for a singular
    ``a`` (as SciPy).

    >>> import funcgrad as fg
    >>> a = np.array([[2.0, 0.0], [1.0, 4.0]])
    >>> solve_triangular(a, np.array([2.0, 9.0]), lower=True)
    array([1., 2.])
    >>> fg.grad(lambda b: solve_triangular(a, b, lower=True).sum())(np.array([2.0, 9.0]))
    array([0.375, 0.25 ])
    """
    a, b = _shape.operand(a), _shape.operand(b)
    if not is_traced(a, b):
        return sl.solve_triangular(a, b, trans, lower, unit_diagonal, overwrite_b, check_finite)
    _square("solve_triangular", a)
    kind = _trans(trans)
    if ndim(b) == 0 or shape(b)[-1 if ndim(b) == 1 else -2] != shape(a)[-1]:
        raise _errors.solve_shapes("solve_triangular", "a", shape(a), shape(b))
    params = dict(trans=kind, lower=bool(lower), unit_diagonal=bool(unit_diagonal), check_finite=check_finite)
    return _vector_safe(lambda rhs: rules.solve_triangular_p(a, rhs, **params), a, b)


def solve_banded(
    l_and_u: tuple[int, int],
    ab: Any,
    b: Any,
    overwrite_ab: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """``scipy.linalg.solve_banded``: ``x`` with ``A x = b``, ``A`` given by its diagonals ``ab[u + i - j, j]``.

    ``l_and_u = (l, u)`` are the numbers of nonzero lower and upper diagonals;
    ``ab`` has shape ``(l + u + 1, n)``; ``b`` is ``(n,)`` or ``(n, k)``.
    Differentiable in ``ab`` (on the band; its unused corner entries get
    zero) and ``b``, both modes, any order: the rules solve with ``A`` and
    with ``A.T``, whose diagonals are ``ab``'s rearranged.  Raises
    ``ValueError`` for shapes that do not match ``(l, u)`` and
    ``LinAlgError`` for a singular ``A`` (as SciPy).

    >>> import funcgrad as fg
    >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])  # tridiagonal 1, 4, 1
    >>> solve_banded((1, 1), ab, np.array([5.0, 6.0, 5.0]))
    array([1., 1., 1.])
    >>> fg.grad(lambda b: solve_banded((1, 1), ab, b).sum())(np.array([5.0, 6.0, 5.0]))
    array([0.21428571, 0.14285714, 0.21428571])
    """
    ab, b = _shape.operand(ab), _shape.operand(b)
    if not is_traced(ab, b):
        return sl.solve_banded(l_and_u, ab, b, overwrite_ab, overwrite_b, check_finite)
    lower, upper = (int(v) for v in l_and_u)
    if ndim(ab) != 2 or shape(ab)[0] != lower + upper + 1 or ndim(b) not in (1, 2) or shape(b)[0] != shape(ab)[1]:
        raise _errors.solve_banded_shapes(lower + upper + 1, shape(ab), shape(b))
    return rules.solve_banded_p(ab, b, lower=lower, upper=upper, check_finite=check_finite)


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.cholesky``: the *upper* factor ``U`` with ``a = U^H U`` (``lower=True``: ``L``, ``a = L L^H``).

    Only the chosen triangle of ``a`` is read (see the module notes).
    Raises ``LinAlgError`` when ``a`` is not positive definite, ``ValueError``
    when it is not square.

    >>> import funcgrad as fg
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 1.],
           [0., 2.]])
    >>> fg.grad(lambda a: cholesky(a)[0, 0])(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    a = _shape.operand(a)
    if not is_traced(a):
        return sl.cholesky(a, lower, overwrite_a, check_finite)
    _square("cholesky", a)
    return rules.cholesky_p(a, lower=bool(lower), check_finite=check_finite)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, bool]:
    """``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`.

    ``c`` holds the Cholesky factor in the ``lower`` (or upper) triangle and
    ``a``'s entries in the other, exactly as SciPy's.  Raises as :func:`cholesky`.

    >>> import funcgrad as fg
    >>> a = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> cho_factor(a)[0]
    array([[2., 1.],
           [2., 2.]])
    >>> fg.grad(lambda a: cho_solve(cho_factor(a), np.array([1.0, 0.0]))[0])(a)
    array([[-0.09765625,  0.078125  ],
           [ 0.        , -0.015625  ]])
    """
    a = _shape.operand(a)
    if not is_traced(a):
        return sl.cho_factor(a, lower, overwrite_a, check_finite)
    _square("cho_factor", a)
    n = shape(a)[-1]
    untouched = triu_mask(n, a, 1) if lower else tril_mask(n, a, -1)
    return cholesky(a, lower=lower, check_finite=check_finite) + a * untouched, bool(lower)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from ``cho_factor(a)``.

    Differentiable in the factor's triangle of ``c`` and in ``b``.  Raises
    ``ValueError`` for mismatched shapes.

    >>> import funcgrad as fg
    >>> factor = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> cho_solve(factor, np.array([6.0, 7.0]))
    array([1., 1.])
    >>> fg.grad(lambda b: cho_solve(factor, b)[0])(np.array([6.0, 7.0]))
    array([ 0.3125, -0.125 ])
    """
    c, lower = c_and_lower
    c, b = _shape.operand(c), _shape.operand(b)
    if not is_traced(c, b):
        return sl.cho_solve((c, lower), b, overwrite_b, check_finite)
    # lower: L L^H x = b; upper: U^H U x = b
    first, second = (0, 2) if lower else (2, 0)
    y = solve_triangular(c, b, trans=first, lower=lower, check_finite=check_finite)
    return solve_triangular(c, y, trans=second, lower=lower, check_finite=check_finite)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """``scipy.linalg.lu_factor``: ``(lu, piv)`` with ``L`` (unit diagonal, not stored) and ``U`` packed in ``lu``.

    ``lu`` is differentiable for square ``a``; ``piv`` (LAPACK's row swaps)
    is a plain integer array.  Raises ``NotImplementedError`` for the
    derivative of a rectangular ``a``.

    >>> import funcgrad as fg
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> lu, piv = lu_factor(a)
    >>> piv
    array([1, 1], dtype=int32)
    >>> fg.grad(lambda a: lu_factor(a)[0][1, 1])(a)
    array([[-1.33333333,  1.        ],
           [ 0.44444444, -0.33333333]])
    """
    a = _shape.operand(a)
    if not is_traced(a):
        return sl.lu_factor(a, overwrite_a, check_finite)
    s = shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise _errors.lu_factor_rectangular(s)
    return rules.lu_packed_p(a, check_finite=check_finite), rules.lu_pivots_p(a, check_finite=check_finite)


def lu_solve(
    lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False, check_finite: bool = True
) -> Any:
    """``scipy.linalg.lu_solve``: ``x`` with ``op(a) x = b`` from ``lu_factor(a)``; ``trans`` as in
    :func:`solve_triangular`.  Differentiable in ``lu`` and ``b``.  Raises ``ValueError`` for
    mismatched shapes or an unknown ``trans``.

    >>> import funcgrad as fg
    >>> factors = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> lu_solve(factors, np.array([5.0, 11.0]))
    array([1., 2.])
    >>> fg.grad(lambda b: lu_solve(factors, b, trans=1)[0])(np.array([5.0, 11.0]))
    array([-2. ,  1.5])
    """
    lu, piv = lu_and_piv
    lu, b = _shape.operand(lu), _shape.operand(b)
    if not is_traced(lu, b):
        return sl.lu_solve((lu, piv), b, trans, overwrite_b, check_finite)
    kind = _trans(trans)

    def solve(rhs: Any) -> Any:
        # a = P L U with A[perm] = L U
        if kind == 0:
            rows = rules.permute_rows(rhs, rules.permutation_p(piv, inverse=False))
            y = solve_triangular(lu, rows, lower=True, unit_diagonal=True, check_finite=check_finite)
            return solve_triangular(lu, y, check_finite=check_finite)
        y = solve_triangular(lu, rhs, trans=kind, check_finite=check_finite)
        z = solve_triangular(lu, y, trans=kind, lower=True, unit_diagonal=True, check_finite=check_finite)
        return rules.permute_rows(z, rules.permutation_p(piv, inverse=True))

    _square("lu_solve", lu)
    if ndim(b) == 0 or shape(b)[-1 if ndim(b) == 1 else -2] != shape(lu)[-1]:
        raise _errors.solve_shapes("lu_solve", "lu", shape(lu), shape(b))
    return _vector_safe(solve, lu, b)


def sqrtm(A: Any, **kwargs: Any) -> Any:  # noqa: N803  (SciPy's name)
    """``scipy.linalg.sqrtm``: the principal square root ``X`` (``X @ X = A``), complex when SciPy's is.

    The derivative solves ``X dX + dX X = dA`` (a Sylvester equation): it
    needs ``A`` nonsingular.  Extra SciPy options (``disp``, ``blocksize``)
    are passed on for plain input; with traced input they raise ``TypeError``.

    >>> import funcgrad as fg
    >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    >>> fg.grad(lambda a: sqrtm(a)[0, 0])(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    A = _shape.operand(A)
    if not is_traced(A):
        return sl.sqrtm(A, **kwargs)
    if kwargs:
        raise _errors.sqrtm_options(sorted(kwargs))
    _square("sqrtm", A)
    root = rules.sqrtm_p(A)
    if dtype(A).kind != "c":
        # SciPy's root of a real matrix is real or complex by its eigenvalues: the dtype is a guard under jit
        read_value(rules.complex_root_p(root), "linalg.sqrtm: is the root complex")
    return root


def expm(A: Any) -> Any:  # noqa: N803  (SciPy's name)
    """``scipy.linalg.expm``: the matrix exponential (of each matrix of a stack).

    Derivatives by the block-triangular Fréchet identity (module notes).
    Raises ``ValueError`` for a non-square input.

    >>> import funcgrad as fg
    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    >>> float(fg.grad(lambda t: expm(t * np.array([[0.0, 1.0], [0.0, 0.0]]))[0, 1])(2.0))
    1.0
    """
    A = _shape.operand(A)
    if not is_traced(A):
        return sl.expm(A)
    _square("expm", A)
    return rules.expm_p(A)


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """``scipy.linalg.solve_sylvester``: ``X`` with ``a X + X b = q``, differentiable in all three.

    Raises ``ValueError`` for mismatched shapes; needs ``a`` and ``-b`` to
    share no eigenvalue (SciPy's condition).

    >>> import funcgrad as fg
    >>> a, b = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[3.0]])
    >>> solve_sylvester(a, b, np.array([[4.0], [10.0]]))
    array([[1.],
           [2.]])
    >>> fg.grad(lambda q: solve_sylvester(a, b, q).sum())(np.array([[4.0], [10.0]]))
    array([[0.25],
           [0.2 ]])
    """
    a, b, q = (_shape.operand(v) for v in (a, b, q))
    if not is_traced(a, b, q):
        return sl.solve_sylvester(a, b, q)
    _square("solve_sylvester (a)", a)
    _square("solve_sylvester (b)", b)
    if ndim(q) < 2 or shape(q)[-2:] != (shape(a)[-1], shape(b)[-1]):
        raise _errors.sylvester_shape((shape(a)[-1], shape(b)[-1]), shape(q))
    return rules.solve_sylvester_p(a, b, q)


def block_diag(*arrs: Any) -> Any:
    """``scipy.linalg.block_diag``: the arguments on the diagonal of one matrix, zeros elsewhere.

    1-D arguments are rows, scalars ``1 x 1`` blocks (as SciPy).  Raises
    ``ValueError`` for an argument of more than two dimensions.

    >>> import funcgrad as fg
    >>> block_diag(np.array([[1.0]]), np.array([2.0, 3.0]))
    array([[1., 0., 0.],
           [0., 2., 3.]])
    >>> fg.grad(lambda x: block_diag(x, 2 * x).sum())(np.ones((1, 2)))
    array([[3., 3.]])
    """
    pieces = [_shape.operand(a) for a in arrs]
    if not is_traced(*pieces):
        return sl.block_diag(*pieces)
    pieces = [_shape.atleast_2d(_constructors.asarray(p)) for p in pieces]
    deep = [i for i, p in enumerate(pieces) if ndim(p) > 2]
    if deep:
        raise _errors.block_diag_rank(deep)
    kind = np.result_type(*(dtype(p) for p in pieces))
    width = sum(shape(p)[1] for p in pieces)
    rows, before = [], 0
    for piece in pieces:
        height, cols = shape(piece)
        left = np.zeros((height, before), kind)
        right = np.zeros((height, width - before - cols), kind)
        rows.append(_shape.concatenate([left, _constructors.astype(piece, kind), right], axis=1))
        before += cols
    return _shape.concatenate(rows, axis=0)
