"""funcgrad's benchmarks: the workloads of issues 7, 13 and 16, side by side with a hand-written NumPy gradient and peers.

Run from a checkout::

    pip install -e '.[bench]'
    python benchmarks/run.py                  # full sizes, 7 interleaved repeats
    python benchmarks/run.py --quick --repeat 1 --json /tmp/bench.json   # the CI smoke invocation

Every workload is a function returning the implementations to time: the
hand-written NumPy gradient (the floor), funcgrad, and every installed peer
(HIPS autograd, JAX eager and jit, PyTorch eager).  Each result is checked
against the floor before anything is timed.  Repeats are interleaved (one call
of every implementation per round), the table shows medians and ratios from
this one run, and a "targets" section checks the issues' goals.  Everything runs
in one process on one thread, in float64.
"""

from __future__ import annotations

import os

# one thread everywhere, set before NumPy / torch / JAX load their thread pools
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402

PEER_NAMES = ("autograd", "jax", "jax-jit", "torch")


# --- peers ------------------------------------------------------------------------------


@dataclass
class Peers:
    """The peer libraries that could be imported (``None`` when missing or not wanted)."""

    autograd: Any = None
    anp: Any = None
    jax: Any = None
    jnp: Any = None
    torch: Any = None
    versions: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def load_peers(wanted: set[str]) -> Peers:
    peers = Peers()
    if "autograd" in wanted:
        try:
            import autograd
            import autograd.numpy as anp

            peers.autograd, peers.anp = autograd, anp
            peers.versions["autograd"] = _version("autograd")
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["autograd"] = str(exc)
    if wanted & {"jax", "jax-jit"}:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_platforms", "cpu")
            import jax.numpy as jnp

            peers.jax, peers.jnp = jax, jnp
            peers.versions["jax"] = jax.__version__
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["jax"] = str(exc)
    if "torch" in wanted:
        try:
            import torch

            torch.set_num_threads(1)
            torch.set_default_dtype(torch.float64)
            peers.torch = torch
            peers.versions["torch"] = torch.__version__
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["torch"] = str(exc)
    return peers


def to_numpy(value: Any) -> Any:
    """Any framework's result (pytrees of tensors too) as nested lists of NumPy arrays."""
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def flat_arrays(value: Any) -> list[np.ndarray]:
    value = to_numpy(value)
    if isinstance(value, list):
        return [a for v in value for a in flat_arrays(v)]
    return [np.asarray(value)]


def agrees(result: Any, expected: Any, rtol: float = 1e-7) -> tuple[bool, float]:
    """Whether ``result`` matches the floor, and the largest relative error."""
    got, want = flat_arrays(result), flat_arrays(expected)
    if len(got) != len(want):
        return False, float("inf")
    worst = 0.0
    for g, w in zip(got, want):
        if g.shape != w.shape:
            return False, float("inf")
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        worst = max(worst, float(np.max(np.abs(g - w))) / scale if w.size else 0.0)
    return worst <= rtol, worst


# --- workloads ----------------------------------------------------------------------------


#: a computation split in two: ``forward()`` returns what ``backward(saved)`` needs (the residuals)
Phases = tuple[Callable[[], Any], Callable[[Any], Any]]


@dataclass
class Workload:
    """Implementations of one computation, ``impls[name]()`` returning the result to check."""

    name: str
    description: str
    impls: dict[str, Callable[[], Any]]
    per: int = 1  # divide the time by this for a per-operation figure
    per_unit: str = ""
    rtol: float = 1e-7
    skipped: dict[str, str] = field(default_factory=dict)
    floor_name: str = "numpy"  # how the floor ("numpy" in ``impls``) is labelled in the table
    #: (forward, backward) per implementation, for the peak memory of the backward sweep (``sweep_memory``)
    memory: dict[str, Phases] = field(default_factory=dict)
    #: what every implementation but the floor must return, when the floor computes something else (a forward pass)
    reference: Callable[[], Any] | None = None


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
    )


def jit_peers(impls: dict[str, Callable[[], Any]], eager: str) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """The compiled and the eager peer beside a jit workload (JAX jit, torch), and why the others are left out."""
    shown = {name: impls[name] for name in ("jax-jit", "torch") if name in impls}
    skipped = {name: f"eager, shown in {eager!r}" for name in impls if name not in shown}
    return shown, skipped


