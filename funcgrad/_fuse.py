"""Fusion (``fg.jit(f, fuse=True)``): runs of elementwise arithmetic replayed as one generated kernel.

An elementwise chain's replay makes one NumPy call per operation, each a
pass over memory that allocates a fresh array.  With ``fuse=True``, the
compiled tier groups the float32/float64 ``add``, ``subtract``, ``multiply``,
``divide``, ``negative`` and ``square`` calls between the other calls (the
transcendental kernels ``exp``, ``tanh``, ... stay NumPy's) into groups, and
each group becomes one loop over the elements, compiled by numba (the
optional extra ``pip install funcgrad[fuse]``): it reads each input once and
writes only the values something outside the group reads.

A group: calls whose output has one shape (at least ``MIN_SIZE``
elements) and a floating dtype, each input an array of that shape, a
scalar (a number, a NumPy scalar or a 0-d array) or an array constant of
that shape.  Groups are made in program order: a call joins the open group;
another call (or a guard, or an output) that reads a value of the open
group closes it, and the kernel runs there, after the calls that came
between without reading it.

What a kernel computes: each operation in the output's dtype, its operands
cast to that dtype first (a Python float multiplying a float32 array is the
float32 nearest to it, as NumPy's weak promotion makes it): the operation
NumPy's loop makes, with IEEE arithmetic, each operation rounded on its own
(no fused multiply-add, no reassociation: numba compiles without fast-math).
The one documented difference from ``jit``'s bit-for-bit promise: what LLVM
may assume of floating point (``x * 1.0`` is ``x``, so a signalling NaN is
not quieted), NumPy's ``np.errstate`` (a kernel neither warns nor raises on
overflow, division by zero or invalid operations: it gives the IEEE
result), and the outputs' memory layout (C order).  tests/test_fuse.py
bounds the difference at ``ULPS`` units in the last place over random
elementwise programs; it is 0 on every one of them here.
"""

from __future__ import annotations

import importlib
import itertools
import operator
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var
from funcgrad._rewrites import written_operand
from funcgrad._trace import Primitive

__all__ = ["available", "fuse", "groups"]

#: a call is fused when its output has at least this many elements (below, NumPy's call costs less than
#: the kernel's dispatch)
MIN_SIZE = 1024
#: the documented bound, in units in the last place, between a fused replay and the eager call
ULPS = 4

#: the calls that fuse: NumPy function -> the expression of one element (operands already cast)
_BINARY: dict[Any, str] = {np.add: "{} + {}", np.subtract: "{} - {}", np.multiply: "{} * {}", np.true_divide: "{} / {}"}
_UNARY: dict[Any, str] = {np.negative: "-{}", np.square: "{0} * {0}"}
_FLOATS = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}

#: a value of a group, read after it from the kernel's tuple of outputs
fused_output = Primitive("fused_output", operator.getitem)

#: (kernel source, shape, which scalars are 0-d arrays, inputs written into) -> its primitive
_KERNELS: dict[tuple[str, tuple[int, ...], tuple[bool, ...], tuple[int, ...]], Primitive] = {}
_COMPILED: dict[str, Any] = {}  # kernel source -> numba's dispatcher (one compile per distinct kernel)
_KERNELS_LOCK = threading.Lock()


def available() -> bool:
    """Whether numba, which compiles the fused kernels, can be imported.

    >>> isinstance(available(), bool)
    True
    """
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


def require() -> None:
    """Raise the ``ImportError`` naming the extra when numba is not installed."""
    if not available():
        raise _errors.fuse_needs_numba()


