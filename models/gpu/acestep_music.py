"""ACE-Step 1.5 music backend (MusicModel) through diffusers' AceStepPipeline.

The Director's brief ("intimate ambient piano with warm pad, 72 BPM, melancholic but hopeful, no
drums") is the caption; its tempo and key, when it names them, go in as the model's bpm/keyscale
metadata; the lyrics are ACE-Step's instrumental marker, so the bed never sings over the
voice-over. The wav is written with the stdlib (no soundfile), 16-bit, at the VAE's sample rate
(48 kHz stereo for the released checkpoints), cut to exactly the requested length.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

from models.gpu import accel

SETTING = "REEL_MODEL_MUSIC"
INSTRUMENTAL = "[Instrumental]"  # what ACE-Step 1.5's own tools send for a track without vocals
NO_VOCALS = "unknown"  # vocal_language for an instrumental, as ACE-Step's API does


def bpm_of(brief: str) -> int | None:
    """The tempo the brief names ("72 BPM", "72bpm"), or None (the model then picks one)."""
    m = re.search(r"(\d{2,3}(?:\.\d+)?)\s*bpm\b", brief, re.IGNORECASE)
    return round(float(m[1])) if m else None


def keyscale_of(brief: str) -> str | None:
    """A key the brief names ("in D minor", "C major"), or None."""
    m = re.search(r"\b([A-G][#b]?)\s+(major|minor)\b", brief, re.IGNORECASE)
    return f"{m[1][0].upper()}{m[1][1:]} {m[2].lower()}" if m else None


class AceStepMusic(accel.PipelineBackend):
    """ACE-Step 1.5 through diffusers (MusicModel protocol).

    `model` (REEL_MODEL_MUSIC) is a diffusers-format ACE-Step 1.5 checkpoint, a hub id or a local
    folder: the turbo one (guidance-distilled, 8 steps, the default) or base/sft (CFG through the
    learned null condition; more steps help). The constructor loads nothing; `load()` does.
    """

    name = "acestep"
    pipeline_class, role, setting = "AceStepPipeline", "music", SETTING

    def __init__(self, device: str = "cuda:0", model: str = "ACE-Step/acestep-v15-xl-turbo-diffusers",
                 steps: int = 8, guidance: float = 7.0, shift: float = 3.0):
        self.device = device
        self.model_id = model
        self.steps = steps
        self.guidance = guidance  # base/sft only: turbo checkpoints run without CFG
        self.shift = shift
        self.pipe = None

    def compose(self, brief: str, seconds: float, seed: int, out: Path) -> None:
        import torch

        self.load()
        pipe = self.pipe
        audio = pipe(
            prompt=brief, lyrics=INSTRUMENTAL, vocal_language=NO_VOCALS, audio_duration=seconds,
            bpm=bpm_of(brief), keyscale=keyscale_of(brief), num_inference_steps=self.steps,
            guidance_scale=1.0 if pipe.is_turbo else self.guidance,  # turbo would warn and ignore it
            shift=self.shift, generator=torch.Generator("cpu").manual_seed(seed), output_type="np",
        ).audios[0]  # (channels, samples), peak-normalised to -1 dBFS by the pipeline
        write_wav(audio, pipe.sample_rate, seconds, out)


def write_wav(audio, rate: int, seconds: float, out: Path) -> None:
    """(channels, samples) float audio as a 16-bit wav of exactly `seconds` (trimmed or padded
    with silence: the latent grid rounds the length up to 1/25 s)."""
    import numpy as np

    n = round(seconds * rate)
    audio = np.asarray(audio, dtype=np.float32)[:, :n]
    if audio.shape[1] < n:
        audio = np.pad(audio, ((0, 0), (0, n - audio.shape[1])))
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(pcm.shape[0])
        wav.setsampwidth(2)
        wav.setframerate(int(rate))
        wav.writeframes(pcm.T.tobytes())  # interleaved frames
