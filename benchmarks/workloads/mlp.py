"""The MLP: a tanh network's gradient w.r.t. a list of (W, b) pairs, and per-example gradients by vmap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import time_ratio
from benchmarks.workload import Workload, workload


@dataclass
class MLPProblem:
    """The MLP workloads' problem: parameters, data, the hand-written gradient and funcgrad's loss."""

    sizes: tuple[int, ...]
    batch: int
    params: list[tuple[np.ndarray, np.ndarray]]
    X: np.ndarray
    T: np.ndarray
    numpy_grad: Callable[[], list[tuple[np.ndarray, np.ndarray]]]
    fg_loss: Callable[[Any], Any]


def mlp_problem(quick: bool) -> MLPProblem:
    """A tanh MLP with softmax cross-entropy (784-256-256-10, batch 128; tiny when ``quick``), float64."""
    sizes = (20, 16, 16, 4) if quick else (784, 256, 256, 10)
    batch = 8 if quick else 128
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n)) for m, n in zip(sizes[:-1], sizes[1:])
    ]
    X = rng.standard_normal((batch, sizes[0]))
    labels = rng.integers(0, sizes[-1], batch)
    T = np.eye(sizes[-1])[labels]

    def numpy_grad() -> list[tuple[np.ndarray, np.ndarray]]:
        hs = [X]
        h = X
        for W, b in params[:-1]:
            h = np.tanh(h @ W + b)
            hs.append(h)
        W, b = params[-1]
        z = h @ W + b
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        dz = (p - T) / batch
        grads = [(hs[-1].T @ dz, np.sum(dz, axis=0))]
        dh = dz @ W.T
        for i in range(len(params) - 2, -1, -1):
            da = dh * (1.0 - hs[i + 1] * hs[i + 1])
            grads.append((hs[i].T @ da, np.sum(da, axis=0)))
            if i:
                dh = da @ params[i][0].T
        return grads[::-1]

    def fg_loss(ps: Any) -> Any:
        h = X
        for W, b in ps[:-1]:
            h = fnp.tanh(h @ W + b)
        W, b = ps[-1]
        z = h @ W + b
        z = z - fnp.max(fg.stop_gradient(z), axis=1, keepdims=True)
        return -fnp.sum(T * (z - fnp.log(fnp.sum(fnp.exp(z), axis=1, keepdims=True)))) / batch

    return MLPProblem(sizes, batch, params, X, T, numpy_grad, fg_loss)


def mlp_peer_impls(problem: MLPProblem, peers: Peers) -> dict[str, Callable[[], Any]]:
    """Every installed peer's gradient of the MLP problem, by name."""
    batch, params, X, T = problem.batch, problem.params, problem.X, problem.T
    impls: dict[str, Callable[[], Any]] = {}
    if peers.autograd:
        anp = peers.anp
        from autograd.scipy.special import logsumexp as ag_logsumexp

        def ag_loss(ps: Any) -> Any:
            h = X
            for W, b in ps[:-1]:
                h = anp.tanh(anp.dot(h, W) + b)
            W, b = ps[-1]
            z = anp.dot(h, W) + b
            return -anp.sum(T * (z - ag_logsumexp(z, axis=1, keepdims=True))) / batch

        ag_grad = peers.autograd.grad(ag_loss)
        impls["autograd"] = lambda: ag_grad(params)
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jparams = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        jX, jT = jnp.asarray(X), jnp.asarray(T)

        def jax_loss(ps: Any) -> Any:
            h = jX
            for W, b in ps[:-1]:
                h = jnp.tanh(h @ W + b)
            W, b = ps[-1]
            z = h @ W + b
            return -jnp.sum(jT * (z - jax.nn.logsumexp(z, axis=1, keepdims=True))) / batch

        jax_grad = jax.grad(jax_loss)
        jax_jit = jax.jit(jax_grad)
        impls["jax"] = lambda: jax.block_until_ready(jax_grad(jparams))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jparams))
    if peers.torch:
        torch = peers.torch
        tparams = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
        tX, tT = torch.tensor(X), torch.tensor(T)
        flat = [p for pair in tparams for p in pair]

        def torch_grad() -> Any:
            h = tX
            for W, b in tparams[:-1]:
                h = torch.tanh(h @ W + b)
            W, b = tparams[-1]
            z = h @ W + b
            loss = -torch.sum(tT * (z - torch.logsumexp(z, dim=1, keepdim=True))) / batch
            g = torch.autograd.grad(loss, flat)
            return [(g[2 * i], g[2 * i + 1]) for i in range(len(tparams))]

        impls["torch"] = torch_grad
    return impls


