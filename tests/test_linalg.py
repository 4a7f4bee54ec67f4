"""funcgrad.numpy.linalg: values equal NumPy's; forward and reverse derivatives to second order
agree with finite differences; jacfwd (batched forward rules) agrees with jacrev.

Inputs are well conditioned: general matrices are ``random + 3 I``, symmetric ones
``Q diag Q^T`` with separated eigenvalues, SPD ones for cholesky.  Eigenvector and
singular-vector losses square the entries, which is invariant to their signs.
"""

from __future__ import annotations

import os
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

la = fnp.linalg
RNG = np.random.default_rng(1234)
SEED = int(os.environ.get("FUNCGRAD_TEST_SEED", "0"))


@pytest.fixture(autouse=True)
def _fresh_inputs(request: pytest.FixtureRequest) -> None:
    """Inputs depend only on the test's name (not on which tests ran before)."""
    RNG.bit_generator.state = np.random.default_rng([SEED, zlib.crc32(request.node.name.encode())]).bit_generator.state


def _orthonormal(m: int, k: int, lead: tuple[int, ...], complex_: bool) -> np.ndarray:
    z = RNG.standard_normal(lead + (m, k))
    if complex_:
        z = z + 1j * RNG.standard_normal(lead + (m, k))
    return np.linalg.qr(z)[0]


def rect(*shape: int, complex_: bool = False) -> np.ndarray:
    """Full rank, well conditioned, singular values 1.5 apart: ``U diag(s) V^H``."""
    m, n = shape[-2:]
    k = min(m, n)
    u = _orthonormal(m, k, shape[:-2], complex_)
    v = _orthonormal(n, k, shape[:-2], complex_)
    s = np.arange(1, k + 1) * 1.5 + RNG.uniform(0, 0.3, shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))


def general(*shape: int) -> np.ndarray:
    """A well-conditioned square (stack of) matrix, no structure."""
    return rect(*shape)


def crect(*shape: int) -> np.ndarray:
    return rect(*shape, complex_=True)


def cgeneral(*shape: int) -> np.ndarray:
    return rect(*shape, complex_=True)


def separated(*shape: int, complex_: bool = False) -> np.ndarray:
    """Non-symmetric, with well separated eigenvalues (and a well-conditioned eigenbasis)."""
    n = shape[-1]
    p = np.eye(n) + 0.3 * RNG.standard_normal(shape)
    d = np.arange(1, n + 1) * 1.5 + RNG.uniform(0, 0.3, shape[:-1])
    if complex_:
        p = p + 0.3j * RNG.standard_normal(shape)
        d = d + 0.5j * RNG.standard_normal(shape[:-1])
    return (p * d[..., None, :]) @ np.linalg.inv(p)


def dominant(*shape: int, complex_: bool = False) -> np.ndarray:
    """Strong diagonal: Householder QR stays away from its sign switches (NumPy's QR jumps there)."""
    m, n = shape[-2:]
    return rect(*shape, complex_=complex_) + 4 * np.eye(m, n)


def power_sums(w: Any) -> Any:
    """Symmetric in the eigenvalues: NumPy's eig may list them in any order."""
    return fnp.stack([fnp.sum(w**k, axis=-1) for k in (1, 2, 3)])


def weighted_vectors(w: Any, v: Any) -> Any:
    """sum_j w_j v_j**2: invariant to the order and signs of the eigenvectors."""
    return fnp.sum(v * v * fnp.expand_dims(w, -2), axis=-1)


def hermitian(*shape: int) -> np.ndarray:
    n = shape[-1]
    q, _ = np.linalg.qr(RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape))
    d = np.arange(1, n + 1) * 1.5 + RNG.uniform(0, 0.3, shape[:-1])
    return (q * d[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))


def phase_free(x: Any) -> Any:
    """|x|^2: invariant to the phase of complex eigen/singular vectors."""
    return fnp.real(x * fnp.conj(x))


def symmetric(*shape: int) -> np.ndarray:
    n = shape[-1]
    q, _ = np.linalg.qr(RNG.standard_normal(shape))
    d = np.arange(1, n + 1) * 1.5 + RNG.uniform(0, 0.3, shape[:-1])
    return (q * d[..., None, :]) @ np.swapaxes(q, -1, -2)


