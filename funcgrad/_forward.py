"""Forward mode: tangents travel with their primals.

A forward trace may carry a *batch* of tangents at once (an extra leading
axis of size ``batch``), which is how ``jacfwd`` and ``hessian`` get every
column in one pass.  Primitives whose rules are not declared batch-safe are
given the batch one tangent at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _shape
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._base import match_dtype
from funcgrad._trace import Primitive, Trace, Tracer
from funcgrad._values import dtype, shape


class ForwardTrace(Trace):
    __slots__ = ("batch",)

    def __init__(self, level: int, batch: int = 0) -> None:
        super().__init__(level)
        self.batch = batch

    def constant(self, value: Any) -> Any:
        kind = dtype(value)
        if kind.kind not in "fc":
            return value  # no tangent for integers: a plain array is written in place
        return ArrayTracer(value, self, np.zeros(((self.batch,) if self.batch else ()) + shape(value), kind))

    def process_custom_jvp_call(self, rule: Any, call: Any) -> Any:
        return rule.forward(self, call)  # the rule, called with the tangents (funcgrad/_custom_jvp.py)

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        # the hot path of forward mode: one call per operation
        primals = list(args)
        tangents: list[tuple[Any, Any]] = []
        lower = False  # does some argument stay traced by an outer transform?
        jvps = prim.jvps
        for argnum, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is not self:
                    lower = True
                    continue
                value = primals[argnum] = arg._value
                if isinstance(value, Tracer):
                    lower = True
                try:
                    rule = jvps[argnum]  # type: ignore[index]
                except (TypeError, IndexError):
                    raise _errors.missing_rule(prim.name, argnum, "forward (jvp)") from None
                if rule is not None:
                    tangents.append((rule, arg._payload))
        # with nothing traced below us, skip the dispatch and call NumPy directly
        ans = prim(*primals, **params) if lower else prim.impl(*primals, **params)
        total = None
        one_at_a_time = self.batch and not prim.batch_jvp
        for rule, tangent in tangents:
            if one_at_a_time:
                part = _one_at_a_time(rule, tangent, ans, primals, params, self.batch)
            else:
                part = rule(tangent, ans, *primals, **params)
            if part is not None:
                total = part if total is None else total + part
        if total is None:
            return ans
        # a tangent has its value's dtype: promote it with the value (float32 + float64 -> float64)
        have = getattr(total, "dtype", None)
        want = getattr(ans, "dtype", None)
        if have is not None and want is not None and have != want and want.kind in "fc":
            total = match_dtype(total, ans)
        return ArrayTracer(ans, self, total)


def _one_at_a_time(rule: Any, tangent: Any, ans: Any, primals: list[Any], params: dict[str, Any], batch: int) -> Any:
    parts = [rule(tangent[k], ans, *primals, **params) for k in range(batch)]
    return _shape.stack_tangents(parts, ans)
