"""funcgrad.scipy.signal: convolve/correlate equal SciPy's in every mode and method (1-D to 3-D, either
input larger, complex, float32); derivatives in both inputs agree with finite differences to order 2."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import traced_value

pytest.importorskip("scipy", reason="funcgrad.scipy needs the scipy extra")
import scipy.signal as ss  # noqa: E402

import funcgrad as fg  # noqa: E402
from funcgrad.scipy import signal as fsig  # noqa: E402
from funcgrad.testing import check_grads  # noqa: E402

RNG = np.random.default_rng(3)

SHAPES = [((5,), (2,)), ((2,), (5,)), ((4,), (4,)), ((3, 4), (2, 2)), ((2, 2), (3, 4)), ((2, 3, 2), (2, 2, 2))]


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_values_and_derivatives(name: str, mode: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    a, v = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    ours, theirs = getattr(fsig, name), getattr(ss, name)
    f = lambda a, v: ours(a, v, mode=mode)
    for method in ("direct", "fft"):
        expected = theirs(a, v, mode=mode, method=method)
        np.testing.assert_allclose(traced_value(lambda a, v: ours(a, v, mode=mode, method=method), a, v), expected,
                                   atol=1e-12)  # fmt: skip
    assert traced_value(f, a, v).shape == theirs(a, v, mode=mode).shape
    check_grads(f, (a, v), order=2)


@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_complex_float32_fft_and_jacobians(name: str) -> None:
    ours, theirs = getattr(fsig, name), getattr(ss, name)
    a = RNG.standard_normal((4, 3)) + 1j * RNG.standard_normal((4, 3))
    v = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
    np.testing.assert_allclose(traced_value(lambda a, v: ours(a, v, "same"), a, v), theirs(a, v, "same"))
    check_grads(lambda a, v: ours(a, v, "same"), (a, v), order=2)
    a32, v32 = RNG.standard_normal(6).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    got = traced_value(lambda a, v: ours(a, v, "valid"), a32, v32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, theirs(a32, v32, "valid"), rtol=1e-5)
    check_grads(lambda a, v: ours(a, v, "valid", method="direct"), (a32, v32), order=2)
    check_grads(lambda a, v: ours(a, v, "full", method="fft"), (a, v), order=2)
    x, k = RNG.standard_normal(5), RNG.standard_normal(3)
    np.testing.assert_allclose(fg.jacfwd(lambda x: ours(x, k, "same"))(x), fg.jacrev(lambda x: ours(x, k, "same"))(x))
    # the Jacobian of a convolution in its first input is the Toeplitz matrix of the kernel
    if name == "convolve":
        toeplitz = np.array([[k[i - j] if 0 <= i - j < 3 else 0.0 for j in range(5)] for i in range(7)])
        np.testing.assert_allclose(fg.jacfwd(lambda x: ours(x, k))(x), toeplitz)


def test_plain_inputs_are_scipys_own_and_lists_of_traced_values_work() -> None:
    a, v = RNG.standard_normal((3, 3)), RNG.standard_normal((2, 2))
    np.testing.assert_array_equal(fsig.convolve(a, v), ss.convolve(a, v))
    np.testing.assert_array_equal(fsig.correlate(a, v, "same"), ss.correlate(a, v, "same"))
    g = fg.grad(lambda t: fsig.convolve([t, 2 * t], np.array([1.0, 1.0])).sum())(1.0)
    assert g == 6.0


def test_errors_name_the_problem() -> None:
    x = np.ones(3)
    with pytest.raises(ValueError, match="mode"):
        fg.grad(lambda x: fsig.convolve(x, x, mode="middle").sum())(x)
    with pytest.raises(ValueError, match="method"):
        fg.grad(lambda x: fsig.correlate(x, x, method="slow").sum())(x)
    with pytest.raises(ValueError, match="same dimensionality"):
        fg.grad(lambda x: fsig.convolve(x, np.ones((2, 2))).sum())(x)
    with pytest.raises(ValueError, match="at least as large"):
        fg.grad(lambda a: fsig.convolve(a, np.ones((2, 3)), mode="valid").sum())(np.ones((3, 2)))
