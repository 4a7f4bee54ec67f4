"""``funcgrad.numpy.fft``: every transform against finite differences (both modes, second order),
NumPy's values, jacfwd vs jacrev, and a direct dot-product test of each transpose."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import R, rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

F32, F64, C64, C128 = np.float32, np.float64, np.complex64, np.complex128


def realified(f: Any, x: Any) -> tuple[Any, Any]:
    """``f`` as a real function of a real array, so jacfwd and jacrev must agree."""
    complex_in = np.iscomplexobj(x)

    def g(u: Any) -> Any:
        out = f(u[0] + 1j * u[1] if complex_in else u)
        if np.iscomplexobj(fg.stop_gradient(out)):
            return fnp.stack([fnp.real(out), fnp.imag(out)])
        return out

    return g, (np.stack([x.real, x.imag]) if complex_in else x)


def case(name: str, kw: dict[str, Any], shape: tuple[int, ...], dtype: Any) -> Any:
    return pytest.param(name, kw, rnd(*shape, dtype=dtype), id=f"{name}-{kw}-{shape}-{np.dtype(dtype).name}")


ONE_D = [
    # the 1-D transforms: n (pad / cut / odd / even), axis, norm, real and complex inputs
    *[case(name, {}, (4,), dt) for name in ("fft", "ifft") for dt in (F64, C128, F32, C64)],
    *[case(name, {"n": 6}, (4,), C128) for name in ("fft", "ifft")],
    *[case(name, {"n": 3, "axis": 0}, (4, 2), F64) for name in ("fft", "ifft")],
    *[case("fft", {"norm": norm}, (3, 2), C128) for norm in ("backward", "ortho", "forward")],
    *[case("ifft", {"norm": norm, "axis": -2}, (3, 2), C128) for norm in ("ortho", "forward")],
    *[case("rfft", {}, (4,), dt) for dt in (F64, F32)],
    case("rfft", {"n": 5}, (4,), F64),
    case("rfft", {"n": 2, "axis": 0}, (3, 2), F64),
    case("rfft", {"norm": "ortho"}, (2, 3), F64),
    case("rfft", {"norm": "forward", "n": 6}, (2, 3), F32),
    *[case("irfft", {}, (3,), dt) for dt in (C128, C64, F64)],
    case("irfft", {"n": 5}, (3,), C128),
    case("irfft", {"n": 3}, (4,), C128),
    case("irfft", {"n": 8, "axis": 0}, (3, 2), C128),
    case("irfft", {"norm": "ortho"}, (2, 4), C128),
    case("irfft", {"norm": "forward", "n": 7}, (2, 4), C128),
    case("hfft", {}, (3,), C128),
    case("hfft", {"n": 5, "norm": "ortho"}, (3,), C128),
    case("hfft", {"norm": "forward"}, (2, 3), F64),
    case("ihfft", {}, (4,), F64),
    case("ihfft", {"n": 5, "norm": "forward"}, (4,), F64),
]
N_D = [
    # the n-D transforms: default axes, s (pad / cut), reordered axes, norms
    *[case(name, {}, (2, 3), dt) for name in ("fft2", "ifft2", "fftn", "ifftn") for dt in (F64, C128)],
    case("fftn", {}, (2, 2, 3), C64),
    case("fftn", {"s": (3, 2), "axes": (0, 1)}, (2, 3), C128),
    case("ifftn", {"s": (3, 4), "axes": (0, 2), "norm": "ortho"}, (2, 2, 3), C128),
    case("fft2", {"axes": (0, 1), "norm": "forward"}, (2, 3, 2), C128),
    case("fftn", {"axes": (1,)}, (2, 3), C128),
    case("rfft2", {}, (2, 4), F64),
    case("rfftn", {}, (2, 3), F32),
    case("rfftn", {"s": (3, 5), "axes": (0, 1)}, (2, 3), F64),
    case("rfftn", {"axes": (1, 0)}, (2, 3), F64),
    case("rfftn", {"s": (2, 2), "axes": (0, 2), "norm": "ortho"}, (3, 2, 4), F64),
    case("irfft2", {}, (2, 3), C128),
    case("irfftn", {}, (2, 3), C64),
    case("irfftn", {"s": (3, 5), "axes": (-2, -1)}, (2, 3), C128),
    case("irfftn", {"s": (2, 4), "axes": (0, 1)}, (3, 4), C128),
    case("irfftn", {"axes": (1, 0), "norm": "forward"}, (3, 2), C128),
    case("irfftn", {"s": (3, 4), "axes": (0, 2), "norm": "ortho"}, (2, 2, 3), C128),
    # shifts
    *[case(name, {}, (3, 4), dt) for name in ("fftshift", "ifftshift") for dt in (F64, C128)],
    *[case(name, {"axes": 0}, (5, 2), F64) for name in ("fftshift", "ifftshift")],
    *[case(name, {"axes": (-1,)}, (2, 5), F32) for name in ("fftshift", "ifftshift")],
]


def transform(name: str, kw: dict[str, Any]) -> tuple[Any, Any]:
    return (lambda x: getattr(fnp.fft, name)(x, **kw)), (lambda x: getattr(np.fft, name)(x, **kw))


@pytest.mark.parametrize("name, kw, x", ONE_D + N_D)
def test_transform(name: str, kw: dict[str, Any], x: np.ndarray) -> None:
    f, numpy_f = transform(name, kw)
    check_grads(f, (x,), modes=("fwd", "rev"), order=2)
    value, _ = fg.vjp(f, x)
    expected = numpy_f(x)
    assert value.dtype == expected.dtype
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5)
    g, u = realified(f, x)
    np.testing.assert_allclose(fg.jacfwd(g)(u), fg.jacrev(g)(u), rtol=1e-4, atol=1e-5)


TRANSPOSE_CASES = [
    pytest.param(name, kw, shape, id=f"{name}-{kw}-{shape}")
    for name, kw, shape in [
        ("fft", {}, (5,)),
        ("fft", {"n": 7, "norm": "ortho"}, (5,)),
        ("ifft", {"n": 3, "norm": "forward"}, (5,)),
        ("fftn", {"s": (3, 5), "axes": (0, 1)}, (4, 2)),
        ("ifft2", {"s": (2, 6), "norm": "ortho"}, (3, 4)),
        ("rfft", {}, (6,)),
        ("rfft", {"n": 7}, (5,)),
        ("rfftn", {"s": (4, 3), "axes": (0, 1)}, (3, 4)),
        ("irfft", {}, (4,)),
        ("irfft", {"n": 9}, (4,)),
        ("irfft", {"n": 4, "norm": "ortho"}, (6,)),
        ("irfftn", {"s": (3, 6), "axes": (0, 1), "norm": "forward"}, (2, 5)),
        ("hfft", {"n": 7}, (3,)),
        ("ihfft", {"n": 6}, (5,)),
    ]
]


@pytest.mark.parametrize("name, kw, shape", TRANSPOSE_CASES)
def test_transpose_dot_product(name: str, kw: dict[str, Any], shape: tuple[int, ...]) -> None:
    """<L x, y> == <x, L^T y> under the pairing Re(sum(a * b)) (JAX's transpose, not the adjoint)."""
    f, numpy_f = transform(name, kw)
    real_in = name in ("rfft", "rfftn", "ihfft")
    x = rnd(*shape, dtype=F64 if real_in else C128)
    out = numpy_f(x)
    y = rnd(*out.shape, dtype=C128 if np.iscomplexobj(out) else F64)
    _, vjp_fn = fg.vjp(f, x)
    (x_bar,) = vjp_fn(y)
    assert x_bar.shape == x.shape and x_bar.dtype == x.dtype
    lhs = np.sum(out * y)
    rhs = np.sum(x * x_bar)
    np.testing.assert_allclose(lhs.real, rhs.real, rtol=1e-10, atol=1e-10)
    if name in ("fft", "ifft", "fftn", "ifft2"):  # complex-linear: the complex pairing matches too
        np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def test_fft_transpose_is_unnormalised_fft() -> None:
    # the DFT matrix is symmetric, so the transpose of fft is fft itself (not n * ifft, the adjoint)
    x, y = rnd(4, dtype=C128), rnd(4, dtype=C128)
    (x_bar,) = fg.vjp(fnp.fft.fft, x)[1](y)
    np.testing.assert_allclose(x_bar, np.fft.fft(y))


def test_real_input_gets_real_cotangent() -> None:
    x = rnd(2, 4, dtype=F32)
    grad = fg.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.fft2(x)) ** 2))(x)
    assert grad.dtype == np.float32
    # Parseval: sum |fft2 x|^2 = N sum x^2
    np.testing.assert_allclose(grad, 2 * 8 * x, rtol=1e-4, atol=1e-4)
    from funcgrad.numpy.fft import fftn_p

    y = rnd(2, 4, dtype=C64)
    cot = fftn_p.vjps[0](y, y, x, axes=(-2, -1), sizes=(2, 4), norm="backward", inverse=False)
    assert cot.dtype == np.float32 and cot.shape == x.shape


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.fft.fft(x),
        lambda x: np.fft.ifft2(x, norm="ortho"),
        lambda x: np.fft.rfftn(x, s=(2, 6), axes=(0, 1)),
        lambda x: np.fft.irfft(x, n=4),
        lambda x: np.fft.fftshift(x),
        lambda x: np.fft.ifftshift(x, axes=1),
        lambda x: np.fft.hfft(x),
        lambda x: np.fft.ihfft(x),
    ],
)
def test_plain_numpy_dispatches(call: Any) -> None:
    """``numpy.fft.fft(tracer)`` reaches funcgrad through ``__array_function__``."""
    x = rnd(2, 3)
    check_grads(call, (x,), order=1)
    np.testing.assert_allclose(fg.vjp(call, x)[0], call(x))


