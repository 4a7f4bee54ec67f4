"""Regenerate tests/data/jax_answers.npz: JAX's Jacobians and Hessians over tests/test_surface.py's TABLE.

Run with JAX installed (``pip install jax jaxlib``)::

    python scripts/gen_jax_answers.py

For each TABLE case that ``jax.numpy`` can run, in float64: ``jax.jacrev`` of the
case's outputs (complex ones split into real and imaginary parts) and
``jax.hessian`` of the same real scalar loss tests/test_transform_agreement.py
builds, one array per leaf under ``"<case>|<jacrev|hessian>|<leaf>"``.  The test
compares funcgrad's answers with these at rtol 1e-9, so the default test run
needs no JAX.  Cases JAX cannot run (or where its answer holds a NaN) are left out.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "jax_answers.npz"


def main() -> None:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT))
    from test_surface import TABLE  # noqa: PLC0415 - the table lives with the tests

    def real_outputs(f: Any) -> Any:
        def split(*args: Any) -> list[Any]:
            parts = []
            for out in jax.tree_util.tree_leaves(f(*args)):
                parts.extend([jnp.real(out), jnp.imag(out)] if jnp.iscomplexobj(out) else [out])
            return parts

        return split

    def scalar_loss(f: Any) -> Any:
        def loss(*args: Any) -> Any:
            total = 0.0
            for k, out in enumerate(jax.tree_util.tree_leaves(f(*args))):
                weights = np.cos(np.arange(np.size(out)) + k).reshape(np.shape(out))
                total = total + jnp.sum(jnp.real(out * weights) ** 2)
            return total

        return loss

    answers: dict[str, np.ndarray[Any, Any]] = {}
    skipped = []
    for name, fn, args, _ in TABLE:
        args = tuple(jnp.asarray(np.asarray(a, np.float64)) for a in args)
        f = lambda *a, fn=fn: fn(jnp, *a)  # noqa: E731
        argnums = tuple(range(len(args)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = {
                    "jacrev": jax.tree_util.tree_leaves(jax.jacrev(real_outputs(f), argnums=argnums)(*args)),
                    "hessian": jax.tree_util.tree_leaves(jax.hessian(scalar_loss(f), argnums=argnums)(*args)),
                }
        except Exception as error:  # noqa: BLE001 - jax.numpy lacks the function or this signature
            skipped.append(f"{name}: {type(error).__name__}")
            continue
        leaves = {kind: [np.asarray(leaf, np.float64) for leaf in found[kind]] for kind in found}
        if any(np.isnan(leaf).any() for kind in leaves for leaf in leaves[kind]):
            skipped.append(f"{name}: NaN")
            continue
        for kind, values in leaves.items():
            for i, leaf in enumerate(values):
                answers[f"{name}|{kind}|{i}"] = leaf
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, **answers)
    print(f"{OUT.relative_to(ROOT)}: {len(answers)} arrays; {len(skipped)} cases left out")
    for line in skipped:
        print("  left out:", line)


if __name__ == "__main__":
    main()
