"""Regression tests for bugs the random programs found (tests/random_programs.py).

Each test reproduces one finding in a few lines.  Tests for bugs in files whose
owner was still at work are marked ``xfail(strict=True)``: they start failing
(as XPASS) once the bug is fixed, so the mark is removed then.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


@pytest.mark.xfail(strict=True, reason="fnp.modf/divmod/frexp pass out=None to NumPy on plain arrays (_ufuncs.py)")
@pytest.mark.parametrize("name", ["modf", "divmod", "frexp"])
def test_two_output_ufuncs_on_plain_arrays(name):
    # fnp.modf(plain) raises "TypeError: 'out' must be a tuple of arrays": NumPy's two-output ufuncs
    # reject out=None, so a program differentiated with finite differences (plain values) breaks.
    x = np.array([0.5, -1.25, 2.75])
    args = (x, 0.7) if name == "divmod" else (x,)
    got = getattr(fnp, name)(*args)
    expected = getattr(np, name)(*args)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    # and the traced call agrees with the plain one
    traced = fg.jvp(lambda x: getattr(fnp, name)(*((x,) + args[1:]))[0], (x,), (np.ones(3),))[0]
    np.testing.assert_array_equal(traced, expected[0])
