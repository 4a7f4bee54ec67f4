"""SciPy's names, differentiable: ``special``, ``stats``, ``signal``, ``linalg``, ``integrate``; and
SciPy's optimisers and ODE solvers with funcgrad's derivatives filled in (``optimize``, ``integrate.solve_ivp``).

SciPy is an optional extra (``pip install 'funcgrad[scipy]'``); without it,
importing this package raises ``ImportError`` naming that extra.  Submodules
load on first use, so ``import funcgrad.scipy as fsp; fsp.special.gammaln``
and ``from funcgrad.scipy import special`` both work.

>>> import funcgrad.scipy as fsp
>>> sorted(fsp.__all__)
['integrate', 'linalg', 'optimize', 'signal', 'special', 'stats']
"""

from __future__ import annotations

import importlib
from typing import Any

from funcgrad import _errors

try:
    import scipy  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by tests with SciPy hidden
    raise _errors.scipy_missing() from error

__all__ = ["special", "stats", "signal", "linalg", "integrate", "optimize"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"funcgrad.scipy.{name}")
    raise _errors.no_attribute("funcgrad.scipy", name)
