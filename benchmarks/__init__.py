"""funcgrad's benchmarks: workloads timed against a hand-written NumPy floor and the peers.

Run them with ``python benchmarks/run.py``; add a workload as a function in a module of
``benchmarks/workloads/`` (see benchmarks/README.md).  The funcgrad package never imports this.
"""
