"""Every user-facing error message, each naming what it got and the fix.

Each message is a factory: a function named for the situation, taking the variable parts, returning the
exception (or warning) for the caller to raise; tests/test_errors.py fails on a message written anywhere
else, and docs/errors.md lists every factory.  Sections, in this order: the engine (traced values read,
stored or escaped; functions and rules funcgrad lacks); calling a transform; cotangents and tangents;
custom rules; vmap; pytrees; flattened pytrees and solvers; sparse derivatives; testing; fusion; other
libraries' arrays; the primitives' own messages; NumPy's own argument errors (primitives, then
funcgrad.numpy's modules); funcgrad.scipy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad.errors import UnexpectedTracerError

# --- the engine: traced values read, stored or escaped; functions and rules funcgrad lacks; devices ---


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


def number_of_traced(error: TypeError) -> TypeError:
    """``error``, marked as a traced value's refusal of ``float()``/``int()``/``complex()``: NumPy calls
    those when it stores the value into one of its own arrays, and wraps the refusal in a ValueError."""
    error.funcgrad_number = True  # type: ignore[attr-defined]
    return error


STORE_FIXES = (
    "To fill an array with traced values, create it from them: np.zeros_like(x), np.empty_like(x), "
    "np.zeros(n, like=x) or fnp.zeros(n) (then 'out[i] = value' works); to build an array out of traced "
    "values use np.stack([...]) (or fnp.array([...]))."
)


def stored_into_plain_array() -> TypeError:
    return TypeError(
        "funcgrad: a traced value was stored into a plain NumPy array (out[i] = value, where out came from "
        "np.zeros(n) or another NumPy call funcgrad never saw); NumPy can only hold its number, so its "
        f"derivative would be lost. {STORE_FIXES} If you want the plain number, call fg.stop_gradient(x) first."
    )


def array_of_traced(what: str, loss: str = "would lose its derivative") -> TypeError:
    return TypeError(
        f"funcgrad: {what} of a traced value (or of a list holding one, or storing one into a plain NumPy array) "
        f"{loss}: NumPy can only hold its number. {STORE_FIXES} If you really want the plain "
        "number and no derivative through it, call fg.stop_gradient(x) first."
    )


def write_outlives_transform(inner: int, outer: int) -> TypeError:
    return TypeError(
        f"funcgrad: an in-place write stores a value traced by an inner transform (level {inner}) into an array "
        f"traced by an outer one (level {outer}), for example inside a grad nested in the function being "
        "differentiated, into an array made outside it. The array would hold the inner transform's value after "
        "that transform has returned. Make the array inside the inner function (y = np.zeros_like(v), or "
        "y = fnp.zeros(shape) then y[...] = x), or return the value from the inner function and write it outside."
    )


def alias_undecided(what: str) -> TypeError:
    return TypeError(
        f"funcgrad: {what}: whether NumPy would share memory here depends on the memory layout of a value "
        "funcgrad cannot see (a batch under vmap, a Dask array), so a write could diverge from NumPy. Make the "
        "copy explicit (x.reshape(shape).copy(), or x = x.copy() first) before writing."
    )


def traced_hash() -> TypeError:
    return TypeError(
        "unhashable type: a traced value (funcgrad). Its hash would not be the eager call's: a traced value "
        "is an array whose value a transform may not know. Key by id(x), or hash a plain value computed "
        "outside the transformed function (or passed as a static argument of jit)."
    )


def concrete_under_recording(what: str, who: str) -> TypeError:
    names = " (or static_argnames=('name',))" if who == "jit" else ""
    return TypeError(
        f"funcgrad: {what} of a value traced by {who} would bake this call's number into a program that is "
        "replayed for other values. Keep it an array and use funcgrad.numpy (or numpy) operations on it; "
        "if the function really needs the Python number, mark that argument static: "
        f"{who}(f, static_argnums=(i,)){names}, and each value gets its own recording."
    )


def inplace_assignment(what: str) -> TypeError:
    return TypeError(
        f"funcgrad: {what} is not supported on traced values. Call NumPy's own function, which writes "
        "into out (np.sum(x, out=o), np.add(a, b, out=c)), or assign the result (o[...] = fnp.sum(x)); "
        "the functional update 'x = x.at[idx].set(v)' (also .add, .multiply, ...) returns a new array."
    )


def unsupported_numpy(name: str) -> TypeError:
    return TypeError(
        f"funcgrad: NumPy function '{name}' has no derivative rule in funcgrad, so "
        "calling it on a traced value would silently drop the derivative. Use a "
        "supported funcgrad.numpy function (see docs/coverage.md), wrap the value "
        "in fg.stop_gradient(x) if no derivative is needed through it, or define a "
        "rule with fg.custom_vjp / fg.custom_jvp."
    )


def unsupported_device(device: object) -> ValueError:
    return ValueError(
        f"funcgrad: device {device!r} is not available; funcgrad computes on the CPU, where NumPy does "
        "(device 'cpu', or None for the default). A Dask or CuPy primal keeps its own placement."
    )


def unsupported_api_version(version: object, supported: tuple[str, ...]) -> ValueError:
    return ValueError(
        f"funcgrad: Array API version {version!r} is not supported; funcgrad.array_api implements "
        f"{', '.join(supported)} (pass one of these, or None for the newest)."
    )


def not_differentiated_method(name: str) -> TypeError:
    return TypeError(
        f"funcgrad: {name} is SciPy's own method, forwarded for plain values; funcgrad has no derivative "
        "for it, and a traced argument would lose its derivative. Call it with plain values (outside the "
        "function being differentiated, or on fg.stop_gradient(x) where no derivative is needed)."
    )


def unsupported_ufunc(package: str, name: str) -> TypeError:
    return TypeError(
        f"funcgrad: '{package}.{name}' has no derivative rule in funcgrad, so calling it on a traced "
        f"value would silently drop the derivative. funcgrad.{package} lists the differentiable ones; "
        "wrap the value in fg.stop_gradient(x) if no derivative is needed through it, or define a rule "
        "with fg.custom_vjp / fg.custom_jvp."
    )


def missing_rule(name: str, argnum: int, mode: str) -> TypeError:
    return TypeError(
        f"funcgrad: primitive '{name}' has no {mode} rule for argument {argnum}, so "
        "its derivative cannot be computed. Pass that argument through "
        "fg.stop_gradient, or define a rule with fg.custom_vjp / fg.custom_jvp."
    )


def unknown_chunks(what: str, value: Any) -> ValueError:
    """A chunked (Dask) array whose chunk sizes are unknown, as after boolean masking."""
    chunks = tuple(tuple(sizes) for sizes in getattr(value, "chunks", ()))
    axes = [axis for axis, sizes in enumerate(chunks) if any(size != size for size in sizes)]  # NaN != NaN
    shown = ", ".join(f"axis {axis}: {chunks[axis][:4]}{' ...' if len(chunks[axis]) > 4 else ''}" for axis in axes)
    return ValueError(
        f"funcgrad: {what}, a {type(value).__module__}.{type(value).__name__} of shape {tuple(value.shape)}, "
        f"has unknown chunk sizes ({shown}), as after boolean masking: its derivative needs every chunk's "
        "shape. Call x = x.compute_chunk_sizes() first (it computes the chunk sizes once), or keep the shape "
        "with np.where(mask, x, 0) instead of x[mask]."
    )


def describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__} ({value!r})"


# --- calling a transform (funcgrad/_api.py, _batching.py, _jit.py, _checkpoint.py) --------------------


def not_a_function(transform: str, fun: Any) -> TypeError:
    return TypeError(
        f"{transform}: the first argument must be the function to differentiate, got "
        f"{type(fun).__name__} {fun!r:.60}. Pass a Python function first, e.g. lambda x: (x ** 2).sum()."
    )


def expected_a_function(who: str, fun: Any) -> TypeError:
    return TypeError(f"{who}: expected a function, got {type(fun).__name__}. Pass the function itself (f, not f(x)).")


def argnums_type(transform: str, argnums: Any) -> TypeError:
    return TypeError(
        f"{transform}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}. "
        "Example: argnums=0 or argnums=(0, 1)."
    )


def argnums_out_of_range(transform: str, argnums: Any, nargs: int) -> ValueError:
    valid = f"0..{nargs - 1}" if nargs else "none (the function was called with no positional arguments)"
    return ValueError(
        f"{transform}: argnums {argnums!r} is out of range for a call with {nargs} positional "
        f"argument(s); valid argnums are {valid}."
    )


def not_differentiable_type(transform: str, name: str, leaf: Any) -> TypeError:
    return TypeError(
        f"{transform}: {name} is a {type(leaf).__name__}, not a number or array; "
        "differentiate with respect to floating-point arrays or scalars (pytrees of them are fine), "
        "or move it out of argnums."
    )


def integer_input(transform: str, name: str, dtype: Any) -> TypeError:
    return TypeError(
        f"{transform}: {name} has dtype {dtype}, which has no derivative. Pass a float "
        "(e.g. x.astype(float) or 3.0 instead of 3), or use allow_int=True to get a zero (float0) gradient."
    )


def holomorphic_real_input(transform: str, name: str, dtype: Any) -> TypeError:
    return TypeError(
        f"{transform}: holomorphic=True needs complex inputs, but {name} has dtype {dtype}. "
        "Pass complex values (x.astype(complex)) or drop holomorphic=True."
    )


def aux_not_a_pair(transform: str, out: Any) -> TypeError:
    return TypeError(
        f"{transform} with has_aux=True expects the function to return a pair (output, aux), got {type(out).__name__}."
    )


def output_is_a_sequence(transform: str, value: Any) -> TypeError:
    hint = " It returned a pair: if the second item is auxiliary data, use has_aux=True." if len(value) == 2 else ""
    return TypeError(
        f"{transform} requires the function to return a scalar, got a {type(value).__name__} of length "
        f"{len(value)}.{hint} For several outputs use fg.vjp with an explicit cotangent, or fg.jacrev."
    )


def output_not_a_scalar(transform: str, value: Any, shape: Any, dtype: Any, holomorphic: bool) -> TypeError:
    got = f"shape {shape} and dtype {dtype}" if dtype is not None else f"a {type(value).__name__}"
    wanted = "a complex scalar (holomorphic=True)" if holomorphic else "a real scalar (shape () and a float dtype)"
    fix = (
        "Reduce it to a scalar (e.g. .sum()), or use fg.vjp(f, x)[1](cotangent) with an explicit cotangent "
        "of that shape (the head gradient), or fg.jacrev for the full Jacobian."
    )
    if dtype is not None and dtype.kind == "c" and not holomorphic:
        fix = "For a complex output take its real part or abs, or pass holomorphic=True for holomorphic functions."
    return TypeError(f"{transform} needs the function's output to be {wanted}, but got {got}. {fix}")


def holomorphic_real_values(transform: str, what: str, dtype: Any) -> TypeError:
    return TypeError(
        f"{transform} with holomorphic=True needs complex {what}s, got dtype {dtype}. "
        "Drop holomorphic=True for a real function, or make the values complex."
    )


def jacobian_of_complex(transform: str, what: str, dtype: Any) -> TypeError:
    return TypeError(
        f"{transform} needs real-valued {what}s, got dtype {dtype}. For a holomorphic function pass "
        "holomorphic=True; for a non-holomorphic one, split complex values into real and imaginary "
        "parts (see docs/complex.md) or use fg.jvp / fg.vjp directly."
    )


def checkpoint_policy() -> NotImplementedError:
    return NotImplementedError(
        "checkpoint: policy= is not supported; funcgrad recomputes everything inside a checkpointed "
        "function. Drop policy=, or split the function into smaller checkpointed pieces."
    )


def vmap_not_a_function(fun: Any) -> TypeError:
    return TypeError(
        f"vmap: the first argument must be the function to map, got {type(fun).__name__} {fun!r:.60}. "
        "Pass a Python function first, e.g. fg.vmap(lambda x: x ** 2)."
    )


def vmap_axis_size(axis_size: Any) -> ValueError:
    return ValueError(f"vmap: axis_size must be a non-negative int, got {axis_size!r}.")


def ambiguous_truth_value() -> ValueError:
    """NumPy's own words for ``bool()`` of an example with more than one element."""
    return ValueError("The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()")


