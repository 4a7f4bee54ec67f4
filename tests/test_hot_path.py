"""The engine's fast paths (docs/performance.md) must not change a single result.

Each shortcut taken for speed is checked against what it replaced: in-place
cotangent sums never touch an array they do not own, the early returns of
``unbroadcast`` and ``_deliver`` keep dtypes, calling NumPy directly still
lets outer transforms see the call, and a failing transform leaves the
nesting depth as it found it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _trace
from funcgrad._prims import _base
from funcgrad._prims._base import unbroadcast
from funcgrad._values import Shaped, dtype, ndim, shape


def fan_out(x):
    # x reaches the output four times; add's rule hands its cotangent to both arguments unchanged
    return (x + x) + (x * 2.0 + x)


@pytest.mark.parametrize("x", [np.float64(0.5), np.arange(3.0), np.ones((2, 3), np.float32)])
def test_fan_out_sums_never_write_the_seed(x):
    out, vjp_fn = fg.vjp(fan_out, x)
    seed = np.full_like(out, 1.5)
    before = np.copy(seed)
    (first,) = vjp_fn(seed)
    (second,) = vjp_fn(seed)  # the tape is swept again: nothing in it was overwritten
    np.testing.assert_array_equal(seed, before)
    np.testing.assert_allclose(first, 5 * before)
    np.testing.assert_array_equal(first, second)
    assert np.result_type(first) == np.result_type(x)


def test_fan_out_never_writes_the_input():
    x = np.arange(4.0)
    kept = x.copy()
    g = fg.grad(lambda x: fnp.sum(fan_out(x) * x))(x)
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_allclose(g, 10 * kept)


def test_gradient_is_a_writeable_array_of_its_own():
    # sum's rule broadcasts a scalar (a read-only view) and add passes it on unchanged
    x = np.arange(3.0)
    g = fg.grad(lambda x: fnp.sum(x + 0.0))(x)
    assert not np.shares_memory(g, x)
    g[...] = 7.0  # was: ValueError: assignment destination is read-only
    np.testing.assert_array_equal(x, np.arange(3.0))
    (j,) = fg.vjp(lambda x: fnp.sum(x), x)[1](np.float64(1.0))
    j[0] = 2.0


def test_vjp_result_does_not_alias_the_cotangent():
    seed = np.ones(3)
    (ct,) = fg.vjp(lambda x: x + 0.0, np.arange(3.0))[1](seed)  # add's rule returns the cotangent itself
    assert not np.shares_memory(ct, seed)
    ct[0] = 5.0
    np.testing.assert_array_equal(seed, np.ones(3))


# functions whose rules hand their cotangent on unchanged or as a view of it (add, positive, reshape, transpose,
# getitem's scatter reads it), or scale and accumulate it: none may write into the caller's seed or return it
SEED_PASSING = {
    "identity plus zero": lambda x: x + 0.0,
    "positive": lambda x: +x,
    "reshape": lambda x: fnp.reshape(x, (-1,)).reshape(x.shape),
    "transpose twice": lambda x: fnp.transpose(fnp.transpose(x)),
    "scaled": lambda x: 2 * x,
    "fan out": fan_out,
    "elementwise chain": lambda x: fnp.exp(fnp.tanh(fnp.sin(x) * 3.0)),
    "two outputs summed": lambda x: (x + 0.0) + fnp.tanh(x),
}


@pytest.mark.parametrize("name", sorted(SEED_PASSING))
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128])
def test_vjp_never_writes_or_returns_the_callers_seed(name, dt):
    f = SEED_PASSING[name]
    x = (np.arange(6.0).reshape(2, 3) / 7 + 0.1).astype(dt)
    if dt == np.complex128:
        x = x + 0.5j * x
    out, vjp_fn = fg.vjp(f, x)
    seed = np.full_like(out, 1.5)
    before = seed.copy()
    (first,) = vjp_fn(seed)
    (second,) = vjp_fn(seed)
    np.testing.assert_array_equal(seed, before)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == x.dtype and first.shape == x.shape
    assert not np.shares_memory(first, seed) and not np.shares_memory(first, second)
    first[...] = 0.0  # the result is the caller's to write into
    np.testing.assert_array_equal(seed, before)
    (third,) = vjp_fn(seed)
    np.testing.assert_array_equal(third, second)
    reference = fg.vjp(f, x)[1](before.copy())[0]
    np.testing.assert_array_equal(second, reference)


def test_vjp_accepts_a_read_only_seed():
    seed = np.broadcast_to(np.float64(2.0), (3,))  # a read-only view
    (ct,) = fg.vjp(lambda x: fnp.tanh(x) + x, np.arange(3.0))[1](seed)
    np.testing.assert_allclose(ct, 2 * (1 - np.tanh(np.arange(3.0)) ** 2) + 2)
    assert ct.flags.writeable


@pytest.mark.parametrize(
    "g, x, expected_shape, expected_dtype",
    [
        (np.float64(2.0), np.float64(1.0), (), np.float64),
        (np.float64(2.0), np.float32(1.0), (), np.float32),
        (np.ones(3), np.ones(3, np.float32), (3,), np.float32),
        (np.ones((2, 3)), np.ones(3), (3,), np.float64),
        (np.ones((2, 3)), np.ones((1, 3)), (1, 3), np.float64),
        (np.ones(3, np.complex128), np.ones(3), (3,), np.float64),
    ],
)
def test_unbroadcast_fast_and_slow_paths_agree(g, x, expected_shape, expected_dtype):
    out = unbroadcast(g, x)
    assert shape(out) == expected_shape and dtype(out) == expected_dtype


@pytest.mark.parametrize("value", [np.float32(1.0), np.zeros((2, 3)), 1.0, np.int64(3), np.ones(2, np.complex64)])
def test_shape_helpers_match_numpy(value):
    assert shape(value) == np.shape(value)
    assert ndim(value) == np.ndim(value)
    assert dtype(value) == np.result_type(value)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_grad_keeps_the_input_dtype(dt):
    x = np.linspace(0.1, 1.0, 3).astype(dt)
    g = fg.grad(lambda x: fnp.sum(fnp.sin(x) * np.float64(2.0)))(x)
    assert g.dtype == dt
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)
    s = fg.grad(lambda x: fnp.sin(x) * 2.0)(dt(0.3))
    assert type(s) is dt


def test_direct_numpy_call_still_records_for_outer_transforms():
    # an argument of ours whose value is traced by an outer transform must not skip the dispatch
    f = fg.grad(fg.grad(lambda x: x * fnp.sin(x)))
    x = 0.7
    np.testing.assert_allclose(f(x), 2 * np.cos(x) - x * np.sin(x))
    h = fg.jacfwd(fg.grad(lambda x: fnp.sum(fnp.tanh(x) * x)))(np.array([0.1, 0.2]))
    t = np.tanh(np.array([0.1, 0.2]))
    np.testing.assert_allclose(np.diag(h), 2 * (1 - t**2) - 2 * np.array([0.1, 0.2]) * t * (1 - t**2))


def test_depth_is_restored_after_a_failing_transform():
    depth = _trace._DEPTH.get()
    with pytest.raises(ZeroDivisionError):
        fg.grad(lambda x: 1 // 0)(1.0)
    with pytest.raises(TypeError):
        fg.jvp(lambda x: x.item(), (1.0,), (1.0,))
    assert _trace._DEPTH.get() == depth
    with _trace.new_level() as outer, _trace.new_level() as inner:
        assert inner == outer + 1 == depth + 2
    assert _trace._DEPTH.get() == depth


def test_long_chain_sweeps_without_recursion():
    def chain(x):
        for _ in range(5000):
            x = fnp.sin(x) * 1.0001
        return x

    x, derivative = 0.3, 1.0
    for _ in range(5000):
        derivative *= np.cos(x) * 1.0001
        x = np.sin(x) * 1.0001
    np.testing.assert_allclose(fg.grad(chain)(0.3), derivative, rtol=1e-10)


def layer(x, W, b):
    return fnp.sum(fnp.exp(fnp.tanh(x @ W + b) * x[:, :1] - 1.0))


def quotient_layer(x, W, b):
    # divide, negative, sin, cos, log and sum keep only what their rules read
    s = fnp.sum(fnp.sin(x @ W) / (fnp.cos(b) + 2.0), axis=0)
    return fnp.sum(-fnp.log(s * s + 1.0) / x[0, :2])


@pytest.mark.parametrize("f", [layer, quotient_layer])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_dropped_residuals_give_the_same_derivatives(dt, f):
    layer = f
    # add, subtract, multiply, tanh, exp and matmul keep only the values their rules read
    rng = np.random.default_rng(3)
    x, W, b = (rng.standard_normal(s).astype(dt) * 0.5 for s in ((3, 4), (4, 2), (2,)))
    from funcgrad.testing import check_grads

    check_grads(layer, (x, W, b), modes=("fwd", "rev"), order=2, rtol=1e-2 if dt == np.float32 else 1e-6)
    np.testing.assert_allclose(fg.jacfwd(layer, argnums=1)(x, W, b), fg.jacrev(layer, argnums=1)(x, W, b), rtol=1e-5)
    y, f_jvp = fg.linearize(lambda W: layer(x, W, b), W)  # replays the recorded tape forward
    np.testing.assert_allclose(f_jvp(np.ones_like(W)), fg.jvp(lambda W: layer(x, W, b), (W,), (np.ones_like(W),))[1], rtol=1e-5)


def test_a_stand_in_is_never_silently_read():
    stand_in = Shaped(np.zeros((2, 3), np.float32))
    assert (shape(stand_in), ndim(stand_in), dtype(stand_in)) == ((2, 3), 2, np.float32)
    with pytest.raises(TypeError):
        np.ones((2, 3)) * stand_in
    with pytest.raises(TypeError, match="defresiduals"):
        np.asarray(stand_in)


def _peak_bytes(fn):
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_vjp_sweep_allocates_only_the_result():
    # no defensive copy of the seed and no re-cast at delivery: one array of the result's size, like 2 * ct
    x, ct = np.linspace(0.0, 1.0, 100_000), np.ones(100_000)
    vjp_fn = fg.vjp(lambda v: 2 * v, x)[1]
    assert _peak_bytes(lambda: vjp_fn(ct)) < 1.1 * ct.nbytes


def test_vjp_fn_does_not_keep_the_output_alive():
    import gc
    import weakref

    x = np.linspace(0.0, 1.0, 5)
    out, vjp_fn = fg.vjp(lambda v: (2 * v, fnp.sum(v)), x)
    first = weakref.ref(out[0])
    del out
    gc.collect()
    assert first() is None  # the caller dropped it: only its shape and dtype are kept
    (ct,) = vjp_fn((np.ones(5, np.float32), 1))  # checked and cast as before
    np.testing.assert_array_equal(ct, np.full(5, 3.0))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn((np.ones(4), 1.0))


def test_tape_stand_ins_are_shared():
    from funcgrad._values import shaped

    a, b = np.zeros((2, 3)), np.ones((2, 3))
    assert shaped(a) is shaped(b) and shaped(a) is not shaped(b.astype(np.float32))
    assert shaped(a).shape == (2, 3) and shaped(a).dtype == np.float64


def test_unbroadcast_decides_a_recorded_cotangent_on_the_values_underneath(monkeypatch: Any) -> None:
    # jit records a sweep on traced cotangents: their common case (the operand's shape and dtype) is decided
    # on the plain values underneath, without the general path's shape and dtype queries
    asked: list[Any] = []
    monkeypatch.setattr(_base, "shape", lambda x: asked.append(x) or np.shape(_base._plain_under(x)))
    seen = {}

    def f(x: Any, y: Any) -> Any:
        seen["same"] = _base.unbroadcast(x * 2.0, y) is not None
        seen["fast"] = not asked
        summed = _base.unbroadcast(x * 2.0, y[:1])  # broadcast: summed back by the general path
        seen["summed"] = summed.shape
        return summed

    fg.make_program(f)(np.ones(3), np.ones(3))
    assert seen == {"same": True, "fast": True, "summed": (1,)} and asked
