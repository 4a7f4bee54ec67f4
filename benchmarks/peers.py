"""The peer libraries (HIPS autograd, JAX eager and jit, PyTorch eager and ``torch.compile``), imported when installed
and wanted."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from typing import Any

#: the names ``--peers`` accepts
PEER_NAMES = ("autograd", "jax", "jax-jit", "torch", "torch-compile", "dask-glm")  # dask-glm: the Dask workloads import it themselves


@dataclass
class Peers:
    """The peer libraries that could be imported (``None`` when missing or not wanted)."""

    autograd: Any = None
    anp: Any = None
    jax: Any = None
    jnp: Any = None
    torch: Any = None
    #: ``torch.compile`` wanted too (the scientists' models compile ``torch.func`` transforms with it)
    torch_compile: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def loaded(self) -> dict[str, Any]:
        """Each peer name with its library (``None`` when not loaded)."""
        return {
            "autograd": self.autograd,
            "jax": self.jax,
            "jax-jit": self.jax,
            "torch": self.torch,
            "torch-compile": self.torch if self.torch_compile else None,
        }


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def load_peers(wanted: set[str]) -> Peers:
    """Import the wanted peers, one thread and float64 each; a missing or broken one is recorded, never fatal."""
    peers = Peers()
    if "autograd" in wanted:
        try:
            import autograd
            import autograd.numpy as anp

            peers.autograd, peers.anp = autograd, anp
            peers.versions["autograd"] = _version("autograd")
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["autograd"] = str(exc)
    if wanted & {"jax", "jax-jit"}:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_platforms", "cpu")
            import jax.numpy as jnp

            peers.jax, peers.jnp = jax, jnp
            peers.versions["jax"] = jax.__version__
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["jax"] = str(exc)
    if wanted & {"torch", "torch-compile"}:
        try:
            import torch

            torch.set_num_threads(1)
            torch.set_default_dtype(torch.float64)
            peers.torch = torch
            peers.torch_compile = "torch-compile" in wanted
            if peers.torch_compile:  # compiled in this process: no pool of compile workers left beside the timings
                import torch._inductor.config

                torch._inductor.config.compile_threads = 1
            peers.versions["torch"] = torch.__version__
        except Exception as exc:  # missing, or installed but broken: reported, never fatal
            peers.missing["torch"] = str(exc)
    return peers
