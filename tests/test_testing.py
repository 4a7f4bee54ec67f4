"""``check_grads`` itself: it must pass correct rules and catch wrong ones in each mode."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad.numpy as fnp
from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad.testing import check_grads


def _cube_with(vjp_scale: float = 3.0, jvp_scale: float = 3.0, second: bool = True):
    prim = primitive(lambda x: x**3, f"cube_{vjp_scale}_{jvp_scale}_{second}")
    if second:
        defvjp(prim, lambda g, ans, x: g * vjp_scale * x**2)
        defjvp(prim, lambda t, ans, x: t * jvp_scale * x**2, batched=True)
    else:  # first derivative right, but built from a constant so the second order is wrong
        defvjp(prim, lambda g, ans, x: g * 3.0 * _frozen(x) ** 2)
        defjvp(prim, lambda t, ans, x: t * 3.0 * _frozen(x) ** 2, batched=True)
    return prim


def _frozen(x):
    from funcgrad import stop_gradient

    return stop_gradient(x)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_correct_rule_passes(shape, dtype):
    x = (np.random.default_rng(0).uniform(0.5, 1.5, size=shape)).astype(dtype)
    if shape == ():
        x = dtype(x)
    check_grads(_cube_with(), (x,), order=3, modes=("fwd", "rev"))


@pytest.mark.parametrize("mode, kwargs", [("rev", {"vjp_scale": 2.0}), ("fwd", {"jvp_scale": 2.0})])
def test_wrong_first_derivative_is_caught_in_its_mode(mode, kwargs):
    prim = _cube_with(**kwargs)
    x = np.array([0.5, 1.0, 1.5])
    with pytest.raises(AssertionError, match="disagrees with finite differences"):
        check_grads(prim, (x,), order=1, modes=(mode,))
    other = "fwd" if mode == "rev" else "rev"
    check_grads(prim, (x,), order=1, modes=(other,))


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_wrong_second_derivative_is_caught_only_at_order_two(mode):
    prim = _cube_with(second=False)
    x = np.array([0.5, 1.0, 1.5])
    check_grads(prim, (x,), order=1, modes=(mode,))
    with pytest.raises(AssertionError):
        check_grads(prim, (x,), order=2, modes=(mode,))


def test_report_is_readable():
    prim = _cube_with(vjp_scale=2.0)
    with pytest.raises(AssertionError) as info:
        check_grads(prim, (np.array([1.0, 2.0]),), order=1, modes=("rev",))
    message = str(info.value)
    for fragment in ("expected", "got", "max |difference|", "(2,) float64"):
        assert fragment in message


def test_complex_and_pytree_arguments():
    check_grads(lambda z: fnp.real(fnp.sum(z * z * fnp.conj(z))), (np.array([1 + 2j, -0.5j]),), order=2)
    check_grads(lambda p: fnp.sum(p["a"] * p["b"][0]), ({"a": np.ones(2), "b": [np.arange(2.0)]},), order=2)
