"""The report: the machine, a table of medians and ratios to the floor, memory, notes and targets."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

import funcgrad as fg
from benchmarks.peers import Peers

MB = 1 / 2**20


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def machine_info(peers: Peers) -> dict[str, Any]:
    """Versions, the CPU and the platform, for the report's first line and the JSON."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "funcgrad": fg.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "peers": peers.versions,
        "missing_peers": peers.missing,
        "cpu": f"{cpu} ({os.cpu_count()} cpus, 1 thread used)",
        "platform": platform.platform(),
    }


def _table(results: dict[str, Any]) -> list[str]:
    header = (
        f"{'workload':<22}{'implementation':<12}{'median':>12}{'first call':>12}{'per op':>11}{'x numpy':>10}"
        f"{'funcgrad/it':>13}  check"
    )
    lines = [header, "-" * len(header)]
    for wname, w in results["workloads"].items():
        floor = w["impls"]["numpy"]["median"]
        ours = w["impls"]["funcgrad"]["median"]
        for iname, entry in w["impls"].items():
            per = entry.get("per_op")
            per_text = format_time(per) if per is not None else ""
            rel = "" if iname == "funcgrad" else f"{ours / entry['median']:.2f}"
            check = "ok" if entry["agrees"] else f"MISMATCH ({entry['max_rel_error']:.1e})"
            if not entry.get("checked", True):
                check = "(not checked: computes another result)"
            label = w.get("floor_name", "numpy") if iname == "numpy" else iname
            lines.append(
                f"{wname:<22}{label:<12}{format_time(entry['median']):>12}{format_time(entry['first_call']):>12}"
                f"{per_text:>11}"
                f"{entry['median'] / floor:>10.2f}{rel:>13}  {check}"
            )
            wname = ""
        for iname, why in w["skipped"].items():
            lines.append(f"{'':<22}{iname:<12}  skipped: {why}")
    return lines


def _sweeps(results: dict[str, Any]) -> list[str]:
    sweeps = results.get("sweep_memory", {})
    if not sweeps:
        return []
    lines = ["", "backward sweep memory (MB held after the forward pass + peak above that while the backward runs):"]
    for wname, per_impl in sweeps.items():
        floor_name = results["workloads"][wname].get("floor_name", "numpy")
        parts = [
            f"{floor_name if name == 'numpy' else name} {m['residual_bytes'] * MB:.1f} + {m['sweep_peak_bytes'] * MB:.1f}"
            for name, m in per_impl.items()
        ]
        lines.append(f"  {wname:<20}" + ", ".join(parts))
    return lines


def _settled(results: dict[str, Any]) -> list[str]:
    """A line per implementation called to its steady state before timing (``Workload.settle``): the calls
    after the first one that it took, and their time together."""
    lines = []
    for workload, result in results["workloads"].items():
        for name, entry in result["impls"].items():
            settle = entry.get("settle")
            if settle and settle["calls"]:
                lines.append(
                    f"{workload} {name}: timed after {settle['calls']} more calls, "
                    f"{format_time(settle['seconds'])} together (preparing its last tier)"
                )
    return ["", "calls before timing (after the first):", *lines] if lines else []


def _fresh(results: dict[str, Any]) -> list[str]:
    """A line per implementation whose new instances' first calls were timed after the rounds
    (``Workload.fresh``): that median beside the first call proper, each over the eager median."""
    lines = []
    for workload, result in results["workloads"].items():
        eager = result["impls"].get("funcgrad", {}).get("median")
        for name, entry in result["impls"].items():
            fresh = entry.get("fresh_first_call")
            if fresh is None or not eager:
                continue
            lines.append(
                f"{workload} {name}: {format_time(fresh)} = {fresh / eager:.2f}x the eager median "
                f"(the first call proper: {format_time(entry['first_call'])} = {entry['first_call'] / eager:.2f}x)"
            )
    title = "a new instance's first call, timed after the rounds, each right after a call of the timed one (median of 5):"
    return ["", title, *lines] if lines else []


def report(results: dict[str, Any], memory_lines: list[str], notes: list[str]) -> str:
    """The whole report; ``memory_lines`` describe the workloads' extra measurements, ``notes`` their results."""
    machine = results["machine"]
    lines = [
        f"funcgrad {machine['funcgrad']} | python {machine['python']} | numpy {machine['numpy']} | "
        + " | ".join(f"{k} {v}" for k, v in machine["peers"].items())
        + f" | {machine['cpu']} | {results['timer']} time, medians of {results['repeat']}"
        + (" (quick sizes)" if results["quick"] else "")
    ]
    for name, why in machine["missing_peers"].items():
        lines.append(f"peer {name} skipped: {why}")
    lines.append("")
    lines.extend(_table(results))
    if memory_lines:
        lines.extend(["", *memory_lines])
    lines.extend(_sweeps(results))
    lines.extend(_settled(results))
    lines.extend(_fresh(results))
    if notes:
        lines.extend(["", *notes])
    lines.append("")
    lines.append("targets (met when measured <= limit):")
    for target in results["targets"]:
        measured = target["measured"]
        if measured is None:
            status, shown = "n/a (not measured)", "-"
        else:
            status, shown = ("met" if target["met"] else "NOT met"), f"{measured:.2f}"
        lines.append(f"  {target['what']:<60}{shown:>8}  limit {target['limit']:<5} ({target['unit']})  {status}")
    return "\n".join(lines)
