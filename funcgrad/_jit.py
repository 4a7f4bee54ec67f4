"""``jit``: record a function's primitive calls once per input signature, then replay them as Python source.

The first call with a given signature (pytree structure, each leaf's type,
shape and dtype, the static arguments' values) runs the function eagerly on
traced values while recording a :class:`~funcgrad._program.Program`, and
does nothing more.  The program, without the calls no output or guard
needs and without those that return an input unchanged
(:mod:`funcgrad._simplify`), is interpreted on its first replays (a loop
over its calls), then becomes the source of one Python function, a line per
primitive call, calling each primitive's NumPy implementation directly:
later calls run that function, no tracer in sight.  Each guard (a ``bool()`` of a traced value, the output shape of a
data-dependent-shape primitive) is checked right after its value is
computed; a replay whose guard disagrees records the function again for
those inputs, and the new program hangs beside the first (a decision tree
per signature).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import keyword
import logging
import operator
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcgrad import _errors, _fuse
from funcgrad._loops import Loop, fold
from funcgrad._program import Atom, Const, Eqn, Guard, Program, Var, record
from funcgrad._rewrites import NonFinite, in_place, merge, python_floats, rewrite
from funcgrad._simplify import simplify
from funcgrad._trace import _DEPTH
from funcgrad.tree import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["jit", "make_program"]

#: signatures a jitted function keeps (least recently used dropped first)
CACHE_SIZE = 128
#: programs (branches of the guards' decision tree) kept per signature; past that, calls run eagerly
BRANCHES = 64

_NUMBER_TYPES = frozenset({bool, int, float, complex})
#: NumPy's scalar types (each is its own leaf signature)
_SCALAR_TYPES = frozenset(np.dtype(code).type for code in "?bBhHiIlLqQefdgFDG")


class GuardMiss(Exception):
    """Raised by a replay whose guard ``index`` disagrees with the recording."""

    def __init__(self, index: int) -> None:
        self.index = index


# --- arguments --------------------------------------------------------------------------------------


def check_callable(fun: Any, who: str) -> None:
    if not callable(fun):
        raise _errors.jit_not_a_function(who, fun)


def _leaf_signature(leaf: Any, where: str, who: str) -> Any:
    kind = type(leaf)
    if kind is np.ndarray:
        return (kind, leaf.shape, leaf.dtype)
    if kind in _NUMBER_TYPES or isinstance(leaf, np.generic):
        return kind
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is not None and isinstance(dtype, np.dtype):
        return (kind, tuple(shape), dtype)
    raise _errors.jit_untraceable_argument(who, where, leaf)


def _static_key(value: Any, where: str, who: str) -> Any:
    try:
        hash(value)
    except TypeError:
        raise _errors.jit_unhashable_static(who, where, value) from None
    return (type(value), value)


def split_static(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    static_argnums: tuple[int, ...],
    static_argnames: tuple[str, ...],
    who: str,
) -> tuple[list[Any], PyTreeDef, Callable[[list[Any]], tuple[tuple[Any, ...], dict[str, Any]]]]:
    """The traced leaves, their structure, and ``rebuild(leaves) -> (args, kwargs)`` putting the static
    arguments back in their places."""
    nums = {n % len(args) for n in static_argnums if -len(args) <= n < len(args)}
    dynamic = tuple(a for i, a in enumerate(args) if i not in nums)
    dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in static_argnames}
    leaves, in_tree = tree_flatten((dynamic, dynamic_kwargs))

    def rebuild(values: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        traced, traced_kwargs = tree_unflatten(in_tree, values)
        rest = iter(traced)
        full = tuple(args[i] if i in nums else next(rest) for i in range(len(args)))
        return full, {**kwargs, **traced_kwargs}

    return leaves, in_tree, rebuild


def _normalize_static(
    fun: Callable[..., Any], nums: int | Sequence[int], names: str | Sequence[str]
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Static positions and names, each completed from the other through ``fun``'s signature (as JAX)."""
    static_nums = (nums,) if isinstance(nums, int) else tuple(nums)
    static_names = (names,) if isinstance(names, str) else tuple(names)
    for n in static_nums:
        if isinstance(n, bool) or not isinstance(n, int):
            raise _errors.jit_static_spec("static_argnums", "ints", n)
    for name in static_names:
        if not isinstance(name, str):
            raise _errors.jit_static_spec("static_argnames", "strings", name)
    try:
        parameters = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return static_nums, static_names
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    extra_names = tuple(
        positional[n]
        for n in static_nums
        if 0 <= n < len(positional) and parameters[n].kind != parameters[n].POSITIONAL_ONLY
    )
    extra_nums = tuple(positional.index(name) for name in static_names if name in positional)
    return tuple(dict.fromkeys(static_nums + extra_nums)), tuple(dict.fromkeys(static_names + extra_names))


# --- replay as Python source ----------------------------------------------------------------------


def _literal(value: Any) -> bool:
    """A value whose ``repr`` is Python source for an equal value of the same type."""
    kind = type(value)
    if kind in (bool, int, str, type(None)):
        return True
    if kind is float:
        return bool(np.isfinite(value))
    if kind is tuple:
        return all(_literal(v) for v in value)
    return False


#: ufuncs replayed as Python operators: NumPy's scalar arithmetic gives the ufunc's bits for float32 and
#: float64, and skips the ufunc machinery (~50 ns rather than ~800 ns a scalar operation); negation flips
#: the sign bit either way (NaNs too)
_OPERATORS: dict[Any, str] = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}
_UNARY_OPERATORS: dict[Any, str] = {np.negative: "-"}
_OPERATOR_DTYPES = frozenset({np.dtype(np.float64), np.dtype(np.float32)})
#: the functions of those operators, for the interpreted replay
_OPERATOR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def _numpy_typed(item: Var | Const) -> bool:
    kind = item.type if isinstance(item, Var) else type(item.value)
    return kind is np.ndarray or kind in _SCALAR_TYPES or issubclass(kind, np.generic)


def _as_operator(eqn: Eqn) -> str | None:
    """The operator replaying ``eqn``, when it gives exactly the ufunc's result (and type)."""
    inputs = eqn.inputs
    count = len(inputs)
    symbol = _OPERATORS.get(eqn.prim.impl) if count == 2 else _UNARY_OPERATORS.get(eqn.prim.impl) if count == 1 else None
    if symbol is None or eqn.params:
        return None
    out = eqn.out
    if out.type is float:
        return symbol  # arithmetic on Python floats (funcgrad/_rewrites.py)
    if out.dtype not in _OPERATOR_DTYPES:
        return None
    for item in inputs:
        if _numpy_typed(item):
            return symbol
    return None  # Python numbers would give a Python number, the ufunc a NumPy scalar


