"""Traced values, per-transform levels, and primitive binding.

Every transform (``grad``, ``jvp``, ...) opens a *trace* with a level one
above the innermost live one.  Levels live in a ``contextvars`` variable, so
threads and nested transforms never see each other's perturbations.  A
primitive called with traced arguments hands the call to the trace of the
highest level among them; values traced at lower levels are constants to it.
This module knows nothing about NumPy.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from funcgrad import _errors

_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("funcgrad_depth", default=0)
#: the trace of the innermost transform running in this thread (``fnp.zeros`` makes its constants there)
_INNERMOST: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("funcgrad_innermost", default=None)


class Trace:
    """One transform's recording context; ``process`` handles a primitive call."""

    __slots__ = ("level", "active", "outer", "__weakref__")
    #: the transform takes derivatives: custom rules (custom_vjp, custom_jvp) record themselves on it;
    #: a recording trace (jit) sets this False, and they run their function as is
    differentiates: ClassVar[bool] = True

    #: ``full_lower`` stops at this trace's values (``lowered``): a batch under ``vmap`` is still a value
    keeps_values = False

    def __init__(self, level: int) -> None:
        self.level = level
        self.active = True
        #: the innermost transform when this one began: a custom rule run by this trace runs below it
        self.outer = _INNERMOST.get()
        _INNERMOST.set(self)  # ``new_level`` restores the outer one on exit

    def constant(self, value: Any) -> Any:
        """``value`` (which no perturbation of this trace reaches) as one of this trace's values.

        In-place writes rebind a traced array to its update, so an array that may be written
        (``fnp.zeros`` inside a transform, ``zeros_like`` of a traced value) starts as a constant of a
        trace; a trace that cannot hold ``value``'s dtype returns it plain.
        """
        raise NotImplementedError

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def bool_of(self, tracer: Tracer) -> bool:
        """``bool()`` of one of this trace's values (Python control flow reads it).

        The default reads the value underneath, through each lower level's own
        ``bool_of``; a trace that must see such reads (a guard under ``jit``)
        or refuse them (a batch under ``vmap``) overrides this.
        """
        return bool(tracer._value)

    def lowered(self, tracer: Tracer) -> Any:
        """What ``full_lower`` returns for one of this trace's values when ``keeps_values`` is set."""
        raise NotImplementedError

    # --- custom rules and checkpoint ask the trace (each transform overrides what it does with them) ---
    #: a custom rule's nondifferentiable arguments must not carry this trace's values (a batch maps them instead)
    checks_nondiff: ClassVar[bool] = True

    def process_custom_vjp_call(self, rule: Any, call: Any) -> Any:
        """A ``custom_vjp`` function (``rule``) called with this trace's values; ``call`` is its bound call.

        The default: a transform that takes no derivative (``jit``) runs the function as it is; one that
        does refuses, since the rule is reverse-only.  Reverse mode records the rule, ``vmap`` moves the
        batch inside the call.
        """
        if not self.differentiates:
            return rule.fun(*call.args)
        raise rule.forward_mode_error(call.what)

    def process_custom_jvp_call(self, rule: Any, call: Any) -> Any:
        """A ``custom_jvp`` function (``rule``) called with this trace's values; ``call`` is its bound call.

        The default: a transform that takes no derivative runs the function as it is; forward and
        reverse mode use the rule, ``vmap`` moves the batch inside the call.
        """
        if not self.differentiates:
            return rule.fun(*call.args)
        raise _errors.custom_jvp_unsupported_transform(call.what, type(self).__name__)

    def process_checkpoint(self, call: Any) -> Any:
        """A ``checkpoint``-ed function called with this trace's values: the default runs it as it is.

        Reverse mode records it as one node that recomputes on the backward pass; ``vmap`` moves the
        batch inside the checkpoint.
        """
        return call.plain()

    def read_value(self, tracer: Tracer, why: str) -> Any:
        """The concrete value of one of this trace's values, for a choice no primitive can record.

        ``why`` names the reader (``"numpy.unique sizes"``).  The default reads
        the value underneath through each lower level's own ``read_value``; a
        trace that records (``jit``) overrides this to guard the value it hands
        out, an array backend (Dask) computes just that value.  Rules and
        wrappers call the module function ``read_value``, never ``full_lower``.
        """
        return read_value(tracer._value, why)


