"""The GPU runtime the diffusers backends share: allocator/kernel settings that must be in the
environment before torch starts, loading a pipeline with one clear error when it cannot be, and
handing its memory back.

Nothing heavy is imported at module level: `import models.gpu.accel` works without torch.
"""

from __future__ import annotations

import gc
from pathlib import Path

from models import gpu_env, weights
from reel.errors import BackendUnavailable
from models.base import BackendBase


def apply_env() -> None:
    """The allocator and kernel switches (models/gpu_env.py; `import models` applied them already)."""
    gpu_env.apply()


def check_model(model: str, what: str, setting: str) -> None:
    """Fail early, before torch is imported, when a local model folder does not exist."""
    if weights.missing_folder(model):
        raise BackendUnavailable(f"the {what} model folder {model} does not exist; "
                                 f"set {setting} to a downloaded diffusers folder or a hub id")


def import_diffusers():
    """torch and diffusers, or the one-line fix when the GPU extra is not installed."""
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise BackendUnavailable(f"the diffusers backends need torch and diffusers ({exc}); "
                                 "install the GPU stack with `pip install -e .[gpu]`") from exc
    return torch, diffusers


def component_dtypes(torch, role: str, dtype):
    """from_pretrained's `dtype`: `dtype` for every component, except those the role's config keeps in
    float32 (configs/models/<role>.json "fp32": the Wan VAE, as diffusers recommends; the memory
    plan counts it the same way)."""
    if dtype == torch.float32:
        return dtype
    from reel import prompts

    try:
        components = prompts.table(f"models/{role}.json")["components"]
    except FileNotFoundError:
        return dtype
    keep = {name: torch.float32 for name, spec in components.items() if spec.get("fp32")}
    return {"default": dtype, **keep} if keep else dtype


def load_pipeline(class_name: str, model: str, device: str, what: str, setting: str, offload: bool = False,
                  fp8: bool = False, dtype=None):
    """`diffusers.<class_name>.from_pretrained(model)` on `device` (call apply_env() first): bf16 on
    an accelerator (components the config keeps in fp32 aside), fp32 on CPU (where bf16 kernels are
    slow or missing); `dtype` overrides the compute dtype. A missing folder, file or weight becomes
    one BackendUnavailable line naming the model, its path and the setting to change."""
    check_model(model, what, setting)
    torch, diffusers = import_diffusers()
    if dtype is None:
        dtype = torch.float32 if device.startswith("cpu") else torch.bfloat16
    path = str(Path(model).expanduser()) if weights.is_local(model) else model
    try:
        # `dtype=`, not the deprecated `torch_dtype=` (diffusers 0.42); a dict sets it per component.
        pipe = getattr(diffusers, class_name).from_pretrained(path, dtype=component_dtypes(torch, what, dtype))
    except OSError as exc:  # hub and file-system misses all land here (EnvironmentError)
        reason = " ".join(str(exc).split())[:300]
        raise BackendUnavailable(f"cannot load the {what} model {model} ({reason}); "
                                 f"set {setting} to a downloaded diffusers folder") from exc
    return place(pipe, device, offload, fp8, dtype)


def place(pipe, device: str, offload: bool = False, fp8: bool = False, dtype=None):
    """A loaded pipeline onto `device` as the memory plan says: FP8 weight storage, then model CPU
    offload or the whole pipeline on the device (the GPU check places its random-weight pipelines here too)."""
    import torch

    dtype = dtype or (torch.float32 if device.startswith("cpu") else torch.bfloat16)
    pipe.set_progress_bar_config(disable=True)
    if fp8:  # the memory plan's choice for this card (runtime/memory_plan.py); on a CPU only when asked directly
        for name in ("transformer", "transformer_2", "text_encoder"):
            component = getattr(pipe, name, None)
            if component is not None and hasattr(component, "enable_layerwise_casting"):
                component.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
    if offload and not device.startswith("cpu"):
        pipe.enable_model_cpu_offload(device=device)  # one component on the GPU at a time
        return pipe
    return pipe.to(device)


def free(device: str) -> None:
    """Hand a deleted pipeline's memory back (to the OS and, on a GPU, to the next model)."""
    gc.collect()
    if not device.startswith("cpu"):
        import torch

        if torch.cuda.is_available():  # also true on ROCm builds
            torch.cuda.empty_cache()


class PipelineBackend(BackendBase):
    """The load/unload lifecycle every diffusers backend shares: `pipe` is loaded on first use
    from `model_id` on `device`, and handed back whole (del, gc, empty_cache) on unload.
    Subclasses name their pipeline class, role and setting, and may hook `_loaded`/`_unloaded`."""

    heavy = True
    pipeline_class = ""
    role = ""
    setting = ""
    device: str
    model_id: str
    pipe = None
    offload = False  # set from the memory plan (apply_plan)
    fp8 = False
    dtype = None  # None: by device (bf16 on a card, fp32 on CPU); a test sets bf16 to run a card's dtypes on CPU

    def apply_plan(self, stage) -> None:
        """This card's memory plan for the model (runtime/memory_plan.py `Stage`), before load():
        the whole pipeline resident or model CPU offload, bf16 or FP8 weights."""
        self.offload = stage.mode in ("offload", "does not fit")  # the latter: its smallest form, as the host says
        self.fp8 = stage.fp8

    def load(self) -> None:
        if self.pipe is not None:
            return
        apply_env()  # before torch is imported
        self.pipe = load_pipeline(self.pipeline_class, self.folder(), self.device, self.role, self.setting,
                                  offload=self.offload, fp8=self.fp8, dtype=self.dtype)
        self._loaded()

    def unload(self) -> None:
        if self.pipe is None:
            return
        del self.pipe
        self.pipe = None
        self._unloaded()
        free(self.device)

    def folder(self) -> str:
        """The model folder or hub id load() reads (a backend with two checkpoints picks one)."""
        return self.model_id

    def _loaded(self) -> None:
        """Called once the pipeline is in memory."""

    def _unloaded(self) -> None:
        """Called once the pipeline has been dropped."""
