"""Derivative graphs over a chunked Dask ``X`` computed together: value and gradient (in two forms), a Newton
step (gradient and Hessian in one compute), the Hessian alone, a Hessian-vector product (with the gradient, as
``fg.hvp`` gives them), and steps of gradient descent, against the same quantities written by hand on the same
Dask arrays and, where installed, dask-glm's loss and gradient; each on Dask's synchronous scheduler (one
thread), graph building included. Skipped under ``--quick`` except the Newton step.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import funcgrad as fg
from benchmarks.measure import peak
from benchmarks.peers import Peers
from benchmarks.report import MB
from benchmarks.targets import extra_ratio, time_ratio
from benchmarks.workload import Extra, Workload, workload

#: full size: 1e7 x 8 float64 (640 MB, 20 chunks of 32 MB), far beyond the cache and never held whole;
#: DASK_STREAMING_ROWS sets another size (a busy or small machine)
ROWS = int(os.environ.get("DASK_STREAMING_ROWS", "10000000"))
FEATURES, CHUNKS = 8, 20
QUICK_ROWS = 40_000


def streaming_problem(rows: int) -> tuple[Any, Any, np.ndarray]:
    """A lazily generated, row-chunked ``X`` and labels in {0, 1} generated beside it; NumPy weights."""
    import dask.array as da

    chunk = rows // CHUNKS
    X = da.random.default_rng(5).normal(size=(rows, FEATURES), chunks=(chunk, FEATURES))
    y = (da.random.default_rng(6).random(size=rows, chunks=chunk) > 0.5).astype(float)
    return X, y, np.linspace(-0.3, 0.3, FEATURES)


def logistic(w: Any, X: Any, y: Any) -> Any:
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def difference_of_sums(w: Any, X: Any, y: Any) -> Any:
    """The same loss in dask-glm's form (``Logistic.loglike``): two reductions over the rows."""
    z = X @ w
    return np.sum(z + np.log1p(np.exp(-z))) - np.dot(y, z)


def _sigmoid(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-z))


def _synchronously(*graphs: Any) -> Any:
    import dask

    return dask.compute(*graphs, scheduler="synchronous")


def _dask_glm() -> Any:
    try:
        from dask_glm.families import Logistic
    except ImportError:  # optional: the row is left out
        return None
    return Logistic


def _value_and_grad_workload(name: str, loss: Any, quick: bool) -> Workload | None:
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    if quick:
        return None
    X, y, w = streaming_problem(ROWS)
    value_and_grad = fg.value_and_grad(loss)

    def by_hand() -> Any:
        z = X @ w
        return _synchronously(loss(w, X, y), X.T @ (_sigmoid(z) - y))

    impls = {"numpy": by_hand, "funcgrad": lambda: _synchronously(*value_and_grad(w, X, y))}
    Logistic = _dask_glm()
    if Logistic is not None:
        # dask-glm's own pointwise loss and gradient, computed together (its loss is the difference of sums)
        impls["dask-glm"] = lambda: _synchronously(
            Logistic.pointwise_loss(w, X, y), Logistic.pointwise_gradient(w, X, y)
        )
    return Workload(
        name,
        f"value and gradient of a logistic loss ({loss.__doc__ or 'one sum over the rows'}) over a Dask X of "
        f"shape {X.shape} in {CHUNKS} chunks (the floor: the same written by hand on the same Dask arrays)",
        impls,
        rtol=1e-9,
        floor_name="dask",
    )


@workload(time_ratio("Dask value_and_grad (one sum) / hand-written Dask", 1.3))
def dask_value_and_grad(quick: bool, peers: Peers) -> Workload | None:
    """funcgrad's value_and_grad of a logistic loss written as one sum over the rows, computed in one go."""
    return _value_and_grad_workload("dask value_and_grad", logistic, quick)


@workload(
    time_ratio("Dask value_and_grad (difference of sums) / hand-written Dask", 1.3),
    time_ratio("Dask value_and_grad (difference of sums) / dask-glm's loss and gradient", 1.3, denominator="dask-glm"),
)
def dask_value_and_grad_glm(quick: bool, peers: Peers) -> Workload | None:
    """The same in dask-glm's form, against dask-glm's own pointwise loss and gradient when installed."""
    return _value_and_grad_workload("dask value_and_grad glm", difference_of_sums, quick)


