"""Dask graphs stream the data: peaks in chunks of X, task counts, unknown chunks, other schedulers (docs/dask.md).

Peaks are measured with tracemalloc on Dask's synchronous scheduler, in units
of one chunk of ``X`` (twenty chunks of 1.28 MB, generated chunk by chunk),
after a first compute has filled Dask's own caches; the hand-written Dask
graph of the same quantity is measured beside funcgrad's.
"""

from __future__ import annotations

import contextlib
import os
import time
import tracemalloc

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the Dask tests need the dask extra: pip install funcgrad[dask]")
import dask  # noqa: E402
from dask.base import collections_to_expr  # noqa: E402
from test_dask import TaskCounter  # noqa: E402

import funcgrad as fg  # noqa: E402
from funcgrad._dask import MERGED  # noqa: E402
from funcgrad._prims._ufuncs import logaddexp_weight_p, masked_scale_p  # noqa: E402

ROWS, CHUNK, FEATURES = 800_000, 40_000, 4
CHUNK_BYTES = CHUNK * FEATURES * 8


def problem():
    """A lazily generated X (20 chunks), labels y in {0, 1} generated beside it, NumPy weights."""
    X = da.random.default_rng(3).normal(size=(ROWS, FEATURES), chunks=(CHUNK, FEATURES))
    y = (da.random.default_rng(4).random(size=ROWS, chunks=CHUNK) > 0.5).astype(float)
    return X, y, np.linspace(-0.5, 0.5, FEATURES)


def logistic(w, X, y):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def difference_of_sums(w, X, y):
    """The logistic loss in dask-glm's form: two reductions over the rows."""
    z = X @ w
    return np.sum(z + np.log1p(np.exp(-z))) - np.dot(y, z)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def peak_in_chunks(tree) -> float:
    dask.compute(tree, scheduler="synchronous")  # fills Dask's caches (tokenize, dispatch) first
    tracemalloc.start()
    try:
        dask.compute(tree, scheduler="synchronous")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / CHUNK_BYTES


def task_count(*arrays) -> int:
    return sum(len(a.__dask_graph__()) for a in dask.optimize(*arrays))


def built_lazily(thunk):
    with TaskCounter() as counter:
        out = thunk()
    assert counter.executed == 0, f"building the graph executed {counter.executed} Dask task(s)"
    return out


# --- what is streamed -------------------------------------------------------------------


def test_a_plain_dask_operand_of_dot_is_not_computed():
    # np.asarray on the labels computed them while the graph was built, and the graph then held them whole
    X, y, w = problem()
    value, g = built_lazily(lambda: fg.value_and_grad(difference_of_sums)(w, X, y))
    assert not any(
        name.startswith("array-") and len(layer) == 1 and "rechunk" in str(layer)
        for name, layer in g.dask.layers.items()
    )
    assert "random" in " ".join(value.dask.layers)  # y is still the generated array, chunk by chunk
    Xb = X[:40_000].compute() @ w
    yb = y[:40_000].compute()
    want = fg.value_and_grad(difference_of_sums)(w, X[:40_000].compute(), yb)
    got = dask.compute(*built_lazily(lambda: fg.value_and_grad(difference_of_sums)(w, X[:40_000], y[:40_000])))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_allclose(got[1], X[:40_000].compute().T @ (sigmoid(Xb) - yb), rtol=1e-10)


def test_the_gradient_graph_has_the_hand_written_task_count():
    # a sum's cotangent spread as broadcasts of one shared task added a task per chunk and tied them together
    X, y, w = problem()
    g = built_lazily(lambda: fg.grad(logistic)(w, X, y))
    hand = X.T @ (sigmoid(X @ w) - y)
    assert task_count(g) <= task_count(hand)
    np.testing.assert_allclose(*dask.compute(g, hand), rtol=1e-10)


