"""Render docs/images/dask_grad_graph.png: the Dask task graph of a funcgrad gradient (docs/dask.md).

    python scripts/render_dask_graph.py

Needs Dask, the ``graphviz`` Python package and Graphviz's ``dot`` program.
The graph is the one ``fg.grad`` builds for the logistic loss of docs/dask.md
over an ``X`` of three row chunks, after Dask's own graph optimisation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dask.array as da
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # funcgrad from this checkout

import funcgrad as fg  # noqa: E402


def loss(w: np.ndarray, X: da.Array, y: da.Array) -> da.Array:
    return np.sum(np.log1p(np.exp(-y * (X @ w))))


def main() -> None:
    X = da.random.default_rng(0).normal(size=(300, 4), chunks=(100, 4))
    y = da.sign(da.random.default_rng(1).normal(size=300, chunks=100))
    gradient = fg.grad(loss)(np.zeros(4), X, y)
    gradient.visualize(
        filename=str(ROOT / "docs" / "images" / "dask_grad_graph.png"), optimize_graph=True, rankdir="LR"
    )


if __name__ == "__main__":
    main()
