"""Dask arrays as primals: every transform stays lazy and agrees with NumPy (docs/dask.md).

Laziness is counted: a ``dask.callbacks.Callback`` counts the tasks the local
schedulers execute, and no transform may execute one unless the function's
own control flow asks for a value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask tests need the dask extra: pip install funcgrad[dask]")
from dask.callbacks import Callback  # noqa: E402

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad import _backends  # noqa: E402


class TaskCounter(Callback):
    """Counts the tasks the local (threaded, synchronous) schedulers run while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.executed = 0

    def _pretask(self, key, dask, state):
        self.executed += 1


def lazily(thunk):
    """Run ``thunk`` and return its result, failing if it executed any Dask task."""
    with TaskCounter() as counter, warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # Dask's "computing to run a function I lack"
        result = thunk()
    assert counter.executed == 0, f"the transform executed {counter.executed} Dask task(s)"
    return result


def computed(tree):
    import dask

    return dask.compute(tree)[0]


def assert_same(got, want, rtol=1e-10):
    got_leaves, want_leaves = fg.tree.tree_flatten(computed(got))[0], fg.tree.tree_flatten(want)[0]
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert np.shape(g) == np.shape(w)
        assert np.result_type(g) == np.result_type(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


RNG = np.random.default_rng(0)
VECTOR = np.linspace(0.1, 1.3, 7)
MATRIX = RNG.normal(size=(5, 4))
#: the same values as Dask arrays, chunked unevenly
ARRAYS = {
    "1-D": (VECTOR, ((3, 4),)),
    "2-D uneven": (MATRIX, ((1, 3, 1), (3, 1))),
}

FUNCTIONS = {
    "sin-product": lambda x: np.sum(np.sin(x) * x),
    "tanh-power": lambda x: np.sum(x**3 * np.tanh(x)),
    "exp-log": lambda x: np.sum(np.log1p(np.exp(-x)) / (1.0 + x**2)),
    "mean-std": lambda x: np.mean(x) * np.std(x),
    "slices": lambda x: np.sum(x[1:] * x[:-1]) + x[0].sum() * 2.0,
    "reshape-transpose": lambda x: np.sum(np.reshape(x, (-1,)) ** 2) + np.sum(np.cos(x.T)),
    "where": lambda x: np.sum(np.where(x > 0.5, x, x**2)),
    "gathers": lambda x: np.sum(np.flip(x, 0) * np.roll(x, 1)) + np.sum(np.tile(x, 2) ** 2),
    "nansum-astype": lambda x: np.nansum(x.astype(np.float32).astype(np.float64) ** 2) * np.sum(x),
    "new-axes": lambda x: np.sum(np.squeeze(x[None, ..., None]) ** 2),
    # kinks and edges: their masks are recorded operations, so they run lazily on Dask too
    "abs-maximum-clip": lambda x: np.sum(np.abs(x - 0.5) + np.maximum(x, 0.6) + np.clip(x, 0.3, 0.9) ** 2),
    "max-min": lambda x: np.max(x) * np.min(x**2),
    "logaddexp-power-sinc": lambda x: np.sum(np.logaddexp(x, -x) + (x * x + 1.0) ** x + np.sinc(x)),
    # a count of nonzeros (no derivative) is a recorded primitive too, not a read of the values
    "norm-ord0": lambda x: np.linalg.norm(np.reshape(x - 0.5, (-1,)), 0) * np.sum(x**2),
}


def dask_of(name):
    values, chunks = ARRAYS[name]
    return values, da.from_array(values, chunks=chunks)


@pytest.mark.parametrize("shape_name", ARRAYS)
@pytest.mark.parametrize("fun_name", FUNCTIONS)
def test_grad_is_a_lazy_dask_array_with_the_primal_chunks(shape_name, fun_name):
    values, x = dask_of(shape_name)
    fun = FUNCTIONS[fun_name]
    g = lazily(lambda: fg.grad(fun)(x))
    assert isinstance(g, da.Array)
    assert g.chunks == x.chunks
    assert_same(g, fg.grad(fun)(values))


@pytest.mark.parametrize("shape_name", ARRAYS)
def test_value_and_grad_both_lazy(shape_name):
    values, x = dask_of(shape_name)
    fun = FUNCTIONS["tanh-power"]
    value, g = lazily(lambda: fg.value_and_grad(fun)(x))
    assert isinstance(value, da.Array) and isinstance(g, da.Array)
    assert_same((value, g), fg.value_and_grad(fun)(values))


@pytest.mark.parametrize("shape_name", ARRAYS)
def test_vjp_with_dask_and_with_numpy_cotangents(shape_name):
    values, x = dask_of(shape_name)
    fun = lambda x: np.sin(x) * np.exp(x)  # noqa: E731
    out, vjp_fn = lazily(lambda: fg.vjp(fun, x))
    assert isinstance(out, da.Array)
    want = fg.vjp(fun, values)[1](values)
    (from_dask,) = lazily(lambda: vjp_fn(x))
    (from_numpy,) = lazily(lambda: vjp_fn(values))
    for ct in (from_dask, from_numpy):
        assert isinstance(ct, da.Array) and ct.chunks == x.chunks
        assert_same(ct, want)


def test_vjp_float32_cotangent_is_cast_lazily():
    values, x = dask_of("1-D")
    _, vjp_fn = fg.vjp(np.sin, x)
    (ct,) = lazily(lambda: vjp_fn(x.astype(np.float32)))
    assert ct.dtype == np.float64
    assert_same(ct, fg.vjp(np.sin, values)[1](values.astype(np.float32)))


@pytest.mark.parametrize("shape_name", ARRAYS)
def test_jvp_with_dask_and_with_numpy_tangents(shape_name):
    values, x = dask_of(shape_name)
    fun = lambda x: np.tanh(x) * x + 2.0 * x  # noqa: E731
    want = fg.jvp(fun, (values,), (values,))
    for tangent in (x, values):
        out, t_out = lazily(lambda: fg.jvp(fun, (x,), (tangent,)))
        assert isinstance(out, da.Array) and isinstance(t_out, da.Array)
        assert t_out.chunks == x.chunks
        assert_same((out, t_out), want)


def test_linear_jvp_of_a_numpy_tangent_comes_back_as_dask():
    # 2 * t never touches the Dask primal: the tangent is still handed back in the primal's type
    values, x = dask_of("1-D")
    out, t_out = lazily(lambda: fg.jvp(lambda x: 2.0 * x, (x,), (values,)))
    assert isinstance(t_out, da.Array) and t_out.chunks == x.chunks
    assert_same(t_out, 2.0 * values)


def test_traced_numpy_tangent_of_a_dask_primal_differentiates_again():
    # the outer grad traces the tangent only: it must not be converted to Dask (that would read it)
    values, x = dask_of("1-D")
    fun = lambda x: np.sin(x) * x  # noqa: E731
    outer = lambda x: lambda v: np.sum(fg.jvp(fun, (x,), (v,))[1] ** 2)  # noqa: E731
    g = lazily(lambda: fg.grad(outer(x))(VECTOR[::-1]))
    assert isinstance(g, da.Array)
    assert_same(g, fg.grad(outer(values))(VECTOR[::-1]))


def test_linearize_is_lazy():
    values, x = dask_of("2-D uneven")
    out, f_jvp = lazily(lambda: fg.linearize(np.sin, x))
    t_out = lazily(lambda: f_jvp(x))
    assert isinstance(t_out, da.Array)
    assert_same(t_out, np.cos(values) * values)


@pytest.mark.parametrize("transform", [fg.jacfwd, fg.jacrev])
def test_jacobians_are_lazy(transform):
    values, x = dask_of("1-D")
    fun = lambda x: np.sin(x) * x[::-1]  # noqa: E731
    jac = lazily(lambda: transform(fun)(x))
    assert isinstance(jac, da.Array) and jac.shape == (7, 7)
    assert_same(jac, fg.jacfwd(fun)(values))


def test_hessian_and_grad_of_grad_are_lazy():
    values, x = dask_of("1-D")
    fun = FUNCTIONS["tanh-power"]
    hess = lazily(lambda: fg.hessian(fun)(x))
    assert isinstance(hess, da.Array)
    assert_same(hess, fg.hessian(fun)(values), rtol=1e-9)
    second = lazily(lambda: fg.grad(lambda x: np.sum(fg.grad(fun)(x) ** 2))(x))
    assert isinstance(second, da.Array) and second.chunks == x.chunks
    assert_same(second, fg.grad(lambda x: np.sum(fg.grad(fun)(x) ** 2))(values))


def test_stop_gradient_checkpoint_and_custom_rules_are_lazy():
    values, x = dask_of("2-D uneven")
    clipped = fg.custom_vjp(lambda x: np.sin(x))
    clipped.defvjp(lambda x: (np.sin(x), x), lambda x, g: (g * np.cos(x) * 3.0,))
    softplus = fg.custom_jvp(lambda x: np.log1p(np.exp(x)))
    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] / (1.0 + np.exp(-p[0]))))
    cases = {
        lambda x: np.sum(fg.stop_gradient(x) * x): lambda x: x,
        lambda x: np.sum(fg.checkpoint(lambda x: np.sin(np.sin(x)))(x)): lambda x: np.cos(np.sin(x)) * np.cos(x),
        lambda x: np.sum(clipped(x)): lambda x: 3.0 * np.cos(x),
        lambda x: np.sum(softplus(x)): lambda x: 1.0 / (1.0 + np.exp(-x)),
    }
    for fun, derivative in cases.items():
        g = lazily(lambda: fg.grad(fun)(x))
        assert isinstance(g, da.Array) and g.chunks == x.chunks
        assert_same(g, derivative(values))


