"""Allocator and kernel switches the GPU runtime reads once, when CUDA/HIP starts: set on import of
`models` (before anything imports torch), under the names the installed torch reads.

setdefault: an operator's own value wins. Each platform ignores the other's names, so both sets are
safe everywhere. torch >= 2.9 reads PYTORCH_ALLOC_CONF (the per-platform PYTORCH_CUDA_ALLOC_CONF /
PYTORCH_HIP_ALLOC_CONF are its deprecated aliases); older torch reads only those.
"""

from __future__ import annotations

import os
from importlib import metadata

ALLOC = "expandable_segments:True"  # fewer fragmentation OOMs when Wan's activations change shape
ALLOC_NAMES_NEW = ("PYTORCH_ALLOC_CONF",)
ALLOC_NAMES_OLD = ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_HIP_ALLOC_CONF")
KERNELS = {
    # ROCm: hipBLASLt GEMMs are faster than rocBLAS on MI300; MIOpen's FAST find mode skips the
    # exhaustive kernel search that otherwise costs minutes on the VAE's 3D convolutions.
    "TORCH_BLAS_PREFER_HIPBLASLT": "1",
    "MIOPEN_FIND_MODE": "FAST",
}


def torch_version() -> tuple[int, int] | None:
    """The installed torch's (major, minor), read from its metadata (torch is not imported)."""
    try:
        major, minor = metadata.version("torch").split(".")[:2]
        return int(major), int(minor)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def alloc_names(version: tuple[int, int] | None = None) -> tuple[str, ...]:
    version = version or torch_version()
    return ALLOC_NAMES_NEW if version is None or version >= (2, 9) else ALLOC_NAMES_OLD


def apply() -> None:
    """Put the switches in the environment; the allocator's only when the operator set none of its names."""
    if not any(os.environ.get(name) for name in ALLOC_NAMES_NEW + ALLOC_NAMES_OLD):
        for name in alloc_names():
            os.environ[name] = ALLOC
    for key, value in KERNELS.items():
        os.environ.setdefault(key, value)
