"""vmap of the value-reading primitives (argmax family, sort, comparisons), lstsq and data-dependent shapes (issue 12).

Each batched result equals a loop over slices, and comes from one batched call: the loop fallback slices
its operands (``getitem[index=k]``) and stacks, which the program listing would show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import loop
from test_transform_agreement import CASES as AGREEMENT_CASES
from test_transform_agreement import JACOBIANS, _batch, _float64, _loop

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(1213)
X = RNG.normal(size=(4, 3, 5))


def _looped_in_program(f: Callable[..., Any], *args: Any) -> bool:
    return "getitem[index=1]" in str(fg.make_program(fg.vmap(f))(*args))


EDGES = np.array([-1.0, 0.0, 0.5])
CASES: list[tuple[str, Callable[..., Any]]] = [
    ("argmax", lambda x: fnp.argmax(x)),
    ("argmax_axis1", lambda x: fnp.argmax(x, axis=1)),
    ("argmin_axis0_keepdims", lambda x: fnp.argmin(x, 0, keepdims=True)),
    ("argmax_none_keepdims", lambda x: fnp.argmax(x, keepdims=True)),
    ("nanargmax_neg", lambda x: fnp.nanargmax(x, axis=-2)),
    ("argsort", lambda x: fnp.argsort(x)),
    ("argsort_none", lambda x: fnp.argsort(x, axis=None)),
    ("argsort_axis0", lambda x: fnp.argsort(x, 0)),
    ("argpartition", lambda x: fnp.argpartition(x, 2)),
    ("count_nonzero_tuple", lambda x: fnp.count_nonzero(x > 0, axis=(0, 1))),
    ("any", lambda x: fnp.any(x > 1)),
    ("all_axis", lambda x: fnp.all(x > -1, axis=-1)),
    ("sort_axis0", lambda x: fnp.sort(x, axis=0)),
    ("sort_last", lambda x: fnp.sort(x)),
    ("sort_none", lambda x: fnp.sort(x, axis=None)),
    ("partition", lambda x: fnp.partition(x, 1, axis=1)),
    ("take_along_argsort", lambda x: fnp.take_along_axis(x, fnp.argsort(x, axis=1), 1)),
    ("isclose", lambda x: fnp.isclose(x, 0.1 * fnp.round(10 * x))),
    ("allclose", lambda x: fnp.allclose(x, fnp.round(x), atol=0.5)),
    ("array_equal", lambda x: fnp.array_equal(fnp.round(x), fnp.round(x[::-1]))),
    ("array_equal_shapes", lambda x: fnp.array_equal(x, x[0])),
    ("array_equiv", lambda x: fnp.array_equiv(fnp.round(x), fnp.round(x)[0])),
    ("searchsorted", lambda x: fnp.searchsorted(EDGES, x)),
    ("digitize", lambda x: fnp.digitize(x, EDGES)),
    ("isin", lambda x: fnp.isin(fnp.round(x), np.array([0.0, 1.0]))),
    ("isposinf", lambda x: fnp.isposinf(fnp.where(x > 1, np.inf, x))),
    ("fix_nan_to_num", lambda x: fnp.fix(3 * x) + fnp.nan_to_num(fnp.where(x > 1, np.nan, x))),
    ("frexp_exponent", lambda x: fnp.frexp(x)[1]),
    ("norm_ord0", lambda x: fnp.linalg.norm(fnp.round(x), ord=0, axis=-1)),
    ("matrix_rank", lambda x: fnp.linalg.matrix_rank(fnp.round(x))),
]


@pytest.mark.parametrize("fun", [f for _, f in CASES], ids=[n for n, _ in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_reading_primitives_batch_in_one_call(fun: Callable[..., Any], dtype: type) -> None:
    x = X.astype(dtype)
    got = fg.vmap(fun)(x)
    want = loop(fun, x)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert not _looped_in_program(fun, x)
    # a batch axis that is not the first one, and a batch of size 0
    moved = np.moveaxis(x, 0, 2)
    np.testing.assert_array_equal(fg.vmap(fun, in_axes=2)(moved), want)
    empty = fg.vmap(fun)(x[:0])
    assert empty.shape == (0,) + want.shape[1:]


def test_complex_sort_and_argmax_batch() -> None:
    z = X + 1j * X[::-1]
    for fun in (lambda v: fnp.sort(v, axis=-1), lambda v: fnp.argmax(v, axis=0)):
        np.testing.assert_array_equal(fg.vmap(fun)(z), loop(fun, z))
        assert not _looped_in_program(fun, z)


def test_gradients_through_batched_sort_and_argmax_indexing() -> None:
    def loss(x: Any) -> Any:
        top = fnp.sort(x, axis=-1)[..., -2:]
        return fnp.sum(top**2) + fnp.sum(fnp.take_along_axis(x, fnp.argmax(x, axis=0)[None], 0))

    per_example = fg.vmap(fg.grad(loss))(X)
    np.testing.assert_allclose(per_example, loop(fg.grad(loss), X), rtol=1e-12)
    total = fg.grad(lambda x: fnp.sum(fg.vmap(loss)(x)))(X)
    np.testing.assert_allclose(total, per_example, rtol=1e-12)
    assert not _looped_in_program(fg.grad(loss), X)


A = RNG.normal(size=(6, 3))
AS = RNG.normal(size=(4, 6, 3))
B = RNG.normal(size=(4, 6))
B2 = RNG.normal(size=(4, 6, 2))


@pytest.mark.parametrize(
    ("in_axes", "args"),
    [((None, 0), (A, B)), ((None, 0), (A, B2)), ((0, None), (AS, B[0])), ((0, 0), (AS, B)), ((0, 0), (AS, B2))],
    ids=["matrix-vectors", "matrix-matrices", "matrices-vector", "both", "both-matrices"],
)
def test_lstsq_batches_against_a_loop(in_axes: tuple[Any, Any], args: tuple[Any, Any]) -> None:
    def solve(a: Any, b: Any) -> Any:
        x, residuals, rank, s = fnp.linalg.lstsq(a, b)
        return x, residuals, rank, s

    got = fg.vmap(solve, in_axes=in_axes)(*args)
    n = 4
    want = [solve(*(arg[k] if axis == 0 else arg for arg, axis in zip(args, in_axes))) for k in range(n)]
    for part, parts in zip(got, zip(*want)):
        np.testing.assert_allclose(part, np.stack(parts), rtol=1e-10, atol=1e-12)
    assert "getitem[index=1]" not in str(fg.make_program(fg.vmap(solve, in_axes=in_axes))(*args))
    grads = fg.grad(lambda a, b: fnp.sum(fnp.linalg.lstsq(a, b)[0] ** 2), argnums=(0, 1))
    batched = fg.vmap(grads, in_axes=in_axes)(*args)
    looped = [grads(*(arg[k] if axis == 0 else arg for arg, axis in zip(args, in_axes))) for k in range(n)]
    for k in range(2):
        expected = np.stack([g[k] for g in looped])
        np.testing.assert_allclose(batched[k], expected, rtol=1e-9, atol=1e-12)


def test_lstsq_ranks_that_differ_across_the_batch_are_refused() -> None:
    deficient = AS.copy()
    deficient[1, :, 2] = deficient[1, :, 1]
    with pytest.raises(TypeError, match="lstsq rank.*different ones"):
        fg.vmap(fnp.linalg.lstsq)(deficient, B)


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: fnp.nonzero(x > 0)[0],
        lambda x: fnp.argwhere(x > 0),
        lambda x: fnp.flatnonzero(x > 0),
        lambda x: x[x > 0],
        lambda x: fnp.unique(fnp.round(x)),
    ],
    ids=["nonzero", "argwhere", "flatnonzero", "boolean-mask", "unique"],
)
def test_data_dependent_shapes_are_refused_with_the_fix(fun: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match=r"shape depends on each example's values.*fnp.where"):
        fg.vmap(fun)(X)


def test_a_value_read_is_shared_by_the_batch_or_refused() -> None:
    counts = np.full(4, 2)
    got = fg.vmap(lambda x, n: fnp.repeat(x, n, axis=-1))(X, counts)
    np.testing.assert_array_equal(got, np.repeat(X, 2, axis=-1))
    with pytest.raises(TypeError, match="repeat.*different ones"):
        fg.vmap(lambda x, n: fnp.repeat(x, n, axis=-1))(X, np.arange(4))


def test_scipy_linalg_stacks_batch_in_one_call() -> None:
    pytest.importorskip("scipy", reason="funcgrad.scipy needs SciPy")
    import funcgrad.scipy.linalg as fsl

    m = RNG.normal(size=(4, 3, 3))
    spd = m @ np.swapaxes(m, 1, 2) + 3 * np.eye(3)
    cases = [
        (lambda a: fsl.cholesky(a, lower=True), spd),
        (fsl.expm, m / 3),
        (fsl.sqrtm, spd),
        (fsl.sqrtm, m),  # complex roots
        (lambda a: fsl.solve_sylvester(a, a.T, np.eye(3)), spd),
        (fg.grad(lambda a: fnp.sum(fsl.sqrtm(a))), spd),
    ]
    for fun, arg in cases:
        got, want = fg.vmap(fun)(arg), loop(fun, arg)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_batched_integer_indices_gather_in_one_call() -> None:
    logits = RNG.normal(size=(6, 4))
    labels = np.array([0, 3, 1, 2, 2, 0])

    def loss(z: Any, y: Any) -> Any:
        return fnp.log(fnp.sum(fnp.exp(z))) - z[y]

    cases = [
        (lambda z, y: z[y], (logits, labels)),
        (lambda z, y: fnp.take(z, y), (logits, labels)),
        (lambda z: z[fnp.argmax(z)], (logits,)),
        (loss, (logits, labels)),
        (fg.grad(loss), (logits, labels)),
    ]
    for fun, args in cases:
        np.testing.assert_allclose(fg.vmap(fun)(*args), loop(fun, *args), rtol=1e-12)
        assert not _looped_in_program(fun, *args)
    total = fg.grad(lambda z: fnp.sum(fg.vmap(loss)(z, labels)))(logits)
    np.testing.assert_allclose(total, loop(fg.grad(loss), logits, labels), rtol=1e-12)
    assert fg.vmap(lambda z, y: z[y])(logits[:0], labels[:0]).shape == (0,)


def test_the_hessian_of_lstsq_residuals_batches_as_a_loop() -> None:
    # the residuals' rules take the solution as pinv(a) @ b, the steps a stack of matrices takes under vmap
    # too (lstsq's batching rule): one matrix's LAPACK solution made the Hessians differ by rounding noise
    ((name, fn, args),) = [case.values for case in AGREEMENT_CASES if case.values[0] == "lstsq-mat_residuals"]
    fun = JACOBIANS["hessian"](lambda *a: fn(fnp, *a), 2)
    batch = _batch(_float64(args))
    batched, looped = fg.tree.tree_leaves(fg.vmap(fun)(*batch)), fg.tree.tree_leaves(_loop(fun, batch))
    for got, want in zip(batched, looped, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=name)