def jit_scalar_chain(quick: bool, peers: Peers) -> Workload:
    """``jit(grad(chain))`` against the plain-NumPy *forward* chain (the cheap-gradient principle: a gradient
    should cost a small multiple of the function), JAX jit and torch eager beside."""
    lines = chain_lines(quick)
    fg_jit = fg.jit(fg.grad(lambda x: sin_chain(x, fnp.sin, lines)))
    shown, skipped = jit_peers(chain_peer_impls(lines, peers), "scalar chain")
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: sin_chain(CHAIN_X0, np.sin, lines),
        "funcgrad": lambda: fg_jit(CHAIN_X0),
        **shown,
    }
    return Workload(
        "jit scalar chain",
        f"jit(grad) of the {3 * lines}-operation scalar chain; the floor is NumPy's forward chain alone",
        impls,
        per=3 * lines,
        per_unit="op",
        floor_name="numpy fwd",
        reference=chain_numpy_grad(lines),
        skipped=skipped,
    )


def jit_chain_forward(quick: bool, peers: Peers) -> Workload:
    """``jit(chain)`` against the same NumPy calls made directly: what replaying costs beyond NumPy itself."""
    lines = chain_lines(quick)
    fg_jit = fg.jit(lambda x: sin_chain(x, fnp.sin, lines))
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: sin_chain(CHAIN_X0, np.sin, lines),
        "funcgrad": lambda: fg_jit(CHAIN_X0),
    }
    loaded = {"autograd": peers.autograd, "jax": peers.jax, "jax-jit": peers.jax, "torch": peers.torch}
    skipped = {name: "this measures jit's own overhead; peers are beside 'jit scalar chain'" for name, lib in loaded.items() if lib}
    return Workload(
        "jit chain forward",
        f"jit of the {3 * lines}-operation scalar chain (no derivative) against the NumPy calls made directly",
        impls,
        per=3 * lines,
        per_unit="op",
        rtol=0.0,
        skipped=skipped,
    )


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


def mlp(quick: bool, peers: Peers) -> Workload:
    """Gradient of a tanh MLP with softmax cross-entropy w.r.t. a list of (W, b) pairs, float64."""
    problem = mlp_problem(quick)
    fg_grad = fg.grad(problem.fg_loss)
    impls = {"numpy": problem.numpy_grad, "funcgrad": lambda: fg_grad(problem.params), **mlp_peer_impls(problem, peers)}
    shape = "-".join(map(str, problem.sizes))
    return Workload(
        "mlp", f"grad of a {shape} tanh MLP, softmax cross-entropy, batch {problem.batch}, float64", impls
    )



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


def per_example_grads(quick: bool, peers: Peers) -> Workload:
    """Per-example gradients of the MLP by ``vmap(grad(loss))`` against one batched gradient (issue 12's goal: <= 3x)."""
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


def jit_mlp(quick: bool, peers: Peers) -> Workload:
    """``jit(grad(mlp_loss))`` against the hand-written NumPy gradient, JAX jit and torch eager beside."""
    problem = mlp_problem(quick)
    fg_jit = fg.jit(fg.grad(problem.fg_loss))
    shown, skipped = jit_peers(mlp_peer_impls(problem, peers), "mlp")
    impls: dict[str, Callable[[], Any]] = {
        "numpy": problem.numpy_grad,
        "funcgrad": lambda: fg_jit(problem.params),
        **shown,
    }
    shape = "-".join(map(str, problem.sizes))
    return Workload(
        "jit mlp", f"jit(grad) of the {shape} MLP, batch {problem.batch}, float64", impls, skipped=skipped
    )


