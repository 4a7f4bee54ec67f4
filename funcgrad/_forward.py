"""Forward mode: tangents travel with their primals.

A forward trace may carry a *batch* of tangents at once (an extra leading
axis of size ``batch``), which is how ``jacfwd`` and ``hessian`` get every
column in one pass.  Primitives whose rules are not declared batch-safe are
given the batch one tangent at a time.
"""

from __future__ import annotations

from typing import Any

from funcgrad import _errors
from funcgrad._trace import Primitive, Trace, Tracer
from funcgrad.numpy._array import ArrayTracer


class ForwardTrace(Trace):
    __slots__ = ("batch",)

    def __init__(self, level: int, batch: int = 0) -> None:
        super().__init__(level)
        self.batch = batch

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        primals = list(args)
        tangents: list[tuple[int, Any]] = []
        jvps = prim.jvps
        for argnum, arg in enumerate(args):
            if isinstance(arg, Tracer) and arg._trace is self:
                primals[argnum] = arg._value
                if jvps is None or argnum >= len(jvps):
                    raise _errors.missing_rule(prim.name, argnum, "forward (jvp)")
                if jvps[argnum] is not None:
                    tangents.append((argnum, arg._payload))
        ans = prim(*primals, **params)
        total = None
        for argnum, tangent in tangents:
            rule = jvps[argnum]  # type: ignore[index]
            if self.batch and not prim.batch_jvp:
                part = _one_at_a_time(rule, tangent, ans, primals, params, self.batch)
            else:
                part = rule(tangent, ans, *primals, **params)
            if part is not None:
                total = part if total is None else total + part
        if total is None:
            return ans
        return ArrayTracer(ans, self, total)


def _one_at_a_time(rule: Any, tangent: Any, ans: Any, primals: list[Any], params: dict[str, Any], batch: int) -> Any:
    from funcgrad.numpy import _shape

    parts = [rule(tangent[k], ans, *primals, **params) for k in range(batch)]
    return _shape.stack_tangents(parts, ans)
