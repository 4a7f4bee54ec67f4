"""Forward mode: tangents travel with their primals.

A forward trace may carry a *batch* of tangents at once (an extra leading
axis of size ``batch``), which is how ``jacfwd`` and ``hessian`` get every
column in one pass.  Primitives whose rules are not declared batch-safe are
given the batch one tangent at a time.

A batch of tangents that passes through elementwise steps is kept *scaled*
(``Scaled``): the batch as it was, and the product of the steps' factors
(``defjvp_scales``), the size of one value.  ``hessian`` of a loss over a
chunked array pushes ``batch`` tangents of each chunk's size through every
step of the loss's rules; scaled, those steps work on value-sized factors and
the batch is multiplied once, where a step that is not elementwise (a
matrix product, a sum) needs it (``materialize``).  The result is the
``defjvp`` rules' up to rounding (the factors are multiplied in another
order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _nondiff, _shape, _ufuncs
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._base import astype, match_dtype
from funcgrad._trace import Primitive, Trace, Tracer
from funcgrad._values import dtype, shape


class Scaled:
    """A batch of tangents ``base`` times ``factor``, kept apart: ``materialize`` gives the product.

    ``keep`` is a tuple of ``(condition, polarity)``: where a condition is not
    ``polarity``, a ``where`` step zeroed the tangent; the factor is zeroed
    there too, and ``base`` is, when the batch is made, so a non-finite entry
    of ``base`` in a zeroed place gives 0, as the ``where`` did.
    """

    __slots__ = ("base", "factor", "keep", "made")

    def __init__(self, base: Any, factor: Any, keep: tuple[tuple[Any, bool], ...]) -> None:
        self.base = base
        self.factor = factor
        self.keep = keep
        self.made: Any = None  # the batch, once made: a later step scales it instead of making it again


class Identity:
    """The seed of ``jacfwd`` over one vector of ``n`` entries: ``eye(n)``, a batch of ``n`` tangents.

    A matrix product with the seed is its other operand, rearranged
    (``defjvp_identity``): ``X @ w`` gets ``X.T`` as its batch of tangents,
    a view, instead of a product with ``eye``.
    """

    __slots__ = ("eye",)

    def __init__(self, eye: Any) -> None:
        self.eye = eye


def materialize(tangent: Any) -> Any:
    """The batch of tangents ``tangent`` stands for (a plain tangent is returned as it is)."""
    if isinstance(tangent, Identity):
        return tangent.eye
    if not isinstance(tangent, Scaled):
        return tangent
    if tangent.made is None:
        base = materialize(tangent.base)
        if tangent.factor is None:  # (a factor is made wherever something is kept)
            tangent.made = base
        elif not tangent.keep:
            tangent.made = base * tangent.factor
        else:
            # zeroed where a condition says so, then scaled, with no other array of the batch's size
            kept = None
            for condition, polarity in tangent.keep:
                this = condition if polarity else _nondiff.logical_not(condition)
                kept = this if kept is None else _nondiff.logical_and(kept, this)
            tangent.made = _ufuncs.masked_scale_p(base, tangent.factor, kept)
    return tangent.made


def _scaled(tangent: Any, factor: Any, keep: tuple[Any, bool] | None) -> Scaled:
    """``tangent`` (plain or scaled) times ``factor``, then zeroed outside ``keep``."""
    if isinstance(tangent, Scaled) and tangent.made is None:
        base, now, kept = tangent.base, tangent.factor, tangent.keep
    elif isinstance(tangent, Scaled):
        base, now, kept = tangent.made, None, ()
    else:
        base, now, kept = tangent, None, ()
    if isinstance(factor, (list, tuple)):
        factor = np.asarray(factor)  # a list operand (``x * [a, b]``) is the array NumPy makes of it
    if factor is not None:
        have = _base_dtype(base)
        now = factor if now is None else _widened(now, have) * _widened(factor, have)
    if keep is not None:
        condition, polarity = keep
        one = 1.0 if now is None else now
        now = _ufuncs.where(condition, one, 0.0) if polarity else _ufuncs.where(condition, 0.0, one)
        if not any(c is condition and p == polarity for c, p in kept):
            kept = (*kept, keep)
    return Scaled(base, now, kept)


def _scaled_sum(a: Any, b: Any) -> Any:
    """``a + b`` for two tangent parts; two scalings of one batch stay one scaling."""
    if isinstance(a, Scaled) and isinstance(b, Scaled) and a.base is b.base and _same_keep(a.keep, b.keep):
        have = _base_dtype(a.base)
        fa = 1.0 if a.factor is None else _widened(a.factor, have)
        fb = 1.0 if b.factor is None else _widened(b.factor, have)
        return Scaled(a.base, fa + fb, a.keep)
    return materialize(a) + materialize(b)


def _base_dtype(base: Any) -> np.dtype[Any]:
    return dtype(base.eye if isinstance(base, Identity) else base)


def _widened(factor: Any, have: np.dtype[Any]) -> Any:
    """``factor`` in the precision the tangent times it has, before factors are combined: ``t * 0.1 * c`` with
    ``t`` float64 and ``c`` complex64 is complex128, where ``0.1 * c`` alone would round to complex64."""
    if isinstance(factor, (int, float, complex)):
        return np.result_type(have, factor).type(factor)
    kind = dtype(factor)
    want = np.result_type(have, kind)
    if want == kind:
        return factor
    return astype(factor, dtype=want) if isinstance(factor, Tracer) else factor.astype(want)


def _same_keep(a: tuple[tuple[Any, bool], ...], b: tuple[tuple[Any, bool], ...]) -> bool:
    return len(a) == len(b) and all(any(c is d and p == q for d, q in b) for c, p in a)


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
        tangents: list[tuple[int, Any, Any]] = []
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
                    tangents.append((argnum, rule, arg._payload))
        # with nothing traced below us, skip the dispatch and call NumPy directly
        ans = prim(*primals, **params) if lower else prim.impl(*primals, **params)
        if not tangents:
            return ans
        total = None
        if prim.jvp_identity is not None and len(tangents) == 1 and isinstance(tangents[0][2], Identity):
            for argnum, arg in enumerate(args):
                if isinstance(arg, Tracer) and arg._trace is self and jvps[argnum] is not None:  # type: ignore[index]
                    rule = prim.jvp_identity[argnum] if argnum < len(prim.jvp_identity) else None
                    total = None if rule is None else rule(ans, *primals, **params)
            if total is not None:
                return self._boxed(ans, total)
        one_at_a_time = self.batch and not prim.batch_jvp
        if self.batch and prim.jvp_scales is not None and _scalable(prim, args, primals, ans, self):
            scales = prim.jvp_scales
            for argnum, arg in enumerate(args):
                if isinstance(arg, Tracer) and arg._trace is self and jvps[argnum] is not None:  # type: ignore[index]
                    scale = scales[argnum]
                    assert scale is not None  # _scalable checked it
                    factor, keep = scale(ans, *primals, **params)
                    part = _scaled(arg._payload, factor, keep)
                    total = part if total is None else _scaled_sum(total, part)
            if prim.jvp_scale_after is not None and total is not None:
                factor, keep = prim.jvp_scale_after(ans, *primals, **params)
                total = _scaled(total, factor, keep)
        elif len(tangents) > 1 and prim.jvp_joint is not None and not one_at_a_time:
            # one rule for all the tangents (``x - y``: one subtraction; ``concatenate``: one join)
            joint: list[Any] = [None] * len(args)
            for argnum, _, tangent in tangents:
                joint[argnum] = materialize(tangent)
            total = prim.jvp_joint(joint, ans, *primals, **params)
        else:
            total = _summed(prim, tangents, ans, primals, params, self.batch if one_at_a_time else 0)
        if total is None:
            return ans
        return self._boxed(ans, total)

    def _boxed(self, ans: Any, total: Any) -> Any:
        """``ans`` with the tangent ``total``, in ``ans``'s dtype."""
        if isinstance(total, Scaled):
            if _scaled_dtype(total) == getattr(ans, "dtype", None) or not hasattr(ans, "dtype"):
                return ArrayTracer(ans, self, total)
            total = materialize(total)
        # a tangent has its value's dtype: promote it with the value (float32 + float64 -> float64)
        have = getattr(total, "dtype", None)
        want = getattr(ans, "dtype", None)
        if have is not None and want is not None and have != want and want.kind in "fc":
            total = match_dtype(total, ans)
        return ArrayTracer(ans, self, total)