def _fusable(eqn: Eqn) -> bool:
    impl, into = written_operand(eqn)  # a call writing into an operand (a replay's own) fuses as the plain one
    table = _BINARY if len(eqn.inputs) == 2 else _UNARY if len(eqn.inputs) == 1 else {}
    out = eqn.out
    if impl not in table or out.type is not np.ndarray or out.dtype not in _FLOATS:
        return False
    if eqn.params and (into is None or set(eqn.params) != {"into"}):
        return False
    if int(np.prod(out.shape)) < MIN_SIZE:
        return False
    for atom in eqn.inputs:
        if isinstance(atom, Var):
            if atom.dtype is None or atom.dtype.kind not in "biuf":
                return False
            if atom.shape != out.shape and atom.shape != ():
                return False
            if atom.type is not np.ndarray and atom.shape == ():
                continue  # a number or a NumPy scalar
            if atom.type is not np.ndarray:
                return False
        else:
            value = atom.value
            if type(value) in (bool, int, float):
                continue
            if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "biuf":
                return False
            if value.shape not in ((), out.shape):
                return False
    return True


class Group:
    """Calls fused into one kernel: ``members`` (step indices), run where the last one was."""

    __slots__ = ("members", "shape", "dtype")

    def __init__(self, first: int, eqn: Eqn) -> None:
        self.members = [first]
        self.shape = eqn.out.shape
        self.dtype = eqn.out.dtype


def groups(program: Program) -> list[Group]:
    """The groups of ``program``'s calls that fuse (module text), two calls or more each, in order.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> program = fg.make_program(lambda x: fnp.exp(x * 2.0 + 1.0) * x - x)(np.ones(2000))
    >>> [group.members for group in groups(program)]
    [[0, 1], [3, 4]]

    Raises nothing.
    """
    found: list[Group] = []
    open_group: Group | None = None
    members: set[int] = set()  # var ids computed by the open group

    def close() -> None:
        nonlocal open_group
        if open_group is not None and len(open_group.members) > 1:
            found.append(open_group)
        open_group = None
        members.clear()

    for index, step in enumerate(program.steps):
        if isinstance(step, Guard):
            if step.var.id in members:
                close()
            continue
        if _fusable(step):
            if open_group is None or step.out.shape != open_group.shape or step.out.dtype != open_group.dtype:
                close()  # (another shape or dtype starts a group of its own)
                open_group = Group(index, step)
            else:
                open_group.members.append(index)
            members.add(step.out.id)
        elif any(isinstance(atom, Var) and atom.id in members for atom in step.inputs):
            close()
        elif open_group is not None and _writes_into_read(step, open_group, program):
            close()  # it overwrites an operand the kernel, which runs later, must read as it was
    close()
    return found


def _writes_into_read(step: Eqn, group: Group, program: Program) -> bool:
    """Whether ``step`` writes in place into a value that a call of ``group`` reads."""
    _, into = written_operand(step)
    if into is None:
        return False
    target = step.inputs[into]
    if not isinstance(target, Var):
        return False
    return any(target in program.steps[index].inputs for index in group.members)  # type: ignore[union-attr]


def fuse(program: Program) -> Program:
    """``program`` with each of its :func:`groups` replaced by one call of a compiled kernel.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> program = fg.make_program(lambda x: fnp.exp(x * 2.0 + 1.0) * x - x)(np.ones(2000))
    >>> print(fuse(program))  # doctest: +SKIP
    { lambda ; a:f64[2000]. let
        c:f64[2000] = fused[2 calls] a 2.0 1.0
        d:f64[2000] = exp c
        f:f64[2000] = fused[2 calls] d a
      in (f,) }

    Raises ``ImportError`` (naming the extra) when numba is not installed.
    """
    require()
    found = groups(program)
    if not found:
        return program
    readers = _later_reads(program)
    producers = {eqn.out.id: eqn for eqn in program.eqns}
    ids = itertools.count(1 + max([var.id for var in program.inputs] + [s.out.id for s in program.eqns], default=0))
    at_last = {group.members[-1]: group for group in found}
    grouped = {index for group in found for index in group.members}
    steps: list[Step] = []
    for index, step in enumerate(program.steps):
        if index not in grouped:
            steps.append(step)
        elif index in at_last:
            steps.extend(_kernel_call(program, at_last[index], readers, producers, ids))
    return Program(program.inputs, steps, program.outputs, program.in_tree, program.out_tree)


