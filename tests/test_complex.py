"""Complex numbers follow JAX's convention (docs/complex.md).

* ``grad`` of a real function ``f(z)``, ``z = x + iy``, is ``df/dx - i df/dy``
  (so ``grad(abs(z)**2) == 2 * conj(z)``);
* ``grad(f, holomorphic=True)`` of a holomorphic ``f`` is ``f'(z)``;
* reverse rules are transposes of forward rules (no conjugation): for any
  ``f``, ``Re(sum(ct * jvp(t))) == Re(sum(vjp(ct) * t))``;
* complex64 stays complex64, complex128 stays complex128.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

R = np.random.default_rng(3)
C64, C128 = np.complex64, np.complex128


def crand(*shape: int, dtype: type = C128) -> np.ndarray:
    return (R.standard_normal(shape) + 1j * R.standard_normal(shape)).astype(dtype)


def rand(*shape: int, dtype: type = np.float64) -> np.ndarray:
    return R.standard_normal(shape).astype(dtype)


def pos(*shape: int, dtype: type = C128) -> np.ndarray:
    """Away from branch cuts and zeros: real part in [0.5, 1.5]."""
    return (R.uniform(0.5, 1.5, shape) + 1j * R.uniform(-1, 1, shape)).astype(dtype)


def realpart_grad(f, z):
    """JAX's convention spelled out: df/dx - i df/dy, by finite differences of the real function f."""
    eps = 1e-6
    dx = (f(z + eps) - f(z - eps)) / (2 * eps)
    dy = (f(z + 1j * eps) - f(z - 1j * eps)) / (2 * eps)
    return dx - 1j * dy


# --- the convention -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [C64, C128])
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_grad_abs_squared_is_twice_conj(shape, dtype):
    z = crand(*shape, dtype=dtype) if shape else dtype(3 + 4j)
    g = fg.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(z)
    np.testing.assert_allclose(g, 2 * np.conj(z), rtol=1e-5 if dtype == C64 else 1e-12)
    assert np.result_type(g) == dtype
    assert np.shape(g) == np.shape(z)


def test_grad_abs_squared_scalar_exact():
    assert fg.grad(lambda z: abs(z) ** 2)(3 + 4j) == 6 - 8j
    assert fg.grad(lambda z: (z * fnp.conj(z)).real)(3 + 4j) == 6 - 8j


@pytest.mark.parametrize(
    "f",
    [
        lambda z: fnp.abs(z),
        lambda z: fnp.hypot(fnp.real(z), fnp.imag(z)),
        lambda z: fnp.sqrt(z.real**2 + z.imag**2),
    ],
    ids=["abs", "hypot", "sqrt"],
)
def test_abs_spellings_agree(f):
    z = crand(4)
    g = fg.grad(lambda z: fnp.sum(f(z)))(z)
    np.testing.assert_allclose(g, np.conj(z) / np.abs(z), rtol=1e-12)
    t = crand(4)
    _, tangent = fg.jvp(f, (z,), (t,))
    np.testing.assert_allclose(tangent, np.real(np.conj(z) * t) / np.abs(z), rtol=1e-12)
    check_grads(f, (z,), order=2)


@pytest.mark.parametrize(
    "f",
    [
        lambda z: fnp.abs(z) ** 2,
        lambda z: fnp.real(z) * fnp.imag(z),
        lambda z: fnp.real(fnp.exp(z)),
        lambda z: fnp.imag(z * z * z),
        lambda z: fnp.abs(fnp.sin(z)),
        lambda z: fnp.real(z / (1 + fnp.conj(z) * z)),
    ],
)
def test_real_valued_grad_is_dx_minus_i_dy(f):
    z = complex(crand(1)[0])
    np.testing.assert_allclose(fg.grad(f)(z), realpart_grad(f, z), rtol=1e-6, atol=1e-8)


