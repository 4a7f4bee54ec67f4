"""Scientists' models: seven gradients a scientist writes in NumPy, eager and under ``jit``, beside JAX jit.

Each workload is the hand-written NumPy derivative (the floor), funcgrad eager (``funcgrad``), funcgrad
``jit`` of the same transform (``fg-jit``; its first call, recording and all, is the table's "first call"
column), and the peers when installed: HIPS autograd, JAX eager and ``jax.jit``, PyTorch eager.  The
RK4 model is a Python loop of 200 steps: JAX jit runs it as ``lax.scan`` (the unrolled loop is not
compiled: it did not finish compiling in half an hour), everything else runs the loop as written.
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import first_call_ratio, geomean_ratio, time_ratio
from benchmarks.workload import Workload, gradient_workload, workload
from funcgrad._fuse import available as fuse_available

#: the workloads' names in the results, for the geomean targets
SCIENTISTS = (
    "sci logistic",
    "sci gp",
    "sci rk4",
    "sci elementwise",
    "sci cnn",
    "sci per-example",
    "sci hessian",
)


def _with_jit(work: Workload, fg_fn: Callable[..., Any], *args: Any) -> Workload:
    """``work`` with funcgrad's ``jit`` of ``fg_fn`` beside its eager call (a fresh cache: the first call records),
    and ``jit(..., fuse=True)`` (``fg-jit-fuse``) when numba is installed."""
    jitted = fg.jit(fg_fn)
    impls = dict(work.impls)
    impls["fg-jit"] = lambda: jitted(*args)
    work.settle["fg-jit"] = _settled(jitted, args)
    work.fresh["fg-jit"] = lambda: functools.partial(fg.jit(fg_fn), *args)
    order = ["numpy", "funcgrad", "fg-jit"]
    if fuse_available():
        fused = fg.jit(fg_fn, fuse=True)
        impls["fg-jit-fuse"] = lambda: fused(*args)
        work.settle["fg-jit-fuse"] = _settled(fused, args)
        order.append("fg-jit-fuse")
    work.impls = {name: impls[name] for name in order + [n for n in impls if n not in order]}
    return work


def _settled(jitted: Any, args: tuple[Any, ...]) -> Callable[[], int]:
    """Calls of ``jitted`` until every recording it holds is in its last (compiled) tier, so that the timed
    calls are its steady state: a long recording is prepared one stage a call (docs/programs.md); the
    calls it took and their time are in the JSON results (``settle``) and in a line under the table."""

    def settle() -> int:
        calls = 0
        while calls < 20 and any(branch.tier != "compiled" for branch in jitted._cache.values()):
            jitted(*args)
            calls += 1
        # numba's exact tier (the default jit, numba installed): called until its compile starts, then waited for
        start = time.perf_counter()
        while any(branch.numba == "waiting" for branch in jitted._cache.values()) and time.perf_counter() - start < 60:
            jitted(*args)
            calls += 1
        for branch in jitted._cache.values():
            branch.wait()
        return calls

    return settle


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# --- logistic regression ------------------------------------------------------------------------


def _logistic_data(quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, d = (200, 10) if quick else (10_000, 100)
    rng = np.random.default_rng(20)
    X = rng.standard_normal((n, d))
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    w = rng.standard_normal(d) * 0.1
    return X, y, w


@workload(
    time_ratio("jit(grad) of logistic regression / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(grad) call of logistic regression / eager grad", 2.0),
    geomean_ratio("jit / JAX jit, geomean of the scientists' models", 1.0, SCIENTISTS, "fg-jit", "jax-jit"),
    geomean_ratio(
        "jit(fuse=True) / JAX jit, geomean of the scientists' models", 1.0, SCIENTISTS, "fg-jit-fuse", "jax-jit"
    ),
    geomean_ratio("eager / autograd, geomean of the scientists' models", 0.35, SCIENTISTS, "funcgrad", "autograd"),
    geomean_ratio(
        "first jit call / eager, geomean of the scientists' models", 2.0, SCIENTISTS, "fg-jit", "funcgrad", "first_call"
    ),
    geomean_ratio(
        "a new jit's first call (warm) / eager, geomean of the scientists' models",
        2.0,
        SCIENTISTS,
        "fg-jit",
        "funcgrad",
        "fresh_first_call",
    ),
)
def sci_logistic(quick: bool, peers: Peers) -> Workload:
    """Gradient of a logistic regression's loss, 10k examples x 100 features."""
    X, y, w = _logistic_data(quick)

    def floor() -> np.ndarray:
        return X.T @ (-y * _sigmoid(-y * (X @ w)))

    def loss(xp: Any, v: Any, consts: Any) -> Any:
        A, b = consts
        return xp.sum(xp.log1p(xp.exp(-b * (A @ v))))

    work = gradient_workload(
        "sci logistic", f"grad of a logistic loss, X {X.shape[0]:,} x {X.shape[1]}", peers, loss, w, [X, y], floor=floor
    )
    return _with_jit(work, fg.grad(lambda v: loss(fnp, v, [X, y])), w)


