"""Every row of SPEC's misuse table: the exception type, and a message that names the fix."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

# --- grad of a function whose output is not a real scalar ------------------------------


@pytest.mark.parametrize(
    "fun, fragment",
    [
        (lambda x: x * 2, "shape (3,)"),
        (lambda x: fnp.reshape(x, (3, 1)), "shape (3, 1)"),
        (lambda x: (fnp.sum(x), fnp.sum(x)), "has_aux=True"),
        (lambda x: [fnp.sum(x)], "list"),
        (lambda x: "text", "str"),
    ],
)
def test_grad_of_non_scalar_points_to_vjp(fun, fragment):
    with pytest.raises(TypeError) as info:
        fg.grad(fun)(np.ones(3))
    message = str(info.value)
    assert fragment in message
    assert "vjp" in message


def test_grad_of_complex_output_points_to_holomorphic():
    with pytest.raises(TypeError, match="holomorphic=True"):
        fg.grad(lambda z: z * z)(1.0 + 1.0j)


def test_grad_of_integer_output_names_dtype():
    with pytest.raises(TypeError, match="int"):
        fg.grad(lambda x: np.int64(3))(1.0)


def test_holomorphic_needs_complex_output_and_inputs():
    with pytest.raises(TypeError, match="complex"):
        fg.grad(lambda z: fnp.real(z), holomorphic=True)(1.0 + 1.0j)
    with pytest.raises(TypeError, match=r"holomorphic=True needs complex inputs.*astype\(complex\)"):
        fg.grad(lambda x: x * 1j, holomorphic=True)(1.0)


# --- grad with respect to an integer, boolean or non-numeric argument ----------------------


@pytest.mark.parametrize(
    "arg, dtype",
    [(3, "int64"), (np.arange(3), "int64"), (np.array([True, False]), "bool"), (np.int32(2), "int32")],
)
def test_grad_wrt_integer_names_argument_dtype_and_fix(arg, dtype):
    with pytest.raises(TypeError) as info:
        fg.grad(lambda x: fnp.sum(x * 1.0))(arg)
    message = str(info.value)
    assert "argument 0" in message and dtype in message
    assert "allow_int=True" in message and "float" in message


@pytest.mark.parametrize("arg", ["text", object(), {"a": "text"}])
def test_grad_wrt_non_numeric_names_argument(arg):
    with pytest.raises(TypeError, match="argument 0 is a .*not a number or array"):
        fg.grad(lambda x: 1.0)(arg)


def test_grad_wrt_none_is_an_empty_pytree():
    # as in JAX: None is a pytree with no leaves, so its gradient is None
    assert fg.grad(lambda x, y: y * 2.0)(None, 1.0) is None


def test_grad_wrt_integer_in_second_argument_names_it():
    with pytest.raises(TypeError, match="argument 1 has dtype int"):
        fg.grad(lambda x, n: x * n, argnums=(0, 1))(1.0, 2)


def test_jacobians_reject_integers():
    for jac in (fg.jacfwd, fg.jacrev, fg.hessian):
        with pytest.raises(TypeError, match="int"):
            jac(lambda x: x * 1.0)(np.arange(3))


# --- argnums out of range or not int/tuple ---------------------------------------------


@pytest.mark.parametrize("argnums", [2, -3, (0, 5)])
def test_argnums_out_of_range_names_valid_range(argnums):
    with pytest.raises(ValueError, match=r"valid argnums are 0\.\.1"):
        fg.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


@pytest.mark.parametrize("argnums", [1.0, "0", [0, 1], None, True, ()])
def test_argnums_wrong_type(argnums):
    for transform in (fg.grad, fg.value_and_grad, fg.jacfwd, fg.jacrev, fg.hessian):
        with pytest.raises(TypeError, match="argnums must be an int or a non-empty tuple of ints"):
            transform(lambda x: x, argnums=argnums)


def test_argnums_with_no_arguments():
    with pytest.raises(ValueError, match="no positional arguments"):
        fg.grad(lambda: 1.0)()


# --- cotangent / tangent structure, shape, dtype --------------------------------------


def test_cotangent_shape_mismatch():
    _, vjp_fn = fg.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*received shape \(4,\)"):
        vjp_fn(np.ones(4))


def test_cotangent_structure_mismatch_names_path():
    _, vjp_fn = fg.vjp(lambda x: {"a": x, "b": x}, np.ones(2))
    with pytest.raises(ValueError, match="expected .*received"):
        vjp_fn({"a": np.ones(2)})
    _, vjp_fn = fg.vjp(lambda x: (x, x), np.ones(2))
    with pytest.raises(ValueError, match="structure"):
        vjp_fn(np.ones(2))


def test_cotangent_dtype_mismatch():
    _, vjp_fn = fg.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="must be real.*complex"):
        vjp_fn(np.ones(3) * 1j)
    with pytest.raises(ValueError, match="numeric"):
        vjp_fn(np.array(["a", "b", "c"]))


def test_tangent_mismatches():
    with pytest.raises(ValueError, match=r"shape \(2,\).*received shape \(3,\)"):
        fg.jvp(lambda x: x, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ValueError, match="structure"):
        fg.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="real"):
        fg.jvp(lambda x: x, (1.0,), (1j,))
    with pytest.raises(TypeError, match=r"fg.jvp\(f, \(x,\), \(v,\)\)"):
        fg.jvp(lambda x: x, 1.0, 1.0)
    _, f_jvp = fg.linearize(lambda x: x * 2, np.ones(2))
    with pytest.raises(ValueError, match="received shape"):
        f_jvp(np.ones(5))


# --- in-place assignment into a traced array -----------------------------------------


def test_out_of_a_direct_funcgrad_call_into_a_plain_array_names_the_fixes():
    """``out=`` of a funcgrad.numpy function works into traced arrays and those funcgrad made; a plain
    NumPy ``out`` cannot hold the derivative, and the message says what to use instead."""
    with pytest.raises(TypeError, match=r"stored into a plain NumPy array.*stop_gradient"):
        fg.grad(lambda x: fnp.sum(x, out=np.zeros(())))(np.ones(3))


def test_inplace_operator_does_not_mutate_input():
    x = np.ones(3)

    def f(x):
        x += 1.0  # the argument is a fresh traced value: the caller's array is not written
        return fnp.sum(x * x)

    np.testing.assert_allclose(fg.grad(f)(x), 4 * np.ones(3))
    np.testing.assert_array_equal(x, np.ones(3))


# --- float(), int(), np.asarray() and unsupported NumPy functions -----------------------


@pytest.mark.parametrize(
    "convert",
    [
        float,
        int,
        complex,
        np.asarray,
        np.array,
        lambda x: x.item(),
        lambda x: x.tolist(),
        lambda x: np.asarray(x, dtype=float),
        lambda x: range(3)[x],
    ],
)
def test_conversion_of_traced_value_points_to_stop_gradient(convert):
    with pytest.raises(TypeError) as info:
        fg.grad(lambda x: convert(x) * 1.0)(2.0)
    message = str(info.value)
    assert "derivative" in message
    assert "stop_gradient" in message


def test_conversion_works_after_stop_gradient():
    def f(x):
        scale = float(fg.stop_gradient(x))
        return scale * x

    assert fg.grad(f)(3.0) == 3.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.i0(x), "i0"),
        (lambda x: np.roots(x), "roots"),
        (lambda x: np.histogram(x)[1], "histogram"),
        (lambda x: np.add.reduceat(x, [0, 1]), "reduceat"),
        (lambda x: np.busday_count(x, x), "busday_count"),
    ],
)
def test_unsupported_numpy_function_names_it(call, name):
    with pytest.raises(TypeError) as info:
        fg.grad(lambda x: np.sum(call(x)))(np.array([1.0, 2.0]))
    message = str(info.value)
    assert name in message
    assert "stop_gradient" in message or "custom_vjp" in message


def test_error_inside_transform_leaves_no_state_behind():
    def bad(x):
        raise ZeroDivisionError("user bug")

    with pytest.raises(ZeroDivisionError):
        fg.grad(bad)(1.0)
    assert fg.grad(lambda x: x * x)(3.0) == 6.0
    assert fg.grad(fg.grad(lambda x: x**3))(1.0) == 6.0


def test_escaped_tracer_is_a_clear_error():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    fg.grad(f)(1.0)
    with pytest.raises(fg.errors.UnexpectedTracerError, match="already returned") as info:
        fg.grad(lambda y: y * leaked[0])(2.0)
    assert "stop_gradient" in str(info.value) or "return it" in str(info.value)
    with pytest.raises(TypeError, match="already returned"):  # a TypeError, as JAX's UnexpectedTracerError
        fnp.sin(leaked[0])


# --- where the messages live ------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "funcgrad"


def _names_bound_to_text(scope: ast.AST) -> set[str]:
    """Names a scope assigns a message to (``message = f"..."``, ``text += "..."``), followed through chains."""
    names: set[str] = set()
    grew = True
    while grew:
        grew = False
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in names and _is_text(value, names):
                    names.add(target.id)
                    grew = True
    return names


def _is_text(node: ast.AST, names: set[str]) -> bool:
    """Whether an expression builds a message: a string literal, an f-string, a concatenation, ``%``,
    ``.format``/``.join`` of one, a conditional choosing one, or a name bound to one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left, names) or _is_text(node.right, names)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body, names) or _is_text(node.orelse, names)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _is_text(node.func.value, names)
    return isinstance(node, ast.Name) and node.id in names


