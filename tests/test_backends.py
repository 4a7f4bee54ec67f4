"""A backend funcgrad has never heard of: any array type speaking NumPy's protocols is a primal.

``Duck`` is a minimal array library written here (NumPy's dispatch
protocols, ``__array_namespace__``, operators from ``NDArrayOperatorsMixin``)
whose ``__array__`` fails the test: so every transform must run on it through
dispatch alone and hand back Duck arrays, as it would for CuPy.  No extra is
needed, so this runs everywhere (Dask itself: tests/test_dask.py).
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from numpy.lib.mixins import NDArrayOperatorsMixin

import funcgrad as fg
from funcgrad import _backends


def _unwrap(value):
    if isinstance(value, Duck):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return Duck(value)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Duck(NDArrayOperatorsMixin):
    """A minimal array library of its own: NumPy's protocols, a namespace, and no conversion to NumPy."""

    def __init__(self, data):
        self.data = np.asarray(data)

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)

    def __array__(self, *args, **kwargs):
        raise AssertionError("something converted a Duck array to NumPy")

    def __array_namespace__(self):
        return DUCK

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not all(isinstance(v, (Duck, np.ndarray, np.generic, int, float, complex)) for v in inputs):
            return NotImplemented
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types_, args, kwargs):
        if func in MISSING or not all(issubclass(t, (Duck, np.ndarray)) for t in types_):
            return NotImplemented  # as CuPy does for a function it lacks
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, index):
        return Duck(self.data[_unwrap(index)])

    def __setitem__(self, index, value):
        self.data[_unwrap(index)] = _unwrap(value)

    def astype(self, dtype):
        return Duck(self.data.astype(dtype))

    def copy(self):
        return Duck(self.data.copy())

    def reshape(self, *shape):
        return Duck(self.data.reshape(*shape))

    @property
    def T(self):
        return Duck(self.data.T)

    @property
    def real(self):
        return Duck(self.data.real)

    @property
    def imag(self):
        return Duck(self.data.imag)

    def sum(self, *args, **kwargs):
        return Duck(self.data.sum(*args, **kwargs))


#: NumPy functions this library "lacks"
MISSING = {np.argsort}

DUCK = types.SimpleNamespace(
    bincount=lambda x, weights=None, minlength=0: Duck(np.bincount(_unwrap(x), _unwrap(weights), minlength)),
    asarray=lambda v: Duck(np.array(v)),
    zeros_like=lambda v, dtype=None: Duck(np.zeros_like(v.data, dtype=dtype)),
    broadcast_to=lambda v, shape: Duck(np.broadcast_to(_unwrap(v), shape)),
)


VALUES = np.linspace(0.1, 1.3, 6).reshape(2, 3)

FUNCTIONS = {
    "sin-product": lambda x: np.sum(np.sin(x) * x),
    "matmul-tanh": lambda x: np.sum(np.tanh(x @ x.T)),
    "mean-cube": lambda x: np.mean(x**3),
    "slices": lambda x: np.sum(x[:, 1:] * x[:, :-1]),
    "flip-gather": lambda x: np.sum(np.flip(x, 0) * x),
    "functional-update": lambda x: np.sum(x.at[0, 1:].multiply(3.0) * x),
}

TRANSFORMS = {
    "grad": lambda f, x: fg.grad(f)(x),
    "jvp": lambda f, x: fg.jvp(f, (x,), (x,))[1],
    "vjp": lambda f, x: fg.vjp(lambda x: np.exp(x) * f(x), x)[1](x)[0],
    "hessian": lambda f, x: fg.hessian(f)(x),
    "jacrev": lambda f, x: fg.jacrev(lambda x: np.sin(x) * f(x))(x),
    "grad-of-grad": lambda f, x: fg.grad(lambda x: np.sum(fg.grad(f)(x) ** 2))(x),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("fun", FUNCTIONS)
def test_transforms_run_on_an_unknown_backend_by_dispatch_alone(fun, transform):
    got = TRANSFORMS[transform](FUNCTIONS[fun], Duck(VALUES))
    want = TRANSFORMS[transform](FUNCTIONS[fun], VALUES)
    assert isinstance(got, Duck), type(got)
    assert got.shape == np.shape(want) and got.dtype == want.dtype
    np.testing.assert_allclose(got.data, want, rtol=1e-12)


def test_zero_derivative_is_made_in_the_primal_namespace():
    gx, gy = fg.grad(lambda x, y: np.sum(y**2), argnums=(0, 1))(Duck(VALUES), VALUES)
    assert isinstance(gx, Duck) and not gx.data.any()
    assert type(gy) is np.ndarray


def test_namespace_comes_from_array_namespace():
    assert _backends.namespace(Duck(VALUES)) is DUCK
    assert _backends.is_foreign(Duck(VALUES)) and not _backends.is_foreign(VALUES)


def test_a_function_the_backend_lacks_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"numpy\.argsort"):
        fg.grad(lambda x: np.sum(np.sort(x)))(Duck(VALUES))


def test_funcgrad_stand_ins_and_ufunc_only_objects_are_not_backends():
    from funcgrad._values import Shaped

    class UfuncOnly(Shaped):
        __array_ufunc__ = Duck.__array_ufunc__

    assert not _backends.is_foreign(Shaped(VALUES))
    assert not _backends.is_foreign(UfuncOnly(VALUES))