def test_shift_values() -> None:
    x = np.arange(12.0).reshape(3, 4)
    for axes in (None, 0, 1, (0, 1), (-1,)):
        np.testing.assert_array_equal(fg.vjp(lambda x: fnp.fft.fftshift(x, axes), x)[0], np.fft.fftshift(x, axes))
        np.testing.assert_array_equal(fg.vjp(lambda x: fnp.fft.ifftshift(x, axes), x)[0], np.fft.ifftshift(x, axes))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x: fnp.fft.rfft(x * 1j), TypeError, "takes a real input"),
        (lambda x: fnp.fft.fftn(x, axes=(0, 0)), ValueError, "distinct axes"),
        (lambda x: fnp.fft.fft(x, norm="unitary"), ValueError, "Invalid norm"),
        (lambda x: fnp.fft.fft(x, n=0), ValueError, "invalid number of FFT data points"),
        (lambda x: fnp.fft.fftn(x, s=(2,), axes=(0, 1)), ValueError, "same length"),
        (lambda x: fnp.fft.fft(x, axis=2), np.exceptions.AxisError, "axis 2"),
        (lambda x: fnp.fft.fft(x, out=np.empty((2, 3), complex)), TypeError, "stored into a plain NumPy array"),
    ],
)
def test_bad_input_raises(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        fg.grad(lambda x: fnp.sum(fnp.real(call(x))))(rnd(2, 3))


def test_s_without_axes_warns_like_numpy() -> None:
    x = rnd(2, 3)
    with pytest.warns(DeprecationWarning, match="axes"):
        value, _ = fg.vjp(lambda x: fnp.fft.rfftn(x, s=(4,)), x)
    with pytest.warns(DeprecationWarning):
        expected = np.fft.rfftn(x, s=(4,))
    np.testing.assert_allclose(value, expected)


@pytest.mark.parametrize(
    "prim_name, x, params",
    [
        ("fftn_p", R(3, 2, dtype=C128, seed=1), {"axes": (-2,), "sizes": (4,), "norm": "ortho", "inverse": False}),
        ("fftn_p", R(3, 2, seed=2), {"axes": (-1, -2), "sizes": (2, 2), "norm": "backward", "inverse": True}),
        ("rfftn_p", R(2, 3, seed=3), {"axes": (-2, -1), "sizes": (2, 5), "norm": "forward"}),
        ("irfftn_p", R(2, 3, dtype=C128, seed=4), {"axes": (-1,), "sizes": (5,), "norm": "backward"}),
    ],
)
def test_forward_rules_honour_a_tangent_batch(prim_name: str, x: np.ndarray, params: dict[str, Any]) -> None:
    """The rules are declared batched: a stack of tangents gives the stack of their images."""
    import funcgrad.numpy.fft as fft_module

    prim = getattr(fft_module, prim_name)
    assert prim.batch_jvp
    ans = prim(x, **params)
    tangents = np.stack([rnd(*x.shape, dtype=x.dtype) for _ in range(3)])
    batched = prim.jvps[0](tangents, ans, x, **params)
    for k in range(3):
        np.testing.assert_allclose(batched[k], prim.jvps[0](tangents[k], ans, x, **params))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: fnp.sum(fnp.abs(fnp.fft.fft(x, n=5)) ** 4),
        lambda x: fnp.sum(fnp.real(fnp.fft.ifft2(fnp.sin(x) + 0j, norm="ortho")) ** 3),
        lambda x: fnp.sum(fnp.fft.irfft(fnp.fft.rfft(x) ** 2, n=3) ** 2),
        lambda x: fnp.sum(fnp.fft.irfftn(fnp.fft.rfftn(x, axes=(0, 1)) * (1 + 1j), s=(4, 5), axes=(0, 1)) ** 3),
        lambda x: fnp.sum(fnp.fft.fftshift(x) * fnp.fft.ifftshift(x) ** 2),
    ],
)
def test_hessian_forward_over_reverse_matches_reverse_over_reverse(f: Any) -> None:
    x = rnd(3, 4)
    np.testing.assert_allclose(fg.hessian(f)(x), fg.jacrev(fg.jacrev(f))(x), rtol=1e-8, atol=1e-8)