def jit_not_a_function(who: str, fun: Any) -> TypeError:
    return TypeError(
        f"{who}: the first argument must be the function to record, got {type(fun).__name__} {fun!r:.60}. "
        "Pass a Python function first, e.g. fg.jit(lambda x: x ** 2)."
    )


def jit_untraceable_argument(who: str, where: str, leaf: Any) -> TypeError:
    return TypeError(
        f"{who}: {where} is a {type(leaf).__name__} ({leaf!r:.40}), not an array or number, so it cannot be traced. "
        "Mark that argument static (static_argnums=(i,) or static_argnames=('name',)): its value then becomes "
        "part of the signature the recording is cached under."
    )


def jit_unhashable_static(who: str, where: str, value: Any) -> TypeError:
    return TypeError(
        f"{who}: static {where} is a {type(value).__name__}, which is not hashable; static arguments are "
        "cached by value. Pass a hashable value (a tuple instead of a list, a frozenset instead of a set), "
        "or make it a traced argument."
    )


def jit_static_spec(what: str, kind: str, given: Any) -> TypeError:
    return TypeError(f"jit: {what} must be {kind}, got {given!r}.")


# --- cotangents and tangents handed to vjp / jvp ------------------------------------------------------


def _of(what: str) -> str:
    return "output" if what == "cotangent" else "primal"