@workload(
    time_ratio("Dask Newton step (gradient and Hessian in one compute) / hand-written Dask", 1.3),
    extra_ratio("Dask Newton step peak memory / hand-written", 1.3, "dask_newton_memory", "ratio"),
)
def dask_newton(quick: bool, peers: Peers) -> Workload | None:
    """A Newton step's gradient and Hessian of a logistic loss over a Dask X, computed in one dask.compute."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    rows = QUICK_ROWS if quick else ROWS
    X, y, w = streaming_problem(rows)
    grad, hessian = fg.grad(logistic), fg.hessian(logistic)

    def by_hand() -> Any:
        return _synchronously(*_newton_by_hand(w, X, y))

    return Workload(
        "dask newton step",
        f"gradient and Hessian of a logistic loss over a Dask X of shape {X.shape} in {CHUNKS} chunks, "
        "one compute (the floor: X.T @ (s - y) and X.T @ (s(1 - s) X) by hand on the same Dask arrays)",
        {"numpy": by_hand, "funcgrad": lambda: _synchronously(grad(w, X, y), hessian(w, X, y))},
        rtol=1e-9,
        floor_name="dask",
        extras=[Extra("dask_newton_memory", lambda: newton_memory(rows), _describe_newton_memory)],
    )


def _newton_by_hand(w: Any, X: Any, y: Any) -> tuple[Any, Any]:
    s = _sigmoid(X @ w)
    return X.T @ (s - y), (X.T * (s * (1.0 - s))) @ X


def newton_memory(rows: int) -> dict[str, Any] | None:
    """Peak bytes while the Newton step's graphs are computed, funcgrad's and the hand-written, in chunks of X."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    X, y, w = streaming_problem(rows)
    chunk_bytes = X.chunksize[0] * FEATURES * 8
    ours = peak(lambda: _synchronously(fg.grad(logistic)(w, X, y), fg.hessian(logistic)(w, X, y)))
    hand = peak(lambda: _synchronously(*_newton_by_hand(w, X, y)))
    return {
        "chunk_bytes": chunk_bytes,
        "funcgrad_chunks": ours / chunk_bytes,
        "dask_chunks": hand / chunk_bytes,
        "ratio": ours / hand,
    }


def _describe_newton_memory(memory: dict[str, Any]) -> str:
    return (
        f"dask newton step memory: chunks of {memory['chunk_bytes'] * MB:.1f} MB; peak while computing: funcgrad "
        f"{memory['funcgrad_chunks']:.1f} chunks, by hand {memory['dask_chunks']:.1f} chunks"
    )


