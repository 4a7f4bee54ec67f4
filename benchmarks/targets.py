"""Targets: a ratio read from the results, named by what it measures, met when it is at most its limit."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: reads the measured ratio from the run's results, given the workload's name (``None``: not measured)
Reading = Callable[[dict[str, Any], str], "float | None"]


@dataclass(frozen=True)
class Target:
    """``what`` (e.g. "MLP gradient / hand-written gradient") must measure at most ``limit``."""

    what: str
    limit: float
    read: Reading
    unit: str = "time ratio"

    def evaluate(self, results: dict[str, Any], workload: str | None) -> dict[str, Any]:
        """The target as reported: what, measured (``None`` when not run), limit, unit, met."""
        measured = None if workload is None else self.read(results, workload)
        met = None if measured is None else measured <= self.limit
        return {"what": self.what, "measured": measured, "limit": self.limit, "unit": self.unit, "met": met}


def time_ratio(what: str, limit: float, numerator: str = "funcgrad", denominator: str = "numpy") -> Target:
    """The median time of one implementation of the workload over another's (``numpy`` is the floor)."""

    def read(results: dict[str, Any], workload: str) -> float | None:
        impls = results["workloads"].get(workload, {}).get("impls", {})
        if numerator not in impls or denominator not in impls:
            return None
        return float(impls[numerator]["median"] / impls[denominator]["median"])

    return Target(what, limit, read)


def sweep_memory_ratio(what: str, limit: float) -> Target:
    """funcgrad's residuals plus backward peak over the floor's (the least a reverse mode holds).

    A limit of 1.05 means the floor's arrays, give or take a few Python objects.
    """

    def read(results: dict[str, Any], workload: str) -> float | None:
        per_impl = results.get("sweep_memory", {}).get(workload, {})
        if "funcgrad" not in per_impl or "numpy" not in per_impl:
            return None
        ours, floor = per_impl["funcgrad"], per_impl["numpy"]
        total = floor["residual_bytes"] + floor["sweep_peak_bytes"]
        return float((ours["residual_bytes"] + ours["sweep_peak_bytes"]) / max(total, 1))

    return Target(what, limit, read, "bytes ratio")


def extra_ratio(what: str, limit: float, key: str, field: str) -> Target:
    """A bytes ratio computed by a workload's extra measurement, ``results[key][field]``."""

    def read(results: dict[str, Any], workload: str) -> float | None:
        value = results.get(key, {}).get(field)
        return None if value is None else float(value)

    return Target(what, limit, read, "bytes ratio")


def first_call_ratio(
    what: str, limit: float, numerator: str = "fg-jit", denominator: str = "funcgrad", key: str = "first_call"
) -> Target:
    """One implementation's first call (a jit's recording included) over another's median call.  ``key``:
    ``"first_call"``, the first call proper, or ``"fresh_first_call"``, new instances' first calls after the timed
    rounds (``measure.fresh_first_call``)."""

    def read(results: dict[str, Any], workload: str) -> float | None:
        impls = results["workloads"].get(workload, {}).get("impls", {})
        if numerator not in impls or denominator not in impls or key not in impls[numerator]:
            return None
        return float(impls[numerator][key] / impls[denominator]["median"])

    return Target(what, limit, read)


def geomean_ratio(
    what: str, limit: float, workloads: tuple[str, ...], numerator: str, denominator: str, first_call: str = ""
) -> Target:
    """The geometric mean over ``workloads`` of one implementation's median (or, ``first_call`` naming the key,
    its first call: ``"first_call"`` or ``"fresh_first_call"``) over another's median, over the workloads where
    both ran (``None`` when none did)."""

    def read(results: dict[str, Any], _: str) -> float | None:
        logs = []
        for name in workloads:
            impls = results["workloads"].get(name, {}).get("impls", {})
            if numerator in impls and denominator in impls and (first_call or "median") in impls[numerator]:
                top = impls[numerator][first_call or "median"]
                logs.append(math.log(top / impls[denominator]["median"]))
        return math.exp(sum(logs) / len(logs)) if logs else None

    return Target(what, limit, read)