def tangent_structure(transform: str, what: str, expected: Any, given: Any, path: str) -> ValueError:
    whose = "the output" if what == "cotangent" else "the primals"
    return ValueError(
        f"{transform}: the {what} must have the structure of {whose}: "
        f"expected {expected}, received {given} (they differ at {path})."
    )


def tangent_not_numeric(transform: str, what: str, where: str, value: Any) -> ValueError:
    return ValueError(f"{transform}: the {what}{where} must be numeric, received {describe(value)}.")


def tangent_shape(transform: str, what: str, where: str, expected: Any, got: Any) -> ValueError:
    return ValueError(
        f"{transform}: the {what}{where} must have shape {expected} (that of the {_of(what)}), received shape {got}."
    )


def tangent_complex(transform: str, what: str, where: str, expected: Any, got: Any) -> ValueError:
    return ValueError(
        f"{transform}: the {what}{where} must be real like its {_of(what)} "
        f"(dtype {expected}), received dtype {got}; take its real part if that is what you mean."
    )


# --- custom rules: custom_vjp, custom_jvp, extend, defsparsity ----------------------------------------


def custom_without_rule(what: str, define: str) -> TypeError:
    return TypeError(
        f"{what} has no rule: call {define} on it before using it "
        "(or use the plain function if no custom derivative is needed)."
    )


def rule_not_a_function(who: str, rule: Any) -> TypeError:
    return TypeError(f"{who}: the rule must be a function, got {type(rule).__name__}.")


def defvjp_not_functions(fwd: Any, bwd: Any) -> TypeError:
    return TypeError(
        f"custom_vjp.defvjp: fwd and bwd must be functions, got {type(fwd).__name__} and {type(bwd).__name__}."
    )


def symbolic_zeros(who: str, instead: str) -> NotImplementedError:
    return NotImplementedError(f"{who}: symbolic_zeros=True is not supported; {instead}. Drop the argument.")


def custom_arguments(what: str, name: str, error: Exception) -> TypeError:
    return TypeError(f"{what}: could not bind the arguments of {name}: {error}")


def custom_keyword_only(what: str, name: str, keywords: list[str]) -> TypeError:
    return TypeError(
        f"{what}: {name} takes keyword-only arguments {keywords}; custom rules take "
        "positional arguments only. Make them positional, or close over them."
    )


def nondiff_argnums_range(what: str, nondiff: Any, nargs: int) -> ValueError:
    return ValueError(
        f"{what}: nondiff_argnums {nondiff} is out of range for a call with {nargs} positional argument(s)."
    )


def nondiff_argument_traced(what: str, position: int, name: str) -> TypeError:
    return TypeError(
        f"{what}: argument {position} of {name} is in nondiff_argnums but is being differentiated "
        "(it is traced by the transform applied to this call). Nondifferentiable arguments must not "
        "carry derivatives: remove it from nondiff_argnums (and return its cotangent from the rule), "
        "or wrap it in fg.stop_gradient."
    )


def custom_closure(what: str) -> TypeError:
    return TypeError(
        f"{what} closes over a value that the transform applied to this call is differentiating "
        "(a traced value not passed as an argument), so the custom rule cannot account for its derivative. "
        "Pass that value as an explicit argument of the function (and return its cotangent / tangent from "
        "the rule), or wrap it in fg.stop_gradient if no derivative through it is wanted."
    )


def custom_vjp_in_forward_mode(what: str) -> TypeError:
    return TypeError(
        f"{what} cannot be differentiated in forward mode (jvp, jacfwd, linearize, hessian's outer pass "
        "over it): it only has a reverse-mode rule. Use reverse mode (grad, vjp, jacrev), or define "
        "the function with fg.custom_jvp, whose rule serves both modes."
    )


def custom_vjp_in_linearize(name: str) -> TypeError:
    return TypeError(
        f"custom_vjp function {name} cannot be differentiated in forward mode (fg.linearize "
        "replays forward rules): it only has a reverse-mode rule. Use grad/vjp/jacrev, or fg.custom_jvp."
    )


def custom_jvp_unsupported_transform(what: str, transform: str) -> NotImplementedError:
    return NotImplementedError(
        f"{what}: transform {transform} is not supported by custom_jvp. "
        "A transform that differentiates says how to handle one by overriding Trace.process_custom_jvp_call."
    )


def fwd_not_a_pair(what: str, received: str) -> ValueError:
    return ValueError(
        f"{what}: fwd must return a pair (output, residuals), received {received}. "
        "Example: def fwd(x): return f(x), (x,)"
    )


def bwd_not_a_tuple(what: str, count: int, received: str) -> ValueError:
    hint = " For one argument write 'return (g,)' (note the comma)." if count == 1 else ""
    return ValueError(
        f"{what}: bwd must return a tuple with one cotangent per differentiable argument ({count}), "
        f"received {received}.{hint}"
    )


def bwd_length(what: str, count: int, length: int) -> ValueError:
    return ValueError(
        f"{what}: bwd must return a tuple of {count} cotangent(s), one per differentiable argument, "
        f"received a tuple of length {length}."
    )


def bwd_structure(what: str, position: int, expected: Any, received: Any, path: str) -> ValueError:
    return ValueError(
        f"{what}: bwd's cotangent for argument {position} must have the structure of the argument, "
        f"expected {expected}, received {received} (they differ at {path})."
    )


def rule_output_like_primal(what: str, role: str, shape: Any, dtype: Any, received: str) -> ValueError:
    return ValueError(
        f"{what}: {role} must have shape {shape} and dtype {dtype} (like the primal), received {received}."
    )


def defjvps_count(name: str, rules: int, arguments: int) -> TypeError:
    return TypeError(
        f"custom_jvp.defjvps of {name}: got {rules} rule(s) for "
        f"{arguments} differentiable argument(s); give one per argument (None for none)."
    )


def jvp_rule_not_a_pair(what: str, received: str) -> ValueError:
    return ValueError(f"{what}: the jvp rule must return a pair (primal_out, tangent_out), received {received}.")


def jvp_rule_structure(what: str, expected: Any, received: Any, path: str) -> ValueError:
    return ValueError(
        f"{what}: the jvp rule's tangent output must have the structure of its primal output, "
        f"expected {expected}, received {received} (they differ at {path})."
    )


def extend_not_a_primitive(what: str, prim: Any) -> TypeError:
    return TypeError(
        f"extend.{what}: expected a primitive made by funcgrad.extend.primitive(fun), got "
        f"{type(prim).__name__}. Wrap the function first: p = extend.primitive(fun)."
    )


def defsparsity_choice(what: str, choices: list[str], given: Any, also: str = "") -> ValueError:
    return ValueError(f"defsparsity: {what} must be one of {choices}{also}, got {given!r}")


def undeclared_residual() -> TypeError:
    return TypeError(
        "funcgrad internal error: a derivative rule read the value of an array its primitive declared "
        "it does not need (defresiduals); declare it as needed."
    )


