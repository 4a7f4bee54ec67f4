"""funcgrad.scipy.linalg: values equal SciPy's; derivatives in every array argument agree with finite
differences to second order in both modes (real, float32 and complex inputs, several shapes)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import traced_value

pytest.importorskip("scipy", reason="funcgrad.scipy needs the scipy extra")
import scipy.linalg as sl  # noqa: E402

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.scipy import linalg as fla  # noqa: E402
from funcgrad.testing import check_grads  # noqa: E402

RNG = np.random.default_rng(7)


def general(n: int, *lead: int, complex_: bool = False) -> np.ndarray:
    """Well conditioned: random + 3 I (eigenvalues away from zero and from each other's negatives)."""
    z = RNG.standard_normal(lead + (n, n)) * 0.3
    if complex_:
        z = z + 0.3j * RNG.standard_normal(lead + (n, n))
    return z + 3 * np.eye(n)


def spd(n: int, *lead: int, complex_: bool = False) -> np.ndarray:
    z = general(n, *lead, complex_=complex_)
    return z @ np.conj(np.swapaxes(z, -1, -2))


def _assert_scipy(fun: Any, expected: Any, *args: Any, rtol: float = 1e-12) -> None:
    got = traced_value(fun, *args)
    assert np.result_type(got) == np.result_type(expected)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


# --- solve_triangular ----------------------------------------------------------------------


@pytest.mark.parametrize("trans", [0, 1, 2, "T"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_solve_triangular(trans: Any, lower: bool, unit_diagonal: bool, b_shape: tuple[int, ...]) -> None:
    a, b = general(3), RNG.standard_normal(b_shape)
    f = lambda a, b: fla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    _assert_scipy(f, sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal), a, b)
    check_grads(f, (a, b), order=2)


@pytest.mark.parametrize("b_shape", [(4, 1), (4, 3)])
@pytest.mark.parametrize("trans", [0, 1])
def test_solve_triangular_jacobians_of_matrix_right_hand_sides(b_shape: tuple[int, ...], trans: int) -> None:
    """jacfwd and jacrev push a batch of tangents (a stack of right-hand sides) through one solve."""
    a = np.tril(general(4))
    b = RNG.standard_normal(b_shape)
    f = lambda x: fla.solve_triangular(a, x.reshape(b_shape), trans=trans, lower=True)
    op = a if trans == 0 else a.T
    expected = np.kron(np.linalg.inv(op), np.eye(b_shape[1])).reshape(b_shape + b_shape)
    for jac in (fg.jacfwd, fg.jacrev):
        np.testing.assert_allclose(jac(f)(b.ravel()).reshape(b_shape + b_shape), expected, rtol=1e-12, atol=1e-12)


def test_solve_triangular_reads_one_triangle_only() -> None:
    a, b = general(3), RNG.standard_normal(3)
    g = fg.grad(lambda a: fla.solve_triangular(a, b, lower=True, unit_diagonal=True).sum())(a)
    np.testing.assert_array_equal(np.triu(g), 0.0)
    g = fg.grad(lambda a: fla.solve_triangular(a, b).sum())(a)
    np.testing.assert_array_equal(np.tril(g, -1), 0.0)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_solve_triangular_complex_and_float32(trans: int) -> None:
    a, b = general(3, complex_=True), RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    f = lambda a, b: fla.solve_triangular(a, b, trans=trans, lower=True)
    _assert_scipy(f, sl.solve_triangular(a, b, trans=trans, lower=True), a, b)
    check_grads(f, (a, b), order=2)
    a32, b32 = general(3).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    f32 = lambda a, b: fla.solve_triangular(a, b, trans=trans)
    _assert_scipy(f32, sl.solve_triangular(a32, b32, trans=trans), a32, b32, rtol=1e-6)
    check_grads(f32, (a32, b32), order=2)


def test_solve_triangular_errors() -> None:
    a = general(3)
    with pytest.raises(ValueError, match="trans must be"):
        fg.grad(lambda a: fla.solve_triangular(a, np.ones(3), trans="X").sum())(a)
    with pytest.raises(ValueError, match="incompatible"):
        fg.grad(lambda a: fla.solve_triangular(a, np.ones(2)).sum())(a)
    with pytest.raises(ValueError, match="square"):
        fg.grad(lambda a: fla.solve_triangular(a, np.ones(3)).sum())(np.ones((3, 2)))


# --- cholesky, cho_factor, cho_solve ------------------------------------------------------


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n", [1, 3])
def test_cholesky_default_upper_as_scipy(lower: bool, n: int) -> None:
    a = spd(n)
    f = lambda a: fla.cholesky(a, lower=lower)
    _assert_scipy(f, sl.cholesky(a, lower=lower), a)
    check_grads(f, (a,), order=2)


def test_cholesky_upper_default_reads_upper_triangle_complex_float32_and_stacks() -> None:
    a = spd(3)
    g = fg.grad(lambda a: fla.cholesky(a).sum())(a)
    np.testing.assert_array_equal(np.tril(g, -1), 0.0)
    assert np.allclose(traced_value(fla.cholesky, a), np.triu(traced_value(fla.cholesky, a)))
    c = spd(2, complex_=True)
    check_grads(lambda a: fla.cholesky(a), (c,), order=2)
    check_grads(lambda a: fla.cholesky(a, lower=True), (c,), order=1)
    a32 = spd(3).astype(np.float32)
    _assert_scipy(fla.cholesky, sl.cholesky(a32), a32, rtol=1e-6)
    check_grads(fla.cholesky, (a32,), order=2)
    stack = spd(2, 3)
    _assert_scipy(fla.cholesky, sl.cholesky(stack), stack)
    check_grads(fla.cholesky, (stack,), order=1)


def test_cholesky_not_positive_definite_raises() -> None:
    with pytest.raises(np.linalg.LinAlgError):
        fg.grad(lambda a: fla.cholesky(a).sum())(-np.eye(2))


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_cho_factor_and_cho_solve(lower: bool, b_shape: tuple[int, ...]) -> None:
    a, b = spd(3), RNG.standard_normal(b_shape)
    c, flag = sl.cho_factor(a, lower=lower)
    _assert_scipy(lambda a: fla.cho_factor(a, lower=lower)[0], c, a)
    assert fg.grad(lambda a: (fla.cho_factor(a, lower=lower)[1] is lower) * a.sum())(a).sum() == 9.0
    check_grads(lambda a: fla.cho_factor(a, lower=lower)[0], (a,), order=2)
    solve = lambda a, b: fla.cho_solve(fla.cho_factor(a, lower=lower), b)
    _assert_scipy(solve, sl.cho_solve((c, flag), b), a, b)
    check_grads(solve, (a, b), order=2)
    # the solution depends on the symmetric matrix: the triangle-only gradient folds onto it
    g = fg.grad(lambda a: solve(a, b).sum())(a)
    full = fg.grad(lambda a: np.linalg.solve((a + a.T) / 2, b).sum())(a)
    symmetric = full + full.T
    expected = np.triu(symmetric) - np.diag(np.diag(full)) if not lower else np.tril(symmetric) - np.diag(np.diag(full))
    np.testing.assert_allclose(g, expected, atol=1e-12)
    check_grads(lambda c, b: fla.cho_solve((c, lower), b), (c, b), order=2)


def test_cho_solve_complex() -> None:
    a = spd(2, complex_=True)
    b = RNG.standard_normal(2) + 1j * RNG.standard_normal(2)
    solve = lambda a, b: fla.cho_solve(fla.cho_factor(a), b)
    _assert_scipy(solve, sl.cho_solve(sl.cho_factor(a), b), a, b)
    check_grads(solve, (a, b), order=1)


# --- lu_factor, lu_solve ---------------------------------------------------------------------


def _pivoting(n: int) -> np.ndarray:
    """A matrix whose LU needs row swaps (small leading entries)."""
    a = general(n)
    return a[::-1].copy()


@pytest.mark.parametrize("n", [1, 2, 4])
def test_lu_factor(n: int) -> None:
    a = _pivoting(n)
    lu, piv = sl.lu_factor(a)
    _assert_scipy(lambda a: fla.lu_factor(a)[0], lu, a)
    seen = []
    fg.grad(lambda a: seen.append(fla.lu_factor(a)[1]) or a.sum())(a)
    assert type(seen[0]) is np.ndarray
    np.testing.assert_array_equal(seen[0], piv)
    check_grads(lambda a: fla.lu_factor(a)[0], (a,), order=2)


def test_lu_factor_complex_float32() -> None:
    c = general(3, complex_=True)[::-1].copy()
    check_grads(lambda a: fla.lu_factor(a)[0], (c,), order=2)
    a32 = _pivoting(3).astype(np.float32)
    _assert_scipy(lambda a: fla.lu_factor(a)[0], sl.lu_factor(a32)[0], a32, rtol=1e-6)
    check_grads(lambda a: fla.lu_factor(a)[0], (a32,), order=2)


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_lu_solve(trans: int, b_shape: tuple[int, ...]) -> None:
    a, b = _pivoting(3), RNG.standard_normal(b_shape)
    factors = sl.lu_factor(a)
    solve = lambda a, b: fla.lu_solve(fla.lu_factor(a), b, trans=trans)
    _assert_scipy(solve, sl.lu_solve(factors, b, trans=trans), a, b)
    check_grads(solve, (a, b), order=2)
    check_grads(lambda lu, b: fla.lu_solve((lu, factors[1]), b, trans=trans), (factors[0], b), order=2)


def test_lu_errors() -> None:
    with pytest.raises(NotImplementedError, match="square"):
        fg.grad(lambda a: fla.lu_factor(a)[0].sum())(np.ones((3, 2)))
    factors = sl.lu_factor(general(3))
    with pytest.raises(ValueError, match="incompatible"):
        fg.grad(lambda b: fla.lu_solve(factors, b).sum())(np.ones(2))


# --- sqrtm, expm, solve_sylvester ------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sqrtm(n: int) -> None:
    a = spd(n)
    _assert_scipy(fla.sqrtm, sl.sqrtm(a), a, rtol=1e-10)
    check_grads(fla.sqrtm, (a,), order=2)


def test_sqrtm_nonsymmetric_complex_float32_and_stack() -> None:
    check_grads(fla.sqrtm, (general(3),), order=2)
    check_grads(fla.sqrtm, (general(2, complex_=True),), order=1)
    a32 = spd(2).astype(np.float32)
    _assert_scipy(fla.sqrtm, sl.sqrtm(a32), a32, rtol=1e-5)
    check_grads(fla.sqrtm, (a32,), order=1)
    stack = spd(2, 2)
    _assert_scipy(fla.sqrtm, sl.sqrtm(stack), stack, rtol=1e-10)
    check_grads(fla.sqrtm, (stack,), order=1)
    with pytest.raises(TypeError, match="not supported on traced"):
        fg.grad(lambda a: fla.sqrtm(a, blocksize=2).sum())(spd(2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_expm(n: int) -> None:
    a = RNG.standard_normal((n, n)) * 0.5
    _assert_scipy(fla.expm, sl.expm(a), a)
    check_grads(fla.expm, (a,), order=2)


def test_expm_closed_form_complex_float32_and_stack() -> None:
    # expm(t N) = I + t N for nilpotent N: d/dt = N
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(fg.jacfwd(lambda t: fla.expm(t * nilpotent))(2.0), nilpotent)
    np.testing.assert_allclose(fg.jacrev(lambda t: fla.expm(t * nilpotent))(2.0), nilpotent)
    # d/dt trace(expm(t A)) = trace(A expm(t A))
    a = RNG.standard_normal((3, 3)) * 0.5
    np.testing.assert_allclose(fg.grad(lambda t: fnp.trace(fla.expm(t * a)))(0.7), np.trace(a @ sl.expm(0.7 * a)))
    c = (RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))) * 0.5
    _assert_scipy(fla.expm, sl.expm(c), c)
    check_grads(fla.expm, (c,), order=2)
    a32 = a.astype(np.float32)
    _assert_scipy(fla.expm, sl.expm(a32), a32, rtol=1e-6)
    check_grads(fla.expm, (a32,), order=2)
    stack = RNG.standard_normal((2, 2, 2)) * 0.5
    _assert_scipy(fla.expm, sl.expm(stack), stack)
    check_grads(fla.expm, (stack,), order=2)


@pytest.mark.parametrize("m, n", [(1, 1), (2, 3), (3, 2)])
def test_solve_sylvester(m: int, n: int) -> None:
    a, b, q = general(m), general(n), RNG.standard_normal((m, n))
    _assert_scipy(fla.solve_sylvester, sl.solve_sylvester(a, b, q), a, b, q, rtol=1e-10)
    check_grads(fla.solve_sylvester, (a, b, q), order=2)


def test_solve_sylvester_complex_float32_and_errors() -> None:
    a, b = general(2, complex_=True), general(2, complex_=True)
    q = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
    check_grads(fla.solve_sylvester, (a, b, q), order=1)
    a32, b32, q32 = (v.astype(np.float32) for v in (general(2), general(2), RNG.standard_normal((2, 2))))
    check_grads(fla.solve_sylvester, (a32, b32, q32), order=2)
    with pytest.raises(ValueError, match="q must have shape"):
        fg.grad(lambda q: fla.solve_sylvester(general(2), general(3), q).sum())(np.ones((2, 2)))


# --- block_diag ------------------------------------------------------------------------------


def test_block_diag() -> None:
    x, y, z = RNG.standard_normal((2, 2)), RNG.standard_normal(3), RNG.standard_normal((1, 0))
    _assert_scipy(lambda x, y: fla.block_diag(x, y, z, 5.0), sl.block_diag(x, y, z, 5.0), x, y)
    check_grads(lambda x, y: fla.block_diag(x, y, x), (x, y), order=2)
    mixed = fg.jvp(lambda y: fla.block_diag(y.astype(np.float32), np.ones((1, 1), np.float32)), (y,), (y,))[0]
    assert mixed.dtype == np.float32
    with pytest.raises(ValueError, match="dimension greater than 2"):
        fg.grad(lambda x: fla.block_diag(x[None]).sum())(x)


def test_plain_inputs_are_scipys_own_results() -> None:
    a, s, b = general(3), spd(3), RNG.standard_normal(3)
    np.testing.assert_array_equal(fla.solve_triangular(a, b), sl.solve_triangular(a, b))
    np.testing.assert_array_equal(fla.cholesky(s), sl.cholesky(s))
    np.testing.assert_array_equal(fla.cho_solve(fla.cho_factor(s), b), sl.cho_solve(sl.cho_factor(s), b))
    np.testing.assert_array_equal(fla.lu_solve(fla.lu_factor(a), b), sl.lu_solve(sl.lu_factor(a), b))
    np.testing.assert_array_equal(fla.sqrtm(s), sl.sqrtm(s))
    np.testing.assert_array_equal(fla.expm(a), sl.expm(a))
    np.testing.assert_array_equal(fla.solve_sylvester(a, s, a), sl.solve_sylvester(a, s, a))
    np.testing.assert_array_equal(fla.block_diag(a, b), sl.block_diag(a, b))


def banded(lower: int, upper: int, n: int, complex_: bool = False) -> np.ndarray:
    """Diagonals of a diagonally dominant banded matrix (SciPy's layout), padding corners included."""
    ab = RNG.standard_normal((lower + upper + 1, n))
    if complex_:
        ab = ab + 1j * RNG.standard_normal(ab.shape)
    ab[upper] += 2.0 * (lower + upper + 1)
    return ab


@pytest.mark.parametrize("l_and_u", [(1, 1), (2, 1), (0, 2), (1, 0), (0, 0)])
@pytest.mark.parametrize("rhs_shape", [(5,), (5, 2)])
def test_solve_banded_values_and_derivatives_to_second_order(
    l_and_u: tuple[int, int], rhs_shape: tuple[int, ...]
) -> None:
    ab, b = banded(*l_and_u, 5), RNG.standard_normal(rhs_shape)
    np.testing.assert_allclose(
        traced_value(lambda a: fla.solve_banded(l_and_u, a, b), ab), sl.solve_banded(l_and_u, ab, b), rtol=1e-13
    )
    assert np.array_equal(fla.solve_banded(l_and_u, ab, b), sl.solve_banded(l_and_u, ab, b))
    check_grads(lambda a, b: fla.solve_banded(l_and_u, a, b), (ab, b), order=2, modes=("fwd", "rev"))


def test_solve_banded_complex_float32_and_unused_corners() -> None:
    ab, b = banded(1, 2, 4, complex_=True), RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    check_grads(lambda a, b: fla.solve_banded((1, 2), a, b), (ab, b), order=2, modes=("fwd", "rev"))
    ab32, b32 = banded(1, 1, 4).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    gradient = fg.grad(lambda a: fla.solve_banded((1, 1), a, b32).sum())(ab32)
    assert gradient.dtype == np.float32
    # ab[0, 0] and ab[2, -1] lie outside the matrix: SciPy never reads them, so their derivative is zero
    assert gradient[0, 0] == 0.0 and gradient[2, -1] == 0.0
    with pytest.raises(ValueError, match=r"= \(3, n\) .* got ab \(2, 4\)"):
        fg.grad(lambda a: fla.solve_banded((1, 1), a, np.ones(4)).sum())(np.ones((2, 4)))