def vec(*shape: int) -> np.ndarray:
    """Entries of magnitude at least 0.5, random signs."""
    return (0.5 + np.abs(RNG.standard_normal(shape))) * np.sign(RNG.standard_normal(shape))


def sq(x: Any) -> Any:
    """Sign-invariant view of eigen/singular vectors."""
    return x * x


# name, function of the inputs, input makers (shape -> array)
CASES: list[tuple[str, Callable[..., Any], tuple[Callable[[], np.ndarray], ...]]] = [
    ("inv", la.inv, (lambda: general(3, 3),)),
    ("inv_stack", la.inv, (lambda: general(2, 3, 3),)),
    ("inv_1x1", la.inv, (lambda: general(1, 1),)),
    ("pinv_tall", la.pinv, (lambda: rect(4, 2),)),
    ("pinv_wide_stack", la.pinv, (lambda: rect(2, 2, 3),)),
    ("solve_vec", la.solve, (lambda: general(3, 3), lambda: vec(3))),
    ("solve_mat", la.solve, (lambda: general(3, 3), lambda: vec(3, 2))),
    ("solve_stack", la.solve, (lambda: general(2, 3, 3), lambda: vec(2, 3, 2))),
    ("solve_stack_a_vec_b", la.solve, (lambda: general(2, 3, 3), lambda: vec(3))),
    ("solve_bcast_b", la.solve, (lambda: general(3, 3), lambda: vec(2, 3, 1))),
    ("det", la.det, (lambda: general(3, 3),)),
    ("det_stack", la.det, (lambda: general(2, 3, 3),)),
    ("slogdet", lambda a: la.slogdet(a)[1], (lambda: general(2, 3, 3),)),
    ("cholesky", la.cholesky, (lambda: symmetric(3, 3),)),
    ("cholesky_stack", la.cholesky, (lambda: symmetric(2, 3, 3),)),
    ("cholesky_upper", lambda a: la.cholesky(a, upper=True), (lambda: symmetric(3, 3),)),
    ("eigh_values", lambda a: la.eigh(a)[0], (lambda: symmetric(2, 3, 3),)),
    ("eigh_vectors", lambda a: sq(la.eigh(a)[1]), (lambda: symmetric(2, 3, 3),)),
    ("eigh_upper", lambda a: sq(la.eigh(a, UPLO="U")[1]) + la.eigh(a, UPLO="U")[0], (lambda: symmetric(3, 3),)),
    ("eigvalsh", la.eigvalsh, (lambda: symmetric(4, 4),)),
    ("eig_values", lambda a: power_sums(la.eig(a)[0]), (lambda: separated(2, 3, 3),)),
    ("eig_vectors", lambda a: weighted_vectors(*la.eig(a)), (lambda: separated(3, 3),)),
    ("eigvals", lambda a: power_sums(la.eigvals(a)), (lambda: separated(3, 3),)),
    ("svd_values", lambda a: la.svd(a, compute_uv=False), (lambda: rect(2, 4, 3),)),
    ("svd_square", lambda a: [sq(p) for p in la.svd(a)], (lambda: rect(3, 3),)),
    ("svd_tall", lambda a: [sq(p) for p in la.svd(a, full_matrices=False)], (lambda: rect(4, 2),)),
    ("svd_wide_stack", lambda a: [sq(p) for p in la.svd(a, full_matrices=False)], (lambda: rect(2, 2, 3),)),
    ("svdvals", la.svdvals, (lambda: rect(3, 2),)),
    ("qr_tall", la.qr, (lambda: dominant(4, 3),)),
    ("qr_square_stack", la.qr, (lambda: dominant(2, 3, 3),)),
    ("qr_wide", la.qr, (lambda: dominant(2, 4),)),
    ("qr_complete_square", lambda a: la.qr(a, mode="complete"), (lambda: dominant(3, 3),)),
    ("qr_r", lambda a: la.qr(a, mode="r"), (lambda: dominant(3, 2),)),
    ("lstsq_vec", lambda a, b: la.lstsq(a, b)[0], (lambda: rect(4, 2), lambda: vec(4))),
    ("lstsq_mat", lambda a, b: la.lstsq(a, b)[0], (lambda: rect(4, 3), lambda: vec(4, 2))),
    ("lstsq_wide", lambda a, b: la.lstsq(a, b)[0], (lambda: rect(2, 3), lambda: vec(2))),
    ("lstsq_residuals", lambda a, b: la.lstsq(a, b)[1], (lambda: rect(4, 2), lambda: vec(4, 2))),
    ("lstsq_sv", lambda a: la.lstsq(a, np.ones(4))[3], (lambda: rect(4, 2),)),
    ("matrix_power_3", lambda a: la.matrix_power(a, 3), (lambda: general(2, 2, 2),)),
    ("matrix_power_neg", lambda a: la.matrix_power(a, -2), (lambda: general(3, 3),)),
    ("matrix_power_1", lambda a: la.matrix_power(a, 1), (lambda: general(2, 2),)),
    ("multi_dot", lambda a, b, c: la.multi_dot([a, b, c]), (lambda: vec(3), lambda: vec(3, 2), lambda: vec(2, 4))),
    ("tensorinv", lambda a: la.tensorinv(a, ind=1), (lambda: general(4, 4).reshape(4, 2, 2),)),
    ("tensorsolve", la.tensorsolve, (lambda: general(4, 4).reshape(2, 2, 4), lambda: vec(2, 2))),
    ("cond", la.cond, (lambda: rect(3, 3),)),
    ("cond_fro", lambda a: la.cond(a, "fro"), (lambda: general(3, 3),)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,fun,makers", CASES, ids=[c[0] for c in CASES])
def test_grads(name: str, fun: Callable[..., Any], makers: Any, dtype: Any) -> None:
    args = tuple(m().astype(dtype) for m in makers)
    if dtype == np.float32:
        check_grads(fun, args, order=2, modes=("fwd", "rev"), atol=5e-2, rtol=5e-2)
    else:
        check_grads(fun, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name,fun,makers", CASES, ids=[c[0] for c in CASES])
def test_jacfwd_matches_jacrev(name: str, fun: Callable[..., Any], makers: Any) -> None:
    args = tuple(m() for m in makers)
    argnums = tuple(range(len(args)))
    if any(np.iscomplexobj(o) for o in fg.tree.tree_leaves(fun(*args))):
        # jacrev differentiates real outputs: compare real and imaginary parts separately
        parts = fun
        fun = lambda *a: [fg.tree.tree_map(fnp.real, parts(*a)), fg.tree.tree_map(fnp.imag, parts(*a))]  # noqa: E731
    forward = fg.tree.tree_leaves(fg.jacfwd(fun, argnums)(*args))
    reverse = fg.tree.tree_leaves(fg.jacrev(fun, argnums)(*args))
    assert len(forward) == len(reverse)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f, r, rtol=1e-7, atol=1e-9)


NUMPY_SAME = [
    ("inv", (lambda: general(2, 3, 3),)),
    ("pinv", (lambda: rect(4, 2),)),
    ("solve", (lambda: general(2, 3, 3), lambda: vec(3))),
    ("det", (lambda: general(2, 3, 3),)),
    ("slogdet", (lambda: general(3, 3),)),
    ("cholesky", (lambda: symmetric(2, 3, 3),)),
    ("eigh", (lambda: symmetric(2, 3, 3),)),
    ("eigvalsh", (lambda: symmetric(3, 3),)),
    ("eig", (lambda: general(3, 3),)),
    ("eigvals", (lambda: general(3, 3),)),
    ("svd", (lambda: rect(3, 3),)),
    ("svdvals", (lambda: rect(2, 4, 3),)),
    ("qr", (lambda: rect(2, 4, 3),)),
    ("lstsq", (lambda: rect(4, 2), lambda: vec(4, 2))),
    ("matrix_power", (lambda: general(3, 3), lambda: -3)),
    ("tensorinv", (lambda: general(4, 4).reshape(2, 2, 2, 2),)),
    ("cond", (lambda: general(3, 3),)),
    ("matrix_rank", (lambda: general(3, 3),)),
    ("norm", (lambda: general(3, 3),)),
]


@pytest.mark.parametrize("name,makers", NUMPY_SAME, ids=[c[0] for c in NUMPY_SAME])
def test_values_equal_numpy_inside_transforms(name: str, makers: Any) -> None:
    """The value seen inside a transform (traced) equals NumPy's on plain arrays."""
    args = tuple(m() for m in makers)
    expected = getattr(np.linalg, name)(*args)
    seen: list[Any] = []

    def f(a: Any) -> Any:
        out = getattr(la, name)(a, *args[1:])
        seen.append(fg.tree.tree_map(lambda v: np.asarray(fg.stop_gradient(v)), out))
        return fnp.sum(a)

    fg.grad(f)(args[0])
    plain = getattr(la, name)(*args)
    for want, got, untraced in zip(
        fg.tree.tree_leaves(tuple(expected) if isinstance(expected, tuple) else expected),
        fg.tree.tree_leaves(seen[0]),
        fg.tree.tree_leaves(tuple(plain) if isinstance(plain, tuple) else plain),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(untraced, want)


def test_result_types_and_dtypes_follow_numpy() -> None:
    a = symmetric(3, 3).astype(np.float32)
    out = fg.jvp(lambda a: la.eigh(a), (a,), (a,))[0]
    assert type(out).__name__ == "EighResult"
    assert out.eigenvalues.dtype == np.float32
    g = fg.grad(lambda a: fnp.sum(la.svd(a)[1]))(a)
    assert g.dtype == np.float32


# --- complex ----------------------------------------------------------------------------------

COMPLEX_CASES = [
    ("inv", la.inv, (lambda: cgeneral(2, 3, 3),)),
    ("solve", la.solve, (lambda: cgeneral(3, 3), lambda: vec(3) + 1j * vec(3))),
    ("solve_stack", la.solve, (lambda: cgeneral(2, 3, 3), lambda: crect(2, 3, 2))),
    ("det", la.det, (lambda: cgeneral(2, 3, 3),)),
    ("slogdet_log", lambda a: la.slogdet(a)[1], (lambda: cgeneral(3, 3),)),
    ("slogdet_sign", lambda a: la.slogdet(a)[0], (lambda: cgeneral(3, 3),)),
    ("pinv", la.pinv, (lambda: crect(4, 2),)),
    ("lstsq", lambda a, b: la.lstsq(a, b)[0], (lambda: crect(4, 2), lambda: vec(4) + 1j * vec(4))),
    ("eig_values", lambda a: power_sums(la.eig(a)[0]), (lambda: separated(3, 3, complex_=True),)),
    (
        "eig_vectors",
        lambda a: fnp.sum(fnp.abs(la.eig(a)[1]) * la.eig(a)[0], axis=-1),
        (lambda: separated(3, 3, complex_=True),),
    ),
    (
        "eig_vectors_phase",
        lambda a: fnp.sum(la.eig(a)[1] * la.eig(a)[0], axis=-1),
        (lambda: separated(3, 3, complex_=True),),
    ),
    ("svdvals", la.svdvals, (lambda: crect(3, 2),)),
    ("norm_vec", lambda x: la.norm(x, 3), (lambda: vec(3) + 1j * vec(3),)),
    ("norm_nuc", lambda x: la.norm(x, "nuc"), (lambda: cgeneral(3, 3),)),
    ("matrix_power", lambda a: la.matrix_power(a, -3), (lambda: cgeneral(2, 2),)),
    ("cholesky", la.cholesky, (lambda: hermitian(2, 3, 3),)),
    ("cholesky_upper", lambda a: la.cholesky(a, upper=True), (lambda: hermitian(3, 3),)),
    ("eigh_values", lambda a: la.eigh(a)[0], (lambda: hermitian(2, 3, 3),)),
    ("eigh_vectors", lambda a: phase_free(la.eigh(a, "U")[1]), (lambda: hermitian(3, 3),)),
    (
        "eigh_projector",
        lambda a: (lambda w, v: (v * fnp.arange(3.0)) @ fnp.conj(v.T))(*la.eigh(a)),
        (lambda: hermitian(3, 3),),
    ),
    ("svd_values", lambda a: la.svd(a, compute_uv=False), (lambda: crect(2, 3, 2),)),
    ("svd_vectors_tall", lambda a: [phase_free(p) for p in la.svd(a, full_matrices=False)], (lambda: crect(4, 2),)),
    ("svd_vectors_wide", lambda a: [phase_free(p) for p in la.svd(a, full_matrices=False)], (lambda: crect(2, 3),)),
    ("svd_u_vh", lambda a: (lambda u, s, vh: u @ vh)(*la.svd(a)), (lambda: cgeneral(3, 3),)),
    ("qr_tall", la.qr, (lambda: dominant(4, 3, complex_=True),)),
    ("qr_wide", la.qr, (lambda: dominant(2, 3, complex_=True),)),
    ("norm_2", lambda x: la.norm(x, 2), (lambda: cgeneral(3, 3),)),
]


@pytest.mark.parametrize("name,fun,makers", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_grads(name: str, fun: Callable[..., Any], makers: Any) -> None:
    args = tuple(m() for m in makers)
    check_grads(fun, args, order=2, modes=("fwd", "rev"))
    low = tuple(a.astype(np.complex64) for a in args)
    check_grads(fun, low, order=1, modes=("fwd", "rev"), atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("name,fun,makers", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_jacfwd_matches_jacrev(name: str, fun: Callable[..., Any], makers: Any) -> None:
    """Batched complex forward rules: inputs and outputs split into real and imaginary parts."""
    first, *rest = (m() for m in makers)

    def split(re: Any, im: Any) -> list[Any]:
        outs = fg.tree.tree_leaves(fun(re + 1j * im, *rest))
        return [fnp.real(o) for o in outs] + [fnp.imag(o) for o in outs]

    args = (np.real(first), np.imag(first))
    forward = fg.jacfwd(split, (0, 1))(*args)
    reverse = fg.jacrev(split, (0, 1))(*args)
    for f, r in zip(fg.tree.tree_leaves(forward), fg.tree.tree_leaves(reverse)):
        np.testing.assert_allclose(f, r, rtol=1e-7, atol=1e-9)


def test_eig_of_real_matrix_with_complex_eigenvalues() -> None:
    a = np.array([[1.0, -2.0, 0.3], [2.0, 1.0, 0.1], [0.2, 0.1, 3.0]])
    assert np.iscomplexobj(np.linalg.eig(a)[0])
    check_grads(lambda a: la.eig(a)[0], (a,), order=2)
    check_grads(lambda a: la.eig(a)[1], (a,), order=2)
    np.testing.assert_allclose(
        fg.jacfwd(lambda a: fnp.real(la.eig(a)[1]))(a), fg.jacrev(lambda a: fnp.real(la.eig(a)[1]))(a), atol=1e-10
    )


# --- norms --------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 3, 0.5, -1.5]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_vector_norms(ord: Any, axis: Any, keepdims: bool) -> None:
    x = vec(3) if axis is None else vec(2, 3)
    f = lambda x: la.norm(x, ord, axis=axis, keepdims=keepdims)  # noqa: E731
    np.testing.assert_allclose(fg.jvp(f, (x,), (x,))[0], np.linalg.norm(x, ord, axis, keepdims), rtol=1e-13)
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("axis", [None, (0, 1), (2, 0), (-1, -2)])
def test_matrix_norms(ord: Any, axis: Any, keepdims: bool) -> None:
    x = rect(3, 3) if axis is None else np.stack([rect(3, 2), rect(3, 2)], axis=-1)
    f = lambda x: la.norm(x, ord, axis=axis, keepdims=keepdims)  # noqa: E731
    np.testing.assert_allclose(fg.jvp(f, (x,), (x,))[0], np.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_float32_and_count(dtype: Any) -> None:
    x = vec(2, 3).astype(dtype)
    check_grads(lambda x: la.norm(x, 3, axis=1), (x,), order=2, atol=5e-2, rtol=5e-2)
    assert fg.jvp(lambda x: la.norm(x, 2, axis=1), (x,), (x,))[1].dtype == dtype
    count = fg.jvp(lambda x: la.norm(x, 0, axis=1), (x,), (x,))
    np.testing.assert_array_equal(count[0], [3, 3])
    np.testing.assert_array_equal(count[1], [0, 0])


@pytest.mark.parametrize("ord", [None, 2, 1, 3, np.inf])
def test_norm_at_zero_vector_has_zero_gradient_and_no_warning(ord: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = fg.grad(lambda x: la.norm(x, ord))(np.zeros(3))
        t = fg.jvp(lambda x: la.norm(x, ord), (np.zeros(3),), (np.ones(3),))[1]
    if ord != np.inf:
        np.testing.assert_array_equal(g, np.zeros(3))
        assert t == 0
    assert np.all(np.isfinite(g))


def test_vector_and_matrix_norm_functions() -> None:
    x = vec(2, 3)
    np.testing.assert_allclose(
        fg.jvp(lambda x: la.vector_norm(x, ord=1), (x,), (x,))[0], np.linalg.vector_norm(x, ord=1)
    )
    check_grads(lambda x: la.vector_norm(x, axis=(0, 1), ord=3, keepdims=True), (x,), order=2)
    check_grads(lambda x: la.matrix_norm(x, ord="nuc"), (rect(2, 3, 2),), order=2)


# --- degenerate inputs: finite numbers or clear errors --------------------------------------------


def test_eigenvalue_losses_at_repeated_eigenvalues_are_finite() -> None:
    a = np.eye(3)
    g = fg.grad(lambda a: fnp.sum(la.eigvalsh(a) ** 2))(a)
    np.testing.assert_allclose(g, 2 * np.eye(3))
    t = fg.jvp(lambda a: la.eigh(a)[0], (a,), (symmetric(3, 3),))[1]
    assert np.all(np.isfinite(t))
    g = fg.grad(lambda a: fnp.sum(la.svd(a, compute_uv=False)))(np.eye(2))
    np.testing.assert_allclose(g, np.eye(2))


def test_first_derivatives_at_exact_ties_of_symmetric_functions_and_projectors() -> None:
    q, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    a = (q * np.array([1.0, 1.0, 3.0])) @ q.T  # eigenvalue 1 twice
    a = (a + a.T) / 2

    def projector(a: Any) -> Any:
        v = la.eigh(a)[1][:, :2]
        return v @ v.T

    check_grads(projector, (a,), order=1)
    check_grads(lambda a: fnp.sum(la.eigvalsh(a) ** 3), (a,), order=1)
    check_grads(lambda a: la.norm(a, "nuc"), (a,), order=1)


def test_eigh_gradient_lives_on_the_read_triangle() -> None:
    a = symmetric(3, 3)
    g_lower = fg.grad(lambda a: la.eigvalsh(a)[-1])(a)
    g_upper = fg.grad(lambda a: la.eigvalsh(a, UPLO="U")[-1])(a)
    np.testing.assert_array_equal(np.triu(g_lower, 1), 0)
    np.testing.assert_allclose(g_upper, g_lower.T, atol=1e-12)
    v = np.linalg.eigh(a)[1][:, -1]
    np.testing.assert_allclose((g_lower + g_lower.T) / 2, np.outer(v, v), atol=1e-12)


SINGULAR = [
    np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),  # rank 2
    np.ones((2, 2)),  # rank 1
    np.zeros((2, 3, 3)),  # rank 0, stacked
    np.array([[1.0, 2.0 + 1j, 3.0], [2.0, 4.0 + 2j, 6.0], [1.0, 0.0, 1.0]]),  # complex, rank 2
    np.zeros((4, 4), np.float32),
]


@pytest.mark.parametrize("a", SINGULAR, ids=["rank2", "rank1", "zeros_stack", "complex", "float32"])
def test_det_derivatives_at_singular_matrices_are_the_adjugate(a: np.ndarray) -> None:
    order = 2 if a.dtype == np.float32 else 3
    check_grads(la.det, (a,), order=order)


def test_det_gradient_at_singular_matrix_equals_adjugate_transpose() -> None:
    a = SINGULAR[0]
    # adj(A)^T by cofactors
    cof = np.array(
        [[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(fg.grad(la.det)(a), cof, atol=1e-12)
    big = RNG.standard_normal((10, 10))
    big[:, 0] = big[:, 1]
    check_grads(la.det, (big,), order=1)


@pytest.mark.parametrize(
    "fun,arg,match",
    [
        (lambda a: la.svd(a), rect(3, 2), "full_matrices=False"),
        (lambda a: la.qr(a, mode="complete"), rect(3, 2), "mode='reduced'"),
        (lambda a: la.qr(a, mode="raw"), rect(3, 2), "mode='reduced'"),
    ],
)
def test_unsupported_derivatives_raise_clearly(fun: Any, arg: Any, match: str) -> None:
    with pytest.raises(NotImplementedError, match=match):
        fg.vjp(fun, arg)


def test_shape_errors_match_numpy() -> None:
    with pytest.raises(np.linalg.LinAlgError):
        fg.grad(lambda a: fnp.sum(la.inv(a)))(np.ones((2, 3)))
    with pytest.raises(ValueError):
        fg.grad(lambda a: la.norm(a, "fro"))(np.ones(3))
    with pytest.raises(ValueError):
        fg.grad(lambda a: la.norm(a, 2))(np.ones((2, 2, 2)))


# --- plain numpy code on traced values -----------------------------------------------------------


def test_numpy_linalg_dispatches_to_funcgrad() -> None:
    a = general(3, 3)
    g = fg.grad(lambda a: np.linalg.det(np.linalg.inv(a)) + np.linalg.norm(a, "nuc") + np.linalg.slogdet(a)[1])(a)
    inv_t = np.linalg.inv(a).T
    u, _, vh = np.linalg.svd(a)
    np.testing.assert_allclose(g, -np.linalg.det(np.linalg.inv(a)) * inv_t + u @ vh + inv_t, rtol=1e-9)
    np.testing.assert_allclose(fg.jacrev(lambda a: np.linalg.eigh(a)[0])(symmetric(2, 2)).shape, (2, 2, 2))


def test_plain_results_and_matrix_rank() -> None:
    a = general(3, 3)
    assert fg.grad(lambda a: fnp.sum(a) * la.matrix_rank(a))(a).sum() == pytest.approx(27.0)
    seen: list[Any] = []

    def f(a: Any) -> Any:
        seen.append(la.lstsq(a, np.ones(3)))
        return fnp.sum(a)

    fg.grad(f)(a)
    assert seen[0][2] == 3 and isinstance(seen[0][2], (int, np.integer))


def test_hessian_of_logdet_is_the_known_formula() -> None:
    a = general(3, 3)
    h = fg.hessian(lambda a: la.slogdet(a)[1])(a)
    inv = np.linalg.inv(a)
    # d2 log|det A| / dA_ij dA_kl = -inv[j, k] inv[l, i]
    np.testing.assert_allclose(h, -np.einsum("jk,li->ijkl", inv, inv), atol=1e-12)
    np.testing.assert_allclose(fg.hessian(la.det)(a), fg.jacrev(fg.jacrev(la.det))(a), atol=1e-10)


def test_every_numpy_linalg_function_dispatches() -> None:
    from funcgrad._prims._dispatch import FUNCTIONS

    for name in la.__all__:
        if name != "LinAlgError" and hasattr(np.linalg, name):
            assert FUNCTIONS[getattr(np.linalg, name)] is getattr(la, name), name


ARRAY_API = [
    ("matrix_transpose", (lambda: vec(2, 3, 2),), {}),
    ("trace", (lambda: vec(2, 3, 3),), {"offset": 1}),
    ("diagonal", (lambda: vec(2, 3, 3),), {"offset": -1}),
    ("outer", (lambda: vec(2), lambda: vec(3)), {}),
    ("cross", (lambda: vec(2, 3), lambda: vec(3)), {}),
    ("tensordot", (lambda: vec(2, 3), lambda: vec(3, 2)), {"axes": 1}),
    ("vecdot", (lambda: vec(2, 3) + 1j * vec(2, 3), lambda: vec(3)), {}),
    ("matmul", (lambda: vec(2, 3, 2), lambda: vec(2, 4)), {}),
]


@pytest.mark.skipif(not hasattr(np.linalg, "vecdot"), reason="NumPy 2 array-API functions")
@pytest.mark.parametrize("name,makers,kwargs", ARRAY_API, ids=[c[0] for c in ARRAY_API])
def test_array_api_helpers(name: str, makers: Any, kwargs: dict[str, Any]) -> None:
    args = tuple(m() for m in makers)
    ours = getattr(la, name)
    np.testing.assert_allclose(
        fg.jvp(lambda *a: ours(*a, **kwargs), args, args)[0], getattr(np.linalg, name)(*args, **kwargs)
    )
    np.testing.assert_allclose(
        fg.jvp(lambda *a: getattr(np.linalg, name)(*a, **kwargs), args, args)[0],
        getattr(np.linalg, name)(*args, **kwargs),
    )
    check_grads(lambda *a: ours(*a, **kwargs), args, order=2)