def _combinations():
    X, y, w = problem()
    v = np.array([1.0, -1.0, 0.5, 2.0])
    s = sigmoid(X @ w)
    return {
        "grad": (lambda: fg.grad(logistic)(w, X, y), lambda: X.T @ (s - y)),
        "value_and_grad": (
            lambda: fg.value_and_grad(logistic)(w, X, y),
            lambda: (logistic(w, X, y), X.T @ (s - y)),
        ),
        "grad and jvp": (
            lambda: (fg.grad(logistic)(w, X, y), fg.jvp(lambda w: logistic(w, X, y), (w,), (v,))),
            lambda: (X.T @ (s - y), (logistic(w, X, y), np.dot(s - y, X @ v))),
        ),
    }


@pytest.mark.parametrize("combination", ["grad", "value_and_grad", "grad and jvp"])
def test_derivative_graphs_computed_together_hold_a_few_chunks_of_x(combination):
    funcgrad_side, hand_side = _combinations()[combination]
    ours = built_lazily(funcgrad_side)
    hand = hand_side()
    got, want = dask.compute(ours, hand)
    for a, b in zip(fg.tree.tree_flatten(got)[0], fg.tree.tree_flatten(want)[0]):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    # grad and jvp together held every chunk of X (32 chunks) while the cotangent was one shared task
    peak = peak_in_chunks(ours)
    assert peak < 4.5, f"{combination}: funcgrad's graph peaked at {peak:.1f} chunks of X"


def _together():
    X, y, w = problem()
    v = np.array([1.0, -1.0, 0.5, 2.0])
    s = sigmoid(X @ w)
    return {
        "value_and_grad, difference of sums": (
            lambda: fg.value_and_grad(difference_of_sums)(w, X, y),
            lambda: (difference_of_sums(w, X, y), X.T @ (s - y)),
        ),
        "grad and hessian": (
            lambda: (fg.grad(logistic)(w, X, y), fg.hessian(logistic)(w, X, y)),
            lambda: (X.T @ (s - y), (X.T * (s * (1.0 - s))) @ X),
        ),
        "grad and hvp": (
            lambda: fg.hvp(lambda w: logistic(w, X, y), (w,), (v,)),
            lambda: (X.T @ (s - y), (X.T * (s * (1.0 - s))) @ (X @ v)),
        ),
        "grad and hessian, X closed over": (
            lambda: (fg.grad(lambda w: logistic(w, X, y))(w), fg.hessian(lambda w: logistic(w, X, y))(w)),
            lambda: (X.T @ (s - y), (X.T * (s * (1.0 - s))) @ X),
        ),
    }


@pytest.mark.parametrize("combination", list(_together()))
def test_outputs_sharing_each_chunks_work_stream_x(combination):
    # each output's per-chunk steps were separate tasks, shared between the outputs, and the scheduler ran one
    # output's work over every chunk before the other's, holding X between (28-38 chunks; hand-written hvp and
    # difference of sums still do): now each chunk's work for every output is one task
    funcgrad_side, hand_side = _together()[combination]
    ours = built_lazily(funcgrad_side)
    got, want = dask.compute(ours, hand_side(), scheduler="synchronous")
    unmerged = dask.compute(ours, scheduler="synchronous", optimize_graph=False)[0]
    for a, b, c in zip(*(fg.tree.tree_flatten(t)[0] for t in (got, want, unmerged))):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_array_equal(a, c)  # the same tasks run: the same bits
    peak = peak_in_chunks(ours)
    assert peak < 4.5, f"{combination}: funcgrad's graph peaked at {peak:.1f} chunks of X"
    # each chunk of X is generated once, however the outputs were made (a closure's Hessian once generated it again)
    graph = dict(collections_to_expr(fg.tree.tree_flatten(ours)[0]).optimize().__dask_graph__())
    generated = [key for key in _keys_run(graph) if isinstance(key, tuple) and key[0].startswith("normal")]
    assert sorted(generated) == sorted(key for (key,) in X_KEYS)