def inline_messages(source: str) -> list[tuple[int, str]]:
    """``(line, callee)`` of every message written outside the errors module: an exception (or warning)
    made with message text, a ``raise`` of any call given message text, or ``warnings.warn`` of text.
    Re-raising a bare name and raising a call to ``_errors`` are fine."""
    tree = ast.parse(source)
    scopes: list[ast.AST] = [tree]
    scopes += [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found: set[tuple[int, str]] = set()
    for scope in scopes:
        names = _names_bound_to_text(scope)
        for node in ast.walk(scope):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
            elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
                ("Error", "Exception", "Warning", "warn")
            ):
                call = node
            else:
                continue
            callee = ast.unparse(call.func)
            if callee.startswith("_errors."):
                continue
            if any(_is_text(arg, names) for arg in [*call.args, *(keyword.value for keyword in call.keywords)]):
                found.add((call.lineno, callee))
    return sorted(found)


def test_the_scan_finds_inline_messages() -> None:
    source = """
def f(x, name):
    if x:
        raise ValueError("plain")
    message = f"{name} failed"
    error = TypeError(message)
    raise error
def g():
    raise _errors.some_factory("a part")
def h(e):
    raise e
def k():
    warnings.warn("careful", stacklevel=2)
def m(name):
    raise local_factory("a part " + name)
"""
    assert [callee for _, callee in inline_messages(source)] == [
        "ValueError",
        "TypeError",
        "warnings.warn",
        "local_factory",
    ]


def test_every_message_lives_in_the_errors_module() -> None:
    """Each user-facing message is a named factory in funcgrad/_errors.py (docs/errors.md lists them):
    no ``raise SomeError("...")``, f-string, concatenation or message variable anywhere else."""
    inline = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        if path.name == "_errors.py":
            continue
        inline += [
            f"{relative}:{line}: {callee}(...)" for line, callee in inline_messages(path.read_text(encoding="utf-8"))
        ]
    assert not inline, (
        f"{len(inline)} message(s) written inline; make each a named factory in funcgrad/_errors.py (listed in "
        f"docs/errors.md) and raise _errors.<factory>(...): {inline}"
    )
