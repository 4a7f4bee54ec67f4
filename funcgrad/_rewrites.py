"""Replay rewrites that change which NumPy calls a replay makes, never the bits it returns.

Applied by ``jit`` after :mod:`funcgrad._simplify`, before a program is interpreted or compiled:

* **Exact duplicates merged.**  A ufunc call with the same ufunc, the same
  inputs (the same variables, constants of the same type and bits) and the
  same parameters as an earlier call gives the earlier call's bits (a ufunc
  is a pure function of its inputs), so the replay reads the earlier result;
  so does an element read (``getitem``) whose result is a NumPy scalar
  (immutable, unlike a view: ``p[0]`` read at every step of a loop).
  A call whose result the program returns is kept, so two outputs never
  share one array.  (The eager call computes both: a floating-point warning
  the two would raise is raised once by the replay.)
* **A uniform constant as a scalar.**  ``add``, ``subtract``, ``multiply``
  or ``divide`` of a variable and an array constant whose elements all have
  the same bits (the gradient of ``sum(0.1 * x)`` is such an array of 0.1,
  made while recording) reads a NumPy scalar of that dtype instead: IEEE
  arithmetic rounds each element alone, so the values and the dtype are the
  same, and the replay does not stream the constant through memory.  Only
  where the constant has the output's shape and the variable too (the
  constant decides no broadcast) and the output has at most one axis (so
  the memory layout NumPy picks for the result is the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._prims._indexing import add_into, getitem_p, index_add_p
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var
from funcgrad._trace import Primitive

__all__ = ["rewrite"]

#: ``index_add`` writing into its first argument, which the replay owns (a replay's own call, never recorded)
index_add_into = Primitive("index_add_into", add_into)

#: the ufuncs a uniform constant operand may be read as a scalar by (IEEE's correctly rounded operations)
_SCALAR_OPERAND = frozenset({np.add, np.subtract, np.multiply, np.true_divide})


def _atom_key(atom: Atom) -> Any:
    """A hashable key equal for two inputs exactly when they are the same value of the same type, bit for bit."""
    if isinstance(atom, Var):
        return ("var", atom.id)
    value = atom.value
    kind = type(value)
    if kind is bool or kind is int or value is None:
        return (kind, value)
    if kind is float or kind is complex or isinstance(value, np.generic):
        return (kind, np.asarray(value).tobytes())
    return ("const", id(atom))  # an array (or anything else): the same object only


def _params_key(params: dict[str, Any]) -> Any:
    """The parameters as a hashable key, or ``None`` when one is not a plain hashable value (then no merge)."""
    items = []
    for name, value in params.items():
        if type(value) not in (bool, int, str, type(None), tuple) and not isinstance(value, np.dtype):
            return None
        try:
            hash(value)
        except TypeError:
            return None
        items.append((name, type(value), value))
    return tuple(items)


def _uniform_scalar(atom: Atom, out: Var) -> Const | None:
    """``atom`` as a NumPy scalar, when it is a floating array constant of ``out``'s shape whose elements all
    have the bits of its first."""
    if not isinstance(atom, Const):
        return None
    value = atom.value
    if type(value) is not np.ndarray or value.dtype.kind != "f" or value.shape != out.shape or value.size == 0:
        return None
    bits = value.reshape(-1).view(f"u{value.dtype.itemsize}")
    if not bool(np.all(bits == bits[0])):
        return None
    return Const(value.reshape(-1)[0])


def _with_scalar_constant(eqn: Eqn) -> Eqn:
    """``eqn`` reading a uniform array constant as a scalar, where that gives the same result (module text)."""
    if eqn.prim.impl not in _SCALAR_OPERAND or eqn.params or len(eqn.inputs) != 2 or len(eqn.out.shape) > 1:
        return eqn
    first, second = eqn.inputs
    for position, (constant, other) in enumerate(((first, second), (second, first))):
        if not isinstance(other, Var) or other.shape != eqn.out.shape:
            continue
        if not (other.type is np.ndarray or issubclass(other.type, np.generic)):
            continue
        scalar = _uniform_scalar(constant, eqn.out)
        if scalar is not None:
            inputs = (scalar, other) if position == 0 else (other, scalar)
            return Eqn(eqn.prim, inputs, eqn.params, eqn.out)
    return eqn


def rewrite(program: Program) -> Program:
    """``program`` with exact duplicate ufunc calls merged and uniform constants read as scalars (module text).

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> program = fg.make_program(lambda x: fnp.sin(x) * fnp.sin(x) + np.full(3, 0.5))(np.ones(3))
    >>> print(program)
    { lambda k0:f64[3]; a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = sin a
        d:f64[3] = multiply b c
        e:f64[3] = add d k0
      in (e,) }
    >>> print(rewrite(program))
    { lambda ; a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = multiply b b
        d:f64[3] = add c 0.5
      in (d,) }

    Raises nothing: a program it cannot change comes back as it was.
    """
    returned = {atom.id for atom in program.outputs if isinstance(atom, Var)}
    seen: dict[Any, Var] = {}
    replaced: dict[int, Var] = {}

    def current(atom: Any) -> Any:
        return replaced.get(atom.id, atom) if isinstance(atom, Var) else atom

    steps: list[Step] = []
    for step in program.steps:
        if isinstance(step, Guard):
            steps.append(Guard(step.kind, current(step.var), step.expected) if step.var.id in replaced else step)
            continue
        eqn = step
        if any(isinstance(atom, Var) and atom.id in replaced for atom in eqn.inputs):
            eqn = Eqn(eqn.prim, tuple(current(atom) for atom in eqn.inputs), eqn.params, eqn.out)
        eqn = _with_scalar_constant(eqn)
        if isinstance(eqn.prim.impl, np.ufunc) or (eqn.prim is getitem_p and issubclass(eqn.out.type, np.generic)):
            params = _params_key(eqn.params)
            if params is not None:
                key = (eqn.prim, tuple(_atom_key(atom) for atom in eqn.inputs), params)
                earlier = seen.get(key)
                if earlier is not None and eqn.out.id not in returned:
                    replaced[eqn.out.id] = earlier
                    continue
                seen.setdefault(key, eqn.out)
        steps.append(eqn)
    outputs = [current(atom) for atom in program.outputs]
    return Program(program.inputs, _accumulate_in_place(steps, outputs), outputs, program.in_tree, program.out_tree)


def _accumulate_in_place(steps: list[Step], outputs: list[Atom]) -> list[Step]:
    """``steps`` with each ``index_add`` into an array the replay made, which nothing else reads, replayed
    in place (module text)."""
    reads: dict[int, int] = {}
    for atom in outputs:
        if isinstance(atom, Var):
            reads[atom.id] = reads.get(atom.id, 0) + 2  # returned: never written into
    for step in steps:
        for atom in (step.var,) if isinstance(step, Guard) else step.inputs:
            if isinstance(atom, Var):
                reads[atom.id] = reads.get(atom.id, 0) + 1
    owned: set[int] = set()  # fresh arrays the replay made: a ufunc's result, an index_add's copy
    rewritten: list[Step] = []
    for step in steps:
        if isinstance(step, Eqn) and step.out.type is np.ndarray:
            if step.prim is index_add_p:
                total = step.inputs[0]
                if isinstance(total, Var) and total.id in owned and reads[total.id] == 1:
                    step = Eqn(index_add_into, step.inputs, step.params, step.out)
                owned.add(step.out.id)
            elif isinstance(step.prim.impl, np.ufunc):
                owned.add(step.out.id)
        rewritten.append(step)
    return rewritten
