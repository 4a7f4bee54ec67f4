"""Gradients of chains of operations: scalars (per-operation overhead), a 100k-operation chain (memory),
whole-array elementwise and matmul chains (passes over memory, residuals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.measure import peak
from benchmarks.peers import Peers
from benchmarks.report import MB
from benchmarks.targets import extra_ratio, sweep_memory_ratio, time_ratio
from benchmarks.workload import Extra, Workload, gradient_workload, workload

#: the scalar chain's starting point
CHAIN_X0 = 0.5


def chain_lines(quick: bool) -> int:
    """Lines of the scalar chain (3 operations a line)."""
    return 10 if quick else 100


def sin_chain(x: Any, sin: Any, lines: int) -> Any:
    """``x = sin(x) * 1.01 + 0.1``, ``lines`` times: the scalar chain in any library's ``sin``."""
    for _ in range(lines):
        x = sin(x) * 1.01 + 0.1
    return x


def chain_numpy_grad(lines: int) -> Callable[[], float]:
    """The scalar chain's derivative written by hand in NumPy (its forward pass included)."""

    def numpy_grad() -> float:
        x, derivative = CHAIN_X0, 1.0
        for _ in range(lines):
            derivative *= np.cos(x) * 1.01
            x = np.sin(x) * 1.01 + 0.1
        return derivative

    return numpy_grad


def chain_peer_impls(lines: int, peers: Peers) -> dict[str, Callable[[], Any]]:
    """Every installed peer's derivative of the scalar chain, by name."""
    x0 = CHAIN_X0
    impls: dict[str, Callable[[], Any]] = {}
    if peers.autograd:
        ag_grad = peers.autograd.grad(lambda x: sin_chain(x, peers.anp.sin, lines))
        impls["autograd"] = lambda: ag_grad(x0)
    if peers.jax:
        jax_grad = peers.jax.grad(lambda x: sin_chain(x, peers.jnp.sin, lines))
        jax_jit = peers.jax.jit(jax_grad)
        impls["jax"] = lambda: jax_grad(x0).block_until_ready()
        impls["jax-jit"] = lambda: jax_jit(x0).block_until_ready()
    if peers.torch:
        torch = peers.torch

        def torch_grad() -> Any:
            x = torch.tensor(x0, requires_grad=True)
            (g,) = torch.autograd.grad(sin_chain(x, torch.sin, lines), x)
            return g

        impls["torch"] = torch_grad
    return impls


def _per_operation(results: dict[str, Any]) -> str:
    per_op = {name: f"{entry['per_op'] * 1e6:.1f}" for name, entry in results["impls"].items() if "per_op" in entry}
    return (
        "scalar chain, µs per operation (forward + backward): "
        + ", ".join(f"{name} {value}" for name, value in per_op.items())
        + " (a reference machine: autograd 11.0, torch 5.7, target about 4)"
    )


# "about 4 µs per operation" was 0.4x autograd on the reference machine, then tightened to these ratios
@workload(
    time_ratio("scalar-chain gradient / autograd's", 0.35, denominator="autograd"),
    time_ratio("scalar-chain gradient / torch eager's", 0.7, denominator="torch"),
)
def scalar_chain(quick: bool, peers: Peers) -> Workload:
    """Gradient of a chain of scalar operations: ``x = sin(x) * 1.01 + 0.1`` repeated (3 operations a line)."""
    lines = chain_lines(quick)
    fg_grad = fg.grad(lambda x: sin_chain(x, fnp.sin, lines))
    impls: dict[str, Callable[[], Any]] = {
        "numpy": chain_numpy_grad(lines),
        "funcgrad": lambda: fg_grad(CHAIN_X0),
        **chain_peer_impls(lines, peers),
    }
    return Workload(
        "scalar chain",
        f"grad of {3 * lines} scalar operations (x = sin(x) * 1.01 + 0.1, {lines} times)",
        impls,
        per=3 * lines,
        per_unit="op",
        note=_per_operation,
    )


def long_chain_size(quick: bool) -> tuple[int, int]:
    """(lines, vector length) of the long chain: 3 operations a line."""
    return (300, 64) if quick else (33_334, 64)


def _sin_lines(xp: Any, v: Any, lines: int) -> Any:
    for _ in range(lines):
        v = xp.sin(v) * 1.01 + 0.1
    return xp.sum(v)


def long_chain_memory(quick: bool, peers: Peers) -> dict[str, Any]:
    """Peak memory of the long chain's gradient against the arrays its forward pass saves.

    The saved arrays are every intermediate of the forward pass, held in a
    list by plain NumPy (what any reverse mode has to keep, headers included).
    """
    lines, n = long_chain_size(quick)
    x = np.linspace(-1.0, 1.0, n)

    def forward_saving() -> list[Any]:
        saved = [x]
        v = x
        for _ in range(lines):
            s = np.sin(v)
            m = s * 1.01
            v = m + 0.1
            saved.extend((s, m, v))
        return saved

    held: list[Any] = []
    saved_bytes = peak(lambda: held.append(forward_saving()))
    held.clear()
    result: dict[str, Any] = {"operations": 3 * lines, "length": n, "saved_arrays_bytes": saved_bytes}
    result["funcgrad_peak_bytes"] = peak(lambda: fg.grad(lambda v: _sin_lines(fnp, v, lines))(x))
    if peers.autograd:
        result["autograd_peak_bytes"] = peak(lambda: peers.autograd.grad(lambda v: _sin_lines(peers.anp, v, lines))(x))
    result["funcgrad_ratio"] = result["funcgrad_peak_bytes"] / saved_bytes
    return result


