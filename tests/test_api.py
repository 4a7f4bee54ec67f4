"""The transforms' contract (SPEC's transform table): return shapes, argnums, has_aux, pytrees, dtypes."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


def test_chapter_example_gradient_is_4x():
    x = np.arange(4.0)
    g = fg.grad(lambda x: 2 * fnp.dot(x, x))(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, 4 * x)


def test_nothing_accumulates_between_calls():
    f = fg.grad(lambda x: fnp.sum(x * x))
    x = np.arange(3.0)
    first = f(x)
    second = f(x)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(fg.grad(fnp.sum)(x), np.ones(3))
    assert not hasattr(x, "grad")


def test_grad_argnums_int_and_tuple():
    def f(x, y, z):
        return x * y**2 + z

    assert fg.grad(f)(2.0, 3.0, 1.0) == 9.0
    assert fg.grad(f, 1)(2.0, 3.0, 1.0) == 12.0
    assert fg.grad(f, -1)(2.0, 3.0, 1.0) == 1.0
    gx, gz = fg.grad(f, (0, 2))(2.0, 3.0, 1.0)
    assert (gx, gz) == (9.0, 1.0)
    (only,) = fg.grad(f, (1,))(2.0, 3.0, 1.0)
    assert only == 12.0


def test_grad_has_aux_and_value_and_grad():
    def f(x):
        return fnp.sum(x**2), {"mean": fnp.mean(x)}

    x = np.array([1.0, 2.0, 3.0])
    g, aux = fg.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert isinstance(aux["mean"], np.floating | float) and aux["mean"] == 2.0
    (value, aux2), g2 = fg.value_and_grad(f, has_aux=True)(x)
    assert value == 14.0 and aux2["mean"] == 2.0
    np.testing.assert_allclose(g2, 2 * x)
    value, g3 = fg.value_and_grad(lambda x: fnp.sum(fnp.sin(x)))(x)
    np.testing.assert_allclose(value, np.sum(np.sin(x)))
    np.testing.assert_allclose(g3, np.cos(x))


def test_grad_allow_int_gives_float0_zero():
    g = fg.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert g[0] == 3.0
    assert g[1].dtype == fg.float0


def test_grad_keyword_arguments_are_passed_through():
    def f(x, *, scale):
        return scale * x**2

    assert fg.grad(f)(3.0, scale=2.0) == 12.0


Pair = namedtuple("Pair", ["a", "b"])


def test_pytree_arguments_and_gradients():
    params = {"w": np.array([1.0, 2.0]), "b": 0.5, "layers": [np.ones((2, 2)), Pair(np.array(3.0), None)]}

    def loss(p):
        return fnp.sum(p["w"] ** 2) + p["b"] * fnp.sum(p["layers"][0]) + p["layers"][1].a ** 3

    g = fg.grad(loss)(params)
    assert set(g) == {"w", "b", "layers"}
    np.testing.assert_allclose(g["w"], [2.0, 4.0])
    assert g["b"] == 4.0
    np.testing.assert_allclose(g["layers"][0], 0.5 * np.ones((2, 2)))
    assert isinstance(g["layers"][1], Pair) and g["layers"][1].b is None
    assert g["layers"][1].a == 27.0


def test_results_are_plain_numpy_with_primal_dtype():
    x32 = np.arange(3, dtype=np.float32)
    g = fg.grad(lambda x: fnp.sum(fnp.sin(x) * 2.0))(x32)
    assert type(g) is np.ndarray and g.dtype == np.float32
    s = fg.grad(lambda x: x * 2.0)(np.float32(1.5))
    assert isinstance(s, np.float32)
    out, vjp_fn = fg.vjp(lambda x: x * x, x32)
    assert type(out) is np.ndarray and out.dtype == np.float32
    (ct,) = vjp_fn(np.ones(3, np.float32))
    assert ct.dtype == np.float32
    y, t = fg.jvp(lambda x: x * x, (x32,), (np.ones(3, np.float32),))
    assert y.dtype == np.float32 and t.dtype == np.float32
    assert fg.grad(lambda x: 3.0 * x)(2.0) == 3.0
    assert isinstance(fg.grad(lambda x: 3.0 * x)(2.0), np.float64)


def test_python_list_argument_is_an_array():
    g = fg.grad(lambda x: fnp.sum(x**2))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_constant_function_has_zero_gradient():
    assert fg.grad(lambda x: 3.0)(2.0) == 0.0
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(np.ones(3)))(np.ones(3)), np.zeros(3))


def test_vjp_returns_tuple_and_is_pure():
    x = np.array([1.0, 2.0, 3.0])
    y, vjp_fn = fg.vjp(lambda x: 2 * x, x)
    np.testing.assert_array_equal(y, 2 * x)
    head = np.array([10, 1, 0.1])
    first = vjp_fn(head)
    assert isinstance(first, tuple) and len(first) == 1
    np.testing.assert_allclose(first[0], [20, 2, 0.2])
    second = vjp_fn(np.ones(3))
    np.testing.assert_allclose(second[0], [2, 2, 2])
    np.testing.assert_allclose(vjp_fn(head)[0], first[0])


def test_vjp_several_primals_and_pytree_output():
    def f(a, b):
        return {"s": a * b, "t": (a + b, a)}

    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = fg.vjp(f, a, b)
    ga, gb = vjp_fn({"s": np.ones(2), "t": (np.ones(2), 2 * np.ones(2))})
    np.testing.assert_allclose(ga, b + 1 + 2)
    np.testing.assert_allclose(gb, a + 1)


def test_vjp_has_aux():
    out, vjp_fn, aux = fg.vjp(lambda x: (x * x, "note"), np.array(2.0), has_aux=True)
    assert aux == "note" and out == 4.0
    assert vjp_fn(np.array(1.0))[0] == 4.0


def test_stop_gradient_on_pytrees_and_detach_example():
    x = np.arange(4.0)
    g = fg.grad(lambda x: fnp.sum(fg.stop_gradient(x * x) * x))(x)
    np.testing.assert_array_equal(g, x * x)
    tree = fg.stop_gradient({"a": np.ones(2), "b": (1.0, None)})
    assert tree["b"] == (1.0, None)


def test_control_flow_reads_values():
    def f(a):
        b = a * 2
        while fnp.linalg.norm(b) < 1000:
            b = b * 2
        return b if fnp.sum(b) > 0 else 100 * b

    for a in (0.3, -0.7, 2.5):
        np.testing.assert_allclose(fg.grad(f)(a), f(a) / a)
    a = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(fg.vjp(f, a)[1](np.ones(3))[0], (f(a) / a))


def test_comparisons_return_plain_values():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert isinstance(bool(x[0] > 0), bool)
        return fnp.sum(fnp.where(mask, x, 0.0))

    np.testing.assert_array_equal(fg.grad(f)(np.array([1.0, -1.0, 2.0])), [1.0, 0.0, 1.0])


def test_jvp_and_linearize():
    f = lambda x: fnp.sin(x) * x  # noqa: E731
    x, v = np.array([0.5, 1.0]), np.array([1.0, -2.0])
    y, t = fg.jvp(f, (x,), (v,))
    np.testing.assert_allclose(y, np.sin(x) * x)
    np.testing.assert_allclose(t, (np.cos(x) * x + np.sin(x)) * v)
    y2, f_jvp = fg.linearize(f, x)
    np.testing.assert_allclose(y2, y)
    np.testing.assert_allclose(f_jvp(v), t)
    np.testing.assert_allclose(f_jvp(2 * v), 2 * t)


def test_jvp_has_aux_and_pytrees():
    def f(p):
        return p["a"] * p["b"], p["a"]

    (y, t, aux) = fg.jvp(f, ({"a": 2.0, "b": 3.0},), ({"a": 1.0, "b": 0.0},), has_aux=True)
    assert y == 6.0 and t == 3.0 and aux == 2.0


@pytest.mark.parametrize("jac", [fg.jacfwd, fg.jacrev, fg.jacobian])
def test_jacobian_shapes(jac):
    x = np.arange(6.0).reshape(2, 3) + 1
    j = jac(lambda x: fnp.sum(x**2, axis=0))(x)
    assert j.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for i in range(2):
        for k in range(3):
            expected[k, i, k] = 2 * x[i, k]
    np.testing.assert_allclose(j, expected)
    scalar = jac(lambda x: fnp.sum(x))(x)
    assert scalar.shape == (2, 3)


@pytest.mark.parametrize("jac", [fg.jacfwd, fg.jacrev])
def test_jacobian_argnums_and_pytree_output(jac):
    def f(x, y):
        return {"p": x * y, "q": x + 1.0}

    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    jx, jy = jac(f, argnums=(0, 1))(x, y)["p"]
    np.testing.assert_allclose(jx, np.diag(y))
    np.testing.assert_allclose(jy, np.diag(x))
    np.testing.assert_allclose(jac(f, 1)(x, y)["q"], np.zeros((2, 2)))


def test_hessian_of_quadratic_form():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    h = fg.hessian(lambda x: 0.5 * x @ a @ x)(np.array([1.0, -1.0]))
    np.testing.assert_allclose(h, a)
    h2 = fg.hessian(lambda x, y: fnp.sum(x * y * y), argnums=1)(np.ones(2), np.array([1.0, 2.0]))
    np.testing.assert_allclose(h2, 2 * np.eye(2))


def test_float32_throughout():
    x = np.linspace(0.1, 1.0, 4).astype(np.float32)
    assert fg.jacfwd(fnp.tanh)(x).dtype == np.float32
    assert fg.jacrev(fnp.tanh)(x).dtype == np.float32
    assert fg.hessian(lambda x: fnp.sum(fnp.tanh(x)))(x).dtype == np.float32


def test_inputs_are_never_modified():
    x = np.array([1.0, 2.0, 3.0])
    keep = x.copy()
    fg.grad(lambda x: fnp.sum(x.at[0].add(5.0) ** 2))(x)
    fg.vjp(lambda x: x * 2, x)[1](np.ones(3))
    fg.jvp(lambda x: x * 2, (x,), (x,))
    fg.hessian(lambda x: fnp.sum(x**3))(x)
    np.testing.assert_array_equal(x, keep)
