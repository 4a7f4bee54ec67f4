"""Every user-facing error message, each naming what it got and the fix."""

from __future__ import annotations

from typing import Any

from funcgrad.errors import UnexpectedTracerError


def escaped_tracer(name: str) -> UnexpectedTracerError:
    return UnexpectedTracerError(
        f"funcgrad: '{name}' received a traced value from a transform that has "
        "already returned (or from another thread). A traced value is only valid "
        "inside the function being transformed; return it from that function, or "
        "pass plain values with fg.stop_gradient(x) if you only need the number."
    )


def lost_derivative(what: str, hint: str = "") -> TypeError:
    return TypeError(
        f"funcgrad: {what} of a traced value would lose its derivative. "
        "Inside a function being differentiated keep values as arrays and use "
        "funcgrad.numpy (or numpy) operations on them; if you really want the "
        "plain number and no derivative through it, call fg.stop_gradient(x) first." + (f" {hint}" if hint else "")
    )


def concrete_under_recording(what: str, who: str) -> TypeError:
    names = " (or static_argnames=('name',))" if who == "jit" else ""
    return TypeError(
        f"funcgrad: {what} of a value traced by {who} would bake this call's number into a program that is "
        "replayed for other values. Keep it an array and use funcgrad.numpy (or numpy) operations on it; "
        "if the function really needs the Python number, mark that argument static: "
        f"{who}(f, static_argnums=(i,)){names}, and each value gets its own recording."
    )


def inplace_assignment() -> TypeError:
    return TypeError(
        "funcgrad: traced arrays are immutable, so 'x[idx] = v' cannot be "
        "differentiated. Use the functional update 'x = x.at[idx].set(v)' "
        "(also .add, .multiply, .divide, .min, .max), which returns a new array."
    )


def unsupported_numpy(name: str) -> TypeError:
    return TypeError(
        f"funcgrad: NumPy function '{name}' has no derivative rule in funcgrad, so "
        "calling it on a traced value would silently drop the derivative. Use a "
        "supported funcgrad.numpy function (see docs/coverage.md), wrap the value "
        "in fg.stop_gradient(x) if no derivative is needed through it, or define a "
        "rule with fg.custom_vjp / fg.custom_jvp."
    )


def missing_rule(name: str, argnum: int, mode: str) -> TypeError:
    return TypeError(
        f"funcgrad: primitive '{name}' has no {mode} rule for argument {argnum}, so "
        "its derivative cannot be computed. Pass that argument through "
        "fg.stop_gradient, or define a rule with fg.custom_vjp / fg.custom_jvp."
    )


def describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__} ({value!r})"