def test_functional_update_and_integer_array_indexing_are_lazy():
    values, x = dask_of("1-D")
    picks = np.array([5, 0, 3])
    fun = lambda x: np.sum(x[picks] ** 2) + np.sum(x.at[1:3].multiply(2.0) * x)  # noqa: E731
    g = lazily(lambda: fg.grad(fun)(x))
    assert isinstance(g, da.Array)
    assert_same(g, fg.grad(fun)(values))


def test_repeated_integer_array_positions_are_refused_clearly():
    _, x = dask_of("1-D")
    with pytest.raises(TypeError, match="repeat positions"):
        lazily(lambda: fg.grad(lambda x: np.sum(x[np.array([1, 1, 2])]))(x))


def test_indexing_with_a_lazy_mask_is_refused_before_computing_it():
    values, x = dask_of("1-D")
    with TaskCounter() as counter, pytest.raises(TypeError, match=r"indexing with a dask\.array.* np\.where"):
        fg.grad(lambda x: np.sum(x[x > 0.5] ** 2))(x)
    assert counter.executed == 0
    # the fix the message names, and a computed index, both work
    masked = lazily(lambda: fg.grad(lambda x: np.sum(np.where(x > 0.5, x, 0.0) ** 2))(x))
    assert_same(masked, np.where(values > 0.5, 2 * values, 0.0))
    index = (x > 0.5).compute()
    assert_same(lazily(lambda: fg.grad(lambda x: np.sum(x[index] ** 2))(x)), np.where(index, 2 * values, 0.0))