def test_holomorphic():
    assert fg.grad(lambda z: z * z, holomorphic=True)(1 + 1j) == 2 + 2j
    z = crand(3)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.sum(fnp.sin(z)), holomorphic=True)(z), np.cos(z), rtol=1e-12)
    np.testing.assert_allclose(
        fg.jacrev(lambda z: fnp.exp(z) * z, holomorphic=True)(z), np.diag(np.exp(z) * (1 + z)), rtol=1e-12
    )
    np.testing.assert_allclose(
        fg.jacfwd(lambda z: fnp.exp(z) * z, holomorphic=True)(z), np.diag(np.exp(z) * (1 + z)), rtol=1e-12
    )
    np.testing.assert_allclose(fg.hessian(lambda z: fnp.sum(z**3), holomorphic=True)(z), np.diag(6 * z), rtol=1e-12)
    g = fg.grad(lambda z: z * z, holomorphic=True)(C64(1 + 1j))
    assert g.dtype == C64


def test_holomorphic_errors():
    with pytest.raises(TypeError, match="complex scalar"):
        fg.grad(lambda z: fnp.abs(z), holomorphic=True)(1 + 1j)
    with pytest.raises(TypeError, match="holomorphic=True needs complex inputs"):
        fg.grad(lambda x: x * x, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="holomorphic=True"):
        fg.grad(lambda z: z * z)(1 + 1j)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fg.jacrev(lambda z: z * z)(np.ones(2, complex)), "jacrev needs real-valued outputs"),
        (lambda: fg.jacfwd(lambda z: fnp.abs(z))(np.ones(2, complex)), "jacfwd needs real-valued inputs"),
        (lambda: fg.jacrev(lambda z: fnp.abs(z), holomorphic=True)(np.ones(2, complex)), "complex outputs"),
        (lambda: fg.jacfwd(lambda z: fnp.abs(z), holomorphic=True)(np.ones(2, complex)), "complex outputs"),
        (lambda: fg.jacrev(lambda x: x * 1j, holomorphic=True)(np.ones(2)), "needs complex inputs"),
        (lambda: fg.hessian(lambda z: fnp.sum(fnp.abs(z)))(np.ones(2, complex)), "real-valued inputs"),
    ],
)
def test_jacobian_complex_rules_follow_jax(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_jacobians_allowed_without_holomorphic():
    x, z = rand(3), crand(3)
    np.testing.assert_allclose(fg.jacfwd(lambda x: fnp.exp(1j * x))(x), np.diag(1j * np.exp(1j * x)), rtol=1e-12)
    np.testing.assert_allclose(fg.jacrev(lambda z: fnp.abs(z) ** 2)(z), np.diag(2 * np.conj(z)), rtol=1e-12)


def test_real_to_complex_to_real():
    x = rand(3)
    f = lambda x: fnp.sum(fnp.real(fnp.exp(1j * x)))  # = sum(cos(x))
    np.testing.assert_allclose(fg.grad(f)(x), -np.sin(x), rtol=1e-12)
    assert fg.grad(f)(x).dtype == np.float64
    g = fg.grad(lambda x: fnp.sum(fnp.abs(x * (1 + 2j)) ** 2))(rand(2, dtype=np.float32))
    assert g.dtype == np.float32


def test_vjp_and_jvp_of_complex_functions():
    z = crand(3)
    out, vjp_fn = fg.vjp(lambda z: fnp.sin(z) * z, z)
    ct = crand(3)
    (g,) = vjp_fn(ct)
    d = np.cos(z) * z + np.sin(z)
    np.testing.assert_allclose(g, ct * d, rtol=1e-12)  # transpose: no conjugate
    _, t_out = fg.jvp(lambda z: fnp.sin(z) * z, (z,), (ct,))
    np.testing.assert_allclose(t_out, ct * d, rtol=1e-12)
    z64 = z.astype(C64)
    assert fg.vjp(fnp.exp, z64)[1](z64)[0].dtype == C64
    assert fg.jvp(fnp.exp, (z64,), (z64,))[1].dtype == C64


# --- check_grads over complex primitives ----------------------------------------------------

UNARY = [
    ("exp", fnp.exp, crand),
    ("log", fnp.log, pos),
    ("sin", fnp.sin, crand),
    ("cos", fnp.cos, crand),
    ("tanh", fnp.tanh, crand),
    ("sqrt", fnp.sqrt, pos),
    ("square", fnp.square, crand),
    ("negative", lambda z: -z, crand),
    ("conj", fnp.conj, crand),
    ("real", fnp.real, crand),
    ("imag", fnp.imag, crand),
    ("abs", fnp.abs, crand),
    ("reciprocal", lambda z: 1.0 / z, pos),
    ("pow3", lambda z: z**3, crand),
    ("sum", lambda z: fnp.sum(z, axis=-1, keepdims=True), crand),
    ("transpose", lambda z: fnp.transpose(z), crand),
    ("reshape", lambda z: fnp.reshape(z, (-1,)), crand),
    ("getitem", lambda z: z[..., ::-1], crand),
    ("where", lambda z: fnp.where(fnp.real(fg.stop_gradient(z)) > 0, z, 2 * z), crand),
]


@pytest.mark.parametrize("dtype", [C128, C64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("name, f, make", UNARY, ids=[u[0] for u in UNARY])
def test_check_grads_unary(name, f, make, shape, dtype):
    if name in ("transpose", "sum", "getitem") and shape == ():
        f = {"transpose": fnp.transpose, "sum": fnp.sum, "getitem": lambda z: z[()]}[name]
    check_grads(f, (make(*shape, dtype=dtype),), order=2)


BINARY = [
    ("add", lambda a, b: a + b),
    ("multiply", lambda a, b: a * b),
    ("divide", lambda a, b: a / b),
    ("power", lambda a, b: a**b),
    ("matmul", lambda a, b: a @ b.T),
    ("dot", lambda a, b: fnp.dot(a, b.T)),
]


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (1, 3))])
@pytest.mark.parametrize("name, f", BINARY, ids=[b[0] for b in BINARY])
def test_check_grads_binary(name, f, shapes):
    a, b = pos(*shapes[0]), pos(*shapes[1])
    check_grads(f, (a, b), order=2)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,))])