# --- vmap ---------------------------------------------------------------------------------------------


def batched_bool() -> TypeError:
    return TypeError(
        "funcgrad.vmap: bool() of a batched value (an 'if' or 'while' on a value that differs from example "
        "to example) has no single answer. Write the choice with fnp.where(condition, a, b), which picks per "
        "example, or pass that argument with in_axes=None if it is the same for every example."
    )


def batched_value_read(what: str) -> TypeError:
    return TypeError(
        f"funcgrad.vmap: {what} of a batched value reads one array for the whole batch, which has no batching. "
        "Keep batched values as arrays and use funcgrad.numpy (or numpy) operations on them; to read the "
        "numbers, return them from the mapped function."
    )


def vmap_bad_axis_spec(what: str, path: str, spec: Any) -> ValueError:
    where = f" at {path}" if path else ""
    return ValueError(
        f"vmap: {what}{where} must be an int, None, or a tuple/list/dict of them matching the structure, "
        f"got {spec!r}. Example: in_axes=(0, None) maps the first argument over axis 0 and passes the second whole."
    )


def vmap_not_a_prefix(what: str, path: str, spec: Any, tree: Any) -> ValueError:
    return ValueError(
        f"vmap: {what} is not a prefix of the {'arguments' if what == 'in_axes' else 'outputs'}: at {path} "
        f"{what} has {spec!r} but the value there is {describe(tree) if hasattr(tree, 'shape') else repr(tree)[:80]}. "
        f"Give {what} the same structure there (a tuple for a tuple, a dict with the same keys for a dict), "
        "or a single int/None for the whole subtree."
    )


def vmap_in_axes_length(given: int, nargs: int) -> ValueError:
    return ValueError(
        f"vmap: in_axes is a tuple of {given} entries but the function was called with {nargs} positional "
        "argument(s). Give one entry per positional argument (None for an argument that is not mapped), "
        "or a single int to map every argument over the same axis."
    )


def vmap_axis_out_of_range(what: str, name: str, axis: int, rank: int, extra: int) -> ValueError:
    total = rank + extra
    valid = f"{-total}..{total - 1}" if total else "none: it has no axes"
    return ValueError(
        f"vmap: {what} {axis} is out of range for {name}, which has {rank} axis/axes"
        + (" per example" if extra else "")
        + f"; valid axes are {valid}. Pick an axis in that range, or None to not map it."
    )


def vmap_sizes_differ(sizes: list[tuple[str, int, int]], axis_size: int | None) -> ValueError:
    listed = "; ".join(f"{name}: axis {axis} of size {size}" for name, axis, size in sizes)
    also = f"; axis_size={axis_size}" if axis_size is not None else ""
    return ValueError(
        f"vmap: the mapped axes have different sizes ({listed}{also}). Every mapped axis must have the same "
        "size: fix the shapes, or use in_axes=None for an argument that should not be mapped."
    )


def vmap_no_mapped_input() -> ValueError:
    return ValueError(
        "vmap: no argument is mapped (every in_axes entry is None), so the batch size is unknown. "
        "Pass axis_size=n, or map an argument."
    )


def vmap_not_an_array(name: str, value: Any) -> ValueError:
    return ValueError(
        f"vmap: {name} is mapped but is a {type(value).__name__}, not an array. Map arrays only; "
        "pass other values with in_axes=None (or close over them)."
    )


def vmap_unmapped_output_depends(name: str) -> ValueError:
    return ValueError(
        f"vmap: out_axes is None for {name}, but it depends on the mapped inputs (it differs per example). "
        "Give it an int out_axes, or return only values that are the same for every example there."
    )


def batched_value_differs(why: str) -> TypeError:
    return TypeError(
        f"funcgrad.vmap: {why} needs one concrete value, but the examples of the batch have different ones, "
        "so the batched result would have no one shape. Make that value the same for every example (pass it "
        "with in_axes=None or close over it), or loop over the examples in Python."
    )


def batched_data_dependent_shape(name: str) -> TypeError:
    return TypeError(
        f"funcgrad.vmap: {name} returns an array whose shape depends on each example's values (nonzero, "
        "boolean-mask indexing, unique), so a batch of them has no one shape (as in jax.vmap). Keep shapes "
        "fixed: fnp.where(mask, x, fill) instead of x[mask], a masked reduction (fnp.sum(fnp.where(mask, x, 0))) "
        "instead of a sum over x[mask]; or loop over the examples in Python."
    )


# --- pytrees (funcgrad/tree.py) -----------------------------------------------------------------------


def pytree_not_a_class(nodetype: Any) -> TypeError:
    return TypeError(
        f"register_pytree_node expects a class, got {nodetype!r}. Pass the class itself (Pair, not Pair(...))."
    )


def pytree_registered_twice(nodetype: type) -> ValueError:
    return ValueError(
        f"{nodetype.__name__} is already registered as a pytree node; register each class once (at import time)."
    )


def pytree_not_a_dataclass(nodetype: Any) -> TypeError:
    return TypeError(
        f"register_dataclass expects a dataclass (a class decorated with @dataclasses.dataclass), "
        f"got {nodetype!r}. Decorate it with @dataclasses.dataclass first, or use register_pytree_node."
    )


def pytree_dataclass_fields(nodetype: type, data: list[str], meta: list[str], names: list[str]) -> ValueError:
    return ValueError(
        f"register_dataclass({nodetype.__name__}): data_fields {data} and meta_fields {meta} "
        f"must split the init fields {names} between them, each exactly once."
    )


def unflatten_leaf_count(treedef: Any, count: int) -> ValueError:
    return ValueError(
        f"tree_unflatten: structure {treedef} has {treedef.num_leaves} leaves, got {count}; pass one leaf per "
        "position of the structure (tree_flatten's order)."
    )


def tree_map_structures(path: str, first: Any, other: Any) -> ValueError:
    return ValueError(
        f"tree_map: all trees must have the structure of the first, but they differ at {path}: {first} versus {other}"
    )


# --- pytrees flattened for solvers, Hessian-vector products, SciPy bridges ----------------------------


def unravel_shape(size: int, nleaves: int, shape: tuple[int, ...]) -> ValueError:
    return ValueError(
        f"unravel: expected a 1-D array of size {size} (the tree's {nleaves} leaves raveled), got shape {shape}. "
        "Pass a vector shaped like the one ravel_pytree returned."
    )


def unravel_dtype(dtypes: list[str], promoted: Any, got: Any) -> TypeError:
    return TypeError(
        f"unravel: the tree's leaves have dtypes {dtypes}, so unravel expects the promoted dtype {promoted}, "
        f"got {got}. Cast the vector first: vector.astype({str(promoted)!r})."
    )


def not_argument_tuples(transform: str, primals: Any, tangents: Any) -> TypeError:
    return TypeError(
        f"{transform}: primals and tangents must be tuples (or lists) with one entry per argument, got "
        f"{type(primals).__name__} and {type(tangents).__name__}. Example: fg.{transform}(f, (x,), (v,))."
    )


