"""vmap (issue 12): batched results equal a loop over slices; composition; errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import loop

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(12)
X = RNG.normal(size=(4, 3))
M = RNG.normal(size=(4, 3, 3)) + 3 * np.eye(3)
W = RNG.normal(size=(3, 2))


# one line per batching kind: elementwise, leading, explicit rules
CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = [
    ("sin", fnp.sin, (X,)),
    ("add_unbatched_row", lambda x: x + np.arange(3.0), (X,)),
    ("mul_higher_rank_constant", lambda x: x * np.ones((2, 3)), (X,)),
    ("power", lambda x, y: fnp.abs(x) ** y, (X, X)),
    ("where", lambda x: fnp.where(x > 0, x, -2 * x), (X,)),
    ("sum_all", lambda x: fnp.sum(x), (X,)),
    ("sum_axis0", lambda x: fnp.sum(x, axis=0), (M,)),
    ("max_axis", lambda x: fnp.max(x, axis=-1), (M,)),
    ("cumsum_flat", lambda x: fnp.cumsum(x), (M,)),
    ("reshape", lambda x: fnp.reshape(x, (-1,)), (M,)),
    ("transpose", lambda x: x.T, (M,)),
    ("broadcast_to", lambda x: fnp.broadcast_to(x, (2, 3)), (X,)),
    ("concatenate_with_constant", lambda x: fnp.concatenate([x, np.ones(2)]), (X,)),
    ("getitem_slice", lambda x: x[1:, ::-1], (M,)),
    ("getitem_array", lambda x: x[np.array([2, 0, 2])], (X,)),
    ("getitem_mixed", lambda x: x[np.array([0, 2]), 1:], (M,)),
    ("at_add_repeated", lambda x: fnp.at(x)[np.array([0, 0, 2])].add(1.5 * x[:3]), (X,)),
    ("at_set", lambda x: fnp.at(x)[1:].set(2.0), (X,)),
    ("matmul_vec_mat", lambda x: x @ W, (X,)),
    ("matmul_vec_vec", lambda x, y: x @ y, (X, X)),
    ("matmul_mat_vec", lambda m, x: m @ x, (M, X)),
    ("matmul_mat_mat", lambda m: m @ m, (M,)),
    ("einsum", lambda m, x: fnp.einsum("ij,j->i", m, x), (M, X)),
    ("solve_vec", lambda m, x: fnp.linalg.solve(m, x), (M, X)),
    ("inv", fnp.linalg.inv, (M,)),
    ("det", fnp.linalg.det, (M,)),
    ("fft", lambda x: fnp.fft.fft(x), (X,)),
    ("norm", lambda x: fnp.linalg.norm(x), (X,)),
]


@pytest.mark.parametrize(("fun", "args"), [pytest.param(f, a, id=n) for n, f, a in CASES])
def test_vmap_equals_a_loop_over_slices(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    np.testing.assert_allclose(fg.vmap(fun)(*args), loop(fun, *args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("fun", "args"), [pytest.param(f, a, id=n) for n, f, a in CASES])
def test_vmap_of_plain_numpy_matches_on_float32_and_axis1(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    moved = tuple(np.moveaxis(a, 0, 1).astype(np.float32) for a in args)
    got = fg.vmap(fun, in_axes=1, out_axes=-1)(*moved)
    expected = np.moveaxis(loop(fun, *(np.moveaxis(m, 1, 0) for m in moved)), 0, -1)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)


def test_complex_values_batch() -> None:
    z = X + 1j * X[::-1]
    np.testing.assert_allclose(fg.vmap(lambda v: fnp.exp(v) * fnp.conj(v))(z), np.exp(z) * np.conj(z))


def test_batch_of_size_zero() -> None:
    out = fg.vmap(lambda x: fnp.sin(x) @ W)(np.zeros((0, 3)))
    assert out.shape == (0, 2)


def test_axis_size_with_nothing_mapped_broadcasts() -> None:
    out = fg.vmap(lambda x: x * 2, in_axes=None, axis_size=3)(np.arange(2.0))
    np.testing.assert_array_equal(out, np.tile([0.0, 2.0], (3, 1)))


def test_pytree_in_axes_prefix() -> None:
    params = {"w": W, "b": np.arange(2.0)}
    got = fg.vmap(lambda p, x: x @ p["w"] + p["b"], in_axes=({"w": None, "b": None}, 0))(params, X)
    np.testing.assert_allclose(got, X @ W + np.arange(2.0))


def _mlp_loss(params: list[tuple[Any, Any]], x: Any, y: Any) -> Any:
    h = x
    for w, b in params[:-1]:
        h = fnp.tanh(h @ w + b)
    w, b = params[-1]
    return fnp.sum((h @ w + b - y) ** 2)


def test_per_example_gradients_of_an_mlp_equal_a_loop_of_grad() -> None:
    sizes = [5, 7, 3]
    params = [(RNG.normal(size=(m, n)) / 2, RNG.normal(size=n)) for m, n in zip(sizes[:-1], sizes[1:])]
    xs, ys = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 3))
    batched = fg.vmap(fg.grad(_mlp_loss), in_axes=(None, 0, 0))(params, xs, ys)
    looped = [fg.grad(_mlp_loss)(params, x, y) for x, y in zip(xs, ys)]
    for layer, (gw, gb) in enumerate(batched):
        np.testing.assert_allclose(gw, np.stack([g[layer][0] for g in looped]), rtol=1e-12)
        np.testing.assert_allclose(gb, np.stack([g[layer][1] for g in looped]), rtol=1e-12)


def f_scalar(x: Any) -> Any:
    return fnp.sum(fnp.sin(x) * x[0])


def test_compositions_agree_with_loops() -> None:
    looped_grad = loop(fg.grad(f_scalar), X)
    np.testing.assert_allclose(fg.vmap(fg.grad(f_scalar))(X), looped_grad, rtol=1e-12)
    # grad of vmap through a reduction
    total = fg.grad(lambda xs: fnp.sum(fg.vmap(f_scalar)(xs)))(X)
    np.testing.assert_allclose(total, looped_grad, rtol=1e-12)
    # vmap of vmap
    outer = fg.vmap(fg.vmap(lambda a, b: a * fnp.sin(b), in_axes=(0, None)), in_axes=(None, 0))(X[0], X[1])
    np.testing.assert_allclose(outer, np.sin(X[1])[:, None] * X[0][None, :])
    # jacfwd of vmap, vmap of jacrev / jacfwd
    np.testing.assert_allclose(fg.jacfwd(fg.vmap(fnp.sin))(X[0:1])[0, :, 0, :], np.diag(np.cos(X[0])), atol=1e-14)
    jac = loop(fg.jacrev(lambda x: fnp.sin(x) * x[0]), X)
    np.testing.assert_allclose(fg.vmap(fg.jacrev(lambda x: fnp.sin(x) * x[0]))(X), jac, rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(fg.jacfwd(lambda x: fnp.sin(x) * x[0]))(X), jac, rtol=1e-12)
    # vmap of jvp and of a vjp function
    tangents = fg.vmap(lambda x: fg.jvp(fnp.sin, (x,), (fnp.ones_like(x),))[1])(X)
    np.testing.assert_allclose(tangents, np.cos(X))
    _, vjp_fn = fg.vjp(lambda x: fnp.sin(x) * 2.0, X[0])
    np.testing.assert_allclose(fg.vmap(vjp_fn)(np.eye(3))[0], np.diag(2 * np.cos(X[0])), atol=1e-14)


def test_no_perturbation_confusion_between_vmap_and_grad() -> None:
    # d/dx of sum_over_batch(x * y) with y mapped: the grad level must not see vmap's batch as its own
    def f(x: Any) -> Any:
        return fnp.sum(fg.vmap(lambda y: x * y)(np.arange(3.0)))

    assert fg.grad(f)(2.0) == 3.0


def test_mismatched_sizes_name_each_argument() -> None:
    with pytest.raises(ValueError, match=r"argument 0: axis 0 of size 4; argument 1: axis 1 of size 2"):
        fg.vmap(lambda a, b: a, in_axes=(0, 1))(X, np.ones((3, 2)))


def test_in_axes_not_a_prefix_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"argument 0\['b'\]"):
        fg.vmap(lambda p: p, in_axes=({"a": 0, "b": (0, 0)},))({"a": X, "b": X})
    with pytest.raises(ValueError, match="2 entries but the function was called with 1"):
        fg.vmap(lambda p: p, in_axes=(0, 0))(X)


def test_out_of_range_axis_names_the_fix() -> None:
    with pytest.raises(ValueError, match="in_axes 2 is out of range for argument 0.*valid axes are -2..1"):
        fg.vmap(fnp.sin, in_axes=2)(X)
    with pytest.raises(ValueError, match="out_axes 5 is out of range"):
        fg.vmap(fnp.sin, out_axes=5)(X)


def test_nothing_mapped_needs_axis_size() -> None:
    with pytest.raises(ValueError, match="axis_size"):
        fg.vmap(fnp.sin, in_axes=None)(X)


def test_bool_of_a_batched_value_is_refused() -> None:
    def f(x: Any) -> Any:
        return x if fnp.sum(x) > 0 else -x

    with pytest.raises(TypeError, match="fnp.where"):
        fg.vmap(f)(X)