def sin_plain(quick: bool, peers: Peers) -> Workload:
    """``fnp.sin`` on a plain ndarray against ``numpy.sin`` (the cost of funcgrad's dispatch when nothing is traced)."""
    n = 1000
    x = np.linspace(-3.0, 3.0, n)
    return Workload(
        "fnp.sin(ndarray)",
        f"fnp.sin on a plain float64 array of {n} elements (nothing traced)",
        {"numpy": lambda: np.sin(x), "funcgrad": lambda: fnp.sin(x)},
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


def jacobian_fwd(quick: bool, peers: Peers) -> Workload:
    """Jacobian of ``tanh(B @ x) * x`` by forward mode."""
    return _jacobian(quick, peers, "fwd")


def jacobian_rev(quick: bool, peers: Peers) -> Workload:
    """Jacobian of ``tanh(B @ x) * x`` by reverse mode."""
    return _jacobian(quick, peers, "rev")


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


def long_chain_size(quick: bool) -> tuple[int, int]:
    """(lines, vector length) of the long chain: 3 operations a line."""
    return (300, 64) if quick else (33_334, 64)


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

    def chain(v: Any, sin: Any, total: Any) -> Any:
        for _ in range(lines):
            v = sin(v) * 1.01 + 0.1
        return total(v)

    fg_grad = fg.grad(lambda v: chain(v, fnp.sin, fnp.sum))
    impls: dict[str, Callable[[], Any]] = {"numpy": numpy_grad, "funcgrad": lambda: fg_grad(x)}
    skipped = {}
    if peers.autograd:
        ag_grad = peers.autograd.grad(lambda v: chain(v, peers.anp.sin, peers.anp.sum))
        impls["autograd"] = lambda: ag_grad(x)
    if peers.jax:
        skipped["jax"] = skipped["jax-jit"] = "eager JAX takes minutes for 100k operations; jit would unroll them"
    if peers.torch:
        torch = peers.torch
        tx = torch.tensor(x)

        def torch_grad() -> Any:
            v = tx.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(chain(v, torch.sin, torch.sum), v)
            return g

        impls["torch"] = torch_grad
    return Workload(
        "long chain",
        f"grad through {3 * lines:,} operations on a length-{n} vector",
        impls,
        per=3 * lines,
        per_unit="op",
        rtol=1e-6,
        skipped=skipped,
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


def elementwise_chain_size(quick: bool) -> tuple[int, int]:
    """(rounds of tanh then exp, vector length) of the elementwise chain."""
    return (3, 1000) if quick else (5, 1_000_000)


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

    def chain(v: Any, tanh: Any, exp: Any, total: Any) -> Any:
        for _ in range(rounds):
            v = exp(tanh(v))
        return total(v)

    def fg_f(v: Any) -> Any:
        return chain(v, fnp.tanh, fnp.exp, fnp.sum)

    fg_grad = fg.grad(fg_f)
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: numpy_backward(numpy_forward()),
        "funcgrad": lambda: fg_grad(x),
    }
    one = np.float64(1.0)
    memory: dict[str, Phases] = {
        "numpy": (numpy_forward, numpy_backward),
        "funcgrad": (lambda: fg.vjp(fg_f, x)[1], lambda vjp_fn: vjp_fn(one)),
    }
    if peers.autograd:
        anp = peers.anp

        def ag_f(v: Any) -> Any:
            return chain(v, anp.tanh, anp.exp, anp.sum)

        ag_grad = peers.autograd.grad(ag_f)
        impls["autograd"] = lambda: ag_grad(x)
        memory["autograd"] = (lambda: peers.autograd.make_vjp(ag_f)(x)[0], lambda vjp_fn: vjp_fn(1.0))
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jx = jnp.asarray(x)
        jax_grad = jax.grad(lambda v: chain(v, jnp.tanh, jnp.exp, jnp.sum))
        jax_jit = jax.jit(jax_grad)
        impls["jax"] = lambda: jax_grad(jx).block_until_ready()
        impls["jax-jit"] = lambda: jax_jit(jx).block_until_ready()
    if peers.torch:
        torch = peers.torch
        tx = torch.tensor(x)

        def torch_grad() -> Any:
            v = tx.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(chain(v, torch.tanh, torch.exp, torch.sum), v)
            return g

        impls["torch"] = torch_grad
    return Workload(
        "elementwise chain",
        f"grad of sum of exp(tanh(x)) applied {rounds} times ({2 * rounds} operations) on {n:,} float64 elements",
        impls,
        memory=memory,
    )


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

    def chain(ws: Any, tanh: Any, total: Any) -> Any:
        h = X
        for W in ws:
            h = tanh(h @ W)
        return total(h)

    def fg_f(ws: Any) -> Any:
        return chain(ws, fnp.tanh, fnp.sum)

    fg_grad = fg.grad(fg_f)
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: numpy_backward(numpy_forward()),
        "funcgrad": lambda: fg_grad(Ws),
    }
    one = np.float64(1.0)
    memory: dict[str, Phases] = {
        "numpy": (numpy_forward, numpy_backward),
        "funcgrad": (lambda: fg.vjp(fg_f, Ws)[1], lambda vjp_fn: vjp_fn(one)),
    }
    if peers.autograd:
        anp = peers.anp

        def ag_f(ws: Any) -> Any:
            return chain(ws, anp.tanh, anp.sum)

        ag_grad = peers.autograd.grad(ag_f)
        impls["autograd"] = lambda: ag_grad(Ws)
        memory["autograd"] = (lambda: peers.autograd.make_vjp(ag_f)(Ws)[0], lambda vjp_fn: vjp_fn(1.0))
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jX, jWs = jnp.asarray(X), [jnp.asarray(W) for W in Ws]

        def jax_f(ws: Any) -> Any:
            h = jX
            for W in ws:
                h = jnp.tanh(h @ W)
            return jnp.sum(h)

        jax_grad = jax.grad(jax_f)
        jax_jit = jax.jit(jax_grad)
        impls["jax"] = lambda: jax.block_until_ready(jax_grad(jWs))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jWs))
    if peers.torch:
        torch = peers.torch
        tX, tWs = torch.tensor(X), [torch.tensor(W, requires_grad=True) for W in Ws]

        def torch_grad() -> Any:
            h = tX
            for W in tWs:
                h = torch.tanh(h @ W)
            return list(torch.autograd.grad(torch.sum(h), tWs))

        impls["torch"] = torch_grad
    return Workload(
        "matmul chain",
        f"grad w.r.t. three {n}x{n} weights of sum(tanh(tanh(tanh(X @ W1) @ W2) @ W3)), float64",
        impls,
        memory=memory,
        rtol=1e-6,
    )