def solver_complex_parameters(who: str, dtype: Any) -> TypeError:
    return TypeError(
        f"funcgrad.scipy.optimize.{who}: the parameters include a {dtype} leaf, but SciPy's optimisers work on real "
        "vectors. Split each complex parameter into its real and imaginary parts (two real leaves) and combine "
        "them inside the function."
    )


# --- sparse Jacobians and Hessians --------------------------------------------------------------------


def sparse_needs_scipy(name: str) -> ImportError:
    return ImportError(
        f"funcgrad: {name} needs SciPy (its results are scipy.sparse matrices), which is not installed. "
        "Install the extra: pip install funcgrad[scipy]."
    )


def sparse_hessian_output(shapes: list[tuple[int, ...]]) -> ValueError:
    return ValueError(
        f"funcgrad: a sparse Hessian needs a function with one scalar output, got outputs of shapes {shapes}. "
        "Return a scalar (e.g. the sum of the outputs), or take the Jacobian of each output's gradient "
        "with fg.sparse_jacobian(fg.grad(f))."
    )


def sparsity_shape(name: str, got: tuple[int, ...], expected: tuple[int, int]) -> ValueError:
    return ValueError(
        f"funcgrad: {name} was given a sparsity pattern of shape {got}, expected {expected} "
        "(outputs x inputs, each raveled in the order of fg.tree.tree_flatten). "
        "Pass the pattern of this function's Jacobian, or leave sparsity=None to detect it."
    )


# --- testing (funcgrad/testing.py) --------------------------------------------------------------------


def check_grads_disagree(
    title: str, name: Any, inputs: str, expected: Any, got: Any, difference: Any, atol: float, rtol: float
) -> AssertionError:
    return AssertionError(
        f"check_grads: {title} of {name!s} disagrees with finite differences\n"
        f"  inputs:   {inputs}\n"
        f"  expected: {expected!r}\n"
        f"  got:      {got!r}\n"
        f"  max |difference| = {difference} (atol={atol}, rtol={rtol})"
    )


def check_grads_mode(mode: Any) -> ValueError:
    return ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {mode!r}")


# --- fusion -------------------------------------------------------------------------------------------


def fuse_needs_numba() -> ImportError:
    return ImportError(
        "funcgrad: jit(..., fuse=True) compiles its fused kernels with numba, which is not installed. "
        "Install the extra: pip install funcgrad[fuse] (or pip install numba), or leave fuse=False "
        "(the replay then calls NumPy once per operation, bit for bit the eager call)."
    )


# --- other libraries' arrays (Dask, CuPy: funcgrad/_backends.py) --------------------------------------


def _kind(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__name__}"


def lazy_value_read(function: str, value: Any) -> TypeError:
    """A function whose derivative needs the values of a foreign (lazy) array to decide its shape."""
    return TypeError(
        f"funcgrad: {function} on a {_kind(value)} reads its values to decide "
        "what to compute (which would compute the array); compute it first (.compute() for Dask)."
    )


def lazy_index(index: Any) -> TypeError:
    """Indexing with a foreign (lazy) array: its values decide what is taken, so it would be computed."""
    fix = "np.where(mask, x, 0) keeps the shape and stays lazy; " if index.dtype == bool else ""
    return TypeError(
        f"funcgrad: indexing with a {_kind(index)} of dtype {index.dtype} needs its values to know which elements to "
        f"take (and the shape of the result), which would compute it. {fix}Or compute the index first "
        "(index.compute() for Dask), which is what NumPy code on Dask arrays does anyway."
    )


def lazy_repeated_positions(array: Any) -> TypeError:
    return TypeError(
        f"funcgrad: the derivative of indexing a {_kind(array)} with integer "
        "arrays that repeat positions (or mix negative and non-negative ones) is not supported: "
        "index with distinct positions, or compute the array first."
    )


def backend_assignment(what: str, array: Any, error: Exception) -> TypeError:
    return TypeError(
        f"funcgrad: {what} needs an assignment that {_kind(array)} does not support ({error}). "
        "Compute the array first (.compute() for Dask), or write the update with fnp.where."
    )


def backend_lacks_function(function: str, backend: str) -> TypeError:
    return TypeError(
        f"funcgrad: {function} is not implemented by the {backend} backend, which would "
        f"compute its inputs to run it (breaking laziness). Use a function {backend} implements, "
        f"wrap this step in {backend}'s map_blocks with a custom rule (fg.custom_vjp), or compute the "
        "input first."
    )


# --- the primitives' own messages (funcgrad/_prims, funcgrad/numpy/_array_methods.py) -----------------


def float_index(kind: Any, shape: tuple[int, ...]) -> TypeError:
    return TypeError(
        f"funcgrad: an index must be integers or booleans, but received a traced value of dtype "
        f"{kind} and shape {shape}. Indices carry no derivative: compute them with "
        "integer arithmetic, or convert with fg.stop_gradient(i).astype(int) if rounding is intended."
    )


def ufunc_keywords(ufunc_name: str, keywords: list[str]) -> TypeError:
    return TypeError(
        f"funcgrad: numpy.{ufunc_name} on traced values does not support the keyword(s) "
        f"{keywords}; call it without them (use fnp.where for masking)."
    )


def ufunc_method_keywords(ufunc_name: str, method: str, keywords: list[str]) -> TypeError:
    return TypeError(
        f"funcgrad: numpy.{ufunc_name}.{method} on traced values does not support the keyword(s) "
        f"{keywords}; call it without them (mask with fnp.where first if you meant where=)."
    )


def reduction_keywords(name: str, unknown: list[str], allowed: tuple[str, ...]) -> TypeError:
    return TypeError(
        f"funcgrad: {name} on traced values does not support the keyword(s) {unknown}; "
        f"supported: {list(allowed) or 'none'}. Drop them, or apply them to the result "
        "(use fnp.where to mask values)."
    )


def traced_keywords(name: str, keywords: list[str]) -> TypeError:
    return TypeError(f"funcgrad: {name} on traced values does not support the keyword(s) {keywords}")


def einsum_keywords(keywords: list[str]) -> TypeError:
    return TypeError(f"funcgrad: einsum on traced values does not support {keywords}; omit them")


def einsum_letters(count: int) -> ValueError:
    return ValueError(
        f"funcgrad: einsum ran out of index letters (needs {count} more than the 52 available); "
        "split the contraction into smaller einsums"
    )


def too_many_axes(name: str, what: str) -> ValueError:
    return ValueError(f"funcgrad: {name} of {what} is not supported")


def where_needs_initial(name: str) -> ValueError:
    return ValueError(
        f"funcgrad: {name} with a where= mask needs initial= (as in NumPy: the reduction has no identity)"
    )