def _later_reads(program: Program) -> dict[int, int]:
    """var id -> the last step index reading it (``len(steps)`` for an output)."""
    last: dict[int, int] = {}
    for index, step in enumerate(program.steps):
        for atom in (step.var,) if isinstance(step, Guard) else step.inputs:
            if isinstance(atom, Var):
                last[atom.id] = index
    for atom in program.outputs:
        if isinstance(atom, Var):
            last[atom.id] = len(program.steps)
    return last


def _kernel_call(
    program: Program, group: Group, readers: dict[int, int], producers: dict[int, Eqn], ids: Any
) -> list[Step]:
    """The steps replacing ``group``: the kernel's call, and one ``fused_output`` per value read after it.

    An output is written into an input array the replay made (a ufunc's result) that nothing reads after
    the kernel, as the replay's own in-place calls do, instead of a new array (for 1e6 elements, a new
    array's pages cost about as much as the kernel's arithmetic)."""
    steps = program.steps
    eqns = [steps[index] for index in group.members]
    inside = {eqn.out.id for eqn in eqns}  # type: ignore[union-attr]
    last = group.members[-1]
    outputs = [eqn.out for eqn in eqns if readers.get(eqn.out.id, -1) > last]  # type: ignore[union-attr]
    inputs: list[Atom] = []
    keys: dict[Any, int] = {}
    for eqn in eqns:
        for atom in eqn.inputs:  # type: ignore[union-attr]
            if isinstance(atom, Var) and atom.id in inside:
                continue
            key = ("var", atom.id) if isinstance(atom, Var) else ("const", id(atom))
            if key not in keys:
                keys[key] = len(inputs)
                inputs.append(atom)
    dead = [
        position
        for position, atom in enumerate(inputs)
        if isinstance(atom, Var)
        and atom.type is np.ndarray
        and atom.shape == group.shape
        and atom.dtype == group.dtype
        and atom.id in producers
        and written_operand(producers[atom.id])[0] is not None  # a ufunc's (fresh or owned) result
        and readers.get(atom.id, -1) <= last
    ]
    prim = _primitive(eqns, inputs, outputs, group, tuple(dead[: len(outputs)]))  # type: ignore[arg-type]
    if len(outputs) == 1:
        return [Eqn(prim, tuple(inputs), {}, outputs[0])]
    pack = Var(next(ids), ())
    calls: list[Step] = [Eqn(prim, tuple(inputs), {}, pack)]
    calls.extend(Eqn(fused_output, (pack, Const(position)), {}, out) for position, out in enumerate(outputs))
    return calls


def _is_array(atom: Atom, shape: tuple[int, ...]) -> bool:
    if isinstance(atom, Var):
        return atom.type is np.ndarray and atom.shape == shape and shape != ()
    return type(atom.value) is np.ndarray and atom.value.shape == shape and shape != ()