def dask_problem(quick: bool) -> tuple[Any, Any, np.ndarray, int]:
    """A logistic-regression problem whose ``X`` is a lazily generated, row-chunked Dask array
    (full sizes: 2e6 x 8 float64, 128 MB in 10 chunks, far larger than the cache; never held whole)."""
    import dask.array as da

    rows, features = (20_000, 8) if quick else (2_000_000, 8)
    chunk = rows // 10
    X = da.random.default_rng(1).normal(size=(rows, features), chunks=(chunk, features))
    y = da.sign(da.random.default_rng(2).normal(size=rows, chunks=chunk))
    return X, y, np.linspace(-0.5, 0.5, features), chunk * features * 8


def dask_logistic_loss(w: Any, X: Any, y: Any) -> Any:
    return np.sum(np.log1p(np.exp(-y * (X @ w))))


def dask_logistic_by_hand(w: Any, X: Any, y: Any) -> Any:
    """The gradient of ``dask_logistic_loss`` written out on the same Dask arrays."""
    return X.T @ (-y / (1.0 + np.exp(y * (X @ w))))


def dask_logistic(quick: bool, peers: Peers) -> Workload | None:
    """Gradient of a logistic loss over a chunked Dask ``X`` (NumPy weights): funcgrad against a hand-written
    Dask gradient, each building its graph and computing it on Dask's synchronous scheduler (one thread)."""
    try:
        import dask
    except ImportError:
        return None
    X, y, w, _ = dask_problem(quick)
    grad = fg.grad(dask_logistic_loss)

    def by_hand() -> Any:
        return dask.compute(dask_logistic_by_hand(w, X, y), scheduler="synchronous")[0]

    def ours() -> Any:
        return dask.compute(grad(w, X, y), scheduler="synchronous")[0]

    return Workload(
        "dask logistic",
        f"grad of a logistic loss over a Dask X of shape {X.shape}, chunks of {X.chunksize[0]} rows "
        "(the floor here is the gradient written by hand on the same Dask arrays)",
        {"numpy": by_hand, "funcgrad": ours},
        rtol=1e-9,
        floor_name="dask",
    )


def dask_memory(quick: bool) -> dict[str, Any] | None:
    """Peak memory while each gradient is computed, against the size of one chunk of ``X`` and of all of it."""
    try:
        import dask
    except ImportError:
        return None
    X, y, w, chunk_bytes = dask_problem(quick)
    result: dict[str, Any] = {"chunk_bytes": chunk_bytes, "x_bytes": X.nbytes, "chunks": X.numblocks[0]}
    for name, build in {"funcgrad": lambda: fg.grad(dask_logistic_loss)(w, X, y), "dask": lambda: dask_logistic_by_hand(w, X, y)}.items():
        result[f"{name}_peak_bytes"] = _peak(lambda: dask.compute(build(), scheduler="synchronous"))
    result["funcgrad_chunks"] = result["funcgrad_peak_bytes"] / chunk_bytes
    return result


