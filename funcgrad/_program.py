"""Programs: the primitive calls a function makes, recorded once (``make_program``; ``jit`` replays them).

A :class:`RecordingTrace` is a transform like the others: its tracers carry a
variable, and every primitive call that reaches it is computed (eagerly, so
the Python function runs as usual) and appended to its program as one
equation ``out = prim(inputs..., **params)``.  Python control flow on a
traced value (``bool()``) and the output shape of a primitive whose shape
depends on its input values are recorded as *guards*: the outcome that this
recording took, which a replay must check.

Because a recording trace is one level like any other, composition comes
for free: under ``make_program(fg.grad(f))`` the reverse trace sits above
ours, so the primitive calls of the backward sweep reach us too.
"""

from __future__ import annotations

import itertools
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from funcgrad import _errors
from funcgrad._prims._array import ArrayTracer
from funcgrad._protect import Hold, held_or_copied, kept_copy, mutable
from funcgrad._trace import Primitive, Trace, Tracer, new_level, read_value
from funcgrad._values import dtype, shape
from funcgrad.tree import PyTreeDef, tree_flatten

__all__ = ["Program"]


class Var:
    """A value of the program: its number, shape and dtype (never its value)."""

    __slots__ = ("id", "shape", "dtype", "kind", "type")

    def __init__(self, id: int, value: Any) -> None:
        self.id = id
        #: the value's Python type (a replay sees the same types: they are part of the signature)
        self.type = kind = type(value)
        self.shape: tuple[int, ...]
        self.dtype: np.dtype[Any] | None
        known = _SCALAR_SHAPE_DTYPE.get(kind)  # a NumPy scalar or a Python float: no attribute read
        self.shape, self.dtype = known if known is not None else _shape_dtype(value)
        #: ``None`` for an array or number; the type's name for anything else (a pack of leaves)
        self.kind = None if self.dtype is not None else kind.__name__

    @classmethod
    def float64(cls, id: int, kind: type) -> Var:
        """A float64 scalar variable of type ``kind`` (``float`` or ``numpy.float64``), made without a value."""
        var = cls.__new__(cls)
        var.id, var.type, var.shape, var.dtype, var.kind = id, kind, (), _FLOAT64, None
        return var


class Const:
    """A value the program was given, not computed (a closed-over array, a Python number, ``None``).

    ``shared``: a plain array someone else may write into later (the caller's, closed over): each replay reads
    what it holds then, so no pass may read its values while rewriting the program.  Every other constant (a
    number, an array only the program holds, a read-only array) is fixed.
    """

    __slots__ = ("value", "shared")

    def __init__(self, value: Any, shared: bool = False) -> None:
        self.value = value
        self.shared = shared


def snapshot(value: Any) -> Const:
    """A constant of ``value``, copied when it is a plain array that may change (``kept_copy``)."""
    return Const(kept_copy(value) if type(value) is np.ndarray else value)  # (its type: no value is read)


Atom = Var | Const
#: ufuncs a recording computes by their Python operator on float64 scalars (``RecordingTrace.process``)
_SCALAR_OPERATORS: dict[Any, Callable[[Any, Any], Any]] = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
}
_FLOAT64_PAIRS = frozenset({(np.float64, np.float64), (np.float64, float), (float, np.float64)})
_FLOAT64 = np.dtype(np.float64)
#: the shape and dtype of a value of each NumPy scalar type, and of a Python float (a recording's many scalars)
_SCALAR_SHAPE_DTYPE: dict[type, tuple[tuple[int, ...], np.dtype[Any]]] = {
    np.dtype(code).type: ((), np.dtype(code)) for code in "?bBhHiIlLqQefdgFDG"
}
_SCALAR_SHAPE_DTYPE[float] = ((), _FLOAT64)


def _unchanged(recorded: Any, value: np.ndarray[Any, Any]) -> bool:
    """Whether a plain array still holds what its constant recorded (bit for bit: -0.0 and NaNs too)."""
    if recorded.shape != value.shape or recorded.dtype != value.dtype:
        return False
    size = value.dtype.itemsize
    if size not in (1, 2, 4, 8) or value.dtype.hasobject:
        return bool(recorded.tobytes() == value.tobytes())
    bits = np.dtype(f"u{size}")  # compared as unsigned integers of the same size: no copy of either array
    if value.size <= _COMPARED or not (recorded.flags.c_contiguous and value.flags.c_contiguous):
        return bool(np.array_equal(recorded.view(bits), value.view(bits)))
    # a large array in blocks that stay in cache, into one buffer: no array of a million booleans made
    first, second = recorded.reshape(-1).view(bits), value.reshape(-1).view(bits)
    same = np.empty(_COMPARED, np.bool_)
    for start in range(0, first.size, _COMPARED):
        stop = min(start + _COMPARED, first.size)
        if not np.equal(first[start:stop], second[start:stop], out=same[: stop - start]).all():
            return False
    return True