# --- Gaussian-process marginal likelihood -----------------------------------------------------


def _solve_lower(xp: Any, L: Any, b: Any) -> Any:
    """``L^-1 b`` for a lower-triangular ``L`` and a vector ``b``, by each library's triangular solve."""
    if xp.__name__ == "torch":
        return xp.linalg.solve_triangular(L, b[:, None], upper=False)[:, 0]
    scipy_linalg = {
        "funcgrad.numpy": "funcgrad.scipy.linalg",
        "autograd.numpy": "autograd.scipy.linalg",
        "jax.numpy": "jax.scipy.linalg",
    }[xp.__name__]
    return importlib.import_module(scipy_linalg).solve_triangular(L, b, lower=True)



@workload(
    time_ratio("jit(grad) of the GP marginal likelihood / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(grad) call of the GP likelihood / eager grad", 2.0),
)
def sci_gp(quick: bool, peers: Peers) -> Workload:
    """Gradient of a Gaussian process's negative log marginal likelihood w.r.t. its three hyperparameters."""
    n = 30 if quick else 500
    rng = np.random.default_rng(21)
    t = np.sort(rng.uniform(0.0, 10.0, n))
    y = np.sin(t) + 0.1 * rng.standard_normal(n)
    D2 = (t[:, None] - t[None, :]) ** 2
    eye = np.eye(n)
    theta = np.array([0.2, 0.1, -2.0])  # log length scale, log signal variance, log noise variance

    def floor() -> np.ndarray:
        ell2, sf2, sn2 = np.exp(2 * theta[0]), np.exp(theta[1]), np.exp(theta[2])
        E = np.exp(-0.5 * D2 / ell2)
        K = sf2 * E + sn2 * eye
        factor = cho_factor(K, lower=True)
        alpha = cho_solve(factor, y)
        W = cho_solve(factor, eye) - np.outer(alpha, alpha)  # K^-1 - alpha alpha^T
        dK = (sf2 * E * D2 / ell2, sf2 * E, sn2 * eye)
        return np.array([0.5 * np.sum(W * d) for d in dK])

    def nll(xp: Any, th: Any, consts: Any) -> Any:
        sq, identity, b = consts
        K = xp.exp(th[1]) * xp.exp(-0.5 * sq / xp.exp(2 * th[0])) + xp.exp(th[2]) * identity
        L = xp.linalg.cholesky(K)
        v = _solve_lower(xp, L, b)
        diagonal = xp.sum(L * identity, 1)  # masked row sums: autograd differentiates no np.diagonal
        return 0.5 * xp.sum(v * v) + xp.sum(xp.log(diagonal))

    consts = [D2, eye, y]
    work = gradient_workload(
        "sci gp", f"grad of a GP's negative log marginal likelihood, n={n}", peers, nll, theta, consts, floor=floor
    )
    return _with_jit(work, fg.grad(lambda th: nll(fnp, th, consts)), theta)


# --- RK4 in a Python loop -------------------------------------------------------------------------

_RK4_DT = 0.01
_RK4_Y0 = (1.0, 1.0)
_RK4_TARGET = (1.2, 0.8)


def _lotka_volterra(u: Any, v: Any, p: Any) -> tuple[Any, Any]:
    return p[0] * u - p[1] * u * v, p[2] * u * v - p[3] * v


