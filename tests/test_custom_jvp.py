"""fg.custom_jvp: forward mode, reverse mode by transposing the rule, higher order, errors."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


@fg.custom_jvp
def sin_times(x, y):
    return fnp.sin(x) * y


@sin_times.defjvp
def _sin_times_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    return sin_times(x, y), fnp.cos(x) * y * tx + fnp.sin(x) * ty


# the same function with one rule per argument
sin_times_jvps = fg.custom_jvp(lambda x, y: fnp.sin(x) * y)
sin_times_jvps.defjvps(lambda tx, ans, x, y: fnp.cos(x) * y * tx, lambda ty, ans, x, y: fnp.sin(x) * ty)


def sin_times_ref(x, y):
    return fnp.sin(x) * y


# a stable softplus whose naive gradient overflows
@fg.custom_jvp
def softplus(x):
    return fnp.logaddexp(0.0, x)


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * 0.5 * (1.0 + fnp.tanh(0.5 * x))  # the sigmoid, without overflow


SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3))]
FUNS = [sin_times, sin_times_jvps]


@pytest.mark.parametrize("fun", FUNS, ids=["defjvp", "defjvps"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ys", SHAPES)
def test_check_grads_both_modes_order2(fun, xs, ys, dtype):
    check_grads(fun, (rnd(*xs, dtype=dtype), rnd(*ys, dtype=dtype)), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize("fun", FUNS, ids=["defjvp", "defjvps"])
@pytest.mark.parametrize("xs, ys", SHAPES[1:])
def test_jacobians_agree(fun, xs, ys):
    x, y = rnd(*xs), rnd(*ys)
    want = fg.jacrev(sin_times_ref, (0, 1))(x, y)
    for jac in (fg.jacfwd, fg.jacrev):
        got = jac(fun, (0, 1))(x, y)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_hessians_all_four_ways():
    x, y = rnd(3), rnd(3)
    f = lambda x: fnp.sum(sin_times(x, y))
    want = np.diag(-np.sin(x) * y)
    for h in (fg.hessian(f), fg.jacfwd(fg.jacfwd(f)), fg.jacrev(fg.jacrev(f)), fg.jacrev(fg.jacfwd(f))):
        np.testing.assert_allclose(h(x), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fg.grad(f)(x)))(x), -np.sin(x) * y, rtol=1e-12)


def test_rule_applies_under_grad_of_grad():
    # a rule that deliberately differs from the function: the rule must win at every order
    @fg.custom_jvp
    def f(x):
        return x * x

    f.defjvp(lambda p, t: (f(p[0]), 3.0 * p[0] ** 2 * t[0]))  # claims f' = 3x^2
    assert fg.grad(f)(2.0) == 12.0
    assert fg.jvp(f, (2.0,), (1.0,))[1] == 12.0
    assert fg.grad(fg.grad(f))(2.0) == 12.0  # d/dx 3x^2 = 6x
    assert fg.jacfwd(fg.jacfwd(f))(np.array(2.0)) == 12.0
    assert fg.linearize(f, 2.0)[1](1.0) == 12.0


def test_softplus_gradient_is_stable():
    assert fg.grad(softplus)(1000.0) == 1.0
    assert fg.grad(softplus)(-1000.0) == 0.0
    assert fg.grad(fg.grad(softplus))(0.0) == 0.25
    x = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(fg.jacfwd(softplus)(x), np.diag([0.0, 0.5, 1.0]))
    np.testing.assert_array_equal(fg.jacrev(softplus)(x), np.diag([0.0, 0.5, 1.0]))
    check_grads(softplus, (rnd(4),), order=3)


def test_value_without_transform_calls_fun_only():
    calls = []

    @fg.custom_jvp
    def f(x):
        calls.append("fun")
        return 2 * x

    @f.defjvp
    def f_jvp(p, t):
        calls.append("rule")
        return 2 * p[0], 2 * t[0]

    assert f(1.0) == 2.0 and calls == ["fun"]


def test_pytrees_in_and_out():
    @fg.custom_jvp
    def f(d):
        return {"prod": d["a"] * d["b"], "a2": (d["a"] ** 2,)}

    @f.defjvp
    def f_jvp(primals, tangents):
        (d,), (t,) = primals, tangents
        return f(d), {"prod": t["a"] * d["b"] + d["a"] * t["b"], "a2": (2 * d["a"] * t["a"],)}

    d = {"a": rnd(3), "b": rnd(3)}
    check_grads(f, (d,), order=2)
    loss = lambda d: fnp.sum(f(d)["prod"]) + fnp.sum(f(d)["a2"][0])
    g = fg.grad(loss)(d)
    np.testing.assert_allclose(g["a"], d["b"] + 2 * d["a"])
    np.testing.assert_allclose(g["b"], d["a"])


def test_nondiff_argnums():
    @functools.partial(fg.custom_jvp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (x,), (t,) = primals, tangents
        return fn(x), t * (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6

    np.testing.assert_allclose(fg.grad(lambda x: apply(np.sin, x))(0.5), np.cos(0.5), rtol=1e-8)
    np.testing.assert_allclose(fg.jvp(lambda x: apply(np.sin, x), (0.5,), (1.0,))[1], np.cos(0.5), rtol=1e-8)

    g = fg.custom_jvp(lambda x, n: x**n, nondiff_argnums=(1,))
    g.defjvps(lambda t, ans, x, n: n * x ** (n - 1) * t)
    assert fg.grad(g)(2.0, 3) == 12.0
    assert fg.grad(lambda x: g(x, n=3))(2.0) == 12.0


def test_integer_argument_gets_float0_tangent():
    @fg.custom_jvp
    def f(x, k):
        return x * k

    @f.defjvp
    def f_jvp(p, t):
        assert t[1].dtype == fg.float0
        return p[0] * p[1], t[0] * p[1]

    assert fg.grad(f)(2.0, 3) == 3.0
    assert fg.jvp(lambda x: f(x, 3), (2.0,), (1.0,))[1] == 3.0


def test_complex_holomorphic_rule():
    @fg.custom_jvp
    def sq(z):
        return z * z

    sq.defjvps(lambda t, ans, z: 2 * z * t)
    z = np.array([1 + 2j, -0.5 + 1j])
    check_grads(sq, (z,), order=2)
    assert fg.grad(sq, holomorphic=True)(1 + 1j) == 2 + 2j
    np.testing.assert_allclose(fg.grad(lambda z: fnp.abs(sq(z)) ** 2)(1 + 1j), 4 * 2 * (1 - 1j))


def test_float32_preserved():
    x = np.array([0.1, 0.2], np.float32)
    assert fg.grad(lambda x: fnp.sum(softplus(x)))(x).dtype == np.float32
    assert fg.jvp(softplus, (x,), (np.ones(2, np.float32),))[1].dtype == np.float32


# --- errors ---------------------------------------------------------------------------------


def test_missing_rule():
    f = fg.custom_jvp(lambda x: x)
    with pytest.raises(TypeError, match=r"defjvp\(rule\)"):
        f(1.0)


@pytest.mark.parametrize(
    "rule, match",
    [
        (lambda p, t: p[0] * 2, "must return a pair"),
        (lambda p, t: (p[0] * 2, np.ones(5)), r"shape \(3,\)"),
        (lambda p, t: (p[0] * 2, 2j * t[0]), r"dtype float64"),
        (lambda p, t: (p[0] * 2, (t[0], t[0])), "structure of its primal output"),
    ],
)
@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_bad_rule_raises_value_error(rule, match, mode):
    f = fg.custom_jvp(lambda x: 2 * x)
    f.defjvp(rule)
    x = np.ones(3)
    with pytest.raises(ValueError, match=match):
        if mode == "fwd":
            fg.jvp(f, (x,), (x,))
        else:
            fg.grad(lambda x: fnp.sum(f(x)))(x)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_closed_over_traced_value_raises(mode):
    def outer(y):
        @fg.custom_jvp
        def f(x):
            return x * y

        f.defjvp(lambda p, t: (p[0] * y, t[0] * y))
        return f(2.0 * y)

    with pytest.raises(TypeError, match="closes over a value"):
        if mode == "fwd":
            fg.jvp(outer, (3.0,), (1.0,))
        else:
            fg.grad(outer)(3.0)


def test_defjvps_wrong_count():
    f = fg.custom_jvp(lambda x, y: x * y)
    f.defjvps(lambda t, ans, x, y: t * y)
    with pytest.raises(TypeError, match="one per argument"):
        fg.grad(f)(1.0, 2.0)


def test_differentiating_a_nondiff_argument_raises():
    f = fg.custom_jvp(lambda n, x: n * x, nondiff_argnums=(0,))
    f.defjvp(lambda n, p, t: (n * p[0], n * t[0]))
    with pytest.raises(TypeError, match="nondiff_argnums"):
        fg.grad(lambda n: f(n, 2.0))(3.0)


def test_tapes_are_freed_without_the_garbage_collector(reverse_traces):
    fg.grad(lambda x: fnp.sum(sin_times(x, x) * sin_times(x, 2.0)))(np.ones(3))
    out, vjp_fn = fg.vjp(lambda x: sin_times(x, 2.0), np.ones(3))
    vjp_fn(np.ones(3))
    del out, vjp_fn
    assert reverse_traces and all(t() is None for t in reverse_traces)