def _keys_run(graph):
    """Every key a graph runs, those inside fused tasks included."""
    for key, task in graph.items():
        yield key
        if getattr(getattr(task, "func", None), "__name__", None) == "_execute_subgraph":
            yield from _keys_run(task.args[0])


X_KEYS = problem()[0].__dask_keys__()


def _merged_chunks(*arrays):
    """The merged chunk tasks of the graph ``dask.compute(*arrays)`` runs, each with the keys of the tasks it runs."""
    graph = dict(collections_to_expr(arrays).optimize().__dask_graph__())  # (dask.optimize optimises each alone)
    return {
        key: set(task.args[0]) for key, task in graph.items() if isinstance(key, tuple) and key[0].startswith(MERGED)
    }, graph


def test_each_chunk_is_generated_once_in_one_task_for_every_output():
    X, y, w = problem()
    g, H = built_lazily(lambda: (fg.grad(logistic)(w, X, y), fg.hessian(logistic)(w, X, y)))
    merged, graph = _merged_chunks(g, H)
    assert len(merged) == len(X.chunks[0])
    generated = sorted(key for inner in merged.values() for key in inner if key[0].startswith("normal"))
    assert generated == sorted(X.__dask_keys__()[i][0] for i in range(len(X.chunks[0])))
    assert not [key for key in graph if isinstance(key, tuple) and key[0].startswith("normal")]
    # computed with a plain Dask array, funcgrad's arrays keep their own optimisation
    hand = X.T @ (sigmoid(X @ w) - y)
    np.testing.assert_allclose(dask.compute(g, hand)[0], hand.compute(), rtol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        lambda w, X, y: np.sum((X @ w - np.mean(X @ w)) ** 2),  # each chunk's backward work reads a reduction
        lambda w, X, y: np.sum(np.logaddexp(0.0, X @ w) * y[::-1]),  # chunks of X meet other chunks of y
        lambda w, X, y: np.sum(np.tanh(X @ w)) * np.sum(y),  # a chunk of y is read by no chunk of X
    ],
    ids=["centred", "reversed labels", "separate sums"],
)
def test_merged_chunks_give_the_same_bits(loss):
    X, y, w = problem()
    X, y = X[:200_000], y[:200_000]
    value, g = built_lazily(lambda: fg.value_and_grad(loss)(w, X, y))
    H = built_lazily(lambda: fg.hessian(loss)(w, X, y))
    got = dask.compute(value, g, H, scheduler="synchronous")
    unmerged = dask.compute(value, g, H, scheduler="synchronous", optimize_graph=False)
    for a, b in zip(got, unmerged):
        np.testing.assert_array_equal(a, b)
    want = fg.value_and_grad(loss)(w, X.compute(), y.compute())
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)


def test_the_hessian_is_one_pass_over_x():
    X, y, w = problem()
    s = sigmoid(X @ w)
    hessian = built_lazily(lambda: fg.hessian(logistic)(w, X, y))
    hand = (X.T * (s * (1.0 - s))) @ X
    np.testing.assert_allclose(*dask.compute(hessian, hand), rtol=1e-9)
    # every task of the Hessian reads at most one chunk of X, and each chunk is generated once
    merged, _ = _merged_chunks(hessian)
    generated = [key for inner in merged.values() for key in inner if key[0].startswith("normal")]
    assert len(generated) == len(X.chunks[0])
    assert task_count(hessian) <= 1.5 * task_count(hand)
    # the batch of tangents is X's own rows (no product with the seed eye(4)), scaled once per chunk: no
    # elementwise step of the loss's rules runs on the whole batch (6.5 chunks when each one did)
    products = [name for name in hessian.dask.layers if name.startswith("matmul")]
    assert len(products) == 2  # X @ w and the contraction with X


