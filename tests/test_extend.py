"""funcgrad.extend: outside functions become primitives with the built-in rule mechanism."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import extend
from funcgrad._rules import REGISTRY
from funcgrad.testing import check_grads


def sigmoid(x):
    return 0.5 * (1.0 + fnp.tanh(0.5 * x))


# a pure-NumPy outside function: funcgrad never looks inside np.logaddexp here
softplus = extend.primitive(lambda x: np.logaddexp(0.0, x), name="softplus")
extend.defvjp(softplus, lambda g, ans, x: g * sigmoid(x))
extend.defjvp(softplus, lambda t, ans, x: t * sigmoid(x), batched=True)


# two arguments, broadcasting, a static keyword parameter: scaled_hypot(x, y, scale=s) = s * sqrt(x^2 + y^2)
def _scaled_hypot(x, y, scale=1.0):
    return scale * np.hypot(x, y)


scaled_hypot = extend.primitive(_scaled_hypot, name="scaled_hypot")
extend.defvjp(
    scaled_hypot,
    lambda g, ans, x, y, scale: extend.unbroadcast(g * scale**2 * x / ans, x),
    lambda g, ans, x, y, scale: extend.unbroadcast(g * scale**2 * y / ans, y),
)
extend.defjvp(
    scaled_hypot,
    lambda t, ans, x, y, scale: extend.broadcast_tangent(t, x, ans) * (scale**2 * x / ans),
    lambda t, ans, x, y, scale: extend.broadcast_tangent(t, y, ans) * (scale**2 * y / ans),
    batched=True,
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_unary_primitive(shape, dtype):
    x = rnd(*shape, dtype=dtype)
    check_grads(softplus, (x,), modes=("fwd", "rev"), order=3 if dtype == np.float64 else 2)
    if shape:
        np.testing.assert_allclose(fg.jacfwd(softplus)(x), fg.jacrev(softplus)(x), rtol=1e-6)
    assert np.result_type(softplus(x)) == dtype
    assert np.result_type(fg.grad(lambda x: fnp.sum(softplus(x)))(x)) == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ys", [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2, 2))])
def test_binary_primitive_with_broadcasting_and_static_param(xs, ys, dtype):
    x, y = rnd(*xs, dtype=dtype) + 2, rnd(*ys, dtype=dtype) + 2
    f = lambda x, y: scaled_hypot(x, y, scale=1.5)
    check_grads(f, (x, y), modes=("fwd", "rev"), order=2)
    for a, b in zip(fg.jacfwd(f, (0, 1))(x, y), fg.jacrev(f, (0, 1))(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    g = fg.grad(lambda x, y: fnp.sum(f(x, y)), (0, 1))(x, y)
    assert g[0].shape == np.shape(x) and g[1].shape == np.shape(y)
    assert g[0].dtype == dtype


def test_plain_values_call_the_function():
    assert softplus(0.0) == np.log(2.0)
    np.testing.assert_allclose(scaled_hypot(3.0, 4.0, scale=2.0), 10.0)


def test_user_primitives_do_not_touch_the_builtin_registry():
    before = dict(REGISTRY)
    p = extend.primitive(np.sin)
    assert p.name == "sin" and REGISTRY == before and REGISTRY["sin"] is not p


def test_missing_rules_raise_clear_errors():
    bare = extend.primitive(np.cbrt)
    with pytest.raises(TypeError, match=r"'cbrt' has no reverse \(vjp\) rule"):
        fg.grad(bare)(1.0)
    with pytest.raises(TypeError, match=r"'cbrt' has no forward \(jvp\) rule"):
        fg.jvp(bare, (1.0,), (1.0,))
    half = extend.primitive(np.cbrt, name="cbrt_rev_only")
    extend.defvjp(half, lambda g, ans, x: g / (3 * ans**2))
    assert fg.grad(half)(8.0) == pytest.approx(1 / 12)
    with pytest.raises(TypeError, match="cbrt_rev_only"):
        fg.jvp(half, (8.0,), (1.0,))


def test_non_primitive_rejected():
    with pytest.raises(TypeError, match="expected a primitive"):
        extend.defvjp(np.sin, lambda g, ans, x: g)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a function"):
        extend.primitive(3)  # type: ignore[arg-type]


def test_nondiff_and_variadic():
    clipped = extend.primitive(np.round, name="round_p")
    extend.def_nondiff(clipped)
    assert fg.grad(lambda x: clipped(x) * x)(2.4) == 2.0
    assert fg.jvp(lambda x: clipped(x) * x, (2.4,), (1.0,))[1] == 2.0

    wsum = extend.primitive(lambda *xs: sum((i + 1) * x for i, x in enumerate(xs)), name="wsum")
    extend.defvjp_variadic(wsum, lambda i: lambda g, ans, *xs: extend.unbroadcast((i + 1) * g, xs[i]))
    extend.defjvp_variadic(
        wsum, lambda i: lambda t, ans, *xs: extend.broadcast_tangent((i + 1) * t, xs[i], ans), batched=True
    )
    f = lambda a, b, c: wsum(a, b, c)
    check_grads(f, (rnd(3), rnd(3), rnd()), order=2)
    np.testing.assert_allclose(fg.jacfwd(f, 2)(rnd(3), rnd(3), rnd()), fg.jacrev(f, 2)(rnd(3), rnd(3), rnd()))


def test_multilinear():
    outer = extend.primitive(np.multiply.outer, name="outer")
    extend.def_multilinear(outer, 2)
    extend.defvjp(outer, lambda g, ans, a, b: g @ b, lambda g, ans, a, b: a @ g)
    check_grads(outer, (rnd(2), rnd(3)), order=2)


def test_is_traced_and_full_lower():
    seen = []

    def f(x):
        seen.append((extend.is_traced(x), extend.full_lower(x)))
        return x * x

    fg.grad(fg.grad(f))(3.0)
    assert seen == [(True, 3.0)]


def test_scipy_gammaln():
    special = pytest.importorskip("scipy.special")
    gammaln = extend.primitive(special.gammaln, name="gammaln")
    digamma = extend.primitive(special.digamma, name="digamma")
    trigamma = extend.primitive(lambda x: special.polygamma(1, x), name="trigamma")
    extend.defvjp(gammaln, lambda g, ans, x: g * digamma(x))
    extend.defjvp(gammaln, lambda t, ans, x: t * digamma(x), batched=True)
    extend.defvjp(digamma, lambda g, ans, x: g * trigamma(x))
    extend.defjvp(digamma, lambda t, ans, x: t * trigamma(x), batched=True)
    x = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(gammaln(x)))(x), special.digamma(x))
    np.testing.assert_allclose(fg.hessian(lambda x: fnp.sum(gammaln(x)))(x), np.diag(special.polygamma(1, x)))
    check_grads(gammaln, (x,), order=2)
