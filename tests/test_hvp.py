"""fg.hvp: forward-over-reverse Hessian-vector products against dense Hessians, at second and third order,
under vmap and jit, over pytrees."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(0)
X = RNG.normal(size=4)
V = RNG.normal(size=4)
A = RNG.normal(size=(4, 4))


def loss(x):
    return fnp.sum(fnp.tanh(A @ x) ** 2) + fnp.prod(fnp.sin(x)) + fnp.sum(x**4) / 4


def test_hvp_is_gradient_and_hessian_times_vector():
    g, hv = fg.hvp(loss, (X,), (V,))
    np.testing.assert_allclose(g, fg.grad(loss)(X), rtol=1e-13)
    np.testing.assert_allclose(hv, fg.hessian(loss)(X) @ V, rtol=1e-12, atol=1e-13)


def test_hvp_matches_finite_differences_of_the_gradient():
    eps = 1e-6
    fd = (fg.grad(loss)(X + eps * V) - fg.grad(loss)(X - eps * V)) / (2 * eps)
    np.testing.assert_allclose(fg.hvp(loss, (X,), (V,))[1], fd, rtol=1e-6, atol=1e-8)


def test_hvp_differentiates_again_third_order():
    # d/dx (H(x) v) . w = sum_ijk T_ijk v_j w_i e_k: the Jacobian of x -> H(x) v is the third derivative contracted with v
    third = fg.jacfwd(fg.hessian(loss))(X)
    jac = fg.jacrev(lambda x: fg.hvp(loss, (x,), (V,))[1])(X)
    np.testing.assert_allclose(jac, np.einsum("ijk,j->ik", third, V), rtol=1e-10, atol=1e-12)
    jac_fwd = fg.jacfwd(lambda x: fg.hvp(loss, (x,), (V,))[1])(X)
    np.testing.assert_allclose(jac_fwd, jac, rtol=1e-10, atol=1e-12)


def test_hvp_is_linear_in_the_tangent_and_checked_by_check_grads():
    fg.testing.check_grads(lambda x: fg.hvp(loss, (x,), (V,))[1], (X,), order=1, modes=("fwd", "rev"))


def test_hvp_under_vmap_gives_several_products_at_once():
    vectors = RNG.normal(size=(3, 4))
    batched = fg.vmap(lambda v: fg.hvp(loss, (X,), (v,))[1])(vectors)
    np.testing.assert_allclose(batched, vectors @ fg.hessian(loss)(X).T, rtol=1e-12, atol=1e-13)
    points = RNG.normal(size=(3, 4))
    at_points = fg.vmap(lambda x: fg.hvp(loss, (x,), (V,))[1])(points)
    np.testing.assert_allclose(at_points, [fg.hessian(loss)(p) @ V for p in points], rtol=1e-12, atol=1e-13)


def test_hvp_under_jit_is_the_eager_result_bit_for_bit():
    jitted = fg.jit(lambda x, v: fg.hvp(loss, (x,), (v,)))
    for x, v in [(X, V), (X + 1, V * 2)]:
        eager = fg.hvp(loss, (x,), (v,))
        got = jitted(x, v)
        assert got[0].tobytes() == eager[0].tobytes() and got[1].tobytes() == eager[1].tobytes()


def test_hvp_of_a_pytree_of_parameters():
    params = {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=3)}
    direction = {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=3)}
    inputs = RNG.normal(size=(5, 2))

    def nll(p):
        return fnp.sum(fnp.log1p(fnp.exp(inputs @ p["w"] + p["b"])))

    g, hv = fg.hvp(nll, (params,), (direction,))
    flat, unravel = fg.tree.ravel_pytree(params)
    flat_loss = lambda z: nll(unravel(z))
    want = fg.hessian(flat_loss)(flat) @ fg.tree.ravel_pytree(direction)[0]
    assert set(hv) == {"w", "b"} and hv["w"].shape == (2, 3)
    np.testing.assert_allclose(fg.tree.ravel_pytree(hv)[0], want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fg.tree.ravel_pytree(g)[0], fg.grad(flat_loss)(flat), rtol=1e-13)


def test_hvp_over_several_arguments_with_argnums():
    f = lambda x, y: fnp.sum(fnp.sin(x) * y**2)
    x, y, vx, vy = RNG.normal(size=(4, 3))
    g, hv = fg.hvp(f, (x, y), (vx, vy), argnums=(0, 1))
    whole = lambda z: f(z[:3], z[3:])
    want = fg.hessian(whole)(np.concatenate([x, y])) @ np.concatenate([vx, vy])
    np.testing.assert_allclose(np.concatenate(hv), want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(np.concatenate(g), fg.grad(whole)(np.concatenate([x, y])), rtol=1e-13)


def test_hvp_with_aux():
    g, hv, aux = fg.hvp(lambda x: (loss(x), {"n": 3}), (X,), (V,), has_aux=True)
    assert aux == {"n": 3}
    np.testing.assert_allclose(hv, fg.hessian(loss)(X) @ V, rtol=1e-12, atol=1e-13)


def test_hvp_errors_name_the_fix():
    with pytest.raises(TypeError, match=r"fg.hvp\(f, \(x,\), \(v,\)\)"):
        fg.hvp(loss, X, V)
    with pytest.raises(ValueError):
        fg.hvp(loss, (X,), (V[:2],))
    with pytest.raises(TypeError, match="scalar"):
        fg.hvp(lambda x: x * 2, (X,), (V,))
