"""Plain ``numpy`` code on traced values: ``__array_ufunc__`` and ``__array_function__``.

Code written with ``import numpy as np`` only is differentiated exactly as
its ``funcgrad.numpy`` spelling; tracers mix with ndarrays and NumPy scalars
on either side of every operator; ufunc methods map to reductions; and any
NumPy function or ufunc method funcgrad does not differentiate raises a
``TypeError`` naming it instead of returning anything.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

RNG = np.random.default_rng(4)
A = RNG.normal(size=(3, 3))
B = RNG.normal(size=(3,))
V = np.array([0.3, -0.7, 1.1])
P = np.array([0.6, 1.3, 0.9])


def model(ns, w):
    """A small network written against a NumPy-like namespace ``ns``."""
    hidden = ns.tanh(A @ w + B)
    soft = ns.logaddexp(0.0, hidden)
    penalty = ns.mean(ns.clip(w, -1.0, 1.0) ** 2) + ns.max(ns.abs(w))
    return ns.sum(soft * ns.exp(-(w**2))) + ns.sqrt(ns.dot(w, w) + 1.0) + penalty + ns.sum(ns.sinc(w)) * 0.1


def test_plain_numpy_code_is_differentiated_like_funcgrad_numpy():
    w = np.array([0.2, -0.4, 0.9])
    np.testing.assert_allclose(fg.grad(lambda w: model(np, w))(w), fg.grad(lambda w: model(fnp, w))(w), rtol=1e-15)
    np.testing.assert_allclose(
        fg.hessian(lambda w: model(np, w))(w), fg.hessian(lambda w: model(fnp, w))(w), rtol=1e-13, atol=1e-13
    )
    check_grads(lambda w: model(np, w), (w,), order=2)


# operand orders: tracers on either side, with ndarrays, NumPy scalars, Python scalars and lists
MIXED = [
    ("ndarray + tracer", lambda x: V + x),
    ("tracer + ndarray", lambda x: x + V),
    ("ndarray - tracer", lambda x: V - x),
    ("ndarray * tracer", lambda x: V * x),
    ("ndarray / tracer", lambda x: V / x),
    ("tracer / ndarray", lambda x: x / P),
    ("ndarray ** tracer", lambda x: P**x),
    ("tracer ** ndarray", lambda x: x ** np.array([2.0, 3.0, -1.0])),
    ("ndarray % tracer", lambda x: np.array([2.5, 2.9, 2.6]) % x),
    ("ndarray @ tracer", lambda x: A @ x),
    ("tracer @ ndarray", lambda x: x @ A),
    ("matrix tracer @ ndarray", lambda x: (x[:, None] * A) @ A),
    ("np.float64 * tracer", lambda x: np.float64(2.5) * x),
    ("tracer * np.float64", lambda x: x * np.float64(2.5)),
    ("np.float32 - tracer", lambda x: np.float32(2.5) - x),
    ("np.int64 * tracer", lambda x: np.int64(3) * x),
    ("0-d array / tracer", lambda x: np.array(2.0) / x),
    ("python scalar ** tracer", lambda x: 2.0**x),
    ("list + tracer", lambda x: [1.0, 2.0, 3.0] + x),
    ("column ndarray * tracer", lambda x: V[:, None] * x),
    ("np.multiply(ndarray, tracer)", lambda x: np.multiply(V, x)),
    ("np.add(tracer, tracer)", lambda x: np.add(x, x[::-1])),
    ("np.maximum(ndarray, tracer)", lambda x: np.maximum(V, x)),
    ("np.where(mask, ndarray, tracer)", lambda x: np.where(V > 0, V, x)),
]


@pytest.mark.parametrize("fn", [m[1] for m in MIXED], ids=[m[0] for m in MIXED])
def test_tracers_mix_with_ndarrays_and_scalars(fn):
    check_grads(fn, (P,), order=2)
    np.testing.assert_allclose(fg.jacfwd(fn)(P), fg.jacrev(fn)(P), rtol=1e-13, atol=1e-13)


def test_ndarray_on_the_left_gives_the_same_result_as_on_the_right():
    out_left, out_right = [], []
    fg.grad(lambda x: fnp.sum(out_left.append(V * x) or V * x))(P)
    fg.grad(lambda x: fnp.sum(out_right.append(x * V) or x * V))(P)
    assert type(out_left[0]) is type(out_right[0]) is fnp.ArrayTracer


# every elementwise function through plain numpy: (numpy name, interval of inputs)
UNARY = [
    ("sin", -2, 2), ("cos", -2, 2), ("tan", -1, 1), ("arcsin", -0.8, 0.8), ("arccos", -0.8, 0.8),
    ("arctan", -2, 2), ("asin", -0.8, 0.8), ("acos", -0.8, 0.8), ("atan", -2, 2), ("sinh", -2, 2),
    ("cosh", -2, 2), ("tanh", -2, 2), ("arcsinh", -2, 2), ("arccosh", 1.3, 3), ("arctanh", -0.8, 0.8),
    ("asinh", -2, 2), ("acosh", 1.3, 3), ("atanh", -0.8, 0.8), ("exp", -2, 2), ("exp2", -2, 2),
    ("expm1", -2, 2), ("log", 0.5, 3), ("log2", 0.5, 3), ("log10", 0.5, 3), ("log1p", -0.5, 2),
    ("sqrt", 0.5, 3), ("cbrt", 0.5, 3), ("square", -2, 2), ("reciprocal", 0.5, 2), ("negative", -2, 2),
    ("positive", -2, 2), ("deg2rad", -90, 90), ("rad2deg", -2, 2), ("radians", -90, 90),
    ("degrees", -2, 2), ("sinc", -2, 2), ("abs", 0.3, 2), ("absolute", -2, -0.3), ("fabs", -2, -0.3),
    ("nan_to_num", -2, 2), ("real", -2, 2), ("conj", -2, 2), ("conjugate", -2, 2),
]  # fmt: skip
BINARY = [
    ("add", -2, 2), ("subtract", -2, 2), ("multiply", -2, 2), ("divide", 0.5, 2), ("true_divide", 0.5, 2),
    ("power", 0.5, 2), ("pow", 0.5, 2), ("float_power", 0.5, 2), ("hypot", 0.5, 2), ("arctan2", 0.5, 2),
    ("atan2", 0.5, 2), ("logaddexp", -2, 2), ("logaddexp2", -2, 2), ("maximum", -2, 2), ("minimum", -2, 2),
    ("fmax", -2, 2), ("fmin", -2, 2), ("remainder", 2.2, 2.8), ("mod", 2.2, 2.8), ("fmod", 2.2, 2.8),
    ("copysign", 0.5, 2),
]  # fmt: skip


@pytest.mark.parametrize(("name", "low", "high"), UNARY, ids=[u[0] for u in UNARY])
def test_every_unary_function_differentiates_through_plain_numpy(name, low, high):
    x = np.linspace(low, high, 3) + 0.01
    numpy_fn, funcgrad_fn = getattr(np, name), getattr(fnp, name)
    check_grads(numpy_fn, (x,), order=2)
    np.testing.assert_array_equal(fg.jacrev(numpy_fn)(x), fg.jacrev(funcgrad_fn)(x))


@pytest.mark.parametrize(("name", "low", "high"), BINARY, ids=[b[0] for b in BINARY])
def test_every_binary_function_differentiates_through_plain_numpy(name, low, high):
    x = np.linspace(low, high, 3)[:, None] + 0.01
    y = np.linspace(high, low, 4) / 1.7 + 0.37 * (name in ("remainder", "mod", "fmod"))
    numpy_fn, funcgrad_fn = getattr(np, name), getattr(fnp, name)
    check_grads(numpy_fn, (x, y), order=2)
    check_grads(lambda y: numpy_fn(x, y), (y,), order=1)  # plain first operand
    for argnum in (0, 1):
        np.testing.assert_array_equal(
            fg.jacrev(numpy_fn, argnums=argnum)(x, y), fg.jacrev(funcgrad_fn, argnums=argnum)(x, y)
        )


FUNCTIONS = [
    ("np.clip", lambda x: np.clip(x, -0.5, 0.5)),
    ("np.clip keywords", lambda x: np.clip(x, a_min=None, a_max=0.5)),
    ("np.round", lambda x: np.round(x, 1) * x),
    ("np.around", lambda x: np.around(x) * x),
    ("np.fix", lambda x: np.fix(x) * x),
    ("np.angle", lambda x: np.angle(x + 1j * x[::-1])),
    ("np.real of complex", lambda x: np.real(x * (1 + 2j))),
    ("np.imag of complex", lambda x: np.imag(x * (1 + 2j))),
    ("np.sinc", lambda x: np.sinc(x)),
    ("np.real_if_close", lambda x: np.real_if_close(x * (1 + 0j)) * np.real_if_close(x * (1 + 1j))),
    ("np.nan_to_num", lambda x: np.nan_to_num(x + np.array([0.0, np.inf, 0.0]))),
    ("np.divmod", lambda x: np.divmod(x, 0.3)[1]),
    ("np.modf", lambda x: np.modf(x * 3)[0]),
    ("np.frexp", lambda x: np.frexp(x)[0]),
    ("np.add.reduce", lambda x: np.add.reduce(x)),
    ("np.add.reduce axis None keepdims", lambda x: np.add.reduce(x[:, None] * x, axis=None, keepdims=True)),
    ("np.multiply.reduce", lambda x: np.multiply.reduce(x[:, None] * x, axis=1)),
    ("np.maximum.reduce initial", lambda x: np.maximum.reduce(x, initial=0.0)),
    ("np.minimum.reduce", lambda x: np.minimum.reduce(x[:, None] * x, axis=0)),
    ("np.add.reduce dtype", lambda x: np.add.reduce(x, dtype=np.float64)),
    ("np.add.accumulate", lambda x: np.add.accumulate(x)),
    ("np.multiply.accumulate", lambda x: np.multiply.accumulate(x)),
    ("np.multiply.outer", lambda x: np.multiply.outer(x, V)),
    ("np.subtract.outer", lambda x: np.subtract.outer(V[:2], x)),
    ("np.power.outer", lambda x: np.power.outer(x, np.array([[1.0, 2.0]]))),
    ("ufunc dtype keyword", lambda x: np.sin(x, dtype=np.float64)),
]


@pytest.mark.parametrize("fn", [f[1] for f in FUNCTIONS], ids=[f[0] for f in FUNCTIONS])
def test_numpy_functions_and_ufunc_methods(fn):
    x = np.array([0.42, -0.8, 1.3])
    check_grads(fn, (x,), order=2)


def test_reductions_by_ufunc_method_agree_with_numpy_values():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    for fn in (
        lambda v: np.add.reduce(v),
        lambda v: np.maximum.reduce(v, axis=1, initial=5.0),
        lambda v: np.multiply.reduce(v, axis=None),
        lambda v: np.logical_or.reduce(v > 5, axis=0),
        lambda v: np.add.accumulate(v, axis=1),
        lambda v: np.multiply.outer(v, v[0]),
    ):
        out, _ = fg.vjp(fn, x)
        np.testing.assert_array_equal(out, fn(x))
        assert type(out) is type(fn(x))
    assert fg.grad(lambda v: np.maximum.reduce(v, initial=5.0))(np.array([1.0, 2.0])).tolist() == [0.0, 0.0]


def test_methods_of_traced_arrays():
    x = np.array([0.42, -0.8, 1.3])
    check_grads(lambda v: v.sum() + v.clip(-0.5, 0.5) + v.round(1) * v + v.conj() * v.mean(), (x,), order=2)
    check_grads(lambda v: v.astype(np.complex128).real * v.T + v.prod() * v.max(), (x,), order=2)


# --- what funcgrad does not differentiate raises, naming it ----------------------------------------

UNSUPPORTED = [
    ("numpy.add.reduceat", lambda x: np.add.reduceat(x, [0, 2])),
    ("numpy.logaddexp.accumulate", lambda x: np.logaddexp.accumulate(x)),
    ("numpy.fmax.reduce", lambda x: np.fmax.reduce(x)),
    ("numpy.subtract.reduce", lambda x: np.subtract.reduce(x)),
    ("numpy.divide.accumulate", lambda x: np.divide.accumulate(x)),
    ("<lambda> (vectorized)", lambda x: np.frompyfunc(lambda a: a, 1, 1)(x)),
    ("i0", lambda x: np.i0(x)),
    ("busday_count", lambda x: np.busday_count(x, x)),
]


@pytest.mark.parametrize(("name", "fn"), UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
@pytest.mark.parametrize("transform", ["grad", "jvp"])
def test_unsupported_numpy_raises_type_error_naming_it(name, fn, transform):
    x = np.array([0.5, 1.5, 2.5])
    total = lambda v: fnp.sum(fn(v))  # noqa: E731
    with pytest.raises(TypeError, match=re.escape(name) + ".*stop_gradient"):
        if transform == "grad":
            fg.grad(total)(x)
        else:
            fg.jvp(total, (x,), (x,))


def test_ufunc_at_is_the_functional_update():
    def at(v):
        np.add.at(v, [0, 0], v[1])
        np.multiply.at(v, [2], v[0])
        return (v**2).sum()

    def functional(v):
        v = v.at[[0, 0]].add(v[1])
        return (v.at[2].multiply(v[0]) ** 2).sum()

    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_array_equal(fg.grad(at)(x), fg.grad(functional)(x))
    with pytest.raises(TypeError, match=r"numpy\.logaddexp\.at"):
        fg.grad(lambda v: np.logaddexp.at(v, [0], 1.0) or fnp.sum(v))(x)


@pytest.mark.parametrize(
    "fn",
    [lambda v: np.sin(v, out=np.empty(3)), lambda v: np.add.reduce(v, out=np.empty(()))],
    ids=["out=ndarray", "reduce out="],
)
def test_plain_out_arguments_refuse_traced_results(fn):
    with pytest.raises(TypeError, match=r"np\.zeros_like\(x\)"):
        fg.grad(lambda v: fnp.sum(fn(v)))(np.ones(3))


def test_traced_out_arguments_are_written():
    def f(v):
        w = v * 1.0
        assert np.multiply(np.ones(3), 2.0, out=w) is w
        np.add.reduce(v, out=w[:1], keepdims=True)
        return (w * v).sum()

    x = np.array([0.5, 1.5, 2.5])
    assert fg.value_and_grad(f)(x)[0] == f(x.copy())
    np.testing.assert_allclose(fg.grad(f)(x), [x.sum() + x[0], 2.0 + x[0], 2.0 + x[0]])


@pytest.mark.parametrize("namespace", [np, fnp], ids=["np", "fnp"])
def test_ufunc_keywords_behave_the_same_in_both_namespaces(namespace):
    x = np.array([0.5, 1.5])
    assert fg.grad(lambda v: fnp.sum(namespace.sin(v, dtype=np.float64)))(x).tolist() == np.cos(x).tolist()
    assert namespace.add(x, 1, dtype=np.float32).dtype == np.float32  # plain values: NumPy itself
    with pytest.raises(TypeError, match=r"np\.zeros_like\(x\)"):  # a plain out cannot hold a traced value
        fg.grad(lambda v: fnp.sum(namespace.multiply(v, 2.0, out=np.empty(2))))(x)
    with pytest.raises(TypeError, match=r"np\.zeros_like\(x\)"):
        fg.grad(lambda v: fnp.sum(namespace.sin(v, np.empty(2))))(x)  # positional out
    out = np.empty(2)
    assert namespace.sin(x, out) is out  # plain values: NumPy itself
    with pytest.raises(TypeError, match=r"numpy\.exp.*'where'"):
        fg.jvp(lambda v: namespace.exp(v, where=v > 1), (x,), (x,))


def test_unsupported_ufunc_keywords_raise():
    with pytest.raises(TypeError, match=r"numpy\.sin.*'where'"):
        fg.grad(lambda v: fnp.sum(np.sin(v, where=v > 0)))(np.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce.*'where'"):
        fg.grad(lambda v: np.add.reduce(v, where=np.array([True, False, True])))(np.ones(3))


def test_numpy_helpers_that_would_make_object_arrays_raise():
    with pytest.raises(TypeError, match="stop_gradient"):
        fg.grad(lambda v: fnp.sum(np.vectorize(lambda a: a * 2)(v)))(np.ones(3))
    with pytest.raises(TypeError, match="stop_gradient"):
        fg.grad(lambda v: fnp.sum(np.asarray(v)))(np.ones(3))
