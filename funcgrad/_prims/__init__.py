"""The primitives layer: every primitive with its rules, the rule conventions and the traced array.

It sits below both the transforms (``funcgrad._reverse``, ``_forward``, ``_batching``, ``_jit``, ...)
and the NumPy surface (``funcgrad.numpy``), and imports only the ground (``_trace``, ``_rules``,
``_backends``, ``_errors``, ``tree``).  See docs/design.md for the layer order.
"""