#: elements a large array is compared in, per block (``_unchanged``)
_COMPARED = 1 << 15


class Eqn:
    """One primitive call: ``out = prim(*inputs, **params)``."""

    __slots__ = ("prim", "inputs", "params", "out")

    def __init__(self, prim: Primitive, inputs: tuple[Atom, ...], params: dict[str, Any], out: Var) -> None:
        self.prim = prim
        self.inputs = inputs
        self.params = params
        self.out = out


class Guard:
    """A choice the recording made on a value: ``bool(var)`` was ``expected`` (kind ``"bool"``),
    ``var``'s shape was ``expected`` (kind ``"shape"``, after a data-dependent-shape primitive), or
    ``var`` itself was ``expected`` (kind ``"value"``, a count or size read with ``read_value``)."""

    def describe(self, name: str) -> str:
        """One listing line's worth: what the replay checks."""
        if self.kind == "bool":
            return f"guard {name} is {self.expected}"
        if self.kind == "shape":
            return f"guard shape {name} == {self.expected}"
        return f"guard value {name} == {np.array2string(np.asarray(self.expected), threshold=6)}"

    __slots__ = ("kind", "var", "expected")

    def __init__(self, kind: str, var: Var, expected: Any) -> None:
        self.kind = kind
        self.var = var
        self.expected = expected


Step = Eqn | Guard


