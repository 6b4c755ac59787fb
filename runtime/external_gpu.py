"""A server on the same card (`vllm serve` for the `openai` director/critic) holds part of it for as
long as it runs: the memory plan counts only the rest as ours.

REEL_EXTERNAL_GPU_GB says how much; without it, when an `openai` backend talks to a server on this
machine, vLLM's /metrics tells its share (`vllm:cache_config_info{gpu_memory_utilization="0.64"}`).
A local server that does not say (llama.cpp, Ollama) counts 0, with one warning naming the setting.
"""

from __future__ import annotations

import functools
import logging
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
SHARE = re.compile(r'^vllm:cache_config_info\{[^}]*gpu_memory_utilization="([0-9.]+)"', re.M)


def external_gib(card_gib: float) -> float:
    """GiB of this card held by another program the operator runs for reel (0 when none)."""
    from reel.settings import get_settings

    s = get_settings()
    if s.external_gpu_gb:
        return float(s.external_gpu_gb)
    uses_server = "openai" in (s.backend_director, s.backend_critic)
    if not uses_server or urlsplit(s.openai_base_url).hostname not in LOCAL_HOSTS:
        return 0.0
    share = served_share(s.openai_base_url)
    return share * card_gib if share is not None else 0.0


@functools.cache
def served_share(base_url: str) -> float | None:
    """The gpu_memory_utilization a vLLM server at `base_url` (…/v1) started with, from its /metrics."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        with urllib.request.urlopen(f"{root}/metrics", timeout=5) as reply:
            text = reply.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError):
        text = ""
    found = SHARE.search(text)
    if found is None:
        log.warning("the server at %s shares this card but does not say how much of it it holds (no vLLM "
                    "/metrics); set REEL_EXTERNAL_GPU_GB to its GiB so the memory plan leaves it room", base_url)
        return None
    return float(found.group(1))