def _rk4_loss(p: Any, steps: int) -> Any:
    """Lotka-Volterra, ``steps`` RK4 steps written as a Python loop on scalar states; squared final error."""
    u, v = _RK4_Y0
    h = _RK4_DT
    for _ in range(steps):
        a1, b1 = _lotka_volterra(u, v, p)
        a2, b2 = _lotka_volterra(u + 0.5 * h * a1, v + 0.5 * h * b1, p)
        a3, b3 = _lotka_volterra(u + 0.5 * h * a2, v + 0.5 * h * b2, p)
        a4, b4 = _lotka_volterra(u + h * a3, v + h * b3, p)
        u = u + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
        v = v + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
    return (u - _RK4_TARGET[0]) ** 2 + (v - _RK4_TARGET[1]) ** 2


def _rk4_numpy_grad(p: np.ndarray, steps: int) -> np.ndarray:
    """The exact derivative of the discrete scheme, by hand: RK4 of the forward sensitivities ``dy/dp``."""
    h = _RK4_DT
    y = np.array(_RK4_Y0)
    S = np.zeros((2, 4))

    def f(y: np.ndarray) -> np.ndarray:
        return np.array([p[0] * y[0] - p[1] * y[0] * y[1], p[2] * y[0] * y[1] - p[3] * y[1]])

    def df(y: np.ndarray, dy: np.ndarray) -> np.ndarray:
        jac = np.array([[p[0] - p[1] * y[1], -p[1] * y[0]], [p[2] * y[1], p[2] * y[0] - p[3]]])
        fp = np.array([[y[0], -y[0] * y[1], 0.0, 0.0], [0.0, 0.0, y[0] * y[1], -y[1]]])
        return jac @ dy + fp

    for _ in range(steps):
        k1, d1 = f(y), df(y, S)
        y2, S2 = y + 0.5 * h * k1, S + 0.5 * h * d1
        k2, d2 = f(y2), df(y2, S2)
        y3, S3 = y + 0.5 * h * k2, S + 0.5 * h * d2
        k3, d3 = f(y3), df(y3, S3)
        y4, S4 = y + h * k3, S + h * d3
        k4, d4 = f(y4), df(y4, S4)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        S = S + h / 6.0 * (d1 + 2.0 * d2 + 2.0 * d3 + d4)
    return 2.0 * (y - np.array(_RK4_TARGET)) @ S


@workload(
    time_ratio("jit(grad) of the RK4 loop / JAX jit of lax.scan", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(grad) call of the RK4 loop / eager grad", 2.0),
)
def sci_rk4(quick: bool, peers: Peers) -> Workload:
    """Gradient of the squared final error of a Lotka-Volterra model integrated by RK4, a Python loop."""
    steps = 10 if quick else 200
    p = np.array([1.5, 1.0, 1.0, 3.0])
    fg_grad = fg.grad(lambda q: _rk4_loss(q, steps))
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: _rk4_numpy_grad(p, steps),
        "funcgrad": lambda: fg_grad(p),
    }
    skipped: dict[str, str] = {}
    if peers.autograd:
        ag_grad = peers.autograd.grad(lambda q: _rk4_loss(q, steps))
        impls["autograd"] = lambda: ag_grad(p)
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jp = jnp.asarray(p)
        jax_grad = jax.grad(lambda q: _rk4_loss(q, steps))

        def scanned(q: Any) -> Any:
            h = _RK4_DT

            def step(y: Any, _: Any) -> tuple[Any, None]:
                u, v = y[0], y[1]
                a1, b1 = _lotka_volterra(u, v, q)
                a2, b2 = _lotka_volterra(u + 0.5 * h * a1, v + 0.5 * h * b1, q)
                a3, b3 = _lotka_volterra(u + 0.5 * h * a2, v + 0.5 * h * b2, q)
                a4, b4 = _lotka_volterra(u + h * a3, v + h * b3, q)
                u = u + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
                v = v + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
                return jnp.stack([u, v]), None

            y, _ = jax.lax.scan(step, jnp.asarray(_RK4_Y0), None, length=steps)
            return (y[0] - _RK4_TARGET[0]) ** 2 + (y[1] - _RK4_TARGET[1]) ** 2

        jax_jit = jax.jit(jax.grad(scanned))
        impls["jax"] = lambda: jax.block_until_ready(jax_grad(jp))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jp))
        skipped["jax-jit (unrolled)"] = "not run: jax.jit of the Python-unrolled loop did not finish compiling"
    if peers.torch:
        torch = peers.torch
        tp = torch.tensor(p, requires_grad=True)
        impls["torch"] = lambda: torch.autograd.grad(_rk4_loss(tp, steps), tp)[0]
    if peers.torch_compile:
        skipped["torch-compile"] = (
            "not run: torch.compile of the Python-unrolled loop's gradient compiles for about 8 minutes "
            "(506 s, then 1.8 ms a call: benchmarks/rk4_torch_compile.py)"
        )
    work = Workload(
        "sci rk4",
        f"grad of a Lotka-Volterra model's final error, {steps} RK4 steps in a Python loop (JAX jit: lax.scan)",
        impls,
        skipped=skipped,
        rtol=1e-9,
    )
    return _with_jit(work, fg_grad, p)