def _scalable(prim: Primitive, args: tuple[Any, ...], primals: list[Any], ans: Any, trace: ForwardTrace) -> bool:
    """Whether every tangent argument of this call has a scale and the output's shape (no broadcasting)."""
    scales = prim.jvp_scales or ()
    out = shape(ans)
    for argnum, arg in enumerate(args):
        if isinstance(arg, Tracer) and arg._trace is trace and prim.jvps[argnum] is not None:  # type: ignore[index]
            if argnum >= len(scales) or scales[argnum] is None or shape(primals[argnum]) != out:
                return False
    return True


def _scaled_dtype(tangent: Scaled) -> Any:
    have = _base_dtype(tangent.base)
    if tangent.factor is None:
        return have
    return np.result_type(have, tangent.factor if isinstance(tangent.factor, (int, float, complex)) else dtype(tangent.factor))


def _summed(
    prim: Primitive, tangents: list[tuple[int, Any, Any]], ans: Any, primals: list[Any], params: dict[str, Any], loop: int
) -> Any:
    """The sum of the arguments' parts; ``loop``: the batch size, for rules not written for batches."""
    total = None
    owned = False  # is ``total`` a plain array this sum made (or a fresh rule's), which it may add into?
    for _, rule, tangent in tangents:
        tangent = materialize(tangent)
        if loop:
            part = _one_at_a_time(rule, tangent, ans, primals, params, loop)
        else:
            part = rule(tangent, ans, *primals, **params)
        if part is None:
            continue
        if total is None:
            total = part
            owned = prim.jvp_fresh and not loop and type(part) is np.ndarray
        elif owned and type(part) is np.ndarray and part.shape == total.shape and part.dtype == total.dtype:
            total = np.add(total, part, out=total)
        else:
            total = total + part
            owned = type(total) is np.ndarray
    return total


def _one_at_a_time(rule: Any, tangent: Any, ans: Any, primals: list[Any], params: dict[str, Any], batch: int) -> Any:
    parts = [rule(tangent[k], ans, *primals, **params) for k in range(batch)]
    return _shape.stack_tangents(parts, ans)
