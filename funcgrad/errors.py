"""The exception types that are funcgrad's own (the rest are Python's: ``TypeError``, ``ValueError``).

>>> import funcgrad as fg
>>> issubclass(fg.errors.UnexpectedTracerError, TypeError)
True
"""

__all__ = ["UnexpectedTracerError"]


class UnexpectedTracerError(TypeError):
    """A traced value was used after its transform returned (kept in a list or a global, or handed to
    another thread).  A ``TypeError``, as JAX's ``jax.errors.UnexpectedTracerError``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> leaked = []
    >>> _ = fg.grad(lambda x: leaked.append(x) or x * x)(1.0)
    >>> fnp.sin(leaked[0])
    Traceback (most recent call last):
    ...
    funcgrad.errors.UnexpectedTracerError: funcgrad: 'sin' received a traced value from a transform ...
    """
