"""Logistic regression trained by gradient descent on synthetic data.

Two Gaussian blobs in the plane, a linear classifier ``p = sigmoid(X @ w + b)``,
and plain gradient descent on the mean cross-entropy.  The gradient with
respect to the parameter pytree ``(w, b)`` comes from ``fg.grad``.

>>> result = main(steps=200)
>>> result["accuracy"] > 0.9
True
>>> result["losses"][-1] < result["losses"][0]
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def make_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: features ``X`` (n, 2) and labels ``y`` in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    centres = np.array([[-1.5, -1.0], [1.5, 1.0]])
    X = centres[y] + rng.standard_normal((n, 2))
    return X, y.astype(float)


# --8<-- [start:example]
def loss(params: tuple[Any, Any], X: np.ndarray, y: np.ndarray) -> Any:
    """Mean binary cross-entropy, written stably as ``log(1 + exp(-s z))`` with ``s = ±1``."""
    w, b = params
    z = fnp.matmul(X, w) + b
    s = 2 * y - 1
    return fnp.mean(fnp.log(1 + fnp.exp(-s * z)))


def predict(params: tuple[Any, Any], X: np.ndarray) -> np.ndarray:
    """Class predictions (0 or 1)."""
    w, b = params
    return (X @ w + b > 0).astype(float)


def main(steps: int = 300, lr: float = 0.5, seed: int = 0) -> dict[str, Any]:
    """Train and return the final parameters, the loss curve and the training accuracy."""
    X, y = make_data(seed=seed)
    params: tuple[Any, Any] = (np.zeros(2), 0.0)
    value_and_grad = fg.value_and_grad(loss)
    losses = []
    for _ in range(steps):
        value, (gw, gb) = value_and_grad(params, X, y)
        losses.append(float(value))
        params = (params[0] - lr * gw, params[1] - lr * gb)
    accuracy = float(np.mean(predict(params, X) == y))
    return {"params": params, "losses": losses, "accuracy": accuracy}


if __name__ == "__main__":
    out = main()
    print(f"final loss {out['losses'][-1]:.4f}, accuracy {out['accuracy']:.3f}")
# --8<-- [end:example]
