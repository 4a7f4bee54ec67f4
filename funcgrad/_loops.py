"""Loop folding: the repeated block a Python loop leaves in a recording, found and described as a loop.

A recording is straight-line: a Python loop of 200 steps leaves 200 copies of
its body, one after the other (and ``grad`` of it 200 more, reversed, for the
backward pass).  :func:`fold` finds such runs: ``count`` consecutive blocks
of ``length`` steps, where each step makes the call the same step of the
previous block made (the same primitive and parameters, inputs and output of
the same types, shapes and dtypes, guards of the same kind and outcome) and
where each input of a step comes, in every block, from the same place:

* **internal**: an earlier step of the same block;
* **carried**: the same step of the previous block (the first block reads
  a value computed before the loop: its initial value);
* **invariant**: one value computed before the loop (or a constant of the
  same type and bits) read by every block;
* **sequence**: a value computed before the loop, another one for each
  block (the backward pass reads the forward pass's values of each step,
  in reverse); a constant of another value in each block is one too.

A guard in the block must be on a value of its own block: a replay checks
it at each iteration, right after its value is computed, and a miss at
iteration ``k`` names the guard the unrolled program numbers
``first_guard + k * guards_per_block``, so it records the same branch as
before.  Nothing is computed differently: the compiled replay (``jit``'s
third tier) writes the block once inside a Python ``for`` loop and makes,
call for call, the calls of the unrolled program, in the same order on the
same values; only the Python source is shorter (one block, not 200) and so
quicker to generate and to compile.

Finding the runs: each step gets a signature (its primitive, parameters and
types, without the identity of its inputs); the gaps between equal
signatures propose block lengths; for each, NumPy finds the stretches where
the signature sequence repeats with that period; the longest stretches are
taken first and checked input by input (the classes above).  Signatures
leave out the values of scalar constants (a step reading ``0.5 * h`` and
one reading ``h`` are alike): such a constant is checked as invariant or as
a sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._program import Atom, Const, Eqn, Guard, Program, Step, Var

__all__ = ["Loop", "Site", "fold", "listing"]

#: a run is folded when it repeats its block at least this many times ...
MIN_COUNT = 3
#: ... and covers at least this many steps
MIN_STEPS = 24
#: block lengths tried (the most frequent gaps between equal signatures, weighted by length) ...
CANDIDATE_LENGTHS = 8
#: ... gaps between a signature's occurrences up to this many apart (a step made that often a block is found)
OCCURRENCES = 12


class Site:
    """Where one input of a block's step comes from, the same in every iteration (see the module text).

    ``kind`` is ``"internal"`` or ``"carried"`` (``position``: the block's step that computes it; a carried
    site's ``atom`` is the first iteration's value), ``"invariant"`` (``atom``) or ``"sequence"`` (``atoms``,
    one an iteration).
    """

    __slots__ = ("kind", "position", "atom", "atoms")

    def __init__(self, kind: str, position: int = -1, atom: Atom | None = None, atoms: list[Atom] | None = None):
        self.kind = kind
        self.position = position
        self.atom = atom
        self.atoms = atoms

    def __repr__(self) -> str:
        return f"Site({self.kind}, {self.position})"


class Loop:
    """A folded run: ``program.steps[start : start + length * count]`` is ``count`` iterations of ``body``.

    ``body`` holds the first iteration's steps; ``sites[j][t]`` says where input ``t`` of body step ``j``
    comes from (an empty list for a guard); ``outside`` maps a value of the run that a later step or an
    output reads to ``(position, iteration)``; the run's guards are numbered from ``first_guard``,
    ``guards_per_block`` an iteration.
    """

    __slots__ = ("start", "length", "count", "body", "sites", "outside", "first_guard", "guards_per_block")

    def __init__(
        self,
        start: int,
        length: int,
        count: int,
        body: list[Step],
        sites: list[list[Site]],
        outside: dict[int, tuple[int, int]],
        first_guard: int,
        guards_per_block: int,
    ) -> None:
        self.start = start
        self.length = length
        self.count = count
        self.body = body
        self.sites = sites
        self.outside = outside
        self.first_guard = first_guard
        self.guards_per_block = guards_per_block

    @property
    def stop(self) -> int:
        """The index of the first step after the run."""
        return self.start + self.length * self.count

    def __repr__(self) -> str:
        return f"<Loop: {self.count} iterations of {self.length} steps from step {self.start}>"


# --- signatures ------------------------------------------------------------------------------------


def _freeze(value: Any) -> Any:
    """A hashable key equal for two parameter values exactly when they are equal and of the same type."""
    kind = type(value)
    if kind is tuple or kind is list:
        return (kind, tuple(_freeze(item) for item in value))
    if kind is dict:
        return (kind, tuple((key, _freeze(item)) for key, item in value.items()))
    if kind is slice:
        return (kind, _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if kind is float or kind is complex or isinstance(value, np.generic):
        return (kind, np.asarray(value).tobytes())  # bits: -0.0 is not 0.0, a NaN is equal to itself
    if kind is np.ndarray:
        return (kind, value.shape, value.dtype.str, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return (kind, value)


def _input_signature(atom: Atom) -> Any:
    if isinstance(atom, Var):
        return ("var", atom.type, atom.shape, atom.dtype, atom.kind)
    value = atom.value
    kind = type(value)
    if kind is np.ndarray:
        return ("const", kind, value.shape, value.dtype)
    if kind in (bool, int, float, complex) or isinstance(value, np.generic):
        return ("const", kind)  # the value is checked site by site (invariant or a sequence)
    return ("const", _freeze(value))


def _signature(step: Step) -> Any:
    if isinstance(step, Guard):
        var = step.var
        return ("guard", step.kind, _freeze(step.expected), var.type, var.shape, var.dtype)
    out = step.out
    return (
        step.prim,
        tuple((name, _freeze(value)) for name, value in step.params.items()),
        out.type,
        out.shape,
        out.dtype,
        out.kind,
        tuple(_input_signature(atom) for atom in step.inputs),
    )


def _const_key(atom: Const) -> Any:
    """Equal for two constants that are the same value of the same type, bit for bit."""
    value = atom.value
    kind = type(value)
    if kind is np.ndarray:
        if atom.shared:  # its values may change between calls: the same object only
            return ("shared", id(value))
        return (kind, value.shape, value.dtype.str, value.tobytes())
    return _freeze(value)


# --- finding runs --------------------------------------------------------------------------------


def _periodic_stretches(codes: np.ndarray[Any, Any]) -> list[tuple[int, int, int]]:
    """``(start, length, count)`` candidates: stretches of ``codes`` repeating a block ``count`` times."""
    n = len(codes)
    if n < MIN_STEPS:
        return []
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    # a signature made ``m`` times a block recurs ``m`` occurrences later one block length away
    gaps = np.concatenate(
        [(order[m:] - order[:-m])[ordered[m:] == ordered[:-m]] for m in range(1, min(OCCURRENCES, n - 1) + 1)]
    )
    if not len(gaps):
        return []
    counts = np.bincount(gaps)
    weights = counts * np.arange(len(counts))
    # the most frequent gaps, and the most frequent weighted by length (a long block's gaps are fewer)
    best = np.concatenate((np.argsort(counts)[::-1][:CANDIDATE_LENGTHS], np.argsort(weights)[::-1][:CANDIDATE_LENGTHS]))
    lengths = {int(length) for length in best if counts[length] >= 2}
    # a block repeated twice is a block too, and weighs more: its divisors are tried as well
    lengths |= {length // parts for length in lengths for parts in range(2, OCCURRENCES + 1) if length % parts == 0}
    found = []
    for length in sorted(lengths):
        if length < 1 or length * MIN_COUNT > n:
            continue
        equal = np.concatenate(([False], codes[:-length] == codes[length:], [False]))
        edges = np.flatnonzero(np.diff(equal.astype(np.int8)))
        for first, last in zip(edges[::2], edges[1::2]):  # equal[first + 1 : last + 1] is True
            count = (int(last - first) + length) // length
            if count >= MIN_COUNT and count * length >= MIN_STEPS:
                found.append((int(first), length, count))
    found.sort(key=lambda run: (-run[1] * run[2], run[1], run[0]))
    return found


def fold(program: Program) -> list[Loop]:
    """The runs of ``program`` (as :func:`funcgrad._jit.prepare` leaves it) that replay as loops, in order.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> def f(x):
    ...     for _ in range(10):
    ...         x = fnp.sin(x) * 0.5 + x
    ...     return x
    >>> program = fg.make_program(f)(np.ones(3))
    >>> fold(program)
    [<Loop: 10 iterations of 3 steps from step 0>]

    Raises nothing: a program with no run comes back as an empty list.
    """
    steps = program.steps
    if len(steps) < MIN_STEPS:
        return []
    interned: dict[Any, int] = {}
    codes = np.array([interned.setdefault(_signature(step), len(interned)) for step in steps], dtype=np.int64)
    defined: dict[int, int] = {}
    last_read: dict[int, int] = {}  # var id -> the last step reading it (``len(steps)``: an output)
    last_guard: dict[int, int] = {}  # var id -> the last guard on it
    guard_number: dict[int, int] = {}
    for index, step in enumerate(steps):
        if isinstance(step, Guard):
            guard_number[index] = len(guard_number)
            last_guard[step.var.id] = index
            continue
        defined[step.out.id] = index
        for atom in step.inputs:
            if type(atom) is Var:
                last_read[atom.id] = index
    for atom in program.outputs:
        if isinstance(atom, Var):
            last_read[atom.id] = len(steps)
    context = _Context(program, defined, last_read, last_guard, guard_number)
    loops: list[Loop] = []
    unique = -1 - np.arange(len(steps), dtype=np.int64)  # a folded run's codes, so no later run overlaps it
    failed: set[tuple[int, int, int]] = set()  # runs checked and refused (a later pass finds them again)
    taken = np.zeros(len(steps), dtype=bool)
    found = True
    while found:  # a pass takes every run it can; the next looks again without them (other lengths show)
        found = False
        for start, length, count in _periodic_stretches(codes):
            for first, repeats in ((start, count), (start + length, count - 1), (start, count - 1)):
                run = (first, length, repeats)
                if repeats < MIN_COUNT or repeats * length < MIN_STEPS or run in failed:
                    continue
                if taken[first : first + length * repeats].any():
                    continue
                loop = context.check(first, length, repeats)
                if loop is None:
                    failed.add(run)
                    continue
                loops.append(loop)
                taken[loop.start : loop.stop] = True
                codes[loop.start : loop.stop] = unique[loop.start : loop.stop]
                found = True
                break
    loops.sort(key=lambda loop: loop.start)
    return loops


class _Context:
    """What checking a run needs to know of the whole program: where each value is computed and read."""

    __slots__ = ("program", "defined", "last_read", "last_guard", "guard_number")

    def __init__(
        self,
        program: Program,
        defined: dict[int, int],
        last_read: dict[int, int],
        last_guard: dict[int, int],
        guard_number: dict[int, int],
    ) -> None:
        self.program = program
        self.defined = defined
        self.last_read = last_read
        self.last_guard = last_guard
        self.guard_number = guard_number

    def check(self, start: int, length: int, count: int) -> Loop | None:
        """The loop of ``count`` blocks of ``length`` steps from ``start``, or ``None`` when an input or a
        guard does not come from the same place in every block (the module text)."""
        steps = self.program.steps
        defined = self.defined
        stop = start + length * count

        def place(atom: Atom, iteration: int) -> Any:
            if isinstance(atom, Const):
                return ("const", _const_key(atom))
            at = defined.get(atom.id)
            if at is not None and start <= at < stop:
                block, position = divmod(at - start, length)
                return ("in", iteration - block, position)
            return ("out", atom.id)

        sites: list[list[Site]] = []
        for position in range(length):
            step = steps[start + position]
            if isinstance(step, Guard):
                # checked right after its value is computed: that value must be its own block's
                for iteration in range(count):
                    guard = steps[start + iteration * length + position]
                    if not isinstance(guard, Guard) or place(guard.var, iteration)[:2] != ("in", 0):
                        return None
                sites.append([])
                continue
            row = []
            for argnum in range(len(step.inputs)):
                atoms = [steps[start + k * length + position].inputs[argnum] for k in range(count)]  # type: ignore[union-attr]
                site = _site([place(atom, k) for k, atom in enumerate(atoms)], atoms)
                if site is None:
                    return None
                row.append(site)
            sites.append(row)
        outside: dict[int, tuple[int, int]] = {}
        for index in range(start, stop):
            step = steps[index]
            if isinstance(step, Guard):
                continue
            if self.last_guard.get(step.out.id, -1) >= stop:
                return None  # it would be checked inside the loop, at one iteration only
            if self.last_read.get(step.out.id, -1) < stop:
                continue
            block, position = divmod(index - start, length)
            outside[step.out.id] = (position, block)
        guards = [index for index in range(start, start + length) if index in self.guard_number]
        first_guard = self.guard_number[guards[0]] if guards else 0
        body = steps[start : start + length]
        return Loop(start, length, count, body, sites, outside, first_guard, len(guards))


def _site(places: list[Any], atoms: list[Atom]) -> Site | None:
    """The class of one input over the iterations, from where it is in each (``_check``'s ``place``)."""
    first = places[0]
    if first[0] == "in":
        if first[1] == 0 and all(place == first for place in places):
            return Site("internal", first[2])
        return None
    rest = places[1:]
    if rest and rest[0][0] == "in":
        if rest[0][1] == 1 and all(place == rest[0] for place in rest):
            return Site("carried", rest[0][2], atom=atoms[0])
        return None
    if all(place == first for place in rest):
        return Site("invariant", atom=atoms[0])
    if any(place[0] == "in" for place in rest):
        return None
    return Site("sequence", atoms=atoms)


def listing(program: Program, loops: list[Loop]) -> str:
    """``str(program)`` with each folded run shown once, as ``loop N times { ... }`` around its first block
    (and which values the next iteration reads in place of the first iteration's).

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> def f(x):
    ...     for _ in range(10):
    ...         x = fnp.sin(x) * 0.5 + x
    ...     return x
    >>> program = fg.make_program(f)(np.ones(3))
    >>> print(listing(program, fold(program)))
    { lambda ; a:f64[3]. let
        loop 10 times { (after each: a = d)
          b:f64[3] = sin a
          c:f64[3] = multiply b 0.5
          d:f64[3] = add c a
        }
      in (d,) }

    A value of a loop read after it is named as in the loop: ``b`` is the last iteration's ``b``,
    ``b[3]`` the ``b`` of iteration 3 (counted from 0).  Raises nothing.
    """
    names, consts = program._names()
    steps = program.steps
    outside_names = dict(names)
    for loop in loops:
        for var_id, (position, iteration) in loop.outside.items():
            step = loop.body[position]
            assert isinstance(step, Eqn)
            name = names[step.out.id]
            outside_names[var_id] = name if iteration == loop.count - 1 else f"{name}[{iteration}]"
    lines = program._lines(outside_names, consts)
    body_lines = program._lines(names, consts)  # a body shows its first iteration as recorded
    shown = [lines[0]]
    at = 0
    for loop in loops:
        shown.extend(lines[1 + at : 1 + loop.start])
        carried = {}
        for row in loop.sites:
            for site in row:
                if site.kind == "carried" and isinstance(site.atom, Var):
                    step = loop.body[site.position]
                    assert isinstance(step, Eqn)
                    carried[names[site.atom.id]] = names[step.out.id]
        then = "".join(f", {before} = {after}" for before, after in carried.items())
        shown.append(f"    loop {loop.count} times {{{then and ' (after each:' + then[1:] + ')'}")
        shown.extend("  " + line for line in body_lines[1 + loop.start : 1 + loop.start + loop.length])
        shown.append("    }")
        at = loop.stop
    shown.extend(lines[1 + at :])
    assert len(lines) == len(steps) + 2
    return "\n".join(shown)