def test_the_hessian_peaks_within_a_third_of_the_hand_written():
    # the batch of tangents (X's rows) was zeroed where logaddexp's rule masks and then scaled: two arrays of a
    # chunk's size beside the chunk (4.7 chunks against 3.1); masked_scale makes the zeroed, scaled batch in one
    X, y, w = problem()
    s = sigmoid(X @ w)
    hessian = fg.hessian(logistic)(w, X, y)
    hand = (X.T * (s * (1.0 - s))) @ X
    assert peak_in_chunks(hessian) <= 1.3 * peak_in_chunks(hand)


def test_the_hessian_vector_product_peaks_within_a_third_of_the_hand_written():
    # fg.hvp gives the gradient too; the hand-written side is the product alone (computed with the gradient in
    # one dask.compute, the hand-written graph holds X: 27 chunks)
    X, y, w = problem()
    v = np.array([1.0, -1.0, 0.5, 2.0])
    s = sigmoid(X @ w)
    ours = built_lazily(lambda: fg.hvp(lambda w: logistic(w, X, y), (w,), (v,)))
    hand = (X.T * (s * (1.0 - s))) @ (X @ v)
    np.testing.assert_allclose(*dask.compute(ours[1], hand), rtol=1e-10)
    assert peak_in_chunks(ours) <= 1.3 * peak_in_chunks(hand)


def test_masked_scale_runs_chunk_by_chunk_lazily_with_numpys_values():
    # the zeroed, scaled batch over Dask arrays: one kernel per block, operands broadcast and their chunks lined
    # up as NumPy and Dask's own elementwise operations do, the values those of NumPy's where and product
    rng = np.random.default_rng(8)
    base, factor, keep = rng.normal(size=(3, 40)), rng.normal(size=40), rng.random(40) > 0.3
    base[0, :5] = [np.inf, np.nan, -np.inf, np.inf, 1.0]
    factor[3] = -np.inf
    with np.errstate(invalid="ignore"):
        want = np.where(keep, base, 0.0) * factor
    for b, f, k in [
        (da.from_array(base, chunks=(3, 10)), factor, keep),
        (da.from_array(base, chunks=(2, 10)), da.from_array(factor, chunks=15), da.from_array(keep, chunks=8)),
        (base, da.from_array(factor, chunks=20), keep),
        (da.from_array(base, chunks=(3, 10)), -2.5, da.from_array(keep, chunks=10)),
    ]:
        got = built_lazily(lambda: masked_scale_p(b, f, k))  # noqa: B023
        assert isinstance(got, da.Array) and got.dtype == want.dtype
        with np.errstate(invalid="ignore"):
            expected = np.where(keep, base, 0.0) * (np.asarray(f) if np.ndim(f) else f)
            np.testing.assert_array_equal(got.compute(scheduler="synchronous"), expected)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(masked_scale_p(da.from_array(base, chunks=(3, 10)), factor, keep).compute(), want)


def test_logaddexps_weight_runs_block_by_block_with_numpys_values():
    # on Dask the formula's general path (an isinf test, three wheres, a difference, an exp) ran over every chunk;
    # block by block each takes NumPy's path: one exp where the block holds no infinity
    x = np.linspace(-3.0, 3.0, 40)
    y = np.cos(x)
    x[[3, 4, 30]] = [-np.inf, np.inf, -np.inf]
    y[[4, 30, 31]] = [1.0, -np.inf, np.inf]
    with np.errstate(all="ignore"):
        ans = np.logaddexp(x, y)
        want = logaddexp_weight_p(ans, x, y)
        dx, dy = (da.from_array(v, chunks=10) for v in (x, y))
        got = built_lazily(lambda: logaddexp_weight_p(np.logaddexp(dx, dy), dx, y))
        assert isinstance(got, da.Array)
        np.testing.assert_array_equal(got.compute(scheduler="synchronous"), want)
        # and the derivatives through it, on Dask and on NumPy: the same bits
        loss = lambda x, y: np.sum(np.logaddexp(x, y) * np.sin(x))  # noqa: E731
        for mine, theirs in zip(fg.grad(loss, argnums=(0, 1))(dx, dy), fg.grad(loss, argnums=(0, 1))(x, y)):
            np.testing.assert_array_equal(mine.compute(scheduler="synchronous"), theirs)


