"""Settings from the environment (prefix REEL_), read when asked for, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("director", "image", "video", "critic", "music", "voice")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REEL_", extra="ignore")

    root: str = "outputs"
    # Where a deployment run may write (its `root` parameter): a comma-separated list of folders and
    # s3:// prefixes, each with everything under it; empty: only this worker's own root above.
    allowed_roots: str = ""
    preset: str = "preview"
    # Backend per role; empty means "the preset's family" (gpu or preview).
    backend_director: str = ""
    backend_image: str = ""
    backend_video: str = ""
    backend_critic: str = ""
    backend_music: str = ""
    backend_voice: str = ""
    # The GPU this process's model tasks use (REEL_GPU=N): its device cuda:N, its lock file and its
    # own concurrency slot (`gpu` for GPU 0, `gpu-N` otherwise), so one GPU has one owner at a time.
    gpu: int = 0
    # Device routing per stage for the GPU backends; empty: the GPU above.
    device_director: str = ""
    device_image: str = ""
    device_video: str = ""
    device_critic: str = ""
    device_music: str = ""
    device_voice: str = ""
    # The memory plan (models/memory_plan.py) decides these for the card found; set them to override.
    gpu_gb: float = 0.0  # the card's memory in GiB; 0: ask CUDA (torch.cuda.mem_get_info)
    offload: str = "auto"  # diffusers models: auto | off | model (enable_model_cpu_offload)
    quantize: str = "auto"  # weights: auto | bf16 | fp8 (diffusers layerwise casting, vLLM fp8)
    vllm_gpu_memory_utilization: float = 0.0  # 0: what the plan needs for the card
    vllm_max_model_len: int = 0  # 0: the plan's (32768)
    vllm_max_num_seqs: int = 0  # 0: 1 for the director, 8 for the critic
    vllm_max_images: int = 0  # the critic's limit_mm_per_prompt; 0: the plan's (4 frames + 4 portraits)
    # Hand-over: how long a model load waits for another process to free the card before it gives up.
    memory_wait_s: float = 900.0
    # How often a process holding idle models checks whether another process waits for the GPU.
    release_poll_s: float = 0.5
    # Model ids or local folders for the GPU backends (defaults: the seed project's models).
    model_director: str = "Qwen/Qwen3.5-35B-A3B"
    model_critic: str = ""  # empty: share the director's checkpoint
    model_image: str = "black-forest-labs/FLUX.2-klein-4B"
    model_video: str = "Wan-AI/Wan2.2-I2V-A14B-Diffusers"
    model_music: str = "ACE-Step/acestep-v15-xl-turbo-diffusers"  # ACE-Step 1.5 XL turbo, diffusers layout
    model_voice: str = "hexgrad/Kokoro-82M"
    # Step-distilled Wan2.2 for a turbo preset's first attempts: the high- and low-noise LoRA files
    # (comma-separated; lightx2v's 4-step LoRAs), or a distilled pipeline folder in diffusers layout.
    turbo_lora: str = ""
    model_video_turbo: str = ""
    # Any OpenAI-compatible server (vLLM serve, llama.cpp server, Ollama) for the `openai` director/critic.
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = ""
    openai_api_key: str = "EMPTY"
    # Video acceleration: selective torch.compile of transformer_2 (the seed's 1.2x win).
    compile_video: bool = False
    # First-Block Cache on Wan's experts: "diffusers" (its own per-module hook) or "para-attn".
    fbcache: str = "diffusers"
    # "affinity": shots run at once and the host batches work per model (fewest swaps);
    # "sequential": one shot after another, as the seed project did.
    schedule: str = "affinity"
    # How long, at most, an idle loaded heavy model waits for a request a flow has announced for it
    # (models/host.py `Need`: a shot's next render or critique, a reel's next keyframe) before a
    # waiting task's model replaces it; unannounced, it is replaced at once. A swap costs minutes on
    # a real GPU and an announced request is seconds away: this bound is only a backstop.
    swap_grace_s: float = 60.0
    # Prefect global concurrency limit held by every model task, and a host-wide lock file
    # that gives the same guarantee when no limit can be reached.
    gpu_slot: str = "gpu"
    gpu_slots: int = 1
    # Which model calls take a GPU turn (one at a time, holding that slot): "gpu", those of backends
    # that hold a GPU, while CPU backends (the preview family) run beside them and each other; "all",
    # every call, as before: rehearses a GPU deployment's queueing with preview backends on CPU
    # workers, which is how the tests prove the slot without a GPU.
    gpu_slot_for: Literal["gpu", "all"] = "gpu"
    gpu_lock: Path = Path.home() / ".cache" / "reel" / "gpu.lock"
    # S3-compatible storage for s3:// roots.
    s3_endpoint_url: str = ""
    s3_key: str = ""
    s3_secret: str = ""
    # Scale-out: run each shot as its own `shot` deployment run (any worker of the pool).
    fan_out: bool = False
    shot_deployment: str = "shot/fan-out"
    # The card `reel estimate` and each run's estimate artifact price (prompts/costs.json), and
    # its $ per GPU-hour (unset: the card's typical price there).
    card: str = "mi300x"
    gpu_price: float | None = None
    # The storyboard review (--review): how long a paused reel waits for a person, and how often
    # the paused flow asks the server whether it was resumed.
    review_timeout_s: int = 24 * 3600
    review_poll_s: int = 5
    # Base URL the browser can load artifact files from (`make server` serves the root on :4201).
    artifact_url: str = ""
    # Fault drills (see reel/drills.py), e.g. "kill:shot:3" or "fail-once:shot:2:attempt:1".
    fail_at: str = ""
    # Faults the `faulty` video backend injects: "shot:attempt:fault,..." (frozen, ignore_camera, drift).
    video_faults: str = ""

    @property
    def gpu_device(self) -> str:
        return f"cuda:{self.gpu}"

    @property
    def gpu_slot_name(self) -> str:
        """The Prefect concurrency limit of this GPU: `gpu` for GPU 0 (as before), `gpu-N` for GPU N."""
        return self.gpu_slot if self.gpu == 0 else f"{self.gpu_slot}-{self.gpu}"

    @property
    def gpu_lock_path(self) -> Path:
        """The host lock file of this GPU (gpu.lock for GPU 0, gpu-N.lock for GPU N)."""
        return self.gpu_lock if self.gpu == 0 else self.gpu_lock.with_name(f"{self.gpu_lock.stem}-{self.gpu}.lock")

    @property
    def resident_lock_path(self) -> Path:
        """Held by the one process whose heavy models are loaded on this GPU (see models/host.py)."""
        return self.gpu_lock_path.with_suffix(".resident")

    def backend_for(self, role: str, family: str) -> str:
        chosen = getattr(self, f"backend_{role}")
        return chosen or family

    def device_for(self, role: str) -> str:
        return getattr(self, f"device_{role}") or self.gpu_device

    def model_for(self, role: str) -> str:
        if role == "critic":
            return self.model_critic or self.model_director
        return getattr(self, f"model_{role}")

    def backend_options(self, role: str) -> dict:
        """What the host hands a backend's constructor: it never reads the environment itself."""
        return {"device": self.device_for(role), "model": self.model_for(role),
                "openai_base_url": self.openai_base_url, "openai_model": self.openai_model,
                "openai_api_key": self.openai_api_key, "compile_video": self.compile_video,
                "fbcache": self.fbcache, "turbo_lora": self.turbo_lora, "turbo_model": self.model_video_turbo,
                "faults": self.video_faults}


def get_settings() -> Settings:
    """The settings from REEL_* variables; a value that does not parse is one clear error naming
    the variable, not pydantic's report from deep inside whatever asked first."""
    from pydantic import ValidationError

    from reel.errors import UserError

    try:
        return Settings()
    except ValidationError as exc:
        bad = "; ".join(f"REEL_{str(e['loc'][0]).upper()}={e.get('input')!r}: {e['msg']}" for e in exc.errors())
        raise UserError(f"{bad}; fix or unset it") from None
