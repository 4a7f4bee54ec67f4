"""Reliability: memory, purity, and fuzzing the public API with wrong inputs."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

# --- memory ------------------------------------------------------------------------------


def test_repeated_calls_do_not_grow_memory():
    f = fg.grad(lambda x: fnp.sum(fnp.tanh(x) * x))
    x = np.linspace(-1, 1, 8)
    for _ in range(200):  # warm caches
        f(x)
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            f(x)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 64 * 1024, f"memory grew by {end - start} bytes over 10,000 calls"


def test_intermediates_are_freed_when_the_transform_returns():
    refs = []

    def f(x):
        y = fnp.exp(x)
        refs.append(weakref.ref(y))
        return fnp.sum(y * x)

    for transform in (fg.grad(f), fg.jacfwd(f), fg.jacrev(f), fg.hessian(f)):
        transform(np.ones(4))
    fg.jvp(f, (np.ones(4),), (np.ones(4),))
    gc.collect()
    assert len(refs) == 5 and all(r() is None for r in refs)


def test_peak_memory_of_a_dot_chain_is_close_to_the_forward():
    n, steps = 120, 100
    w = np.eye(n) + 0.001
    x = np.ones((n, n)) / n

    def f(x):
        for _ in range(steps):
            x = fnp.dot(x, w)
        return fnp.sum(x)

    saved = steps * x.nbytes  # the forward pass keeps one n x n output per dot
    gc.collect()
    tracemalloc.start()
    try:
        g = fg.grad(f)(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert g.shape == x.shape
    assert peak < 1.5 * saved, f"peak {peak / 1e6:.1f} MB vs forward's saved arrays {saved / 1e6:.1f} MB"


def test_hundred_thousand_step_python_loop_is_freed():
    refs = []

    def f(x):
        y = x * 1.0
        refs.append(weakref.ref(y))
        for _ in range(100_000):
            y = y + 1e-6 * y
        return y

    g = fg.grad(f)(1.0)
    np.testing.assert_allclose(g, (1 + 1e-6) ** 100_000, rtol=1e-9)
    gc.collect()
    assert refs[0]() is None


# --- purity ------------------------------------------------------------------------------


def _transforms(f):
    x = np.array([0.5, -1.0, 2.0])
    yield "grad", lambda x: fg.grad(lambda x: fnp.sum(f(x)))(x)
    yield "value_and_grad", lambda x: fg.value_and_grad(lambda x: fnp.sum(f(x)))(x)
    yield "vjp", lambda x: (lambda y, vjp_fn: vjp_fn(np.ones_like(y)))(*fg.vjp(f, x))
    yield "jvp", lambda x: fg.jvp(f, (x,), (np.ones_like(x),))
    yield "linearize", lambda x: fg.linearize(f, x)[1](np.ones_like(x))
    yield "jacfwd", fg.jacfwd(f)
    yield "jacrev", fg.jacrev(f)
    yield "hessian", lambda x: fg.hessian(lambda x: fnp.sum(f(x)))(x)
    del x


@pytest.mark.parametrize(
    "f",
    [
        lambda x: fnp.sin(x) * x,
        lambda x: x.at[0].set(3.0) * 2,
        lambda x: x.at[[0, 0]].add(x[1]),
        lambda x: fnp.reshape(x, (3, 1)) * x,
        lambda x: x[::-1] + fnp.sum(x),
    ],
)
def test_inputs_are_never_modified(f):
    x = np.array([0.5, -1.0, 2.0])
    for name, transform in _transforms(f):
        before = x.copy()
        transform(x)
        np.testing.assert_array_equal(x, before, err_msg=name)


def test_cotangent_arrays_are_never_modified():
    y, vjp_fn = fg.vjp(lambda x: fnp.sin(x) * x + x, np.ones(3))
    ct = np.array([1.0, 2.0, 3.0])
    keep = ct.copy()
    vjp_fn(ct)
    np.testing.assert_array_equal(ct, keep)


def test_vjp_fn_calls_are_independent():
    _, vjp_fn = fg.vjp(lambda x: fnp.sin(x) * x, np.array([0.3, 0.9]))
    a = vjp_fn(np.array([1.0, 0.0]))[0]
    b = vjp_fn(np.array([0.0, 1.0]))[0]
    c = vjp_fn(np.array([1.0, 1.0]))[0]
    np.testing.assert_allclose(a + b, c, rtol=1e-15)
    np.testing.assert_array_equal(vjp_fn(np.array([1.0, 0.0]))[0], a)
    a[...] = 99.0  # mutating a returned result must not leak into the next call
    np.testing.assert_array_equal(vjp_fn(np.array([0.0, 1.0]))[0], b)


def test_no_global_state_after_exceptions():
    def boom(x):
        fnp.sin(x)
        raise KeyError("inside")

    for transform in (fg.grad, fg.jacfwd, fg.jacrev, fg.hessian):
        with pytest.raises(KeyError):
            transform(boom)(np.ones(2))
    with pytest.raises(KeyError):
        fg.jvp(boom, (1.0,), (1.0,))
    with pytest.raises(KeyError):
        fg.grad(lambda x: fg.grad(boom)(x))(1.0)
    # everything still works, and nesting still counts levels from zero
    assert fg.grad(fg.grad(lambda x: x**3))(2.0) == 12.0
    assert fg.grad(lambda x: x * fg.grad(lambda y: x + y)(1.0))(2.0) == 1.0


# --- fuzzing the public API with wrong inputs ----------------------------------------------

WEIRD_INPUTS = [
    "string",
    None,
    [1.0, "a"],
    [1, 2.0, 3j],
    np.array([1.0, None], dtype=object),
    np.array(2.0),
    np.zeros((0,)),
    np.zeros((2, 0)),
    np.array([np.nan, 1.0]),
    np.array([np.inf, -np.inf]),
    {"a": 1.0, "b": "x"},
    (1.0, (2.0, None)),
    b"bytes",
    object(),
    True,
    1,
]

FUNCTIONS = [
    lambda x: fnp.sum(fnp.sin(x)),
    lambda x: fnp.sum(x * x),
    lambda x: x,
]


def _calls(f, x):
    yield "grad", lambda: fg.grad(f)(x)
    yield "value_and_grad", lambda: fg.value_and_grad(f)(x)
    yield "vjp", lambda: fg.vjp(f, x)
    yield "jvp", lambda: fg.jvp(f, (x,), (x,))
    yield "linearize", lambda: fg.linearize(f, x)
    yield "jacfwd", lambda: fg.jacfwd(f)(x)
    yield "jacrev", lambda: fg.jacrev(f)(x)
    yield "hessian", lambda: fg.hessian(f)(x)
    yield "stop_gradient", lambda: fg.stop_gradient(x)


@pytest.mark.parametrize("x", WEIRD_INPUTS, ids=lambda x: type(x).__name__ + str(np.shape(x) if hasattr(x, "shape") else ""))
@pytest.mark.parametrize("f", FUNCTIONS)
def test_fuzz_public_api_raises_clear_errors(f, x):
    for name, call in _calls(f, x):
        try:
            with np.errstate(all="ignore"):  # inf/nan inputs warn exactly as NumPy itself does
                call()
        except (TypeError, ValueError) as exc:
            message = str(exc)
            assert len(message) > 30, f"{name}: unhelpful message {message!r}"
            assert exc.__traceback__ is not None
        except Exception as exc:  # anything else is a stack trace from deep inside
            raise AssertionError(f"{name}({x!r}) raised {type(exc).__name__}: {exc}") from exc


def test_fuzz_non_callable_functions():
    for transform in (fg.grad, fg.value_and_grad, fg.jacfwd, fg.jacrev, fg.hessian):
        with pytest.raises(TypeError, match="must be the function to differentiate"):
            transform("not a function")
    with pytest.raises(TypeError, match="must be the function to differentiate"):
        fg.vjp(3.0, 1.0)
    with pytest.raises(TypeError, match="must be the function to differentiate"):
        fg.jvp(None, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="must be the function to differentiate"):
        fg.linearize(None, 1.0)


def test_nan_and_inf_inputs_propagate_without_crashing():
    g = fg.grad(lambda x: fnp.sum(x * x))(np.array([np.nan, 1.0, np.inf]))
    assert np.isnan(g[0]) and g[1] == 2.0 and np.isinf(g[2])


def test_zero_dim_and_empty_inputs_work():
    assert fg.grad(lambda x: fnp.sum(x * x))(np.array(3.0)) == 6.0
    assert fg.grad(lambda x: fnp.sum(x * x))(np.zeros((0, 2))).shape == (0, 2)
    assert fg.jacfwd(lambda x: x * 2)(np.zeros(0)).shape == (0, 0)
    assert fg.jacrev(lambda x: x * 2)(np.zeros(0)).shape == (0, 0)
