"""Render docs/images/dask_memory.png: peak memory against rows, funcgrad's graphs beside hand-written ones (docs/dask.md).

    python scripts/render_dask_memory.py

Needs Dask and matplotlib.  Each point is the peak of tracemalloc while one
``dask.compute`` runs on Dask's synchronous scheduler (after a first compute
that fills Dask's caches), for a lazily generated ``X`` of 4 float64 columns in
chunks of 40,000 rows (1.28 MB), so more rows means more chunks.  A graph that
streams ``X`` stays flat; one that holds ``X`` grows with it.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import dask
import dask.array as da
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # funcgrad from this checkout

import funcgrad as fg  # noqa: E402

CHUNK, FEATURES = 40_000, 4


def logistic(w, X, y):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def difference_of_sums(w, X, y):
    z = X @ w
    return np.sum(z + np.log1p(np.exp(-z))) - np.dot(y, z)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def graphs(rows: int) -> dict[str, tuple[object, object]]:
    """Each combination's funcgrad graphs and the same quantities written by hand, over ``rows`` rows."""
    X = da.random.default_rng(3).normal(size=(rows, FEATURES), chunks=(CHUNK, FEATURES))
    y = (da.random.default_rng(4).random(size=rows, chunks=CHUNK) > 0.5).astype(float)
    w, v = np.linspace(-0.5, 0.5, FEATURES), np.array([1.0, -1.0, 0.5, 2.0])
    s = sigmoid(X @ w)
    gradient = X.T @ (s - y)
    return {
        "grad": (fg.grad(logistic)(w, X, y), gradient),
        "value_and_grad": (fg.value_and_grad(logistic)(w, X, y), (logistic(w, X, y), gradient)),
        "grad + jvp": (
            (fg.grad(logistic)(w, X, y), fg.jvp(lambda w: logistic(w, X, y), (w,), (v,))),
            (gradient, (logistic(w, X, y), np.dot(s - y, X @ v))),
        ),
        "grad + hessian (Newton step)": (
            (fg.grad(logistic)(w, X, y), fg.hessian(logistic)(w, X, y)),
            (gradient, (X.T * (s * (1.0 - s))) @ X),
        ),
        "value_and_grad, difference of sums": (
            fg.value_and_grad(difference_of_sums)(w, X, y),
            (difference_of_sums(w, X, y), gradient),
        ),
    }


def peak_mb(tree: object) -> float:
    dask.compute(tree, scheduler="synchronous")
    tracemalloc.start()
    try:
        dask.compute(tree, scheduler="synchronous")
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    rows = [CHUNK * n for n in (5, 10, 20, 40)]
    names = list(graphs(CHUNK))
    ours: dict[str, list[float]] = {name: [] for name in names}
    hand: dict[str, list[float]] = {name: [] for name in names}
    for n in rows:
        for name, (funcgrad_graph, hand_graph) in graphs(n).items():
            ours[name].append(peak_mb(funcgrad_graph))
            hand[name].append(peak_mb(hand_graph))
            print(f"{n:>9,} rows  {name:36s} funcgrad {ours[name][-1]:6.1f} MB  by hand {hand[name][-1]:6.1f} MB")
    figure, grid = plt.subplots(2, 3, figsize=(12.5, 7.0), sharey=True)
    axes = list(grid.ravel())
    axes[-1].axis("off")
    x_mb = [n * FEATURES * 8 / 1e6 for n in rows]
    for axis, name in zip(axes, names):
        axis.plot(rows, ours[name], "o-", label="funcgrad")
        axis.plot(rows, hand[name], "s--", label="written by hand")
        axis.plot(rows, x_mb, ":", color="grey", label="all of X")
        axis.axhline(CHUNK * FEATURES * 8 / 1e6, color="grey", lw=0.6, label="one chunk of X")
        axis.set_title(name, fontsize=10)
        axis.set_xlabel(f"rows (chunks of {CHUNK:,})")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(rows, [f"{n // 1000:,}k" for n in rows])
        axis.set_yticks([1, 3, 10, 30, 100], ["1", "3", "10", "30", "100"])
        axis.minorticks_off()
    for axis in (axes[0], axes[3]):
        axis.set_ylabel("peak while computing (MB)")
    axes[0].legend(fontsize=8)
    figure.suptitle("Dask, synchronous scheduler: peak memory against rows", fontsize=12)
    figure.tight_layout()
    figure.savefig(ROOT / "docs" / "images" / "dask_memory.png", dpi=110)


if __name__ == "__main__":
    main()
