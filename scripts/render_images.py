"""Render the documentation figures into docs/images/ (needs the ``docs`` extra: matplotlib).

    python scripts/render_images.py

Not imported by the tests.  The figures come from the runnable examples in
docs/examples, so they always show what the tested code computes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
IMAGES = ROOT / "docs" / "images"


def load(name: str) -> ModuleType:
    """Import docs/examples/<name>.py (funcgrad from the environment, else from this checkout)."""
    if importlib.util.find_spec("funcgrad") is None:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tanh_derivatives() -> None:
    """docs/images/tanh_derivatives.png: tanh and its first seven derivatives."""
    out = load("tanh_derivatives").main(order=7, n=401)
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, curve in enumerate(out["curves"]):
        peak = np.max(np.abs(curve))
        ax.plot(out["x"], curve / peak, label="tanh" if k == 0 else f"order {k} / {peak:.3g}")
    ax.set_xlabel("x")
    ax.set_title("tanh and its first seven derivatives, each scaled to peak 1")
    ax.legend(ncol=2, fontsize="x-small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(IMAGES / "tanh_derivatives.png", dpi=100)
    plt.close(fig)


def loss_curves() -> None:
    """docs/images/loss_curve.png: training loss of the logistic regression and the MLP."""
    logistic = load("logistic_regression").main()
    mlp = load("mlp").main()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    axes[0].plot(logistic["losses"])
    axes[0].set_title(f"logistic regression (accuracy {logistic['accuracy']:.2f})")
    axes[1].semilogy(mlp["losses"])
    axes[1].set_title("MLP fitting sin")
    for ax in axes:
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(IMAGES / "loss_curve.png", dpi=100)
    plt.close(fig)


def taylor_sin() -> None:
    """docs/images/taylor_sin.png: Taylor polynomials of sin converging."""
    out = load("taylor_sin").main(max_order=11)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(out["x"], np.sin(out["x"]), "k", lw=3, label="sin", alpha=0.4)
    for n, curve in zip(out["orders"], out["curves"]):
        ax.plot(out["x"], curve, label=f"order {n}")
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x")
    ax.set_title("Taylor polynomials of sin at 0 from repeated fg.grad")
    ax.legend(ncol=2, fontsize="x-small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(IMAGES / "taylor_sin.png", dpi=100)
    plt.close(fig)


def program_graph() -> None:
    """docs/images/program_grad_2xx.png and .dot: the program of grad(2 x.x), drawn by Graphviz ``dot``."""
    import shutil
    import subprocess

    import funcgrad as fg

    program = fg.make_program(fg.grad(lambda x: 2 * np.dot(x, x)))(np.arange(3.0))
    dot = program.to_dot("grad_of_2xx")
    (IMAGES / "program_grad_2xx.dot").write_text(dot + "\n", encoding="utf-8")
    if shutil.which("dot") is None:
        print("graphviz 'dot' not found: wrote docs/images/program_grad_2xx.dot only")
        return
    subprocess.run(["dot", "-Tpng", "-Gdpi=90", "-o", str(IMAGES / "program_grad_2xx.png")], input=dot, text=True, check=True)


def main() -> None:
    """Render every figure."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    tanh_derivatives()
    loss_curves()
    taylor_sin()
    program_graph()
    for path in sorted(IMAGES.glob("*.png")):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
