"""``funcgrad.numpy``: NumPy's names, differentiable.  Use it as ``import funcgrad.numpy as np``.

On plain arrays every function returns what NumPy returns; on traced values
it records the operation for the transform that traces it.

>>> import funcgrad.numpy as fnp
>>> float(fnp.sum(fnp.sin(fnp.zeros(3))))
0.0
"""

from numpy import e, euler_gamma, float32, float64, complex64, complex128, inf, nan, newaxis, pi  # noqa: F401
from numpy import int32, int64, bool_, ndarray, dtype  # noqa: F401
from numpy import arange, eye, identity, linspace, ones, zeros, empty, logspace  # noqa: F401

from funcgrad.numpy import linalg, random  # noqa: F401
from funcgrad.numpy._array import ArrayTracer  # noqa: F401
from funcgrad.numpy._functions import (  # noqa: F401
    amax,
    amin,
    array,
    asarray,
    astype,
    broadcast_to,
    concatenate,
    dot,
    expand_dims,
    full,
    full_like,
    matmul,
    max,
    mean,
    min,
    moveaxis,
    ndim,
    ones_like,
    prod,
    ravel,
    reshape,
    size,
    squeeze,
    stack,
    sum,
    swapaxes,
    transpose,
    where,
    zeros_like,
)
from funcgrad.numpy._functions import shape_of as shape  # noqa: F401
from funcgrad.numpy._ufuncs import (  # noqa: F401
    abs,
    absolute,
    add,
    ceil,
    conj,
    conjugate,
    cos,
    divide,
    exp,
    floor,
    imag,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    positive,
    power,
    real,
    sign,
    sin,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
)
