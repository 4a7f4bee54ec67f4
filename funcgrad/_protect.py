"""Plain NumPy arrays a transform keeps are read-only while the user's function runs.

A transform keeps references to the plain arrays the user's function hands
it (a recording's constants): it reads them again later.  Copying each one
would cost a large closed-over matrix a copy per call; instead a ``Hold``
makes each kept array, and the arrays it is a view of, read-only
(``flags.writeable = False``) until the transform is done, so that a write
into it while the function still runs (a reused buffer: ``buf[:] = row``
after ``buf @ w``, or ``buf[0] = row`` after ``buf[0] @ w``) raises NumPy's
``ValueError`` instead of changing what was kept.  The transform then runs
the function again keeping copies (``read_only_error`` recognises the
error).  Arrays are made writeable again when the last hold on them is
released; an array the caller made read-only is never touched.

A write through a view made *before* the hold (``v = buf[:]`` before the
call, then ``v[:] = row``) is not stopped: NumPy keeps a writeable flag per
array object, not per memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["Hold", "held_or_copied", "kept_copy", "mutable", "read_only_error"]

T = TypeVar("T")

_LOCK = threading.Lock()
#: id(array) -> [array, how many holds keep it]: the arrays funcgrad made read-only
_HELD: dict[int, list[Any]] = {}
#: id(array) -> array, for the arrays whose flag could not be set back yet (a view released while its base was
#: still held elsewhere): read-only by funcgrad, not the caller
_PENDING: dict[int, np.ndarray[Any, Any]] = {}


class Hold:
    """The plain arrays one transform keeps, read-only until :meth:`release`.

    >>> import numpy as np
    >>> from funcgrad._protect import Hold
    >>> a = np.zeros(3)
    >>> hold = Hold()
    >>> hold.keep(a), a.flags.writeable
    (True, False)
    >>> hold.release(); a.flags.writeable
    True
    """

    __slots__ = ("arrays",)

    def __init__(self) -> None:
        #: id -> array, for each array this hold keeps (each counted once however often it is kept)
        self.arrays: dict[int, np.ndarray[Any, Any]] = {}

    def keep(self, value: np.ndarray[Any, Any]) -> bool:
        """Make ``value`` read-only until this hold is released, and the arrays it is a view of (a write
        through ``buf`` changes ``buf[0]``; views made from them meanwhile are read-only too).  ``False`` when
        it was read-only already and not by funcgrad: the caller's own read-only array, taken as never
        changing."""
        if id(value) in self.arrays:
            return True  # kept already (a closed-over matrix used at every step)
        with _LOCK:
            if not self._keep(value):
                return False
            base = value.base  # (types and flags down the chain: no value is read)
            while type(base) is np.ndarray and id(base) not in self.arrays and self._keep(base):
                base = base.base
        return True

    def _keep(self, value: np.ndarray[Any, Any]) -> bool:
        key = id(value)
        entry = _HELD.get(key)
        if entry is not None:
            entry[1] += 1
        elif value.flags.writeable:  # (the flag, not the values: no value is read)
            value.setflags(write=False)
            _HELD[key] = [value, 1]
        elif _PENDING.pop(key, None) is not None:
            _HELD[key] = [value, 1]  # still read-only from a hold released before its base: this hold's now
        else:
            return False
        self.arrays[key] = value
        return True

    def release(self) -> None:
        """Make writeable again every array no other hold keeps."""
        if not self.arrays:
            return
        with _LOCK:
            waiting = []
            for key, value in self.arrays.items():
                entry = _HELD[key]
                entry[1] -= 1
                if entry[1] == 0:
                    del _HELD[key]
                    try:
                        value.setflags(write=True)
                    except ValueError:  # a view whose base is still read-only: set back with the base
                        waiting.append(value)
            self.arrays.clear()
            if not waiting and not _PENDING:
                return
            waiting += _PENDING.values()
            while waiting:  # (a view comes back only after its base: rounds until one sets nothing back)
                left = []
                for value in waiting:
                    try:
                        value.setflags(write=True)
                    except ValueError:  # a view whose base is still read-only (held elsewhere): set back later
                        left.append(value)
                if len(left) == len(waiting):
                    break
                waiting = left
            _PENDING.clear()
            _PENDING.update((id(value), value) for value in waiting)


def kept_copy(value: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """What a transform keeps of a plain array when it keeps copies: a copy when the array may change (in its
    own memory layout: a transposed view stays Fortran-ordered, so BLAS sees what eager saw), else the array."""
    return value.copy(order="K") if mutable(value) else value


def held_or_copied(attempt: Callable[[bool], T], copies: bool = False) -> tuple[T, bool]:
    """``attempt(copies)``, first holding the kept arrays read-only (``copies`` false), then, when NumPy refused
    a write into one (a reused buffer) or ``copies`` is given, keeping copies; and whether copies were kept.
    The function the attempt runs runs a second time in the first case: its side effects too."""
    if not copies:
        try:
            return attempt(False), False
        except Exception as exc:
            if not read_only_error(exc):
                raise
    return attempt(True), True


def mutable(value: np.ndarray[Any, Any]) -> bool:
    """Whether a plain array may change later: writeable, or read-only only because of funcgrad."""
    return bool(value.flags.writeable) or id(value) in _HELD or id(value) in _PENDING


#: words of NumPy's refusals (and of the buffer protocol's, for C code that asks for a writeable buffer); "not
#: acceptable" is ``numpy.dot``'s refusal of a read-only ``out=``
_REFUSALS = ("read-only", "readonly", "not writable", "not acceptable")


def read_only_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is NumPy's refusal to write into a read-only array."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ValueError, TypeError)):
            text = str(current).lower()
            if any(word in text for word in _REFUSALS):
                return True
        current = current.__cause__ or current.__context__
    return False