def test_broadcasting_operands_get_cotangents_with_their_own_chunks():
    column = da.from_array(MATRIX[:, :1], chunks=((2, 3), 1))
    row = da.from_array(VECTOR[:4], chunks=((1, 3),))
    fun = lambda a, b, c: np.sum(np.sin(a * b) * c)  # noqa: E731
    grads = lazily(lambda: fg.grad(fun, argnums=(0, 1, 2))(column, row, 2.0))
    for g, primal in zip(grads[:2], (column, row)):
        assert isinstance(g, da.Array) and g.chunks == primal.chunks
    assert_same(grads, fg.grad(fun, argnums=(0, 1, 2))(MATRIX[:, :1], VECTOR[:4], 2.0))


def test_computing_the_gradient_holds_a_few_chunks_of_x_not_all_of_it():
    import tracemalloc

    import dask

    rows, chunk = 800_000, 40_000  # X: 25.6 MB in twenty chunks of 1.28 MB, generated chunk by chunk
    X = da.random.default_rng(3).normal(size=(rows, 4), chunks=(chunk, 4))
    y = da.sign(da.random.default_rng(4).normal(size=rows, chunks=chunk))
    g = lazily(lambda: fg.grad(logistic)(np.linspace(-0.5, 0.5, 4), X, y))
    dask.compute(g, scheduler="synchronous")  # the first compute also fills Dask's own caches
    tracemalloc.start()
    try:
        dask.compute(g, scheduler="synchronous")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    chunk_bytes = chunk * 4 * 8
    # a sum's cotangent spread as one NumPy view and rechunked made this grow with the number of chunks
    assert peak < 6 * chunk_bytes, f"computing the gradient peaked at {peak / chunk_bytes:.1f} chunks of X"


