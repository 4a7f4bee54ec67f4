"""Sparsity declarations: how each primitive's output elements depend on its input elements, as data.

``defsparsity(prim, kind, second)`` sits beside a primitive's other rules.
``kind`` says which input elements each output element reads (first order):

* ``"elementwise"``: NumPy broadcasting, output element ``e`` reads the
  element of each operand that broadcasts to ``e``;
* ``"moves"``: every output element is a copy of at most one input element
  (reshape, transpose, getitem, gather, concatenate, ``x[i] = v``): learnt by
  running the primitive on the positions of the input elements;
* ``"reduce"``: each output element reads its slice along ``axis``;
* ``"scan"``: a cumulative operation along ``axis`` (element ``i`` reads ``0..i``);
* ``"contract"``: einsum (``subscripts``) or matmul; the zeros of a constant operand are used;
* ``"scatter"``: ``x[index] += v`` (``index``) or a scatter to flat ``positions``;
* ``"zero"``: no derivative anywhere (declared by the rules already: every forward rule is ``None``).

``second`` says which pairs of arguments interact at second order:
``"linear"`` (none: also piecewise-linear functions such as ``maximum``),
``"linear when real"`` (none for real operands, every pair when one is complex: ``absolute``, whose
``|x + iy|`` is not piecewise linear),
``"bilinear"`` (distinct arguments only: ``multiply``, ``matmul``),
``"nonlinear"`` (every pair), or explicit ``(i, j)`` pairs (``divide``: ``((0, 1), (1, 1))``).

A primitive with no declaration is dense in each argument and nonlinear
(correct, never too sparse).  This module holds the data only; the detection
transform (``funcgrad/_sparse_detect.py``) reads it.
"""

from __future__ import annotations

from typing import NamedTuple

from funcgrad import _errors
from funcgrad._trace import Primitive

KINDS = frozenset({"elementwise", "moves", "reduce", "scan", "contract", "scatter", "zero", "dense"})
SECOND = frozenset({"linear", "linear when real", "bilinear", "nonlinear"})

Second = str | tuple[tuple[int, int], ...]


class Sparsity(NamedTuple):
    """One primitive's declaration: its first-order ``kind`` and its second-order interactions."""

    kind: str
    second: Second


#: every declaration, by primitive object
SPARSITY: dict[Primitive, Sparsity] = {}


def defsparsity(prim: Primitive, kind: str, second: Second = "nonlinear") -> None:
    """Declare how ``prim``'s output elements depend on its input elements (see the module docstring).

    >>> from funcgrad._rules import primitive
    >>> import numpy as np
    >>> p = primitive(np.cos, "cos_example")
    >>> defsparsity(p, "elementwise")
    >>> SPARSITY[p]
    Sparsity(kind='elementwise', second='nonlinear')
    >>> from funcgrad._rules import REGISTRY
    >>> _ = REGISTRY.pop("cos_example"), SPARSITY.pop(p)
    """
    if kind not in KINDS:
        raise _errors.defsparsity_choice("kind", sorted(KINDS), kind)
    if isinstance(second, str):
        if second not in SECOND:
            raise _errors.defsparsity_choice("second", sorted(SECOND), second, " or (i, j) pairs")
    else:
        second = tuple((int(i), int(j)) for i, j in second)
    SPARSITY[prim] = Sparsity(kind, second)
