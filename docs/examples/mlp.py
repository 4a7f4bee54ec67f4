"""A small multilayer perceptron fitted to ``sin`` with the Adam optimiser.

The parameters are a list of dicts of arrays (a pytree); ``fg.value_and_grad``
returns a gradient with the same structure, and ``tree_map`` applies the
Adam update leaf by leaf.

>>> result = main(steps=300)
>>> result["losses"][-1] < 0.1 * result["losses"][0]
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree import tree_map


def init_params(sizes: tuple[int, ...] = (1, 16, 16, 1), seed: int = 0) -> list[dict[str, np.ndarray]]:
    """One ``{"W", "b"}`` dict per layer, scaled by ``1/sqrt(fan_in)``."""
    rng = np.random.default_rng(seed)
    return [{"W": rng.standard_normal((m, n)) / np.sqrt(m), "b": np.zeros(n)} for m, n in zip(sizes[:-1], sizes[1:])]


# --8<-- [start:example]
def forward(params: list[dict[str, Any]], x: Any) -> Any:
    """``tanh`` hidden layers and a linear output layer."""
    h = x
    for layer in params[:-1]:
        h = fnp.tanh(fnp.matmul(h, layer["W"]) + layer["b"])
    last = params[-1]
    return fnp.matmul(h, last["W"]) + last["b"]


def loss(params: list[dict[str, Any]], x: np.ndarray, y: np.ndarray) -> Any:
    """Mean squared error."""
    return fnp.mean((forward(params, x) - y) ** 2)


def main(steps: int = 500, lr: float = 0.01, seed: int = 0) -> dict[str, Any]:
    """Fit ``y = sin(x)`` on [-3, 3] with Adam; return the parameters and the loss curve."""
    x = np.linspace(-3, 3, 32)[:, None]
    y = np.sin(x)
    params = init_params(seed=seed)
    m = tree_map(np.zeros_like, params)  # Adam's first and second moments, same pytree shape
    v = tree_map(np.zeros_like, params)
    b1, b2, eps = 0.9, 0.999, 1e-8
    value_and_grad = fg.value_and_grad(loss)
    losses = []
    for t in range(1, steps + 1):
        value, grads = value_and_grad(params, x, y)
        losses.append(float(value))
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        scale = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        params = tree_map(lambda p, m, v: p - scale * m / (np.sqrt(v) + eps), params, m, v)
    return {"params": params, "losses": losses}


if __name__ == "__main__":
    out = main()
    print(f"loss {out['losses'][0]:.4f} -> {out['losses'][-1]:.5f}")
# --8<-- [end:example]