def test_mixed_pytree_gives_each_derivative_its_primal_type():
    _, data = dask_of("2-D uneven")
    weights = np.linspace(-1.0, 1.0, 4)
    params = {"weights": weights, "data": data}
    fun = lambda p: np.sum(p["weights"] ** 2) + np.sum(np.sin(p["data"]))  # noqa: E731
    g = lazily(lambda: fg.grad(fun)(params))
    assert type(g["weights"]) is np.ndarray
    np.testing.assert_allclose(g["weights"], 2 * weights)
    assert isinstance(g["data"], da.Array) and g["data"].chunks == data.chunks
    assert_same(g["data"], np.cos(MATRIX))


def test_numpy_weights_over_dask_data_get_a_lazy_gradient():
    # computing it would mean computing the data: it stays a Dask array (docs/dask.md)
    _, data = dask_of("2-D uneven")
    weights = np.linspace(-1.0, 1.0, 4)
    g = lazily(lambda: fg.grad(lambda w: np.sum(np.tanh(data @ w)))(weights))
    assert isinstance(g, da.Array) and g.shape == weights.shape
    assert_same(g, fg.grad(lambda w: np.sum(np.tanh(MATRIX @ w)))(weights))


def test_zero_derivative_of_a_dask_primal_is_dask_zeros_with_its_chunks():
    _, x = dask_of("2-D uneven")
    gx, gy = lazily(lambda: fg.grad(lambda x, y: np.sum(y**2), argnums=(0, 1))(x, VECTOR))
    assert isinstance(gx, da.Array) and gx.chunks == x.chunks and gx.dtype == x.dtype
    assert_same(gx, np.zeros_like(MATRIX))
    assert type(gy) is np.ndarray


def test_float32_primal_keeps_its_dtype():
    values, x = dask_of("2-D uneven")
    g = lazily(lambda: fg.grad(lambda x: np.sum(np.exp(x) * 2.0))(x.astype(np.float32)))
    assert g.dtype == np.float32
    assert_same(g, fg.grad(lambda x: np.sum(np.exp(x) * 2.0))(values.astype(np.float32)), rtol=1e-6)


@pytest.mark.parametrize(
    "fun, options",
    [
        (lambda z: np.sum(np.abs(z) ** 2), {}),
        (lambda z: np.sum(np.real(np.sin(z) * z)), {}),
        (lambda z: np.sum(z**3), {"holomorphic": True}),
    ],
)
def test_complex_primals_follow_the_numpy_convention(fun, options):
    values = VECTOR + 1j * VECTOR[::-1]
    z = da.from_array(values, chunks=((2, 5),))
    g = lazily(lambda: fg.grad(fun, **options)(z))
    assert g.dtype == np.complex128 and g.chunks == z.chunks
    assert_same(g, fg.grad(fun, **options)(values))


def test_real_primal_through_complex_values_gets_a_real_gradient():
    values, x = dask_of("2-D uneven")
    fun = lambda x: np.sum(np.real(np.exp(1j * x) * x))  # noqa: E731
    g = lazily(lambda: fg.grad(fun)(x))
    assert g.dtype == np.float64
    assert_same(g, fg.grad(fun)(values))


def test_integer_primal_gets_float0_with_allow_int():
    x = da.arange(4, chunks=2)
    g = lazily(lambda: fg.grad(lambda x: np.sum(x * 1.0), allow_int=True)(x))
    assert g.dtype == fg.float0 and g.shape == (4,)


def test_control_flow_computes_only_the_value_it_reads():
    values, x = dask_of("1-D")
    fun = lambda x: np.sum(x**2) if np.sum(x) > 1.0 else np.sum(x)  # noqa: E731
    with TaskCounter() as alone:
        bool(np.sum(x) > 1.0)
    with TaskCounter() as during:
        g = fg.grad(fun)(x)
    assert during.executed == alone.executed > 0
    assert_same(g, 2 * values)


def test_a_numpy_function_dask_lacks_is_a_type_error_naming_it_and_the_backend():
    _, x = dask_of("1-D")
    with TaskCounter() as counter, pytest.raises(TypeError, match=r"numpy\.argsort is not implemented by the dask"):
        fg.grad(lambda x: np.sum(np.sort(x)[:3]))(x)
    assert counter.executed == 0  # refused before Dask computed anything
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        np.sum(x).compute()  # the refusal's warning filter was only for the transform