class Tracer:
    """A value seen by one transform: its primal and its place in that transform.

    ``_payload`` is the transform's bookkeeping: the tape index in reverse
    mode, the tangent in forward mode.
    """

    __slots__ = ("_value", "_trace", "_payload", "__weakref__")

    def __init__(self, value: Any, trace: Trace, payload: Any) -> None:
        self._value = value
        self._trace = trace
        self._payload = payload


class new_level:  # noqa: N801  (used like the function it replaced: ``with new_level() as level``)
    """Enter one transform: yield its level, restore the depth on exit.

    A class rather than a ``@contextmanager`` generator: every transform
    call enters one, and this costs a third as much.

    >>> with new_level() as outer:
    ...     with new_level() as inner:
    ...         inner - outer
    1
    """

    __slots__ = ("token", "outer")

    def __enter__(self) -> int:
        depth = _DEPTH.get() + 1
        self.token = _DEPTH.set(depth)
        self.outer = _INNERMOST.get()
        return depth

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        _DEPTH.reset(self.token)
        _INNERMOST.set(self.outer)
        if kind is ValueError and getattr(error.__cause__, "funcgrad_number", False) and "sequence" in str(error):
            # NumPy wraps the traced value's refusal of ``float()`` in its own ValueError when it stores it
            raise _errors.stored_into_plain_array() from None


class below:  # noqa: N801  (a context manager named for what it does: ``with below(trace):``)
    """Run user code that ``trace`` calls as part of processing it (a custom rule) below it: when ``trace``
    is the innermost transform, constructors made there (``fnp.zeros``) belong to the one under it."""

    __slots__ = ("trace", "token")

    def __init__(self, trace: weakref.ref[Trace]) -> None:
        self.trace = trace

    def __enter__(self) -> None:
        current = _INNERMOST.get()
        self.token = _INNERMOST.set(current.outer if current is not None and current is self.trace() else current)

    def __exit__(self, *exc: object) -> None:
        _INNERMOST.reset(self.token)


def innermost() -> Trace | None:
    """The trace of the innermost transform running in this thread, or ``None`` outside every transform."""
    return _INNERMOST.get()


class _Doc:
    """``__doc__`` of a primitive: the class's text on the class, the primitive's own on an instance.

    A primitive's own text is ``doc`` when set, else the first line of its implementation's
    docstring (NumPy's, for NumPy's functions) with a note on what funcgrad adds, so
    ``help(funcgrad.numpy.sin)`` describes ``sin`` and not the class it is made with.
    """

    def __init__(self, text: str | None) -> None:
        self.text = text

    def __get__(self, instance: Any, owner: type | None = None) -> str | None:
        if instance is None:
            return self.text
        own = instance.doc
        return own if own is not None else _doc_of(instance)


