"""The sparsity declarations of funcgrad's own primitives, by name (see ``funcgrad/_sparsity.py``).

A primitive batched as ``"elementwise"`` and not listed here is elementwise
and nonlinear (the detection transform reads its batching word).
"""

from __future__ import annotations

import funcgrad.numpy  # noqa: F401  (registers every primitive of the NumPy surface)
from funcgrad._rules import REGISTRY
from funcgrad._sparsity import Second, defsparsity

TABLE: dict[str, tuple[str, Second]] = {
    # elementwise, linear or piecewise linear (no second derivative almost everywhere)
    **{
        name: ("elementwise", "linear")
        for name in (
            "add subtract negative positive real imag conjugate deg2rad radians rad2deg degrees astype where "
            "maximum minimum fmax fmin absolute fabs copysign remainder fmod nan_to_num ldexp nextafter"
        ).split()
    },
    "multiply": ("elementwise", "bilinear"),
    "divide": ("elementwise", ((0, 1), (1, 1))),
    # elements moved, copied or dropped
    **{
        name: ("moves", "linear")
        for name in "reshape transpose broadcast_to concatenate getitem index_set gather gather_at".split()
    },
    "sum": ("reduce", "linear"),
    "max": ("reduce", "linear"),
    "min": ("reduce", "linear"),
    "prod": ("reduce", "nonlinear"),
    "cumsum": ("scan", "linear"),
    "cumprod": ("scan", "nonlinear"),
    "matmul": ("contract", "bilinear"),
    "einsum": ("contract", "bilinear"),
    "index_add": ("scatter", "linear"),
    "scatter_add": ("scatter", "linear"),
    "scatter_add_at": ("scatter", "linear"),
    # dense in their inputs, but linear or bilinear
    "convolve": ("dense", "bilinear"),
    "fftn": ("dense", "linear"),
    "rfftn": ("dense", "linear"),
    "irfftn": ("dense", "linear"),
}

for _name, (_kind, _second) in TABLE.items():
    defsparsity(REGISTRY[_name], _kind, _second)
