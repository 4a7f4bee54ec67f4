"""Newton's method with ``fg.grad`` and ``fg.hessian``.

Two classic uses:

* a root of a scalar function, ``x <- x - f(x) / f'(x)``: the cube root of 2
  as the root of ``x**3 - 2``;
* a minimum of a function of several variables, ``x <- x - H(x)^{-1} g(x)``:
  the Rosenbrock function, whose minimum is at ``(1, 1)``.

>>> root, _ = newton_root(lambda x: x ** 3 - 2.0, 1.0)
>>> bool(abs(root - 2.0 ** (1 / 3)) < 1e-12)
True
>>> xmin, path = newton_minimize(rosenbrock, np.array([-1.2, 1.0]))
>>> np.allclose(xmin, [1.0, 1.0])
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


# --8<-- [start:example]
def newton_root(f: Callable[[Any], Any], x0: float, tol: float = 1e-14, max_steps: int = 50) -> tuple[float, int]:
    """Return ``(root, steps)`` of a scalar function by Newton's iteration."""
    df = fg.grad(f)
    x = float(x0)
    for step in range(1, max_steps + 1):
        dx = float(f(x) / df(x))
        x -= dx
        if abs(dx) < tol * max(1.0, abs(x)):
            return x, step
    return x, max_steps


def rosenbrock(x: Any) -> Any:
    """``(1 - x0)^2 + 100 (x1 - x0^2)^2``, minimum 0 at ``(1, 1)``."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def newton_minimize(
    f: Callable[[Any], Any], x0: np.ndarray, tol: float = 1e-12, max_steps: int = 100
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Minimise ``f`` with full Newton steps; return the minimiser and the path taken."""
    g, H = fg.grad(f), fg.hessian(f)
    x = np.asarray(x0, dtype=float)
    path = [x]
    for _ in range(max_steps):
        step = np.linalg.solve(H(x), g(x))
        x = x - step
        path.append(x)
        if np.linalg.norm(step) < tol:
            break
    return x, path


def main() -> dict[str, Any]:
    """Run both examples; return the cube root of 2 and the Rosenbrock minimiser."""
    root, root_steps = newton_root(lambda x: x**3 - 2.0, 1.0)
    xmin, path = newton_minimize(rosenbrock, np.array([-1.2, 1.0]))
    value = float(fnp.sum(rosenbrock(xmin)))
    return {"root": root, "root_steps": root_steps, "xmin": xmin, "steps": len(path) - 1, "fmin": value}


if __name__ == "__main__":
    out = main()
    print(f"cube root of 2 = {out['root']!r} after {out['root_steps']} steps")
    print(f"Rosenbrock minimum at {out['xmin']} after {out['steps']} Newton steps")
# --8<-- [end:example]
