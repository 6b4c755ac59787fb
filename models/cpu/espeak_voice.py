"""Preview voice: espeak-ng through the shared library that `espeakng-loader` ships.

No system package and no network: the library and its voice data live in the wheel, and we
drive it with ctypes in synchronous mode, collecting samples from the synth callback.
Japanese goes through pykakasi first, because espeak-ng's ja voice only reads kana.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import wave
from pathlib import Path

import numpy as np

from reel import prompts
from reel.errors import BackendUnavailable, UserError
from models.base import BackendBase

# From speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
POS_CHARACTER = 1
CHARS_UTF8 = 1
ENDPAUSE = 0x1000
PARAM_RATE = 1
EE_OK = 0

RATE_WPM = 155  # a calm narration pace; espeak's default (175) sounds hurried over music

# espeak keeps all of its state in C globals: one initialisation per process, one utterance at a time.
_LOCK = threading.Lock()
_ENGINE: "_Espeak | None" = None


class _Voice(ctypes.Structure):
    """espeak_VOICE; for SetVoiceByProperties only `languages` (plain code) and gender matter."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """The loaded library, initialised once, with a callback that appends to `chunks`."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise BackendUnavailable("the espeak voice backend (CPU family) needs `pip install espeakng-loader`") from exc
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p

        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise BackendUnavailable(f"espeak-ng failed to initialise with data at {data.decode()}")
        self.version = lib.espeak_Info(None).decode().split()[0]
        self.chunks: list[np.ndarray] = []
        # Keep a reference to the ctypes callback, or it is garbage-collected under the C library.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib

    def _collect(self, wav, n, _events) -> int:
        if wav and n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0  # 0 = keep synthesising

    def synth(self, text: str, language: str) -> np.ndarray:
        voice = _Voice(languages=language.encode(), gender=2)  # gender is a preference, not a filter
        if self.lib.espeak_SetVoiceByProperties(ctypes.byref(voice)) != EE_OK:
            raise BackendUnavailable(f"espeak-ng has no voice for language {language!r}")
        self.lib.espeak_SetParameter(PARAM_RATE, RATE_WPM, 0)
        self.chunks = []
        raw = text.encode("utf-8")
        err = self.lib.espeak_Synth(raw, len(raw) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE, None, None)
        if err != EE_OK:
            raise RuntimeError(f"espeak-ng synthesis failed (error {err}) for {language!r}")
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


def _engine() -> _Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


def espeak_language(lang: str) -> str:
    """Map reel's Kokoro language code (a b e f h i j p z) to an espeak-ng language."""
    languages = prompts.table("locales.json")["languages"]
    if lang not in languages:
        raise UserError(f"unknown voice language {lang!r}; valid codes: {' '.join(sorted(languages))}")
    return languages[lang]["espeak"]


# The particles は and へ are written ha/he but said wa/e; pykakasi splits them out as their own token.
_PARTICLES = {"は": "わ", "へ": "え"}


@functools.cache
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()  # loading its dictionaries takes ~1 s: once per process


def to_kana(text: str) -> str:
    """Japanese kanji -> hiragana, since espeak-ng's ja voice reads kana only."""
    parts = _kakasi().convert(text)
    return "".join(_PARTICLES.get(p["orig"], p["hira"]) for p in parts)


class EspeakVoice(BackendBase):
    name = "espeak"
    cpu = True  # no GPU: takes no GPU turn (runtime/host.py)
    data_files = ('locales.json',)

    def __init__(self) -> None:
        self.model_id = "espeak-ng"

    def load(self) -> None:
        with _LOCK:
            self.model_id = f"espeak-ng {_engine().version}"

    def unload(self) -> None:
        """Nothing to free: the library is small and espeak cannot be re-initialised cleanly."""

    def speak(self, text: str, lang: str, out: Path) -> float:
        language = espeak_language(lang)
        if not text.strip():
            raise UserError("cannot speak an empty voice-over line")
        if language.startswith("ja"):
            text = to_kana(text)
        with _LOCK:
            engine = _engine()
            self.model_id = f"espeak-ng {engine.version}"
            samples = engine.synth(text, language)
            rate = engine.sample_rate
        if samples.size == 0:
            raise RuntimeError(f"espeak-ng produced no audio for {lang!r}: {text!r}")
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples.astype("<i2").tobytes())
        return samples.size / rate
