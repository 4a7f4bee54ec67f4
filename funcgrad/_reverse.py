"""Reverse mode: record primitives on a tape, sweep it backwards.

The tape is a list in creation order, so the backward sweep is a loop from
the end: no recursion, no topological sort.  Each cotangent is popped as
soon as it is used, and nodes that receive none are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from funcgrad import _errors, _values
from funcgrad._prims._array import ArrayTracer
from funcgrad._protect import Hold, kept_copy
from funcgrad._trace import Primitive, Trace, Tracer
from funcgrad._values import _STAND_INS, shaped

# A tape node: (primitive, primal args, params, output, parent ids), all tuples; ``parent ids[i]`` is
# the node of argument i, or None when argument i is a constant (or has a zero rule).  Kept small:
# the tape holds one node per operation, and in a long chain the nodes cost as much as the arrays.
# Input leaves are nodes whose primitive is None.
Node = tuple[Any, Any, Any, Any, tuple[int | None, ...]]

#: the params of every node recorded without static parameters (one shared empty dict, never mutated)
_NO_PARAMS: dict[str, Any] = {}


class ReverseTrace(Trace):
    __slots__ = ("tape", "hold")

    def __init__(self, level: int, hold: Hold | None = None) -> None:
        super().__init__(level)
        self.tape: list[Node | None] = []
        #: the plain arrays the tape keeps, read-only while the function runs (``funcgrad._protect``);
        #: ``None``: the tape keeps a copy of each instead (the function writes into one it used)
        self.hold = hold

    def new_input(self, value: Any) -> ArrayTracer:
        self.tape.append((None, None, None, None, ()))
        return ArrayTracer(value, self, len(self.tape) - 1)

    def constant(self, value: Any) -> Any:
        if _values.dtype(value).kind not in "fc":
            return value  # no derivative flows through integers: a plain array is written in place
        return self.new_input(value)  # a leaf no input's cotangent is read from

    # custom rules and checkpoint: each call is one tape node (funcgrad/_custom_vjp.py, _custom_jvp.py, _checkpoint.py)
    def process_custom_vjp_call(self, rule: Any, call: Any) -> Any:
        return rule.reverse(self, call)

    def process_custom_jvp_call(self, rule: Any, call: Any) -> Any:
        return rule.reverse(self, call)

    def process_checkpoint(self, call: Any) -> Any:
        return call.reverse(self)

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        # the hot path of reverse mode: one call per recorded operation
        primals = list(args)
        parents: list[int | None] = [None] * len(args)
        recorded = False  # does some argument need a cotangent?
        lower = False  # does some argument stay traced by an outer transform?
        vjps = prim.vjps
        argnum = -1
        plain: list[int] | None = None  # the arguments that are plain arrays: the tape keeps them
        for arg in args:
            argnum += 1
            if isinstance(arg, Tracer):
                if arg._trace is not self:
                    lower = True
                    continue
                value = primals[argnum] = arg._value
                if isinstance(value, Tracer):
                    lower = True
                try:
                    rule = vjps[argnum]  # type: ignore[index]
                except (TypeError, IndexError):
                    raise _errors.missing_rule(prim.name, argnum, "reverse (vjp)") from None
                if rule is not None:
                    parents[argnum] = arg._payload
                    recorded = True
            elif type(arg) is np.ndarray:  # (its type: no value is read)
                if plain is None:
                    plain = [argnum]
                else:
                    plain.append(argnum)
        # with nothing traced below us, skip the dispatch and call NumPy directly
        ans = prim(*primals, **params) if lower else prim.impl(*primals, **params)
        if not recorded:
            return ans
        tape = self.tape
        keep = prim.residuals
        if plain is not None:
            self._keep_plain(primals, plain, prim.dropped if keep is not None else ())
        if keep is None:
            tape.append((prim, tuple(primals), params or _NO_PARAMS, ans, tuple(parents)))
        else:  # keep only what the rules read: the rest of the arrays may be freed now
            ndarray = np.ndarray
            stand_ins = _STAND_INS
            for i in prim.dropped:
                v = primals[i] if i < len(primals) else None
                if type(v) is ndarray:  # only its shape and dtype are kept (no value is read)
                    found = stand_ins.get((v.shape, v.dtype))
                    primals[i] = found if found is not None else shaped(v)
            kept_ans = ans
            if not keep[0] and type(ans) is ndarray:
                kept_ans = stand_ins.get((ans.shape, ans.dtype))
                if kept_ans is None:
                    kept_ans = shaped(ans)
            tape.append((prim, tuple(primals), params or _NO_PARAMS, kept_ans, tuple(parents)))
        return ArrayTracer(ans, self, len(tape) - 1)

    def _keep_plain(self, primals: list[Any], plain: list[int], dropped: Any) -> None:
        """Hold each plain array the node keeps read-only until the function returns, or keep a copy of it."""
        hold = self.hold
        for i in plain:
            if i in dropped:
                continue  # only its shape and dtype are kept
            if hold is not None:
                hold.keep(primals[i])
            else:
                primals[i] = kept_copy(primals[i])


def backward(
    tape: list[Node | None],
    seeds: Iterable[tuple[int, Any]],
    inputs: list[int],
    consume: bool,
) -> list[Any]:
    """Cotangents of the input nodes given cotangents ``seeds`` of some nodes.

    With ``consume`` the tape is emptied as it is swept (one-shot ``grad``),
    so memory falls while the sweep runs.  The sweep writes only into arrays
    it owns (see ``owned``): never into a seed, a user's array or a residual.
    """
    cotangents: list[Any] = [None] * len(tape)
    # owned[i]: cotangents[i] is a plain ndarray only this sweep holds (a sum it made, or a fresh rule
    # result), so it may be added to, or handed to a rule that writes into it (defvjp_into)
    owned = bytearray(len(tape))
    ndarray = np.ndarray
    start = -1
    for node_id, seed in seeds:
        previous = cotangents[node_id]
        cotangents[node_id] = seed if previous is None else previous + seed
        start = max(start, node_id)
    for node_id in range(start, -1, -1):
        node = tape[node_id]
        if consume:
            tape[node_id] = None  # memory falls as the sweep runs
        cotangent = cotangents[node_id]
        if cotangent is None or node is None:
            continue
        prim, args, params, ans, parents = node
        if prim is None:
            continue  # an input: its cotangent is the result
        cotangents[node_id] = None
        vjps = prim.vjps
        mine = owned[node_id]
        if mine and prim.vjp_into is not None and len(parents) - parents.count(None) == 1:
            vjps = prim.vjp_into  # the only use of the cotangent: its rule may write into it
        fresh = prim.vjp_fresh
        adds = prim.vjp_add
        handed = -1  # the parent that received the owned cotangent itself (add's rule passes it on)
        for argnum, parent in enumerate(parents):
            if parent is None:
                continue
            previous = cotangents[parent]
            if previous is not None and adds is not None and adds[argnum] is not None:
                # added into what the argument has gathered (a slice's cotangent: only where it lands)
                total = adds[argnum](previous, bool(owned[parent]), cotangent, ans, *args, **params)
                if total is not previous:
                    cotangents[parent] = total
                    owned[parent] = type(total) is ndarray
                continue
            contribution = vjps[argnum](cotangent, ans, *args, **params)
            if contribution is None:
                continue
            if previous is None:
                cotangents[parent] = contribution
                if mine and contribution is cotangent:
                    # ownership passes on only if no other argument receives the same array (add(x, y))
                    handed = parent if handed == -1 else -2
                elif fresh and type(contribution) is ndarray:
                    owned[parent] = True
            elif (
                owned[parent]
                and type(contribution) is ndarray
                and contribution.shape == previous.shape
                and contribution.dtype == previous.dtype
            ):
                np.add(previous, contribution, out=previous)
            elif (
                fresh
                and type(contribution) is ndarray
                and contribution is not cotangent
                and type(previous) is ndarray
                and contribution.shape == previous.shape
                and contribution.dtype == previous.dtype
            ):
                cotangents[parent] = np.add(previous, contribution, out=contribution)
                owned[parent] = True
            else:
                total = previous + contribution
                cotangents[parent] = total
                owned[parent] = type(total) is ndarray
        if handed >= 0 and cotangents[handed] is cotangent:
            owned[handed] = True
    return [cotangents[i] for i in inputs]


def forward_replay(
    tape: list[Node | None],
    inputs: list[int],
    tangents: list[Any],
    outputs: list[int | None],
) -> list[Any]:
    """Push tangents forward through a recorded tape (``linearize``)."""
    carried: list[Any] = [None] * len(tape)
    for node_id, tangent in zip(inputs, tangents):
        carried[node_id] = tangent
    last = max((o for o in outputs if o is not None), default=-1)
    for node_id in range(last + 1):
        node = tape[node_id]
        if node is None or node[0] is None:
            continue
        prim, args, params, ans, parents = node
        jvps = prim.jvps
        total = None
        for argnum, parent in enumerate(parents):
            if parent is None:
                continue
            tangent = carried[parent]
            if tangent is None:
                continue
            if jvps is None or argnum >= len(jvps):
                raise _errors.missing_rule(prim.name, argnum, "forward (jvp)")
            rule = jvps[argnum]
            if rule is None:
                continue
            part = rule(tangent, ans, *args, **params)
            total = part if total is None else total + part
        carried[node_id] = total
    return [None if o is None else carried[o] for o in outputs]