def _primitive(
    eqns: list[Eqn], inputs: list[Atom], outputs: list[Var], group: Group, reuse: tuple[int, ...]
) -> Primitive:
    """The kernel of one group as a primitive (its ``impl`` allocates the outputs and runs the loop)."""
    dtype = _FLOATS[np.dtype(group.dtype)]
    arrays = [_is_array(atom, group.shape) for atom in inputs]
    names = {}
    for position, atom in enumerate(inputs):
        names[("var", atom.id) if isinstance(atom, Var) else ("const", id(atom))] = f"x{position}"
    kernel_args = [f"x{p}" for p in range(len(inputs))] + [f"y{p}" for p in range(len(outputs))]
    lines = [f"def kernel(n, {', '.join(kernel_args)}):"]
    for position, is_array in enumerate(arrays):
        if not is_array:
            lines.append(f"    x{position} = np.{dtype}(x{position})")
    lines.append("    for i in range(n):")
    for position, is_array in enumerate(arrays):
        if is_array:
            lines.append(f"        v{position} = np.{dtype}(x{position}[i])")
    values: dict[int, str] = {}
    for number, eqn in enumerate(eqns):
        operands = []
        for atom in eqn.inputs:
            if isinstance(atom, Var) and atom.id in values:
                operands.append(values[atom.id])
            else:
                position = int(names[("var", atom.id) if isinstance(atom, Var) else ("const", id(atom))][1:])
                operands.append(f"v{position}" if arrays[position] else f"x{position}")
        template = (_BINARY if len(operands) == 2 else _UNARY)[written_operand(eqn)[0]]
        values[eqn.out.id] = f"t{number}"
        lines.append(f"        t{number} = np.{dtype}({template.format(*operands)})")
    for position, out in enumerate(outputs):
        lines.append(f"        y{position}[i] = {values[out.id]}")
    source = "\n".join(lines) + "\n"
    zero_d = [not is_array and _zero_d(atom) for atom, is_array in zip(inputs, arrays)]
    key = (source, group.shape, tuple(zero_d), reuse)
    with _KERNELS_LOCK:
        prim = _KERNELS.get(key)
        if prim is None:
            wrapper = _wrapper(source, arrays, zero_d, len(outputs), group, reuse)
            prim = Primitive(f"fused[{len(eqns)} calls]", wrapper)
            _KERNELS[key] = prim
    return prim


def _zero_d(atom: Atom) -> bool:
    """A 0-d array (handed to the kernel as the NumPy scalar it holds)."""
    return (atom.type if isinstance(atom, Var) else type(atom.value)) is np.ndarray


def _wrapper(
    source: str, arrays: list[bool], zero_d: list[bool], outputs: int, group: Group, reuse: tuple[int, ...]
) -> Callable[..., Any]:
    """The kernel compiled by numba (lazily, at its first call) and a function calling it on flat views,
    writing output ``p`` into input ``reuse[p]`` when that array is C-contiguous (a new array otherwise)."""
    kernel = _COMPILED.get(source)
    if kernel is None:
        numba = importlib.import_module("numba")
        namespace: dict[str, Any] = {"np": np}
        exec(compile(source, "<funcgrad fused kernel>", "exec"), namespace)  # noqa: S102 - our own generated code
        # error_model="numpy": a division by zero gives inf or NaN, as NumPy's, instead of raising
        kernel = _COMPILED[source] = numba.njit(nogil=True, error_model="numpy")(namespace["kernel"])
    shape, dtype, size = group.shape, np.dtype(group.dtype), int(np.prod(group.shape))
    arguments = [
        f"x{p}.reshape(-1)" if is_array else f"x{p}[()]" if scalar_array else f"x{p}"
        for p, (is_array, scalar_array) in enumerate(zip(arrays, zero_d))
    ]
    outs = [f"y{p}" for p in range(outputs)]
    text = [f"def fused({', '.join(f'x{p}' for p in range(len(arrays)))}):"]
    for position, out in enumerate(outs):
        if position < len(reuse):  # each element is read before it is written: the kernel may write in place
            into = f"x{reuse[position]}"
            text.append(f"    {out} = {into} if {into}.flags.c_contiguous else empty(shape, dtype)")
        else:
            text.append(f"    {out} = empty(shape, dtype)")
    text.append(f"    kernel(size, {', '.join(arguments + [f'{out}.reshape(-1)' for out in outs])})")
    text.append(f"    return {outs[0] if outputs == 1 else '(' + ', '.join(outs) + ',)'}")
    scope: dict[str, Any] = {"empty": np.empty, "shape": shape, "dtype": dtype, "size": size, "kernel": kernel}
    exec("\n".join(text) + "\n", scope)  # noqa: S102 - our own generated code
    fused: Callable[..., Any] = scope["fused"]
    fused.__doc__ = source + "\n" + "\n".join(text) + "\n"
    return fused
