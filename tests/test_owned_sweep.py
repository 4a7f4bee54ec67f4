"""The sweep's in-place paths: cotangents it owns are added to and scaled in place (``defvjp(fresh=True)``,
``defvjp_into``, a slice's cotangent added where it lands by ``defvjp_add``), with exactly the bits of the general rules, and nothing it does not own is ever written.

Each case is run twice: as the engine runs it, and with every in-place declaration removed (the general
rules only); the two must agree bit for bit, in float32, float64 and complex128, with broadcasting, fan-out
(one value used several times) and nested, jitted, batched and Dask calls.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._rules import REGISTRY


@contextlib.contextmanager
def general_rules_only() -> Iterator[None]:
    saved = {name: (p.vjp_fresh, p.vjp_into, p.vjp_add) for name, p in REGISTRY.items()}
    try:
        for p in REGISTRY.values():
            p.vjp_fresh, p.vjp_into, p.vjp_add = False, None, None
        yield
    finally:
        for name, (fresh, into, add) in saved.items():
            REGISTRY[name].vjp_fresh, REGISTRY[name].vjp_into, REGISTRY[name].vjp_add = fresh, into, add


C = np.linspace(0.5, 1.5, 12).reshape(3, 4)  # a caller's constant: must never be written


def chain(x, y):
    for _ in range(2):
        x = fnp.exp(fnp.tanh(x) * 0.5)
    return x * y


def quotients(x, y):
    return -(x / y) + y / (x + 2.0) - fnp.sin(x) * x


def fan_out(x, y):
    s = fnp.tanh(x)
    return (s * s + s / y) * s + (x + y) + (x + x)


def broadcasting(x, y):
    return fnp.tanh(x * y[:, :1]) * C + fnp.exp(y[:1, :] / 3.0)


def layer(x, y):
    h = fnp.tanh(x @ y.T * 0.3 + 1.0)
    return h @ y - fnp.negative(fnp.cos(x))


def slices(x, y):
    # nine overlapping slices of x: each cotangent is added where it lands, into one array (defvjp_add)
    out = x[1:, 1:] * y[:-1, :-1]
    for i in range(3):
        for j in range(2):
            out = out + fnp.tanh(x[i:, j : j + 3][:2]) * y[i, j]
    return out + x[-1, 1:] + x[::2, ::-1][0, :3]


CASES = {"slices": slices, "chain": chain, "quotients": quotients, "fan out": fan_out, "broadcasting": broadcasting, "layer": layer}


def inputs(dt):
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0.2, 0.9, (2, 3, 4))
    if dt == np.complex128:
        x, y = x + 0.3j * y, y - 0.2j * x
    return x.astype(dt), y.astype(dt)


def sweep(f, x, y, seed):
    out, vjp_fn = fg.vjp(f, x, y)
    return vjp_fn(seed)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.complex128])
def test_in_place_sweep_gives_the_general_rules_bits(name, dt):
    f = CASES[name]
    x, y = inputs(dt)
    seed = np.full(np.shape(f(x, y)), 1.25, dtype=dt)
    kept = [a.copy() for a in (x, y, seed, C)]
    got = sweep(f, x, y, seed)
    again = sweep(f, x, y, seed)
    with general_rules_only():
        want = sweep(f, x, y, seed)
    for g, a, w in zip(got, again, want):
        assert g.dtype == w.dtype == dt and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(a, w)
    for array, before in zip((x, y, seed, C), kept):
        np.testing.assert_array_equal(array, before)  # inputs, seed and constants untouched


@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_fn_swept_twice_and_grad_agree(name):
    f = CASES[name]
    x, y = inputs(np.float64)
    total = lambda x, y: fnp.sum(f(x, y))  # noqa: E731
    out, vjp_fn = fg.vjp(total, x, y)
    first = vjp_fn(np.float64(1.0))
    second = vjp_fn(np.float64(1.0))  # the tape's residuals were not written by the first sweep
    grads = fg.grad(total, argnums=(0, 1))(x, y)
    for a, b, c in zip(first, second, grads):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", sorted(CASES))
def test_nested_and_jitted_sweeps_agree_with_the_general_rules(name):
    f = CASES[name]
    x, y = inputs(np.float64)
    total = lambda x: fnp.sum(f(x, y))  # noqa: E731
    hvp = fg.grad(lambda x: fnp.sum(fg.grad(total)(x) * y))  # the inner sweep runs on traced values
    jitted = fg.jit(fg.grad(total))
    got = hvp(x), fg.jacfwd(fg.grad(total))(x), jitted(x), jitted(x + 0.01)
    with general_rules_only():
        want = hvp(x), fg.jacfwd(fg.grad(total))(x), fg.grad(total)(x), fg.grad(total)(x + 0.01)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    fg.testing.check_grads(total, (x,), order=2, modes=("fwd", "rev"))


def test_batched_gradients_equal_a_loop():
    xs, y = np.random.default_rng(8).uniform(0.2, 0.9, (5, 3, 4)), inputs(np.float64)[1]
    per_example = fg.grad(lambda x: fnp.sum(fan_out(x, y)))
    batched = fg.vmap(per_example)(xs)
    np.testing.assert_array_equal(batched, np.stack([per_example(x) for x in xs]))


def test_dask_primal_stays_lazy_and_agrees():
    da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
    x, y = inputs(np.float64)
    f = lambda x: fnp.sum(chain(x, y))  # noqa: E731
    lazy = fg.grad(f)(da.from_array(x, chunks=(3, 2)))
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), fg.grad(f)(x), rtol=1e-14)


def test_add_handing_its_cotangent_to_two_arguments_keeps_them_apart():
    # add(x, y) gives both the same array: neither may then be scaled in place (the other would change)
    def f(x, y):
        s = fnp.tanh(x) * 2.0
        return fnp.exp(s + y) + (s + y)

    x, y = inputs(np.float64)
    got = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(x, y)
    with general_rules_only():
        want = fg.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(x, y)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def _sweep_peak(vjp_fn, seed):
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        vjp_fn(seed)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_elementwise_chain_sweeps_in_place():
    # exp's rule scales the cotangent it owns in place, tanh's needs one temporary: two arrays live, not three
    x = np.linspace(-1.0, 1.0, 100_000)

    def f(v):
        for _ in range(3):
            v = fnp.exp(fnp.tanh(v))
        return fnp.sum(v)

    vjp_fn = fg.vjp(f, x)[1]
    assert _sweep_peak(vjp_fn, np.float64(1.0)) < 2.5 * x.nbytes
    with general_rules_only():
        assert _sweep_peak(vjp_fn, np.float64(1.0)) > 2.5 * x.nbytes
