"""Settings from the environment (prefix REEL_), read when asked for, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("director", "image", "video", "critic", "music", "voice")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REEL_", extra="ignore")

    root: str = "outputs"
    preset: str = "preview"
    # Backend per role; empty means "the preset's family" (gpu or preview).
    backend_director: str = ""
    backend_image: str = ""
    backend_video: str = ""
    backend_critic: str = ""
    backend_music: str = ""
    backend_voice: str = ""
    # Device routing per stage for the GPU backends.
    device_director: str = "cuda:0"
    device_image: str = "cuda:0"
    device_video: str = "cuda:0"
    device_critic: str = "cuda:0"
    device_music: str = "cuda:0"
    device_voice: str = "cuda:0"
    # Prefect global concurrency limit held by every model task, and a host-wide lock file
    # that gives the same guarantee when no limit can be reached.
    gpu_slot: str = "gpu"
    gpu_slots: int = 1
    gpu_lock: Path = Path.home() / ".cache" / "reel" / "gpu.lock"
    # S3-compatible storage for s3:// roots.
    s3_endpoint_url: str = ""
    s3_key: str = ""
    s3_secret: str = ""
    # Fault injection for resume tests and drills: "shot:<k>" fails shot k's render once per marker file.
    fail_at: str = ""

    def backend_for(self, role: str, family: str) -> str:
        chosen = getattr(self, f"backend_{role}")
        return chosen or family

    def device_for(self, role: str) -> str:
        return getattr(self, f"device_{role}")


def get_settings() -> Settings:
    return Settings()
