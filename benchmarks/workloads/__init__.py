"""The workloads, one module a family; each module's ``@workload`` functions register themselves.

Every module here whose name does not start with ``_`` is imported by ``registered()``, in
alphabetical order; a new family of workloads is a new module, nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from benchmarks.workload import REGISTRY, Registered


def registered() -> list[Registered]:
    """Every workload of every module here, those marked ``before_peers`` first, then in module order."""
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        importlib.import_module(f"{__name__}.{module}")
    return sorted(REGISTRY, key=lambda entry: not entry.before_peers)
