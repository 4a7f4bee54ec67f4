"""Random NumPy programs replayed by jit give the eager call's bits, at the recording's input and at others.

The programs (tests/random_programs.py with ``control=True``) mix elementwise
steps, reductions, views, ``.at[]`` writes, gathers at fixed and at
value-dependent positions (``argsort``, ``argmax``, masks) and Python
``if``/``while`` on values.  Each is jitted (its value and its gradient),
recorded at its input and replayed at the input, a scaled one, a negated one
and the input again; every replay must equal a fresh eager call bit for bit
(an input where the eager call raises must raise the same error).  The
default run takes a few seeds; ``-m slow`` takes many.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import same_bits
from random_programs import make_program

import funcgrad as fg
import funcgrad.numpy as fnp

FAST, SLOW = 8, 300


def _outcome(fun: Callable[..., Any], x: Any) -> Any:
    try:
        return fg.tree.tree_leaves(fun(x))
    except (ValueError, ArithmeticError, TypeError, IndexError) as error:
        return type(error)


def _assert_same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, type):
        assert got is want, where
        return
    assert not isinstance(got, type), (where, got)
    same_bits(got, want, where)


def check(seed: int) -> None:
    program = make_program(seed, control=True)
    f = program.function()
    loss = lambda x: fnp.sum(fnp.abs(f(x)) ** 2)  # noqa: E731 - real for complex programs too
    x = program.input()
    inputs = [x, x * np.asarray(1.3, x.dtype), -x, x]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fun in (("value", f), ("grad", fg.grad(loss))):
            jitted = fg.jit(fun)
            for k, value in enumerate(inputs):
                where = f"jit({name}) at input {k}\n{program.source}"
                _assert_same(_outcome(jitted, value), _outcome(fun, value), where)


@pytest.mark.parametrize("seed", range(FAST))
def test_random_programs_replay_as_eager(seed: int) -> None:
    check(seed)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(10))
def test_random_programs_replay_as_eager_long(block: int) -> None:
    for seed in range(FAST + block * SLOW // 10, FAST + (block + 1) * SLOW // 10):
        check(seed)


def test_the_programs_hold_control_flow_and_value_dependent_gathers() -> None:
    lines = "\n".join(line for seed in range(40) for line in make_program(seed, control=True).lines)
    for word in ("if ", "while ", "argsort", "argmax", "fnp.at("):
        assert word in lines, word