@workload(time_ratio("MLP gradient / hand-written gradient", 1.05))
def mlp(quick: bool, peers: Peers) -> Workload:
    """Gradient of a tanh MLP with softmax cross-entropy w.r.t. a list of (W, b) pairs, float64."""
    problem = mlp_problem(quick)
    fg_grad = fg.grad(problem.fg_loss)
    impls = {"numpy": problem.numpy_grad, "funcgrad": lambda: fg_grad(problem.params), **mlp_peer_impls(problem, peers)}
    shape = "-".join(map(str, problem.sizes))
    return Workload("mlp", f"grad of a {shape} tanh MLP, softmax cross-entropy, batch {problem.batch}, float64", impls)


def per_example_numpy_grads(problem: MLPProblem) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each example's gradient of its own loss (the batch's mean loss times the batch size), by hand."""
    hs = [problem.X]
    h = problem.X
    for W, b in problem.params[:-1]:
        h = np.tanh(h @ W + b)
        hs.append(h)
    W, b = problem.params[-1]
    z = h @ W + b
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = e / np.sum(e, axis=1, keepdims=True) - problem.T
    grads = [(np.einsum("bi,bj->bij", hs[-1], dz), dz)]
    dh = dz @ W.T
    for i in range(len(problem.params) - 2, -1, -1):
        da = dh * (1.0 - hs[i + 1] * hs[i + 1])
        grads.append((np.einsum("bi,bj->bij", hs[i], da), da))
        if i:
            dh = da @ problem.params[i][0].T
    return grads[::-1]


@workload(time_ratio("per-example gradients by vmap(grad) / one batched gradient", 3.0))
def per_example_grads(quick: bool, peers: Peers) -> Workload:
    """Per-example gradients of the MLP by ``vmap(grad(loss))`` against one batched gradient."""
    problem = mlp_problem(quick)
    params, X, T = problem.params, problem.X, problem.T

    def fg_loss(ps: Any, x: Any, t: Any) -> Any:  # one example
        h = x
        for W, b in ps[:-1]:
            h = fnp.tanh(h @ W + b)
        W, b = ps[-1]
        z = h @ W + b
        z = z - fnp.max(fg.stop_gradient(z))
        return -fnp.sum(t * (z - fnp.log(fnp.sum(fnp.exp(z)))))

    fg_per_example = fg.vmap(fg.grad(fg_loss), in_axes=(None, 0, 0))
    impls: dict[str, Callable[[], Any]] = {
        "numpy": problem.numpy_grad,
        "funcgrad": lambda: fg_per_example(params, X, T),
    }
    skipped = {"autograd": "no vmap", "jax-jit": "eager peers only: this compares batching, not compilation"}
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jparams = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        jX, jT = jnp.asarray(X), jnp.asarray(T)

        def jax_loss(ps: Any, x: Any, t: Any) -> Any:
            h = x
            for W, b in ps[:-1]:
                h = jnp.tanh(h @ W + b)
            W, b = ps[-1]
            z = h @ W + b
            return -jnp.sum(t * (z - jax.nn.logsumexp(z)))

        jax_per_example = jax.vmap(jax.grad(jax_loss), in_axes=(None, 0, 0))
        impls["jax"] = lambda: jax.block_until_ready(jax_per_example(jparams, jX, jT))
    if peers.torch:
        torch = peers.torch
        tparams = tuple((torch.tensor(W), torch.tensor(b)) for W, b in params)
        tX, tT = torch.tensor(X), torch.tensor(T)

        def torch_loss(ps: Any, x: Any, t: Any) -> Any:
            h = x
            for W, b in ps[:-1]:
                h = torch.tanh(h @ W + b)
            W, b = ps[-1]
            z = h @ W + b
            return -torch.sum(t * (z - torch.logsumexp(z, dim=0)))

        torch_per_example = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))
        impls["torch"] = lambda: torch_per_example(tparams, tX, tT)
    shape = "-".join(map(str, problem.sizes))
    return Workload(
        "per-example grads",
        f"vmap(grad) of the {shape} MLP over {problem.batch} examples against one batched gradient (numpy; its "
        "output is 1/batch the size) and the per-example gradients by hand (numpy)",
        impls,
        skipped=skipped,
        floor_name="batch grad",
        reference=lambda: per_example_numpy_grads(problem),
    )
