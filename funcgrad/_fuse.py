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

Scalar programs (:func:`scalar_replay`): a program whose float64 scalar
arithmetic runs on Python floats (``funcgrad._rewrites.python_floats``)
and which has a folded loop (:mod:`funcgrad._loops`) is compiled by numba
whole, once it reaches the compiled tier: the source ``jit`` would run,
each call spelled for numba (:func:`spell`), each loop numba's ``for`` loop
over one block.  Arithmetic, negation and comparisons are IEEE operations
on float64 (the same bits); NumPy's transcendental functions become
numba's (LLVM's, the C library's), each within ``ULPS`` of NumPy's.  A
guard raises ``GuardMiss`` at the iteration it misses, numbered as in the
Python replay; a NumPy function's non-finite result, or a non-finite value
leaving the Python floats, raises ``NonFinite``, so the NumPy-scalar
replay runs instead (it warns as the eager call does).  A program numba
cannot compile stays on the Python tier.

The default ``jit`` (no ``fuse``) compiles such a program by numba too,
when every call is one numba computes with NumPy's bits (``EXACT``), or a
NumPy function outside the loops, called through NumPy itself (numba's
object mode): :func:`exact` tells, ``scalar_replay(..., exact=True)``
compiles (``funcgrad._jit._Branch`` decides when: in a background thread,
once the Python tier's replays have taken ``compile_estimate`` seconds).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import itertools
import operator
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._loops import Loop, _freeze, fold
from funcgrad._prims._indexing import getitem_p, index_add_p
from funcgrad._prims._ufuncs import mask_p
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var
from funcgrad._rewrites import (
    NonFinite,
    index_add_into,
    leave_floats,
    set_elements,
    to_float,
    to_float64,
    written_operand,
)
from funcgrad._trace import Primitive
from funcgrad.tree import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["available", "exact", "fuse", "groups", "installed", "scalar_replay"]

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

#: (kernel source, shape, which scalars are 0-d arrays, inputs written into, exact) -> its primitive
_KERNELS: dict[tuple[str, tuple[int, ...], tuple[bool, ...], tuple[int, ...], bool], Primitive] = {}
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


_INSTALLED: list[bool] = []


def installed() -> bool:
    """Whether numba looks installed, without importing it (:func:`available` imports it: about half a second).

    >>> installed() in (True, False)
    True
    """
    if not _INSTALLED:
        _INSTALLED.append(importlib.util.find_spec("numba") is not None)
    return _INSTALLED[0]


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


def fuse(program: Program, exact: bool = False) -> Program:
    """``program`` with each of its :func:`groups` replaced by one call of a compiled kernel.

    ``exact``: each kernel gives NumPy's bits, dtypes, memory layout, warnings and errors, or the group's
    NumPy calls run instead (:func:`exact_kernels`; the default ``jit``'s fused tier).

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
            steps.extend(_kernel_call(program, at_last[index], readers, producers, ids, exact))
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
    program: Program, group: Group, readers: dict[int, int], producers: dict[int, Eqn], ids: Any, exact: bool = False
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
        if not exact  # an exact kernel keeps its inputs as they were: its group's NumPy calls may need them
        and isinstance(atom, Var)
        and atom.type is np.ndarray
        and atom.shape == group.shape
        and atom.dtype == group.dtype
        and atom.id in producers
        and written_operand(producers[atom.id])[0] is not None  # a ufunc's (fresh or owned) result
        and readers.get(atom.id, -1) <= last
    ]
    prim = _primitive(eqns, inputs, outputs, group, tuple(dead[: len(outputs)]), exact)  # type: ignore[arg-type]
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
    eqns: list[Eqn], inputs: list[Atom], outputs: list[Var], group: Group, reuse: tuple[int, ...], exact: bool = False
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
    if exact:
        lines.append("    finite = True")
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
        if exact:  # an infinity or a NaN: NumPy's calls may warn or raise, and pick a NaN's bits their way
            lines.append(f"        finite &= t{number} - t{number} == 0.0")  # (no branch: the loop stays SIMD)
    for position, out in enumerate(outputs):
        lines.append(f"        y{position}[i] = {values[out.id]}")
    if exact:
        lines.append("    return finite")
    source = "\n".join(lines) + "\n"
    zero_d = [not is_array and _zero_d(atom) for atom, is_array in zip(inputs, arrays)]
    key = (source, group.shape, tuple(zero_d), reuse, exact)
    with _KERNELS_LOCK:
        prim = _KERNELS.get(key)
        if prim is None:
            if exact:
                wrapper = _exact_wrapper(source, arrays, zero_d, len(outputs), group, eqns, inputs, outputs)
            else:
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
    kernel = _numba_kernel(source)
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


def _numba_kernel(source: str) -> Any:
    """numba's dispatcher of a kernel's ``source`` (compiled at its first call; one per distinct source)."""
    kernel = _COMPILED.get(source)
    if kernel is None:
        numba = importlib.import_module("numba")
        namespace: dict[str, Any] = {"np": np}
        exec(compile(source, "<funcgrad fused kernel>", "exec"), namespace)  # noqa: S102 - our own generated code
        # error_model="numpy": a division by zero gives inf or NaN, as NumPy's, instead of raising
        kernel = _COMPILED[source] = numba.njit(nogil=True, error_model="numpy")(namespace["kernel"])
    return kernel


def _exact_wrapper(
    source: str,
    arrays: list[bool],
    zero_d: list[bool],
    outputs: int,
    group: Group,
    eqns: list[Eqn],
    inputs: list[Atom],
    outs: list[Var],
) -> Callable[..., Any]:
    """An exact kernel's call (``fuse(..., exact=True)``): the kernel writes each output into a new C-order
    array; where it cannot answer for NumPy, the group's NumPy calls run instead, on the same inputs.

    The kernel answers for NumPy where every value it computes is finite (an overflow, a division by zero or
    an invalid operation leaves an infinity or a NaN, where NumPy's calls warn or raise as the error state
    says; NaN inputs also go to NumPy, which picks a NaN's bits its own way), NumPy's error state ignores
    underflow (which leaves no such trace), and every array input is C-contiguous (so NumPy's result is
    C-order too, and the kernel's compiled types are the ones :func:`exact_kernels` compiled).  Its
    arithmetic is NumPy's loops' (IEEE operations each rounded on its own: numba compiles without
    fast-math), so its bits are NumPy's."""
    kernel = _numba_kernel(source)
    shape, dtype, size = group.shape, np.dtype(group.dtype), int(np.prod(group.shape))
    slot = {("var", atom.id) if isinstance(atom, Var) else ("const", id(atom)): p for p, atom in enumerate(inputs)}
    # each call as NumPy's plain ufunc, into a new array: a kernel is shared by every program with its source,
    # and another's call of the same source may write into an operand (``out=``) where this one's must not
    steps = [
        (
            written_operand(eqn)[0],
            [slot.get(("var", a.id)) if isinstance(a, Var) else slot[("const", id(a))] for a in eqn.inputs],
            [a.id if isinstance(a, Var) else -1 for a in eqn.inputs],  # (a constant is an input: its slot)
            eqn.out.id,
        )
        for eqn in eqns
    ]
    wanted = [out.id for out in outs]

    def numpy_calls(values: tuple[Any, ...]) -> Any:
        made: dict[int, Any] = {}
        for ufunc, slots, ids, out in steps:
            operands = [values[p] if p is not None else made[i] for p, i in zip(slots, ids)]
            made[out] = ufunc(*operands)
        results = [made[i] for i in wanted]
        return results[0] if outputs == 1 else tuple(results)

    def fused(*values: Any) -> Any:
        ok = np.geterr()["under"] == "ignore"
        if ok:
            for value, is_array in zip(values, arrays):
                if is_array and not value.flags.c_contiguous:  # (NumPy's result would follow its layout)
                    ok = False
                    break
        if ok:
            made = [np.empty(shape, dtype) for _ in range(outputs)]
            arguments = [
                value.reshape(-1) if is_array else value[()] if scalar_array else value
                for value, is_array, scalar_array in zip(values, arrays, zero_d)
            ]
            if kernel(size, *arguments, *[out.reshape(-1) for out in made]):
                return made[0] if outputs == 1 else tuple(made)
        return numpy_calls(values)

    def compile_now() -> None:
        numba = importlib.import_module("numba")
        types = [numba.types.intp]
        for atom, is_array in zip(inputs, arrays):
            kind = atom.type if isinstance(atom, Var) else type(atom.value)
            if is_array:
                element = atom.dtype if isinstance(atom, Var) else atom.value.dtype
                types.append(numba.types.Array(numba.from_dtype(element), 1, "C"))
            elif kind in (bool, int, float):
                types.append(numba.typeof(kind(0)))
            else:  # a NumPy scalar, or a 0-d array handed over as the scalar it holds (its dtype only is read)
                types.append(numba.from_dtype(atom.dtype if isinstance(atom, Var) else np.asarray(atom.value).dtype))
        types += [numba.types.Array(numba.from_dtype(dtype), 1, "C")] * outputs
        kernel.compile(tuple(types))

    fused.__doc__ = source
    fused.compile_now = compile_now  # type: ignore[attr-defined]
    return fused


def exact_kernels(program: Program) -> int:
    """Compile, by numba, here, every exact kernel a fused ``program`` calls (``fuse(program, exact=True)``),
    for the types its inputs were recorded with; the number of kernels.  ``jit`` calls it in the background
    before it replays ``program``.

    Raises whatever numba raises when it cannot compile one.
    """
    compilers: list[Callable[[], None]] = [
        eqn.prim.impl.compile_now for eqn in program.eqns if hasattr(eqn.prim.impl, "compile_now")
    ]
    if compilers:
        with _apart(importlib.import_module("numba")):  # (it may run in a thread beside the calls)
            for compile_now in compilers:
                compile_now()
    return len(compilers)


# --- numba's replay of a whole program on Python floats -------------------------------------------

#: a program on Python floats is replayed by numba when it has a folded loop and numba's source has at most
#: this many calls (those outside loops, and each loop's body once): numba's compile time grows with them
SCALAR_CALLS = 1000
#: numba's replays kept, by source and constants (one compile per distinct program, for the whole process)
SCALAR_CACHE = 32
#: numba's compile of a scalar program takes about ``base + per_call * calls written`` seconds (measured here:
#: 0.3-0.4 s for a loop of a few calls, 1.9 s for the 323 calls of the RK4 gradient's source)
COMPILE_SECONDS = (0.3, 0.005)
#: the seconds numba takes to compile one exact elementwise kernel (measured: 0.9-1.1 s for the chain's two)
KERNEL_SECONDS = 0.5

#: NumPy's element operations numba writes as operators on float64 (IEEE arithmetic: the same bits)
_SCALAR_OPERATORS: dict[Any, str] = {**_BINARY, **_UNARY}
_COMPARISONS: dict[Any, str] = {
    np.greater: "{} > {}",
    np.greater_equal: "{} >= {}",
    np.less: "{} < {}",
    np.less_equal: "{} <= {}",
    np.equal: "{} == {}",
    np.not_equal: "{} != {}",
}
#: NumPy's functions numba calls on float64 scalars: ``absolute`` and ``sqrt`` give the same bits (``sign`` too
#: but at -0.0, where numba's is -0.0), the others numba's (LLVM's, the C library's) within ``ULPS``, as does a power
_SCALAR_FUNCTIONS = frozenset(
    {
        np.absolute, np.sign, np.sqrt, np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2, np.log10,
        np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh,
        np.arcsinh, np.arccosh, np.arctanh, np.arctan2, np.hypot,
    }
)  # fmt: skip
#: the calls numba's replay computes with NumPy's bits (operation -> why): the default ``jit`` compiles a
#: scalar program by numba only when every call is one of these, or a call of NumPy's own function outside the
#: folded loops (:func:`exact`)
EXACT: dict[Any, str] = {
    np.add: "IEEE addition, rounded once (numba compiles without fast-math: no contraction, no reassociation)",
    np.subtract: "IEEE subtraction, rounded once",
    np.multiply: "IEEE multiplication, rounded once",
    np.true_divide: "IEEE division, rounded once (by zero: inf or NaN, checked finite as on the Python tier)",
    np.negative: "flips the sign bit",
    np.square: "x * x rounded once, the product NumPy's loop computes",
    np.absolute: "clears the sign bit",
    np.sqrt: "correctly rounded by IEEE 754 in NumPy's loop (the C library's sqrt) and numba's (the instruction)",
    np.greater: "IEEE comparison: no rounding",
    np.greater_equal: "IEEE comparison: no rounding",
    np.less: "IEEE comparison: no rounding",
    np.less_equal: "IEEE comparison: no rounding",
    np.equal: "IEEE comparison: no rounding",
    np.not_equal: "IEEE comparison: no rounding",
    to_float: "a float64 as Python's float: the same value",
    to_float64: "a Python float as float64: the same value, checked finite",
    leave_floats: "the same value, checked finite",
    getitem_p: "reads one element",
    index_add_p: "one IEEE addition into one element",
    index_add_into: "one IEEE addition into one element",
    set_elements: "writes values as they are",
    mask_p: "a boolean as 0.0 or 1.0",
}
#: the default ``jit`` compiles a program by numba with at most this many calls through NumPy itself (each costs
#: numba's replay 1-2 us, more than the Python tier's call)
NUMPY_CALLS = 16
#: NumPy's functions of scalars the default ``jit``'s numba replay calls through NumPy itself (numba's object
#: mode: the same function on the same values, so the same bits), outside loops only (a few microseconds a call)
_BY_NUMPY = _SCALAR_FUNCTIONS | {operator.pow, np.power}
_SCALAR_CONSTANTS = (bool, int, float, np.float64, np.bool_)
_FLOAT64, _BOOL = np.dtype(np.float64), np.dtype(np.bool_)

#: (source, input types, namespace values) -> numba's dispatcher, or None where numba could not compile it
_SCALAR_COMPILED: dict[Any, Any] = {}
_UNSEEN = object()
_HELPERS: dict[str, Any] = {}  # the njit helpers the source calls, compiled once numba is needed


class Unsupported(Exception):
    """A program numba's replay does not take (a call it does not write, a value it does not hold)."""


_INFINITY = float("inf")


def _checked(value: float) -> float:
    """``value`` if finite, else ``NonFinite``: a NumPy call would have warned there (or a value leaving the
    Python floats is not finite), so the Python tier's NumPy-scalar replay runs instead."""
    if -_INFINITY < value < _INFINITY:
        return value
    raise NonFinite


def _set_elements(total: Any, positions: Any, values: Any) -> Any:
    """A copy of ``total`` with ``values`` at its flat ``positions`` (``set_elements`` of the Python tier)."""
    out = total.copy()
    flat = out.reshape(-1)
    for position in range(len(values)):
        flat[positions[position]] = values[position]
    return out


def _index_add(total: Any, index: Any, value: Any) -> Any:
    """A copy of ``total`` with ``value`` added at ``index`` (``index_add`` at one element)."""
    out = total.copy()
    out[index] += value
    return out


def _add_into(out: Any, index: Any, value: Any) -> Any:
    """``value`` added into ``out`` at ``index``, in place (``index_add_into`` at one element)."""
    out[index] += value
    return out


def _helpers() -> dict[str, Any]:
    with _KERNELS_LOCK:
        if not _HELPERS:
            numba = importlib.import_module("numba")
            _HELPERS["finite_"] = numba.njit(_checked)
            _HELPERS["set_elements_"] = numba.njit(_set_elements)
            _HELPERS["index_add_"] = numba.njit(_index_add)
            _HELPERS["add_into_"] = numba.njit(_add_into)
            _HELPERS["float_"] = float
        return _HELPERS


def _scalar(atom: Atom) -> bool:
    """A float64 or boolean 0-d value (a Python float or NumPy scalar), or a number constant."""
    if isinstance(atom, Var):
        return atom.shape == () and atom.type is not np.ndarray and atom.dtype in (_FLOAT64, _BOOL)
    return type(atom.value) in _SCALAR_CONSTANTS


def is_exact(eqn: Eqn) -> bool:
    """Whether numba's replay computes ``eqn`` with NumPy's bits (its call is in ``EXACT``).

    >>> import funcgrad as fg, numpy as np
    >>> program = fg.make_program(lambda x: np.sqrt(x * 2.0) + np.exp(x))(np.float64(1.0))
    >>> [is_exact(eqn) for eqn in program.eqns]
    [True, True, False, True]
    """
    prim = eqn.prim
    return prim in EXACT or (not eqn.params and _hashable(prim.impl) and prim.impl in EXACT)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def exact(program: Program, loops: Sequence[Loop]) -> bool:
    """Whether numba's replay of ``program`` (on Python floats, its loops ``loops``) would give NumPy's bits:
    it has a folded loop, every call in a loop's body is exact (:func:`is_exact`) and every other call is
    exact or a NumPy function of scalars (called through NumPy itself; at most ``NUMPY_CALLS`` of them).  A cheap test of the calls only:
    :func:`scalar_replay` (with ``exact=True``) still decides.

    >>> import funcgrad as fg, numpy as np
    >>> from funcgrad._jit import prepare
    >>> from funcgrad._rewrites import python_floats
    >>> def f(p, function):
    ...     x = p[0]
    ...     for _ in range(20):
    ...         x = function(x * p[1]) + 1.0
    ...     return np.exp(x)
    >>> programs = [python_floats(prepare(fg.make_program(f, static_argnums=1)(np.ones(2), g))) for g in (abs, np.sin)]
    >>> [exact(program, fold(program)) for program in programs]
    [True, False]
    """
    if not loops or written_calls(program, loops) > SCALAR_CALLS:
        return False
    inside: set[int] = set()
    for loop in loops:
        inside.update(range(loop.start, loop.stop))
    by_numpy = 0
    for index, step in enumerate(program.steps):
        if isinstance(step, Eqn) and not is_exact(step):
            if index in inside or not _by_numpy(step):
                return False
            by_numpy += 1
    return by_numpy <= NUMPY_CALLS


def _by_numpy(eqn: Eqn) -> bool:
    """A NumPy function (or a power) of float64 scalars with a float64 result, which numba's replay may call
    through NumPy itself."""
    impl = eqn.prim.impl
    return (
        not eqn.params
        and _hashable(impl)
        and impl in _BY_NUMPY
        and eqn.out.shape == ()
        and eqn.out.dtype == _FLOAT64
        and all(_scalar(atom) for atom in eqn.inputs)
    )


#: (NumPy function, the recorded types of its arguments) -> numba's function calling it (through object mode)
_NUMPY_CALLS: dict[tuple[Any, tuple[type, ...]], tuple[str, Any]] = {}


def _numpy_call(eqn: Eqn, arguments: list[str], namespace: dict[str, Any]) -> str:
    """The expression calling ``eqn``'s NumPy function itself from numba's replay, on arguments of the types
    the Python tier passes (a Python float, a NumPy float64, a constant's own type): NumPy's bits, its result
    checked finite (NumPy's warnings are left to the NumPy-scalar replay, which runs instead where it is not)."""
    kinds = tuple(atom.type if isinstance(atom, Var) else type(atom.value) for atom in eqn.inputs)
    key = (eqn.prim.impl, kinds)
    with _KERNELS_LOCK:
        if key not in _NUMPY_CALLS:
            _NUMPY_CALLS[key] = (f"numpy{len(_NUMPY_CALLS)}_", _numpy_caller(eqn.prim.impl, kinds))
        name, namespace[name] = _NUMPY_CALLS[key]
    return f"finite_({name}({', '.join(arguments)}))"


def _numpy_caller(impl: Callable[..., Any], kinds: tuple[type, ...]) -> Any:
    """numba's function of ``len(kinds)`` scalars returning ``float(impl(*(kind(x) for ...)))`` computed by
    Python (numba's ``objmode``), NumPy's errors ignored."""
    numba = importlib.import_module("numba")

    def python(*values: Any) -> float:
        with np.errstate(all="ignore"):
            return float(impl(*[kind(value) for kind, value in zip(kinds, values)]))

    names = ", ".join(f"x{position}" for position in range(len(kinds)))
    source = (
        f"def call({names}):\n"
        f"    with objmode_(result='float64'):\n"
        f"        result = python_({names})\n"
        f"    return result\n"
    )
    scope: dict[str, Any] = {"objmode_": numba.objmode, "python_": python}
    exec(source, scope)  # noqa: S102 - our own generated code
    return numba.njit(scope["call"])


def spell(
    eqn: Eqn, arguments: list[str], namespace: dict[str, Any], exact: bool = False, looped: frozenset[int] = frozenset()
) -> str:
    """The expression numba's replay computes ``eqn`` with (``to_source``'s ``spell``), or ``Unsupported``.

    Arithmetic on Python floats is written with operators; a NumPy function of scalars too, or as numba's
    function, its result checked finite (``finite_``: NumPy would have warned where it is not);
    conversions between Python floats and NumPy's are no-ops, those checking finiteness ``finite_``.
    With ``exact`` (the default ``jit``'s replay: NumPy's bits), a call not in ``EXACT`` is ``Unsupported``,
    but for a NumPy function of scalars that is not in a loop's body (``looped``: the ids of those calls),
    which is NumPy's own call (through numba's object mode).

    >>> import funcgrad as fg, numpy as np
    >>> from funcgrad._jit import prepare
    >>> from funcgrad._rewrites import python_floats
    >>> program = python_floats(prepare(fg.make_program(lambda p: np.exp(p[0] * 2.0) > 1.0)(np.ones(2))))
    >>> [spell(eqn, ["x", "y"][: len(eqn.inputs)], {}) for eqn in program.eqns]
    ['x[0]', 'float_(x)', 'x * y', 'finite_(x)', 'finite_(exp_(x))', '(x > y)']
    """
    prim, out = eqn.prim, eqn.out
    if exact and not is_exact(eqn):
        if id(eqn) in looped or not _by_numpy(eqn):
            raise Unsupported
        return _numpy_call(eqn, arguments, namespace)
    if prim is to_float:
        return f"float_({arguments[0]})"
    if prim is to_float64 or prim is leave_floats:
        return f"finite_({arguments[0]})"
    if prim is getitem_p:
        (source,) = eqn.inputs
        index = eqn.params["index"]
        if index == () and _scalar(source):
            return arguments[0]  # a scalar's ``x[()]``: itself
        if not _element(index, source):
            raise Unsupported
        return f"{arguments[0]}[{index!r}]"
    if prim is index_add_p or prim is index_add_into:
        total, value = eqn.inputs
        index = eqn.params["index"]
        if not (_element(index, total) and _scalar(value)):
            raise Unsupported
        helper = "index_add_" if prim is index_add_p else "add_into_"
        return f"{helper}({arguments[0]}, {index!r}, {arguments[1]})"
    if prim is set_elements:
        total = eqn.inputs[0]
        if not (_array(total) and all(_scalar(atom) for atom in eqn.inputs[1:])):
            raise Unsupported
        return f"set_elements_({arguments[0]}, {eqn.params['positions']!r}, ({', '.join(arguments[1:])},))"
    if prim is mask_p:
        if eqn.params.get("dtype") != _FLOAT64 or not _scalar(eqn.inputs[0]):
            raise Unsupported
        return f"float_({arguments[0]})"
    impl = prim.impl
    if eqn.params or not all(_scalar(atom) for atom in eqn.inputs) or out.shape != ():
        raise Unsupported
    if out.dtype == _BOOL and impl in _COMPARISONS:
        return "(" + _COMPARISONS[impl].format(*arguments) + ")"
    if out.dtype != _FLOAT64:
        raise Unsupported
    if impl in _SCALAR_OPERATORS and len(arguments) == (2 if impl in _BINARY else 1):
        expression = _SCALAR_OPERATORS[impl].format(*arguments)
        if out.type is float:
            return expression  # Python floats: IEEE arithmetic, checked finite where they leave
    elif impl in _SCALAR_FUNCTIONS:
        name = f"{impl.__name__}_"
        namespace[name] = impl
        expression = f"{name}({', '.join(arguments)})"
    elif (impl is operator.pow or impl is np.power) and len(arguments) == 2:
        expression = f"{arguments[0]} ** float_({arguments[1]})"  # (C's pow, as NumPy's; numba's int power differs)
    else:
        raise Unsupported
    return f"finite_({expression})"


def _element(index: Any, atom: Atom) -> bool:
    """Whether ``atom`` is a float64 array and ``index`` one element of it (an int an axis)."""
    if not _array(atom):
        return False
    indices = index if type(index) is tuple else (index,)
    ndim = len(atom.shape if isinstance(atom, Var) else atom.value.shape)
    return len(indices) == ndim and all(type(i) is int for i in indices)


def _array(atom: Atom) -> bool:
    """A float64 array of one axis or more."""
    if isinstance(atom, Var):
        return atom.type is np.ndarray and atom.shape != () and atom.dtype == _FLOAT64
    value = atom.value
    return type(value) is np.ndarray and value.shape != () and value.dtype == _FLOAT64


def scalar_replay(
    program: Program,
    write: Callable[..., tuple[str, dict[str, Any]]],
    folded: Sequence[Loop] | None = None,
    exact: bool = False,
) -> Callable[..., Any] | None:
    """numba's replay of ``program`` (prepared, on Python floats), or ``None`` where it does not apply.

    It applies to a program with a folded loop (:func:`funcgrad._loops.fold`) of float64 scalar values,
    arrays only as float64 inputs read element by element and outputs written element by element, guards
    on scalars only, and at most ``SCALAR_CALLS`` calls written; ``write`` is ``to_source`` (of
    ``funcgrad._jit``, which calls this), given :func:`spell`; ``folded``: ``fold(program)`` when computed
    already.  numba compiles it here, for the input
    types of the program; when numba cannot (a call it does not know), ``None``: the Python tier replays it.
    With ``exact`` (the default ``jit``), ``None`` too for a program with a call numba would not compute with
    NumPy's bits (see ``EXACT``; a NumPy function outside the loops is NumPy's own call).

    The replay raises ``GuardMiss`` as the Python source does (iteration by iteration in a loop) and
    ``NonFinite`` where a value leaving the Python floats, or a NumPy function's result, is not finite.

    >>> import funcgrad as fg, numpy as np
    >>> from funcgrad._jit import prepare, to_source
    >>> from funcgrad._rewrites import python_floats
    >>> def f(p):
    ...     x = p[0]
    ...     for _ in range(20):
    ...         x = x * p[1] + 1.0
    ...     return x
    >>> program = python_floats(prepare(fg.make_program(f)(np.array([0.5, 0.5]))))
    >>> replay = scalar_replay(program, to_source)  # compiled by numba here (None without numba)
    >>> p = np.array([0.25, 0.75])
    >>> replay is None or replay(p).tobytes() == f(p).tobytes()  # the same bits
    True
    """
    if not available():
        return None
    try:
        loops = list(fold(program) if folded is None else folded)
        if not loops:
            return None
        signature, converters = _scalar_types(program, loops)
        flat = Program(program.inputs, program.steps, program.outputs, program.in_tree, _flat_tree(len(converters)))
        namespace: dict[str, Any]
        if exact:
            looped = frozenset(id(step) for loop in loops for step in loop.body)
            speller = functools.partial(spell, exact=True, looped=looped)
            source, namespace = write(flat, "replay", loops, speller)
        else:
            source, namespace = write(flat, "replay", loops, spell)
    except Unsupported:
        return None
    source = "".join(line for line in source.splitlines(keepends=True) if not line.lstrip().startswith("del "))
    namespace.update(_helpers())
    key = (source, tuple(map(str, signature)), tuple((name, _freeze(value)) for name, value in namespace.items()))
    with _KERNELS_LOCK:
        compiled = _SCALAR_COMPILED.get(key, _UNSEEN)
    if compiled is _UNSEEN:
        compiled = _scalar_compile(source, namespace, signature, not exact)
        with _KERNELS_LOCK:
            _SCALAR_COMPILED[key] = compiled  # (None too: a program numba refused is not tried again)
            while len(_SCALAR_COMPILED) > SCALAR_CACHE:
                del _SCALAR_COMPILED[next(iter(_SCALAR_COMPILED))]
    if compiled is None:
        return None
    out_tree = program.out_tree

    def replay(*leaves: Any) -> Any:
        return tree_unflatten(out_tree, [convert(v) for convert, v in zip(converters, compiled(*leaves))])

    replay.__doc__ = "# compiled by numba\n" + source
    return replay


def _scalar_types(program: Program, loops: list[Loop]) -> tuple[list[Any], list[Callable[[Any], Any]]]:
    """numba's types of the inputs, and the conversion of each output back to its type (``Unsupported``
    for a program numba's replay does not take)."""
    numba = importlib.import_module("numba")
    if written_calls(program, loops) > SCALAR_CALLS:
        raise Unsupported
    signature = []
    for var in program.inputs:
        if var.dtype != _FLOAT64:
            raise Unsupported
        if var.type is np.ndarray:
            signature.append(numba.types.Array(numba.float64, len(var.shape), "A", readonly=True))
        elif var.type in (float, np.float64):
            signature.append(numba.float64)
        else:
            raise Unsupported
    for step in program.steps:
        if isinstance(step, Guard) and (step.kind != "bool" or not _scalar(step.var)):
            raise Unsupported
    made: set[int] = set()  # arrays numba's replay makes (C-ordered, as the Python tier's)
    for eqn in program.eqns:
        if any(isinstance(atom, Const) and atom.shared for atom in eqn.inputs):
            raise Unsupported  # numba would compile a shared array's values in, which may change between calls
        if eqn.prim is set_elements or eqn.prim is index_add_p or eqn.prim is index_add_into:
            total = eqn.inputs[0]
            if isinstance(total, Var) and total.id not in made:
                raise Unsupported  # (a copy of an input: the Python tier keeps a Fortran-ordered one's order)
            if isinstance(total, Const) and not (type(total.value) is np.ndarray and total.value.flags.c_contiguous):
                raise Unsupported
            made.add(eqn.out.id)
    converters: list[Callable[[Any], Any]] = []
    for atom in program.outputs:
        kind = atom.type if isinstance(atom, Var) else type(atom.value)
        if kind is np.ndarray:
            if not (isinstance(atom, Var) and atom.id in made):
                raise Unsupported  # (an input or a constant: the Python tier hands back its own)
            converters.append(_same)
        elif kind in _SCALAR_CONSTANTS:
            converters.append(kind)
        else:
            raise Unsupported
    return signature, converters


def written_calls(program: Program, loops: Sequence[Loop]) -> int:
    """How many calls numba's source of ``program`` writes: those outside ``loops``, each loop's body once."""
    return len(program.eqns) - sum((loop.count - 1) * sum(isinstance(s, Eqn) for s in loop.body) for loop in loops)


def kernels_estimate(count: int) -> float:
    """The seconds numba's compile of ``count`` exact kernels is expected to take (``KERNEL_SECONDS``)."""
    return KERNEL_SECONDS * count


def compile_estimate(program: Program, loops: Sequence[Loop]) -> float:
    """The seconds numba's compile of ``program`` is expected to take (``COMPILE_SECONDS``, measured)."""
    base, per_call = COMPILE_SECONDS
    return base + per_call * written_calls(program, loops)


def _same(value: Any) -> Any:
    return value


def _flat_tree(count: int) -> PyTreeDef:
    """The structure of a tuple of ``count`` leaves (numba's replay returns the leaves; the tree is built after)."""
    return tree_flatten(tuple(range(count)))[1]


def _scalar_compile(source: str, namespace: dict[str, Any], signature: list[Any], quiet: bool = True) -> Any:
    """numba's dispatcher of the source's ``replay`` for ``signature``, or ``None`` when numba cannot compile it.

    ``quiet``: numba's warnings silenced (``warnings.catch_warnings``).  Otherwise (a compile in a background
    thread, :func:`_apart`) the process's warning filters are left alone.  A replay calling NumPy through numba's
    object mode keeps the GIL (numba warns that such code cannot release it)."""
    numba = importlib.import_module("numba")
    scope = dict(namespace)
    exec(compile(source, "<funcgrad numba replay>", "exec"), scope)  # noqa: S102 - our own generated code
    nogil = not any(name.startswith("numpy") and name.endswith("_") for name in namespace)
    # error_model="numpy": a division by zero gives inf or NaN (then checked) instead of raising
    jit = numba.njit([tuple(signature)], error_model="numpy", nogil=nogil)
    try:
        if not quiet:
            with _apart(numba):
                return jit(scope["replay"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jit(scope["replay"])
    except Exception:  # noqa: BLE001 - numba's typing and lowering errors are many: any means the Python tier
        return None


class _Warnings:
    """The ``warnings`` module as numba's compiler sees it during :func:`_apart`: ``catch_warnings`` and
    ``simplefilter`` leave the process's state alone, the rest is the module's."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    @staticmethod
    @contextlib.contextmanager
    def catch_warnings(*args: Any, **kwargs: Any) -> Iterator[list[Any]]:
        yield []

    @staticmethod
    def simplefilter(*args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def _apart(numba: Any) -> Iterator[None]:
    """numba's compile, from a thread beside the calls: with numba's compiler lock held (so that no other
    compile runs meanwhile), its ``WarningsFixer`` does not swap the warning filters (Python's
    ``catch_warnings`` swaps them for every thread: another thread's filters would be lost, or its warnings
    recorded into numba's list; numba's own warnings pass through the filters as they are).  ``Unsupported``
    where numba's modules are not as this expects (the compile is then not made: the Python tier stays)."""
    errors: Any = importlib.import_module("numba.core.errors")
    lock = importlib.import_module("numba.core.compiler_lock").global_compiler_lock
    if getattr(errors, "warnings", None) is not warnings or not hasattr(errors.WarningsFixer, "catch_warnings"):
        raise Unsupported  # (numba's warnings fixer is not the one expected)
    with lock:
        errors.warnings = _Warnings(warnings)
        try:
            yield
        finally:
            errors.warnings = warnings