def cumulative_needs_axis(name: str) -> ValueError:
    return ValueError(f"funcgrad: {name} of an array with more than one dimension needs axis=")


def pad_mode(mode: Any, keywords: list[str], supported: str) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: pad(mode={mode!r}) with keywords {keywords} has no derivative rule for traced values. "
        f"Supported: mode='constant' (with constant_values), "
        f"{supported} "
        "(with plain keyword values); build other modes from slices and fnp.concatenate."
    )


def interp_period() -> NotImplementedError:
    return NotImplementedError(
        "funcgrad: interp(..., period=...) on traced values is not supported; "
        "wrap x into one period yourself (x - period * floor(x / period)) and extend xp, fp."
    )


def join_dtype(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: {name} of traced values does not take dtype= or casting=; cast the inputs with .astype(...) first."
    )


def quantile_method(name: str, methods: list[str], method: Any) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: {name} on traced values supports method={methods}, got {method!r}; "
        "use one of those, or pass the data through fg.stop_gradient if no derivative is needed."
    )


def quantile_weights(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: {name} with weights= is not supported on traced values (only method='inverted_cdf' "
        "takes weights, and it is piecewise constant); call it on fg.stop_gradient(a) if no derivative is needed."
    )


def view_dtype() -> TypeError:
    return TypeError("funcgrad: x.view(dtype) reinterprets memory, which has no derivative; use x.astype(dtype).")


def resize_in_place() -> TypeError:
    return TypeError(
        "funcgrad: x.resize() works in place, but traced arrays are immutable. "
        "Use the copy 'x = numpy.resize(x, new_shape)', which is differentiable."
    )


def det_at_singular_complex() -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(
        "funcgrad: the derivative of det at a (nearly) singular complex matrix larger than 8x8 "
        "is not supported; perturb the matrix or differentiate slogdet away from singularity."
    )


# --- the primitives: NumPy's own argument errors, in NumPy's words (funcgrad/_prims) ------------------


# What NumPy raises for the same call on plain arrays, so code that catches NumPy's errors sees the same.


def object_has_no_attribute(value: Any, name: str) -> AttributeError:
    return AttributeError(f"{type(value).__name__!r} object has no attribute {name!r}")


def len_of_scalar() -> TypeError:
    return TypeError("len() of unsized object (a traced 0-d array)")


def axis_out_of_range(axis: int, rank: int, where: str | None = None) -> np.exceptions.AxisError:
    return np.exceptions.AxisError(axis, rank, where)


def reshape_order(order: Any) -> ValueError:
    return ValueError(f"reshape: order must be one of 'C', 'F', 'A', got {order!r}")


def concatenate_scalars() -> ValueError:
    return ValueError("zero-dimensional arrays cannot be concatenated")


def stack_shapes() -> ValueError:
    return ValueError("all input arrays must have the same shape")


def split_rank(name: str, least: int) -> ValueError:
    return ValueError(f"{name} only works on arrays of {least} or more dimensions")


def meshgrid_indexing() -> ValueError:
    return ValueError("Valid values for `indexing` are 'xy' and 'ij'.")


def flip_rank(least: int) -> ValueError:
    return ValueError(f"Input must be >= {least}-d.")


def einsum_subscript_integer(index: int) -> ValueError:
    return ValueError(f"einsum: subscript integers must be in [0, 52), got {index}")


def einsum_no_arguments() -> TypeError:
    return TypeError("einsum() missing the subscripts and operands")


def einsum_operand_count(subscripts: str, named: int, given: int) -> ValueError:
    return ValueError(f"einsum: subscripts {subscripts!r} name {named} operand(s) but {given} were given")


def einsum_invalid_subscripts(subscripts: str) -> ValueError:
    return ValueError(
        f"einsum: invalid subscripts {subscripts!r}; use letters, ',', '->' and at most one '...' per term"
    )


def einsum_operand_shape(term: str, shape: tuple[int, ...]) -> ValueError:
    return ValueError(f"einsum: subscripts {term!r} do not match an operand of shape {shape}")


def einsum_missing_ellipsis(subscripts: str) -> ValueError:
    return ValueError(f"einsum: subscripts {subscripts!r} broadcast over '...' but the output has no '...'; add it")


def tensordot_axes_count(count: int, most: int) -> IndexError:
    # an IndexError, as numpy.tensordot raises for more axes than an operand has (a plain call and jit agree)
    return IndexError(f"tensordot: axes={count} must be at most {most}, the fewer dimensions of the two operands")


def tensordot_axes_spec(axes: Any) -> ValueError:
    return ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")


def tensordot_shape_mismatch(shape_a: Any, shape_b: Any, axes_a: Any, axes_b: Any) -> ValueError:
    return ValueError(f"tensordot: shape-mismatch for sum (shapes {shape_a} and {shape_b}, axes {axes_a} and {axes_b})")


def vdot_sizes(shape_a: Any, shape_b: Any) -> ValueError:
    return ValueError(f"vdot: a and b must have the same number of elements, got shapes {shape_a} and {shape_b}")


def cross_dimensions(size_a: int, size_b: int) -> ValueError:
    return ValueError(
        f"cross: incompatible dimensions for cross product (dimension must be 2 or 3), got {size_a} and {size_b}"
    )


def cross_of_2d_vectors() -> DeprecationWarning:
    return DeprecationWarning(
        "Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional vectors instead. "
        "(deprecated in NumPy 2.0)"
    )


def convolve_rank(name: str, shape_a: Any, shape_v: Any) -> ValueError:
    return ValueError(f"{name}: a and v must be one-dimensional, got shapes {shape_a} and {shape_v}")


def convolve_empty(name: str, which: str) -> ValueError:
    return ValueError(f"{name}: {which} cannot be empty")


def convolve_mode(name: str, mode: Any) -> ValueError:
    return ValueError(f"{name}: mode must be 'full', 'same' or 'valid', got {mode!r}")


def output_not_broadcastable(shape: Any, broadcast: Any) -> ValueError:
    return ValueError(
        f"non-broadcastable output operand with shape {shape} doesn't match the broadcast shape {broadcast}"
    )


def matmul_in_place_shape(product: Any, shape: Any) -> ValueError:
    return ValueError(
        f"matmul: the product has shape {product}, so it cannot be stored in place into an "
        f"array of shape {shape} (x @= y keeps x's shape)"
    )


def diff_negative_order(order: Any) -> ValueError:
    return ValueError(f"order must be non-negative but got {order!r}")


def diff_of_scalar() -> ValueError:
    return ValueError("diff requires input that is at least one dimensional")


def gradient_too_few_points() -> ValueError:
    return ValueError(
        "Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) elements are required."
    )


def gradient_edge_order() -> ValueError:
    return ValueError("'edge_order' greater than 2 not supported")


def gradient_spacing_rank() -> ValueError:
    return ValueError("distances must be either scalars or 1d")


def gradient_spacing_length() -> ValueError:
    return ValueError("when 1d, distances must match the length of the corresponding dimension")


def gradient_spacing_count() -> TypeError:
    return TypeError("invalid number of arguments")


def diag_rank() -> ValueError:
    return ValueError("Input must be 1- or 2-d.")


def where_one_branch() -> ValueError:
    return ValueError("either both or neither of x and y should be given")


def select_lengths() -> ValueError:
    return ValueError("list of cases must be same length as list of conditions")


def select_empty() -> ValueError:
    return ValueError("select with an empty condition list is not possible")


def select_condition_dtype(entry: int) -> TypeError:
    return TypeError(f"invalid entry {entry} in condlist: should be boolean ndarray")


def piecewise_function_count(conditions: int) -> ValueError:
    return ValueError(f"with {conditions} condition(s), either {conditions} or {conditions + 1} functions are expected")


def apply_along_empty_axis() -> ValueError:
    return ValueError("Cannot apply_along_axis when any iteration dimensions are 0")


def interp_lengths(shape_fp: Any, shape_xp: Any) -> ValueError:
    return ValueError(f"fp and xp are not of the same length (or not 1-D): {shape_fp} and {shape_xp}")


def interp_empty() -> ValueError:
    return ValueError("array of sample points is empty")


def ddof_and_correction(name: str) -> ValueError:
    return ValueError(f"{name}: ddof and correction can't be provided simultaneously.")


def quantile_range() -> ValueError:
    return ValueError("Quantiles must be in the range [0, 1]")


def average_needs_axis() -> TypeError:
    return TypeError("Axis must be specified when shapes of a and weights differ.")


def average_weights_shape() -> ValueError:
    return ValueError("Shape of weights must be consistent with shape of a along specified axis.")


def average_zero_weights() -> ZeroDivisionError:
    return ZeroDivisionError("Weights sum to zero, can't be normalized")


def cov_rank() -> ValueError:
    return ValueError("m has more than 2 dimensions")


def put_index(index: Any, size: int) -> IndexError:
    return IndexError(f"index {index} is out of bounds for axis 0 with size {size}")


def place_empty() -> ValueError:
    return ValueError("Cannot insert from an empty array!")


def copyto_casting(source: Any, destination: Any, casting: Any) -> TypeError:
    return TypeError(f"Cannot cast array data from {source!r} to {destination!r} according to the rule {casting!r}")


# --- funcgrad.numpy's modules: what traced values cannot do -------------------------------------------


def matrix_directive(item: Any) -> TypeError:
    return TypeError(
        f"funcgrad: the directive {item!r} of r_/c_ builds a numpy.matrix, which traced values cannot be; "
        "drop it and use 2-D arrays (e.g. the directive '0,2')."
    )


def fft_repeated_axes(name: str, axes: tuple[int, ...]) -> ValueError:
    return ValueError(
        f"funcgrad: {name} on traced values needs distinct axes, got {axes}; "
        "name each axis once (transform twice to apply it twice along one axis)"
    )


def fft_no_axes(name: str) -> ValueError:
    return ValueError(f"funcgrad: {name} needs at least one axis to transform; pass axes= with one or more axes")


def fft_complex_input(name: str, dtype: Any) -> TypeError:
    return TypeError(
        f"funcgrad: {name} takes a real input, got {dtype}; use the complex transform "
        f"({name.replace('rfft', 'fft')}) or pass a.real explicitly"
    )


def vector_norm_ord(order: Any) -> ValueError:
    return ValueError(f"funcgrad: linalg.vector_norm takes a numeric ord, got {order!r}")


def svd_full_matrices(rows: int, columns: int) -> NotImplementedError:
    extra = "columns of U" if rows > columns else "rows of Vh"
    return NotImplementedError(
        f"funcgrad: linalg.svd(full_matrices=True) of a traced {rows}x{columns} matrix: the extra "
        f"{extra} are any orthonormal completion, so they have no "
        "derivative. Use full_matrices=False (or compute_uv=False for singular values only)."
    )


def qr_mode(mode: Any) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: linalg.qr(mode={mode!r}) on traced values is not supported; "
        "use mode='reduced', 'complete' (M <= N) or 'r'."
    )