def _describe_long_chain_memory(memory: dict[str, Any]) -> str:
    text = (
        f"long chain memory ({memory['operations']:,} operations, length {memory['length']}): "
        f"saved arrays {memory['saved_arrays_bytes'] * MB:.1f} MB, "
        f"funcgrad peak {memory['funcgrad_peak_bytes'] * MB:.1f} MB ({memory['funcgrad_ratio']:.2f}x)"
    )
    if "autograd_peak_bytes" in memory:
        text += f", autograd peak {memory['autograd_peak_bytes'] * MB:.1f} MB"
    return text


@workload(extra_ratio("long-chain gradient peak memory / saved arrays", 1.5, "memory", "funcgrad_ratio"))
def long_chain(quick: bool, peers: Peers) -> Workload:
    """Gradient through a 100,000-operation chain on a small vector (memory is measured separately)."""
    lines, n = long_chain_size(quick)
    x = np.linspace(-1.0, 1.0, n)

    def numpy_grad() -> np.ndarray:
        saved = []
        v = x
        for _ in range(lines):
            saved.append(v)
            v = np.sin(v) * 1.01 + 0.1
        g = np.ones(n)
        for v in reversed(saved):
            g = g * (np.cos(v) * 1.01)
        return g

    return gradient_workload(
        "long chain",
        f"grad through {3 * lines:,} operations on a length-{n} vector",
        peers,
        lambda xp, v, _: _sin_lines(xp, v, lines),
        x,
        floor=numpy_grad,
        peer_skipped=dict.fromkeys(
            ("jax", "jax-jit"), "eager JAX takes minutes for 100k operations; jit would unroll them"
        ),
        per=3 * lines,
        per_unit="op",
        rtol=1e-6,
        extras=[Extra("memory", lambda: long_chain_memory(quick, peers), _describe_long_chain_memory)],
    )


def elementwise_chain_size(quick: bool) -> tuple[int, int]:
    """(rounds of tanh then exp, vector length) of the elementwise chain."""
    return (3, 1000) if quick else (5, 1_000_000)


@workload(
    time_ratio("elementwise-chain gradient / hand-written gradient", 1.3),
    sweep_memory_ratio("elementwise-chain gradient memory / hand-written gradient's", 1.05),
)
def elementwise_chain(quick: bool, peers: Peers) -> Workload:
    """Gradient of ``sum`` of a ``tanh``/``exp`` chain on 1e6 elements (10 whole-array operations)."""
    rounds, n = elementwise_chain_size(quick)
    x = np.linspace(-2.0, 2.0, n)

    def numpy_forward() -> list[tuple[np.ndarray, np.ndarray]]:
        saved = []
        y = x
        for _ in range(rounds):
            t = np.tanh(y)
            y = np.exp(t)
            saved.append((t, y))
        return saved

    def numpy_backward(saved: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        g = np.ones(n)
        for t, e in reversed(saved):
            g *= e
            g *= 1.0 - t * t
        return g

    def chain(xp: Any, v: Any, _: Any) -> Any:
        for _ in range(rounds):
            v = xp.exp(xp.tanh(v))
        return xp.sum(v)

    return gradient_workload(
        "elementwise chain",
        f"grad of sum of exp(tanh(x)) applied {rounds} times ({2 * rounds} operations) on {n:,} float64 elements",
        peers,
        chain,
        x,
        floor=(numpy_forward, numpy_backward),
    )


@workload(sweep_memory_ratio("matmul-chain gradient memory / hand-written gradient's", 1.05))
def matmul_chain(quick: bool, peers: Peers) -> Workload:
    """Gradient w.r.t. three 1024x1024 weights of ``sum(tanh(tanh(tanh(X @ W1) @ W2) @ W3))``."""
    n = 32 if quick else 1024
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, n))
    Ws = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(3)]

    def numpy_forward() -> list[np.ndarray]:
        hs = [X]
        for W in Ws:
            hs.append(np.tanh(hs[-1] @ W))
        return hs

    def numpy_backward(hs: list[np.ndarray]) -> list[np.ndarray]:
        grads = []
        g = np.ones((n, n))
        for i in range(len(Ws) - 1, -1, -1):
            g *= 1.0 - hs[i + 1] * hs[i + 1]
            grads.append(hs[i].T @ g)
            if i:
                g = g @ Ws[i].T
        return grads[::-1]

    def chain(xp: Any, ws: Any, h: Any) -> Any:
        for W in ws:
            h = xp.tanh(h @ W)
        return xp.sum(h)

    return gradient_workload(
        "matmul chain",
        f"grad w.r.t. three {n}x{n} weights of sum(tanh(tanh(tanh(X @ W1) @ W2) @ W3)), float64",
        peers,
        chain,
        Ws,
        X,
        floor=(numpy_forward, numpy_backward),
        rtol=1e-6,
    )
