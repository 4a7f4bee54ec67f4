"""Every function of ``funcgrad.numpy`` documents itself: ``help(fnp.sin)`` describes ``sin``."""

from __future__ import annotations

import pydoc

import numpy as np
import pytest

import funcgrad.numpy as fnp
from funcgrad._trace import Primitive

PRIMITIVES = sorted(name for name in dir(fnp) if isinstance(getattr(fnp, name), Primitive))


def test_many_public_functions_are_primitives() -> None:
    assert len(PRIMITIVES) > 50


@pytest.mark.parametrize("name", PRIMITIVES)
def test_a_primitive_has_its_own_docstring(name: str) -> None:
    prim = getattr(fnp, name)
    doc = prim.__doc__
    assert doc and doc != type(prim).__dict__["__doc__"].text
    assert f"``{prim.name}`` primitive" in doc
    numpy_function = getattr(np, name, None)
    if numpy_function is prim.impl:
        assert doc.splitlines()[0] and doc.splitlines()[0] in (numpy_function.__doc__ or "")


def test_help_shows_the_function_not_the_class() -> None:
    text = pydoc.render_doc(fnp.sin, renderer=pydoc.plaintext)
    assert "Trigonometric sine, element-wise." in text
    assert "A ufunc primitive" not in text
    assert "A NumPy operation with derivative rules" in (Primitive.__doc__ or "")
