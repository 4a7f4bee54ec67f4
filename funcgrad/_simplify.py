"""Drop the calls of a recorded program that hand back one of their inputs unchanged, before jit replays it.

A program may hold work a hand-written one would not do: ``stop_gradient``'s
identity, a cast to the dtype the value has already, an integer multiplied
or divided by one.  Each such call returns, value for value and bit for bit,
one of its inputs, so the replay can use that input instead.  Calls are
known by their primitive objects (a user's primitive named ``"multiply"`` is
not ``multiply``).  Only rewrites that are exact for every value are made:
a floating ``x * 1`` or ``x / 1`` stays, since it quiets a signalling NaN
(and ``x + 0`` is not exact either: ``-0.0 + 0.0`` is ``+0.0``); the input
must have the output's Python type, shape and dtype (no broadcasting, no
promotion).  A call whose value the program returns is dropped only when
its input is a fresh array (a ufunc's result) that nothing else uses, so a
caller never receives its own input, a view of another output or one array
twice in place of fresh ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad._prims._base import astype, stop_gradient_p
from funcgrad._prims._ufuncs import divide, multiply
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var
from funcgrad._trace import Primitive

__all__ = ["simplify"]


def _is_one(atom: Atom) -> bool:
    """A constant equal to 1 everywhere, of a bool, integer or real floating dtype (a complex ``1`` is not
    exact: ``(a + bj) * (1 + 0j)`` has ``b * 0`` in its real part, NaN for an infinite ``b``)."""
    if not isinstance(atom, Const) or atom.shared:
        return False  # (a shared array's values may change between calls: not read)
    value = atom.value
    if type(value) in (bool, int, float):
        return bool(value == 1)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        return bool(np.all(value == 1))
    return False


def _times_one(eqn: Eqn) -> Atom | None:
    first, second = eqn.inputs
    return first if _is_one(second) else second if _is_one(first) else None


def _over_one(eqn: Eqn) -> Atom | None:
    return eqn.inputs[0] if _is_one(eqn.inputs[1]) else None


def _first(eqn: Eqn) -> Atom | None:
    return eqn.inputs[0]


#: primitive -> the input a call returns unchanged (``None`` when this call does not), and the dtype kinds
#: where that holds for every value; the caller checks that input's type, shape and dtype are the output's
IDENTITIES: dict[Primitive, tuple[Callable[[Eqn], Atom | None], int, frozenset[str]]] = {
    multiply: (_times_one, 2, frozenset("iu")),  # a float times one quiets a signalling NaN: kept
    divide: (_over_one, 2, frozenset("iu")),
    stop_gradient_p: (_first, 1, frozenset("biufc")),
    astype: (_first, 1, frozenset("biufc")),
}


def _forwarded(eqn: Eqn) -> Var | None:
    """The input variable ``eqn`` returns unchanged, if it is one."""
    found = IDENTITIES.get(eqn.prim)
    if found is None:
        return None
    rule, arity, kinds = found
    if len(eqn.inputs) != arity:
        return None
    kept = rule(eqn)
    out = eqn.out
    if not isinstance(kept, Var) or out.dtype is None or out.dtype.kind not in kinds:
        return None
    if (kept.type, kept.shape, kept.dtype) != (out.type, out.shape, out.dtype):
        return None
    return kept


def simplify(program: Program) -> Program:
    """``program`` without the calls that return one of their inputs unchanged (see the module's text).

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> program = fg.make_program(lambda x: fnp.cos(x).astype(np.float64) * 2.0)(np.ones(3))
    >>> print(program.pruned())
    { lambda ; a:f64[3]. let
        b:f64[3] = cos a
        c:f64[3] = astype[dtype=f64] b
        d:f64[3] = multiply c 2.0
      in (d,) }
    >>> print(simplify(program.pruned()))
    { lambda ; a:f64[3]. let
        b:f64[3] = cos a
        c:f64[3] = multiply b 2.0
      in (c,) }

    Raises nothing: a program it cannot shorten comes back as it was.
    """
    returned = {atom.id for atom in program.outputs if isinstance(atom, Var)}
    uses: dict[int, int] = {}  # how many calls, guards and outputs read each variable
    for step in program.steps:
        for atom in (step.var,) if isinstance(step, Guard) else step.inputs:
            if isinstance(atom, Var):
                uses[atom.id] = uses.get(atom.id, 0) + 1
    for atom in program.outputs:
        if isinstance(atom, Var):
            uses[atom.id] = uses.get(atom.id, 0) + 1
    fresh: set[int] = set()  # results of ufuncs: new arrays, no view of anything
    replaced: dict[int, Var] = {}

    def current(atom: Any) -> Any:
        return replaced.get(atom.id, atom) if isinstance(atom, Var) else atom

    steps: list[Step] = []
    for step in program.steps:
        if isinstance(step, Guard):
            steps.append(Guard(step.kind, current(step.var), step.expected))
            continue
        eqn = step
        if replaced:
            for atom in step.inputs:
                if isinstance(atom, Var) and atom.id in replaced:  # reads a dropped call's value: its input
                    eqn = Eqn(step.prim, tuple(current(atom) for atom in step.inputs), step.params, step.out)
                    break
        kept = _forwarded(eqn) if eqn.prim in IDENTITIES else None
        if kept is not None and eqn.out.id in returned:
            # the output is the input itself: only a fresh array nothing else reads (no view of it is returned)
            kept = kept if kept.id in fresh and kept.id not in returned and uses.get(kept.id) == 1 else None
            if kept is not None:
                returned.add(kept.id)
        if kept is None:
            steps.append(eqn)
            if isinstance(eqn.prim.impl, np.ufunc):
                fresh.add(eqn.out.id)
        else:
            replaced[eqn.out.id] = kept
    outputs = [current(atom) for atom in program.outputs]
    return Program(program.inputs, steps, outputs, program.in_tree, program.out_tree)