def to_source(
    program: Program,
    name: str = "replay",
    loops: Sequence[Loop] = (),
    spell: Callable[[Eqn, list[str], dict[str, Any]], str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Python source of a function replaying ``program`` (one line per call) and returning the
    function's result (the output pytree), and the names the source uses.

    Each guard is checked right after its value is computed; a disagreeing
    guard raises ``GuardMiss(index)``.  Array constants handed back as
    outputs are copied, so a caller never holds the recording's own array.
    An intermediate array is deleted (``del``) right after its last use.
    Each of ``loops`` (:func:`funcgrad._loops.fold`'s runs of ``program``)
    is written once, as the body of a ``for`` loop making the same calls.
    ``spell(eqn, arguments, namespace)``, when given, writes every call's
    expression instead (numba's tier, :func:`funcgrad._fuse.scalar_replay`).
    """
    return _Source(program, loops, spell).write(name)


class _Source:
    """The writer of :func:`to_source`: names, constants and lines of one replay function."""

    def __init__(
        self,
        program: Program,
        loops: Sequence[Loop],
        spell: Callable[[Eqn, list[str], dict[str, Any]], str] | None = None,
    ) -> None:
        self.program = program
        self.spell = spell
        self.loops = sorted(loops, key=lambda loop: loop.start)
        self.namespace: dict[str, Any] = {"GuardMiss": GuardMiss, "array_equal": np.array_equal}
        self.impls: dict[int, str] = {}
        self.names: dict[int, str] = {}  # var id -> its name, or the expression reading it (``ys0_3_[5]``)
        self.consts: dict[int, str] = {}
        self.count = 0  # names given to values so far
        self.params_count = 0
        self.lines: list[str] = []
        guard_at = {id(g): i for i, g in enumerate(program.guards)}
        self.hoisted: dict[int, list[tuple[Guard, int]]] = {}  # var id -> guards on it, checked once it is computed
        for step in program.steps:
            if isinstance(step, Guard):
                self.hoisted.setdefault(step.var.id, []).append((step, guard_at[id(step)]))

    # --- names and expressions -------------------------------------------------------------------
    def fresh(self) -> str:
        letters = _letters(self.count)
        self.count += 1
        return letters + "_" if keyword.iskeyword(letters) or letters in self.namespace else letters

    def var_name(self, var: Var) -> str:
        if var.id not in self.names:
            self.names[var.id] = self.fresh()
        return self.names[var.id]

    def atom(self, item: Var | Const) -> str:
        if isinstance(item, Var):
            return self.names[item.id]
        if _literal(item.value):
            return repr(item.value)
        if id(item) not in self.consts:
            self.consts[id(item)] = f"k{len(self.consts)}_"
            self.namespace[self.consts[id(item)]] = item.value
        return self.consts[id(item)]

    def impl_name(self, eqn: Eqn) -> str:
        key = id(eqn.prim)
        if key not in self.impls:
            base = "".join(c if c.isalnum() else "_" for c in eqn.prim.name) + "_"
            name_ = base if base not in self.namespace else f"{base}{len(self.impls)}"
            self.impls[key] = name_
            self.namespace[name_] = eqn.prim.impl
        return self.impls[key]

    def call(self, eqn: Eqn, arguments: list[str]) -> str:
        """The expression computing ``eqn`` from its arguments' expressions."""
        if self.spell is not None:
            return self.spell(eqn, arguments, self.namespace)
        symbol = _as_operator(eqn)
        if symbol is not None:
            return f"{symbol}{arguments[0]}" if len(arguments) == 1 else f"{arguments[0]} {symbol} {arguments[1]}"
        arguments = list(arguments)
        for key, value in eqn.params.items():
            if _literal(value):
                arguments.append(f"{key}={value!r}")
            else:
                param = f"p{self.params_count}_"
                self.params_count += 1
                self.namespace[param] = value
                arguments.append(f"{key}={param}")
        return f"{self.impl_name(eqn)}({', '.join(arguments)})"

    def check(self, var: Var, name: str, indent: str = "    ", stride: str = "") -> None:
        """The lines checking the guards on ``var`` (just computed as ``name``); ``stride``: ``" + G * it"``
        in a loop's body, where the guard of iteration ``it`` is numbered that much after the first's."""
        for guard, index in self.hoisted.pop(var.id, ()):
            miss = f"raise GuardMiss({index}{stride})"
            if guard.kind == "bool":
                self.lines.append(f"{indent}if {'not ' if guard.expected else ''}{name}: {miss}")
            elif guard.kind == "shape":
                self.lines.append(f"{indent}if {name}.shape != {guard.expected!r}: {miss}")
            else:
                self.namespace[f"g{index}_"] = guard.expected
                self.lines.append(f"{indent}if not array_equal({name}, g{index}_): {miss}")

    # --- the function ----------------------------------------------------------------------------
    def write(self, name: str) -> tuple[str, dict[str, Any]]:
        program = self.program
        lines = self.lines
        lines.append(f"def {name}({', '.join(self.var_name(v) for v in program.inputs)}):")
        for var in program.inputs:
            self.check(var, self.names[var.id])
        plans = _loop_plans(program, self.loops)
        drops = _drops(program, self.loops, plans)
        steps = program.steps
        index = 0
        loop_at = {loop.start: number for number, loop in enumerate(self.loops)}
        while index < len(steps):
            number = loop_at.get(index)
            if number is not None:
                loop = self.loops[number]
                self.write_loop(number, loop, plans)
                index = loop.stop - 1  # the drops after a loop are keyed by its last step
            else:
                step = steps[index]
                if isinstance(step, Guard):
                    index += 1
                    continue
                out = self.var_name(step.out)
                lines.append(f"    {out} = {self.call(step, [self.atom(item) for item in step.inputs])}")
                self.check(step.out, out)
            dead = [self.names[item] for item in drops.get(index, ())]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
            index += 1
        outputs = []
        for item in program.outputs:
            text = self.atom(item)
            if isinstance(item, Const) and type(item.value) is np.ndarray:
                text += ".copy(order='K')"
            outputs.append(text)
        built = _tree_expression(program.out_tree, iter(outputs))
        if built is None:
            self.namespace["unflatten_"] = functools.partial(tree_unflatten, program.out_tree)
            built = f"unflatten_([{', '.join(outputs)}])"
        lines.append(f"    return {built}")
        return "\n".join(lines) + "\n", self.namespace

    def write_loop(self, number: int, loop: Loop, plans: list[_LoopPlan]) -> None:
        """``loop`` as a ``for`` statement: its body written once (the first iteration's calls)."""
        plan = plans[number]
        lines = self.lines
        counter = f"it{number}_"
        states: dict[tuple[int, str], str] = {}  # (position, initial expression) -> the carried value's name
        expressions: list[list[str]] = []
        sequences = 0
        for position, row in enumerate(loop.sites):
            texts = []
            for site in row:
                if site.kind == "carried":
                    assert site.atom is not None
                    key = (site.position, self.atom(site.atom))
                    if key not in states:
                        states[key] = f"st{number}_{len(states)}_"
                        lines.append(f"    {states[key]} = {key[1]}")
                    texts.append(states[key])
                elif site.kind == "invariant":
                    assert site.atom is not None
                    texts.append(self.atom(site.atom))
                elif site.kind == "sequence":
                    assert site.atoms is not None
                    source = plan.affine.get((position, len(texts)))
                    if source is not None:
                        kept, first, direction = source
                        sign = "+" if direction > 0 else "-"
                        first += kept.position in plans[kept.loop].prefixed
                        texts.append(f"{plans[kept.loop].stacks[kept.position]}[{first} {sign} {counter}]")
                        continue
                    sequence = f"sq{number}_{sequences}_"
                    sequences += 1
                    if all(isinstance(item, Const) for item in site.atoms):
                        self.namespace[sequence] = tuple(item.value for item in site.atoms)  # type: ignore[union-attr]
                    else:
                        lines.append(f"    {sequence} = ({', '.join(self.atom(item) for item in site.atoms)},)")
                    texts.append(f"{sequence}[{counter}]")
                else:
                    texts.append("")  # internal: named below, once its step is written
            expressions.append(texts)
        for position, stack in plan.stacks.items():
            initial = plan.prefixed.get(position)
            lines.append(f"    {stack} = [{'' if initial is None else self.atom(initial)}]")
        lines.append(f"    for {counter} in range({loop.count}):")
        body: dict[int, str] = {}
        stride = f" + {loop.guards_per_block} * {counter}"
        for position, step in enumerate(loop.body):
            if isinstance(step, Guard):
                continue
            arguments = [
                body[site.position] if site.kind == "internal" else text
                for site, text in zip(loop.sites[position], expressions[position])
            ]
            out = body[position] = self.fresh()
            lines.append(f"        {out} = {self.call(step, arguments)}")
            self.check(step.out, out, "        ", stride)
            dead = plan.dead.get(position)
            if dead:
                lines.append(f"        del {', '.join(body[p] for p in dead)}")
        for position, stack in plan.stacks.items():
            lines.append(f"        {stack}.append({body[position]})")
        for (position, _), state in states.items():
            lines.append(f"        {state} = {body[position]}")
        for var_id, (position, iteration) in loop.outside.items():
            if iteration == loop.count - 1:
                self.names[var_id] = body[position]
            else:
                self.names[var_id] = f"{plan.stacks[position]}[{iteration + (position in plan.prefixed)}]"


class _Stack(NamedTuple):
    loop: int
    position: int


class _LoopPlan:
    """What writing one loop needs decided beforehand: the positions whose values are kept in lists (read
    after the loop from other iterations than the last), the sequences read from such a list, and the
    values dropped in the body after their last use."""

    __slots__ = ("stacks", "prefixed", "affine", "dead")

    def __init__(self) -> None:
        self.stacks: dict[int, str] = {}  # position -> the list's name
        #: position -> the value it holds before the first iteration, kept first in its list (a sequence
        #: reads it: the backward pass reads each step's state as it was on entering the step)
        self.prefixed: dict[int, Atom] = {}
        #: (position, argnum) of a sequence site -> the list, the first iteration's index and +1 or -1
        self.affine: dict[tuple[int, int], tuple[_Stack, int, int]] = {}
        self.dead: dict[int, list[int]] = {}  # position -> positions dropped after it


def _loop_plans(program: Program, loops: Sequence[Loop]) -> list[_LoopPlan]:
    plans = [_LoopPlan() for _ in loops]
    where: dict[int, tuple[int, int, int]] = {}  # var id read after its loop -> (loop, position, iteration)
    for number, loop in enumerate(loops):
        for var_id, (position, iteration) in loop.outside.items():
            where[var_id] = (number, position, iteration)
            if iteration < loop.count - 1:
                plans[number].stacks.setdefault(position, f"ys{number}_{position}_")
    defined = {step.out.id: index for index, step in enumerate(program.steps) if isinstance(step, Eqn)}
    for number, loop in enumerate(loops):
        plan = plans[number]
        for position, row in enumerate(loop.sites):
            for argnum, site in enumerate(row):
                if site.kind == "sequence":
                    assert site.atoms is not None
                    affine = _affine(site.atoms, where, defined, loops, plans)
                    if affine is not None:
                        plan.affine[(position, argnum)] = affine
    for number, loop in enumerate(loops):
        plan = plans[number]
        kept = {site.position for row in loop.sites for site in row if site.kind == "carried"}
        kept.update(position for position, _ in loop.outside.values())
        kept.update(plan.stacks)
        last: dict[int, int] = {}
        for position, step in enumerate(loop.body):
            if isinstance(step, Guard):
                continue
            last[position] = position
            for site in loop.sites[position]:
                if site.kind == "internal":
                    last[site.position] = position
        for position, at in last.items():
            step = loop.body[position]
            if position not in kept and isinstance(step, Eqn) and step.out.shape:
                plan.dead.setdefault(at, []).append(position)
    return plans


def _affine(
    atoms: list[Atom],
    where: dict[int, tuple[int, int, int]],
    defined: dict[int, int],
    loops: Sequence[Loop],
    plans: list[_LoopPlan],
) -> tuple[_Stack, int, int] | None:
    """A sequence read as ``list[first + step * k]`` from an earlier loop's list of one position's values (each
    iteration's, in order or reversed), or ``None``.  One end may be a value from before that loop (the
    backward pass reads the forward pass's state on entering the first step): it is kept first in the list."""
    found = [where.get(item.id) if isinstance(item, Var) else None for item in atoms]
    if len(found) < 3 or found[1] is None:
        return None
    stack, position, middle = found[1]  # never an end: the one value from before the loop is at an end
    for step in (1, -1):
        first = middle - step
        extra = None
        for k, (item, place) in enumerate(zip(atoms, found)):
            iteration = first + step * k
            if place == (stack, position, iteration):
                continue
            if iteration != -1 or not isinstance(item, Var) or defined.get(item.id, -1) >= loops[stack].start:
                break  # not this list (an end from before the loop must be there when the list is made)
            extra = item
        else:
            earlier = plans[stack]
            if extra is not None and earlier.prefixed.setdefault(position, extra) is not extra:
                return None  # the list already starts with another value
            earlier.stacks.setdefault(position, f"ys{stack}_{position}_")
            return _Stack(stack, position), first, step
    return None


def _drops(program: Program, loops: Sequence[Loop], plans: list[_LoopPlan]) -> dict[int, list[int]]:
    """The names to drop after each step written outside a loop (a loop is keyed by its last step), as the
    ids of the variables they name: an intermediate array no later step, loop or output reads."""
    keep = {atom.id for atom in program.outputs if isinstance(atom, Var)} | {var.id for var in program.inputs}
    last: dict[int, tuple[int, Var]] = {}
    loop_at = {loop.start: loop for loop in loops}
    stacked: set[int] = set()  # values read back from a loop's list: not names of their own
    for loop in loops:
        for var_id, (_, iteration) in loop.outside.items():
            if iteration < loop.count - 1:
                stacked.add(var_id)
    index = 0
    steps = program.steps
    while index < len(steps):
        folded = loop_at.get(index)
        if folded is not None:
            loop = folded
            at = loop.stop - 1
            for row in loop.sites:
                for site in row:
                    for item in ([site.atom] if site.atom is not None else site.atoms or []):
                        if isinstance(item, Var):
                            last[item.id] = (at, item)
            for var_id in loop.outside:
                step = steps[loop.start + loop.outside[var_id][1] * loop.length + loop.outside[var_id][0]]
                assert isinstance(step, Eqn)
                last.setdefault(var_id, (at, step.out))
            index = loop.stop
            continue
        step = steps[index]
        if isinstance(step, Eqn):
            last[step.out.id] = (index, step.out)
            for item in step.inputs:
                if isinstance(item, Var):
                    last[item.id] = (index, item)
        index += 1
    drops: dict[int, list[int]] = {}
    for var_id, (at, var) in last.items():
        if var_id not in keep and var_id not in stacked and var.shape:
            drops.setdefault(at, []).append(var_id)
    return drops


def _tree_expression(treedef: PyTreeDef, leaves: Iterator[str]) -> str | None:
    """Python source building the pytree ``treedef`` from the leaves' expressions; ``None`` when it has a
    node a literal cannot build (a namedtuple, a registered type, a dict key that is no literal)."""
    if treedef.kind == "leaf":
        return next(leaves)
    if treedef.kind == "none":
        return "None"
    children = [_tree_expression(child, leaves) for child in treedef.children]
    if treedef.kind not in ("tuple", "list", "dict") or any(child is None for child in children):
        return None
    texts = [str(child) for child in children]
    if treedef.kind == "tuple":
        return f"({', '.join(texts)}{',' if len(texts) == 1 else ''})"
    if treedef.kind == "list":
        return f"[{', '.join(texts)}]"
    if not all(type(key) in (str, int) for key in treedef.aux):
        return None
    return "{" + ", ".join(f"{key!r}: {text}" for key, text in zip(treedef.aux, texts)) + "}"


def _last_uses(program: Program) -> dict[int, list[Var]]:
    """The intermediate arrays to drop after each call (by its position among the calls): those no later
    call reads and no output is.  Dropped at once, their buffers go back to the allocator while they are
    still in cache, as in the eager call, rather than all living until the replay returns."""
    keep = {atom.id for atom in program.outputs if isinstance(atom, Var)} | {var.id for var in program.inputs}
    last: dict[int, tuple[int, Var]] = {}
    for position, eqn in enumerate(program.eqns):
        last[eqn.out.id] = (position, eqn.out)
        for atom in eqn.inputs:
            if isinstance(atom, Var) and atom.id in last:
                last[atom.id] = (position, atom)
    freed: dict[int, list[Var]] = {}
    for var_id, (position, var) in last.items():
        if var_id not in keep and var.shape:  # a scalar costs nothing to keep, and a ``del`` line does
            freed.setdefault(position, []).append(var)
    return freed


def compile_program(
    program: Program, loops: bool = True, folded: Sequence[Loop] | None = None
) -> Callable[..., Any]:
    """The replay function of ``program`` (see :func:`to_source`), its repeated runs written as loops
    (:func:`funcgrad._loops.fold`, or ``folded`` when given: ``fold(program)`` computed earlier) unless
    ``loops`` is false."""
    found = (fold(program) if folded is None else folded) if loops else ()
    source, namespace = to_source(program, loops=found)
    code = compile(source, f"<funcgrad replay of {len(program.eqns)} calls>", "exec")
    # NumPy's warnings name the calling module: a replay's come from funcgrad, as the eager call's do
    namespace["__name__"] = __name__
    exec(code, namespace)
    replay: Callable[..., Any] = namespace["replay"]
    replay.__doc__ = source
    return replay


def interpret_program(program: Program) -> Callable[..., Any]:
    """A function replaying ``program`` by a loop over its calls, with the choices of :func:`to_source`.

    The same NumPy functions (or operators) are called on the same values in the same order as by the
    generated source, each guard is checked right after its value is computed, an intermediate array is
    dropped after its last use and array constants handed back are copied: the two give the same bits.
    Building it costs a pass over the program, no code generation and no ``compile``.
    """
    slots: dict[int, int] = {}  # a variable's id, or -1 - a constant's id(), -> its place in ``template``
    template: list[Any] = []

    def slot(item: Var | Const) -> int:
        key = item.id if isinstance(item, Var) else -1 - id(item)
        if key not in slots:
            slots[key] = len(template)
            template.append(None if isinstance(item, Var) else item.value)
        return slots[key]

    checks: dict[int, list[tuple[str, Any, int]]] = {}
    eqns: list[Eqn] = []
    for k, step in enumerate(program.steps):
        if isinstance(step, Guard):  # the guard's number: how many came before it
            checks.setdefault(step.var.id, []).append((step.kind, step.expected, k - len(eqns)))
        else:
            eqns.append(step)
    inputs = [slot(var) for var in program.inputs]
    first_checks = [(slots[var.id], checks.pop(var.id)) for var in program.inputs if var.id in checks]
    # a var's last reader (by its position among the calls), for the intermediate arrays, dropped after it:
    # those no later call reads and no output is (a scalar costs nothing to keep, and dropping it does)
    kept = {atom.id for atom in program.outputs if isinstance(atom, Var)} | {var.id for var in program.inputs}
    last: dict[int, int] = {}
    # one entry a call: [arity, function, first, second, arguments, params, out, after]; a call of one or two
    # operands and no parameters reads them directly (arity 1, 2), others (arity 0) unpack ``arguments``
    # and ``params``; ``after`` is None or (guards to check, slots to drop)
    plan: list[list[Any]] = []
    for position, eqn in enumerate(eqns):
        arguments = []
        for item in eqn.inputs:
            if type(item) is Var:
                index = slots.get(item.id)
                if index is None:
                    index = slot(item)
                if item.shape and item.id in last:
                    last[item.id] = position
            else:
                index = slots.get(-1 - id(item))
                if index is None:
                    index = slot(item)
            arguments.append(index)
        symbol = _as_operator(eqn)
        if symbol is None:
            function = eqn.prim.impl
        else:
            function = operator.neg if len(arguments) == 1 else _OPERATOR_FUNCTIONS[symbol]
        var = eqn.out
        out = slots[var.id] = len(template)
        template.append(None)
        if var.shape and var.id not in kept:
            last[var.id] = position
        guards = checks.pop(var.id, None)
        arity = len(arguments) if len(arguments) <= 2 and not eqn.params else 0
        first, second = (arguments + [0, 0])[:2]
        plan.append([arity, function, first, second, arguments, eqn.params, out, None if guards is None else (guards, [])])
    for var_id, position in last.items():
        entry = plan[position]
        if entry[7] is None:
            entry[7] = (None, [])
        entry[7][1].append(slots[var_id])
    outputs = [(slot(item), isinstance(item, Const) and type(item.value) is np.ndarray) for item in program.outputs]
    out_tree = program.out_tree

    def replay(*leaves: Any) -> Any:
        env = template[:]
        for index, leaf in zip(inputs, leaves):
            env[index] = leaf
        for index, guards in first_checks:
            _check_guards(env[index], guards)
        for arity, function, first, second, arguments, params, out, after in plan:
            if arity == 2:
                value = env[out] = function(env[first], env[second])
            elif arity == 1:
                value = env[out] = function(env[first])
            else:
                value = env[out] = function(*[env[i] for i in arguments], **params)
            if after is not None:
                guards, dead = after
                if guards is not None:
                    _check_guards(value, guards)
                for index in dead:
                    env[index] = None
        return tree_unflatten(out_tree, [env[i].copy(order="K") if copy else env[i] for i, copy in outputs])

    return replay


def _check_guards(value: Any, guards: list[tuple[str, Any, int]]) -> None:
    """Raise ``GuardMiss`` for the first of ``guards`` that ``value`` disagrees with (as the generated source)."""
    for kind, expected, index in guards:
        if kind == "bool":
            if (not value) if expected else value:
                raise GuardMiss(index)
        elif kind == "shape":
            if value.shape != expected:
                raise GuardMiss(index)
        elif not np.array_equal(value, expected):
            raise GuardMiss(index)


def _letters(n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    digits = ""
    while True:
        n, r = divmod(n, 26)
        digits = alphabet[r] + digits
        if n == 0:
            return digits


# --- the cache ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused (and resumed after, if it ran before).

    A recording or a pass over it makes hundreds of thousands of small objects that all stay alive, so
    each collection the allocations trigger walks all of them, for nothing: that was half the time of
    recording, preparing and compiling a 37,000-call program.  Cycles made meanwhile are collected
    once the collector runs again.

    When more than ``PROMOTED`` objects were made meanwhile (a long recording and its program, which the
    cache keeps), every object of the young generations is moved to the oldest one unwalked
    (``gc.freeze()`` then ``gc.unfreeze()``), rather than walked by the young collection that the next
    allocation would start: 25-35 ms after a 37,000-call recording, a sixth of it, and nothing found.
    Full collections walk them as before, and collect any cycle among them.  Not done while the
    process has frozen objects of its own (``gc.get_freeze_count()``), which ``unfreeze`` would thaw.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] > PROMOTED and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


#: objects made while the collector is paused past which they are moved to the oldest generation unwalked
PROMOTED = 20_000



def prepare(program: Program) -> Program:
    """What a replay runs of a recording, on NumPy's scalars: without the calls nothing needs, those that
    return an input unchanged (:mod:`funcgrad._simplify`) and exact duplicates, uniform constants read as
    scalars, accumulations in place (:mod:`funcgrad._rewrites`).  A replay runs its float64 scalar
    arithmetic on Python floats (``python_floats``) when NumPy's error handling allows, see
    :func:`replays`."""
    return rewrite(simplify(program.pruned()))


try:  # NumPy 2: the floating-point error state is a context variable; the same object while unchanged
    from numpy._core._ufunc_config import _extobj_contextvar as _ERRSTATE  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover  (NumPy 1.x: read np.geterr() on each replay)
    _ERRSTATE = None
_VERDICT: tuple[Any, bool] = (object(), False)  # (the error state last looked at, whether floats may run)


def floats_allowed() -> bool:
    """Whether NumPy's floating-point error handling lets a replay run arithmetic on Python floats.

    Python's float arithmetic sets no flag NumPy sees: an overflow or an invalid operation shows as an
    infinite or NaN value leaving the floats, which a replay answers by running on NumPy's scalars instead
    (``NonFinite``), so ``"warn"`` and ``"ignore"`` are kept; ``"raise"``, ``"call"``, ``"print"`` or
    ``"log"`` for those, or any handling of underflow (it leaves no such trace), runs on NumPy's scalars
    from the start.
    """
    global _VERDICT
    state = _ERRSTATE.get() if _ERRSTATE is not None else None
    verdict = _VERDICT
    if state is not None and verdict[0] is state:
        return verdict[1]
    modes = np.geterr()
    allowed = modes["under"] == "ignore" and all(modes[k] in ("warn", "ignore") for k in ("divide", "over", "invalid"))
    _VERDICT = (state, allowed)
    return allowed


#: replays of a recording run by :func:`interpret_program` before its source is generated and compiled
INTERPRETED_REPLAYS = 2
#: a recording of more steps than this is prepared in stages, one per replay (see ``_Branch``)
STAGED_STEPS = 5000
#: a recording longer than this (seconds) is reported once per jitted function (a log line)
LONG_RECORDING = 1.0
#: numba's exact tier: a branch's compiled replays are timed, and numba's compile starts once they have taken
#: this many times the compile's expected seconds together (``_Branch._exact_tier``)
NUMBA_BUDGET = 1.0
_clock = time.perf_counter  # the timer of the replays (tests replace it)

logger = logging.getLogger("funcgrad.jit")
_TIERS = threading.Lock()  # a branch changes tier once or twice in its life: one lock for all of them


class _Branch:
    """One recording of a signature: its program, its replay, and the branches recorded where its guards missed.

    Tiered: the recording is kept as it was made (the first call pays for recording only); the first
    replay prepares it (:func:`prepare`, then ``python_floats``) and interprets it, as do the next
    ``INTERPRETED_REPLAYS - 1``; the one after generates and compiles its source, which every later
    replay runs.  A program with arithmetic on Python floats keeps its NumPy-scalar version beside it
    (``fallback``, tiered alike), which runs when NumPy's error handling asks for it or a value leaving
    the floats is not finite.

    A recording of more than ``STAGED_STEPS`` steps is prepared in stages instead, one a replay, so
    that no call pays for all of them: the first replay prunes the recording and interprets it as it is
    (NumPy's scalars, the recorded calls), the next ones simplify it, merge duplicates, write into dying
    arrays (:func:`prepare`'s passes), put its scalar arithmetic on Python floats, interpret the prepared
    program from then on, fold its loops and generate and compile its source (not before replay
    ``INTERPRETED_REPLAYS + 1``).  ``stages`` lists
    the stages done, by name, in order.
    """

    __slots__ = (
        "program", "replay", "branches", "replays", "tier", "interpreted", "fallback", "fuse", "stages", "pending",
        "numba", "spent", "budget", "compiling",
    )  # fmt: skip

    def __init__(self, program: Program, prepared: bool = False, fuse: bool = False) -> None:
        self.program = program
        #: the compiled tier fuses elementwise arithmetic (``jit(..., fuse=True)``, :mod:`funcgrad._fuse`)
        self.fuse = fuse
        #: ``"recorded"`` (not replayed yet), ``"prepared"``, ``"interpreted"`` or ``"compiled"``
        self.tier = "prepared" if prepared else "recorded"
        self.replays = 0
        self.replay: Callable[..., Any] = self._interpret
        self.interpreted: Callable[..., Any] = self._interpret
        self.branches: dict[int, _Branch] = {}
        self.fallback: _Branch | None = None
        #: the stages of preparation done so far, by name (one per replay for a long recording)
        self.stages: list[str] = []
        #: the stages still to do, when prepared in stages: (name, work)
        self.pending: list[tuple[str, Callable[[], None]]] | None = None
        #: numba's exact tier (see ``_exact_tier``): ``None`` (not a candidate), ``"waiting"`` (the compiled
        #: replays are timed), ``"compiling"`` (in a background thread), ``"numba"`` (swapped in) or ``"python"``
        #: (numba did not compile it: the Python tier stays)
        self.numba: str | None = None
        self.spent = 0.0  # seconds the timed replays took together
        self.budget = 0.0  # ... when numba's compile starts
        self.compiling: threading.Thread | None = None

    def _prepare(self) -> None:
        on_numpy = prepare(self.program)
        self._on_floats(on_numpy)

    def _on_floats(self, on_numpy: Program) -> None:
        self.program = python_floats(on_numpy)
        if self.program is not on_numpy:
            self.fallback = _Branch(on_numpy, prepared=True, fuse=self.fuse)
        self.tier = "prepared"

    def _interpret(self, *leaves: Any) -> Any:
        with _TIERS, gc_paused():
            self.replays += 1
            if self.pending is None and len(self.program.steps) > STAGED_STEPS and self.tier != "compiled":
                self.pending = self._staged()
            if self.pending is not None:
                self._stage()
            else:
                if self.tier == "recorded":
                    self._prepare()
                    self.stages.append("prepared")
                if self.replays > INTERPRETED_REPLAYS:
                    if self.tier != "compiled":
                        self.replay = self.with_fallback(self._compiled())
                        self.tier = "compiled"
                        self.stages.append("compiled")
                elif self.tier == "prepared":
                    self.interpreted = self.with_fallback(interpret_program(self.program))
                    self.tier = "interpreted"
                    self.stages.append("interpreted")
            replay = self.replay if self.tier == "compiled" else self.interpreted
        return replay(*leaves)

    def _stage(self) -> None:
        """Do the next stage of preparation (the compiling one waits for replay ``INTERPRETED_REPLAYS + 1``)."""
        pending = self.pending
        assert pending is not None
        if pending and (pending[0][0] != "compiled" or self.replays > INTERPRETED_REPLAYS):
            name, work = pending.pop(0)
            work()
            self.stages.append(name)

    def _staged(self) -> list[tuple[str, Callable[[], None]]]:
        """The stages preparing this branch's program, in order (see the class's text)."""
        program = self.program
        held: list[Program] = [program]  # the program as far as the stages have taken it
        folded: list[Sequence[Loop]] = []

        def interpret_recording() -> None:
            held[0] = held[0].pruned()
            self.interpreted = interpret_program(held[0])  # the recorded calls on NumPy's scalars: no fallback
            self.tier = "interpreted"

        def simplified() -> None:
            held[0] = simplify(held[0])

        def merged() -> None:
            held[0] = merge(held[0])

        def written_in_place() -> None:
            held[0] = in_place(held[0])

        def on_floats() -> None:
            self._on_floats(held[0])

        def interpret_prepared() -> None:
            self.interpreted = self.with_fallback(interpret_program(self.program))
            self.tier = "interpreted"

        def fold_loops() -> None:
            held[0] = _fuse.fuse(self.program) if self.fuse else self.program
            folded.append(fold(held[0]))

        def compiled() -> None:
            self.replay = self.with_fallback(self._compiled(held[0], folded[0]))
            self.tier = "compiled"

        stages: list[tuple[str, Callable[[], None]]] = []
        if self.tier == "recorded":
            stages += [
                ("interpreted", interpret_recording),
                ("simplified", simplified),
                ("merged", merged),
                ("in place", written_in_place),
                ("on floats", on_floats),
            ]
        stages += [("interpreted", interpret_prepared), ("folded", fold_loops), ("compiled", compiled)]
        return stages

    def _compiled(self, fused: Program | None = None, folded: Sequence[Loop] | None = None) -> Callable[..., Any]:
        """The compiled replay: generated Python source (of ``fused``, the program with its elementwise runs
        fused when ``fuse``, and its loops ``folded``, when an earlier stage made them); with ``fuse``, numba's
        replay of the whole program instead when it runs on Python floats and numba compiles it
        (:func:`funcgrad._fuse.scalar_replay`)."""
        if self.fuse and self.fallback is not None:
            whole = _fuse.scalar_replay(self.program, to_source, folded if fused is self.program else None)
            if whole is not None:
                return whole
        if fused is None:
            fused = _fuse.fuse(self.program) if self.fuse else self.program
        if self.fuse or not _fuse.installed():
            return compile_program(fused, folded=folded)
        if folded is None:
            folded = fold(fused)
        python = compile_program(fused, folded=folded)
        if self.fallback is None:  # a program on NumPy's values: its elementwise runs fused, exactly
            kernels = len(_fuse.groups(fused))
            if not kernels:
                return python
            program = fused

            def fused_exactly() -> Callable[..., Any]:
                exact = _fuse.fuse(program, exact=True)
                _fuse.exact_kernels(exact)
                return compile_program(exact, folded=fold(exact))

            return self._exact_tier(python, _fuse.kernels_estimate(kernels), fused_exactly)
        if not _fuse.exact(fused, folded):
            return python
        program, loops = fused, folded
        return self._exact_tier(
            python,
            _fuse.compile_estimate(program, loops),
            lambda: _fuse.scalar_replay(program, to_source, loops, exact=True),
        )

    def _exact_tier(
        self, python: Callable[..., Any], estimate: float, build: Callable[[], Callable[..., Any] | None]
    ) -> Callable[..., Any]:
        """``python`` (the compiled replay of a program numba replays with NumPy's bits: a scalar program
        whole, or an array program's elementwise runs fused exactly), timed: once the replays have taken as
        long as numba's compile is expected to (``NUMBA_BUDGET`` times ``estimate`` seconds), numba compiles
        (``build``) in a background thread while ``python`` keeps replaying, and the branch's replay becomes
        numba's when it is ready (or stays ``python``, untimed, where numba does not compile it)."""
        self.numba = "waiting"
        self.budget = NUMBA_BUDGET * estimate

        def timed(*leaves: Any) -> Any:
            start = _clock()
            try:
                return python(*leaves)
            finally:
                self.spent += _clock() - start
                if self.spent >= self.budget and self.numba == "waiting":
                    self._start_numba(python, build)

        timed.__doc__ = python.__doc__
        return timed

    def _start_numba(self, python: Callable[..., Any], build: Callable[[], Callable[..., Any] | None]) -> None:
        with _TIERS:
            if self.numba != "waiting":
                return  # (another thread started it)
            self.numba = "compiling"
            # not a daemon: the interpreter waits for the compile at exit rather than stopping numba in its middle
            self.compiling = threading.Thread(
                target=self._numba_compile, args=(python, build), name="funcgrad.jit numba compile"
            )
            self.compiling.start()

    def _numba_compile(self, python: Callable[..., Any], build: Callable[[], Callable[..., Any] | None]) -> None:
        try:
            whole = build()
        except Exception:  # noqa: BLE001 - any failure of numba's (an import, a compile) leaves the Python tier
            whole = None
        # one assignment each: a concurrent call runs the one replay or the other, both giving the eager bits
        if whole is None:
            self.replay = self.with_fallback(python)
            self.numba = "python"
        else:
            self.replay = self.with_fallback(whole)
            self.numba = "numba"

    def wait(self, timeout: float | None = None) -> None:
        """Wait for numba's compile of this branch and of its guard branches, when started (tests, benchmarks)."""
        thread = self.compiling
        if thread is not None:
            thread.join(timeout)
        for branch in list(self.branches.values()):
            branch.wait(timeout)

    def with_fallback(self, replay: Callable[..., Any]) -> Callable[..., Any]:
        """``replay``, running the NumPy-scalar version instead where Python floats may not give NumPy's
        warnings (see :func:`floats_allowed`)."""
        fallback = self.fallback
        if fallback is None:
            return replay

        def on_floats(*leaves: Any) -> Any:
            if floats_allowed():
                try:
                    return replay(*leaves)
                except NonFinite:
                    pass
            return fallback.replay(*leaves)

        on_floats.__doc__ = replay.__doc__  # the generated source, as a compiled replay keeps it
        return on_floats

    def count(self) -> int:
        return 1 + sum(branch.count() for branch in self.branches.values())


def replays(program: Program) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The interpreted and the compiled replay of a recorded ``program``, each as a cached branch runs it
    (prepared, on Python floats where they give the same bits and warnings, NumPy's scalars otherwise)."""
    branch = _Branch(program)
    branch._prepare()
    return branch.with_fallback(interpret_program(branch.program)), branch.with_fallback(compile_program(branch.program))


_PLAIN = object()  # heads a signature taken by _plain_signature, so it never equals one of Jitted._signature


def _plain_signature(
    args: tuple[Any, ...], kwargs: dict[str, Any], static_argnums: tuple[int, ...], static_argnames: tuple[str, ...]
) -> tuple[tuple[Any, ...], list[Any]] | None:
    """The cache key and leaves of arguments made of tuples, lists and str-keyed dicts of arrays and numbers,
    and hashable static arguments (the common case, walked without building a ``PyTreeDef``); ``None`` for
    anything else.

    The key holds the number of arguments, then, depth first, each container's type and length (a dict's
    sorted keys), each leaf's shape and dtype (an ndarray) or type (a number), each static argument's type
    and value, then the keyword names: it determines the structure, every leaf's signature and the static
    values, as ``Jitted._signature``'s key does, and the leaves come in ``split_static``'s order.
    """
    nargs = len(args)
    key: list[Any] = [_PLAIN, nargs]
    leaves: list[Any] = []
    if static_argnums:
        static = {n % nargs for n in static_argnums if -nargs <= n < nargs}
        for position, arg in enumerate(args):
            if not (_static_token(arg, key) if position in static else _walk(arg, key, leaves)):
                return None
    else:
        for arg in args:
            if not _walk(arg, key, leaves):
                return None
    if kwargs:
        names = tuple(sorted(kwargs))
        key.append(names)
        for name in names:
            value = kwargs[name]
            if not (_static_token(value, key) if name in static_argnames else _walk(value, key, leaves)):
                return None
    return tuple(key), leaves


def _static_token(value: Any, key: list[Any]) -> bool:
    try:
        hash(value)
    except TypeError:
        return False  # the general signature raises the error that names it
    key.append((_PLAIN, type(value), value))
    return True


def _walk(node: Any, key: list[Any], leaves: list[Any]) -> bool:
    kind = type(node)
    if kind is np.ndarray:
        key.append(node.shape)
        key.append(node.dtype)
    elif kind in _NUMBER_TYPES or kind in _SCALAR_TYPES:
        key.append(kind)
    elif kind is tuple or kind is list:
        key.append(kind)
        key.append(len(node))
        for child in node:
            if not _walk(child, key, leaves):
                return False
        return True
    elif kind is dict and all(type(name) is str for name in node):
        names = sorted(node)
        key.append(kind)
        key.append(tuple(names))
        for name in names:
            if not _walk(node[name], key, leaves):
                return False
        return True
    else:
        return False
    leaves.append(node)
    return True


class Jitted:
    """A jitted function (what :func:`jit` returns): call it like ``fun``.

    ``clear_cache()`` forgets every recording; ``_cache_size()`` is the
    number of programs recorded (one per signature, plus one per branch
    recorded where a guard disagreed).
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        static_argnums: tuple[int, ...],
        static_argnames: tuple[str, ...],
        fuse: bool = False,
    ) -> None:
        # first: update_wrapper copies fun's __dict__, which for grad(jit(f)) holds the inner Jitted's own fields
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums = static_argnums
        self.static_argnames = static_argnames
        self._cache: OrderedDict[Any, _Branch] = OrderedDict()
        self._lock = threading.Lock()
        #: how many signatures are kept (least recently used dropped first)
        self.cache_limit = CACHE_SIZE
        self._said_long = False  # a long recording was reported (once per jitted function)
        self.fuse = fuse

    def __repr__(self) -> str:
        return f"<funcgrad.jit of {getattr(self.fun, '__qualname__', self.fun)!r}>"

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self if instance is None else functools.partial(self, instance)

    def clear_cache(self) -> None:
        """Forget every recording (the next call records again)."""
        with self._lock:
            self._cache.clear()

    def _cache_size(self) -> int:
        """How many programs are recorded: one per signature, plus one per guard branch."""
        with self._lock:
            return sum(branch.count() for branch in self._cache.values())

    def _signature(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, list[Any], PyTreeDef, Any]:
        leaves, in_tree, rebuild = split_static(args, kwargs, self.static_argnums, self.static_argnames, "jit")
        nargs = len(args)
        statics = []
        for n in self.static_argnums:
            if -nargs <= n < nargs:
                statics.append(_static_key(args[n], f"argument {n % nargs}", "jit"))
        for name in self.static_argnames:
            if name in kwargs:
                statics.append((name, _static_key(kwargs[name], f"argument {name!r}", "jit")))
        signature = tuple(_leaf_signature(leaf, f"leaf {i} of the arguments", "jit") for i, leaf in enumerate(leaves))
        return (nargs, in_tree, tuple(statics), signature), leaves, in_tree, rebuild

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _DEPTH.get():
            return self.fun(*args, **kwargs)  # under another transform: it traces through the function itself
        fast = _plain_signature(args, kwargs, self.static_argnums, self.static_argnames)
        if fast is None:
            key, leaves, in_tree, rebuild = self._signature(args, kwargs)
        else:
            (key, leaves), in_tree, rebuild = fast, None, None
        with self._lock:
            branch = self._cache.get(key)
            if branch is not None:
                self._cache.move_to_end(key)
        parent, index = None, 0
        while branch is not None:
            try:
                return branch.replay(*leaves)
            except GuardMiss as miss:
                parent, index = branch, miss.index
                branch = branch.branches.get(miss.index)
        if in_tree is None:
            _, leaves, in_tree, rebuild = self._signature(args, kwargs)
        return self._record(key, parent, index, leaves, in_tree, rebuild)

    def _record(
        self, key: Any, parent: _Branch | None, index: int, leaves: list[Any], in_tree: PyTreeDef, rebuild: Any
    ) -> Any:
        start = time.perf_counter()
        with gc_paused():
            program, values, pure = record(self.fun, leaves, in_tree, rebuild, "jit")
        seconds = time.perf_counter() - start
        if pure:
            with self._lock:
                if parent is None:
                    self._cache[key] = _Branch(program, fuse=self.fuse)
                    while len(self._cache) > self.cache_limit:
                        self._cache.popitem(last=False)
                elif self._cache.get(key) is not None and self._cache[key].count() < BRANCHES:
                    parent.branches[index] = _Branch(program, fuse=self.fuse)
        if seconds > LONG_RECORDING and not self._said_long:
            self._said_long = True
            logger.warning(
                "funcgrad.jit: recording %s took %.1f s (%d primitive calls). Later calls with the same argument "
                "shapes, dtypes and static values replay it (interpreted at first, then as generated Python "
                "source); a new signature records again. Each jitted function keeps %d signatures "
                "(cache_limit; clear_cache() forgets them). Said once per jitted function.",
                getattr(self.fun, "__qualname__", repr(self.fun)),
                seconds,
                len(program.steps),
                self.cache_limit,
            )
        return tree_unflatten(program.out_tree, values)


def jit(
    fun: Callable[..., Any],
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    fuse: bool = False,
) -> Jitted:
    """``fun``, recorded once per input signature and replayed as plain NumPy calls afterwards.

    >>> import funcgrad as fg, numpy as np
    >>> calls = []
    >>> @fg.jit
    ... def f(x):
    ...     calls.append(1)  # a Python side effect: runs while recording only
    ...     return np.sin(x) * 2.0
    >>> f(np.ones(3))
    array([1.68294197, 1.68294197, 1.68294197])
    >>> f(np.zeros(3)), len(calls), f._cache_size()
    (array([0., 0., 0.]), 1, 1)

    The signature is the arguments' pytree structure, each leaf's type,
    shape and dtype, and the values of the static arguments
    (``static_argnums`` / ``static_argnames``, which must be hashable).
    Python control flow on traced values is allowed: each ``bool()`` is a
    guard, and a call whose guard disagrees records that branch too.  Under
    another transform (``grad(jit(f))``, ``vmap(jit(f))``) the function runs
    as it is, traced by that transform.  Raises ``TypeError`` for
    ``float()``/``int()``/``.item()`` of a traced value (make it static), an
    unhashable static argument, or an argument that is not an array or
    number.

    ``fuse=True`` (opt-in; needs numba, ``pip install funcgrad[fuse]``,
    else ``ImportError``): from the compiled tier on, runs of float
    ``+ - * /``, negation and squaring between the other NumPy calls are
    each one compiled loop over the elements (:mod:`funcgrad._fuse`):
    within a few ulps of the eager call, where ``jit`` is otherwise bit for
    bit (docs/programs.md, "Fusion").
    """
    check_callable(fun, "jit")
    if fuse:
        _fuse.require()
    nums, names = _normalize_static(fun, static_argnums, static_argnames)
    return Jitted(fun, nums, names, bool(fuse))


def make_program(fun: Callable[..., Any], *, static_argnums: int | Sequence[int] = ()) -> Callable[..., Program]:
    """A function returning the :class:`Program` of the primitive calls ``fun`` makes on its arguments.

    >>> import funcgrad as fg, numpy as np
    >>> f = lambda x: 2 * np.dot(x, x)
    >>> print(fg.make_program(f)(np.arange(3.0)))
    { lambda ; a:f64[3]. let
        b:f64[] = matmul a a
        c:f64[] = multiply 2 b
      in (c,) }

    Works on any composition: ``make_program(fg.grad(f))`` lists the
    forward and the backward pass (the seed's ``2 * 1.0`` is computed while
    recording, so it shows as the constant ``2.0``):

    >>> print(fg.make_program(fg.grad(f))(np.arange(3.0)))
    { lambda ; a:f64[3]. let
        b:f64[] = matmul a a
        c:f64[] = multiply 2 b
        d:f64[3] = multiply 2.0 a
        e:f64[3] = multiply 2.0 a
        f:f64[3] = add d e
      in (f,) }

    Arguments in ``static_argnums`` are
    passed as they are (not traced).  Raises ``TypeError`` when ``fun`` reads
    a traced value as a Python number (``float(x)``): make it static.
    """
    check_callable(fun, "make_program")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def program_of(*args: Any, **kwargs: Any) -> Program:
        leaves, in_tree, rebuild = split_static(args, kwargs, static, (), "make_program")
        return record(fun, leaves, in_tree, rebuild, "make_program")[0]

    return program_of
