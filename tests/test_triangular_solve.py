"""The Cholesky rules solve with the triangular factor by a triangular solve (SciPy's when installed).

``triangular_solve_p`` is checked like every primitive (finite differences, both modes, second order,
real and complex, stacks of right-hand sides and of matrices, vmap); the Cholesky rules that use it are
checked through ``cholesky``'s own tests (tests/test_linalg.py) and here at third order; eager and jit
make the same choice, with and without SciPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._prims import _linalg
from funcgrad._prims._linalg import triangular_solve_p
from funcgrad.testing import check_grads

RNG = np.random.default_rng(5)


def _factor(n: int, lower: bool, dtype: Any = np.float64, batch: tuple[int, ...] = ()) -> np.ndarray:
    m = RNG.uniform(-0.5, 0.5, batch + (n, n)) + 2.0 * np.eye(n)
    if np.dtype(dtype).kind == "c":
        m = m + 0.3j * RNG.uniform(-0.5, 0.5, batch + (n, n))
    return (np.tril(m) if lower else np.triu(m)).astype(dtype)


@pytest.fixture(params=["scipy", "numpy"])
def backend(request: Any, monkeypatch: Any) -> str:
    """Run a test with SciPy's triangular solve and with NumPy's general solve (SciPy not installed)."""
    if request.param == "numpy":
        monkeypatch.setattr(_linalg, "_scipy_solve_triangular", lambda: None)
    else:
        pytest.importorskip("scipy")
    return str(request.param)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("b_shape", [(3, 2), (4, 3, 2)], ids=["matrix", "stack"])
def test_values_and_derivatives(backend: str, lower: bool, dtype: Any, b_shape: tuple[int, ...]) -> None:
    a = _factor(3, lower, dtype)
    b = RNG.standard_normal(b_shape).astype(dtype)
    out = triangular_solve_p(a, b, lower=lower)
    np.testing.assert_allclose(out, np.linalg.solve(a, b), rtol=1e-12, atol=1e-12)
    # the derivative with respect to the triangle read only: a stays triangular
    mask = np.tril(np.ones((3, 3))) if lower else np.triu(np.ones((3, 3)))
    check_grads(lambda m, v: triangular_solve_p(m * mask, v, lower=lower), (a, b), order=2)


def test_a_stack_of_matrices_and_vmap(backend: str) -> None:
    a = _factor(3, True, batch=(2,))
    b = RNG.standard_normal((2, 3, 2))
    np.testing.assert_allclose(triangular_solve_p(a, b, lower=True), np.linalg.solve(a, b), rtol=1e-12)
    per_example = fg.vmap(lambda m, v: triangular_solve_p(m, v, lower=True))(a, b)
    np.testing.assert_allclose(per_example, np.linalg.solve(a, b), rtol=1e-12)
    one = fg.vmap(lambda v: triangular_solve_p(a[0], v, lower=True))(b)
    np.testing.assert_allclose(one, np.linalg.solve(a[0], b), rtol=1e-12)
    check_grads(fg.vmap(lambda m, v: triangular_solve_p(m * np.tril(np.ones((3, 3))), v, lower=True)), (a, b))


def _spd(n: int, dtype: Any = np.float64) -> np.ndarray:
    m = RNG.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        m = m + 1j * RNG.standard_normal((n, n))
    return (m @ m.conj().T + n * np.eye(n)).astype(dtype)


def _names(fun: Any, *args: Any) -> list[str]:
    return [eqn.prim.name for eqn in fg.make_program(fun)(*args).eqns]


def test_the_cholesky_rules_solve_triangular_systems_only(backend: str) -> None:
    a = _spd(4)
    loss = lambda m: fnp.sum(fnp.linalg.cholesky(m) ** 2)  # noqa: E731
    for fun in (fg.grad(loss), lambda m: fg.jvp(fnp.linalg.cholesky, (m,), (np.eye(4),))[1]):
        names = _names(fun, a)
        assert "triangular_solve" in names and "solve" not in names, names


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_cholesky_to_third_order(backend: str, dtype: Any) -> None:
    a = _spd(3, dtype)
    sym = lambda m: (m + fnp.conj(fnp.swapaxes(m, -1, -2))) / 2  # noqa: E731
    check_grads(lambda m: fnp.linalg.cholesky(sym(m)), (a,), order=3, modes=("rev",))
    check_grads(lambda m: fnp.linalg.cholesky(sym(m)), (a,), order=2, modes=("fwd",))


def test_jit_of_a_cholesky_gradient_is_the_eager_bits(backend: str) -> None:
    n = 6
    t = np.linspace(0.0, 3.0, n)
    d2 = (t[:, None] - t[None, :]) ** 2
    y = np.sin(t)

    def nll(theta: Any) -> Any:
        k = fnp.exp(theta[1]) * fnp.exp(-0.5 * d2 / fnp.exp(2 * theta[0])) + fnp.exp(theta[2]) * np.eye(n)
        factor = fnp.linalg.cholesky(k)
        v = fnp.linalg.solve(factor, y)
        return 0.5 * fnp.sum(v * v) + fnp.sum(fnp.log(fnp.diagonal(factor)))

    grad = fg.grad(nll)
    jitted = fg.jit(grad)
    for theta in (np.array([0.2, 0.1, -2.0]), np.array([-0.3, 0.5, -1.0]), np.array([0.0, 0.0, 0.0])):
        for _ in range(4):  # recorded, interpreted, compiled
            got, want = jitted(theta), grad(theta)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
