"""A seeded generator of small random NumPy programs, for randomized derivative tests.

Each program is straight-line source code over one input ``x``: 3-12 lines,
each applying a funcgrad primitive (elementwise maps, broadcasting with the
input or a constant, reductions, indexing, contractions, shape changes) to
the running value ``v``.  ``Program.source`` is a complete, runnable
reproduction, printed whenever a check fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import funcgrad.numpy as fnp

SHAPES: list[tuple[int, ...]] = [(), (3,), (2, 3), (3, 1), (2, 1, 3)]


@dataclass
class Program:
    seed: int
    input_shape: tuple[int, ...]
    lines: list[str] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def source(self) -> str:
        consts = "\n".join(f"{k} = np.array({v.tolist()!r})" for k, v in self.constants.items())
        body = "\n".join(f"    {line}" for line in self.lines)
        return (
            "import numpy as np\nimport funcgrad as fg\nimport funcgrad.numpy as fnp\n"
            f"{consts}\n\ndef f(x):\n    v = x\n{body}\n    return v\n\n"
            f"x = np.random.default_rng({self.seed}).uniform(-1, 1, size={self.input_shape!r})\n"
        )

    def function(self) -> Callable[[Any], Any]:
        namespace: dict[str, Any] = {"fnp": fnp, "np": np, **self.constants}
        body = "\n".join(f"    {line}" for line in self.lines)
        exec(f"def f(x):\n    v = x\n{body}\n    return v\n", namespace)  # noqa: S102 - our own generated code
        return namespace["f"]  # type: ignore[no-any-return]

    def input(self) -> np.ndarray:
        x = np.random.default_rng(self.seed).uniform(-1, 1, size=self.input_shape)
        return np.asarray(x)


def _broadcast_ok(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.program = Program(seed, SHAPES[self.rng.integers(len(SHAPES))])
        self.shape = self.program.input_shape

    def const(self, shape: tuple[int, ...]) -> str:
        name = f"C{len(self.program.constants)}"
        self.program.constants[name] = np.round(self.rng.uniform(-1, 1, size=shape), 3)
        return name

    def emit(self, line: str, shape: tuple[int, ...]) -> None:
        self.program.lines.append(line)
        self.shape = shape

    # --- the kinds of step -------------------------------------------------------------------

    def elementwise(self) -> None:
        choices = [
            "fnp.sin(v)",
            "fnp.cos(v)",
            "fnp.tanh(v)",
            "fnp.exp(-v * v)",
            "fnp.log(1.0 + v * v)",
            "fnp.sqrt(1.0 + v * v)",
            "v * v * 0.5",
            "v ** 3 * 0.3",
            "1.0 / (1.5 + fnp.sin(v))",
            "fnp.exp(v * 0.5)",
        ]
        self.emit(f"v = {choices[self.rng.integers(len(choices))]}", self.shape)

    def with_input(self) -> None:
        if not _broadcast_ok(self.shape, self.program.input_shape):
            return self.elementwise()
        op = ["v * x", "v + x", "v - fnp.sin(x)", "v / (2.0 + x)", "fnp.maximum(v, x * 0.3 - 0.5)"][self.rng.integers(5)]
        self.emit(f"v = {op}", np.broadcast_shapes(self.shape, self.program.input_shape))

    def with_constant(self) -> None:
        shape = self.shape
        options = [shape, shape[1:], (1,) + shape[1:]] if shape else [(), (2,)]
        cshape = options[self.rng.integers(len(options))]
        c = self.const(cshape)
        op = ["v * {c}", "v + {c}", "{c} - v", "fnp.where({c} > 0, v, 0.5 * v)"][self.rng.integers(4)].format(c=c)
        self.emit(f"v = {op}", np.broadcast_shapes(shape, cshape))

    def reduction(self) -> None:
        if not self.shape:
            return self.elementwise()
        axis = int(self.rng.integers(-len(self.shape), len(self.shape)))
        keep = bool(self.rng.integers(2))
        kind = ["sum", "mean", "max"][self.rng.integers(3)]
        new = list(self.shape)
        if keep:
            new[axis] = 1
        else:
            del new[axis]
        self.emit(f"v = fnp.{kind}(v, axis={axis}, keepdims={keep})", tuple(new))

    def indexing(self) -> None:
        if not self.shape or self.shape[0] < 2:
            return self.reshape()
        n = self.shape[0]
        kind = self.rng.integers(3)
        if kind == 0:
            self.emit("v = v[::-1]", self.shape)
        elif kind == 1:
            idx = self.rng.integers(0, n, size=3).tolist()
            self.emit(f"v = v[{idx!r}]", (3,) + self.shape[1:])
        else:
            self.emit("v = v[1:]", (n - 1,) + self.shape[1:])

    def contraction(self) -> None:
        if not self.shape:
            return self.with_constant()
        k = self.shape[-1]
        m = int(self.rng.integers(1, 4))
        c = self.const((k, m))
        if len(self.shape) == 1:
            self.emit(f"v = fnp.dot(v, {c})", (m,))
        else:
            self.emit(f"v = v @ {c}", self.shape[:-1] + (m,))

    def reshape(self) -> None:
        if len(self.shape) >= 2 and self.rng.integers(2):
            self.emit("v = v.T", self.shape[::-1])
        else:
            size = int(np.prod(self.shape))
            self.emit("v = fnp.reshape(v, (-1,))", (size,))

    def stacking(self) -> None:
        if self.shape != self.program.input_shape or not self.shape:
            return self.with_input()
        self.emit("v = fnp.concatenate([v, fnp.sin(x)], axis=0)", (2 * self.shape[0],) + self.shape[1:])


def make_program(seed: int) -> Program:
    """The random program for ``seed``: deterministic, 3-12 steps."""
    builder = _Builder(seed)
    steps = [
        builder.elementwise,
        builder.elementwise,
        builder.with_input,
        builder.with_constant,
        builder.reduction,
        builder.indexing,
        builder.contraction,
        builder.reshape,
        builder.stacking,
    ]
    for _ in range(int(builder.rng.integers(3, 13))):
        steps[int(builder.rng.integers(len(steps)))]()
    return builder.program
