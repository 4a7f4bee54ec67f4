"""fg.checkpoint / fg.remat: same derivatives as the plain function, less memory on the tape."""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pytest
from conftest import rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


def block(x, y):
    return fnp.tanh(fnp.sin(x) * y + x)


ck_block = fg.checkpoint(block)

SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ys", SHAPES)
def test_check_grads_both_modes(xs, ys, dtype):
    check_grads(ck_block, (rnd(*xs, dtype=dtype), rnd(*ys, dtype=dtype)), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize("xs, ys", SHAPES)
def test_identical_to_plain_function(xs, ys):
    x, y = rnd(*xs), rnd(*ys)
    loss = lambda f: lambda x, y: fnp.sum(f(f(x, y), y) ** 2)
    for a, b in zip(fg.grad(loss(ck_block), (0, 1))(x, y), fg.grad(loss(block), (0, 1))(x, y)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(fg.jacrev(ck_block)(x, y), fg.jacfwd(block)(x, y), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fg.jacfwd(ck_block)(x, y), fg.jacfwd(block)(x, y), rtol=1e-12, atol=1e-15)


def test_higher_order_and_linearize():
    x, y = rnd(3), rnd(3)
    f = lambda x: fnp.sum(ck_block(x, y))
    f_ref = lambda x: fnp.sum(block(x, y))
    np.testing.assert_allclose(fg.hessian(f)(x), fg.hessian(f_ref)(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fg.jacrev(fg.jacrev(f))(x), fg.hessian(f_ref)(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        fg.grad(lambda x: fnp.sum(fg.grad(f)(x)))(x), fg.grad(lambda x: fnp.sum(fg.grad(f_ref)(x)))(x)
    )
    t = rnd(3)
    np.testing.assert_allclose(
        fg.linearize(lambda x: ck_block(x, y), x)[1](t), fg.jvp(lambda x: block(x, y), (x,), (t,))[1]
    )


def test_inside_is_recomputed_on_the_backward_pass():
    calls = []

    @fg.checkpoint
    def f(x):
        calls.append(1)
        return fnp.sin(x) * 2

    fg.grad(f)(1.0)
    assert len(calls) == 2  # forward, then once more on the backward pass
    calls.clear()
    f(1.0)
    fg.jvp(f, (1.0,), (1.0,))
    assert len(calls) == 2  # no recomputation without a reverse pass


def test_nested_checkpoints_and_remat_alias():
    inner = fg.remat(lambda x: fnp.sin(x) * x)
    outer = fg.checkpoint(lambda x: inner(inner(x)) + x)
    plain = lambda x: (lambda s: fnp.sin(s) * s)(fnp.sin(x) * x) + x
    x = rnd(4)
    np.testing.assert_allclose(fg.jacrev(outer)(x), fg.jacrev(plain)(x), rtol=1e-12)
    check_grads(outer, (x,), order=2)
    assert fg.remat is fg.checkpoint


def test_pytrees_kwargs_and_static_argnums():
    @functools.partial(fg.checkpoint, static_argnums=(1,))
    def layer(params, act, x, scale=1.0):
        return {"h": getattr(fnp, act)(params["w"] * x + params["b"]) * scale, "n": 3}

    params = {"w": rnd(3), "b": rnd(3)}
    x = rnd(3)
    loss = lambda p, x, s: fnp.sum(layer(p, "tanh", x, scale=s)["h"] ** 2)
    ref = lambda p, x, s: fnp.sum((fnp.tanh(p["w"] * x + p["b"]) * s) ** 2)
    got = fg.grad(loss, (0, 1, 2))(params, x, 2.0)
    want = fg.grad(ref, (0, 1, 2))(params, x, 2.0)
    np.testing.assert_allclose(got[0]["w"], want[0]["w"])
    np.testing.assert_allclose(got[0]["b"], want[0]["b"])
    np.testing.assert_allclose(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2])
    assert layer(params, "tanh", x)["n"] == 3


def test_closed_over_traced_value_gives_correct_gradient():
    x = rnd(3)

    def f(y):
        seg = fg.checkpoint(lambda x: fnp.sin(x) * y)
        return fnp.sum(seg(x * y))

    np.testing.assert_allclose(fg.grad(f)(0.7), fg.grad(lambda y: fnp.sum(fnp.sin(x * y) * y))(0.7))
    check_grads(f, (0.7,), order=2)


@pytest.mark.parametrize(
    "inside",
    [lambda v, x: fnp.copysign(v, x), lambda v, x: v * fnp.ones_like(x), lambda v, x: v * fnp.sign(x) + fnp.sin(v)],
)
def test_closed_over_traced_value_read_without_a_derivative(inside):
    # found by the random programs: a closure read only through a zero-derivative function left no
    # traced output, so the closure went unnoticed and the backward pass re-ran it on a dead tracer
    def f(x):
        seg = fg.checkpoint(lambda v: inside(v, x))
        return fnp.sum(fnp.sin(seg(x * 2.0)))

    x = np.array([0.5, -0.3])
    np.testing.assert_allclose(fg.grad(f)(x), fg.grad(lambda x: fnp.sum(fnp.sin(inside(x * 2.0, x))))(x))
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(fg.hessian(f)(x), fg.jacrev(fg.jacfwd(f))(x), rtol=1e-12)


def test_complex_and_float32():
    z = rnd(3) + 1j * rnd(3)
    check_grads(fg.checkpoint(lambda z: fnp.exp(z) * z), (z,), order=2)
    x = rnd(3, dtype=np.float32)
    assert fg.grad(lambda x: fnp.sum(fg.checkpoint(fnp.sin)(x)))(x).dtype == np.float32


def test_policy_not_supported():
    with pytest.raises(NotImplementedError, match="policy"):
        fg.checkpoint(fnp.sin, policy=lambda *a: True)
    with pytest.raises(TypeError, match="expected a function"):
        fg.checkpoint(3)


def _peak(fun, x):
    tracemalloc.start()
    try:
        g = fg.grad(fun)(x)
        return tracemalloc.get_traced_memory()[1], g
    finally:
        tracemalloc.stop()


def test_memory_peak_halves_for_a_long_chain():
    steps, segments = 50, 5

    def chain(x, n):
        for _ in range(n):
            x = fnp.sin(x)
        return x

    segment = fg.checkpoint(lambda x: chain(x, steps // segments))

    def plain(x):
        return fnp.sum(chain(x, steps))

    def checkpointed(x):
        for _ in range(segments):
            x = segment(x)
        return fnp.sum(x)

    x = np.linspace(0.0, 1.0, 200_000)
    peak_plain, g_plain = _peak(plain, x)
    peak_ck, g_ck = _peak(checkpointed, x)
    np.testing.assert_array_equal(g_ck, g_plain)
    assert peak_ck <= 0.5 * peak_plain, (peak_ck, peak_plain)


def test_tapes_are_freed_without_the_garbage_collector(reverse_traces):
    fg.grad(lambda x: fnp.sum(ck_block(x, x) * ck_block(x, 2.0)))(np.ones(3))
    out, vjp_fn = fg.vjp(lambda x: ck_block(x, 2.0), np.ones(3))
    vjp_fn(np.ones(3))
    del out, vjp_fn
    assert reverse_traces and all(t() is None for t in reverse_traces)