#: in this order; ``sin_plain`` (11 µs a call, no peers) goes first, before any peer has started its threads
#: (run after JAX and PyTorch have, both of its sides slow down by a third and its ratio reads up to 1.17)
WORKLOADS: list[Callable[[bool, Peers], Workload | None]] = [
    sin_plain,
    scalar_chain,
    mlp,
    hessian,
    jacobian_fwd,
    jacobian_rev,
    tanh_4th,
    long_chain,
    large_vjp,
    elementwise_chain,
    matmul_chain,
    jit_chain_forward,
    jit_scalar_chain,
    jit_mlp,
    per_example_grads,
    dask_logistic,
]


# --- memory of the long chain -----------------------------------------------------------------


def _peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (Python objects and NumPy buffers) while ``fn`` runs, above what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def sweep_memory(phases: Phases) -> dict[str, int]:
    """Bytes held after the forward pass (the residuals) and the peak above them while the backward runs."""
    forward, backward = phases
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        saved = forward()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = backward(saved)
        peak = tracemalloc.get_traced_memory()[1]
        del result, saved
    finally:
        tracemalloc.stop()
    return {"residual_bytes": held - base, "sweep_peak_bytes": peak - held}


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
    saved_bytes = _peak(lambda: held.append(forward_saving()))
    held.clear()
    result: dict[str, Any] = {"operations": 3 * lines, "length": n, "saved_arrays_bytes": saved_bytes}

    def run(sin: Any, total: Any, grad: Any) -> Any:
        def f(v: Any) -> Any:
            for _ in range(lines):
                v = sin(v) * 1.01 + 0.1
            return total(v)

        return grad(f)(x)

    result["funcgrad_peak_bytes"] = _peak(lambda: run(fnp.sin, fnp.sum, fg.grad))
    if peers.autograd:
        result["autograd_peak_bytes"] = _peak(lambda: run(peers.anp.sin, peers.anp.sum, peers.autograd.grad))
    result["funcgrad_ratio"] = result["funcgrad_peak_bytes"] / saved_bytes
    return result


# --- running ---------------------------------------------------------------------------------


#: the clock of the timings: CPU time of this process (all its threads) or wall-clock time
TIMERS: dict[str, Callable[[], float]] = {"process": time.process_time, "wall": time.perf_counter}


def calibrate(fn: Callable[[], Any], budget: float, timer: Callable[[], float]) -> int:
    """How many calls make one timed sample last about ``budget`` seconds."""
    start = timer()
    fn()
    once = timer() - start
    return max(1, min(10_000, int(budget / max(once, 1e-9))))


def measure(workload: Workload, repeat: int, budget: float, timer: Callable[[], float]) -> dict[str, Any]:
    """Check every implementation against the floor, then time them in interleaved rounds."""
    results: dict[str, Any] = {
        "description": workload.description,
        "impls": {},
        "skipped": dict(workload.skipped),
        "floor_name": workload.floor_name,
    }
    expected = (workload.reference or workload.impls["numpy"])()
    runnable: dict[str, Callable[[], Any]] = {}
    for name, fn in workload.impls.items():
        try:
            result = fn()  # first call: also jit compilation
            unchecked = name == "numpy" and workload.reference is not None  # the floor computes something else
            ok, err = (True, 0.0) if unchecked else agrees(result, expected, workload.rtol)
        except Exception as exc:  # a peer that cannot run this workload is reported, not fatal
            results["skipped"][name] = f"{type(exc).__name__}: {exc}"[:200]
            if name in ("numpy", "funcgrad"):
                raise
            continue
        results["impls"][name] = {"agrees": ok, "max_rel_error": err, "checked": not unchecked, "times": []}
        runnable[name] = fn
    numbers = {name: calibrate(fn, budget, timer) for name, fn in runnable.items()}
    for _ in range(repeat):
        for name, fn in runnable.items():
            number = numbers[name]
            gc.collect()
            start = timer()
            for _ in range(number):
                fn()
            results["impls"][name]["times"].append((timer() - start) / number)
    for name, entry in results["impls"].items():
        entry["median"] = statistics.median(entry["times"])
        entry["calls_per_sample"] = numbers[name]
        if workload.per > 1:
            entry["per_" + workload.per_unit] = entry["median"] / workload.per
    return results


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def ratio(results: dict[str, Any], workload: str, a: str, b: str) -> float | None:
    impls = results["workloads"].get(workload, {}).get("impls", {})
    if a not in impls or b not in impls:
        return None
    return float(impls[a]["median"] / impls[b]["median"])