def qr_complete(rows: int, columns: int) -> NotImplementedError:
    return NotImplementedError(
        f"funcgrad: linalg.qr(mode='complete') of a traced {rows}x{columns} matrix: the last {rows - columns} "
        "columns of Q are any orthonormal completion, so they have no derivative. Use mode='reduced'."
    )


# --- funcgrad.numpy's modules: NumPy's own argument errors, in NumPy's words --------------------------


def no_attribute(module: str, name: str) -> AttributeError:
    return AttributeError(f"module {module!r} has no attribute {name!r}")


def matrix_transpose_rank(shape: Any) -> ValueError:
    return ValueError(f"matrix_transpose: input must be at least 2-dimensional, got shape {shape}")


def unstack_scalar() -> ValueError:
    return ValueError("unstack: input should have at least one dimension (got a 0-d value)")


def directive_not_first() -> ValueError:
    return ValueError("special directives must be the first entry.")


def unknown_directive(item: Any) -> ValueError:
    return ValueError(f"unknown special directive {item!r}")


def negative_sample_count(count: Any) -> ValueError:
    return ValueError(f"Number of samples, {count}, must be non-negative.")


def geomspace_zero() -> ValueError:
    return ValueError("Geometric sequence cannot include zero")


def fft_norm(norm: Any) -> ValueError:
    return ValueError(f'Invalid norm value {norm!r}; should be "backward", "ortho" or "forward".')


def fft_s_without_axes() -> DeprecationWarning:
    return DeprecationWarning(
        "`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy 2.0): pass `axes` explicitly"
    )


def fft_s_and_axes(name: str, s: Any, axes: tuple[int, ...]) -> ValueError:
    return ValueError(f"{name}: s and axes must have the same length, got s={s} and axes={axes}")


def fft_length(name: str, n: Any) -> ValueError:
    return ValueError(f"{name}: invalid number of FFT data points ({n}) specified")


def linalg_rank(rank: int, name: str) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(
        f"{rank}-dimensional array given. Array must be at least two-dimensional (funcgrad: linalg.{name})"
    )


def linalg_not_square(name: str, shape: Any) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(
        f"Last 2 dimensions of the array must be square (funcgrad: linalg.{name}, got {shape})"
    )


def vector_norm_order(order: Any) -> ValueError:
    return ValueError(f"Invalid norm order '{order}' for vectors")


def matrix_norm_order() -> ValueError:
    return ValueError("Invalid norm order for matrices.")


def norm_duplicate_axes() -> ValueError:
    return ValueError("Duplicate axes given.")


def norm_rank() -> ValueError:
    return ValueError("Improper number of dimensions to norm.")


def tensorinv_ind() -> ValueError:
    return ValueError("Invalid ind argument.")


def eigh_uplo() -> ValueError:
    return ValueError("UPLO argument must be 'L' or 'U'")


