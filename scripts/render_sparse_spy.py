"""Render docs/images/sparse_brusselator.png: the detected Jacobian pattern of the Brusselator and its colours.

    python scripts/render_sparse_spy.py

Needs matplotlib (the ``docs`` extra) and SciPy.  Left: the pattern of the
2-D Brusselator's Jacobian on an 8 x 8 grid (128 unknowns), as
``fg.jacobian_sparsity`` finds it.  Right: the compressed Jacobian, one column
per colour of the column colouring ``fg.sparse_jacobian`` uses: every nonzero
lands in its column's colour, and no two land on one spot.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # funcgrad and the benchmarks from this checkout

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from benchmarks.workloads.sparse import brusselator, brusselator_state  # noqa: E402


def main() -> None:
    n = 8
    u = brusselator_state(n)
    f = lambda v: brusselator(fnp, v, n)  # noqa: E731
    pattern = fg.jacobian_sparsity(f)(u).tocoo()
    info = fg.sparse_jacfwd(f).coloring(u)
    colours = info.colors[pattern.col]
    cmap = plt.get_cmap("tab20", info.ncolors)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.6), gridspec_kw={"width_ratios": [2.2, 1]})
    left.scatter(pattern.col, pattern.row, c=colours, cmap=cmap, s=4, marker="s", vmin=-0.5, vmax=info.ncolors - 0.5)
    left.set_xlim(-0.5, u.size - 0.5)
    left.set_ylim(u.size - 0.5, -0.5)
    left.set_aspect("equal")
    left.set_title(f"Jacobian pattern: {pattern.nnz} nonzeros of {u.size}x{u.size}", fontsize=10)
    left.set_xlabel("input (x then y, 8x8 grid each)")
    left.set_ylabel("output")
    right.scatter(colours, pattern.row, c=colours, cmap=cmap, s=4, marker="s", vmin=-0.5, vmax=info.ncolors - 0.5)
    right.set_xlim(-0.5, info.ncolors - 0.5)
    right.set_ylim(u.size - 0.5, -0.5)
    right.set_aspect("auto")
    right.set_title(f"compressed: {info.ncolors} colours", fontsize=10)
    right.set_xlabel("colour (one JVP each)")
    right.set_xticks(range(0, info.ncolors, 2))
    fig.tight_layout()
    out = ROOT / "docs" / "images" / "sparse_brusselator.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
