"""Regression tests for bugs the random programs found (tests/random_programs.py).

Each test reproduces one finding in a few lines.  A bug in a file whose owner
was still at work got an ``xfail(strict=True)`` test here; the owners have since
fixed them all and dropped the marks.  Bugs fixed directly have their regression
test next to the code's other tests (test_reductions, test_checkpoint,
test_complex).
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


@pytest.mark.parametrize("name", ["modf", "divmod", "frexp"])
def test_two_output_ufuncs_on_plain_arrays(name):
    # fnp.modf(plain) raises "TypeError: 'out' must be a tuple of arrays": NumPy's two-output ufuncs
    # reject out=None, so a program differentiated with finite differences (plain values) breaks.
    x = np.array([0.5, -1.25, 2.75])
    args = (x, 0.7) if name == "divmod" else (x,)
    got = getattr(fnp, name)(*args)
    expected = getattr(np, name)(*args)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    # and the traced call agrees with the plain one
    traced = fg.jvp(lambda x: getattr(fnp, name)(*((x,) + args[1:]))[0], (x,), (np.ones(3),))[0]
    np.testing.assert_array_equal(traced, expected[0])


@pytest.mark.parametrize(
    "f, c",
    [
        (lambda x, c: (1.2 + fnp.sin(x)) ** (c * 0.5), -0.984),  # power: y * x ** (y - 1), y - 1 in float32
        (lambda x, c: fnp.float_power(1.5 + x * x, c), -0.984),
        (lambda x, c: fnp.power(c, x), 0.587),  # d/dy x ** y = x ** y * log(x), log(x) in float32
        (lambda x, c: fnp.arctan2(c, 1.5 + x * x), -0.984),  # arctan2: c / (c * c + x * x), c * c in float32
        (lambda x, c: fnp.arctan2(x, c), 0.587),
    ],
)
def test_float32_constant_keeps_double_precision_derivatives(f, c):
    # A float64 input next to a float32 constant: NumPy computes the value in float64 (the 0-d float32
    # array is promoted), so the value equals that with a float64 copy of the constant.  The derivative
    # must too, but the rules compute e.g. ``y - 1``, ``log(x)`` or ``y * y`` in float32: errors ~1e-8.
    # Reproduce: fg.grad(lambda x: fnp.sum(fnp.arctan2(x, np.float32(0.587))))(np.array([0.31, 0.72]))
    x = np.array([0.3, -0.7, 0.9])
    c32 = np.array(c, np.float32)
    c64 = c32.astype(np.float64)
    np.testing.assert_array_equal(f(x, c32), f(x, c64))
    np.testing.assert_allclose(fg.jacrev(lambda x: f(x, c32))(x), fg.jacrev(lambda x: f(x, c64))(x), rtol=1e-14)
    np.testing.assert_allclose(fg.jacfwd(lambda x: f(x, c32))(x), fg.jacfwd(lambda x: f(x, c64))(x), rtol=1e-14)


def test_power_with_a_python_complex_exponent_keeps_complex64_in_jacfwd():
    # _ufuncs._pow_dx treats only int/float exponents as plain numbers; a Python complex goes through
    # where(y == 0, 1, y - 1), a complex128 array, so batched tangents (jacfwd) come out complex128
    x = np.array([0.3 + 0.1j, 0.5 + 0.2j, -0.2 + 0.3j], np.complex64)
    f = lambda v: fnp.power(2.0 + v, 1.5 - 0.5j)  # noqa: E731
    assert f(x).dtype == np.complex64
    assert fg.jacrev(f, holomorphic=True)(x).dtype == np.complex64
    assert fg.jacfwd(f, holomorphic=True)(x).dtype == np.complex64


@pytest.mark.parametrize(
    "f",
    [
        lambda v: v + np.array([0.89, -0.216]),
        lambda v: fnp.where(v > 0.0, v * v, np.array([0.89, -0.216])),
        lambda v: (v + np.array([0.89, -0.216])) * 1e-3,
    ],
)
def test_float32_input_promoted_by_float64_constant_gets_float64_tangents(f):
    # v (float32) + C (float64) is float64, but add's forward rule passes the float32 tangent through:
    # jacfwd's entries come out float32 (jvp casts at the end: float64, but rounded to float32 steps,
    # e.g. 1e-3 becomes 0.0010000000474974513).  JAX promotes the tangent with the value.
    x = np.array([0.5, -0.3], np.float32)
    jf = fg.jacfwd(f)(x)
    assert jf.dtype == f(x).dtype == np.float64
    want = fg.jacrev(lambda v: f(v.astype(np.float64)))(x.astype(np.float64))
    np.testing.assert_array_equal(fg.jvp(f, (x,), (np.ones(2, np.float32),))[1], want.sum(axis=-1))
