"""Gradients over chunked Dask arrays, computed on Dask's synchronous scheduler (one thread)."""

from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad as fg
from benchmarks.measure import peak
from benchmarks.peers import Peers
from benchmarks.report import MB
from benchmarks.targets import extra_ratio, time_ratio
from benchmarks.workload import Extra, Workload, workload


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


@workload(
    time_ratio("Dask logistic gradient / hand-written Dask gradient", 1.3),
    extra_ratio("Dask logistic gradient peak memory / one chunk of X", 4.0, "dask_memory", "funcgrad_chunks"),
)
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
        extras=[Extra("dask_memory", lambda: dask_memory(quick), _describe_dask_memory)],
    )


def dask_memory(quick: bool) -> dict[str, Any] | None:
    """Peak memory while each gradient is computed, against the size of one chunk of ``X`` and of all of it."""
    try:
        import dask
    except ImportError:
        return None
    X, y, w, chunk_bytes = dask_problem(quick)
    result: dict[str, Any] = {"chunk_bytes": chunk_bytes, "x_bytes": X.nbytes, "chunks": X.numblocks[0]}
    for name, build in {
        "funcgrad": lambda: fg.grad(dask_logistic_loss)(w, X, y),
        "dask": lambda: dask_logistic_by_hand(w, X, y),
    }.items():
        result[f"{name}_peak_bytes"] = peak(lambda: dask.compute(build(), scheduler="synchronous"))
    result["funcgrad_chunks"] = result["funcgrad_peak_bytes"] / chunk_bytes
    return result


def _describe_dask_memory(memory: dict[str, Any]) -> str:
    return (
        f"dask logistic memory: X {memory['x_bytes'] * MB:.1f} MB in {memory['chunks']} chunks of "
        f"{memory['chunk_bytes'] * MB:.1f} MB; peak while computing: funcgrad "
        f"{memory['funcgrad_peak_bytes'] * MB:.1f} MB ({memory['funcgrad_chunks']:.1f} chunks), "
        f"by hand {memory['dask_peak_bytes'] * MB:.1f} MB"
    )
