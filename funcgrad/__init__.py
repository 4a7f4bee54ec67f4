"""funcgrad: functional automatic differentiation of NumPy code.

>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> fg.grad(lambda x: 2 * fnp.dot(x, x))(fnp.arange(4.0))
array([ 0.,  4.,  8., 12.])
"""

from funcgrad import array_api, errors, extend, numpy, testing, tree  # noqa: F401
from funcgrad._api import (
    float0,
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from funcgrad._batching import vmap
from funcgrad._checkpoint import checkpoint, remat
from funcgrad._custom_jvp import custom_jvp
from funcgrad._custom_vjp import custom_vjp
from funcgrad._hvp import hvp
from funcgrad._jit import jit, make_program
from funcgrad._prims import _dispatch
from funcgrad._prims._base import stop_gradient
from funcgrad._program import Program
from funcgrad._sparse_api import (
    hessian_sparsity,
    jacobian_sparsity,
    sparse_hessian,
    sparse_jacfwd,
    sparse_jacobian,
    sparse_jacrev,
)


def _load_scipy_special_rules() -> None:
    import funcgrad.scipy.special  # noqa: F401  # why: SciPy is optional; its rules load when its ufuncs are met


# plain ``scipy.special`` ufuncs on traced values dispatch even when funcgrad.scipy was never imported
_dispatch.load_rules_on_first_sight(
    ("scipy.special", "scipy.special._ufuncs", "scipy.special._special_ufuncs"),
    "scipy.special",
    _load_scipy_special_rules,
)

__version__ = "0.1.0"

__all__ = [
    "checkpoint",
    "custom_jvp",
    "custom_vjp",
    "errors",
    "extend",
    "float0",
    "grad",
    "hessian",
    "hessian_sparsity",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacobian_sparsity",
    "jacrev",
    "jit",
    "jvp",
    "linearize",
    "make_program",
    "Program",
    "remat",
    "sparse_hessian",
    "sparse_jacfwd",
    "sparse_jacobian",
    "sparse_jacrev",
    "stop_gradient",
    "testing",
    "tree",
    "value_and_grad",
    "vjp",
    "vmap",
]
