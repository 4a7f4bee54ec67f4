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
* **Accumulation in place.**  ``index_add`` (a slice's cotangent added into
  the cotangent gathered so far, see ``defvjp_add``) copies its first
  argument and adds into the copy; where that argument is an array the
  replay made (by a ufunc or an earlier ``index_add``), which nothing else
  reads and the program does not return, the replay adds into it directly
  (``index_add_into``): the same additions on the same values, in the same
  memory layout, without a copy a call.
* **Results written into a dying operand.**  A ufunc call whose operand is
  an array the replay made (by a ufunc, or an ``index_add``), read only by
  ufuncs (which make no view of it), for the last time, and not returned,
  of the result's shape and dtype, writes its result into that operand
  (``out=``) instead of a new array: the same values, and the buffer is
  still in cache (``x * y`` then ``exp`` of it is two passes over one
  array).  A result of two axes or more is written so only when every array
  operand has the same memory layout, C or Fortran, checked as the replay
  runs (the layout NumPy gives a new array follows its operands').  Arrays
  of fewer than ``_INTO_SIZE`` elements come from NumPy's cache anyway.
* **Elements gathered in scalars.**  A run of such additions of float64
  scalars into single elements of a small 1-d float64 array constant (the
  gradient of a parameter vector read element by element, ``p[0] * u`` at
  every step of a loop) adds in scalars, one per element, each starting from
  the constant's element: the same additions in the same order, written
  into a copy of the constant once, at the end (``set_elements``).
* **Scalar arithmetic on Python floats** (``python_floats``, applied by
  ``jit`` after the others).  ``+ - *``, negation and division by a nonzero
  constant of float64 NumPy scalars (a loop over scalar states, as an RK4
  integration by hand) run on Python floats: IEEE double arithmetic either
  way, so the same bits (a NaN's too: Python's operators pick the NaN of two
  as NumPy's scalar operators do), at a third of the cost of NumPy's scalar
  math.  A NumPy scalar meeting such arithmetic is converted once
  (``float``); a Python float goes back to ``numpy.float64`` once before
  anything else reads it, unless that is a ufunc whose every operand is
  float64 (NumPy converts a Python float to float64 itself), an addition into
  a float64 array or a ``bool()`` guard, and before it is returned.  Python's
  arithmetic raises no floating-point flag, so where NumPy's would have
  warned or raised, the replay must run on NumPy's scalars instead: every
  value leaving the Python floats is checked finite (an overflow or an
  invalid operation leaves an infinity or a NaN, which the arithmetic
  carries to where it leaves), and a replay raises ``NonFinite`` otherwise;
  ``jit`` then replays the program without this pass, as it does when
  NumPy's error handling is not the default's kind (``floats_allowed`` in
  ``_jit.py``).  Transcendental functions stay NumPy's (``math.exp`` rounds
  differently from ``numpy.exp``), as do division by a variable (Python's
  raises ``ZeroDivisionError``) and ``**`` (Python's raises
  ``OverflowError``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from funcgrad._prims._indexing import add_into, getitem_p, index_add_p
from funcgrad._prims._ufuncs import add
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var
from funcgrad._trace import Primitive

__all__ = ["NonFinite", "in_place", "merge", "python_floats", "rewrite"]

#: ``index_add`` writing into its first argument, which the replay owns (a replay's own call, never recorded)
index_add_into = Primitive("index_add_into", add_into)


def _set_elements(total: np.ndarray[Any, Any], *values: Any, positions: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """A copy of ``total`` with ``values`` at ``positions`` (its flat positions)."""
    out = np.array(total, copy=True)
    flat = out.reshape(-1)
    for position, value in zip(positions, values):
        flat[position] = value
    return out


#: elements gathered in scalars written into a copy of their constant (a replay's own call, never recorded)
set_elements = Primitive("set_elements", _set_elements)
#: the most elements gathered in scalars (one variable each)
_GATHERED = 64


class NonFinite(Exception):
    """Raised by a replay on Python floats when a value leaving them is infinite or NaN: NumPy's scalar
    arithmetic may have warned (or raised) on the way there, Python's did not, so the call is replayed on
    NumPy's scalars instead (``jit`` does it), which warns as the eager call does."""


_INFINITY = float("inf")


def _finite(value: float) -> float:
    """``value``, a Python float leaving the arithmetic on Python floats, if it is finite."""
    if -_INFINITY < value < _INFINITY:
        return value
    raise NonFinite


def _finite_float64(value: float) -> np.float64:
    """``value`` as NumPy's float64, if it is finite."""
    if -_INFINITY < value < _INFINITY:
        return np.float64(value)
    raise NonFinite


#: a NumPy scalar read as a Python float, and back (conversions the Python-float pass adds; never recorded)
to_float = Primitive("float", float)
to_float64 = Primitive("float64", _finite_float64)
#: a Python float read by a NumPy function that takes it as it takes a float64 (checked finite, see NonFinite)
leave_floats = Primitive("finite", _finite)
#: the ufuncs replayed on Python floats when their operands and result are float64 scalars
FLOAT_ARITHMETIC = frozenset({np.add, np.subtract, np.multiply, np.negative, np.true_divide})
_EXACT_INT = 2**53  # a Python int operand converts to a float exactly, as NumPy converts it

#: the smallest array a ufunc writes into a dying operand (smaller ones come from NumPy's allocation cache)
_INTO_SIZE = 4096
_INTO: dict[Any, Primitive] = {}  # ufunc -> its call writing into an operand (replay-only)


def _same_layout(arrays: tuple[Any, ...]) -> bool:
    """Whether the arrays among ``arrays`` are all C-contiguous or all Fortran-contiguous."""
    listed = [a for a in arrays if type(a) is np.ndarray and a.ndim > 1]
    return all(a.flags.c_contiguous for a in listed) or all(a.flags.f_contiguous for a in listed)


def writing_into(ufunc: np.ufunc) -> Primitive:
    """``ufunc`` writing its result into its operand ``into`` (when it has two axes or more, only where the
    array operands share their layout, as a new result would)."""
    prim = _INTO.get(ufunc)
    if prim is None:

        def call(*operands: Any, into: int) -> Any:
            target = operands[into]
            if target.ndim > 1 and not _same_layout(operands):
                return ufunc(*operands)
            return ufunc(*operands, out=target)

        prim = _INTO[ufunc] = Primitive(f"{ufunc.__name__}_into", call)
    return prim


def written_operand(eqn: Eqn) -> tuple[Any, int | None]:
    """The ufunc ``eqn`` calls (``None`` if it is no ufunc call) and the position of the operand it writes its
    result into (``None`` if it writes into none): a replay's own ``writing_into`` and ``index_add_into``."""
    impl = eqn.prim.impl
    if isinstance(impl, np.ufunc):
        return impl, None
    if eqn.prim is index_add_into:
        return None, 0
    for ufunc, prim in _INTO.items():
        if prim is eqn.prim:
            return ufunc, eqn.params["into"]
    return None, None


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
    if not isinstance(atom, Const) or atom.shared:
        return None  # (a shared array's values may change between calls: not read)
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
    if not (isinstance(first, Const) and type(first.value) is np.ndarray) and not (
        isinstance(second, Const) and type(second.value) is np.ndarray
    ):
        return eqn  # no array constant (a scalar program's every call): nothing to read as a scalar
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
    return in_place(merge(program))


def merge(program: Program) -> Program:
    """The first half of :func:`rewrite`: exact duplicate calls merged, uniform constants read as scalars."""
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
        if replaced:
            for atom in eqn.inputs:
                if isinstance(atom, Var) and atom.id in replaced:
                    eqn = Eqn(eqn.prim, tuple(current(atom) for atom in eqn.inputs), eqn.params, eqn.out)
                    break
        eqn = _with_scalar_constant(eqn)
        if isinstance(eqn.prim.impl, np.ufunc) or (eqn.prim is getitem_p and issubclass(eqn.out.type, np.generic)):
            params = _params_key(eqn.params)
            if params is not None:
                key = (eqn.prim, tuple([_atom_key(atom) for atom in eqn.inputs]), params)
                earlier = seen.get(key)
                if earlier is not None and eqn.out.id not in returned:
                    replaced[eqn.out.id] = earlier
                    continue
                seen.setdefault(key, eqn.out)
        steps.append(eqn)
    outputs = [current(atom) for atom in program.outputs]
    return Program(program.inputs, steps, outputs, program.in_tree, program.out_tree)


def in_place(program: Program) -> Program:
    """The second half of :func:`rewrite` (``jit`` runs the two halves on two replays of a long recording):
    accumulations and ufunc results written into arrays the replay owns, element additions into a small
    constant gathered in scalars (module text)."""
    outputs = program.outputs
    steps = _gathered_in_scalars(_written_into_dying(_accumulate_in_place(program.steps, outputs), outputs))
    return Program(program.inputs, steps, outputs, program.in_tree, program.out_tree)


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


def _written_into_dying(steps: list[Step], outputs: list[Atom]) -> list[Step]:
    """``steps`` with each ufunc call writing into an operand it reads last (module text)."""
    for step in steps:
        if isinstance(step, Eqn) and step.out.type is np.ndarray and _size(step.out.shape) >= _INTO_SIZE:
            break
    else:
        return steps  # no result large enough to be written into an operand (a scalar program): nothing to do
    last: dict[int, int] = {}  # variable -> the position of its last reader
    viewed: set[int] = set()  # read by something that may keep a view of it, or returned
    for position, step in enumerate(steps):
        if isinstance(step, Guard):
            last[step.var.id] = position
            continue
        elementwise = isinstance(step.prim.impl, np.ufunc) and step.prim.impl.signature is None
        plain = elementwise or step.prim is index_add_p or step.prim is index_add_into
        for atom in step.inputs:
            if isinstance(atom, Var):
                last[atom.id] = position
                if not plain or (atom is not step.inputs[0] and not elementwise):
                    viewed.add(atom.id)
    viewed.update(atom.id for atom in outputs if isinstance(atom, Var))
    owned: set[int] = set()
    rewritten: list[Step] = []
    for position, step in enumerate(steps):
        if isinstance(step, Eqn):
            impl = step.prim.impl
            if step.prim is index_add_p or step.prim is index_add_into:
                owned.add(step.out.id)
            elif step.out.type is np.ndarray and isinstance(impl, np.ufunc) and impl.nout == 1 and impl.signature is None:
                owned.add(step.out.id)
                if not step.params and step.out.dtype is not None and _size(step.out.shape) >= _INTO_SIZE:
                    for k, atom in enumerate(step.inputs):
                        if (
                            isinstance(atom, Var)
                            and atom.type is np.ndarray
                            and atom.id in owned
                            and atom.id not in viewed
                            and last[atom.id] == position
                            and atom.shape == step.out.shape
                            and atom.dtype == step.out.dtype
                            and sum(a is atom for a in step.inputs) == 1
                        ):
                            step = Eqn(writing_into(impl), step.inputs, {"into": k}, step.out)
                            break
        rewritten.append(step)
    return rewritten


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def _element(eqn: Eqn, size: int) -> int | None:
    """The flat position ``eqn`` (an ``index_add`` into a 1-d float64 array of ``size`` elements) adds a
    float64 scalar at, when it adds at one."""
    index = eqn.params.get("index")
    value = eqn.inputs[1]
    if type(index) is not int or not -size <= index < size or len(eqn.params) != 1:
        return None
    if not (isinstance(value, Var) and (value.type is np.float64 or value.type is float)):
        return None
    return index % size


def _gathered_in_scalars(steps: list[Step]) -> list[Step]:
    """``steps`` with each run of element additions into a small constant gathered in scalars (module text)."""
    reader: dict[int, Eqn] = {}  # an array's in-place addition (the only reader of its input)
    for step in steps:
        if isinstance(step, Eqn) and step.prim is index_add_into and isinstance(step.inputs[0], Var):
            reader[step.inputs[0].id] = step
    ids = itertools.count(1 + max((s.out.id for s in steps if isinstance(s, Eqn)), default=0))
    replaced: dict[int, list[Step]] = {}  # position of a link -> what stands there instead
    at: dict[int, int] = {id(step): k for k, step in enumerate(steps)}
    for step in steps:
        if not (isinstance(step, Eqn) and step.prim is index_add_p and isinstance(step.inputs[0], Const)):
            continue
        total = step.inputs[0].value
        if step.inputs[0].shared:
            continue  # (a shared array's values may change between calls: not read)
        if type(total) is not np.ndarray or total.dtype != np.float64 or total.ndim != 1 or total.size > _GATHERED:
            continue
        chain = [step]
        while chain[-1].out.id in reader and _element(reader[chain[-1].out.id], total.size) is not None:
            chain.append(reader[chain[-1].out.id])
        if len(chain) < 2 or _element(step, total.size) is None:
            continue
        sums: dict[int, Atom] = {}
        for link in chain:
            position = _element(link, total.size)
            assert position is not None
            start = sums.get(position, Const(total[position]))
            sums[position] = out = Var.float64(next(ids), np.float64)
            replaced[at[id(link)]] = [Eqn(add, (start, link.inputs[1]), {}, out)]
        positions = tuple(sorted(sums))
        last = chain[-1]
        values = tuple(sums[position] for position in positions)
        written = Eqn(set_elements, (step.inputs[0], *values), {"positions": positions}, last.out)
        replaced[at[id(last)]].append(written)
    if not replaced:
        return steps
    rewritten: list[Step] = []
    for k, step in enumerate(steps):
        rewritten.extend(replaced.get(k, (step,)))
    return rewritten


def _float_operand(atom: Atom) -> bool:
    """An operand Python's float arithmetic treats as NumPy's float64 scalar arithmetic does."""
    if isinstance(atom, Var):
        return atom.type is np.float64 or atom.type is float
    kind = type(atom.value)
    return kind is float or kind is np.float64 or (kind is int and abs(atom.value) <= _EXACT_INT)


def _on_floats(eqn: Eqn) -> bool:
    """Whether ``eqn`` gives the same bits on Python floats (module text)."""
    if eqn.prim.impl not in FLOAT_ARITHMETIC or eqn.params or eqn.out.type is not np.float64:
        return False
    for atom in eqn.inputs:
        if not _float_operand(atom):
            return False
    if eqn.prim.impl is np.true_divide:
        divisor = eqn.inputs[1]
        return isinstance(divisor, Const) and divisor.value != 0  # Python's raises ZeroDivisionError
    return True


def _float64_typed(atom: Atom) -> bool:
    if isinstance(atom, Var):
        return atom.dtype == np.float64
    kind = type(atom.value)
    return kind is float or kind is np.float64 or (kind is np.ndarray and atom.value.dtype == np.float64)


def _takes_a_float(eqn: Eqn, position: int) -> bool:
    """Whether ``eqn`` gives the same result and type for a Python float as for a float64 scalar at ``position``."""
    if isinstance(eqn.prim.impl, np.ufunc):
        if eqn.prim.impl is np.true_divide and position == 1:
            return False  # the divisor: an operator between two Python floats would raise on zero
        return not eqn.params and all(_float64_typed(atom) for atom in eqn.inputs)
    if eqn.prim is index_add_p or eqn.prim is index_add_into or eqn.prim is set_elements:
        total = eqn.inputs[0]  # added or written into a float64 array: a Python float is as a float64 is
        return position >= 1 and _float64_typed(total) and (eqn.prim is set_elements or position == 1)
    return False


def python_floats(program: Program) -> Program:
    """``program`` with its float64 scalar arithmetic on Python floats (module text); ``program`` itself
    when it has none.

    Where a value leaves the Python floats (for a NumPy function, a guard or the result) it is checked
    finite: a replay raises :class:`NonFinite` otherwise, and is then replayed without this pass.

    >>> import funcgrad as fg, numpy as np
    >>> program = rewrite(fg.make_program(lambda p: np.exp(p[0] * 2.0 - 1.0))(np.ones(2)))
    >>> print(python_floats(program))
    { lambda ; a:f64[2]. let
        b:f64[] = getitem[index=0] a
        c:f64[] = float b
        d:f64[] = multiply c 2.0
        e:f64[] = subtract d 1.0
        f:f64[] = finite e
        g:f64[] = exp f
      in (g,) }
    """
    floated: set[int] = set()
    for step in program.steps:
        if isinstance(step, Eqn) and step.out.type is np.float64 and _on_floats(step):
            floated.add(step.out.id)
    if not floated:
        return program
    to_python: set[int] = set()  # NumPy scalars the arithmetic reads: converted once, after they are made
    to_numpy: set[int] = set()  # Python floats something else reads as float64: converted back once
    leaving: set[int] = set()  # Python floats a NumPy function reads as they are: checked finite once
    last = max([var.id for var in program.inputs], default=0)
    for step in program.steps:
        if isinstance(step, Guard):
            if step.var.id in floated:
                (leaving if step.kind == "bool" else to_numpy).add(step.var.id)
            continue
        last = max(last, step.out.id)
        if step.out.id in floated:
            for atom in step.inputs:
                if type(atom) is Var and atom.id not in floated and atom.type is not float:
                    to_python.add(atom.id)
        else:
            for position, atom in enumerate(step.inputs):
                if type(atom) is Var and atom.id in floated:
                    (leaving if _takes_a_float(step, position) else to_numpy).add(atom.id)
    to_numpy.update(atom.id for atom in program.outputs if type(atom) is Var and atom.id in floated)

    ids = itertools.count(last + 1)
    python: dict[int, Var] = {}  # a value's Python-float variable
    numpy: dict[int, Var] = {}  # a floated value's float64 variable
    left: dict[int, Var] = {}  # a floated value, checked finite
    steps: list[Step] = []

    def convert(var: Var) -> None:
        """Add the conversions of ``var``, just computed (or an input)."""
        if var.id in to_numpy:
            numpy[var.id] = converted = Var.float64(next(ids), np.float64)
            steps.append(Eqn(to_float64, (python[var.id],), {}, converted))
        if var.id in leaving:
            left[var.id] = checked = Var.float64(next(ids), float)
            steps.append(Eqn(leave_floats, (python[var.id],), {}, checked))
        if var.id in to_python:
            python[var.id] = converted = Var.float64(next(ids), float)
            steps.append(Eqn(to_float, (var,), {}, converted))

    for var in program.inputs:
        convert(var)
    for step in program.steps:
        if isinstance(step, Guard):
            if step.var.id in floated:
                var = left[step.var.id] if step.kind == "bool" else numpy[step.var.id]
                step = Guard(step.kind, var, step.expected)
            steps.append(step)
            continue
        if step.out.id in floated:
            inputs = []
            for atom in step.inputs:
                if isinstance(atom, Var):
                    atom = python.get(atom.id, atom)
                elif type(atom.value) is np.float64:
                    atom = Const(float(atom.value))
                inputs.append(atom)
            python[step.out.id] = out = Var.float64(step.out.id, float)
            steps.append(Eqn(step.prim, tuple(inputs), step.params, out))
        else:
            changed = False
            inputs = list(step.inputs)
            for position, atom in enumerate(inputs):
                if type(atom) is Var and atom.id in floated:
                    inputs[position] = left[atom.id] if _takes_a_float(step, position) else numpy[atom.id]
                    changed = True
            steps.append(Eqn(step.prim, tuple(inputs), step.params, step.out) if changed else step)
        if step.out.id in to_numpy or step.out.id in leaving or step.out.id in to_python:
            convert(step.out)
    outputs = [numpy[a.id] if type(a) is Var and a.id in floated else a for a in program.outputs]
    return Program(program.inputs, steps, outputs, program.in_tree, program.out_tree)