class Program:
    """The primitive calls a function made on one set of arguments, in order.

    ``str(program)`` is a listing in the style of a jaxpr: one line per call,
    variables typed ``name:dtype[shape]``, static parameters in brackets,
    scalar constants inline and array constants as ``k``-variables listed
    before the inputs.  ``to_dot()`` is Graphviz text of the same graph.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> print(fg.make_program(lambda x: fnp.sin(x) * 2.0)(np.ones(3)))
    { lambda ; a:f64[3]. let
        b:f64[3] = sin a
        c:f64[3] = multiply b 2.0
      in (c,) }

    In a notebook or at the prompt the program shows as that listing:

    >>> fg.make_program(lambda x: x * x)(np.ones(2))
    { lambda ; a:f64[2]. let
        b:f64[2] = multiply a a
      in (b,) }

    ``inputs`` are the variables of the argument leaves, ``steps`` the
    equations and guards, ``outputs`` the result leaves (variables or
    constants), ``in_tree``/``out_tree`` the pytree structures.
    """

    def __init__(
        self,
        inputs: list[Var],
        steps: list[Step],
        outputs: list[Atom],
        in_tree: PyTreeDef,
        out_tree: PyTreeDef,
    ) -> None:
        self.inputs = inputs
        self.steps = steps
        self.outputs = outputs
        self.in_tree = in_tree
        self.out_tree = out_tree

    @property
    def eqns(self) -> list[Eqn]:
        """The primitive calls, without the guards."""
        return [step for step in self.steps if isinstance(step, Eqn)]

    @property
    def guards(self) -> list[Guard]:
        """The value-dependent choices the recording made, in order."""
        return [step for step in self.steps if isinstance(step, Guard)]

    def pruned(self) -> Program:
        """The same program without the calls that neither an output nor a guard needs."""
        live = {atom.id for atom in self.outputs if isinstance(atom, Var)}
        kept: list[Step] = []
        for step in reversed(self.steps):
            if isinstance(step, Guard):
                live.add(step.var.id)
            elif step.out.id in live:
                for atom in step.inputs:
                    if isinstance(atom, Var):
                        live.add(atom.id)
            else:
                continue
            kept.append(step)
        kept.reverse()
        return Program(self.inputs, kept, self.outputs, self.in_tree, self.out_tree)

    # --- showing it ------------------------------------------------------------------------
    def _names(self) -> tuple[dict[int, str], dict[int, str]]:
        """Letters for the variables in order of appearance; ``k0, k1, ...`` for the array constants."""
        names: dict[int, str] = {}
        letters = _letters()
        for var in self.inputs:
            names[var.id] = next(letters)
        consts: dict[int, str] = {}
        for step in self.steps:
            if isinstance(step, Eqn):
                for atom in step.inputs:
                    if isinstance(atom, Const) and not _inline(atom.value) and id(atom) not in consts:
                        consts[id(atom)] = f"k{len(consts)}"
                names[step.out.id] = next(letters)
        for atom in self.outputs:
            if isinstance(atom, Const) and not _inline(atom.value) and id(atom) not in consts:
                consts[id(atom)] = f"k{len(consts)}"
        return names, consts

    def _atom(self, atom: Atom, names: dict[int, str], consts: dict[int, str]) -> str:
        if isinstance(atom, Var):
            return names[atom.id]
        return consts.get(id(atom)) or _show_value(atom.value)

    def __str__(self) -> str:
        return "\n".join(self._lines(*self._names()))

    def _lines(self, names: dict[int, str], consts: dict[int, str]) -> list[str]:
        """The listing's lines (``__str__``), the variables and constants named by ``names`` and ``consts``."""
        const_atoms = _const_atoms(self)
        header_consts = " ".join(f"{consts[id(c)]}:{_type_of(c.value)}" for c in const_atoms if id(c) in consts)
        header_inputs = " ".join(f"{names[v.id]}:{_type(v)}" for v in self.inputs)
        lines = [f"{{ lambda {header_consts}; {header_inputs}. let"]
        for step in self.steps:
            if isinstance(step, Eqn):
                args = " ".join(self._atom(a, names, consts) for a in step.inputs)
                lines.append(
                    f"    {names[step.out.id]}:{_type(step.out)} = {step.prim.name}{_show_params(step.params)} {args}"
                )
            else:
                lines.append(f"    {step.describe(names[step.var.id])}")
        outs = ", ".join(self._atom(a, names, consts) for a in self.outputs)
        lines.append(f"  in ({outs}{',' if len(self.outputs) == 1 else ''}) }}")
        return lines

    def __repr__(self) -> str:
        """The listing (as a jaxpr shows itself), or a summary when it is longer than a screen."""
        if len(self.steps) <= 40:
            return str(self)
        return (
            f"<Program: {len(self.inputs)} input(s), {len(self.eqns)} call(s), {len(self.guards)} guard(s); "
            "print(program) for the listing>"
        )

    def to_dot(self, name: str = "program") -> str:
        """Graphviz (``dot``) text of the program: a node per value, a box per primitive call.

        Making the text needs nothing; drawing it needs Graphviz's ``dot``
        program (``apt install graphviz``, ``brew install graphviz`` or
        ``conda install graphviz``): ``dot -Tpng program.dot -o program.png``,
        or ``graphviz.Source(text)`` in a notebook (``pip install graphviz``).

        >>> import funcgrad as fg, numpy as np
        >>> dot = fg.make_program(lambda x: x * x)(np.ones(2)).to_dot()
        >>> print(dot.splitlines()[0])
        digraph program {
        >>> 'e0 [label="multiply"' in dot
        True
        """
        names, consts = self._names()
        lines = [f"digraph {name} {{", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
        for var in self.inputs:
            lines.append(
                f'  v{var.id} [label="{names[var.id]}:{_type(var)}", shape=ellipse, style=filled, fillcolor="#dbe9f6"];'
            )
        inline = 0
        for index, step in enumerate(self.steps):
            if isinstance(step, Guard):
                label = step.describe(names[step.var.id])
                lines.append(
                    f'  g{index} [label="{_escape(label)}", shape=diamond, style=filled, fillcolor="#fde2c4"];'
                )
                lines.append(f"  v{step.var.id} -> g{index};")
                continue
            label = step.prim.name + _show_params(step.params, limit=40)
            lines.append(
                f'  e{index} [label="{_escape(label)}", shape=box, style="rounded,filled", fillcolor="#eeeeee"];'
            )
            for atom in step.inputs:
                if isinstance(atom, Var):
                    lines.append(f"  v{atom.id} -> e{index};")
                else:
                    node = f"c{inline}"
                    inline += 1
                    text = consts.get(id(atom)) or _show_value(atom.value)
                    lines.append(f'  {node} [label="{_escape(text)}", shape=plaintext];')
                    lines.append(f"  {node} -> e{index};")
            out = step.out
            lines.append(f'  v{out.id} [label="{names[out.id]}:{_type(out)}", shape=ellipse];')
            lines.append(f"  e{index} -> v{out.id};")
        for position, atom in enumerate(self.outputs):
            lines.append(f'  out{position} [label="out {position}", shape=plaintext];')
            if isinstance(atom, Var):
                lines.append(f"  v{atom.id} -> out{position};")
        lines.append("}")
        return "\n".join(lines)


# --- the recording trace -------------------------------------------------------------------------


class RecordingTrace(Trace):
    """Computes every primitive call that reaches it and appends it to its program as an equation."""

    __slots__ = ("steps", "ids", "consts", "foreign", "who", "hold", "written")

    #: custom rules (custom_vjp, custom_jvp) run their function as is: recording takes no derivative
    differentiates: ClassVar[bool] = False

    def __init__(self, level: int, who: str, keep_references: bool = True) -> None:
        super().__init__(level)
        self.steps: list[Step] = []
        self.ids = itertools.count()
        #: one constant per array object used (the array is kept alive, so its ``id`` stays its own)
        self.consts: dict[int, tuple[Any, Const]] = {}
        #: a value traced by another (outer) transform was used: the program is not a function of its inputs alone
        self.foreign = False
        #: ``"jit"`` or ``"make_program"``, for error messages
        self.who = who
        #: the plain arrays kept by reference, read-only while recording; ``None``: they are copied (``snapshot``)
        self.hold: Hold | None = Hold() if keep_references else None
        #: ids of the arrays the function wrote into after a use (a recording keeping copies: ``unsnapshot``)
        self.written: set[int] = set()

    def new_input(self, value: Any) -> RecordingTracer:
        return RecordingTracer(value, self, Var(next(self.ids), value))

    def constant(self, value: Any) -> Any:
        if isinstance(value, Tracer):
            self.foreign = True
        return RecordingTracer(value, self, self.const(value))

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        # the hot path of recording: one call per primitive call (a long recording makes tens of thousands)
        values = []
        inputs: list[Atom] = []
        lower = False  # does some argument stay traced by an outer transform?
        for arg in args:
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    value = arg._value
                    inputs.append(arg._payload)
                    if isinstance(value, Tracer):
                        lower = True
                    values.append(value)
                    continue
                lower = self.foreign = True
            inputs.append(self.const(arg) if type(arg) is np.ndarray else Const(arg))
            values.append(arg)
        if lower:
            ans = prim(*values, **params)
        else:
            arithmetic = _SCALAR_OPERATORS.get(prim.impl) if len(values) == 2 and not params else None
            if arithmetic is not None and (type(values[0]), type(values[1])) in _FLOAT64_PAIRS:
                # NumPy's scalar math: the ufunc's bits, type, warnings and errors (a NumPy float64 is one of the
                # two: two Python floats would neither warn nor raise), without the ufunc machinery
                ans = arithmetic(*values)
            else:
                ans = prim.impl(*values, **params)
        out = Var(next(self.ids), ans)
        self.steps.append(Eqn(prim, tuple(inputs), params, out))
        if prim.data_dependent_shape:
            self.steps.append(Guard("shape", out, out.shape))
        return RecordingTracer(ans, self, out)

    def const(self, value: Any) -> Const:
        if type(value) is not np.ndarray:
            return Const(value)
        known = self.consts.get(id(value))
        hold = self.hold
        if hold is not None:
            # kept by reference and read-only until the recording ends: a write into it while the function runs
            # raises, and ``record`` records again keeping copies
            if known is None:
                known = self.consts[id(value)] = (value, Const(value, shared=hold.keep(value)))
            return known[1]
        if known is None or (mutable(value) and not _unchanged(known[1].value, value)):
            # new, or written in place since it was recorded (``c[0] = 5.0`` on a plain array): a new copy
            if known is not None:
                self.written.add(id(value))
            known = self.consts[id(value)] = (value, snapshot(value))
        return known[1]

    def unsnapshot(self) -> None:
        """After a recording that kept copies: each array the function did not write into while it ran (one
        copy, equal to the array at the end) is kept by reference after all, as a recording that held it would
        (``Const.shared``); a copy stays only where the function wrote into the array after a use."""
        for key, (value, const) in self.consts.items():
            if key in self.written or const.value is value:
                continue  # written while recording (each use keeps what it read), or never copied
            if _unchanged(const.value, value):
                const.value, const.shared = value, True
            else:
                self.written.add(key)  # written after its one use

    def bool_of(self, tracer: Tracer) -> bool:
        outcome = bool(tracer._value)  # through the levels below, when some trace them
        self.steps.append(Guard("bool", tracer._payload, outcome))
        return outcome

    def read_value(self, tracer: Tracer, why: str) -> Any:
        value = read_value(tracer._value, why)  # through the levels below, when some trace them
        self.steps.append(Guard("value", tracer._payload, np.array(value, copy=True)))
        return value

    def finish(self, inputs: list[Var], out: Any, in_tree: PyTreeDef) -> tuple[Program, list[Any]]:
        """The program whose outputs are the leaves of ``out``, and those leaves' values."""
        leaves, out_tree = tree_flatten(out)
        atoms: list[Atom] = []
        values = []
        for leaf in leaves:
            if isinstance(leaf, Tracer) and leaf._trace is self:
                atoms.append(leaf._payload)
                values.append(leaf._value)
            else:
                if isinstance(leaf, Tracer):
                    self.foreign = True
                atoms.append(self.const(leaf))
                values.append(leaf)
        return Program(inputs, list(self.steps), atoms, in_tree, out_tree), values


class RecordingTracer(ArrayTracer):
    """A value traced by ``jit`` or ``make_program``: reading it as a Python number is refused."""

    __slots__ = ()

    @property
    def _who(self) -> str:
        return self._trace.who  # type: ignore[attr-defined,no-any-return]

    def _concrete(self, what: str) -> TypeError:
        return _errors.concrete_under_recording(what, self._who)

    def __repr__(self) -> str:
        # the recording call's value would be stale on a replay: the description shows no value
        return f"Traced<{dtype(self._value)}{list(shape(self._value))} by {self._trace.who}>"  # type: ignore[attr-defined]

    def __float__(self) -> float:
        raise _errors.number_of_traced(self._concrete("float()"))

    def __int__(self) -> int:
        raise _errors.number_of_traced(self._concrete("int()"))

    def __complex__(self) -> complex:
        raise _errors.number_of_traced(self._concrete("complex()"))

    def __index__(self) -> int:
        raise _errors.concrete_under_recording("using as an index (__index__)", self._who)

    def item(self, *args: Any) -> Any:
        raise _errors.concrete_under_recording(".item()", self._who)

    def tolist(self) -> Any:
        raise _errors.concrete_under_recording(".tolist()", self._who)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        if dtype is not None and np.dtype(dtype).kind in "biu":
            return super().__array__(dtype, copy)  # an integer cast: a recorded cast and a value guard
        raise _errors.array_of_traced(
            "numpy.asarray() / numpy.array()", "would bake this call's number into a program that is replayed for other values"
        )


def record(
    fun: Callable[..., Any], leaves: Sequence[Any], in_tree: PyTreeDef, rebuild: Callable[[list[Any]], Any], who: str
) -> tuple[Program, list[Any], bool]:
    """Run ``fun`` on traced ``leaves``: its program, its output leaves' values, and whether the
    program depends on its inputs only (no value traced by an outer transform was used).

    ``rebuild(tracers)`` returns ``(args, kwargs)`` for ``fun``.
    """
    # a function that writes into a plain array after a traced call used it (a reused buffer), or hands one to
    # code that needs it writeable, is recorded again keeping a copy of each
    return held_or_copied(lambda copies: _record(fun, leaves, in_tree, rebuild, who, not copies))[0]


def _record(
    fun: Callable[..., Any],
    leaves: Sequence[Any],
    in_tree: PyTreeDef,
    rebuild: Callable[[list[Any]], Any],
    who: str,
    keep_references: bool,
) -> tuple[Program, list[Any], bool]:
    with new_level() as level:
        trace = RecordingTrace(level, who, keep_references)
        tracers = [trace.new_input(leaf) for leaf in leaves]
        inputs = [t._payload for t in tracers]  # before the function runs: it may write into its arguments
        args, kwargs = rebuild(tracers)
        try:
            out = fun(*args, **kwargs)
            program, values = trace.finish(inputs, out, in_tree)
        finally:
            trace.active = False
            if trace.hold is not None:
                trace.hold.release()
    if trace.hold is None:
        trace.unsnapshot()
    _settle_shared(trace.consts)
    return program, values, not trace.foreign


def _settle_shared(consts: dict[int, tuple[Any, Const]]) -> None:
    """Mark fixed each kept array that only the recording holds (a temporary the function made and dropped):
    nobody can write into it any more, so passes may read its values.  Counted by references: an array
    someone else still holds, or a view of memory someone else holds, stays shared.  The counts of an array
    only the recording holds are measured on a probe held the same way (they differ between Python
    versions: what the interpreter's own stack counts)."""
    ours, base_ours = _baseline()
    for entry in consts.values():
        const = entry[1]
        if const.shared:
            own, bases = _counts(const.value)
            if own <= ours and all(count <= base_ours for count in bases):
                const.shared = False


def _counts(value: np.ndarray[Any, Any]) -> tuple[int, list[int]]:
    """``value``'s reference count, and each base's down its chain (a base not an array counts as held): types and
    counts, no value is read."""
    bases = []
    base = value.base
    while base is not None:
        bases.append(sys.getrefcount(base) if type(base) is np.ndarray else sys.maxsize)
        base = base.base if type(base) is np.ndarray else None
    return sys.getrefcount(value), bases


def _baseline() -> tuple[int, int]:
    """The counts ``_counts`` gives for an array only a recording's consts hold, and for the base of a view
    only that view holds: measured once, on a probe held the way ``_settle_shared`` holds arrays."""
    global _BASELINE
    if _BASELINE is None:
        for entry in _probe_consts().values():
            const = entry[1]
            own, bases = _counts(const.value)
            _BASELINE = own, bases[0]
    assert _BASELINE is not None
    return _BASELINE


def _probe_consts() -> dict[int, tuple[Any, Const]]:
    view = np.empty(2)[:1]  # a view whose base nothing else holds
    return {id(view): (view, Const(view, shared=True))}


_BASELINE: tuple[int, int] | None = None


# --- text -------------------------------------------------------------------------------------------

_SHORT = {"f": "f", "c": "c", "i": "i", "u": "u"}


def _shape_dtype(value: Any) -> tuple[tuple[int, ...], np.dtype[Any] | None]:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.shape, value.dtype
    if isinstance(value, (bool, int, float, complex)):
        return (), np.result_type(value)
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and isinstance(dtype, np.dtype):
        return tuple(shape), dtype
    return (), None


def _short_dtype(dtype: np.dtype[Any]) -> str:
    if dtype.kind == "b":
        return "bool"
    if dtype.kind in _SHORT:
        return f"{_SHORT[dtype.kind]}{dtype.itemsize * 8}"
    return str(dtype)


def _type(var: Var) -> str:
    if var.dtype is None:
        return str(var.kind)
    return f"{_short_dtype(var.dtype)}[{','.join(map(str, var.shape))}]"


def _type_of(value: Any) -> str:
    shape, dtype = _shape_dtype(value)
    if dtype is None:
        return type(value).__name__
    return f"{_short_dtype(dtype)}[{','.join(map(str, shape))}]"


def _inline(value: Any) -> bool:
    """Shown in place (a number, ``None``), rather than as a named constant."""
    return not isinstance(value, np.ndarray) or value.ndim == 0


def _show_value(value: Any) -> str:
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        text = repr(value.item())
        return text if value.dtype in (np.float64, np.int64, np.bool_) else f"{text}:{_short_dtype(value.dtype)}"
    if isinstance(value, np.ndarray):
        return _type_of(value)
    if isinstance(value, Tracer):
        return "<traced by an outer transform>"
    text = repr(value)
    return text if len(text) <= 24 else f"<{type(value).__name__}>"


def _show_param(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{_type_of(value)}" if value.size > 6 else np.array2string(value, separator=",")
    if isinstance(value, tuple):
        return "(" + ",".join(_show_param(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, (slice, int, float, bool, str, type(None), np.generic)):
        return repr(value)
    if isinstance(value, np.dtype):
        return _short_dtype(value)
    if isinstance(value, type):
        return value.__name__
    return f"<{type(value).__name__}>"


def _show_params(params: dict[str, Any], limit: int = 0) -> str:
    if not params:
        return ""
    text = "[" + " ".join(f"{key}={_show_param(value)}" for key, value in params.items()) + "]"
    return text[: limit - 1] + "…]" if limit and len(text) > limit else text


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _letters() -> Any:
    """a, b, ..., z, ba, bb, ...: variable names in the order of a jaxpr."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for n in itertools.count():
        digits = ""
        while True:
            n, r = divmod(n, 26)
            digits = alphabet[r] + digits
            if n == 0:
                break
        yield digits


def _const_atoms(program: Program) -> list[Const]:
    seen: dict[int, Const] = {}
    for step in program.steps:
        if isinstance(step, Eqn):
            for atom in step.inputs:
                if isinstance(atom, Const):
                    seen.setdefault(id(atom), atom)
    for atom in program.outputs:
        if isinstance(atom, Const):
            seen.setdefault(id(atom), atom)
    return list(seen.values())