def test_mixed_real_and_complex_arguments(shapes):
    x, z = rand(*shapes[0]), crand(*shapes[1])
    check_grads(lambda x, z: x * z + fnp.sin(x) / (2 + z * fnp.conj(z)), (x, z), order=2)
    gx, gz = fg.grad(lambda x, z: fnp.sum(fnp.abs(x * z) ** 2), (0, 1))(x, z)
    assert gx.dtype == np.float64 and gz.dtype == np.complex128
    np.testing.assert_allclose(gx, 2 * x * np.abs(z) ** 2, rtol=1e-12)  # x always has the full shape here
    want_z = 2 * x**2 * np.conj(z)
    np.testing.assert_allclose(gz, want_z.reshape((-1,) + z.shape).sum(axis=0), rtol=1e-12)


def test_hessian_of_real_function_of_complex_input_via_realification():
    # A real function of a complex argument has a Hessian only over (x, y): split it.
    f = lambda z: fnp.sum(fnp.abs(fnp.sin(z)) ** 2)
    u = np.stack([rand(2), rand(2)])
    g = lambda u: f(u[0] + 1j * u[1])
    np.testing.assert_allclose(fg.hessian(g)(u), fg.jacrev(fg.jacrev(g))(u), rtol=1e-10, atol=1e-12)
    grad_z = fg.grad(f)(u[0] + 1j * u[1])
    grad_u = fg.grad(g)(u)
    np.testing.assert_allclose(grad_z, grad_u[0] - 1j * grad_u[1], rtol=1e-12)


@pytest.mark.parametrize(
    "part", [fnp.imag, fnp.real, fnp.angle, lambda z: fnp.abs(z) ** 2, lambda z: fnp.imag(z) * 1j, fnp.conj]
)
def test_cotangents_keep_double_precision_next_to_a_float32_constant(part):
    # found by the random programs: imag's rule returned 1j * g, a Python complex for an np.float64 g;
    # that weak scalar times a float32 constant gave a complex64 cotangent (errors ~1e-8)
    c32 = np.array(0.383, np.float32)
    z = np.complex128(0.5 + 0.3j)
    f = lambda c: lambda z: fnp.real(fnp.sin(part(c * z)))  # noqa: E731
    got = fg.grad(f(c32))(z)
    want = fg.grad(f(c32.astype(np.float64)))(z)
    assert np.asarray(got).dtype == np.complex128
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
