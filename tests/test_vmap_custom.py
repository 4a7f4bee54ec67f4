"""vmap of custom_vjp, custom_jvp, checkpoint and stop_gradient (issue 12): against loops over examples.

The custom rules below deliberately differ from the true derivative (a clipped or doubled gradient),
so a result that comes from differentiating the function itself instead of the rule is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import loop

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(1207)
X = RNG.normal(size=(5, 3)) * 2
Y = RNG.normal(size=3)


@fg.custom_vjp
def clipped(x: Any, y: Any) -> Any:
    return fnp.sin(x) * y


def _clipped_fwd(x: Any, y: Any) -> Any:
    return clipped(x, y), (fnp.cos(x), fnp.sin(x), y)


def _clipped_bwd(res: Any, g: Any) -> Any:
    cos, sin, y = res
    return fnp.clip(g * cos * y, -0.3, 0.3), g * sin


clipped.defvjp(_clipped_fwd, _clipped_bwd)


@fg.custom_jvp
def doubled(x: Any, y: Any) -> Any:
    return fnp.exp(x) * y


@doubled.defjvp
def _doubled_jvp(primals: Any, tangents: Any) -> Any:
    (x, y), (tx, ty) = primals, tangents
    return doubled(x, y), 2.0 * (tx * fnp.exp(x) * y + ty * fnp.exp(x))


def _rule_grads(fun: Callable[..., Any]) -> Callable[..., Any]:
    return fg.grad(lambda x, y: fnp.sum(fun(x, y)), argnums=(0, 1))


@pytest.mark.parametrize("fun", [clipped, doubled], ids=["custom_vjp", "custom_jvp"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vmap_of_custom_rules_equals_a_loop(fun: Callable[..., Any], dtype: type) -> None:
    x, y = X.astype(dtype), Y.astype(dtype)
    got = fg.vmap(fun, in_axes=(0, None))(x, y)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, loop(lambda a: fun(a, y), x), rtol=1e-6)
    # vmap(grad(f)): the rule runs on batched values
    grads = _rule_grads(fun)
    batched = fg.vmap(grads, in_axes=(0, None))(x, y)
    looped = [grads(a, y) for a in x]
    for k in range(2):
        np.testing.assert_allclose(batched[k], np.stack([g[k] for g in looped]), rtol=1e-5)


@pytest.mark.parametrize("fun", [clipped, doubled], ids=["custom_vjp", "custom_jvp"])
def test_grad_of_vmap_keeps_the_custom_rule(fun: Callable[..., Any]) -> None:
    total = lambda x, y: fnp.sum(fg.vmap(fun, in_axes=(0, None))(x, y))  # noqa: E731
    gx, gy = fg.grad(total, argnums=(0, 1))(X, Y)
    looped = [_rule_grads(fun)(a, Y) for a in X]
    np.testing.assert_allclose(gx, np.stack([g[0] for g in looped]), rtol=1e-12)
    np.testing.assert_allclose(gy, np.sum([g[1] for g in looped], axis=0), rtol=1e-12)  # the unbatched y sums
    # the rule, not the function's own derivative
    plain = fg.grad(lambda x: fnp.sum(fun.fun(x, Y)))(X)
    assert not np.allclose(gx, plain)


def test_forward_mode_through_a_batched_custom_jvp() -> None:
    jac = fg.jacfwd(fg.vmap(doubled, in_axes=(0, None)))(X[:2], Y)
    expected = 2.0 * np.exp(X[:2]) * Y
    np.testing.assert_allclose(np.einsum("ijij->ij", jac), expected, rtol=1e-12)
    _, t = fg.jvp(lambda x: fg.vmap(doubled, in_axes=(0, None))(x, Y), (X,), (np.ones_like(X),))
    np.testing.assert_allclose(t, 2.0 * np.exp(X) * Y, rtol=1e-12)


def test_both_arguments_batched_and_nondiff_argnums() -> None:
    import functools

    @functools.partial(fg.custom_vjp, nondiff_argnums=(0,))
    def scaled(k: Any, x: Any) -> Any:
        return k * fnp.tanh(x)

    scaled.defvjp(lambda k, x: (scaled(k, x), x), lambda k, x, g: (3.0 * k * g,))
    ks = np.arange(1.0, 6.0)
    got = fg.vmap(fg.grad(lambda k, x: fnp.sum(scaled(k, x)), argnums=1))(ks, X)
    np.testing.assert_allclose(got, 3.0 * ks[:, None] * np.ones_like(X))
    np.testing.assert_allclose(fg.vmap(scaled)(ks, X), ks[:, None] * np.tanh(X))
    both = fg.vmap(fg.grad(lambda x, y: fnp.sum(clipped(x, y)), argnums=(0, 1)))(X, X[::-1])
    loop = [fg.grad(lambda x, y: fnp.sum(clipped(x, y)), argnums=(0, 1))(a, b) for a, b in zip(X, X[::-1])]
    np.testing.assert_allclose(both[0], np.stack([g[0] for g in loop]))
    np.testing.assert_allclose(both[1], np.stack([g[1] for g in loop]))


def test_jacrev_through_custom_vjp_runs_bwd_on_the_basis() -> None:
    jac = fg.jacrev(lambda x: clipped(x, Y))(X[0])
    np.testing.assert_allclose(jac, np.diag(np.clip(np.cos(X[0]) * Y, -0.3, 0.3)))


def test_a_custom_rule_closing_over_a_batched_value_is_refused() -> None:
    def outer(x: Any, y: Any) -> Any:
        f = fg.custom_vjp(lambda x: x * y)
        f.defvjp(lambda x: (x * y, None), lambda res, g: (g,))
        return f(x)

    with pytest.raises(TypeError, match="closes over a value"):
        fg.vmap(outer)(X, X)
    # closing over an unbatched value is fine
    np.testing.assert_allclose(fg.vmap(outer, in_axes=(0, None))(X, Y), X * Y)


def test_checkpoint_under_vmap_still_recomputes_for_grad() -> None:
    calls = []

    @fg.checkpoint
    def block(x: Any, w: Any, scale: Any = 1.0) -> Any:
        calls.append(1)
        return fnp.sin(x @ w) * scale

    w = RNG.normal(size=(3, 3))
    np.testing.assert_allclose(fg.vmap(block, in_axes=(0, None))(X, w, scale=np.arange(5.0)), np.sin(X @ w) * np.arange(5.0)[:, None])
    calls.clear()
    gx, gw = fg.grad(lambda x, w: fnp.sum(fg.vmap(block, in_axes=(0, None))(x, w)), argnums=(0, 1))(X, w)
    assert len(calls) == 2  # run, then run again on the backward pass: the checkpoint node was recorded
    ref = fg.grad(lambda x, w: fnp.sum(fnp.sin(x @ w)), argnums=(0, 1))(X, w)
    np.testing.assert_allclose(gx, ref[0], rtol=1e-12)
    np.testing.assert_allclose(gw, ref[1], rtol=1e-12)
    grads = fg.grad(lambda x: fnp.sum(block(x, w)))
    np.testing.assert_allclose(fg.vmap(grads)(X), loop(grads, X), rtol=1e-12)


def test_stop_gradient_batches_without_a_loop() -> None:
    program = str(fg.make_program(fg.vmap(lambda x: fg.stop_gradient(x) * x))(X))
    assert "getitem" not in program and "stack" not in program
    g = fg.vmap(fg.grad(lambda x: fnp.sum(fg.stop_gradient(x) * x)))(X)
    np.testing.assert_allclose(g, X)
    total = fg.grad(lambda x: fnp.sum(fg.vmap(lambda v: fg.stop_gradient(v) * v)(x)))(X)
    np.testing.assert_allclose(total, X)
