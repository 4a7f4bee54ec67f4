"""Randomized derivative tests: random programs checked against finite differences and each other.

The default run checks a few hundred programs.  The long run is opt-in:

    python -m pytest -m slow tests/test_random_programs.py            # thousands
    FUNCGRAD_RANDOM_PROGRAMS=20000 python -m pytest -m slow tests/test_random_programs.py

A failure prints the program's complete source as a reproduction.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from random_programs import make_program

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

DEFAULT = 240
LONG = int(os.environ.get("FUNCGRAD_RANDOM_PROGRAMS", "3000"))
BLOCK = 40


def _near_kink(program, x) -> bool:
    """True when a program with a kink (maximum, max, where) has one within reach of the finite-difference step.

    A kink shows up as a second difference far larger than a smooth function's (~f'' * 1e-8).
    """
    if not any(word in line for line in program.lines for word in ("max", "where")):
        return False
    f = program.function()
    base = np.asarray(f(x))
    rng = np.random.default_rng(0)
    for _ in range(3):
        d = rng.standard_normal(np.shape(x)) * 1e-4
        second = np.asarray(f(x + d)) + np.asarray(f(x - d)) - 2 * base
        if np.max(np.abs(second), initial=0.0) > 1e-6:
            return True
    return False


def check_program(seed: int) -> None:
    program = make_program(seed)
    f = program.function()
    x = program.input()
    if _near_kink(program, x):
        return
    try:
        out = f(x)
        check_grads(f, (x,), order=1, modes=("fwd", "rev"))
        scalar = lambda x: fnp.sum(fnp.sin(f(x)))  # noqa: E731
        check_grads(scalar, (x,), order=2, modes=("fwd", "rev"))
        # forward and reverse Jacobians agree exactly (to rounding)
        jf = fg.jacfwd(f)(x)
        jr = fg.jacrev(f)(x)
        assert jf.shape == np.shape(out) + np.shape(x)
        np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
        # the Hessian spelled two ways
        h1 = fg.hessian(scalar)(x)
        h2 = fg.jacrev(fg.jacfwd(scalar))(x)
        np.testing.assert_allclose(h1, h2, rtol=1e-9, atol=1e-11)
    except Exception as exc:
        raise AssertionError(
            f"random program {seed} failed: {type(exc).__name__}: {exc}\n--- reproduction ---\n{program.source}"
        ) from exc


@pytest.mark.parametrize("block", range(DEFAULT // BLOCK))
def test_random_programs(block):
    for seed in range(block * BLOCK, (block + 1) * BLOCK):
        check_program(seed)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(max(1, LONG // BLOCK)))
def test_random_programs_long(block):
    for seed in range(100_000 + block * BLOCK, 100_000 + (block + 1) * BLOCK):
        check_program(seed)


def test_generator_is_deterministic_and_varied():
    a, b = make_program(7), make_program(7)
    assert a.lines == b.lines and a.source == b.source
    kinds = set()
    for seed in range(200):
        for line in make_program(seed).lines:
            kinds.update(word for word in ("sum", "mean", "max", "@", "dot", "[", "concatenate", "reshape", ".T") if word in line)
    assert kinds >= {"sum", "mean", "max", "@", "dot", "[", "concatenate", "reshape", ".T"}
    lengths = {len(make_program(seed).lines) for seed in range(200)}
    assert min(lengths) >= 3 and max(lengths) <= 12


def test_reproduction_source_runs():
    program = make_program(11)
    namespace: dict = {}
    exec(program.source, namespace)  # noqa: S102
    np.testing.assert_allclose(namespace["f"](namespace["x"]), program.function()(program.input()))


@pytest.mark.parametrize("attribute", ["vjps", "jvps"])
def test_a_wrong_rule_is_caught(monkeypatch, attribute):
    from funcgrad._rules import REGISTRY

    tanh = REGISTRY["tanh"]
    right = getattr(tanh, attribute)[0]
    monkeypatch.setattr(tanh, attribute, (lambda g, ans, x: 1.01 * right(g, ans, x),))
    seeds = [s for s in range(200) if any("tanh" in line for line in make_program(s).lines)][:5]
    assert seeds
    for seed in seeds:
        with pytest.raises(AssertionError, match=f"random program {seed} failed"):
            check_program(seed)
