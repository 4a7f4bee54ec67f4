"""A seeded generator of small random NumPy programs, for randomized derivative tests.

Each program is straight-line source code over one input ``x``: 3-12 steps,
each applying part of funcgrad's NumPy surface to the running value ``v``:
elementwise ufuncs (one and two arguments, broadcasting with the input or a
constant), reductions and statistics, scans, shape changes, indexing and
``.at[]`` updates with repeated indices, contractions (``@``, ``einsum`` with
random subscripts, ``tensordot``, ``kron``), FFTs, linear algebra, complex
intermediates (a step goes complex, a later one takes a real part or
``abs(.)**2``), ``checkpoint``-wrapped segments and ``custom_jvp`` functions.
Input dtypes: a quarter float32 (a fifth of those with float64 constants),
an eighth complex64/complex128 (complex-safe steps only), the rest float64
(a sixth of those with float32 constants, to catch rules that compute in a
constant's lower precision).

The builder runs every step as it writes it, on the actual input, so it
knows the values: a step whose domain, kinks or conditioning would be
unsafe at those values is not written (another is drawn), and a value that
grows large is rescaled by a constant.  ``Program.source`` is a complete,
runnable reproduction, printed whenever a check fails.  A program whose
derivative is ~0 at its input (it tests nothing), or a single-precision one
too ill-conditioned for float32 finite differences, is drawn again.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

SHAPES: list[tuple[int, ...]] = [(), (3,), (2, 3), (3, 1), (2, 1, 3), (4,), (3, 3), (2, 2)]

# Functions with hand-written rules that programs may call; defined verbatim in every reproduction.
PRELUDE = '''
@fg.custom_jvp
def softplus(v):
    return fnp.logaddexp(v, 0.0)


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (v,), (t,) = primals, tangents
    return softplus(v), t * (0.5 + 0.5 * fnp.tanh(0.5 * v))


@fg.custom_jvp
def mulsin(a, b):
    return a * fnp.sin(b)


@mulsin.defjvp
def _mulsin_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    return mulsin(a, b), ta * fnp.sin(b) + a * fnp.cos(b) * tb
'''

MARGIN = 0.05  # how far a value must stay from a kink, a tie or a domain edge


def _namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"fnp": fnp, "np": np, "fg": fg}
    exec(PRELUDE, namespace)  # noqa: S102 - our own source
    return namespace


@dataclass
class Program:
    seed: int
    input_shape: tuple[int, ...]
    dtype: str = "float64"
    lines: list[str] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    mixed: bool = False  # a double-precision input with single-precision constants
    wide: bool = False  # a float32 input with float64 constants (values promote to float64)

    def upcast(self) -> Program:
        """The same program with double-precision constants (the same values)."""
        constants = {k: np.asarray(c, np.result_type(c, np.float64)) if c.dtype.kind in "fc" else c
                     for k, c in self.constants.items()}
        return Program(self.seed, self.input_shape, self.dtype, list(self.lines), constants, False, self.wide)

    @property
    def body(self) -> str:
        return "\n".join("    " + row for line in self.lines for row in line.split("\n"))

    @property
    def kinky(self) -> bool:
        """Whether any step has a kink or a tie somewhere (max, sort, abs, where, ...)."""
        words = ("max", "min", "where", "sort", "median", "quantile", "percentile", "clip", "abs", "norm", "svd", "eig",
                 "ptp", "angle", "copysign", "cond")
        return any(word in line for line in self.lines for word in words)

    @property
    def source(self) -> str:
        consts = "\n".join(
            f"{k} = np.array({v.tolist()!r}, dtype=np.{v.dtype})" for k, v in self.constants.items()
        )
        return (
            "import numpy as np\nimport funcgrad as fg\nimport funcgrad.numpy as fnp\n"
            f"{PRELUDE}\n{consts}\n\ndef f(x):\n    v = x\n{self.body}\n    return v\n\n"
            f"{self.input_source}\n"
        )

    @property
    def complex(self) -> bool:
        return self.dtype.startswith("complex")

    @property
    def input_source(self) -> str:
        rng, size = f"np.random.default_rng({self.seed})", f"size={self.input_shape!r}"
        if self.complex:
            return f"rng = {rng}\nx = (rng.uniform(-1, 1, {size}) + 1j * rng.uniform(-1, 1, {size})).astype(np.{self.dtype})"
        return f"x = {rng}.uniform(-1, 1, {size}).astype(np.{self.dtype})"

    def function(self) -> Callable[[Any], Any]:
        namespace = {**_namespace(), **self.constants}
        exec(f"def f(x):\n    v = x\n{self.body}\n    return v\n", namespace)  # noqa: S102 - our own generated code
        return namespace["f"]  # type: ignore[no-any-return]

    def function_of(self, names: list[str]) -> Callable[..., Any]:
        """The program as a function of ``x`` and the constants ``names`` (to differentiate them too)."""
        namespace = {**_namespace(), **{k: c for k, c in self.constants.items() if k not in names}}
        params = ", ".join(["x", *names])
        exec(f"def f({params}):\n    v = x\n{self.body}\n    return v\n", namespace)  # noqa: S102 - our own generated code
        return namespace["f"]  # type: ignore[no-any-return]

    def input(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        x = rng.uniform(-1, 1, size=self.input_shape)
        if self.complex:
            x = x + 1j * rng.uniform(-1, 1, size=self.input_shape)
        return np.asarray(x).astype(self.dtype)


class _Reject(Exception):
    """A drawn step is unsafe at the current values: draw another."""


def _gap(values: np.ndarray, axis: int | None = None) -> float:
    """The smallest distance between two entries along ``axis`` (all entries for None)."""
    a = np.real(np.asarray(values, np.complex128))
    if axis is None:
        a = a.reshape(-1)
        axis = 0
    if a.shape[axis] < 2:
        return np.inf
    return float(np.min(np.diff(np.sort(a, axis=axis), axis=axis), initial=np.inf))


class _Builder:
    def __init__(self, seed: int, attempt: int = 0, control: bool = False) -> None:
        self.control = control  # also draw Python control flow on values and value-dependent gathers
        self.rng = np.random.default_rng([seed, attempt] if attempt else seed)
        shape = SHAPES[self.rng.integers(len(SHAPES))]
        r = self.rng.random()
        dtype = "float32" if r < 0.25 else "complex64" if r < 0.29 else "complex128" if r < 0.37 else "float64"
        self.program = Program(seed, shape, dtype, mixed=0.37 <= r < 0.47, wide=0.2 <= r < 0.25)
        self.const_dtype = {"float64": "float32", "complex128": "complex64"}[dtype] if self.program.mixed else dtype
        if self.program.wide:
            self.const_dtype = "float64"
        self.ns = _namespace()
        self.ns["x"] = self.ns["v"] = self.program.input()
        self.segments = 0

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def v(self) -> np.ndarray:
        return np.asarray(self.ns["v"])

    @property
    def shape(self) -> tuple[int, ...]:
        return self.v.shape

    @property
    def x(self) -> np.ndarray:
        return np.asarray(self.ns["x"])

    def pick(self, options: list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def axis(self) -> int:
        if not self.shape:
            raise _Reject
        return int(self.rng.integers(-len(self.shape), len(self.shape)))

    def const(self, shape: tuple[int, ...], kind: str = "real") -> str:
        name = f"C{len(self.program.constants)}"
        value: np.ndarray[Any, Any]
        if kind == "mask":
            value = self.rng.random(size=shape) < 0.6
        elif kind == "complex" or (kind == "real" and self.program.complex and self.rng.random() < 0.5):
            value = np.round(self.rng.uniform(-1, 1, size=shape) + 1j * self.rng.uniform(-1, 1, size=shape), 3)
            value = value.astype("complex64" if self.const_dtype in ("float32", "complex64") else "complex128")
        else:
            value = np.round(self.rng.uniform(-1, 1, size=shape), 3).astype(self.const_dtype).real
            if kind == "positive":
                value = np.abs(value) + np.asarray(0.5, value.dtype)
        self.program.constants[name] = np.asarray(value)
        self.ns[name] = np.asarray(value)
        return name

    def try_lines(self, lines: list[str], real: bool = True) -> None:
        """Run ``lines`` on the current values; keep them if they run, stay finite and (if asked) real."""
        saved_v, saved_consts = self.ns["v"], dict(self.program.constants)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for line in lines:
                    exec(line, self.ns)  # noqa: S102 - our own generated code
            value = np.asarray(self.ns["v"])
            if value.dtype.kind not in "fc" or not np.all(np.isfinite(value)) or value.size == 0:
                raise _Reject
            if real and value.dtype.kind != "f" and not self.program.complex:
                raise _Reject
            if value.size > 64:
                raise _Reject
            if self.program.complex:
                pass  # any value may be complex; precision is checked below
            single = self.program.dtype in ("float32", "complex64") and not self.program.wide
            if single and value.dtype not in (np.float32, np.complex64):
                raise _Reject
        except Exception:
            self.ns["v"] = saved_v
            for name in set(self.program.constants) - set(saved_consts):
                del self.program.constants[name]
                del self.ns[name]
            raise _Reject from None
        self.program.lines.extend(lines)
        self.rescale()

    def emit(self, line: str) -> None:
        self.try_lines([line])

    def rescale(self) -> None:
        big = float(np.max(np.abs(self.v), initial=0.0))
        if big > 4.0:
            factor = float(10.0 ** -np.ceil(np.log10(big)))
            self.program.lines.append(f"v = v * {factor!r}")
            exec(f"v = v * {factor!r}", self.ns)  # noqa: S102

    def peek(self, lines: list[str]) -> np.ndarray:
        """The value ``v`` would have after ``lines``, without keeping them."""
        scratch = dict(self.ns)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for line in lines:
                    exec(line, scratch)  # noqa: S102 - our own generated code
        except Exception:
            raise _Reject from None
        return np.asarray(scratch["v"])

    def fits_x(self) -> bool:
        """Whether ``v`` combined with ``x`` keeps ``v``'s shape."""
        try:
            return np.broadcast_shapes(self.shape, self.x.shape) == self.shape
        except ValueError:
            return False

    def need(self, ok: bool) -> None:
        if not ok:
            raise _Reject

    def other(self) -> str:
        """An operand that broadcasts with ``v``: the input, a function of it, or a constant."""
        if self.fits_x() and self.rng.random() < 0.6:
            return self.pick(["x", "fnp.sin(x)", "(0.5 * x)", "fnp.cos(x)"])
        shape = self.shape
        options = [shape, shape[1:], (1,) + shape[1:], ()] if shape else [()]
        return self.const(self.pick(options))

    def fn(self) -> str:
        """``fnp`` or, through the NumPy protocols, ``np``."""
        return "np" if self.rng.random() < 0.25 else "fnp"

    # --- the kinds of step -----------------------------------------------------------------------

    def elementwise(self) -> None:
        v = self.v
        big = float(np.max(np.abs(v), initial=0.0))
        choices = [
            "fnp.sin(v)", "fnp.cos(v)", "fnp.tanh(v)", "fnp.arctan(v)", "fnp.arcsinh(v)", "fnp.exp(-v * v)",
            "fnp.log(1.0 + v * v)", "fnp.log1p(v * v)", "fnp.sqrt(1.0 + v * v)", "v * v * 0.5", "v ** 3 * 0.3",
            "1.0 / (1.5 + fnp.sin(v))", "fnp.square(v)", "fnp.hypot(v, 0.5)", "fnp.logaddexp(v, 0.3)",
            "fnp.logaddexp2(v, -0.2)", "fnp.power(v * v + 0.5, 1.3)", "fnp.reciprocal(2.0 + fnp.tanh(v))",
            "fnp.arcsin(0.5 * fnp.tanh(v))", "fnp.arccos(0.5 * fnp.tanh(v))", "fnp.arctanh(0.5 * fnp.tanh(v))",
            "fnp.tan(0.5 * fnp.tanh(v))", "fnp.arccosh(1.5 + v * v)", "fnp.cbrt(2.0 + fnp.tanh(v))",
            "fnp.sinc(v)", "-v", "fnp.deg2rad(v) * 50.0", "fnp.log2(1.0 + v * v)", "fnp.log10(1.0 + v * v)",
            "softplus(v)", "mulsin(v, v)", "fnp.sin(v).conj()", "np.cos(v)", "np.tanh(v) * 2.0",
        ]
        if big < 3:
            choices += ["fnp.exp(v * 0.5)", "fnp.sinh(v)", "fnp.cosh(v)", "fnp.expm1(v)", "fnp.exp2(v)"]
        if v.size and np.min(np.abs(v)) > MARGIN:
            choices += ["fnp.abs(v)", "abs(v) ** 1.5", "fnp.fabs(v) + v", "fnp.sqrt(fnp.abs(v))", "fnp.log(fnp.abs(v))"]
        self.emit(f"v = {self.pick(choices)}")

    def binary(self) -> None:
        w = self.other()
        wv = np.asarray(eval(w, self.ns))  # noqa: S307 - our own expression
        v = self.v
        choices = [
            f"v * {w}", f"v + {w}", f"{w} - v", f"v / (2.0 + {w})", f"fnp.hypot(v, {w})",
            f"fnp.hypot(v, {w} + 0.3)", f"fnp.logaddexp(v, {w})", f"fnp.power(v * v + 0.5, {w} + 1.5)",
            f"fnp.arctan2(v, 1.5 + {w})", f"fnp.arctan2({w}, 1.5 + v * v)", f"mulsin(v, {w})", f"mulsin({w}, v)",
            f"(1.2 + fnp.sin(v)) ** ({w} * 0.5)", f"fnp.float_power(1.5 + v * v, {w})", f"v @ fnp.ones_like({w})"
            if np.ndim(v) >= 1 and np.shape(wv)[-1:] == np.shape(v)[-1:] else f"v - {w}",
        ]
        diff = np.abs(v - wv)
        if diff.size and np.min(diff) > MARGIN:
            choices += [f"fnp.maximum(v, {w})", f"fnp.minimum({w}, v)", f"fnp.fmax(v, {w})", f"fnp.fmin(v, {w})",
                        f"fnp.where(v > {w}, v * v, {w})", f"{self.fn()}.maximum(v, {w})"]
        if v.size and np.min(np.abs(np.abs(v) - 0.5)) > MARGIN:
            choices += ["fnp.clip(v, -0.5, 0.5)", "v.clip(-0.5, None)", "fnp.clip(v, None, 0.5)"]
        if v.size and np.min(np.abs(wv - 0)) > MARGIN:
            choices += [f"fnp.copysign(v, {w})"]
        self.emit(f"v = {self.pick(choices)}")

    def reduction(self) -> None:
        v = self.v
        if not self.shape:
            return self.elementwise()
        axis = self.pick([self.axis(), None, self.axis()])
        keep = bool(self.rng.integers(2))
        f = self.fn()
        size = v.size if axis is None else v.shape[axis]
        choices = [
            f"{f}.sum(v, axis={axis}, keepdims={keep})", f"{f}.mean(v, axis={axis}, keepdims={keep})",
            f"{f}.prod(v, axis={axis}, keepdims={keep})", f"v.sum(axis={axis})", f"v.mean(axis={axis}, keepdims={keep})",
            f"fnp.average(v, axis={axis})", f"{f}.cumsum(v, axis={axis})", f"{f}.cumprod(v, axis={axis})",
            f"np.add.reduce(v, axis={axis})", "fnp.trapezoid(v)" if v.shape[-1] > 1 else "fnp.sum(v)",
            f"fnp.nansum(v, axis={axis}, keepdims={keep})",
        ]
        if axis is not None:
            choices += [f"np.multiply.accumulate(v, axis={axis})", f"fnp.cumulative_sum(v, axis={axis})"]
        if size > 1:
            choices += [f"{f}.var(v, axis={axis}, keepdims={keep})", f"fnp.var(v, axis={axis}, ddof=1)"]
            if np.ptp(v) > MARGIN:
                choices += [f"{f}.std(v, axis={axis}, keepdims={keep})", f"v.std(axis={axis}, ddof=1)"]
            if axis is not None:
                choices += [f"{f}.diff(v, axis={axis})", f"fnp.diff(v, n=2, axis={axis})" if size > 2 else "v"]
        if _gap(v, axis) > MARGIN:
            choices += [
                f"{f}.max(v, axis={axis}, keepdims={keep})", f"{f}.min(v, axis={axis})", f"v.max(axis={axis})",
                f"{f}.median(v, axis={axis}, keepdims={keep})", f"fnp.quantile(v, 0.3, axis={axis})",
                f"fnp.percentile(v, [20.0, 70.0], axis={axis})", f"fnp.ptp(v, axis={axis})",
                f"fnp.nanmax(v, axis={axis})", f"fnp.amin(v, axis={axis}, keepdims={keep})",
            ]
        self.emit(f"v = {self.pick(choices)}")

    def nan_reduction(self) -> None:
        """A reduction that skips NaN entries planted by ``where``."""
        if not self.shape:
            return self.reduction()
        axis = self.axis()
        mask = self.const(self.shape, "mask")
        self.need(bool(np.all(np.any(self.ns[mask], axis=axis))))
        kind = self.pick(["nanmean", "nansum", "nanvar", "nanprod", "nancumsum", "nanstd"])
        if kind in ("nanvar", "nanstd"):
            self.need(bool(np.all(np.sum(self.ns[mask], axis=axis) >= 2)) and np.ptp(self.v) > MARGIN)
        self.emit(f"v = fnp.{kind}(fnp.where({mask}, v, fnp.nan), axis={axis})")

    def rearrange(self) -> None:
        v = self.v
        if not self.shape:
            return self.emit(self.pick(["v = fnp.reshape(v, (1, 1))", "v = fnp.atleast_1d(v) * x"]))
        a = self.axis()
        n = v.shape[a]
        f = self.fn()
        choices = [
            f"v = {f}.flip(v, axis={a})", f"v = {f}.roll(v, {int(self.rng.integers(-3, 4))}, axis={a})",
            f"v = {f}.tile(v, 2)", f"v = {f}.repeat(v, 2, axis={a})",
            f"v = fnp.repeat(v, {self.rng.integers(0, 3, size=n).tolist()!r}, axis={a})",
            f"v = {f}.take(v, {self.rng.integers(-n, n, size=3).tolist()!r}, axis={a})",
            f"v = fnp.pad(v, 1, mode={self.pick(['constant', 'edge', 'reflect', 'symmetric', 'wrap', 'mean'])!r})",
            f"v = fnp.pad(v, {[(0, 1)] * v.ndim!r}, mode='linear_ramp', end_values=0.5)",
            "v = v[::-1]", f"v = v[{self.rng.integers(0, v.shape[0], size=3).tolist()!r}]", "v = v[1:]" if v.shape[0] > 1 else "v = v[0]",
            "v = v[..., None] * x" if v.shape == self.x.shape else "v = v[None]",
            "v = v.T", f"v = {f}.reshape(v, (-1,))", "v = v.ravel()", f"v = fnp.expand_dims(v, {a})",
            "v = fnp.moveaxis(v, 0, -1)", "v = fnp.squeeze(v)" if 1 in v.shape else "v = fnp.atleast_3d(v)",
            f"v = {f}.concatenate([v, fnp.sin(v)], axis={a})", f"v = fnp.stack([v, v * v], axis={a})",
            f"v = v[{self.const(v.shape, 'mask')}]",
        ]
        if v.ndim >= 2:
            choices += [
                f"v = {f}.triu(v)", "v = fnp.tril(v, -1) + v", f"v = {f}.diagonal(v)", "v = fnp.trace(v)",
                "v = fnp.swapaxes(v, -1, -2)", "v = fnp.rot90(v)", "v = fnp.diagonal(v, offset=1, axis1=-2, axis2=-1)",
                f"v = fnp.take_along_axis(v, {self.rng.integers(0, v.shape[-1], size=v.shape).tolist()!r}, axis=-1)",
                "v = v[:, [0, 0, -1]]" if v.shape[1] >= 1 else "v = v[:, 0]", "v = v[..., 0] + v[..., -1]",
                "v = fnp.transpose(v, (1, 0) + tuple(range(2, v.ndim)))",
            ]
        if v.ndim == 1:
            choices += ["v = fnp.diag(v)", "v = fnp.vstack([v, v[::-1]])", "v = fnp.hstack([v, x.ravel()])"]
        if _gap(v, a) > MARGIN:
            choices += [f"v = {f}.sort(v, axis={a})"]
        if _gap(v, None) > MARGIN:
            choices += ["v = fnp.sort(v, axis=None)"]
        self.emit(self.pick(choices))

    def update(self) -> None:
        """A functional update ``.at[idx]`` with repeated integer indices."""
        v = self.v
        if not self.shape:
            return self.rearrange()
        n = v.shape[0]
        k = int(self.rng.integers(1, 5))
        idx = self.rng.integers(0, n, size=k).tolist()
        idx2 = self.rng.integers(0, n, size=k).tolist()
        value = self.pick([f"fnp.sin(v[{idx2!r}])", self.const((k,) + v.shape[1:]), "0.5", f"x.ravel()[0] + v[{idx2!r}]"])
        method = self.pick(["set", "add", "multiply", "set", "add", "divide", "add"])
        if method == "divide":
            value = f"(2.0 + fnp.tanh({value}))"
        target = "fnp.at(v)"
        if method in ("set", "add", "multiply") and self.rng.random() < 0.3:
            # a 2-D index with a slice
            if v.ndim >= 2:
                return self.emit(f"v = {target}[{idx!r}, 1:].{method}({value if value == '0.5' else 'v[0, 1:]'})")
        if self.rng.random() < 0.2 and _gap(v[idx], None) > MARGIN and not self.program.complex:
            method = self.pick(["min", "max"])
            self.need(_gap(np.concatenate([np.ravel(v[idx]), np.ravel(eval(value, self.ns))]), None) > MARGIN)  # noqa: S307
        if self.rng.random() < 0.25:
            mask = self.const(v.shape, "mask")
            return self.emit(self.pick([
                f"v = {target}[{idx!r}].apply(fnp.sin)", f"v = {target}[{mask}].set(0.5)",
                f"v = {target}[{mask}].multiply(1.5 + fnp.sin(x.ravel()[0]))", f"v = {target}[{idx!r}].get() * v[0]",
                f"v = {target}[..., {idx2[:2]!r}].add(0.5 * v[..., {idx[:2]!r}])" if v.ndim >= 2 else f"v = {target}[{idx!r}].add(v[{idx2!r}])",
            ]))
        self.emit(f"v = {target}[{idx!r}].{method}({value})")

    def contraction(self) -> None:
        v = self.v
        if not self.shape:
            return self.binary()
        k = v.shape[-1]
        m = int(self.rng.integers(1, 4))
        choices = [
            f"v @ {self.const((k, m))}", f"fnp.dot(v, {self.const((k,))})", f"fnp.tensordot(v, {self.const((k, m))}, axes=1)",
            f"fnp.kron(v, {self.const((2,) * min(v.ndim, 2))})", f"fnp.outer(v, {self.const((m,))})",
            f"fnp.inner(v, {self.const((m, k))})", "fnp.vdot(v, v)", "fnp.kron(v, v)" if v.size <= 6 else "v",
            "fnp.einsum('...i,...i->...', v, v)", f"np.matmul(v, {self.const((k,))})", f"{self.fn()}.dot(v, {self.const((k, 2))})",
            f"fnp.convolve(fnp.ravel(v), {self.const((2,))}, mode={self.pick(['full', 'same', 'valid'])!r})",
            f"fnp.correlate(fnp.ravel(v), {self.const((2,))}, mode='full')",
        ]
        if v.ndim >= 2:
            choices += ["v @ fnp.swapaxes(v, -1, -2)", "fnp.matmul(fnp.swapaxes(v, -1, -2), v)",
                        f"fnp.tensordot(v, {self.const(v.shape[-2:])}, axes=2)",
                        f"fnp.tensordot(v, {self.const((v.shape[0], 2))}, axes=([0], [0]))"]
        if k == 3:
            choices += [f"fnp.cross(v, {self.const((3,))})", "fnp.cross(v, fnp.sin(v))"]
        self.emit(f"v = {self.pick(choices)}")

    def einsum(self) -> None:
        """``einsum`` with random subscripts: ``v`` and possibly a constant or ``v`` again."""
        v = self.v
        letters = "abcdefg"
        ins = letters[: v.ndim]
        sizes = dict(zip(ins, v.shape))
        # a repeated letter (a diagonal) when two axes have the same length
        if v.ndim >= 2 and v.shape[-1] == v.shape[-2] and self.rng.random() < 0.3:
            ins = ins[:-1] + ins[-2]
        operands, subs = ["v"], [ins]
        second = self.rng.integers(3)
        if second == 1 and ins:
            keep = [c for c in ins if self.rng.random() < 0.5]
            fresh = "xy"[: int(self.rng.integers(0, 2))]
            sub = "".join(self.rng.permutation(list(dict.fromkeys(keep + list(fresh))))) if keep or fresh else ""
            sizes.update({c: int(self.rng.integers(1, 4)) for c in fresh})
            operands.append(self.const(tuple(sizes[c] for c in sub)))
            subs.append(sub)
        elif second == 2:
            operands.append("v")
            subs.append(ins)
        present = list(dict.fromkeys("".join(subs)))
        out = [c for c in present if self.rng.random() < 0.5]
        out = list(self.rng.permutation(out)) if out else []
        spec = ",".join(subs) + "->" + "".join(out)
        self.emit(f"v = fnp.einsum({spec!r}, {', '.join(operands)})")

    def fft(self) -> None:
        """A step through the complex plane that comes back real."""
        v = self.v
        if not self.shape:
            return self.complex_segment()
        a = self.axis()
        n = v.shape[a]
        norm = self.pick([None, "ortho", "forward", "backward"])
        choices = [
            f"v = fnp.real(fnp.fft.fft(v, axis={a}, norm={norm!r}))",
            f"v = fnp.imag(fnp.fft.ifft(v, n={n + 1}, axis={a}))",
            f"v = fnp.abs(fnp.fft.rfft(v, axis={a})) ** 2",
            f"v = fnp.fft.irfft(fnp.fft.rfft(v, axis={a}) * {self.const((n // 2 + 1,) + (1,) * (-a - 1), 'complex')}, n={n}, axis={a})",
            f"v = fnp.fft.irfft(fnp.fft.fft(v, axis={a}), axis={a}, norm={norm!r})",
            "v = fnp.real(fnp.fft.fft2(v) * fnp.conj(fnp.fft.fft2(v)))" if v.ndim >= 2 else "v = fnp.fft.hfft(v)",
            f"v = fnp.fft.hfft(v * (1 + 0.5j), axis={a})",
            f"v = fnp.imag(fnp.fft.ihfft(v, axis={a}))",
            f"v = fnp.real(fnp.fft.fftn(v, s={[d + 1 for d in v.shape]!r}))",
            "v = fnp.fft.irfftn(fnp.fft.rfftn(v))" if v.ndim >= 1 else "v = v",
            "v = fnp.real(fnp.fft.fftshift(fnp.fft.fft(v)))",
        ]
        self.emit(self.pick(choices))

    def complex_segment(self) -> None:
        """Go complex, do 0-2 complex steps, come back real."""
        v = self.v
        c = self.const(self.pick([(), self.shape[-1:]]), "complex")
        into = self.pick([
            f"v = v * {c}", "v = fnp.exp(1j * v)", "v = v + 1j * fnp.sin(x)" if self.fits_x() else "v = v + 0.5j",
            "v = fnp.fft.fft(v)" if v.ndim else "v = v * (0.5 - 1j)", "v = v * (1 - 0.5j)",
        ])
        lines = [into]
        for _ in range(int(self.rng.integers(0, 3))):
            lines.append(self.pick([
                "v = fnp.sin(v)", "v = fnp.exp(0.5 * v)", "v = v * v", f"v = v * {c} + 0.3", "v = fnp.conj(v) * 2.0",
                "v = fnp.cumsum(v, axis=-1)" if v.ndim else "v = v + v", "v = fnp.sum(v, axis=0)" if v.ndim else "v = -v",
                "v = fnp.einsum('...i,...i->...', v, v)" if v.ndim else "v = v / (2.0 + 0.5j)", "v = fnp.tanh(0.5 * v)",
                "v = v[::-1]" if v.ndim else "v = v ** 2", "v = fnp.fft.ifft(v)" if v.ndim else "v = 1.0 / (3.0 + v)",
                "v = fnp.sqrt(2.0 + v)",
            ]))
            if "sqrt" in lines[-1]:
                z = self.peek(lines[:-1]) + 2.0
                self.need(bool(np.all((z.real > MARGIN) | (np.abs(z.imag) > MARGIN))))
        z = self.peek(lines)
        back = ["v = fnp.real(v)", "v = fnp.imag(v)", "v = fnp.abs(v) ** 2", "v = (v * fnp.conj(v)).real",
                "v = v.imag + v.real", "v = fnp.real(v * v)"]
        if z.size and np.min(np.abs(z)) > MARGIN:
            back.append("v = fnp.abs(v)")
            if np.all((z.real > MARGIN) | (np.abs(z.imag) > MARGIN)):
                back.append("v = fnp.angle(v)")
        lines.append(self.pick(back))
        self.try_lines(lines, real=True)

    def linalg(self) -> None:
        """Linear algebra on a square matrix (or a stack of them) made from ``v``."""
        v = self.v
        if v.ndim == 0:
            return self.binary()
        if not (v.ndim >= 2 and v.shape[-1] == v.shape[-2] and v.shape[-1] >= 2):
            k = min(v.shape[-1], 3)
            if k < 2:
                k = 2
                self.try_lines([f"v = v[..., :1] * {self.const((2,))}"])
            self.try_lines([f"v = v[..., :{k}, None] * {self.const((k, k))} + {self.const((k, k))}"])
        A = self.v
        n = A.shape[-1]
        eye = f"fnp.eye({n}, dtype=v.dtype)"
        sym = "(v + fnp.swapaxes(v, -1, -2))"
        spd = f"(v @ fnp.swapaxes(v, -1, -2) + {eye})"
        wide = f"(v + {n}.0 * {eye})"
        choices = [
            f"v = fnp.linalg.cholesky({spd})", f"v = fnp.linalg.inv({spd})", "v = fnp.linalg.det(v)",
            "v = fnp.linalg.norm(v)", "v = fnp.linalg.norm(v, axis=-1)", "v = fnp.linalg.norm(v, ord=3, axis=-1)",
            "v = fnp.linalg.vector_norm(v, ord=2)", f"v = fnp.trace(fnp.linalg.inv({spd}) @ v)",
            "v = fnp.linalg.multi_dot([v, v, v])" if A.ndim == 2 else "v = v @ v @ v",
            f"v = fnp.linalg.slogdet({spd})[1]", "v = fnp.linalg.matrix_power(v, 3)",
        ]
        if float(np.max(np.linalg.cond(A + n * np.eye(n)))) < 20:
            choices += [
                f"v = fnp.linalg.solve({wide}, {self.const((n,))})" if A.ndim == 2 else f"v = fnp.linalg.solve({wide}, v)",
                f"v = fnp.linalg.solve({wide}, v[..., 0:1])", f"v = fnp.linalg.inv({wide})", f"v = fnp.linalg.det({wide})",
                f"v = fnp.linalg.slogdet({wide})[1]", f"v = fnp.linalg.slogdet({wide}).logabsdet",
                f"v = fnp.linalg.matrix_power({wide}, -2)", f"v = fnp.linalg.pinv({wide})",
                f"v = fnp.linalg.qr({wide})[1] ** 2", f"v = fnp.linalg.qr({wide}).Q ** 2",
                f"v = fnp.linalg.lstsq({wide}, {self.const((n,))})[0]" if A.ndim == 2 else f"v = fnp.linalg.inv({wide} @ {wide})",
                f"v = fnp.log(fnp.abs(fnp.linalg.det({wide})))",
            ]
        spd_v = A @ np.swapaxes(A, -1, -2) + np.eye(n)
        if _gap(np.linalg.eigvalsh(spd_v), -1) > MARGIN:
            choices += [f"v = fnp.linalg.eigvalsh({spd})", f"v = fnp.linalg.eigh({spd})[0]",
                        f"v = fnp.linalg.eigh({spd}).eigenvalues", f"v = fnp.linalg.norm({spd}, ord=2, axis=(-2, -1))",
                        f"v = fnp.linalg.eigh({spd})[1] ** 2"]
        if _gap(np.linalg.eigvalsh(A + np.swapaxes(A, -1, -2)), -1) > MARGIN:
            choices += [f"v = fnp.linalg.eigvalsh({sym})",
                        f"v = fnp.linalg.eigh({sym})[1] @ fnp.swapaxes(fnp.linalg.eigh({sym})[1] ** 3, -1, -2)"]
        sv = np.linalg.svd(A, compute_uv=False)
        if _gap(sv, -1) > MARGIN and np.min(sv) > MARGIN:
            choices += ["v = fnp.linalg.svd(v, compute_uv=False)", "v = fnp.linalg.svdvals(v)",
                        "v = fnp.linalg.norm(v, ord='nuc', axis=(-2, -1))", "v = fnp.linalg.norm(v, ord=2, axis=(-2, -1))",
                        "v = fnp.linalg.norm(v, ord=-2, axis=(-2, -1))", "v = fnp.linalg.cond(v)",
                        "v = fnp.linalg.svd(v)[0] ** 2", "v = fnp.linalg.svd(v).S"]
        if np.min(np.abs(A)) > MARGIN:
            if _gap(np.sum(np.abs(A), axis=-2), -1) > MARGIN:
                choices += ["v = fnp.linalg.norm(v, ord=1, axis=(-2, -1))"]
            if _gap(np.sum(np.abs(A), axis=-1), -1) > MARGIN:
                choices += ["v = fnp.linalg.norm(v, ord=fnp.inf, axis=(-2, -1))"]
            choices += ["v = fnp.linalg.norm(v, ord=1, axis=-1)"]
            if _gap(np.abs(A), -1) > MARGIN:
                choices += ["v = fnp.linalg.norm(v, ord=fnp.inf, axis=-1)", "v = fnp.linalg.norm(v, ord=-fnp.inf, axis=-1)"]
        self.emit(self.pick(choices))

    def misc(self) -> None:
        """The rest of the surface: statistics, set-like and splitting functions, remainders, keywords."""
        v = self.v
        if not self.shape:
            return self.emit(self.pick(["v = fnp.broadcast_to(v, (2, 3)) * x", "v = fnp.append(v, x)",
                                        "v = fnp.ldexp(v, 2)", "v = fnp.nan_to_num(v)", "v = fnp.stack([v, v * x])"]))
        a = self.axis()
        n = v.shape[a]
        mask = self.const(v.shape, "mask")
        m = self.ns[mask]
        choices = [
            "v = fnp.gradient(v, axis=-1)" if v.shape[-1] > 1 else "v = fnp.ediff1d(v)",
            "v = fnp.ediff1d(v, to_begin=0.5)", f"v = fnp.append(v, fnp.sin(v), axis={a})",
            f"v = fnp.insert(v, 1, 0.5, axis={a})", f"v = fnp.delete(v, 0, axis={a})" if n > 1 else "v = fnp.resize(v, (5,))",
            "v = fnp.resize(v, (2, 3))", f"v = fnp.concatenate(fnp.array_split(v, 2, axis={a})[::-1], axis={a})",
            f"v = fnp.compress({self.rng.random(n) < 0.7!r}.tolist(), v, axis={a})".replace("array(", "np.array("),
            f"v = fnp.extract({mask}, v)" if m.any() else "v = fnp.ravel(v)",
            "v = fnp.broadcast_to(v, (2,) + v.shape)", "v = fnp.dstack([v, v * v])", "v = fnp.column_stack([v, v])",
            f"v = fnp.sum(v, axis={a}, where={mask})", f"v = fnp.mean(v, where={mask})" if m.any() else "v = -v",
            f"v = fnp.max(v, axis={a}, initial=5.0)", f"v = fnp.average(v, axis={a}, weights={self.const((n,), 'positive')})",
            f"v = fnp.trapezoid(v, x={np.sort(self.rng.uniform(0, 1, n)).round(3).tolist()!r}, axis={a})",
            f"v = fnp.cumulative_prod(v, axis={a}, include_initial=True)", f"v = fnp.nancumprod(v, axis={a})",
            f"v = fnp.logaddexp(fnp.where({mask}, v, -fnp.inf), 0.2)", "v = fnp.nan_to_num(v)", "v = fnp.ldexp(v, -1)",
            "v = fnp.select([v > 10.0, v < -10.0], [v * v, -v], default=fnp.sin(v))", "v = fnp.real_if_close(v + 0j)",
            "v = fnp.modf(v * 0.3)[0]" if np.all(np.abs(v * 0.3) < 1) and np.min(np.abs(v)) > MARGIN else "v = fnp.cos(v)",
            "v = fnp.matvec(fnp.outer(v.ravel(), v.ravel()), v.ravel())", "v = fnp.vecdot(v, fnp.sin(v))",
            "v = fnp.vecmat(v.ravel(), fnp.outer(v.ravel(), v.ravel()))", "v = fnp.linalg.vecdot(v, v)",
            "v = fnp.linalg.outer(v.ravel(), fnp.cos(v.ravel()))", "v = fnp.linalg.matrix_norm(fnp.atleast_2d(v))",
        ]
        r = np.mod(v / 0.7, 1.0)
        if np.all((r > MARGIN) & (r < 1 - MARGIN)):
            choices += ["v = fnp.fmod(v, 0.7)", "v = fnp.remainder(v, 0.7)", "v = fnp.divmod(v, 0.7)[1]", "v = v % 0.7"]
        xp = [-0.6, -0.1, 0.45]
        if np.min(np.abs(v[..., None] - np.array(xp))) > MARGIN:
            choices += [f"v = fnp.interp(v, {xp!r}, [0.3, -0.2, 0.8])", f"v = fnp.interp(v, {xp!r}, fnp.sin(x).ravel()[:1] * {xp!r})"]
        if v.ndim == 2 and v.shape[1] > 1 and np.min(np.ptp(v, axis=1)) > MARGIN:
            choices += ["v = fnp.cov(v)", "v = fnp.corrcoef(v)", "v = fnp.cov(v, ddof=0, rowvar=False)" if v.shape[0] > 1 else "v = fnp.cov(v)"]
        if _gap(v, a) > MARGIN:
            choices += [f"v = fnp.nanmedian(v, axis={a})", f"v = fnp.nanquantile(v, 0.7, axis={a})",
                        f"v = fnp.nanpercentile(v, 40.0, axis={a})", f"v = fnp.nanmin(v, axis={a})",
                        f"v = fnp.quantile(v, [0.1, 0.5], axis={a}, method={self.pick(['linear', 'midpoint', 'nearest', 'lower', 'higher'])!r})",
                        f"v = fnp.partition(v, 1, axis={a})" if n > 1 else "v = fnp.sort(v)"]
        if v.ndim >= 2 and v.shape[-1] == v.shape[-2] and v.shape[-1] > 1:
            A = v + v.shape[-1] * np.eye(v.shape[-1])
            ev = np.linalg.eigvals(A)
            # distinct eigenvalues: at exact ties eig's second derivatives are not defined (docs/linalg)
            ties = np.abs(ev[..., :, None] - ev[..., None, :]) + np.where(np.eye(ev.shape[-1]) > 0, np.inf, 0.0)
            if np.min(ties) > MARGIN:
                choices += [f"v = fnp.real(fnp.sum(fnp.linalg.eigvals(v + {v.shape[-1]}.0 * fnp.eye({v.shape[-1]}, dtype=v.dtype)) ** 2, axis=-1))",
                            f"v = fnp.real(fnp.prod(fnp.linalg.eig(v + {v.shape[-1]}.0 * fnp.eye({v.shape[-1]}, dtype=v.dtype))[0], axis=-1))",
                            "v = fnp.linalg.matrix_transpose(v) @ fnp.linalg.diagonal(v)[..., None]",
                            "v = fnp.linalg.trace(v) + fnp.linalg.matrix_norm(v, ord='fro')"]
            if np.min(np.abs(np.diff(np.sort_complex(ev), axis=-1)), initial=np.inf) > MARGIN:
                choices += [f"v = fnp.abs(fnp.linalg.eig(v + {v.shape[-1]}.0 * fnp.eye({v.shape[-1]}, dtype=v.dtype))[1]) ** 2"]
        if v.shape[-1] == 3:
            choices += ["v = fnp.linalg.cross(v, fnp.cos(v))"]
        self.emit(self.pick(choices))

    def custom(self) -> None:
        self.emit(self.pick(["v = softplus(v)", "v = mulsin(v, x)" if self.fits_x()
                             else "v = mulsin(0.5, v)", "v = mulsin(v, 0.3) + softplus(-v)"]))

    def checkpoint(self) -> None:
        """A segment of 1-3 steps inside ``fg.checkpoint`` (closing over ``x`` sometimes)."""
        if self.segments >= 2 or any(line.startswith("def ") for line in self.program.lines[-1:]):
            return self.elementwise()
        start = len(self.program.lines)
        before = self.ns["v"]
        for _ in range(int(self.rng.integers(1, 4))):
            self.step(allow_segments=False)
        inner = self.program.lines[start:]
        if not inner:
            return
        del self.program.lines[start:]
        name = f"seg{self.segments}"
        self.segments += 1
        decorator = self.pick(["@fg.checkpoint", "@fg.remat", "@fg.checkpoint"])
        block = "\n".join([decorator, f"def {name}(v):", *("    " + part for line in inner for part in line.split("\n")), "    return v"])
        after = self.ns["v"]
        self.ns["v"] = before
        exec(block, self.ns)  # noqa: S102
        self.program.lines.append(block)
        self.program.lines.append(f"v = {name}(v)")
        self.ns["v"] = after

    # --- complex programs: a complex input, complex-safe steps -----------------------------------

    def z_elementwise(self) -> None:
        z = self.v
        big = float(np.max(np.abs(z), initial=0.0))
        choices = [
            "fnp.sin(v)", "fnp.cos(v)", "v * v", "v ** 3 * 0.3", "fnp.conj(v)", "v.conj() * v", "fnp.real(v) * v",
            "fnp.abs(v) ** 2 * v", "fnp.square(v)", "fnp.imag(v) + v", "v * (0.5 - 0.25j)", "-v", "fnp.exp(-v * v)",
            "fnp.real(v)", "fnp.imag(v) * 1j", "v.real - 2.0 * v.imag * 1j", "fnp.conjugate(v) * 1j",
        ]
        if big < 1.5:
            choices += ["fnp.exp(0.5 * v)", "fnp.tanh(0.5 * v)", "fnp.sinh(v)", "fnp.cosh(v)", "fnp.expm1(v)",
                        "1.0 / (2.0 + v)", "fnp.reciprocal(2.5 - v)", "fnp.arctan(0.5 * v)", "fnp.arcsinh(0.5 * v)",
                        "fnp.exp2(v)", "np.sin(v) * np.exp(0.3 * v)"]
        w = 2.0 + z
        if np.all((w.real > MARGIN) | (np.abs(w.imag) > MARGIN)):
            choices += ["fnp.sqrt(2.0 + v)", "fnp.log(2.0 + v)", "fnp.power(2.0 + v, 1.5 - 0.5j)", "(2.0 + v) ** 0.5",
                        "fnp.log10(2.0 + v)", "fnp.log1p(1.0 + v)"]
        if z.size and np.min(np.abs(z)) > MARGIN:
            choices += ["fnp.abs(v)", "v / fnp.abs(v)", "fnp.sqrt(fnp.abs(v))"]
            if np.all((z.real > MARGIN) | (np.abs(z.imag) > MARGIN)):
                choices += ["fnp.angle(v)", "fnp.angle(v, deg=True) * 0.01"]
        self.emit(f"v = {self.pick(choices)}")

    def z_binary(self) -> None:
        w = self.other()
        choices = [f"v * {w}", f"v + {w}", f"{w} - v", f"v / (3.0 + {w})", f"v * fnp.conj({w})", f"fnp.real({w}) * v",
                   f"mulsin(v, {w})", f"mulsin({w}, v)", f"fnp.where({self.const(self.shape, 'mask')}, v, {w} * v)"]
        self.emit(f"v = {self.pick(choices)}")

    def z_reduction(self) -> None:
        v = self.v
        if not self.shape:
            return self.z_elementwise()
        axis = self.pick([self.axis(), None])
        keep = bool(self.rng.integers(2))
        size = v.size if axis is None else v.shape[axis]
        choices = [
            f"fnp.sum(v, axis={axis}, keepdims={keep})", f"fnp.mean(v, axis={axis})", f"fnp.prod(v, axis={axis})",
            f"fnp.cumsum(v, axis={axis})", f"fnp.cumprod(v, axis={axis})", f"v.sum(axis={axis})", "fnp.trapezoid(v)",
            f"fnp.average(v, axis={axis}, weights={self.const((size,) if axis is not None else v.shape, 'positive')})",
            f"np.sum(v, axis={axis})", f"np.add.accumulate(v, axis={axis if axis is not None else 0})",
        ]
        if size > 1:
            choices += [f"fnp.var(v, axis={axis})", f"fnp.diff(v, axis={axis if axis is not None else -1})"]
            if np.ptp(np.abs(v)) > MARGIN:
                choices += [f"fnp.std(v, axis={axis})"]
        self.emit(f"v = {self.pick(choices)}")

    def z_fft(self) -> None:
        v = self.v
        if not self.shape:
            return self.z_elementwise()
        a = self.axis()
        n = v.shape[a]
        norm = self.pick([None, "ortho", "forward"])
        choices = [
            f"fnp.fft.fft(v, axis={a}, norm={norm!r})", f"fnp.fft.ifft(v, n={n + 1}, axis={a})", "fnp.fft.fftn(v)",
            f"fnp.fft.fft(v, n={max(1, n - 1)}, axis={a})", f"fnp.fft.hfft(v, axis={a})", "fnp.fft.ifftshift(v)",
            f"fnp.fft.irfft(v, axis={a})", "fnp.fft.fft2(v)" if v.ndim >= 2 else "fnp.fft.ifftn(v, norm='ortho')",
        ]
        self.emit(f"v = {self.pick(choices)}")

    def z_linalg(self) -> None:
        v = self.v
        if v.ndim == 0:
            return self.z_binary()
        if not (v.ndim >= 2 and v.shape[-1] == v.shape[-2] and v.shape[-1] >= 2):
            k = max(2, min(v.shape[-1], 3))
            self.try_lines([f"v = v[..., :1, None] * {self.const((k, k), 'complex')} + {self.const((k, k), 'complex')}"])
        A = self.v
        n = A.shape[-1]
        eye = f"fnp.eye({n}, dtype=v.dtype)"
        wide = f"(v + {n}.0 * {eye})"
        herm = f"(v @ fnp.conj(fnp.swapaxes(v, -1, -2)) + {eye})"
        choices = ["v = fnp.linalg.det(v)", "v = fnp.linalg.norm(v)", "v = fnp.linalg.norm(v, axis=-1)",
                   "v = v @ v", f"v = fnp.linalg.cholesky({herm})", f"v = fnp.linalg.inv({herm})",
                   "v = fnp.trace(v @ fnp.conj(v))", "v = fnp.linalg.matrix_power(v, 2)"]
        if float(np.max(np.linalg.cond(A + n * np.eye(n)))) < 20:
            choices += [f"v = fnp.linalg.solve({wide}, v[..., :1])", f"v = fnp.linalg.inv({wide})",
                        f"v = fnp.linalg.det({wide})", f"v = fnp.linalg.slogdet({wide})[1]",
                        f"v = fnp.linalg.slogdet({wide})[0]"]
        herm_v = A @ np.conj(np.swapaxes(A, -1, -2)) + np.eye(n)
        if _gap(np.linalg.eigvalsh(herm_v), -1) > MARGIN:
            choices += [f"v = fnp.linalg.eigvalsh({herm})", f"v = fnp.linalg.eigh({herm})[0]"]
        sv = np.linalg.svd(A, compute_uv=False)
        if _gap(sv, -1) > MARGIN and np.min(sv) > MARGIN:
            choices += ["v = fnp.linalg.svd(v, compute_uv=False)", "v = fnp.linalg.norm(v, ord='nuc', axis=(-2, -1))"]
        self.emit(self.pick(choices))

    def complex_step(self, allow_segments: bool) -> None:
        kinds: list[tuple[Callable[[], None], int]] = [
            (self.z_elementwise, 5), (self.z_binary, 3), (self.z_reduction, 3), (self.rearrange, 3),
            (self.update, 2), (self.contraction, 2), (self.einsum, 2), (self.z_fft, 1), (self.z_linalg, 2),
        ]
        if allow_segments:
            kinds.append((self.checkpoint, 1))
        weights = np.array([w for _, w in kinds], float)
        for _ in range(20):
            kind = kinds[int(self.rng.choice(len(kinds), p=weights / weights.sum()))][0]
            try:
                kind()
                return
            except (_Reject, ValueError, IndexError, TypeError):
                continue

    def step(self, allow_segments: bool = True) -> None:
        if self.program.complex:
            return self.complex_step(allow_segments)
        kinds: list[tuple[Callable[[], None], int]] = [
            (self.elementwise, 5), (self.binary, 4), (self.reduction, 3), (self.nan_reduction, 1),
            (self.rearrange, 4), (self.update, 2), (self.contraction, 2), (self.einsum, 2), (self.fft, 1),
            (self.complex_segment, 1), (self.linalg, 2), (self.custom, 1), (self.misc, 3),
        ]
        if allow_segments:
            kinds.append((self.checkpoint, 1))
        if self.control:
            kinds.append((self.control_flow, 4))
        weights = np.array([w for _, w in kinds], float)
        for _ in range(20):
            kind = kinds[int(self.rng.choice(len(kinds), p=weights / weights.sum()))][0]
            try:
                kind()
                return
            except (_Reject, ValueError, IndexError, TypeError):
                continue

    def control_flow(self) -> None:
        """Python ``if``/``while`` on values and gathers at value-dependent positions (guards and recorded
        positions under jit)."""
        flat = "fnp.ravel(v)"
        choices = [
            "if fnp.sum(v) > 0:\n    v = fnp.sin(v)\nelse:\n    v = v * 1.5",
            "if fnp.max(v) > 0.5:\n    v = v - 0.25",
            "while fnp.max(fnp.abs(v)) > 1.5:\n    v = v / 2.0",
            f"v = {flat}[fnp.argsort({flat})]",
            f"v = v * {flat}[fnp.argmax({flat})]",
            f"v = fnp.at({flat})[fnp.argmin({flat})].set(0.5)",
            "v = fnp.where(v > fnp.median(v), v, -v)",
            f"v = {flat}[{flat} > 0.1] if fnp.any({flat} > 0.1) else v",
        ]
        if self.shape:
            choices += [f"v = fnp.sort(v, axis={self.axis()})", "v = fnp.take_along_axis(v, fnp.argsort(v, axis=-1), axis=-1)"]
        self.emit(self.pick(choices))