@pytest.mark.parametrize(
    "fun, named",
    [
        (lambda x: np.sum(np.convolve(x, x)), r"numpy\.convolve is not implemented by the dask backend"),
        (lambda x: np.sum(np.interp(x, [0.0, 1.0], [0.0, 2.0])), r"interp on a dask\.array.*reads its values"),
    ],
)
def test_functions_that_would_compute_are_refused_by_name(fun, named):
    _, x = dask_of("1-D")
    with TaskCounter() as counter, pytest.raises(TypeError, match=named):
        fg.grad(fun)(x)
    assert counter.executed == 0


# --- linear algebra: Dask's conventions are not always NumPy's -------------------------------

SPD = MATRIX.T @ MATRIX + np.eye(4)
WEIGHTS = np.arange(1.0, 17.0).reshape(4, 4)


@pytest.mark.parametrize("upper", [False, True], ids=["lower", "upper"])
def test_cholesky_of_dask_is_numpys_factor_with_numpys_derivatives(upper):
    # Dask's own cholesky gives the upper factor by default; NumPy's is the lower one
    a = da.from_array(SPD, chunks=2)
    factor = lambda a: fnp.linalg.cholesky(a, upper=upper)  # noqa: E731
    assert_same(lazily(lambda: factor(a)), np.linalg.cholesky(SPD, upper=upper), rtol=1e-12)
    loss = lambda a: fnp.sum(factor(a) * WEIGHTS)  # noqa: E731  # not symmetric: reads which triangle is which
    assert_same(lazily(lambda: fg.grad(loss)(a)), fg.grad(loss)(SPD), rtol=1e-12)
    tangent = np.triu(WEIGHTS) + np.triu(WEIGHTS, 1).T
    got = lazily(lambda: fg.jvp(factor, (a,), (da.from_array(tangent, chunks=2),)))
    assert_same(got, fg.jvp(factor, (SPD,), (tangent,)), rtol=1e-12)
    assert_same(lazily(lambda: fg.hessian(loss)(a)), fg.hessian(loss)(SPD), rtol=1e-10)


def test_qr_and_svd_of_dask_agree_with_numpy_up_to_the_signs_of_their_vectors():
    # Dask's qr takes no mode and its svd no compute_uv; its signs of Q's columns (R's rows) and of the
    # singular vectors are its own, so the values agree up to those signs and sign-free derivatives exactly
    a = da.from_array(MATRIX, chunks=(2, 4))  # several row chunks: Dask's tall-and-skinny QR
    q, r = lazily(lambda: fnp.linalg.qr(a))
    want_q, want_r = np.linalg.qr(MATRIX)
    signs = np.sign(np.diag(computed(r))) * np.sign(np.diag(want_r))
    assert_same((q * signs, r * signs[:, None]), (want_q, want_r), rtol=1e-12)
    assert_same(lazily(lambda: fnp.linalg.qr(a, mode="r")) * signs[:, None], want_r, rtol=1e-12)
    assert_same(lazily(lambda: fnp.linalg.svd(a, compute_uv=False)), np.linalg.svd(MATRIX, compute_uv=False))
    u, s, vh = lazily(lambda: fnp.linalg.svd(a, full_matrices=False))
    assert_same(u * s @ vh, MATRIX, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fnp.linalg.svd(a)  # NumPy's default asks for full factors, which Dask refuses by name
    sign_free = {
        "qr": lambda a: fnp.sum(fnp.linalg.qr(a)[1] ** 2 * WEIGHTS) + fnp.sum(fnp.linalg.qr(a)[0] ** 2 * MATRIX),
        "qr r": lambda a: fnp.sum(fnp.linalg.qr(a, mode="r") ** 2 * WEIGHTS),
        "svd": lambda a: fnp.sum(fnp.linalg.svd(a, full_matrices=False)[2] ** 2 * WEIGHTS),
        "singular values": lambda a: fnp.sum(fnp.linalg.svd(a, compute_uv=False) * np.arange(1.0, 5.0)),
        "2-norm": lambda a: fnp.linalg.norm(a, 2),
    }
    for name, loss in sign_free.items():
        assert_same(lazily(lambda: fg.grad(loss)(a)), fg.grad(loss)(MATRIX), rtol=1e-10), name


def test_eigh_which_dask_lacks_is_refused_in_a_transform_by_name():
    a = da.from_array(SPD, chunks=2)
    with TaskCounter() as counter, pytest.raises(TypeError, match=r"numpy\.linalg\.eigh is not implemented by the dask"):
        fg.grad(lambda a: fnp.sum(fnp.linalg.eigh(a)[0]))(a)
    assert counter.executed == 0


def test_backend_helpers_find_the_dask_namespace():
    _, x = dask_of("2-D uneven")
    assert _backends.is_foreign(x) and not _backends.is_foreign(MATRIX)
    assert _backends.namespace(x) is da
    zeros = _backends.zeros_like(x)
    assert isinstance(zeros, da.Array) and zeros.chunks == x.chunks
    moved = _backends.to_backend(MATRIX, x)
    assert isinstance(moved, da.Array) and moved.chunks == x.chunks


def test_traced_dask_value_mixes_with_plain_dask_constants():
    values, x = dask_of("1-D")
    constant = da.from_array(VECTOR[::-1], chunks=2)
    fun = lambda x: np.sum(constant * x) + np.sum(np.multiply(constant, x**2))  # noqa: E731
    g = lazily(lambda: fg.grad(fun)(x))
    assert_same(g, VECTOR[::-1] * (1 + 2 * values))


def test_check_grads_agrees_on_a_dask_primal_computed_first():
    # check_grads works on NumPy values; the Dask path must agree with it after compute()
    values, x = dask_of("1-D")
    fun = FUNCTIONS["exp-log"]
    fg.testing.check_grads(fun, (values,), order=2, modes=("fwd", "rev"))
    assert_same(fg.grad(fun)(x), fg.grad(fun)(values))
    assert_same(fg.grad(lambda x: np.sum(fg.grad(fun)(x)))(x), fg.grad(lambda x: np.sum(fg.grad(fun)(x)))(values))


def test_fnp_namespace_functions_accept_dask():
    values, x = dask_of("2-D uneven")
    fun = lambda x: fnp.sum(fnp.einsum("ij,ij->i", x, x) * fnp.mean(x, axis=1))  # noqa: E731
    g = lazily(lambda: fg.grad(fun)(x))
    assert isinstance(g, da.Array)
    assert_same(g, fg.grad(fun)(values))


# --- a dask.distributed cluster --------------------------------------------------------


def least_squares(w, X, y):
    return np.sum((X @ w - y) ** 2) / 2


def logistic(w, X, y):
    return np.sum(np.logaddexp(0.0, -y * (X @ w)))


def hand_written(name, w, X, y):
    """The NumPy gradient of ``name`` at ``w`` for one block of rows."""
    if name == "least_squares":
        return X.T @ (X @ w - y)
    return X.T @ (-y / (1.0 + np.exp(y * (X @ w))))


def cluster_client(processes):
    distributed = pytest.importorskip("distributed", reason="the cluster tests need distributed: pip install funcgrad[dask]")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None, silence_logs=40
    )
    return cluster, distributed.Client(cluster, set_as_default=False)