@workload(
    time_ratio("Dask Hessian / hand-written Dask", 1.3),
    extra_ratio("Dask Hessian peak memory / hand-written", 1.3, "dask_hessian_memory", "ratio"),
)
def dask_hessian(quick: bool, peers: Peers) -> Workload | None:
    """The Hessian of a logistic loss alone over a Dask X (forward over reverse: one batch of tangents, X's rows)."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    if quick:
        return None
    X, y, w = streaming_problem(ROWS)
    hessian = fg.hessian(logistic)
    return Workload(
        "dask hessian",
        f"Hessian of a logistic loss over a Dask X of shape {X.shape} in {CHUNKS} chunks "
        "(the floor: (X.T * s(1 - s)) @ X by hand on the same Dask arrays)",
        {"numpy": lambda: _synchronously(_hessian_by_hand(w, X)), "funcgrad": lambda: _synchronously(hessian(w, X, y))},
        rtol=1e-9,
        floor_name="dask",
        extras=[
            Extra(
                "dask_hessian_memory",
                lambda: streaming_memory(lambda X, y, w: (fg.hessian(logistic)(w, X, y),), _hand_hessian_alone),
                _describe_memory("dask hessian"),
            )
        ],
    )


def _hessian_by_hand(w: Any, X: Any) -> Any:
    s = _sigmoid(X @ w)
    return (X.T * (s * (1.0 - s))) @ X


def _hand_hessian_alone(X: Any, y: Any, w: Any) -> tuple[Any, ...]:
    return (_hessian_by_hand(w, X),)


#: the direction of the Hessian-vector product
_V = np.linspace(1.0, -1.0, FEATURES)


@workload(
    time_ratio("Dask hvp (gradient and Hessian-vector product) / hand-written Dask", 1.3),
    extra_ratio("Dask hvp peak memory / hand-written product alone", 1.3, "dask_hvp_memory", "ratio"),
)
def dask_hvp(quick: bool, peers: Peers) -> Workload | None:
    """fg.hvp of a logistic loss over a Dask X: the gradient and one Hessian-vector product, in one compute."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    if quick:
        return None
    X, y, w = streaming_problem(ROWS)

    def ours() -> Any:
        return _synchronously(*fg.hvp(lambda w: logistic(w, X, y), (w,), (_V,)))

    def by_hand() -> Any:
        s = _sigmoid(X @ w)
        return _synchronously(X.T @ (s - y), (X.T * (s * (1.0 - s))) @ (X @ _V))

    return Workload(
        "dask hvp",
        f"gradient and Hessian-vector product (fg.hvp) of a logistic loss over a Dask X of shape {X.shape} in "
        f"{CHUNKS} chunks, one compute (the floor: X.T @ (s - y) and X.T @ (s(1 - s) X v) by hand, one compute)",
        {"numpy": by_hand, "funcgrad": ours},
        rtol=1e-9,
        floor_name="dask",
        extras=[
            Extra(
                "dask_hvp_memory",
                lambda: streaming_memory(lambda X, y, w: fg.hvp(lambda w: logistic(w, X, y), (w,), (_V,)), _hand_hvp),
                _describe_memory("dask hvp (against the hand-written product alone)"),
            )
        ],
    )


def _hand_hvp(X: Any, y: Any, w: Any) -> tuple[Any, ...]:
    # the product alone: computed with the gradient in one compute, the hand-written graph holds all of X
    s = _sigmoid(X @ w)
    return ((X.T * (s * (1.0 - s))) @ (X @ _V),)


def streaming_memory(ours: Any, hand: Any) -> dict[str, Any] | None:
    """Peak bytes while ``ours(X, y, w)``'s graphs and ``hand(X, y, w)``'s are computed, in chunks of X."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    X, y, w = streaming_problem(ROWS)
    chunk_bytes = X.chunksize[0] * FEATURES * 8
    mine = peak(lambda: _synchronously(*ours(X, y, w)))
    floor = peak(lambda: _synchronously(*hand(X, y, w)))
    return {
        "chunk_bytes": chunk_bytes,
        "funcgrad_chunks": mine / chunk_bytes,
        "dask_chunks": floor / chunk_bytes,
        "ratio": mine / floor,
    }


def _describe_memory(what: str) -> Any:
    def describe(memory: dict[str, Any]) -> str:
        return (
            f"{what} memory: chunks of {memory['chunk_bytes'] * MB:.1f} MB; peak while computing: funcgrad "
            f"{memory['funcgrad_chunks']:.1f} chunks, by hand {memory['dask_chunks']:.1f} chunks"
        )

    return describe


@workload(time_ratio("Dask gradient descent (3 steps) / hand-written Dask", 1.3))
def dask_gradient_descent(quick: bool, peers: Peers) -> Workload | None:
    """Three steps of gradient descent, each step's value and gradient computed together (one pass over X each)."""
    try:
        import dask  # noqa: F401
    except ImportError:
        return None
    if quick:
        return None
    X, y, w0 = streaming_problem(ROWS)
    value_and_grad = fg.value_and_grad(logistic)
    rate = 1.0 / ROWS

    def descend(step: Any) -> Any:
        w = w0
        for _ in range(3):
            _, g = step(w)
            w = w - rate * g
        return w

    def by_hand(w: Any) -> Any:
        z = X @ w
        return _synchronously(logistic(w, X, y), X.T @ (_sigmoid(z) - y))

    return Workload(
        "dask gradient descent",
        f"3 steps of gradient descent on a logistic loss over a Dask X of shape {X.shape}, each step's value and "
        "gradient in one compute (the floor: the same written by hand)",
        {
            "numpy": lambda: descend(by_hand),
            "funcgrad": lambda: descend(lambda w: _synchronously(*value_and_grad(w, X, y))),
        },
        rtol=1e-9,
        floor_name="dask",
    )
