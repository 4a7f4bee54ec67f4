"""Forces as the gradient of an energy: a chain of springs in the plane.

``n`` point masses at positions ``x`` (shape ``(n, 2)``) are joined in a
line by springs of stiffness ``k`` and rest length ``L``:

    E(x) = sum_i  k/2 (|x[i+1] - x[i]| - L)^2

The force on every mass is ``F = -dE/dx``, one ``fg.grad`` call, shaped
like ``x``.  The Hessian of ``E`` is the stiffness matrix.

>>> out = main()
>>> out["max_fd_error"] < 1e-6
True
>>> np.allclose(out["forces"].sum(axis=0), 0.0)   # internal forces cancel
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


# --8<-- [start:example]
def energy(x: Any, k: float = 2.0, rest: float = 1.0) -> Any:
    """Elastic energy of the chain."""
    d = x[1:] - x[:-1]
    length = fnp.sqrt(fnp.sum(d * d, axis=1))
    return 0.5 * k * fnp.sum((length - rest) ** 2)


def forces(x: np.ndarray) -> np.ndarray:
    """``-grad(energy)``: the force on each mass, shape ``(n, 2)``."""
    return -fg.grad(energy)(x)


def finite_difference_forces(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the energy, for checking."""
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        out[index] = -(energy(x + step) - energy(x - step)) / (2 * eps)
    return out


def main(n: int = 5, seed: int = 0) -> dict[str, Any]:
    """Random chain; return forces, the finite-difference error and the stiffness matrix."""
    rng = np.random.default_rng(seed)
    x = np.stack([np.arange(n, dtype=float) * 1.1, np.zeros(n)], axis=1) + 0.2 * rng.standard_normal((n, 2))
    F = forces(x)
    error = float(np.max(np.abs(F - finite_difference_forces(x))))
    stiffness = fg.hessian(energy)(x).reshape(2 * n, 2 * n)
    return {"positions": x, "forces": F, "max_fd_error": error, "stiffness": stiffness}


if __name__ == "__main__":
    out = main()
    print("forces:\n", out["forces"])
    print("max |autodiff - finite difference| =", out["max_fd_error"])
# --8<-- [end:example]