def _sensitive(program: Program) -> bool:
    """Whether the program's output moves with its input (a zero derivative would test nothing), not wildly."""
    f = program.function()
    x = np.asarray(program.input(), np.complex128 if program.complex else np.float64)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            d = rng.standard_normal(x.shape) * 1e-4
            slope = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / 2e-4
            steepest = np.max(np.abs(slope), initial=0.0)
            if steepest > 1e3 or not np.isfinite(steepest):
                return False  # too steep for finite differences to check to 1e-5
            if steepest > 1e-3:
                return True
    return False


def _single_precision_ok(program: Program) -> bool:
    """A float32/complex64 program whose finite differences at float32's step match float64's.

    Otherwise the program is too ill-conditioned for a single-precision check to mean anything.
    """
    if program.dtype not in ("float32", "complex64") or program.wide:
        return True
    f = program.function()
    x = program.input()
    d = np.random.default_rng(2).standard_normal(x.shape).astype(x.dtype)
    x64, d64 = (np.asarray(a, np.result_type(a, np.float64)) for a in (x, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = (np.asarray(f(x + np.float32(3e-3) * d), np.complex128) - np.asarray(f(x - np.float32(3e-3) * d))) / 6e-3
        double = (np.asarray(f(x64 + 1e-6 * d64), np.complex128) - np.asarray(f(x64 - 1e-6 * d64))) / 2e-6
    scale = max(1.0, float(np.max(np.abs(double), initial=0.0)))
    return bool(np.all(np.isfinite(single)) and np.max(np.abs(single - double), initial=0.0) < 2e-3 * scale)


@functools.cache
def make_program(seed: int, control: bool = False) -> Program:
    """The random program for ``seed``: deterministic, 3-12 steps, safe at its input, with a derivative that is not ~0.

    With ``control`` the steps also include Python control flow on values and value-dependent gathers.
    """
    for attempt in range(20):
        builder = _Builder(seed, attempt, control)
        for _ in range(int(builder.rng.integers(3, 13))):
            builder.step()
        program = builder.program
        # drop constants drawn for steps that were not kept, and number the rest C0, C1, ...
        used = "\n".join(program.lines)
        kept = [k for k in program.constants if re.search(rf"\b{k}\b", used)]
        names = {k: f"C{i}" for i, k in enumerate(kept)}
        program.lines = [re.sub(r"\bC\d+\b", lambda m: names[m.group(0)], line) for line in program.lines]
        program.constants = {names[k]: program.constants[k] for k in kept}
        if _sensitive(program) and _single_precision_ok(program):
            break
    return program
