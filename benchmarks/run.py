"""funcgrad's benchmarks: each workload side by side with a hand-written NumPy gradient and the peers.

Run from a checkout::

    pip install -e '.[bench]'
    python benchmarks/run.py                  # full sizes, 7 interleaved repeats
    python benchmarks/run.py --quick --repeat 1 --json /tmp/bench.json   # the CI smoke invocation

Every workload (``benchmarks/workloads/``) returns the implementations to time: the
hand-written NumPy gradient (the floor), funcgrad, and every installed peer
(HIPS autograd, JAX eager and jit, PyTorch eager).  Each result is checked
against the floor before anything is timed.  Repeats are interleaved (one call
of every implementation per round), the table shows medians and ratios from
this one run, and a "targets" section checks the ratios funcgrad aims for.
Everything runs in one process on one thread, in float64.
"""

from __future__ import annotations

import os

# one thread everywhere, set before NumPy / torch / JAX load their thread pools
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from benchmarks.measure import TIMERS, measure, profile, sweep_memory  # noqa: E402
from benchmarks.peers import PEER_NAMES, load_peers  # noqa: E402
from benchmarks.report import machine_info, report  # noqa: E402
from benchmarks.workload import Extra  # noqa: E402
from benchmarks.workloads import registered  # noqa: E402


def parse_args(argv: list[str] | None, names: list[str]) -> tuple[argparse.Namespace, set[str], list[str]]:
    """The options, the wanted peers and the chosen workload names (refusing unknown ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds; the table shows medians (default 7)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few milliseconds a sample (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write every sample and the machine description here")
    parser.add_argument(
        "--peers",
        default=",".join(PEER_NAMES),
        help=f"comma-separated peers to compare, or 'none' (default: {','.join(PEER_NAMES)}; missing ones are skipped)",
    )
    parser.add_argument(
        "--timer",
        choices=sorted(TIMERS),
        default="process",
        help="process: CPU time of this process, steadier on a shared machine (default); wall: elapsed time",
    )
    parser.add_argument("--only", default="", help="comma-separated workload function names (e.g. scalar_chain,mlp)")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="instead of timing, run funcgrad's side of one workload (a function name) under cProfile for about "
        "a second and print where the time goes",
    )
    args = parser.parse_args(argv)
    wanted = set() if args.peers == "none" else {p.strip() for p in args.peers.split(",") if p.strip()}
    unknown = wanted - set(PEER_NAMES)
    if unknown:
        parser.error(f"unknown peer(s) {sorted(unknown)}; choose from {', '.join(PEER_NAMES)} or 'none'")
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    for name in only + ([args.profile] if args.profile else []):
        if name not in names:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(sorted(names))}")
    return args, wanted, only


def main(argv: list[str] | None = None) -> int:
    entries = registered()
    args, wanted, only = parse_args(argv, [entry.name for entry in entries])
    if args.profile:
        build = next(entry.build for entry in entries if entry.name == args.profile)
        return profile(build, args.quick, 0.1 if args.quick else 1.0)
    peers = load_peers(wanted)
    chosen = [entry for entry in entries if not only or entry.name in only]
    budget = 0.002 if args.quick else 0.05
    results: dict[str, Any] = {
        "machine": machine_info(peers),
        "repeat": args.repeat,
        "quick": args.quick,
        "timer": args.timer,
        "workloads": {},
    }
    names: dict[str, str] = {}  # builder's name -> the workload's name in the results
    extras: list[Extra] = []
    notes = []
    for entry in chosen:
        workload = entry.build(args.quick, peers)
        if workload is None:
            continue  # its library (Dask) is not installed
        names[entry.name] = workload.name
        for name in list(workload.impls):
            if name not in ("numpy", "funcgrad", "fg-jit", "fg-jit-fuse") and name not in wanted:  # funcgrad's jit beside it
                del workload.impls[name]
        measured = measure(workload, args.repeat, budget, TIMERS[args.timer])
        results["workloads"][workload.name] = measured
        if workload.memory:
            results.setdefault("sweep_memory", {})[workload.name] = {
                name: sweep_memory(phases) for name, phases in workload.memory.items() if name in workload.impls
            }
        extras.extend(workload.extras)
        if workload.note is not None:
            notes.append(workload.note(measured))
    memory_lines = []
    for extra in extras:  # after every timing, as each allocates and frees a lot
        value = extra.measure()
        if value is not None:
            results[extra.key] = value
            memory_lines.append(extra.describe(value))
    results["targets"] = [
        target.evaluate(results, names.get(entry.name)) for entry in entries for target in entry.targets
    ]
    print(report(results, memory_lines, notes))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    mismatches = [
        f"{w}/{i}" for w, entry in results["workloads"].items() for i, e in entry["impls"].items() if not e["agrees"]
    ]
    if mismatches:
        print(f"\nresults disagree with the hand-written NumPy gradient: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
