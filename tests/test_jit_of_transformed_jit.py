"""jit of a transform of a jitted function records the transform, not the inner function
(functools.wraps copies the inner Jitted's fields onto the transform's wrapper)."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

W = np.array([1.0, 2.0, -0.5])


def cube_sum(w):
    return fnp.sum(w**3)


@pytest.mark.parametrize(
    "transform",
    [fg.grad, fg.value_and_grad, fg.jacfwd, fg.jacrev, fg.hessian, lambda f: fg.vmap(f)],
)
def test_jit_of_a_transformed_jitted_function_is_the_transform(transform):
    inner = fg.jit(cube_sum)
    want = transform(cube_sum)(W)
    for got in (fg.jit(transform(inner))(W), fg.jit(transform(inner))(W + 0.0)):
        for g, w in zip(
            np.atleast_1d(got) if not isinstance(got, tuple) else got,
            np.atleast_1d(want) if not isinstance(want, tuple) else want,
        ):
            np.testing.assert_array_equal(g, w)
    assert inner(W) == cube_sum(W)