def _doc_of(prim: Primitive) -> str:
    impl = prim.impl
    lines = (getattr(impl, "__doc__", None) or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    if first.endswith(")") and "(" in first and len(lines) > 2:  # a ufunc's docstring opens with its signature
        first = next((line.strip() for line in lines[1:] if line.strip()), first)
    owner = getattr(impl, "__module__", None) or ("numpy" if type(impl).__name__ == "ufunc" else None)
    called = f"``{owner}.{getattr(impl, '__name__', prim.name)}``" if owner else "its implementation"
    note = (
        f"funcgrad's ``{prim.name}`` primitive: on plain arrays it returns what {called} returns; "
        "on traced values it records the call for the transform that traces it, with its derivative rules."
    )
    return f"{first}\n\n{note}" if first else note


class Primitive:
    """A NumPy operation with derivative rules.

    Positional arguments may be traced; keyword arguments are static
    parameters.  ``vjps[i](cotangent, ans, *args, **params)`` and
    ``jvps[i](tangent, ans, *args, **params)`` give argument ``i``'s part of
    the derivative (``None`` for a zero part).  ``batch_jvp`` says the forward
    rules accept tangents carrying extra leading (batch) axes.
    """

    __slots__ = (
        "name",
        "impl",
        "vjps",
        "jvps",
        "batch_jvp",
        "residuals",
        "dropped",
        "batcher",
        "data_dependent_shape",
        "vjp_fresh",
        "vjp_into",
        "vjp_add",
        "jvp_scales",
        "jvp_scale_after",
        "jvp_identity",
        "jvp_fresh",
        "jvp_joint",
        "doc",
        "__weakref__",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _Doc(cls.__dict__.get("__doc__"))  # type: ignore[assignment]  # each instance its own text

    def __init__(self, name: str, impl: Callable[..., Any]) -> None:
        self.name = name
        self.impl = impl
        #: this primitive's own ``__doc__`` (``None``: made from ``impl``'s docstring, see ``_Doc``)
        self.doc: str | None = None
        self.vjps: tuple[Callable[..., Any] | None, ...] | None = None
        self.jvps: tuple[Callable[..., Any] | None, ...] | None = None
        self.batch_jvp = False
        #: which of (output, arg 0, arg 1, ...) the rules read the values of; ``None``: all of them
        self.residuals: tuple[bool, ...] | None = None
        #: derived from ``residuals`` (by ``defresiduals``): the argument positions whose values no rule reads
        self.dropped: tuple[int, ...] = ()
        #: the batching rule (``vmap``); ``None``: not declared
        self.batcher: Any = None
        #: the output's shape depends on the input values (``nonzero``, boolean masks): ``jit`` guards it
        self.data_dependent_shape = False
        #: every reverse rule returns an array nobody else holds when its result is a plain ndarray
        #: (never its cotangent, a view of a value, a residual): the sweep may add to it in place
        self.vjp_fresh = False
        #: reverse rules that may write into their cotangent, used when the sweep owns it (``defvjp_into``)
        self.vjp_into: tuple[Callable[..., Any] | None, ...] | None = None
        #: reverse rules that add their contribution into a cotangent already gathered (``defvjp_add``)
        self.vjp_add: tuple[Callable[..., Any] | None, ...] | None = None
        #: forward rules that scale the tangent elementwise (``defjvp_scales``): a batch of tangents keeps
        #: the product of these factors beside it instead of multiplying each one in
        self.jvp_scales: tuple[Callable[..., Any] | None, ...] | None = None
        #: a scale applied to the sum of the arguments' scaled parts (``defjvp_scales(..., after=)``)
        self.jvp_scale_after: Callable[..., Any] | None = None
        #: forward rules for the identity seed of ``jacfwd`` over a vector (``defjvp_identity``)
        self.jvp_identity: tuple[Callable[..., Any] | None, ...] | None = None
        #: every forward rule returns an array nobody else holds when its result is a plain ndarray
        #: (never its tangent or a view of it): forward mode may add the next argument's part to it in place
        self.jvp_fresh = False
        #: one forward rule for all the arguments' tangents at once (``defjvp_joint``), used when two or more
        #: carry one: ``x - y`` is one subtraction of tangents, not a negation and an addition
        self.jvp_joint: Callable[..., Any] | None = None

    def __repr__(self) -> str:
        return f"<funcgrad primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        top: Trace | None = None
        for arg in args:
            if isinstance(arg, Tracer):
                trace = arg._trace
                if top is None or trace.level > top.level:
                    top = trace
                elif trace is not top and trace.level == top.level:
                    raise _errors.escaped_tracer(self.name)
        if top is None:
            return self.impl(*args, **params)
        if not top.active:
            raise _errors.escaped_tracer(self.name)
        return top.process(self, args, params)


def read_value(value: Any, why: str) -> Any:
    """The concrete value of a possibly traced ``value``, read through every level's ``Trace.read_value``.

    The one sanctioned way for a wrapper to branch on data that no primitive
    can carry (an output size, a Python loop count): each transform sees the
    read and may guard it (``jit``) or compute it (Dask).

    >>> read_value(3.0, "an example")
    3.0
    """
    if isinstance(value, Tracer):
        return value._trace.read_value(value, why)
    return value


def full_lower(value: Any) -> Any:
    """Strip every level of tracing: the plain value underneath.

    A level that ``keeps_values`` (``vmap``'s batch) is not stripped: what
    comes back is that level's value with every derivative level below it
    stripped, still batched, so its shape is one example's shape.
    For shapes and dtypes only; a value read this way is invisible to every
    transform (use a primitive, ``bool()`` or ``read_value`` instead).
    """
    while isinstance(value, Tracer):
        trace = value._trace
        if trace.keeps_values:
            return trace.lowered(value)
        value = value._value
    return value


Primitive.__doc__ = _Doc(Primitive.__dict__["__doc__"])  # type: ignore[assignment]  # see _Doc
