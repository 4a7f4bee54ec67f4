"""``funcgrad.numpy``: NumPy's names, differentiable.  Use it as ``import funcgrad.numpy as np``.

On plain arrays every function returns what NumPy returns; on traced values
it records the operation for the transform that traces it.  The namespace is
an explicit allow-list: each section module's ``__all__``.

>>> import funcgrad.numpy as fnp
>>> float(fnp.sum(fnp.sin(fnp.zeros(3))))
0.0
"""

from typing import TYPE_CHECKING

from numpy import (  # noqa: F401  plain NumPy: constants, dtypes and arange
    arange,
    bool_,
    clongdouble,
    complex64,
    complex128,
    dtype,
    e,
    euler_gamma,
    float16,
    float32,
    float64,
    inf,
    int32,
    int64,
    longdouble,
    nan,
    newaxis,
    pi,
)

from funcgrad._prims._array import ArrayTracer  # noqa: F401
from funcgrad._prims._at import *  # noqa: F401,F403
from funcgrad._prims._contract import *  # noqa: F401,F403
from funcgrad._prims._nondiff import *  # noqa: F401,F403
from funcgrad._prims._rearrange import *  # noqa: F401,F403
from funcgrad._prims._reductions import *  # noqa: F401,F403
from funcgrad._prims._select import *  # noqa: F401,F403
from funcgrad._prims._shape import *  # noqa: F401,F403
from funcgrad._prims._stats import *  # noqa: F401,F403
from funcgrad._prims._ufuncs import *  # noqa: F401,F403
from funcgrad.numpy import _array_methods, fft, linalg, random  # noqa: F401  (_array_methods: the traced array's NumPy methods)
from funcgrad.numpy._constructors import *  # noqa: F401,F403
from funcgrad.numpy._extras import *  # noqa: F401,F403
from funcgrad.numpy._index_tricks import *  # noqa: F401,F403
from funcgrad.numpy._polynomial import *  # noqa: F401,F403
from funcgrad.numpy._ranges import *  # noqa: F401,F403
from funcgrad.numpy._views import *  # noqa: F401,F403  (after _shape's: the view-making spellings)

if TYPE_CHECKING:  # annotations with fnp.ndarray mean NumPy's type (funcgrad/numpy/_types.py)
    from numpy import ndarray  # noqa: F401
else:
    from funcgrad.numpy._types import ndarray  # noqa: F401
