"""reel: one sentence in, a finished ~30 s cinematic reel out, orchestrated on Prefect."""

__version__ = "0.1.0"
