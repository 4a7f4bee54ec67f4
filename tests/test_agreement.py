"""Compositionality stress test: several spellings of one Hessian must agree to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(20261123)
A = RNG.normal(size=(3, 4)) / 2
B = RNG.normal(size=(4, 4)) / 2


def f_mlp(x):
    return fnp.sum(fnp.tanh(A @ x)) + fnp.log(fnp.sum(fnp.exp(x)))


def f_poly(x):
    return fnp.sum(x**3) * fnp.prod(x) / 10 + fnp.dot(x, B @ x)


def f_trig(x):
    return fnp.sum(fnp.sin(x) * fnp.cos(x[::-1])) + fnp.max(x) ** 2 + fnp.sqrt(fnp.sum(x * x) + 1.0)


def f_mixed(x):
    m = fnp.reshape(x, (2, 2))
    return fnp.sum(fnp.tanh(m @ m.T)) + fnp.mean(fnp.exp(-m**2), axis=0)[1]


def f_where(x):
    return fnp.sum(fnp.where(x > 0, x**2, fnp.sin(x))) * fnp.linalg.norm(x)


FUNCTIONS = [f_mlp, f_poly, f_trig, f_mixed, f_where]


def _spellings(f, x):
    n = x.size
    eye = np.eye(n)
    yield "jacfwd(jacrev)", fg.jacfwd(fg.jacrev(f))(x)
    yield "jacrev(jacfwd)", fg.jacrev(fg.jacfwd(f))(x)
    yield "jacrev(jacrev)", fg.jacrev(fg.jacrev(f))(x)
    yield "jacfwd(jacfwd)", fg.jacfwd(fg.jacfwd(f))(x)
    yield "jacfwd(grad)", fg.jacfwd(fg.grad(f))(x)
    yield "hessian", fg.hessian(f)(x)
    yield "hvp jvp-of-grad", np.stack([fg.jvp(fg.grad(f), (x,), (eye[i],))[1] for i in range(n)], axis=1)
    yield "hvp grad-of-dot", np.stack([fg.grad(lambda y: fnp.dot(fg.grad(f)(y), eye[i]))(x) for i in range(n)], axis=1)
    _, f_jvp = fg.linearize(fg.grad(f), x)
    yield "linearize(grad)", np.stack([f_jvp(eye[i]) for i in range(n)], axis=1)
    yield "vjp(grad)", np.stack([fg.vjp(fg.grad(f), x)[1](eye[i])[0] for i in range(n)], axis=0)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_hessian_spellings_agree(f, seed):
    x = np.random.default_rng(seed).uniform(0.2, 1.2, size=4) * np.array([1, -1, 1, 1])
    results = list(_spellings(f, x))
    reference_name, reference = results[0]
    assert reference.shape == (4, 4)
    np.testing.assert_allclose(reference, reference.T, rtol=1e-10, atol=1e-10)
    for name, h in results[1:]:
        np.testing.assert_allclose(h, reference, rtol=1e-10, atol=1e-10, err_msg=f"{name} vs {reference_name}")


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_hessian_matches_finite_differences_of_gradient(f):
    x = np.array([0.3, -0.8, 0.5, 1.1])
    g = fg.grad(f)
    eps = 1e-6
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(fg.hessian(f)(x), fd, rtol=1e-6, atol=1e-6)


def test_jacobian_spellings_agree_for_vector_function():
    def f(x):
        return fnp.tanh(B @ x) * x

    x = RNG.normal(size=4)
    jf, jr = fg.jacfwd(f)(x), fg.jacrev(f)(x)
    by_jvp = np.stack([fg.jvp(f, (x,), (e,))[1] for e in np.eye(4)], axis=1)
    by_vjp = np.stack([fg.vjp(f, x)[1](e)[0] for e in np.eye(4)], axis=0)
    for j in (jr, by_jvp, by_vjp):
        np.testing.assert_allclose(j, jf, rtol=1e-12, atol=1e-14)