@pytest.fixture(scope="module")
def threaded_client():
    cluster, client = cluster_client(processes=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def process_client():
    cluster, client = cluster_client(processes=True)
    yield client
    client.close()
    cluster.close()


def chunked_problem(rows, chunk, features=4):
    X = da.random.default_rng(1).normal(size=(rows, features), chunks=(chunk, features))
    y = da.sign(da.random.default_rng(2).normal(size=rows, chunks=chunk))
    return X, y, np.linspace(-0.5, 0.5, features)


def numpy_gradient(name, client, X, y, w):
    """The hand-written NumPy gradient, summed block by block (the data never sits in one array)."""
    total = np.zeros_like(w)
    for X_block, y_block in zip(X.to_delayed().ravel(), y.to_delayed().ravel()):
        X_np, y_np = client.compute([X_block, y_block], sync=True)
        total += hand_written(name, w, X_np, y_np)
    return total


def gradients_on(client, rows, chunk):
    X, y, w = chunked_problem(rows, chunk)
    for name, loss in {"least_squares": least_squares, "logistic": logistic}.items():
        g = lazily(lambda: fg.grad(loss)(w, X, y))
        assert isinstance(g, da.Array) and g.shape == w.shape
        got = client.compute(g, sync=True)
        np.testing.assert_allclose(got, numpy_gradient(name, client, X, y, w), rtol=1e-9)


def test_gradients_on_a_threaded_cluster(threaded_client):
    gradients_on(threaded_client, rows=200_000, chunk=50_000)


@pytest.mark.slow
def test_gradients_on_a_process_cluster(process_client):
    gradients_on(process_client, rows=200_000, chunk=50_000)


@pytest.mark.slow
def test_gradients_over_ten_million_rows(process_client):
    gradients_on(process_client, rows=10_000_000, chunk=500_000)