def matrix_power_exponent() -> TypeError:
    return TypeError("exponent must be an integer")


def multi_dot_count() -> ValueError:
    return ValueError("Expecting at least two arrays.")


def multi_dot_rank(rank: int) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(f"{rank}-dimensional array given. Array must be two-dimensional")


def linalg_outer_rank(rank_a: int, rank_b: int) -> ValueError:
    return ValueError(f"Input arrays must be one-dimensional, but they are {rank_a}D and {rank_b}D")


def linalg_cross_size() -> ValueError:
    return ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")


# --- funcgrad.scipy -----------------------------------------------------------------------------------


def scipy_missing() -> ImportError:
    return ImportError(
        "funcgrad.scipy needs SciPy, which is an optional extra: install it with "
        "pip install 'funcgrad[scipy]' (or pip install scipy)."
    )


def scipy_no_derivative(function: str, argument: str, reason: str) -> TypeError:
    """``argument`` of ``function`` is differentiated but has no derivative."""
    return TypeError(
        f"funcgrad.scipy.{function}: no derivative with respect to {argument} ({reason}). "
        f"Pass {argument} as a plain value, or wrap it in funcgrad.stop_gradient to treat it as a constant."
    )


def distribution_arguments(name: str, method: str, error: Exception, signature: Any) -> TypeError:
    parameters = ", ".join(str(parameter) for parameter in signature.parameters.values())
    return TypeError(f"funcgrad.scipy.stats.{name}.{method}: {error}; the signature is (x, {parameters})")


def multivariate_normal_x(dim: int, shape: Any) -> ValueError:
    return ValueError(f"multivariate_normal: x must have {dim} entries on its last axis, got shape {shape}")


def multivariate_normal_mean(shape: Any) -> ValueError:
    return ValueError(f"multivariate_normal: mean must be a vector, got shape {shape}")


def multivariate_normal_cov(dim: int, shape: Any) -> ValueError:
    return ValueError(f"multivariate_normal: cov must have shape ({dim}, {dim}) to match mean, got {shape}")


def dirichlet_alpha(shape: Any) -> ValueError:
    return ValueError(f"dirichlet: alpha must be a vector, got shape {shape}")


def dirichlet_x(size: int, shape: Any) -> ValueError:
    return ValueError(
        f"dirichlet: x must have {size} or {size - 1} components on its first axis (alpha has {size}), got shape {shape}"
    )


def odeint_first_order(what: str) -> TypeError:
    return TypeError(
        f"funcgrad.scipy.integrate.odeint cannot be differentiated {what}: use first-order reverse mode "
        "(fg.grad, fg.vjp, fg.jacrev); for a second derivative integrate the forward sensitivity equation "
        "S' = (df/dy) S + df/dp alongside the state, or difference fg.grad numerically."
    )


def odeint_args(args: Any) -> TypeError:
    return TypeError(
        f"odeint: args must be a tuple, as in SciPy, got {type(args).__name__}; "
        "pass the extra arguments of func as odeint(func, y0, t, args=(k,))."
    )


def odeint_full_output() -> TypeError:
    return TypeError("odeint: full_output=True is not supported on traced input; drop it.")


def odeint_rank(shape_y0: Any, shape_t: Any) -> ValueError:
    return ValueError(
        f"odeint: y0 and t must be one-dimensional, got shapes {shape_y0} and "
        f"{shape_t}; flatten the state and unflatten it inside func."
    )


def scipy_linalg_not_square(name: str, shape: Any) -> ValueError:
    return ValueError(f"{name}: expected a square matrix (or a stack of them), got shape {shape}")


def solve_trans(trans: Any) -> ValueError:
    return ValueError(f"solve_triangular/lu_solve: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")


def solve_shapes(name: str, matrix: str, shape_matrix: Any, shape_b: Any) -> ValueError:
    return ValueError(f"{name}: shapes of {matrix} {shape_matrix} and b {shape_b} are incompatible")


def solve_banded_shapes(rows: int, shape_ab: Any, shape_b: Any) -> ValueError:
    return ValueError(
        f"solve_banded: ab must have shape (l + u + 1, n) = ({rows}, n) and b (n,) or (n, k), "
        f"got ab {shape_ab} and b {shape_b}"
    )


def lu_factor_rectangular(shape: Any) -> NotImplementedError:
    return NotImplementedError(
        f"lu_factor: the derivative is implemented for square matrices, got shape {shape}; "
        "for a rectangular a, differentiate scipy.linalg.qr-based code or pad a to a square matrix."
    )


def sqrtm_options(options: list[str]) -> TypeError:
    return TypeError(f"sqrtm: options {options} are not supported on traced input; drop them.")


def sylvester_shape(expected: tuple[int, int], shape: Any) -> ValueError:
    return ValueError(f"solve_sylvester: q must have shape (M, N) = {expected}, got {shape}")


def block_diag_rank(positions: Any) -> ValueError:
    return ValueError(f"arguments in the following positions have dimension greater than 2: {positions}")


def signal_mode(name: str, mode: Any) -> ValueError:
    return ValueError(f"{name}: acceptable mode flags are 'valid', 'same', or 'full', got {mode!r}")


def signal_method(name: str, method: Any) -> ValueError:
    return ValueError(f"{name}: acceptable method flags are 'auto', 'direct', or 'fft', got {method!r}")


def signal_ranks(name: str, shape_1: Any, shape_2: Any) -> ValueError:
    return ValueError(f"{name}: in1 and in2 should have the same dimensionality, got shapes {shape_1} and {shape_2}")


def signal_valid_shapes(name: str, shape_1: Any, shape_2: Any) -> ValueError:
    return ValueError(
        f"{name}: for 'valid' mode, one must be at least as large as the other in every dimension, "
        f"got shapes {shape_1} and {shape_2}"
    )


def multigammaln_dimension(d: Any) -> ValueError:
    return ValueError(f"multigammaln: d should be a positive integer (dimension), got {d!r}")


def multigammaln_domain(d: Any) -> ValueError:
    return ValueError(f"multigammaln: condition a > 0.5 * (d-1) ({0.5 * (d - 1)}) not met for every a")


# --- NumPy's polynomial helpers and bincount: NumPy's own argument errors, in NumPy's words ---------


def vander_rank() -> ValueError:
    return ValueError("x must be a one-dimensional array or sequence.")


def polyfit_degree() -> ValueError:
    return ValueError("expected deg >= 0")


def polyfit_shapes(what: str) -> TypeError:
    return TypeError(f"expected {what}")


def polyfit_cov_points() -> ValueError:
    return ValueError("the number of data points must exceed order to scale the covariance matrix")


def bincount_lengths() -> ValueError:
    return ValueError("The weights and list don't have the same length.")


def polyfit_poorly_conditioned() -> Warning:
    return np.exceptions.RankWarning("Polyfit may be poorly conditioned")
