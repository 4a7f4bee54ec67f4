"""jacrev and hessian push the whole cotangent basis through one batched backward sweep (issue 12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad._api
import funcgrad.numpy as fnp

RNG = np.random.default_rng(1212)
B = RNG.normal(size=(4, 4))
X = RNG.normal(size=4)


def f(x: Any) -> Any:
    return fnp.tanh(B @ x) * x


def jacobian_by_hand(x: np.ndarray) -> np.ndarray:
    t = np.tanh(B @ x)
    return np.diag(t) + (x * (1.0 - t * t))[:, None] * B


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every cotangent seed handed to a backward sweep started by the transforms in funcgrad._api."""
    seen: list[Any] = []
    real = funcgrad._api.backward

    def counting(tape: Any, seeds: Any, inputs: Any, consume: bool) -> Any:
        seeds = list(seeds)
        seen.append([s for _, s in seeds])
        return real(tape, seeds, inputs, consume)

    monkeypatch.setattr(funcgrad._api, "backward", counting)
    return seen


def test_jacrev_is_one_sweep_of_the_whole_basis(sweeps: list[Any]) -> None:
    np.testing.assert_allclose(fg.jacrev(f)(X), jacobian_by_hand(X), rtol=1e-12)
    assert len(sweeps) == 1  # the loop over output rows made 4
    (seed,) = sweeps[0]
    assert seed.shape == (4,)  # one example's shape: the batch of 4 rows travels under vmap


def test_pytree_outputs_share_one_sweep(sweeps: list[Any]) -> None:
    def g(p: dict[str, Any]) -> Any:
        return {"a": p["x"] * p["y"][0], "b": (fnp.sum(p["x"] ** 2), fnp.outer(p["y"], p["x"][:2]))}

    p = {"x": X, "y": RNG.normal(size=3)}
    jac = fg.jacrev(g)(p)
    assert len(sweeps) == 1
    forward = fg.jacfwd(g)(p)
    for got, want in zip(fg.tree.tree_leaves(jac), fg.tree.tree_leaves(forward)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert jac["b"][1]["x"].shape == (3, 2, 4)


def test_hessian_is_one_forward_pass_over_one_sweep(sweeps: list[Any]) -> None:
    h = fg.hessian(lambda x: fnp.sum(fnp.tanh(B @ x)) + fnp.log(fnp.sum(fnp.exp(x))))(X)
    assert len(sweeps) == 1
    t = np.tanh(B @ X)
    s = np.exp(X) / np.sum(np.exp(X))
    np.testing.assert_allclose(h, (B.T * (-2.0 * t * (1.0 - t * t))) @ B + np.diag(s) - np.outer(s, s), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jacrev_keeps_the_dtype_and_equals_a_loop_of_vjps(dtype: type) -> None:
    x = X.astype(dtype)
    fun = lambda v: fnp.sin(v[::-1]) * v[0] + fnp.cumsum(v)  # noqa: E731
    jac = fg.jacrev(fun)(x)
    _, pull = fg.vjp(fun, x)
    rows = np.stack([pull(e)[0] for e in np.eye(4, dtype=dtype)])
    assert jac.dtype == dtype
    np.testing.assert_allclose(jac, rows, rtol=1e-6 if dtype is np.float32 else 1e-14)


def test_holomorphic_jacrev_and_argnums_and_aux() -> None:
    z = X + 1j * X[::-1]
    jac = fg.jacrev(lambda z: z**2 * z[0], holomorphic=True)(z)
    np.testing.assert_allclose(jac, np.diag(2 * z * z[0]) + np.outer(z**2, np.eye(4)[0]), rtol=1e-12)
    (ja, jb), aux = fg.jacrev(lambda a, b: (a * b, "aux"), argnums=(0, 1), has_aux=True)(X, X[::-1])
    np.testing.assert_allclose(ja, np.diag(X[::-1]))
    np.testing.assert_allclose(jb, np.diag(X))
    assert aux == "aux"


def test_nested_jacobians() -> None:
    # jacrev of jacrev, jacrev inside grad, jit of jacrev: each against forward mode
    second = fg.jacrev(fg.jacrev(f))(X)
    np.testing.assert_allclose(second, fg.jacfwd(fg.jacfwd(f))(X), rtol=1e-10, atol=1e-13)
    inside = fg.grad(lambda x: fnp.sum(fg.jacrev(f)(x) ** 2))(X)
    np.testing.assert_allclose(inside, fg.grad(lambda x: fnp.sum(fg.jacfwd(f)(x) ** 2))(X), rtol=1e-10)
    jitted = fg.jit(fg.jacrev(f))
    np.testing.assert_allclose(jitted(X), jacobian_by_hand(X), rtol=1e-12)
    np.testing.assert_allclose(jitted(2 * X), jacobian_by_hand(2 * X), rtol=1e-12)


def test_constant_and_empty_outputs() -> None:
    jac = fg.jacrev(lambda x: (np.ones(3), x[:0]))(X)
    assert jac[0].shape == (3, 4) and not jac[0].any()
    assert jac[1].shape == (0, 4)


def test_matmul_vector_rules_batch_without_reshapes() -> None:
    # the vector-matrix vjps are one contraction, and a batch of vectors against a matrix is one matmul
    a = RNG.normal(size=(3, 4))
    program = str(fg.make_program(fg.jacrev(lambda v: fnp.sin(a @ v)))(X))
    assert "reshape" not in program and program.count("matmul") == 2
    np.testing.assert_allclose(fg.jacrev(lambda v: fnp.sin(a @ v))(X), np.cos(a @ X)[:, None] * a)
    np.testing.assert_allclose(fg.jacrev(lambda v: a @ v)(X), a)
    np.testing.assert_allclose(fg.jacrev(lambda v: v @ a.T)(X), a)
    np.testing.assert_allclose(fg.vmap(lambda m, v: v @ m, in_axes=(None, 0))(a.T, B), B @ a.T)
    np.testing.assert_allclose(fg.vmap(lambda m, v: m @ v, in_axes=(None, 0))(a, B), B @ a.T)
    np.testing.assert_allclose(fg.vmap(lambda v: a @ v, in_axes=1)(B), (a @ B).T)