# --- unknown chunk sizes --------------------------------------------------------------------


def masked():
    X = da.random.default_rng(0).normal(size=(1000, 3), chunks=(250, 3))
    keep = X[:, 0] > 0
    return X[keep], da.sign(X[:, 1])[keep]


@pytest.mark.parametrize(
    "build, named",
    [
        (
            lambda X, y: fg.grad(lambda w, X, y: np.mean(np.logaddexp(0.0, -y * (X @ w))))(np.ones(3), X, y),
            "argument 1",
        ),
        (lambda X, y: fg.grad(lambda w, X, y: np.sum(np.logaddexp(0.0, -y * (X @ w))))(np.ones(3), X, y), "argument 1"),
        (lambda X, y: fg.jvp(np.sum, (X,), (X,)), "argument 0"),
        (lambda X, y: fg.grad(lambda w: np.sum((X @ w) ** 2))(np.ones(3)), "the array 'pow"),
        (lambda X, y: fg.grad(lambda w: np.mean((X @ w) ** 2))(np.ones(3)), "the array whose mean is taken"),
    ],
    ids=["mean", "sum", "jvp", "closure", "closure mean"],
)
def test_unknown_chunk_sizes_are_refused_while_building(build, named):
    X, y = masked()
    with TaskCounter() as counter, pytest.raises(ValueError) as refused:
        build(X, y)
    assert counter.executed == 0
    message = str(refused.value)
    assert named in message
    assert "unknown chunk sizes (axis 0: (nan, nan, nan, nan))" in message
    assert "compute_chunk_sizes()" in message and "np.where(mask, x, 0)" in message


def test_computed_chunk_sizes_are_accepted():
    X, y = masked()
    X, y = X.compute_chunk_sizes(), y.compute_chunk_sizes()
    loss = lambda w, X, y: np.mean(np.logaddexp(0.0, -y * (X @ w)))  # noqa: E731
    g = built_lazily(lambda: fg.grad(loss)(np.ones(3), X, y))
    np.testing.assert_allclose(g.compute(), fg.grad(loss)(np.ones(3), X.compute(), y.compute()), rtol=1e-12)


# --- other schedulers, failures -------------------------------------------------------------


@pytest.mark.slow
def test_the_same_graph_runs_on_rays_dask_scheduler():
    ray = pytest.importorskip("ray", reason="the Ray test needs ray: pip install 'ray[default]'")
    ray_dask = pytest.importorskip("ray.util.dask", reason="Ray's Dask scheduler needs ray and pandas")
    X, y, w = problem()
    X, y = X[:200_000], y[:200_000]
    value, g = built_lazily(lambda: fg.value_and_grad(logistic)(w, X, y))
    want = dask.compute(value, g, scheduler="synchronous")
    ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        got = dask.compute(value, g, scheduler=ray_dask.ray_dask_get)
    finally:
        ray.shutdown()
    np.testing.assert_array_equal(got[0], want[0])  # the same graph, the same sums in the same order
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.slow
def test_a_killed_worker_leaves_the_result_unchanged():
    distributed = pytest.importorskip("distributed", reason="needs distributed: pip install funcgrad[dask]")
    X, y, w = problem()
    g = built_lazily(lambda: fg.grad(logistic)(w, X, y))
    want = g.compute(scheduler="synchronous")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        future = client.compute(g)
        while not any(client.processing().values()):  # the graph is running
            time.sleep(0.01)
        victim = next(address for address, tasks in client.processing().items() if tasks)
        with contextlib.suppress(Exception):  # the worker dies before it can answer
            client.run(os._exit, 1, workers=[victim], nanny=False)
        got = future.result(timeout=120)
    np.testing.assert_array_equal(got, want)
