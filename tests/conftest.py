"""Helpers the tests share: random arrays, pytree comparison, and the tapes a test leaves behind."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from funcgrad._reverse import ReverseTrace
from funcgrad.tree import tree_flatten


def R(*shape: int, dtype: Any = np.float64, seed: int = 0) -> Any:
    """A reproducible random array of ``shape`` (complex dtypes get a random imaginary part); a scalar for ``()``."""
    rng = np.random.default_rng([seed, len(shape), *shape])
    out = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        out = out + 1j * rng.standard_normal(shape)
    out = out.astype(dtype)
    return out if shape else out[()]


def same_leaves(got: Any, expected: Any) -> None:
    """Pytrees with leaves of the same shapes and dtypes and values within 1e-6."""
    got_leaves, _ = tree_flatten(got)
    exp_leaves, _ = tree_flatten(expected)
    assert len(got_leaves) == len(exp_leaves)
    for g, e in zip(got_leaves, exp_leaves):
        assert np.shape(g) == np.shape(e)
        assert np.result_type(g) == np.result_type(e), (np.result_type(g), np.result_type(e))
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)


@pytest.fixture
def reverse_traces(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[ReverseTrace]]]:
    """Weak references to every reverse trace the test makes, with the garbage collector off meanwhile
    (so a tape freed only by the collector, through a reference cycle, still shows as alive)."""
    traces: list[weakref.ref[ReverseTrace]] = []
    original = ReverseTrace.__init__

    def init(self: ReverseTrace, level: int) -> None:
        original(self, level)
        traces.append(weakref.ref(self))

    monkeypatch.setattr(ReverseTrace, "__init__", init)
    gc.disable()
    try:
        yield traces
    finally:
        gc.enable()