def sweep_ratio(results: dict[str, Any], workload: str) -> float | None:
    """funcgrad's residuals plus backward peak over the floor's (the least a reverse mode holds).

    Its limit is 1.05: the floor's arrays, give or take a few Python objects.
    """
    per_impl = results.get("sweep_memory", {}).get(workload, {})
    if "funcgrad" not in per_impl or "numpy" not in per_impl:
        return None
    ours, floor = per_impl["funcgrad"], per_impl["numpy"]
    total = floor["residual_bytes"] + floor["sweep_peak_bytes"]
    return (ours["residual_bytes"] + ours["sweep_peak_bytes"]) / max(total, 1)


def targets(results: dict[str, Any]) -> list[tuple[str, float | None, float, str]]:
    """Issues 7, 13 and 16's targets: (what, measured, limit, how the ratio is taken); met when measured <= limit.

    Issue 7's "about 4 µs per operation" is 0.4x autograd on the issue's machine (where autograd
    took 11.0 µs per operation); issue 16 tightened it to 0.35x autograd and 0.7x torch eager, and
    the MLP to 1.05x the hand-written gradient.  These are the ratios checked here, on this machine.
    """
    memory = results.get("memory", {}).get("funcgrad_ratio")
    dask_chunks = results.get("dask_memory", {}).get("funcgrad_chunks")
    return [
        ("scalar chain: funcgrad / autograd", ratio(results, "scalar chain", "funcgrad", "autograd"), 0.35, "time ratio"),
        ("scalar chain: funcgrad / torch eager", ratio(results, "scalar chain", "funcgrad", "torch"), 0.7, "time ratio"),
        ("mlp: funcgrad / hand-written numpy", ratio(results, "mlp", "funcgrad", "numpy"), 1.05, "time ratio"),
        ("fnp.sin(ndarray) / numpy.sin", ratio(results, "fnp.sin(ndarray)", "funcgrad", "numpy"), 1.2, "time ratio"),
        ("hessian: funcgrad / autograd", ratio(results, "hessian", "funcgrad", "autograd"), 1.0, "time ratio"),
        ("hessian: funcgrad / jax eager", ratio(results, "hessian", "funcgrad", "jax"), 1.0, "time ratio"),
        ("jacobian fwd: funcgrad / autograd", ratio(results, "jacobian fwd", "funcgrad", "autograd"), 1.0, "time ratio"),
        ("jacobian rev: funcgrad / autograd", ratio(results, "jacobian rev", "funcgrad", "autograd"), 1.0, "time ratio"),
        # issue 12: every Jacobian row in one batched sweep
        ("jacobian rev: funcgrad / analytic numpy", ratio(results, "jacobian rev", "funcgrad", "numpy"), 25.0, "time ratio"),
        ("jacobian rev: funcgrad / torch", ratio(results, "jacobian rev", "funcgrad", "torch"), 1.0, "time ratio"),
        ("hessian: funcgrad / analytic numpy", ratio(results, "hessian", "funcgrad", "numpy"), 10.0, "time ratio"),
        ("tanh 4th derivative: funcgrad / autograd", ratio(results, "tanh 4th derivative", "funcgrad", "autograd"), 0.5, "time ratio"),
        ("long chain: peak memory / saved arrays", memory, 1.5, "bytes ratio"),
        ("large vjp: funcgrad / 2 * ct", ratio(results, "large vjp", "funcgrad", "numpy"), 1.2, "time ratio"),
        ("large vjp: memory / floor's", sweep_ratio(results, "large vjp"), 1.05, "bytes ratio"),
        ("elementwise chain: funcgrad / by hand", ratio(results, "elementwise chain", "funcgrad", "numpy"), 1.3, "time ratio"),
        ("elementwise chain: memory / floor's", sweep_ratio(results, "elementwise chain"), 1.05, "bytes ratio"),
        ("matmul chain: memory / floor's", sweep_ratio(results, "matmul chain"), 1.05, "bytes ratio"),
        ("dask logistic: funcgrad / by hand", ratio(results, "dask logistic", "funcgrad", "numpy"), 1.3, "time ratio"),
        ("dask logistic: peak memory / one chunk", dask_chunks, 4.0, "bytes ratio"),
        ("jit scalar chain: jit(grad) / numpy forward", ratio(results, "jit scalar chain", "funcgrad", "numpy"), 3.0, "time ratio"),
        ("jit mlp: jit(grad) / hand-written numpy", ratio(results, "jit mlp", "funcgrad", "numpy"), 1.03, "time ratio"),
        ("per-example grads: vmap(grad) / one batched grad", ratio(results, "per-example grads", "funcgrad", "numpy"), 3.0, "time ratio"),
    ]


