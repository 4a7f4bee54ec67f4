"""A five-minute tour: the classic autograd chapter, told functionally.

Run it with ``python -m funcgrad``.  Every number printed is also checked
against its analytic value, so the tour doubles as a smoke test of an
installation (it exits non-zero if anything disagrees).
"""

from __future__ import annotations

import sys

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def _show(title: str, value: object, expected: object) -> bool:
    ok = bool(np.allclose(value, expected))  # type: ignore[arg-type]
    mark = "ok" if ok else "MISMATCH"
    print(f"  {title:<46} {value!s:<28} [{mark}]")
    return ok


def tour() -> bool:
    """Print the tour; return True when every value matches its analytic answer."""
    results = []
    x = fnp.arange(4.0)
    print("1. y = 2 x.x, and its gradient 4x")

    def y(x: np.ndarray) -> np.ndarray:
        return 2 * fnp.dot(x, x)

    results.append(_show("x", x, [0, 1, 2, 3]))
    results.append(_show("grad(y)(x)", fg.grad(y)(x), 4 * x))
    results.append(_show("called again: nothing accumulated", fg.grad(y)(x), 4 * x))

    print("2. A different function, a fresh gradient: sum(x)")
    results.append(_show("grad(sum)(x)", fg.grad(fnp.sum)(x), np.ones(4)))

    print("3. Non-scalar output: pass the head gradient as a cotangent")
    out, vjp_fn = fg.vjp(lambda x: 2 * x, x)
    head = np.array([10, 1, 0.1, 0.01])
    results.append(_show("vjp(lambda x: 2 * x, x)[1](head)", vjp_fn(head)[0], [20, 2, 0.2, 0.02]))
    results.append(_show("summing first is the ones cotangent", fg.grad(lambda x: fnp.sum(x * x))(x), 2 * x))

    print("4. stop_gradient instead of detach: z = stop_gradient(x*x) * x")
    results.append(_show("grad(z)(x) == x*x", fg.grad(lambda x: fnp.sum(fg.stop_gradient(x * x) * x))(x), x * x))

    print("5. Gradients through Python control flow")

    def f(a: float) -> float:
        b = a * 2
        while fnp.linalg.norm(b) < 1000:
            b = b * 2
        c = b if fnp.sum(b) > 0 else 100 * b
        return c

    a = 0.7
    results.append(_show("f'(a) == f(a) / a", fg.grad(f)(a), f(a) / a))

    print("6. Higher order and forward mode")
    results.append(_show("d^2/dx^2 sin at 1.0 == -sin(1.0)", fg.grad(fg.grad(fnp.sin))(1.0), -np.sin(1.0)))
    primal, tangent = fg.jvp(fnp.sin, (1.0,), (1.0,))
    results.append(_show("jvp(sin, 1.0, 1.0) tangent == cos(1.0)", tangent, np.cos(1.0)))
    hess = fg.hessian(lambda x: fnp.sum(x**3))(np.array([1.0, 2.0]))
    results.append(_show("hessian(sum(x**3)) at [1, 2]", hess.tolist(), [[6, 0], [0, 12]]))
    return all(results)


def main() -> int:
    print(f"funcgrad {fg.__version__}: automatic differentiation, functionally\n")
    ok = tour()
    print("\nAll values match their analytic answers." if ok else "\nSome values did not match!")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
