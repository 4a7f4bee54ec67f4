"""The Taylor approximation of ``sin`` from repeated ``grad``.

The k-th derivative of ``sin`` at 0 comes from nesting ``fg.grad`` k times;
the Taylor polynomial ``sum_k f^(k)(0) x^k / k!`` then converges to
``sin(x)`` as the order grows.

>>> coefficients = derivatives_at(0.0, 7)
>>> np.round(coefficients, 12).tolist()
[0.0, 1.0, 0.0, -1.0, 0.0, 1.0, 0.0, -1.0]
>>> out = main()
>>> out["errors"][-1] < 1e-6 < out["errors"][0]
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


# --8<-- [start:example]
def derivatives_at(x0: float, order: int, f: Callable[[Any], Any] = fnp.sin) -> np.ndarray:
    """``[f(x0), f'(x0), ..., f^(order)(x0)]`` by nesting ``fg.grad``."""
    values = []
    g = f
    for _ in range(order + 1):
        values.append(float(g(x0)))
        g = fg.grad(g)
    return np.array(values)


def taylor(coefficients: np.ndarray, x: np.ndarray, x0: float = 0.0) -> np.ndarray:
    """Evaluate ``sum_k c_k (x - x0)^k / k!``."""
    return sum(c * (x - x0) ** k / math.factorial(k) for k, c in enumerate(coefficients))


def main(max_order: int = 15) -> dict[str, Any]:
    """Taylor polynomials of orders 1, 3, ..., ``max_order`` on [-pi, pi] and their max errors."""
    x = np.linspace(-np.pi, np.pi, 101)
    coefficients = derivatives_at(0.0, max_order)
    orders = list(range(1, max_order + 1, 2))
    curves = [taylor(coefficients[: n + 1], x) for n in orders]
    errors = [float(np.max(np.abs(c - np.sin(x)))) for c in curves]
    return {"x": x, "orders": orders, "curves": curves, "errors": errors, "coefficients": coefficients}


if __name__ == "__main__":
    out = main()
    for n, e in zip(out["orders"], out["errors"]):
        print(f"order {n:2d}: max error on [-pi, pi] = {e:.2e}")
# --8<-- [end:example]