def report(results: dict[str, Any]) -> str:
    lines = []
    machine = results["machine"]
    lines.append(
        f"funcgrad {machine['funcgrad']} | python {machine['python']} | numpy {machine['numpy']} | "
        + " | ".join(f"{k} {v}" for k, v in machine["peers"].items())
        + f" | {machine['cpu']} | {results['timer']} time, medians of {results['repeat']}"
        + (" (quick sizes)" if results["quick"] else "")
    )
    for name, why in machine["missing_peers"].items():
        lines.append(f"peer {name} skipped: {why}")
    lines.append("")
    header = f"{'workload':<22}{'implementation':<12}{'median':>12}{'per op':>11}{'x numpy':>10}{'funcgrad/it':>13}  check"
    lines.append(header)
    lines.append("-" * len(header))
    for wname, w in results["workloads"].items():
        floor = w["impls"]["numpy"]["median"]
        ours = w["impls"]["funcgrad"]["median"]
        for iname, entry in w["impls"].items():
            per = entry.get("per_op")
            per_text = format_time(per) if per is not None else ""
            rel = "" if iname == "funcgrad" else f"{ours / entry['median']:.2f}"
            check = "ok" if entry["agrees"] else f"MISMATCH ({entry['max_rel_error']:.1e})"
            if not entry.get("checked", True):
                check = "(not checked: computes another result)"
            label = w.get("floor_name", "numpy") if iname == "numpy" else iname
            lines.append(
                f"{wname:<22}{label:<12}{format_time(entry['median']):>12}{per_text:>11}"
                f"{entry['median'] / floor:>10.2f}{rel:>13}  {check}"
            )
            wname = ""
        for iname, why in w["skipped"].items():
            lines.append(f"{'':<22}{iname:<12}  skipped: {why}")
    mb = 1 / 2**20
    memory = results.get("memory")
    if memory:
        lines.append("")
        text = (
            f"long chain memory ({memory['operations']:,} operations, length {memory['length']}): "
            f"saved arrays {memory['saved_arrays_bytes'] * mb:.1f} MB, "
            f"funcgrad peak {memory['funcgrad_peak_bytes'] * mb:.1f} MB ({memory['funcgrad_ratio']:.2f}x)"
        )
        if "autograd_peak_bytes" in memory:
            text += f", autograd peak {memory['autograd_peak_bytes'] * mb:.1f} MB"
        lines.append(text)
    dask_memory = results.get("dask_memory")
    if dask_memory:
        mb = 1 / 2**20
        lines.append(
            f"dask logistic memory: X {dask_memory['x_bytes'] * mb:.1f} MB in {dask_memory['chunks']} chunks of "
            f"{dask_memory['chunk_bytes'] * mb:.1f} MB; peak while computing: funcgrad "
            f"{dask_memory['funcgrad_peak_bytes'] * mb:.1f} MB ({dask_memory['funcgrad_chunks']:.1f} chunks), "
            f"by hand {dask_memory['dask_peak_bytes'] * mb:.1f} MB"
        )
    sweeps = results.get("sweep_memory", {})
    if sweeps:
        lines.append("")
        lines.append("backward sweep memory (MB held after the forward pass + peak above that while the backward runs):")
        for wname, per_impl in sweeps.items():
            floor_name = results["workloads"][wname].get("floor_name", "numpy")
            parts = [
                f"{floor_name if name == 'numpy' else name} {m['residual_bytes'] * mb:.1f} + {m['sweep_peak_bytes'] * mb:.1f}"
                for name, m in per_impl.items()
            ]
            lines.append(f"  {wname:<20}" + ", ".join(parts))
    chain = results["workloads"].get("scalar chain", {}).get("impls", {})
    if "funcgrad" in chain:
        per_op = {name: f"{entry['per_op'] * 1e6:.1f}" for name, entry in chain.items() if "per_op" in entry}
        lines.append("")
        lines.append(
            "scalar chain, µs per operation (forward + backward): "
            + ", ".join(f"{name} {value}" for name, value in per_op.items())
            + " (the issue's machine: autograd 11.0, torch 5.7, target about 4)"
        )
    forward = results["workloads"].get("jit chain forward", {}).get("impls", {})
    if "funcgrad" in forward:
        numpy_call, replay_call = forward["numpy"]["per_op"] * 1e6, forward["funcgrad"]["per_op"] * 1e6
        lines.append(
            f"jit replay, µs per operation of the scalar chain: NumPy's own call {numpy_call:.2f}, "
            f"the same calls replayed by jit {replay_call:.2f} (overhead {replay_call - numpy_call:+.2f} a call)"
        )
    lines.append("")
    lines.append("targets (issues 7, 13 and 16; met when measured <= limit):")
    for what, measured, limit, unit in targets(results):
        if measured is None:
            status, shown = "n/a (not measured)", "-"
        else:
            status, shown = ("met" if measured <= limit else "NOT met"), f"{measured:.2f}"
        lines.append(f"  {what:<44}{shown:>8}  limit {limit:<5} ({unit})  {status}")
    return "\n".join(lines)


