"""The engine: tape, backward sweep, levels, memory, threads, plain-NumPy fast path."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer


def test_plain_arrays_go_straight_to_numpy():
    x = np.linspace(0, 1, 5)
    out = fnp.sin(x)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, np.sin(x))
    assert type(fnp.sum(x)) is np.float64
    assert type(fnp.dot(x, x)) is np.float64
    x32 = x.astype(np.float32)
    assert fnp.exp(x32).dtype == np.float32


def test_traced_values_are_immutable_slots():
    seen = []

    def f(x):
        seen.append(x)
        assert isinstance(x, Tracer)
        with pytest.raises(AttributeError):
            x.grad = 1.0
        assert not hasattr(x, "__dict__")
        return x * 2

    fg.grad(f)(1.0)
    assert len(seen) == 1


def test_fan_out_cotangents_are_summed():
    def f(x):
        y = fnp.sin(x)
        return y * y + y + fnp.exp(y) * x

    x = 0.4
    s, c = np.sin(x), np.cos(x)
    expected = 2 * s * c + c + np.exp(s) * c * x + np.exp(s)
    np.testing.assert_allclose(fg.grad(f)(x), expected, rtol=1e-14)


def test_broadcasting_is_undone():
    x = np.ones((3, 1))
    y = np.ones(4)
    gx, gy = fg.grad(lambda x, y: fnp.sum(x * y + x), argnums=(0, 1))(x, y)
    assert gx.shape == (3, 1) and gy.shape == (4,)
    np.testing.assert_array_equal(gx, 8 * np.ones((3, 1)))  # sum over 4 of (y + 1)
    np.testing.assert_array_equal(gy, 3 * np.ones(4))
    g = fg.grad(lambda s: fnp.sum(s * np.ones((2, 3))))(2.0)
    assert np.shape(g) == () and g == 6.0


def test_cotangent_dtype_follows_primal():
    def f(x32, x64, z):
        return fnp.sum(x32 * x64) + fnp.real(fnp.sum(z * x32))

    x32 = np.ones(2, np.float32)
    x64 = np.ones(2)
    z = np.ones(2, np.complex128)
    g32, g64, gz = fg.grad(f, argnums=(0, 1, 2))(x32, x64, z)
    assert g32.dtype == np.float32 and g64.dtype == np.float64 and gz.dtype == np.complex128


def test_long_chain_has_no_recursion_limit():
    limit = sys.getrecursionlimit()
    n = 100_000

    def f(x):
        for _ in range(n):
            x = x * 1.0000001
        return x

    g = fg.grad(f)(1.0)
    assert sys.getrecursionlimit() == limit
    np.testing.assert_allclose(g, 1.0000001**n, rtol=1e-9)


def test_long_chain_forward_and_vjp():
    n = 20_000

    def f(x):
        for _ in range(n):
            x = fnp.sin(x) * 0.5 + 0.1
        return x

    t = fg.jvp(f, (0.3,), (1.0,))[1]
    _, vjp_fn = fg.vjp(f, 0.3)
    np.testing.assert_allclose(vjp_fn(1.0)[0], t, rtol=1e-12)


def test_nodes_without_cotangent_are_skipped():
    calls = []
    loud = primitive(lambda x: x * 1.0, "loud_identity")
    defvjp(loud, lambda g, ans, x: calls.append("vjp") or g)
    defjvp(loud, lambda t, ans, x: calls.append("jvp") or t, batched=True)

    def f(x):
        unused = loud(x)  # noqa: F841 - recorded but does not reach the output
        return x * 3.0

    assert fg.grad(f)(1.0) == 3.0
    assert calls == []
    assert fg.grad(lambda x: loud(x) * 2.0)(1.0) == 2.0
    assert calls == ["vjp"]


def test_constant_paths_cost_no_forward_rule():
    calls = []
    loud = primitive(lambda x: x * 1.0, "loud_identity_fwd")
    defvjp(loud, lambda g, ans, x: g)
    defjvp(loud, lambda t, ans, x: calls.append("jvp") or t, batched=True)
    const = np.ones(3)

    def f(x):
        return x * fnp.sum(loud(const))

    assert fg.jvp(f, (2.0,), (1.0,))[1] == 3.0
    assert calls == []


def test_nothing_recorded_outlives_the_transform():
    refs = []

    class Marker(np.ndarray):
        pass

    def f(x):
        big = fnp.sin(x) * 2.0
        refs.append(weakref.ref(big))
        inner = fnp.exp(big)
        refs.append(weakref.ref(inner))
        return fnp.sum(inner)

    x = np.ones(1000)
    fg.grad(f)(x)
    _, vjp_fn = fg.vjp(f, x)
    vjp_fn(np.float64(1.0))
    del vjp_fn
    fg.jvp(f, (x,), (x,))
    fg.hessian(lambda x: fnp.sum(fnp.sin(x) ** 3))(np.ones(3))
    gc.collect()
    assert refs and all(r() is None for r in refs)


def test_vjp_fn_keeps_what_it_needs_until_dropped():
    refs = []

    def f(x):
        y = fnp.sin(x)
        refs.append(weakref.ref(y))
        return y * y

    _, vjp_fn = fg.vjp(f, np.ones(3))
    first = vjp_fn(np.ones(3))[0]
    np.testing.assert_allclose(vjp_fn(np.ones(3))[0], first)
    del vjp_fn
    gc.collect()
    assert refs[0]() is None


def test_threads_do_not_mix():
    functions = [
        (lambda x: fnp.sum(fnp.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
        (lambda x: fnp.sum(x**3), lambda x: 3 * x**2),
        (lambda x: fnp.sum(fnp.exp(x) * fnp.tanh(x)), None),
        (lambda x: fg.grad(lambda y: fnp.sum(fnp.sin(x * y)))(1.0), None),
    ]
    x = np.linspace(-1, 1, 5)
    expected = [fg.grad(f)(x) for f, _ in functions]
    for (_, closed), e in zip(functions, expected):
        if closed is not None:
            np.testing.assert_allclose(e, closed(x), rtol=1e-13)
    failures = []
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        for i in range(100):
            which = (k + i) % len(functions)
            g = fg.grad(functions[which][0])(x)
            if not np.array_equal(g, expected[which]):
                failures.append((k, i, which))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_scalar_and_zero_dim_inputs():
    assert fg.grad(lambda x: x * x)(np.array(3.0)).shape == ()
    assert isinstance(fg.grad(lambda x: x * x)(np.array(3.0)), np.ndarray)
    assert fg.grad(lambda x: x * x)(np.float64(3.0)) == 6.0
    g = fg.grad(lambda x: fnp.sum(x))(np.ones((0, 3)))
    assert g.shape == (0, 3)