# --- an elementwise chain on 1e6 elements -----------------------------------------------------------


@workload(
    time_ratio("jit(grad) of the elementwise chain / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(grad) call of the elementwise chain / eager grad", 2.0),
)
def sci_elementwise(quick: bool, peers: Peers) -> Workload:
    """Gradient of ``sum(tanh(x) * exp(-0.5 * x * x) + 0.1 * x)`` on 1e6 elements."""
    n = 1000 if quick else 1_000_000
    x = np.linspace(-4.0, 4.0, n)

    def floor() -> np.ndarray:
        t, e = np.tanh(x), np.exp(-0.5 * x * x)
        return (1.0 - t * t - t * x) * e + 0.1

    def chain(xp: Any, v: Any, _: Any) -> Any:
        return xp.sum(xp.tanh(v) * xp.exp(-0.5 * v * v) + 0.1 * v)

    work = gradient_workload(
        "sci elementwise", f"grad of sum(tanh(x) * exp(-x²/2) + 0.1 x), {n:,} elements", peers, chain, x, floor=floor
    )
    return _with_jit(work, fg.grad(lambda v: chain(fnp, v, None)), x)


# --- a CNN-like layer: nine shifted slices and einsum -----------------------------------------------


@workload(
    time_ratio("jit(grad) of the 3x3 einsum layer / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(grad) call of the 3x3 einsum layer / eager grad", 2.0),
)
def sci_cnn(quick: bool, peers: Peers) -> Workload:
    """Gradient of ``sum(tanh(conv3x3(x, w)))`` w.r.t. the weights and the image, the convolution written
    as nine shifted slices of the padded image, each contracted with ``einsum``."""
    b, c, hw = (2, 3, 6) if quick else (8, 16, 32)
    rng = np.random.default_rng(22)
    x = rng.standard_normal((b, c, hw + 2, hw + 2))
    w = rng.standard_normal((9, c, c)) / (3 * np.sqrt(c))
    shifts = [(i, j) for i in range(3) for j in range(3)]

    def layer(xp: Any, ps: Any, _: Any) -> Any:
        kernel, image = ps
        out = 0.0
        for k, (i, j) in enumerate(shifts):
            out = out + xp.einsum("oc,bchw->bohw", kernel[k], image[:, :, i : i + hw, j : j + hw])
        return xp.sum(xp.tanh(out))

    def floor() -> list[np.ndarray]:
        out = sum(
            np.einsum("oc,bchw->bohw", w[k], x[:, :, i : i + hw, j : j + hw], optimize=True)
            for k, (i, j) in enumerate(shifts)
        )
        g = 1.0 - np.tanh(out) ** 2
        dw = np.empty_like(w)
        dx = np.zeros_like(x)
        for k, (i, j) in enumerate(shifts):
            dw[k] = np.einsum("bohw,bchw->oc", g, x[:, :, i : i + hw, j : j + hw], optimize=True)
            dx[:, :, i : i + hw, j : j + hw] += np.einsum("oc,bohw->bchw", w[k], g, optimize=True)
        return [dw, dx]

    params = [w, x]
    work = gradient_workload(
        "sci cnn", f"grad of sum(tanh(3x3 conv)) as 9 shifted einsums, image {x.shape}", peers, layer, params, floor=floor
    )
    return _with_jit(work, fg.grad(lambda ps: layer(fnp, ps, None)), params)


# --- per-example gradients ------------------------------------------------------------------------------