def machine_info(peers: Peers) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "funcgrad": fg.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "peers": peers.versions,
        "missing_peers": peers.missing,
        "cpu": f"{cpu} ({os.cpu_count()} cpus, 1 thread used)",
        "platform": platform.platform(),
    }


def profile(build: Callable[[bool, Peers], Workload], quick: bool, seconds: float = 1.0, top: int = 25) -> int:
    """Print cProfile's view of funcgrad's implementation of one workload (the hot path, function by function)."""
    import cProfile
    import pstats

    workload = build(quick, Peers())
    if workload is None:
        print(f"{build.__name__}: its library is not installed")
        return 1
    fn = workload.impls["funcgrad"]
    calls = calibrate(fn, seconds, time.perf_counter)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    print(f"{build.__name__}: {calls} calls of funcgrad's implementation under cProfile")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds; the table shows medians (default 7)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few milliseconds a sample (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write every sample and the machine description here")
    parser.add_argument(
        "--peers",
        default=",".join(PEER_NAMES),
        help=f"comma-separated peers to compare, or 'none' (default: {','.join(PEER_NAMES)}; missing ones are skipped)",
    )
    parser.add_argument(
        "--timer",
        choices=sorted(TIMERS),
        default="process",
        help="process: CPU time of this process, steadier on a shared machine (default); wall: elapsed time",
    )
    parser.add_argument("--only", default="", help="comma-separated workload function names (e.g. scalar_chain,mlp)")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="instead of timing, run funcgrad's side of one workload (a function name) under cProfile for about "
        "a second and print where the time goes",
    )
    args = parser.parse_args(argv)
    wanted = set() if args.peers == "none" else {p.strip() for p in args.peers.split(",") if p.strip()}
    unknown = wanted - set(PEER_NAMES)
    if unknown:
        parser.error(f"unknown peer(s) {sorted(unknown)}; choose from {', '.join(PEER_NAMES)} or 'none'")
    names = {w.__name__ for w in WORKLOADS}
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    for name in only + ([args.profile] if args.profile else []):
        if name not in names:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(sorted(names))}")
    if args.profile:
        return profile(next(w for w in WORKLOADS if w.__name__ == args.profile), args.quick, 0.1 if args.quick else 1.0)
    peers = load_peers(wanted)
    chosen = [w for w in WORKLOADS if not only or w.__name__ in only]
    budget = 0.002 if args.quick else 0.05
    results: dict[str, Any] = {
        "machine": machine_info(peers),
        "repeat": args.repeat,
        "quick": args.quick,
        "timer": args.timer,
        "workloads": {},
    }
    for build in chosen:
        workload = build(args.quick, peers)
        if workload is None:
            continue  # its library (Dask) is not installed
        for name in list(workload.impls):
            if name not in ("numpy", "funcgrad") and name not in wanted:
                del workload.impls[name]
        results["workloads"][workload.name] = measure(workload, args.repeat, budget, TIMERS[args.timer])
        if workload.memory:
            results.setdefault("sweep_memory", {})[workload.name] = {
                name: sweep_memory(phases) for name, phases in workload.memory.items() if name in workload.impls
            }
    if long_chain in chosen:
        results["memory"] = long_chain_memory(args.quick, peers)
    if dask_logistic in chosen:
        measured = dask_memory(args.quick)
        if measured is not None:
            results["dask_memory"] = measured
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    mismatches = [
        f"{w}/{i}" for w, entry in results["workloads"].items() for i, e in entry["impls"].items() if not e["agrees"]
    ]
    if mismatches:
        print(f"\nresults disagree with the hand-written NumPy gradient: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
