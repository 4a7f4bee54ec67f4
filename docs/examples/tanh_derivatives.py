"""The seven derivatives of ``tanh``.

``fg.grad`` needs a scalar output, and ``tanh`` acts elementwise, so the
derivative at many points at once is the gradient of the *sum*
(``elementwise_grad``).  Nesting it seven times gives the first seven
derivatives.  They are checked against the closed form: each derivative is a
polynomial in ``t = tanh(x)``, and ``d/dx P(t) = P'(t) (1 - t^2)``.

>>> out = main()
>>> out["max_error"] < 1e-8
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.polynomial import Polynomial

import funcgrad as fg
import funcgrad.numpy as fnp


# --8<-- [start:example]
def elementwise_grad(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The derivative of an elementwise function at every point of its input."""
    return fg.grad(lambda x: fnp.sum(f(x)))


def closed_form(order: int) -> list[Polynomial]:
    """Polynomials ``P_k`` with ``tanh^(k)(x) = P_k(tanh(x))`` for k = 0..order."""
    polys = [Polynomial([0.0, 1.0])]
    one_minus_t2 = Polynomial([1.0, 0.0, -1.0])
    for _ in range(order):
        polys.append(polys[-1].deriv() * one_minus_t2)
    return polys


def main(order: int = 7, n: int = 101) -> dict[str, Any]:
    """All derivatives of ``tanh`` up to ``order`` on [-4, 4] and the error against the closed form."""
    x = np.linspace(-4, 4, n)
    f: Callable[[Any], Any] = fnp.tanh
    curves = [f(x)]
    for _ in range(order):
        f = elementwise_grad(f)
        curves.append(f(x))
    exact = [p(np.tanh(x)) for p in closed_form(order)]
    error = max(float(np.max(np.abs(c - e))) for c, e in zip(curves, exact))
    return {"x": x, "curves": curves, "max_error": error}


if __name__ == "__main__":
    out = main()
    print(f"{len(out['curves']) - 1} derivatives of tanh, max error {out['max_error']:.2e}")
# --8<-- [end:example]
