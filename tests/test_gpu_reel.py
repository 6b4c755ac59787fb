"""A whole reel through every GPU backend: tiny models built offline from configs and loaded
from their folders by the same loaders real weights use (FLUX.2 klein, Wan2.2, ACE-Step,
Kokoro), the director and the tier-2 critic over a real OpenAI-compatible HTTP server."""

from __future__ import annotations

import json

import pytest

from models.cpu.director import HeuristicDirector
from reel.media import probe
from tests.chat_server import ChatServer
from tests.helpers import reel_cli
from tests.tiny_models import build_tiny_acestep, build_tiny_flux2, build_tiny_kokoro, build_tiny_wan

pytest.importorskip("torch", reason="the GPU backends need torch (pip install torch==2.13.0 for the CPU build)")
pytest.importorskip("diffusers", reason="the GPU backends need diffusers (pip install -e .[gpu])")
pytest.importorskip("kokoro", reason="the voice backend needs kokoro (pip install -e .[gpu])")
pytestmark = pytest.mark.usefixtures("prefect_server")

PROMPT = "a flamenco guitarist plays in a Madrid plaza at night"
VERDICT = {"character_match": 8, "scene_match": 8, "composition": 8, "artifact_free": 8, "overall": 8, "issues": []}


def test_full_reel_on_tiny_gpu_backends(tmp_path):
    models = tmp_path / "models"
    plan = HeuristicDirector().plan(PROMPT, n_shots=2, seed=0)
    assert plan.vo_lang == "e"  # Spanish: Kokoro speaks it offline

    def answer(body: dict) -> str:
        # The director asks with a JSON schema; the critic asks with images.
        return plan.model_dump_json() if "response_format" in body else json.dumps(VERDICT)

    server = ChatServer(answer=answer)
    try:
        env = {
            "REEL_BACKEND_DIRECTOR": "openai", "REEL_BACKEND_CRITIC": "openai", "REEL_OPENAI_BASE_URL": server.url,
            "REEL_OPENAI_MODEL": "tiny-qwen",
            "REEL_BACKEND_IMAGE": "flux2", "REEL_MODEL_IMAGE": str(build_tiny_flux2(models / "flux2")),
            "REEL_BACKEND_VIDEO": "wan22", "REEL_MODEL_VIDEO": str(build_tiny_wan(models / "wan")),
            "REEL_BACKEND_MUSIC": "acestep", "REEL_MODEL_MUSIC": str(build_tiny_acestep(models / "ace")),
            "REEL_BACKEND_VOICE": "kokoro", "REEL_MODEL_VOICE": str(build_tiny_kokoro(models / "kokoro")),
            **{f"REEL_DEVICE_{role}": "cpu" for role in ("DIRECTOR", "IMAGE", "VIDEO", "CRITIC", "MUSIC", "VOICE")},
        }
        proc = reel_cli("make", PROMPT, "--preset", "smoke", "--shots", "2", "--out", str(tmp_path / "out"), env=env)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    (reel_dir,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    makers = {a["stage"]: a["backend"] for a in manifest["artifacts"]}
    assert makers == {"plan": "openai", "master": "flux2", "keyframe": "flux2", "render": "wan22",
                      "critique": "openai", "music": "acestep", "voice": "kokoro", "mix": "ffmpeg"}
    renders = [a for a in manifest["artifacts"] if a["stage"] == "render"]
    assert renders and all(a["model_id"] == str(models / "wan") for a in renders)
    # What each render ran with: the smoke preset asks no First-Block Cache, nothing is compiled, and
    # the base experts rendered (no turbo).
    assert all(a["accel"] == {"fbcache": {"impl": None, "threshold": None, "experts": 0, "note": "off in the preset"},
                              "compiled": None, "weights": "base"} for a in renders)
    info = probe(reel_dir / "reel.mp4")
    assert (info.width, info.height) == (256, 144) and info.audio_codec == "aac"
    assert abs(info.duration - 2 * 9 / 8) < 0.2
    verdicts = [json.loads(x) for x in (reel_dir / "verdicts.jsonl").read_text().splitlines()]
    assert [v["critic"].endswith("(tier 2)") for v in verdicts] == [True, True]
    asked = [r["body"] for r in server.requests]
    assert asked[0]["response_format"]["type"] == "json_schema"
    images = [part for r in asked[1:] for m in r["messages"] for part in (m["content"] if isinstance(m["content"], list)
                                                                         else []) if part.get("type") == "image_url"]
    assert len(images) >= 2 * 4  # four frames per clip (plus portraits)
