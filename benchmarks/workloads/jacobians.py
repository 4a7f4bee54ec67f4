"""Jacobians, Hessians, vector-Jacobian products and nested derivatives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import sweep_memory_ratio, time_ratio
from benchmarks.workload import Phases, Workload, workload


@workload(
    time_ratio("Hessian / autograd's", 1.0, denominator="autograd"),
    time_ratio("Hessian / JAX eager's", 1.0, denominator="jax"),
    time_ratio("Hessian / analytic NumPy Hessian", 10.0),
)
def hessian(quick: bool, peers: Peers) -> Workload:
    """Hessian of ``sum(tanh(A @ x)) + log(sum(exp(x)))``."""
    n = 6 if quick else 50
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def numpy_hessian() -> np.ndarray:
        t = np.tanh(A @ x)
        s = np.exp(x - np.max(x))
        s /= np.sum(s)
        return (A.T * (-2.0 * t * (1.0 - t * t))) @ A + np.diag(s) - np.outer(s, s)

    def fg_f(v: Any) -> Any:
        return fnp.sum(fnp.tanh(A @ v)) + fnp.log(fnp.sum(fnp.exp(v)))

    fg_h = fg.hessian(fg_f)
    impls: dict[str, Callable[[], Any]] = {"numpy": numpy_hessian, "funcgrad": lambda: fg_h(x)}
    if peers.autograd:
        anp = peers.anp
        ag_h = peers.autograd.hessian(lambda v: anp.sum(anp.tanh(anp.dot(A, v))) + anp.log(anp.sum(anp.exp(v))))
        impls["autograd"] = lambda: ag_h(x)
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jA, jx = jnp.asarray(A), jnp.asarray(x)
        jax_h = jax.hessian(lambda v: jnp.sum(jnp.tanh(jA @ v)) + jnp.log(jnp.sum(jnp.exp(v))))
        jax_jit = jax.jit(jax_h)
        impls["jax"] = lambda: jax_h(jx).block_until_ready()
        impls["jax-jit"] = lambda: jax_jit(jx).block_until_ready()
    if peers.torch:
        torch = peers.torch
        tA, tx = torch.tensor(A), torch.tensor(x)
        impls["torch"] = lambda: torch.autograd.functional.hessian(
            lambda v: torch.sum(torch.tanh(tA @ v)) + torch.log(torch.sum(torch.exp(v))), tx
        )
    return Workload("hessian", f"hessian of sum(tanh(A@x)) + log(sum(exp(x))), x in R^{n}", impls)


def _jacobian(quick: bool, peers: Peers, mode: str) -> Workload:
    n = 8 if quick else 100
    rng = np.random.default_rng(2)
    B = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)

    def numpy_jacobian() -> np.ndarray:
        t = np.tanh(B @ x)
        return np.diag(t) + (x * (1.0 - t * t))[:, None] * B

    fg_jac = (fg.jacfwd if mode == "fwd" else fg.jacrev)(lambda v: fnp.tanh(B @ v) * v)
    impls: dict[str, Callable[[], Any]] = {"numpy": numpy_jacobian, "funcgrad": lambda: fg_jac(x)}
    if peers.autograd:
        anp = peers.anp
        # autograd has one jacobian, by reverse mode; it is the peer for both directions
        ag_jac = peers.autograd.jacobian(lambda v: anp.tanh(anp.dot(B, v)) * v)
        impls["autograd"] = lambda: ag_jac(x)
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jB, jx = jnp.asarray(B), jnp.asarray(x)
        jax_jac = (jax.jacfwd if mode == "fwd" else jax.jacrev)(lambda v: jnp.tanh(jB @ v) * v)
        jax_jit = jax.jit(jax_jac)
        impls["jax"] = lambda: jax_jac(jx).block_until_ready()
        impls["jax-jit"] = lambda: jax_jit(jx).block_until_ready()
    if peers.torch:
        torch = peers.torch
        tB, tx = torch.tensor(B), torch.tensor(x)
        strategy = "forward-mode" if mode == "fwd" else "reverse-mode"
        impls["torch"] = lambda: torch.autograd.functional.jacobian(
            lambda v: torch.tanh(tB @ v) * v, tx, vectorize=True, strategy=strategy
        )
    name = "jacfwd" if mode == "fwd" else "jacrev"
    return Workload(f"jacobian {mode}", f"{name} of tanh(B@x) * x, R^{n} -> R^{n}", impls)


@workload(time_ratio("forward-mode Jacobian / autograd's", 1.0, denominator="autograd"))
def jacobian_fwd(quick: bool, peers: Peers) -> Workload:
    """Jacobian of ``tanh(B @ x) * x`` by forward mode."""
    return _jacobian(quick, peers, "fwd")


@workload(
    time_ratio("reverse-mode Jacobian / autograd's", 1.0, denominator="autograd"),
    # every row of the Jacobian in one batched sweep
    time_ratio("reverse-mode Jacobian / analytic NumPy Jacobian", 25.0),
    time_ratio("reverse-mode Jacobian / torch's", 1.0, denominator="torch"),
)
def jacobian_rev(quick: bool, peers: Peers) -> Workload:
    """Jacobian of ``tanh(B @ x) * x`` by reverse mode."""
    return _jacobian(quick, peers, "rev")


@workload(time_ratio("4th derivative of tanh by nested grad / autograd's", 0.5, denominator="autograd"))
def tanh_4th(quick: bool, peers: Peers) -> Workload:
    """Fourth derivative of ``tanh`` by four nested ``grad``."""
    x0 = 0.3

    def numpy_d4() -> float:
        t = np.tanh(x0)
        return 8.0 * t * (1.0 - t * t) * (2.0 - 3.0 * t * t)

    def nest(grad: Any, f: Any) -> Any:
        for _ in range(4):
            f = grad(f)
        return f

    fg_d4 = nest(fg.grad, fnp.tanh)
    impls: dict[str, Callable[[], Any]] = {"numpy": numpy_d4, "funcgrad": lambda: fg_d4(x0)}
    if peers.autograd:
        ag_d4 = nest(peers.autograd.grad, peers.anp.tanh)
        impls["autograd"] = lambda: ag_d4(x0)
    if peers.jax:
        jax_d4 = nest(peers.jax.grad, peers.jnp.tanh)
        jax_jit = peers.jax.jit(jax_d4)
        impls["jax"] = lambda: jax_d4(x0).block_until_ready()
        impls["jax-jit"] = lambda: jax_jit(x0).block_until_ready()
    if peers.torch:
        torch = peers.torch

        def torch_d4() -> Any:
            x = torch.tensor(x0, requires_grad=True)
            y = torch.tanh(x)
            for _ in range(4):
                (y,) = torch.autograd.grad(y, x, create_graph=True)
            return y

        impls["torch"] = torch_d4
    return Workload("tanh 4th derivative", "grad(grad(grad(grad(tanh))))(0.3)", impls)


@workload(
    time_ratio("vjp_fn(ct) of 2 * x / 2 * ct by hand", 1.2),
    sweep_memory_ratio("vjp_fn(ct) of 2 * x memory / 2 * ct's", 1.05),
)
def large_vjp(quick: bool, peers: Peers) -> Workload:
    """``vjp_fn(ct)`` of ``f(x) = 2 * x`` on 1e6 elements with an explicit cotangent: the backward call only.

    The floor is the hand-written ``2 * ct``: one pass over the cotangent.  Every further pass over
    memory the engine makes (copying the seed, re-casting the result) shows here.
    """
    n = 1000 if quick else 1_000_000
    rng = np.random.default_rng(4)
    x, ct = rng.standard_normal(n), rng.standard_normal(n)
    _, fg_vjp = fg.vjp(lambda v: 2 * v, x)
    impls: dict[str, Callable[[], Any]] = {"numpy": lambda: 2 * ct, "funcgrad": lambda: fg_vjp(ct)}
    memory: dict[str, Phases] = {
        "numpy": (lambda: None, lambda _: 2 * ct),
        "funcgrad": (lambda: fg.vjp(lambda v: 2 * v, x)[1], lambda vjp_fn: vjp_fn(ct)),
    }
    if peers.autograd:
        ag_vjp, _ = peers.autograd.make_vjp(lambda v: 2 * v)(x)
        impls["autograd"] = lambda: ag_vjp(ct)
        memory["autograd"] = (lambda: peers.autograd.make_vjp(lambda v: 2 * v)(x)[0], lambda vjp_fn: vjp_fn(ct))
    if peers.jax:
        jax = peers.jax
        jx, jct = peers.jnp.asarray(x), peers.jnp.asarray(ct)
        _, jax_vjp = jax.vjp(lambda v: 2 * v, jx)
        jax_jit = jax.jit(lambda c: jax.vjp(lambda v: 2 * v, jx)[1](c))
        impls["jax"] = lambda: jax.block_until_ready(jax_vjp(jct))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jct))
    if peers.torch:
        torch = peers.torch
        tx, tct = torch.tensor(x, requires_grad=True), torch.tensor(ct)
        ty = 2 * tx
        impls["torch"] = lambda: torch.autograd.grad(ty, tx, tct, retain_graph=True)
    return Workload(
        "large vjp",
        f"vjp_fn(ct) of 2 * x, x and ct of {n:,} float64 elements (the backward call; the floor is 2 * ct)",
        impls,
        memory=memory,
        floor_name="2 * ct",
    )
