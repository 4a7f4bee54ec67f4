"""Elementwise functions: both modes to second order against finite differences, and their kinks.

One line per function, as in autograd's combo_check: each entry names the
function, the interval its inputs are drawn from, and whether it accepts
complex numbers.  Every function runs over scalar, vector and matrix shapes
(binary ones also over broadcasting shapes) in float64 and float32, and
complex128 where allowed; a few run to third order.  Kinks and edges are
pinned exactly in the tests after the tables.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

# (name, function, low, high, accepts complex)
UNARY = [
    ("sin", fnp.sin, -2.0, 2.0, True),
    ("cos", fnp.cos, -2.0, 2.0, True),
    ("tan", fnp.tan, -1.0, 1.0, True),
    ("arcsin", fnp.arcsin, -0.8, 0.8, True),
    ("arccos", fnp.arccos, -0.8, 0.8, True),
    ("arctan", fnp.arctan, -2.0, 2.0, True),
    ("sinh", fnp.sinh, -2.0, 2.0, True),
    ("cosh", fnp.cosh, -2.0, 2.0, True),
    ("tanh", fnp.tanh, -2.0, 2.0, True),
    ("arcsinh", fnp.arcsinh, -2.0, 2.0, True),
    ("arccosh", fnp.arccosh, 1.3, 3.0, True),
    ("arctanh", fnp.arctanh, -0.8, 0.8, True),
    ("exp", fnp.exp, -2.0, 2.0, True),
    ("exp2", fnp.exp2, -2.0, 2.0, True),
    ("expm1", fnp.expm1, -2.0, 2.0, True),
    ("log", fnp.log, 0.5, 3.0, True),
    ("log2", fnp.log2, 0.5, 3.0, True),
    ("log10", fnp.log10, 0.5, 3.0, True),
    ("log1p", fnp.log1p, -0.5, 2.0, True),
    ("sqrt", fnp.sqrt, 0.5, 3.0, True),
    ("cbrt", fnp.cbrt, 0.5, 3.0, False),
    ("cbrt_negative", fnp.cbrt, -3.0, -0.5, False),
    ("square", fnp.square, -2.0, 2.0, True),
    ("reciprocal", fnp.reciprocal, 0.5, 2.0, True),
    ("negative", fnp.negative, -2.0, 2.0, True),
    ("positive", fnp.positive, -2.0, 2.0, True),
    ("deg2rad", fnp.deg2rad, -90.0, 90.0, False),
    ("radians", fnp.radians, -90.0, 90.0, False),
    ("rad2deg", fnp.rad2deg, -2.0, 2.0, False),
    ("degrees", fnp.degrees, -2.0, 2.0, False),
    ("sinc", fnp.sinc, -2.0, 2.0, True),
    ("sinc_near_zero", fnp.sinc, -0.3, 0.3, True),
    ("absolute", fnp.absolute, 0.3, 2.0, True),
    ("abs_negative", fnp.abs, -2.0, -0.3, False),
    ("fabs", fnp.fabs, -2.0, -0.3, False),
    ("clip", lambda x: fnp.clip(x, -3.0, 3.0), -2.0, 2.0, False),
    ("nan_to_num", fnp.nan_to_num, -2.0, 2.0, True),
    ("real", fnp.real, -2.0, 2.0, True),
    ("imag", fnp.imag, -2.0, 2.0, True),
    ("conj", fnp.conj, -2.0, 2.0, True),
    ("conjugate", fnp.conjugate, -2.0, 2.0, True),
    ("angle", fnp.angle, 0.5, 2.0, True),
    ("angle_deg", lambda z: fnp.angle(z, deg=True), -2.0, -0.5, True),
]

# (name, function, (low, high) of x, (low, high) of y, accepts complex)
BINARY = [
    ("add", fnp.add, (-2.0, 2.0), (-2.0, 2.0), True),
    ("subtract", fnp.subtract, (-2.0, 2.0), (-2.0, 2.0), True),
    ("multiply", fnp.multiply, (-2.0, 2.0), (-2.0, 2.0), True),
    ("divide", fnp.divide, (-2.0, 2.0), (0.5, 2.0), True),
    ("true_divide", fnp.true_divide, (-2.0, 2.0), (-2.0, -0.5), True),
    ("power", fnp.power, (0.5, 2.0), (-2.0, 2.0), True),
    ("pow", fnp.pow, (0.5, 2.0), (0.5, 3.0), False),
    ("float_power", fnp.float_power, (0.5, 2.0), (-2.0, 2.0), True),
    ("hypot", fnp.hypot, (-2.0, 2.0), (0.5, 2.0), False),
    ("arctan2", fnp.arctan2, (-2.0, 2.0), (0.5, 2.0), False),
    ("arctan2_left", fnp.arctan2, (0.5, 2.0), (-2.0, -0.5), False),
    ("logaddexp", fnp.logaddexp, (-2.0, 2.0), (-2.0, 2.0), False),
    ("logaddexp2", fnp.logaddexp2, (-2.0, 2.0), (-2.0, 2.0), False),
    ("maximum", fnp.maximum, (-2.0, 0.0), (0.1, 2.0), False),
    ("minimum", fnp.minimum, (-2.0, 0.0), (0.1, 2.0), False),
    ("fmax", fnp.fmax, (0.1, 2.0), (-2.0, 0.0), False),
    ("fmin", fnp.fmin, (0.1, 2.0), (-2.0, 0.0), False),
    ("remainder", fnp.remainder, (2.2, 2.8), (1.5, 1.9), False),
    ("mod_negative", fnp.mod, (-2.8, -2.2), (1.5, 1.9), False),
    ("fmod", fnp.fmod, (-2.8, -2.2), (1.5, 1.9), False),
    ("copysign", fnp.copysign, (-2.0, -0.5), (0.5, 2.0), False),
    ("clip_bounds", lambda lo, x: fnp.clip(x, lo, 2.5), (0.5, 1.0), (-1.0, 0.0), False),
]

THIRD_ORDER = {"sin", "exp", "log", "tanh", "multiply", "divide", "power"}

UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_SHAPES = [((), (3,)), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (4,))]
REAL_DTYPES = [np.float64, np.float32]


def sample(shape, low, high, dtype, seed):
    """Values in [low, high] (complex: plus a small imaginary part), of ``dtype``; a scalar for shape ()."""
    rng = np.random.default_rng(seed)
    value = rng.uniform(low, high, size=shape)
    if np.dtype(dtype).kind == "c":
        value = value + 1j * rng.uniform(-0.3, 0.3, size=shape)
    value = np.asarray(value, dtype=dtype)
    return value[()] if shape == () else value


def unary_cases():
    for name, fn, low, high, accepts_complex in UNARY:
        dtypes = REAL_DTYPES + ([np.complex128] if accepts_complex else [])
        for shape in UNARY_SHAPES:
            for dtype in dtypes:
                yield pytest.param(fn, low, high, shape, dtype, id=f"{name}-{shape}-{np.dtype(dtype).name}")


def binary_cases():
    for name, fn, xrange, yrange, accepts_complex in BINARY:
        dtypes = REAL_DTYPES + ([np.complex128] if accepts_complex else [])
        for xshape, yshape in BINARY_SHAPES:
            for dtype in dtypes:
                yield pytest.param(
                    fn, xrange, yrange, xshape, yshape, dtype, id=f"{name}-{xshape}x{yshape}-{np.dtype(dtype).name}"
                )


@pytest.mark.parametrize(("fn", "low", "high", "shape", "dtype"), list(unary_cases()))
def test_unary_matches_finite_differences(fn, low, high, shape, dtype):
    x = sample(shape, low, high, dtype, seed=len(shape))
    check_grads(fn, (x,), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize(("fn", "xrange", "yrange", "xshape", "yshape", "dtype"), list(binary_cases()))
def test_binary_matches_finite_differences(fn, xrange, yrange, xshape, yshape, dtype):
    x = sample(xshape, *xrange, dtype, seed=1)
    y = sample(yshape, *yrange, dtype, seed=2)
    check_grads(fn, (x, y), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        pytest.param(fn, (sample((3,), low, high, np.float64, 3),), id=name)
        for name, fn, low, high, _ in UNARY
        if name in THIRD_ORDER
    ]
    + [
        pytest.param(fn, (sample((3,), *xr, np.float64, 4), sample((3,), *yr, np.float64, 5)), id=name)
        for name, fn, xr, yr, _ in BINARY
        if name in THIRD_ORDER
    ]
    + [pytest.param(fnp.power, (sample((3,), 0.5, 2.0, np.complex128, 6), 2.5 + 0.5j), id="power-complex")],
)
def test_third_order(fn, args):
    check_grads(fn, args, modes=("fwd", "rev"), order=3)


@pytest.mark.parametrize(
    ("name", "fn", "low", "high"), [(u[0], u[1], u[2], u[3]) for u in UNARY], ids=[u[0] for u in UNARY]
)
def test_unary_batched_forward_rule_agrees_with_reverse(name, fn, low, high):
    x = sample((3,), low, high, np.float64, seed=7)
    np.testing.assert_allclose(fg.jacfwd(fn)(x), fg.jacrev(fn)(x), rtol=1e-12, atol=1e-12)
    total = lambda v: fnp.sum(fn(v))  # noqa: E731
    np.testing.assert_allclose(fg.hessian(total)(x), fg.jacrev(fg.jacrev(total))(x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("name", "fn", "xrange", "yrange"), [b[:4] for b in BINARY], ids=[b[0] for b in BINARY])
def test_binary_batched_forward_rule_agrees_with_reverse(name, fn, xrange, yrange):
    for xshape, yshape in [((3, 1), (4,)), ((), (3,)), ((2,), ())]:
        x = sample(xshape, *xrange, np.float64, seed=8)
        y = sample(yshape, *yrange, np.float64, seed=9)
        for argnum in (0, 1):
            forward = fg.jacfwd(fn, argnums=argnum)(x, y)
            reverse = fg.jacrev(fn, argnums=argnum)(x, y)
            np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("fn", [fnp.sin, fnp.exp2, fnp.log10, fnp.sinc, fnp.arccosh, fnp.reciprocal], ids=str)
def test_derivatives_keep_the_input_dtype(fn, dtype):
    x = np.array([1.5, 2.0], dtype=dtype)
    _, tangent = fg.jvp(fn, (x,), (np.ones_like(x),))
    _, vjp_fn = fg.vjp(fn, x)
    assert tangent.dtype == x.dtype
    assert vjp_fn(np.ones_like(x))[0].dtype == x.dtype


@pytest.mark.parametrize(("fn", "xrange", "yrange"), [b[1:4] for b in BINARY], ids=[b[0] for b in BINARY])
def test_binary_derivatives_keep_float32(fn, xrange, yrange):
    x = sample((3, 1), *xrange, np.float32, seed=10)
    y = sample((2,), *yrange, np.float32, seed=11)
    out, tangent = fg.jvp(fn, (x, y), (np.ones_like(x), np.ones_like(y)))
    _, vjp_fn = fg.vjp(fn, x, y)
    assert out.dtype == tangent.dtype == (np.float64 if fn is fnp.float_power else np.float32)
    assert [c.dtype for c in vjp_fn(np.ones_like(out))] == [np.float32, np.float32]


def test_power_with_plain_base_keeps_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    _, tangent = fg.jvp(lambda y: 2.0**y, (x,), (np.ones_like(x),))
    assert tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, math.log(2.0) * 2.0**x, rtol=1e-6)


# --- kinks and edges, pinned exactly ---------------------------------------------------------------


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(("fn", "wins"), [(fnp.maximum, (1.0, 0.0)), (fnp.minimum, (0.0, 1.0))])
def test_maximum_minimum_split_ties_evenly(fn, wins):
    dx, dy = fg.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(dx, [0.5, wins[0]])
    np.testing.assert_array_equal(dy, [0.5, wins[1]])


@pytest.mark.parametrize("fn", [fnp.fmax, fnp.fmin])
def test_fmax_fmin_split_ties_and_skip_nan(fn, no_warnings):
    x = np.array([1.0, np.nan, 2.0])
    y = np.array([1.0, 3.0, np.nan])
    dx, dy = fg.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(dx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(dy, [0.5, 1.0, 0.0])


def test_clip_bounds_none_and_arrays():
    x = np.array([-1.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.clip(v, 0.0, 1.0)))(x), [0.0, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.clip(v, None, 1.0)))(x), [1.0, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.clip(v, 0.0, None)))(x), [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(v.clip(max=1.0)))(x), [1.0, 1.0, 0.5, 0.0])
    low = np.array([0.0, 1.0, 0.0, 0.0])
    grad_low = fg.grad(lambda lo: fnp.sum(fnp.clip(x, lo, 1.5)))(low)
    np.testing.assert_array_equal(grad_low, [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(fnp.clip(x, low, 1.5), np.clip(x, low, 1.5))
    with_nan = np.array([np.nan, -1.0, 2.0])
    out, _ = fg.vjp(lambda v: fnp.clip(v, 0.0, 1.0), with_nan)
    np.testing.assert_array_equal(out, np.clip(with_nan, 0.0, 1.0))


@pytest.mark.parametrize("fn", [fnp.abs, fnp.absolute, fnp.fabs])
def test_abs_has_zero_derivative_at_zero(fn):
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fn(x)))(np.array([-1.0, 0.0, 2.0])), [-1.0, 0.0, 1.0])
    assert fg.jvp(fn, (0.0,), (1.0,))[1] == 0.0


def test_abs_of_complex_follows_jax_and_is_finite_at_zero(no_warnings):
    z = np.array([3.0 + 4.0j, 0.0j])
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.abs(z)))(z), [0.6 - 0.8j, 0.0])
    check_grads(fnp.abs, (np.array([1.0 - 2.0j, -0.5 + 0.3j]),), order=2)


def test_sinc_is_smooth_at_zero(no_warnings):
    d1 = fg.grad(fnp.sinc)
    d2 = fg.grad(d1)
    d3 = fg.grad(d2)
    d4 = fg.grad(d3)
    assert d1(0.0) == 0.0
    assert d2(0.0) == pytest.approx(-(np.pi**2) / 3, rel=1e-14)
    assert d3(0.0) == 0.0
    assert d4(0.0) == pytest.approx(np.pi**4 / 5, rel=1e-12)
    # the series and the closed form meet without a jump at |pi x| = 0.5
    for x in (0.5 / np.pi - 1e-9, 0.5 / np.pi + 1e-9):
        assert d1(x) == pytest.approx(np.pi * (np.cos(np.pi * x) - np.sinc(x)) / (np.pi * x), rel=1e-7)
    np.testing.assert_allclose(fg.jacfwd(fnp.sinc)(np.array([0.0, 1e-3])), fg.jacrev(fnp.sinc)(np.array([0.0, 1e-3])))


@pytest.mark.parametrize(
    ("fn", "x", "y", "expected"),
    [
        (fnp.logaddexp, -np.inf, -np.inf, (0.5, 0.5)),
        (fnp.logaddexp, -np.inf, 0.0, (0.0, 1.0)),
        (fnp.logaddexp, np.inf, 1.0, (1.0, 0.0)),
        (fnp.logaddexp, np.inf, np.inf, (0.5, 0.5)),
        (fnp.logaddexp, 0.0, 0.0, (0.5, 0.5)),
        (fnp.logaddexp2, -np.inf, -np.inf, (0.5, 0.5)),
        (fnp.logaddexp2, 3.0, -np.inf, (1.0, 0.0)),
    ],
)
def test_logaddexp_is_finite_at_infinities(fn, x, y, expected, no_warnings):
    grads = fg.grad(fn, argnums=(0, 1))(x, y)
    assert tuple(float(g) for g in grads) == expected
    forward = fg.jvp(fn, (x, y), (1.0, 0.0))[1]
    assert float(forward) == expected[0]


def test_logaddexp_is_stable_for_large_arguments(no_warnings):
    dx, dy = fg.grad(fnp.logaddexp, argnums=(0, 1))(1000.0, 999.0)
    assert dx == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert dy == pytest.approx(1 / (1 + np.exp(1.0)))


def test_power_at_zero_base_and_negative_base(no_warnings):
    # d/dy 0**y = 0 (the limit for y > 0); d/dx 0**2 = 0; no NaN, no warnings
    dx, dy = fg.grad(fnp.power, argnums=(0, 1))(0.0, 2.0)
    assert (dx, dy) == (0.0, 0.0)
    assert fg.grad(lambda x: x**0)(0.0) == 0.0
    assert fg.grad(fg.grad(lambda x: x**2))(0.0) == 2.0
    # negative bases with integer exponents
    assert fg.grad(lambda x: x**3)(-2.0) == 12.0
    assert fg.grad(fg.grad(lambda x: x**3))(-2.0) == -12.0
    assert fg.grad(lambda x: x**-2)(-2.0) == pytest.approx(0.25)
    assert fg.grad(lambda x: fnp.power(x, np.array(3)))(-2.0) == 12.0
    # a traced exponent on a negative base: d/dx is exact, d/dy has no real value (NaN, as in JAX)
    dx, dy = fg.grad(fnp.power, argnums=(0, 1))(-2.0, 3.0)
    assert dx == 12.0
    assert np.isnan(dy)
    # ... also when the base is itself traced by an outer transform
    inner_dy, _ = fg.jvp(lambda x: fg.grad(fnp.power, argnums=1)(x, 3.0), (-2.0,), (1.0,))
    assert np.isnan(inner_dy)
    check_grads(lambda x: x**3 + x**-2, (np.array([-1.5, -0.7, 1.2]),), order=3)


def test_power_with_plain_zero_base(no_warnings):
    y = np.array([1.0, 2.0])
    np.testing.assert_array_equal(fg.grad(lambda y: fnp.sum(fnp.power(0.0, y)))(y), [0.0, 0.0])
    np.testing.assert_allclose(fg.grad(lambda y: fnp.sum(2.0**y))(y), np.log(2.0) * 2.0**y)


@pytest.mark.parametrize("fn", [fnp.hypot, fnp.arctan2])
def test_hypot_and_arctan2_are_zero_at_the_origin(fn, no_warnings):
    grads = fg.grad(fn, argnums=(0, 1))(0.0, 0.0)
    assert tuple(float(g) for g in grads) == (0.0, 0.0)


def test_arctan2_across_quadrants():
    y = np.array([1.0, 1.0, -1.0, -1.0])
    x = np.array([1.0, -1.0, -1.0, 1.0])
    dy, dx = fg.grad(lambda y, x: fnp.sum(fnp.arctan2(y, x)), argnums=(0, 1))(y, x)
    np.testing.assert_allclose(dy, x / 2)
    np.testing.assert_allclose(dx, -y / 2)


def test_remainder_and_fmod_quotients():
    # remainder(-2.5, 2) = 1.5 = -2.5 - (-2)*2 ; fmod(-2.5, 2) = -0.5 = -2.5 - (-1)*2
    assert fg.grad(fnp.remainder, argnums=(0, 1))(-2.5, 2.0) == (1.0, 2.0)
    assert fg.grad(fnp.fmod, argnums=(0, 1))(-2.5, 2.0) == (1.0, 1.0)
    assert fg.grad(lambda x: x % 2.0)(-2.5) == 1.0


def test_copysign_and_ldexp():
    x = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.copysign(v, np.array([1.0, -1.0]))))(x), [-1, -1])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.ldexp(v, np.array([1, 3]))))(x), [2.0, 8.0])
    check_grads(lambda v: fnp.ldexp(v, np.array([1, -2])), (x,), order=2)


@pytest.mark.parametrize(
    "fn",
    [fnp.floor, fnp.ceil, fnp.round, fnp.around, fnp.rint, fnp.trunc, fnp.fix, fnp.spacing],
    ids=lambda f: getattr(f, "name", getattr(f, "__name__", "")),
)
def test_zero_derivative_functions_give_plain_values(fn):
    x = np.array([-1.6, 0.4, 2.5])
    out = fg.grad(lambda v: fnp.sum(fn(v) * v))(x)
    np.testing.assert_array_equal(out, fn(x))
    assert fg.jvp(lambda v: fnp.sum(fn(v)), (x,), (np.ones(3),))[1] == 0.0
    traced_types = []
    fg.grad(lambda v: traced_types.append(type(fn(v))) or fnp.sum(v))(x)
    assert traced_types == [np.ndarray]


def test_sign_real_is_flat_and_complex_is_z_over_abs_z():
    x = np.array([-1.6, 0.4, 2.5])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.sign(v) * v))(x), np.sign(x))
    assert fg.jvp(lambda v: fnp.sum(fnp.sign(v)), (x,), (np.ones(3),))[1] == 0.0
    # NumPy 2: sign(z) = z / |z| for complex z, differentiable away from 0 (a zero derivative would be wrong)
    z = np.array([1 + 1j, -0.5 + 2j, 0.3 - 0.1j])
    np.testing.assert_allclose(fnp.sign(z), z / np.abs(z))
    for dtype in (np.complex128, np.complex64):
        check_grads(fnp.sign, (z.astype(dtype),), order=2, modes=("fwd", "rev"))
    check_grads(lambda z: fnp.sign(z) * z * z, (z,), order=2, modes=("fwd", "rev"))
    # at 0 the derivative is taken as 0, like abs
    assert fg.jvp(fnp.sign, (0j,), (1 + 1j,))[1] == 0


def test_round_decimals_and_heaviside_nextafter():
    x = np.array([1.234, -0.5])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.round(v, 1) * v))(x), np.round(x, 1))
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.heaviside(v, 0.5) * v))(x), [1.0, 0.0])
    h = np.array([0.25, 0.75, 0.5])
    x0 = np.array([0.0, -1.0, 2.0])
    np.testing.assert_array_equal(fg.grad(lambda h: fnp.sum(fnp.heaviside(x0, h)))(h), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(fg.jacfwd(lambda h: fnp.heaviside(x0, h))(h), np.diag([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(fnp.nextafter(v, 0.0) * v))(x), 2 * x, rtol=1e-15)
    np.testing.assert_array_equal(fg.jacfwd(lambda v: fnp.nextafter(v, 0.0))(x), np.eye(2))


def test_nan_to_num_passes_finite_values_only(no_warnings):
    x = np.array([1.0, np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.nan_to_num(v, posinf=5.0)))(x), [1, 0, 0, 0])
    np.testing.assert_array_equal(fnp.nan_to_num(fg.stop_gradient(x), posinf=5.0), np.nan_to_num(x, posinf=5.0))
    z = np.array([complex(1.0, np.nan), complex(np.inf, 2.0)])
    out, vjp_fn = fg.vjp(lambda v: fnp.nan_to_num(v), z)
    np.testing.assert_array_equal(out, np.nan_to_num(z))
    np.testing.assert_array_equal(vjp_fn(np.ones(2, complex) * (1 + 1j))[0], [1.0, 1.0j])


def test_constant_derivatives_of_angle_conversions():
    assert fg.grad(fnp.deg2rad)(10.0) == np.pi / 180
    assert fg.grad(fnp.degrees)(1.0) == 180 / np.pi
    assert fg.grad(fg.grad(fnp.radians))(1.0) == 0.0


def test_real_if_close_drops_a_negligible_imaginary_part():
    z = np.array([1.5 + 1e-18j, -2.0 + 0j])
    out, vjp_fn = fg.vjp(fnp.real_if_close, z)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.real_if_close(z))
    assert vjp_fn(np.array([1.0, 2.0]))[0].tolist() == [1.0, 2.0]
    z = np.array([1.5 + 1j, -2.0 + 0j])
    out, vjp_fn = fg.vjp(fnp.real_if_close, z)
    assert out.dtype == np.complex128
    assert vjp_fn(np.array([1.0j, 2.0]))[0].tolist() == [1.0j, 2.0]


def test_complex_parts_follow_jax():
    z = 1.0 + 2.0j
    assert fg.grad(lambda z: fnp.real(z))(z) == 1.0
    assert fg.grad(lambda z: fnp.imag(z))(z) == -1.0j
    assert fg.grad(lambda z: fnp.abs(z) ** 2)(z) == 2 * np.conj(z)
    assert fg.grad(lambda z: fnp.angle(z))(z) == pytest.approx(complex(-2 / 5, -1 / 5))
    assert fg.grad(lambda x: fnp.angle(x) + x)(-1.0) == 1.0
    check_grads(lambda z: fnp.real(fnp.conj(z) * fnp.sin(z)), (np.array([0.5 + 0.2j, -1.0 + 1.0j]),), order=2)


# names of funcgrad._prims._ufuncs tested by a dedicated test above rather than by the tables
TESTED_SEPARATELY = {
    "ldexp": test_copysign_and_ldexp,
    "heaviside": test_round_decimals_and_heaviside_nextafter,
    "nextafter": test_round_decimals_and_heaviside_nextafter,
    "round": test_zero_derivative_functions_give_plain_values,
    "around": test_zero_derivative_functions_give_plain_values,
    "floor": test_zero_derivative_functions_give_plain_values,
    "ceil": test_zero_derivative_functions_give_plain_values,
    "rint": test_zero_derivative_functions_give_plain_values,
    "trunc": test_zero_derivative_functions_give_plain_values,
    "fix": test_zero_derivative_functions_give_plain_values,
    "sign": test_zero_derivative_functions_give_plain_values,
    "spacing": test_zero_derivative_functions_give_plain_values,
    "clip": test_clip_bounds_none_and_arrays,
    "real_if_close": test_real_if_close_drops_a_negligible_imaginary_part,
}
# tested in tests/test_dispatch.py, through numpy.<name> and funcgrad.numpy.<name>
ELSEWHERE = {"divmod", "modf", "frexp"}


def test_every_elementwise_function_is_tested():
    from funcgrad._prims import _ufuncs

    in_tables = {entry[1] for entry in UNARY + BINARY}
    untested = [
        name
        for name in _ufuncs.__all__
        if getattr(_ufuncs, name) not in in_tables and name not in TESTED_SEPARATELY and name not in ELSEWHERE
    ]
    assert untested == []