@workload(
    time_ratio("jit(vmap(grad)) per-example gradients / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(vmap(grad)) call, per-example gradients / eager", 2.0),
)
def sci_per_example(quick: bool, peers: Peers) -> Workload:
    """Per-example gradients of the logistic loss, ``vmap(grad(loss), in_axes=(None, 0, 0))``."""
    X, y, w = _logistic_data(quick)

    def floor() -> np.ndarray:
        return (-y * _sigmoid(-y * (X @ w)))[:, None] * X

    def loss(xp: Any, v: Any, a: Any, b: Any) -> Any:
        return xp.log1p(xp.exp(-b * (a @ v)))

    fg_per_example = fg.vmap(fg.grad(lambda v, a, b: loss(fnp, v, a, b)), in_axes=(None, 0, 0))
    impls: dict[str, Callable[[], Any]] = {"numpy": floor, "funcgrad": lambda: fg_per_example(w, X, y)}
    skipped = {"autograd": "no vmap"} if peers.autograd else {}
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jw, jX, jy = jnp.asarray(w), jnp.asarray(X), jnp.asarray(y)
        jax_pe = jax.vmap(jax.grad(lambda v, a, b: loss(jnp, v, a, b)), in_axes=(None, 0, 0))
        jax_jit = jax.jit(jax_pe)
        impls["jax"] = lambda: jax.block_until_ready(jax_pe(jw, jX, jy))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jw, jX, jy))
    if peers.torch:
        torch = peers.torch
        tw, tX, ty = torch.tensor(w), torch.tensor(X), torch.tensor(y)
        torch_pe = torch.func.vmap(torch.func.grad(lambda v, a, b: loss(torch, v, a, b)), in_dims=(None, 0, 0))
        impls["torch"] = lambda: torch_pe(tw, tX, ty)
        if peers.torch_compile:
            compiled_pe = torch.compile(torch_pe)
            impls["torch-compile"] = lambda: compiled_pe(tw, tX, ty)
    work = Workload(
        "sci per-example",
        f"vmap(grad) of the logistic loss over {X.shape[0]:,} examples of {X.shape[1]} features",
        impls,
        skipped=skipped,
    )
    return _with_jit(work, fg_per_example, w, X, y)


# --- a Hessian in R^200 ---------------------------------------------------------------------------------


@workload(
    time_ratio("jit(hessian) in R^200 / JAX jit", 1.0, numerator="fg-jit", denominator="jax-jit"),
    first_call_ratio("first jit(hessian) call in R^200 / eager hessian", 2.0),
)
def sci_hessian(quick: bool, peers: Peers) -> Workload:
    """Hessian of ``sum(tanh(A @ x) ** 2) + sum(log1p(x * x))``, x in R^200."""
    n = 8 if quick else 200
    rng = np.random.default_rng(23)
    A = rng.standard_normal((n, n)) / math.sqrt(n)
    x = rng.standard_normal(n)

    def floor() -> np.ndarray:
        t = np.tanh(A @ x)
        s = 1.0 + x * x
        return (A.T * (2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t))) @ A + np.diag(2.0 * (1.0 - x * x) / (s * s))

    def f(xp: Any, v: Any, M: Any) -> Any:
        return xp.sum(xp.tanh(M @ v) ** 2) + xp.sum(xp.log1p(v * v))

    fg_h = fg.hessian(lambda v: f(fnp, v, A))
    impls: dict[str, Callable[[], Any]] = {"numpy": floor, "funcgrad": lambda: fg_h(x)}
    if peers.autograd:
        ag_h = peers.autograd.hessian(lambda v: f(peers.anp, v, A))
        impls["autograd"] = lambda: ag_h(x)
    if peers.jax:
        jax, jnp = peers.jax, peers.jnp
        jA, jx = jnp.asarray(A), jnp.asarray(x)
        jax_h = jax.hessian(lambda v: f(jnp, v, jA))
        jax_jit = jax.jit(jax_h)
        impls["jax"] = lambda: jax.block_until_ready(jax_h(jx))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jx))
    if peers.torch:
        torch = peers.torch
        tA, tx = torch.tensor(A), torch.tensor(x)
        torch_h = torch.func.hessian(lambda v: f(torch, v, tA))
        impls["torch"] = lambda: torch_h(tx)
        if peers.torch_compile:
            compiled_h = torch.compile(torch_h)
            impls["torch-compile"] = lambda: compiled_h(tx)
    work = Workload("sci hessian", f"hessian of sum(tanh(A@x)**2) + sum(log1p(x²)), x in R^{n}", impls)
    return _with_jit(work, fg_h, x)
