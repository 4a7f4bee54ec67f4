"""fg.custom_vjp: JAX's calling convention, nesting, pytrees, nondiff_argnums and every error."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


# sin(x) * y with a hand-written rule whose bwd uses fnp ops (so it differentiates again)
@fg.custom_vjp
def sin_times(x, y):
    return fnp.sin(x) * y


def _sin_times_fwd(x, y):
    return fnp.sin(x) * y, (fnp.cos(x), fnp.sin(x), x, y)


def _sin_times_bwd(res, g):
    c, s, x, y = res
    return fg.extend.unbroadcast(c * y * g, x), fg.extend.unbroadcast(s * g, y)


sin_times.defvjp(_sin_times_fwd, _sin_times_bwd)


def sin_times_ref(x, y):
    return fnp.sin(x) * y


SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((4, 1), (1, 3)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ys", SHAPES)
def test_check_grads_rev_order2(xs, ys, dtype):
    x, y = rnd(*xs, dtype=dtype), rnd(*ys, dtype=dtype)
    check_grads(sin_times, (x, y), modes=("rev",), order=2)


@pytest.mark.parametrize("xs, ys", SHAPES)
def test_matches_plain_function(xs, ys):
    x, y = rnd(*xs), rnd(*ys)
    f = lambda x, y: fnp.sum(sin_times(x, y) ** 2)
    f_ref = lambda x, y: fnp.sum(sin_times_ref(x, y) ** 2)
    for a, b in zip(fg.grad(f, (0, 1))(x, y), fg.grad(f_ref, (0, 1))(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(fg.jacrev(sin_times)(x, y), fg.jacrev(sin_times_ref)(x, y), rtol=1e-12)


def test_grad_of_grad_and_hessian_use_the_rule():
    x, y = rnd(3), rnd(3)
    gg = fg.grad(lambda x: fnp.sum(fg.grad(lambda x: fnp.sum(sin_times(x, y)))(x)))(x)
    np.testing.assert_allclose(gg, -np.sin(x) * y, rtol=1e-12)
    np.testing.assert_allclose(fg.hessian(lambda x: fnp.sum(sin_times(x, y)))(x), np.diag(-np.sin(x) * y), rtol=1e-12)
    np.testing.assert_allclose(
        fg.jacrev(fg.jacrev(lambda x: fnp.sum(sin_times(x, y))))(x), np.diag(-np.sin(x) * y), rtol=1e-12
    )


def test_rule_really_is_used():
    # the classic: clip the gradient, leave the value alone
    @fg.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1.0, 1.0),))
    assert fg.grad(lambda x: 5.0 * clip_gradient(x))(2.0) == 1.0
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(3 * clip_gradient(x)))(np.array([1.0, 2.0])), [1.0, 1.0])
    assert clip_gradient(2.0) == 2.0


def test_value_without_transform_calls_fun_not_fwd():
    calls = []

    @fg.custom_vjp
    def f(x):
        calls.append("fun")
        return 2 * x

    def fwd(x):
        calls.append("fwd")
        return 2 * x, None

    f.defvjp(fwd, lambda _, g: (2 * g,))
    assert f(3.0) == 6.0 and calls == ["fun"]
    assert fg.grad(f)(3.0) == 2.0 and calls == ["fun", "fwd"]


def test_vjp_fn_can_be_called_twice_and_none_means_zero():
    @fg.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], None))
    out, vjp_fn = fg.vjp(f, 2.0, 5.0)
    assert out == 10.0
    assert vjp_fn(1.0) == (5.0, 0.0)
    assert vjp_fn(2.0) == (10.0, 0.0)
    assert isinstance(vjp_fn(1.0)[1], np.float64)


def test_pytree_arguments_and_outputs():
    @fg.custom_vjp
    def f(params, x):
        return {"out": params["w"] * x + params["b"], "aux": (x * x,)}

    def fwd(params, x):
        return f.fun(params, x), (params, x)

    def bwd(res, g):
        params, x = res
        go, (ga,) = g["out"], g["aux"]
        return {"w": fnp.sum(go * x), "b": fnp.sum(go)}, go * params["w"] + 2 * x * ga

    f.defvjp(fwd, bwd)
    params = {"w": 1.5, "b": -0.5}
    x = rnd(3)

    def loss(params, x):
        o = f(params, x)
        return fnp.sum(o["out"] ** 2) + fnp.sum(o["aux"][0])

    got = fg.grad(loss, (0, 1))(params, x)
    want = fg.grad(lambda p, x: fnp.sum((p["w"] * x + p["b"]) ** 2) + fnp.sum(x * x), (0, 1))(params, x)
    np.testing.assert_allclose(got[0]["w"], want[0]["w"])
    np.testing.assert_allclose(got[0]["b"], want[0]["b"])
    np.testing.assert_allclose(got[1], want[1])


def test_nondiff_argnums_with_partial_decorator():
    @functools.partial(fg.custom_vjp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    def fwd(fn, x):
        return fn(x), x

    def bwd(fn, x, g):
        # derivative of fn by a central difference: the rule receives fn first
        return (g * (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6,)

    apply.defvjp(fwd, bwd)
    np.testing.assert_allclose(fg.grad(lambda x: apply(np.sin, x))(0.5), np.cos(0.5), rtol=1e-8)
    assert apply.__name__ == "apply"


def test_nondiff_argument_in_the_middle_and_keywords():
    def f_impl(x, n, y):
        return x**n * y

    f = fg.custom_vjp(f_impl, nondiff_argnums=(1,))
    f.defvjp(
        lambda x, n, y: (x**n * y, (x, y)), lambda n, res, g: (n * res[0] ** (n - 1) * res[1] * g, res[0] ** n * g)
    )
    assert fg.grad(f, argnums=(0, 2))(2.0, 3, 5.0) == (60.0, 8.0)
    assert fg.grad(lambda x: f(x, n=3, y=5.0))(2.0) == 60.0


def test_complex_rule():
    @fg.custom_vjp
    def sq(z):
        return z * z

    sq.defvjp(lambda z: (z * z, z), lambda z, g: (2 * z * g,))  # transpose, no conjugate (JAX)
    z = np.array([1 + 2j, -0.5 + 1j])
    check_grads(sq, (z,), modes=("rev",), order=2)
    np.testing.assert_allclose(
        fg.grad(lambda z: fnp.sum(fnp.abs(sq(z)) ** 2))(z), 4 * np.abs(z) ** 2 * 2 * np.conj(z) / 2
    )


def test_float32_preserved():
    x = np.array([0.1, 0.2], np.float32)
    g = fg.grad(lambda x: fnp.sum(sin_times(x, np.float32(2.0))))(x)
    assert g.dtype == np.float32


# --- errors ---------------------------------------------------------------------------------


def make(bwd, fwd=None):
    f = fg.custom_vjp(lambda x, y: x * y)
    f.defvjp(fwd or (lambda x, y: (x * y, (x, y))), bwd)
    return f


@pytest.mark.parametrize(
    "bwd, match",
    [
        (lambda res, g: g * res[1], "must return a tuple"),
        (lambda res, g: [g, g], "must return a tuple"),
        (lambda res, g: (g * res[1],), "tuple of 2 cotangent"),
        (lambda res, g: (g, g, g), "tuple of 2 cotangent"),
        (lambda res, g: (np.ones(4), None), r"shape \(3,\) and dtype float64"),
        (lambda res, g: (np.ones(3) * 1j, None), r"shape \(3,\) and dtype float64"),
        (lambda res, g: ("nope", None), "received str"),
        (lambda res, g: ((g, g), None), "structure of the argument"),
    ],
)
def test_bad_bwd_raises_value_error(bwd, match):
    f = make(bwd)
    with pytest.raises(ValueError, match=match):
        fg.grad(lambda x: fnp.sum(f(x, np.ones(3))))(np.ones(3))


def test_bad_fwd_raises():
    f = make(lambda res, g: (g, g), fwd=lambda x, y: x * y)
    with pytest.raises(ValueError, match=r"fwd must return a pair \(output, residuals\)"):
        fg.grad(lambda x: fnp.sum(f(x, np.ones(3))))(np.ones(3))


def test_forward_mode_raises_type_error():
    for transform in (
        lambda: fg.jvp(lambda x: sin_times(x, 2.0), (1.0,), (1.0,)),
        lambda: fg.jacfwd(lambda x: sin_times(x, 2.0))(np.ones(2)),
        lambda: fg.linearize(lambda x: sin_times(x, 2.0), 1.0)[1](1.0),
    ):
        with pytest.raises(TypeError, match="forward mode"):
            transform()


def test_missing_rule():
    f = fg.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match=r"defvjp\(fwd, bwd\)"):
        f(1.0)


def test_closed_over_traced_value_raises():
    def outer(y):
        @fg.custom_vjp
        def f(x):
            return x * y

        f.defvjp(lambda x: (x * y, None), lambda _, g: (g * y,))
        return f(2.0 * y)

    with pytest.raises(TypeError, match="closes over a value"):
        fg.grad(outer)(3.0)


def test_closed_over_value_of_an_outer_transform_is_fine():
    # y is traced by the outer grad only: a constant to the inner one, and the
    # outer one differentiates through fwd/bwd
    def inner_grad(y):
        @fg.custom_vjp
        def f(x):
            return fnp.sin(x) * y

        f.defvjp(lambda x: (fnp.sin(x) * y, x), lambda x, g: (fnp.cos(x) * y * g,))
        return fg.grad(f)(0.3)

    np.testing.assert_allclose(fg.grad(inner_grad)(2.0), np.cos(0.3))


def test_differentiating_a_nondiff_argument_raises():
    f = fg.custom_vjp(lambda n, x: n * x, nondiff_argnums=(0,))
    f.defvjp(lambda n, x: (n * x, None), lambda n, _, g: (n * g,))
    with pytest.raises(TypeError, match="nondiff_argnums"):
        fg.grad(lambda n: f(n, 2.0))(3.0)
    assert fg.grad(lambda x: f(3.0, x))(2.0) == 3.0


def test_defvjp_checks():
    f = fg.custom_vjp(lambda x: x)
    with pytest.raises(TypeError, match="must be functions"):
        f.defvjp(1, 2)
    with pytest.raises(TypeError, match="expected a function"):
        fg.custom_vjp(3)


def test_tapes_are_freed_without_the_garbage_collector(reverse_traces):
    fg.grad(lambda x: fnp.sum(sin_times(x, x) * sin_times(x, 2.0)))(np.ones(3))
    out, vjp_fn = fg.vjp(lambda x: sin_times(x, 2.0), np.ones(3))
    vjp_fn(np.ones(3))
    del out, vjp_fn
    assert reverse_traces and all(t() is None for t in reverse_traces)
