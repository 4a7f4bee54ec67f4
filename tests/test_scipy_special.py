"""funcgrad.scipy.special: SciPy's values on plain inputs, derivatives of every order, named errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special", reason="funcgrad.scipy needs the scipy extra")

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.scipy import special  # noqa: E402
from funcgrad.testing import check_grads  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

x_pos = np.array([0.4, 1.3, 3.7])
x_real = np.array([-1.6, 0.3, 2.2])
x_unit = np.array([0.15, 0.5, 0.85])
column = np.array([[0.7], [2.5]])

# (name, args): every argument differentiable, checked to order 2 in both modes
SMOOTH: list[tuple[str, tuple[Any, ...]]] = [
    ("gammaln", (np.array([0.4, 1.3, 3.7, -0.5]),)),
    ("digamma", (x_pos,)),
    ("gamma", (np.array([0.4, 1.3, 3.2, -1.5]),)),
    ("rgamma", (np.array([0.4, 1.3, 3.2, -1.5]),)),
    ("beta", (x_pos, column)),
    ("betaln", (x_pos, column)),
    ("erf", (x_real,)),
    ("erfc", (x_real,)),
    ("erfinv", (np.array([-0.7, 0.1, 0.8]),)),
    ("erfcinv", (np.array([0.3, 1.0, 1.6]),)),
    ("ndtr", (np.array([-6.0, -1.0, 0.5, 3.0]),)),
    ("log_ndtr", (np.array([-30.0, -6.0, -1.0, 0.5, 3.0]),)),
    ("ndtri", (np.array([0.05, 0.5, 0.9]),)),
    ("expit", (x_real,)),
    ("log_expit", (np.array([-40.0, -1.6, 0.3, 2.2, 40.0]),)),
    ("logit", (x_unit,)),
    ("xlogy", (x_real, column)),
    ("xlog1py", (x_real, np.array([[-0.5], [1.5]]))),
    ("entr", (x_pos,)),
    ("i0", (x_real,)),
    ("i1", (x_real,)),
    ("j0", (x_real,)),
    ("j1", (x_real,)),
    ("y0", (x_pos,)),
    ("y1", (x_pos,)),
    ("gammaln", (np.float32([0.4, 1.3, 3.7]),)),
    ("digamma", (np.float32([0.4, 1.3, 3.7]),)),
    ("erf", (np.float32([-1.2, 0.3, 2.0]),)),
    ("expit", (np.float32([-1.2, 0.3, 2.0]),)),
    ("xlogy", (np.float32([0.5, 2.0]), np.float32([0.3, 1.7]))),
    ("i0", (np.float32([-1.2, 0.3, 2.0]),)),
    ("j0", (np.float32([-1.2, 0.3, 2.0]),)),
    ("erf", (np.array([0.3 + 0.4j, -0.7 + 0.2j]),)),
]

# (name, plain leading arguments, differentiable trailing arguments)
IN_LAST: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = [
    ("polygamma", (np.array([[0], [1], [3]]),), (x_pos,)),
    ("iv", (np.array([[0.0], [1.0], [3.0]]),), (x_real,)),
    ("ive", (np.array([[0.0], [1.0], [3.0]]),), (x_real,)),
    ("jv", (np.array([[0.0], [1.0], [3.0]]),), (x_real,)),
    ("iv", (np.array([[0.5], [1.5]]),), (x_pos,)),
    ("ive", (np.array([[0.5], [1.5]]),), (x_pos,)),
    ("jv", (np.array([[0.5], [1.5]]),), (x_pos,)),
    ("jn", (np.array([[0], [2]]),), (x_real,)),
    ("yn", (np.array([[0], [1], [3]]),), (x_pos,)),
    ("gammainc", (np.array([[0.5], [2.0], [5.0]]),), (x_pos,)),
    ("gammaincc", (np.array([[0.5], [2.0], [5.0]]),), (x_pos,)),
    ("betainc", (np.array([[0.7], [2.5]]), np.array([[1.5], [3.0]])), (x_unit,)),
    ("betaincc", (np.array([[0.7], [2.5]]), np.array([[1.5], [3.0]])), (x_unit,)),
    ("stdtr", (np.array([[0.7], [3.0], [30.0]]),), (x_real,)),
    ("chdtr", (np.array([[0.7], [3.0]]),), (x_pos,)),
    ("chdtrc", (np.array([[0.7], [3.0]]),), (x_pos,)),
    ("iv", (np.float32(1.5),), (np.float32([0.5, 2.0]),)),
]


def scipy_of(name: str) -> Callable[..., Any]:
    return getattr(sc, name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name, args", SMOOTH, ids=[f"{n}-{np.result_type(*a)}" for n, a in SMOOTH])
def test_elementwise_value_is_scipys_and_derivatives_check(name: str, args: tuple[Any, ...]) -> None:
    ours = getattr(special, name)
    expected = scipy_of(name)(*args)
    got = ours(*args)
    np.testing.assert_array_equal(got, expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    check_grads(lambda *a: ours(*a), args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name, fixed, args", IN_LAST, ids=[f"{n}-{np.result_type(*a)}" for n, _, a in IN_LAST])
def test_functions_of_an_order_or_shape_differentiate_in_x(
    name: str, fixed: tuple[Any, ...], args: tuple[Any, ...]
) -> None:
    ours = getattr(special, name)
    np.testing.assert_array_equal(ours(*fixed, *args), scipy_of(name)(*fixed, *args))
    check_grads(lambda *a: ours(*fixed, *a), args, order=2, modes=("fwd", "rev"))


def test_complex_gamma_differentiates_once() -> None:
    # second order would need polygamma(1, z), which SciPy has only for real z
    z = np.array([1.3 + 0.4j, 2.7 - 0.2j])
    np.testing.assert_array_equal(special.gamma(z), sc.gamma(z))
    check_grads(lambda v: special.gamma(v), (z,), order=1)
    check_grads(lambda v: special.rgamma(v), (z,), order=1)


def test_float32_stays_float32() -> None:
    x = np.float32([0.5, 1.5])
    for fun in (special.gammaln, special.erf, special.expit, special.i0, lambda v: special.logsumexp(v)):
        gradient = fg.grad(lambda v: fnp.sum(fun(v)))(x)
        assert gradient.dtype == np.float32
        assert np.asarray(fun(x)).dtype == np.float32
        assert fg.value_and_grad(lambda v: fnp.sum(fun(v)))(x)[0].dtype == np.float32


def test_gammaln_derivatives_are_the_polygamma_tower() -> None:
    x = 2.3
    d1, d2, d3 = fg.grad(special.gammaln), fg.grad(fg.grad(special.gammaln)), fg.grad(fg.grad(fg.grad(special.gammaln)))
    assert d1(x) == sc.digamma(x)
    assert d2(x) == sc.polygamma(1, x)
    assert d3(x) == sc.polygamma(2, x)


def test_bessel_derivatives_follow_the_recurrences() -> None:
    x = np.array([0.5, 1.7, 4.0])
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.i0(t)))(x), sc.i1(x), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.j0(t)))(x), -sc.j1(x), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.iv(2.5, t)))(x), sc.ivp(2.5, x), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.jv(2.5, t)))(x), sc.jvp(2.5, x), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.yn(3, t)))(x), sc.yvp(3, x), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(special.jv(1, t)), argnums=0)(x), sc.jvp(1, x, 1), rtol=1e-12)
    second = fg.grad(fg.grad(lambda t: special.iv(1.0, t)))
    assert second(1.3) == pytest.approx(sc.ivp(1.0, 1.3, 2), rel=1e-12)


def test_erfinv_derivative_inverts_erf() -> None:
    y = np.array([-0.9, 0.2, 0.99])
    d = fg.grad(lambda t: fnp.sum(special.erfinv(t)))(y)
    np.testing.assert_allclose(d, 1.0 / (2 / np.sqrt(np.pi) * np.exp(-(sc.erfinv(y) ** 2))), rtol=1e-13)


def test_xlogy_at_zero_is_zero_with_finite_derivatives() -> None:
    assert special.xlogy(0.0, 0.0) == 0.0
    value, grads = fg.value_and_grad(special.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert value == 0.0 and grads == (0.0, 0.0)
    assert np.all(np.isfinite(fg.hessian(lambda v: special.xlogy(v[0], v[1]))(np.zeros(2))))
    # y's derivative is 0 wherever x == 0, including y == 0; elsewhere it is x / y
    np.testing.assert_array_equal(
        fg.grad(lambda y: fnp.sum(special.xlogy(np.array([0.0, 0.0, 2.0]), y)))(np.array([0.0, 3.0, 4.0])),
        [0.0, 0.0, 0.5],
    )
    value, grads = fg.value_and_grad(special.xlog1py, argnums=(0, 1))(0.0, -1.0)
    assert value == 0.0 and grads == (0.0, 0.0)
    # entropy-style use: p log p summed, gradient finite where p == 0 enters only through y
    p = np.array([0.0, 0.25, 0.75])
    np.testing.assert_allclose(fg.grad(lambda q: fnp.sum(special.xlogy(p, q)))(p + 0.0), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)])
def test_logsumexp_matches_scipy_and_differentiates(axis: Any, keepdims: bool) -> None:
    a = np.array([[0.3, -1.2, 2.0, 0.1], [1.5, 0.0, -0.4, 3.0], [-2.0, 0.7, 0.2, -0.3]])
    b = np.array([0.5, 2.0, 1.0, 3.0])
    expected = sc.logsumexp(a, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(special.logsumexp(a, axis=axis, keepdims=keepdims), expected)
    value = fg.value_and_grad(lambda v: fnp.sum(special.logsumexp(v, axis=axis, keepdims=keepdims)))(a)[0]
    np.testing.assert_allclose(value, np.sum(expected), rtol=1e-14)
    check_grads(lambda v, w: special.logsumexp(v, axis=axis, b=w, keepdims=keepdims), (a, b), order=2)


def test_logsumexp_with_minus_infinity_and_weights() -> None:
    a = np.array([0.0, np.log(3.0), -np.inf])
    assert special.logsumexp(a) == sc.logsumexp(a)
    np.testing.assert_allclose(fg.grad(special.logsumexp)(a), [0.25, 0.75, 0.0])
    np.testing.assert_allclose(fg.hessian(special.logsumexp)(a)[2], 0.0)
    # every entry -inf: -inf as SciPy, traced or not
    assert special.logsumexp(np.full(2, -np.inf)) == -np.inf
    value, gradient = fg.value_and_grad(lambda v: special.logsumexp(v - np.inf))(np.zeros(2))
    assert value == -np.inf
    np.testing.assert_array_equal(gradient, 0.0)
    # b= weights: d/da = b exp(a) / sum, d/db = exp(a) / sum
    a, b = np.array([0.2, -0.5, 1.0]), np.array([1.0, 0.0, 2.5])
    assert special.logsumexp(a, b=b) == sc.logsumexp(a, b=b)
    total = np.sum(b * np.exp(a))
    grad_a, grad_b = fg.grad(lambda u, w: special.logsumexp(u, b=w), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(grad_a, b * np.exp(a) / total, rtol=1e-14)
    np.testing.assert_allclose(grad_b, np.exp(a) / total, rtol=1e-14)


def test_logsumexp_return_sign_with_negative_weights() -> None:
    a, b = np.array([[0.2, 1.0], [0.5, -0.3]]), np.array([1.0, -2.0])
    expected = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    plain = special.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_array_equal(plain[0], expected[0])
    np.testing.assert_array_equal(plain[1], expected[1])
    value, signs = (
        fg.value_and_grad(lambda v: fnp.sum(special.logsumexp(v, axis=1, b=b, return_sign=True)[0]), has_aux=False)(a)[
            0
        ],
        special.logsumexp(a, axis=1, b=b, return_sign=True)[1],
    )
    np.testing.assert_allclose(value, np.sum(expected[0]), rtol=1e-14)
    np.testing.assert_array_equal(signs, [-1.0, 1.0])
    check_grads(lambda v: special.logsumexp(v, axis=1, b=b, return_sign=True)[0], (a,), order=2)


@pytest.mark.parametrize("fun", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_family(fun: str, axis: Any) -> None:
    x = np.array([[0.3, -1.2, 2.0], [1.5, 800.0, -0.4]])
    ours = getattr(special, fun)
    np.testing.assert_array_equal(ours(x, axis=axis), scipy_of(fun)(x, axis=axis))
    np.testing.assert_allclose(fg.jvp(lambda v: ours(v, axis=axis), (x,), (x,))[0], scipy_of(fun)(x, axis=axis))
    check_grads(lambda v: ours(v, axis=axis), (x[:, :2] * 0.1,), order=2)


def test_multigammaln() -> None:
    a = np.array([2.0, 3.5])
    np.testing.assert_array_equal(special.multigammaln(a, 3), sc.multigammaln(a, 3))
    np.testing.assert_allclose(
        fg.value_and_grad(lambda v: fnp.sum(special.multigammaln(v, 3)))(a)[0], np.sum(sc.multigammaln(a, 3))
    )
    check_grads(lambda v: special.multigammaln(v, 3), (a,), order=2)
    with pytest.raises(ValueError, match="0.5"):
        fg.grad(lambda v: special.multigammaln(v, 3))(0.9)


@pytest.mark.parametrize(
    "name, fun, argument",
    [
        ("betainc", lambda t: special.betainc(t, 2.0, 0.4), "a"),
        ("betainc", lambda t: special.betainc(1.5, t, 0.4), "b"),
        ("betaincc", lambda t: special.betaincc(1.5, t, 0.4), "b"),
        ("stdtr", lambda t: special.stdtr(t, 0.4), "df"),
        ("chdtr", lambda t: special.chdtr(t, 0.4), "v"),
        ("chdtrc", lambda t: special.chdtrc(t, 0.4), "v"),
        ("gammainc", lambda t: special.gammainc(t, 1.2), "a"),
        ("gammaincc", lambda t: special.gammaincc(t, 1.2), "a"),
        ("iv", lambda t: special.iv(t, 1.2), "v"),
        ("ive", lambda t: special.ive(t, 1.2), "v"),
        ("jv", lambda t: special.jn(t, 1.2), "v"),
        ("yn", lambda t: special.yn(t, 1.2), "n"),
        ("polygamma", lambda t: special.polygamma(t, 1.2), "n"),
    ],
)
def test_no_closed_form_raises_a_named_type_error(name: str, fun: Callable[[Any], Any], argument: str) -> None:
    message = rf"special\.{name}: no derivative with respect to {argument} "
    with pytest.raises(TypeError, match=message):
        fg.grad(fun)(2.0)
    with pytest.raises(TypeError, match=message):
        fg.jvp(fun, (2.0,), (1.0,))


def test_scipys_own_ufuncs_dispatch_to_the_primitives() -> None:
    x = np.array([0.5, 2.0])
    np.testing.assert_array_equal(fg.grad(lambda v: np.sum(sc.gammaln(v)))(x), sc.digamma(x))
    np.testing.assert_allclose(fg.grad(lambda v: np.sum(sc.betainc(2.0, 3.0, v)))(np.array([0.3])), [1.764], rtol=1e-12)


def test_gammasgn_has_zero_derivative() -> None:
    assert fg.grad(lambda v: special.gammasgn(v) * v)(-0.5) == sc.gammasgn(-0.5)


def test_import_error_names_the_extra_when_scipy_is_missing() -> None:
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "try:\n"
        "    import funcgrad.scipy\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'funcgrad[scipy]'" in done.stdout


def test_coverage_page_lists_the_scipy_primitives_with_both_rules() -> None:
    page = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| `special.betainc` |"))
    assert "✓, batched" in row and "no derivative in `a`, `b` (`TypeError`)" in row
    assert "| `special.gammaln` | `scipy.special.gammaln` | ✓, batched | ✓ | " in page
    assert "| `np.gammaln` |" not in page  # SciPy's ufuncs are listed with SciPy, not NumPy


def test_betainc_batches_as_an_elementwise_function() -> None:
    x = np.array([[0.2, 0.4], [0.6, 0.8]])
    np.testing.assert_allclose(fg.vmap(lambda row: special.betainc(2.0, 3.0, row))(x), sc.betainc(2.0, 3.0, x))
